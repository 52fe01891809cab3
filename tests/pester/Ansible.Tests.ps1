# docs/ansible run by Debian's ansible-core against network namespaces: a director (VIP, IPVS table) and
# two LVS-DR real servers (VIP on lo, ARP suppression persisted), each an inventory host whose commands
# run through `ip netns exec`. --check on a fresh system changes nothing and reports what it would
# change; the first run changes every host; the second changes none and leaves the state as it was. (No third
# --check on the configured system: each playbook run costs minutes in the kernel-lab VM.)
# Kernel: the director needs IPVS (the kernel lab VM on machines without it).
BeforeDiscovery {
    Import-Module (Join-Path $PSScriptRoot '../lab/NetnsLab.psm1') -Force
    $script:LabSupported = Test-LabEnvironment
    $script:HaveAnsible = [bool](Get-Command ansible-playbook -CommandType Application -ErrorAction Ignore)
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../lab/NetnsLab.psm1') -Force
    $script:Playbook = Join-Path $env:HAPS_REPO_ROOT 'docs/ansible/site.yml'
}

Describe 'Ansible playbook docs/ansible against namespaces' -Tag 'Kernel', 'Root' -Skip:(-not ($LabSupported -and $HaveAnsible)) {
    BeforeAll {
        Clear-LabLeftovers
        $script:T = New-LabTopology -Hosts 'director', 'rs1', 'rs2'
        $script:Work = Join-Path $T.StateDirectory 'ansible'   # removed with the topology
        $null = New-Item -ItemType Directory -Path "$Work/tmp"
        $exe = [Environment]::ProcessPath
        $pwsh = @($exe) + @(if ([IO.Path]::GetFileNameWithoutExtension($exe) -eq 'dotnet') { Join-Path $PSHOME 'pwsh.dll' })
        $script:Vip = '192.0.2.100'
        $hostVars = { param($h, $extra) @{ ansible_connection = 'local'; haps_command_prefix = @('ip', 'netns', 'exec', $T.Hosts[$h].Namespace) } + $extra }
        $inventory = @{
            all = @{
                vars     = @{ ansible_python_interpreter = '/usr/bin/python3'; haps_pwsh = $pwsh; haps_module = $env:HAPS_MODULE_PATH }
                children = @{
                    directors   = @{ hosts = @{ director = (& $hostVars 'director' @{}) } }
                    realservers = @{ hosts = @{
                            rs1 = (& $hostVars 'rs1' @{ haps_arp_persist_path = "$Work/rs1-arp.conf" })
                            rs2 = (& $hostVars 'rs2' @{ haps_arp_persist_path = "$Work/rs2-arp.conf" }) } }
                }
            }
        }
        $inventory | ConvertTo-Json -Depth 10 | Set-Content "$Work/inventory.json"
        @{
            lb_vips = @(@{ address = $Vip; prefix_length = 24; interface = 'eth0' })
            lb_ipvs = @{ services = @(@{ protocol = 'tcp'; address = $Vip; port = 80; scheduler = 'wrr'
                        realServers = @(foreach ($rs in 'rs1', 'rs2') { @{ address = $T.Hosts[$rs].IPv4Address; port = 80; forwardingMethod = 'DirectRouting'; weight = 1 } }) }) }
        } | ConvertTo-Json -Depth 10 | Set-Content "$Work/lb.json"

        function Invoke-Playbook([switch]$Check) {
            $env:ANSIBLE_LOCAL_TEMP = "$Work/tmp"; $env:ANSIBLE_REMOTE_TEMP = "$Work/tmp"; $env:ANSIBLE_NOCOLOR = '1'
            $env:ANSIBLE_RETRY_FILES_ENABLED = '0'; $env:ANSIBLE_LOCALHOST_WARNING = '0'; $env:ANSIBLE_FORKS = '3'
            $args2 = @('-i', "$Work/inventory.json", $Playbook, '-e', "@$Work/lb.json") + @(if ($Check) { '--check' })
            $sw = [Diagnostics.Stopwatch]::StartNew()
            # Bounded: a playbook that hangs fails its test after 15 minutes instead of holding the whole run.
            $text = & timeout --kill-after=10 900 ansible-playbook @args2 2>&1 | Out-String
            Write-Host ("    ansible-playbook{0}: exit {1} after {2:n1} s" -f $(if ($Check) { ' --check' } else { '' }), $LASTEXITCODE, $sw.Elapsed.TotalSeconds)
            $recap = @{}
            foreach ($m in [regex]::Matches($text, '(?m)^(\w+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)')) {
                $recap[$m.Groups[1].Value] = [pscustomobject]@{ Ok = [int]$m.Groups[2].Value; Changed = [int]$m.Groups[3].Value; Failed = [int]$m.Groups[5].Value + [int]$m.Groups[4].Value }
            }
            [pscustomobject]@{ ExitCode = $LASTEXITCODE; Text = $text; Recap = $recap }
        }
        function Get-State {
            $ns = { param($h) $T.Hosts[$h].Namespace }
            [pscustomobject]@{
                Ipvs     = (& ip netns exec (& $ns director) ipvsadm -Ln 2>&1 | Out-String)
                Vip      = (& ip -n (& $ns director) -br addr show dev eth0 | Out-String)
                Rs1Lo    = (& ip -n (& $ns rs1) -br addr show dev lo | Out-String)
                Rs2Lo    = (& ip -n (& $ns rs2) -br addr show dev lo | Out-String)
                Rs1Arp   = (& ip netns exec (& $ns rs1) cat /proc/sys/net/ipv4/conf/all/arp_ignore /proc/sys/net/ipv4/conf/lo/arp_announce) -join ' '
                Persists = @("$Work/rs1-arp.conf", "$Work/rs2-arp.conf" | Where-Object { Test-Path $_ }).Count
            }
        }

        $script:Before = Get-State
        $script:Check1 = Invoke-Playbook -Check
        $script:AfterCheck = Get-State
        $script:Run1 = Invoke-Playbook
        $script:AfterRun1 = Get-State
        $script:Run2 = Invoke-Playbook
        $script:AfterAll = Get-State
    }

    AfterAll {
        Remove-LabTopology -Topology $script:T
    }

    It '--check on a fresh system reports a change for every host and changes nothing' {
        $Check1.ExitCode | Should -Be 0 -Because $Check1.Text
        foreach ($h in 'director', 'rs1', 'rs2') {
            $Check1.Recap[$h].Failed | Should -Be 0 -Because $Check1.Text
            $Check1.Recap[$h].Changed | Should -BeGreaterThan 0 -Because "$h would change: $($Check1.Text)"
        }
        $Check1.Text | Should -Match 'IPVS: [1-9]\d* added'   # the service and its two real servers
        $Check1.Text | Should -Match "VIP $([regex]::Escape($Vip))/24 on eth0"
        $Check1.Text | Should -Match 'arp_ignore/arp_announce on lo'
        $AfterCheck.Ipvs | Should -Be $Before.Ipvs
        $AfterCheck.Vip | Should -Not -Match ([regex]::Escape($Vip))
        $AfterCheck.Rs1Lo | Should -Not -Match ([regex]::Escape($Vip))
        $AfterCheck.Rs1Arp | Should -Be '0 0'
        $AfterCheck.Persists | Should -Be 0
    }

    It 'the first run changes every host: VIP and IPVS table on the director, VIP on lo and ARP suppression on the real servers' {
        $Run1.ExitCode | Should -Be 0 -Because $Run1.Text
        foreach ($h in 'director', 'rs1', 'rs2') { $Run1.Recap[$h].Changed | Should -BeGreaterThan 0 -Because $Run1.Text }
        $AfterRun1.Ipvs | Should -Match "TCP\s+$([regex]::Escape($Vip)):80 wrr"
        $AfterRun1.Ipvs | Should -Match "-> $([regex]::Escape($T.Hosts.rs1.IPv4Address)):80\s+Route"
        $AfterRun1.Ipvs | Should -Match "-> $([regex]::Escape($T.Hosts.rs2.IPv4Address)):80\s+Route"
        $AfterRun1.Vip | Should -Match "$([regex]::Escape($Vip))/24"
        $AfterRun1.Rs1Lo | Should -Match "$([regex]::Escape($Vip))/32"
        $AfterRun1.Rs2Lo | Should -Match "$([regex]::Escape($Vip))/32"
        $AfterRun1.Rs1Arp | Should -Be '1 2'
        $AfterRun1.Persists | Should -Be 2
    }

    It 'the second run changes nothing' {
        $Run2.ExitCode | Should -Be 0 -Because $Run2.Text
        foreach ($h in 'director', 'rs1', 'rs2') {
            $Run2.Recap[$h].Failed | Should -Be 0
            $Run2.Recap[$h].Changed | Should -Be 0 -Because "$h is already as asked: $($Run2.Text)"
        }
        $AfterAll.Ipvs | Should -Be $AfterRun1.Ipvs
        $AfterAll.Vip | Should -Be $AfterRun1.Vip
        $AfterAll.Rs1Arp | Should -Be '1 2'
    }
}
