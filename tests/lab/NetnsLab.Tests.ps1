#Requires -Version 7.0
# Pester 5 tests for the NetnsLab test helper module. Needs root (network namespaces).
#   Invoke-Pester ./tests/lab/NetnsLab.Tests.ps1 -Output Detailed            (as root)
# Addresses: documentation ranges only (192.0.2.0/24, 2001:db8::/32); traffic stays in namespaces.

BeforeDiscovery {
    Import-Module (Join-Path $PSScriptRoot 'NetnsLab.psm1') -Force
    $script:LabSupported = Test-LabEnvironment
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'NetnsLab.psm1') -Force
    $script:ModuleFile = Join-Path $PSScriptRoot 'NetnsLab.psm1'

    # iputils ping if installed, otherwise busybox ping (both understand -c/-W/-6)
    $script:PingCommand = if (Get-Command ping -CommandType Application -ErrorAction SilentlyContinue) { 'ping' } else { 'busybox' }
    $script:PingPrefix = if ($script:PingCommand -eq 'busybox') { @('ping') } else { @() }

    function Invoke-TestPing {
        param($Topology, [string]$From, [string]$To, [switch]$IPv6)
        $argv = @($script:PingPrefix) + $(if ($IPv6) { '-6' }) + @('-c', '1', '-W', '1', $To) | Where-Object { $_ }
        Invoke-LabCommand -Topology $Topology -HostName $From -Command $script:PingCommand -ArgumentList $argv -AllowFailure
    }

    function Get-HapsNamespace {
        @(& ip netns list | ForEach-Object { ($_ -split '\s+')[0] } | Where-Object { $_ -like 'haps-*' })
    }

    function Get-OwnHapsNamespace {
        # haps-* namespaces NOT owned by another live process (other engineers may run labs concurrently)
        @(Get-HapsNamespace | Where-Object {
                -not ($_ -match '^haps-(?<id>[0-9a-f]{6})-' -and
                    (& (Get-Module NetnsLab) { param($i) Get-LabOwnerState -Id $i } $Matches.id) -eq 'Other')
            })
    }

    function Wait-Until {
        param([scriptblock]$Condition, [int]$TimeoutMilliseconds = 5000, [int]$IntervalMilliseconds = 100)
        $deadline = [DateTime]::UtcNow.AddMilliseconds($TimeoutMilliseconds)
        while ([DateTime]::UtcNow -lt $deadline) {
            if (& $Condition) { return $true }
            Start-Sleep -Milliseconds $IntervalMilliseconds
        }
        return [bool](& $Condition)
    }

    function Test-ProcessAlive([int]$ProcessId) {
        # zombies (exited, not yet reaped) count as dead
        $stat = "/proc/$ProcessId/stat"
        if (-not (Test-Path -LiteralPath $stat)) { return $false }
        try { $s = [System.IO.File]::ReadAllText($stat) } catch { return $false }
        return ($s.Substring($s.LastIndexOf(')') + 2, 1) -ne 'Z')
    }

    function Start-ChildPwsh {
        # a separate pwsh (same executable as this one), not in any lab namespace
        param([string]$Script)
        $pw = & (Get-Module NetnsLab) { Get-LabPwshCommand }
        $psi = [System.Diagnostics.ProcessStartInfo]::new($pw.FilePath)
        foreach ($a in @($pw.Prefix) + @('-NoProfile', '-NonInteractive', '-Command', $Script)) { $psi.ArgumentList.Add($a) }
        $psi.UseShellExecute = $false
        $psi.RedirectStandardOutput = $true
        $psi.RedirectStandardError = $true
        $psi.RedirectStandardInput = $true
        $p = [System.Diagnostics.Process]::Start($psi)
        $p.StandardInput.Close()
        $p
    }
}

Describe 'NetnsLab' -Tag 'Root' -Skip:(-not $LabSupported) {
    BeforeAll {
        Clear-LabLeftovers
        $sw = [System.Diagnostics.Stopwatch]::StartNew()
        $script:Topo = New-LabTopology -Hosts 'h1', 'h2', 'h3'
        $sw.Stop()
        $script:CreateMs = $sw.Elapsed.TotalMilliseconds
        Write-Host ("    New-LabTopology (3 hosts) took {0:n0} ms (id {1})" -f $script:CreateMs, $script:Topo.Id)
    }

    AfterAll {
        Remove-LabTopology -Topology $script:Topo
    }

    Context 'New-LabTopology' {
        It 'returns the documented object shape' {
            $Topo.Id | Should -Match '^[0-9a-f]{6}$'
            $Topo.SwitchNamespace | Should -Be "haps-$($Topo.Id)-sw"
            @($Topo.Hosts.Keys) | Should -Be @('h1', 'h2', 'h3')
            $i = 0
            foreach ($h in $Topo.Hosts.Values) {
                $i++
                $h.Name | Should -Be "h$i"
                $h.Namespace | Should -Be "haps-$($Topo.Id)-h$i"
                $h.InterfaceName | Should -Be 'eth0'
                $h.MacAddress | Should -Match '^02(:[0-9a-f]{2}){5}$'
                $h.IPv4Address | Should -Be "192.0.2.$(10 + $i)"
                $h.IPv6Address | Should -Be "2001:db8:1::$(10 + $i)"
            }
        }

        It 'creates the switch namespace and one namespace per host' {
            $names = Get-HapsNamespace
            foreach ($ns in @($Topo.SwitchNamespace) + @($Topo.Hosts.Values.Namespace)) {
                $names | Should -Contain $ns
            }
        }

        It 'creates bridge br0 (up, multicast snooping off) with every host port attached' {
            $br = (& ip -n $Topo.SwitchNamespace -d -j link show dev br0 | ConvertFrom-Json)[0]
            $br.flags | Should -Contain 'UP'
            $br.linkinfo.info_data.mcast_snooping | Should -Be 0
            $br.linkinfo.info_data.stp_state | Should -Be 0
            $ports = @(& ip -n $Topo.SwitchNamespace -j link show master br0 | ConvertFrom-Json)
            $ports.Count | Should -Be 3
            $ports.operstate | Should -Not -Contain 'DOWN'
        }

        It 'brings up eth0 with the reported MAC and addresses (IPv6 not tentative) in <_>' -ForEach 'h1', 'h2', 'h3' {
            $h = $Topo.Hosts[$_]
            $link = (& ip -n $h.Namespace -j addr show dev eth0 | ConvertFrom-Json)[0]
            $link.operstate | Should -Be 'UP'
            $link.address | Should -Be $h.MacAddress
            $v4 = $link.addr_info | Where-Object family -EQ 'inet'
            $v4.local | Should -Be $h.IPv4Address
            $v4.prefixlen | Should -Be 24
            $v6 = $link.addr_info | Where-Object { $_.family -eq 'inet6' -and $_.local -eq $h.IPv6Address }
            $v6 | Should -Not -BeNullOrEmpty
            $v6.prefixlen | Should -Be 64
            $v6.PSObject.Properties['tentative'] | Should -BeNullOrEmpty
            $lo = (& ip -n $h.Namespace -j link show dev lo | ConvertFrom-Json)[0]
            $lo.flags | Should -Contain 'UP'
        }

        It 'is fast (3 hosts well under 3 s)' {
            $CreateMs | Should -BeLessThan 3000
        }

        It 'supports -NoAddresses and custom subnets' {
            $t = $null
            try {
                $t = New-LabTopology -Hosts 'a' -NoAddresses
                $t.Hosts.a.IPv4Address | Should -BeNullOrEmpty
                $global4 = @(& ip -n $t.Hosts.a.Namespace -j -4 addr show dev eth0 | ConvertFrom-Json).addr_info
                $global4 | Should -BeNullOrEmpty
                Remove-LabTopology $t

                $t = New-LabTopology -Hosts 'x', 'y' -Subnet '198.51.100.0/24' -IPv6Subnet '2001:db8:42::/64'
                $t.Hosts.y.IPv4Address | Should -Be '198.51.100.12'
                $t.Hosts.y.IPv6Address | Should -Be '2001:db8:42::12'
                (Invoke-TestPing -Topology $t -From x -To '198.51.100.12').ExitCode | Should -Be 0
            } finally {
                Remove-LabTopology $t
            }
        }

        It 'rejects bad host names without leaving namespaces behind' {
            $before = Get-OwnHapsNamespace
            { New-LabTopology -Hosts 'ok', 'bad/name' } | Should -Throw '*invalid host name*'
            { New-LabTopology -Hosts 'a', 'A' } | Should -Throw '*duplicate*'
            { New-LabTopology -Hosts 'sw' } | Should -Throw '*reserved*'
            { New-LabTopology -Hosts 'a' -Subnet '192.0.2.0/33' } | Should -Throw '*Subnet*'
            @(Get-OwnHapsNamespace | Where-Object { $_ -notin $before }) | Should -BeNullOrEmpty
        }
    }

    Context 'Connectivity and neighbours' {
        It 'h1 reaches <_> over IPv4' -ForEach 'h2', 'h3' {
            $r = Invoke-TestPing -Topology $Topo -From h1 -To $Topo.Hosts[$_].IPv4Address
            $r.ExitCode | Should -Be 0 -Because ($r.StdOut + $r.StdErr)
        }

        It 'h1 reaches <_> over IPv6' -ForEach 'h2', 'h3' {
            $r = Invoke-TestPing -Topology $Topo -From h1 -To $Topo.Hosts[$_].IPv6Address -IPv6
            $r.ExitCode | Should -Be 0 -Because ($r.StdOut + $r.StdErr)
        }

        It 'Get-LabNeighbor shows the peer MAC after a ping (IPv4 and IPv6)' {
            $null = Invoke-TestPing -Topology $Topo -From h2 -To $Topo.Hosts.h3.IPv4Address
            $n = Get-LabNeighbor -Topology $Topo -HostName h2 -IPAddress $Topo.Hosts.h3.IPv4Address
            $n | Should -Not -BeNullOrEmpty
            $n.IPAddress | Should -Be $Topo.Hosts.h3.IPv4Address
            $n.MacAddress | Should -Be $Topo.Hosts.h3.MacAddress
            $n.State | Should -BeIn 'REACHABLE', 'STALE', 'DELAY', 'PROBE'

            $null = Invoke-TestPing -Topology $Topo -From h2 -To $Topo.Hosts.h3.IPv6Address -IPv6
            $n6 = Get-LabNeighbor -Topology $Topo -HostName h2 -IPAddress $Topo.Hosts.h3.IPv6Address
            $n6.MacAddress | Should -Be $Topo.Hosts.h3.MacAddress
        }

        It 'Get-LabNeighbor returns $null when there is no entry' {
            Get-LabNeighbor -Topology $Topo -HostName h3 -IPAddress '192.0.2.250' | Should -BeNullOrEmpty
        }
    }

    Context 'Invoke-LabCommand' {
        It 'runs the program inside the host namespace' {
            $r = Invoke-LabCommand -Topology $Topo -HostName h2 -Command ip -ArgumentList '-br', 'addr', 'show', 'dev', 'eth0'
            $r.ExitCode | Should -Be 0
            $r.StdOut | Should -Match ([regex]::Escape('192.0.2.12/24'))
            $r.StdOut | Should -Not -Match ([regex]::Escape('192.0.2.11/'))
        }

        It 'passes arguments verbatim, without a shell' {
            $r = Invoke-LabCommand -Topology $Topo -HostName h1 -Command echo -ArgumentList 'a;b', '$HOME', '*', 'two words'
            $r.StdOut.TrimEnd() | Should -BeExactly 'a;b $HOME * two words'
        }

        It 'throws a clear error including the output on a non-zero exit code' {
            $err = $null
            try {
                Invoke-LabCommand -Topology $Topo -HostName h1 -Command sh -ArgumentList '-c', 'echo to-out; echo to-err >&2; exit 3'
            } catch { $err = $_ }
            $err | Should -Not -BeNullOrEmpty
            $err.Exception.Message | Should -Match 'exit code 3'
            $err.Exception.Message | Should -Match 'to-out'
            $err.Exception.Message | Should -Match 'to-err'
            $err.TargetObject.ExitCode | Should -Be 3
        }

        It 'returns the result with -AllowFailure' {
            $r = Invoke-LabCommand -Topology $Topo -HostName h1 -Command sh -ArgumentList '-c', 'echo x; exit 7' -AllowFailure
            $r.ExitCode | Should -Be 7
            $r.StdOut.Trim() | Should -Be 'x'
        }

        It 'rejects unknown host names' {
            { Invoke-LabCommand -Topology $Topo -HostName nope -Command true } | Should -Throw "*host 'nope' is not part*"
        }
    }

    Context 'Start-LabProcess / Stop-LabProcess' {
        It 'round-trips a TCP listener (busybox nc) and returns its output' {
            $srv = Start-LabProcess -Topology $Topo -HostName h2 -Command busybox -ArgumentList 'nc', '-ll', '-p', '8080', '-e', 'echo', 'hello-from-h2'
            try {
                $srv.Pid | Should -BeGreaterThan 0
                $srv.Process | Should -BeOfType [System.Diagnostics.Process]
                $ok = Wait-Until -TimeoutMilliseconds 5000 -Condition {
                    $r = Invoke-LabCommand -Topology $Topo -HostName h1 -Command busybox -ArgumentList 'nc', '-w', '1', $Topo.Hosts.h2.IPv4Address, '8080' -AllowFailure
                    $script:reply = $r.StdOut
                    $r.ExitCode -eq 0 -and $r.StdOut -match 'hello-from-h2'
                }
                $ok | Should -BeTrue -Because "reply was '$script:reply'"
                # the listener runs inside h2's namespace
                (& ip netns pids $Topo.Hosts.h2.Namespace) | Should -Contain ([string]$srv.Pid)
            } finally {
                $res = Stop-LabProcess -Process $srv
            }
            $res.Pid | Should -Be $srv.Pid
            $res.Killed | Should -BeFalse
            $srv.Process.HasExited | Should -BeTrue
        }

        It 'returns stdout/stderr and the exit code after SIGTERM' {
            $p = Start-LabProcess -Topology $Topo -HostName h3 -Command sh -ArgumentList '-c', 'echo ready; echo oops >&2; exec sleep 30'
            Wait-Until { (Get-Content -Raw -LiteralPath $p.StdOutPath -ErrorAction SilentlyContinue) -match 'ready' } | Should -BeTrue
            $r = Stop-LabProcess $p
            $r.StdOut.Trim() | Should -Be 'ready'
            $r.StdErr.Trim() | Should -Be 'oops'
            $r.ExitCode | Should -Be 143   # 128 + SIGTERM
            $r.Killed | Should -BeFalse
        }

        It 'escalates to SIGKILL after 2 s when SIGTERM is ignored' {
            $p = Start-LabProcess -Topology $Topo -HostName h3 -Command sh -ArgumentList '-c', 'trap "" TERM; echo stubborn; while :; do sleep 0.2; done'
            Wait-Until { (Get-Content -Raw -LiteralPath $p.StdOutPath -ErrorAction SilentlyContinue) -match 'stubborn' } | Should -BeTrue
            $sw = [System.Diagnostics.Stopwatch]::StartNew()
            $r = Stop-LabProcess $p
            $sw.Elapsed.TotalSeconds | Should -BeGreaterOrEqual 1.9
            $sw.Elapsed.TotalSeconds | Should -BeLessThan 6
            $r.Killed | Should -BeTrue
            $r.ExitCode | Should -Be 137
            $r.StdOut | Should -Match 'stubborn'
        }

        It 'captures traffic with tcpdump into -OutputFile' {
            $file = Join-Path $TestDrive 'icmp.txt'
            $cap = Start-LabProcess -Topology $Topo -HostName h3 -Command tcpdump -ArgumentList '-n', '-l', '--immediate-mode', '-i', 'eth0', 'icmp' -OutputFile $file
            $cap.StdOutPath | Should -Be $file
            Wait-Until { (Get-Content -Raw -LiteralPath $cap.StdErrPath -ErrorAction SilentlyContinue) -match 'listening on' } | Should -BeTrue
            (Invoke-TestPing -Topology $Topo -From h1 -To $Topo.Hosts.h3.IPv4Address).ExitCode | Should -Be 0
            Wait-Until { (Get-Content -Raw -LiteralPath $file -ErrorAction SilentlyContinue) -match 'ICMP echo reply' } | Should -BeTrue
            $r = Stop-LabProcess $cap
            $r.StdOut | Should -Match "$([regex]::Escape($Topo.Hosts.h1.IPv4Address)) > $([regex]::Escape($Topo.Hosts.h3.IPv4Address)): ICMP echo request"
        }
    }

    Context 'Set-LabLink' {
        It 'cuts and restores the link on the switch side (default)' {
            $to = $Topo.Hosts.h2.IPv4Address
            (Invoke-TestPing -Topology $Topo -From h1 -To $to).ExitCode | Should -Be 0
            try {
                Set-LabLink -Topology $Topo -HostName h2 -Down
                (Invoke-TestPing -Topology $Topo -From h1 -To $to).ExitCode | Should -Not -Be 0
                $eth0 = (& ip -n $Topo.Hosts.h2.Namespace -j link show dev eth0 | ConvertFrom-Json)[0]
                $eth0.flags | Should -Contain 'NO-CARRIER'
            } finally {
                Set-LabLink -Topology $Topo -HostName h2 -Up
            }
            Wait-Until { (Invoke-TestPing -Topology $Topo -From h1 -To $to).ExitCode -eq 0 } | Should -BeTrue
        }

        It 'cuts and restores eth0 on the host side, keeping its addresses' {
            $to6 = $Topo.Hosts.h3.IPv6Address
            try {
                Set-LabLink -Topology $Topo -HostName h3 -Down -Side Host
                (Invoke-TestPing -Topology $Topo -From h1 -To $Topo.Hosts.h3.IPv4Address).ExitCode | Should -Not -Be 0
                (Invoke-TestPing -Topology $Topo -From h1 -To $to6 -IPv6).ExitCode | Should -Not -Be 0
            } finally {
                Set-LabLink -Topology $Topo -HostName h3 -Up -Side Host
            }
            $addrs = (& ip -n $Topo.Hosts.h3.Namespace -j addr show dev eth0 | ConvertFrom-Json)[0].addr_info.local
            $addrs | Should -Contain $to6
            $addrs | Should -Contain $Topo.Hosts.h3.IPv4Address
            Wait-Until { (Invoke-TestPing -Topology $Topo -From h1 -To $to6 -IPv6).ExitCode -eq 0 } | Should -BeTrue
        }
    }

    Context 'Start-LabCapture / Stop-LabCapture' {
        It 'captures frames with kernel timestamps into a pcap file' {
            $cap = Start-LabCapture -Topology $Topo -HostName h3 -Filter 'icmp'
            $before = [DateTime]::UtcNow
            $null = Invoke-TestPing -Topology $Topo -From h1 -To $Topo.Hosts.h3.IPv4Address
            $frames = @(Stop-LabCapture -Capture $cap)
            $frames.Count | Should -BeGreaterOrEqual 2    # echo request and reply
            $req = $frames[0]
            [BitConverter]::ToString($req.Bytes, 6, 6).Replace('-', ':').ToLowerInvariant() | Should -Be $Topo.Hosts.h1.MacAddress
            $req.Bytes[12] | Should -Be 0x08
            $req.Bytes[23] | Should -Be 1                 # IPPROTO_ICMP
            $req.Length | Should -Be $req.Bytes.Length
            $req.Time | Should -BeGreaterThan $before.AddSeconds(-1)
            $req.Time | Should -BeLessThan ([DateTime]::UtcNow.AddSeconds(1))
            $frames[1].UnixNanoseconds | Should -BeGreaterOrEqual $req.UnixNanoseconds
            Test-Path -LiteralPath $cap.Path | Should -BeTrue
            $cap.Process.Process.HasExited | Should -BeTrue
        }

        It 'rejects a bad interface name and a tcpdump that cannot start' {
            { Start-LabCapture -Topology $Topo -HostName h1 -InterfaceName 'eth0;rm' } | Should -Throw '*invalid interface*'
            { Start-LabCapture -Topology $Topo -HostName h1 -InterfaceName 'nosuch0' -TimeoutSeconds 5 } | Should -Throw '*did not start listening*'
        }
    }

    Context 'Invoke-LabPwsh' {
        It 'returns deserialised objects and the exit code, running inside the namespace' {
            $r = Invoke-LabPwsh -Topology $Topo -HostName h2 -ArgumentList 'arg-1' -Script @'
param($Value)
Write-Host 'host text is captured, not printed'
[pscustomobject]@{ Value = $Value; Addresses = @((ip -j addr show dev eth0 | ConvertFrom-Json)[0].addr_info.local) }
42
'@
            $r.ExitCode | Should -Be 0
            $r.Output.Count | Should -Be 2
            $r.Output[0].Value | Should -Be 'arg-1'
            $r.Output[0].Addresses | Should -Contain $Topo.Hosts.h2.IPv4Address
            $r.Output[0].Addresses | Should -Not -Contain $Topo.Hosts.h1.IPv4Address
            $r.Output[1] | Should -Be 42
            $r.Output[1] | Should -BeOfType [int]
            [string]$r.Information[0] | Should -Be 'host text is captured, not printed'
        }

        It 'imports -ModulePath first' {
            $mod = Join-Path $TestDrive 'LabProbe.psm1'
            Set-Content -LiteralPath $mod -Value 'function Get-LabProbe { "probe-ok" }'
            $r = Invoke-LabPwsh -Topology $Topo -HostName h1 -ModulePath $mod -Script 'Get-LabProbe'
            $r.Output | Should -Be 'probe-ok'
        }

        It 'reports errors and non-zero exit codes' {
            $r = Invoke-LabPwsh -Topology $Topo -HostName h1 -Script 'Write-Error "bad thing"; Write-Warning "careful"; exit 5' -AllowFailure
            $r.ExitCode | Should -Be 5
            [string]$r.Errors[0] | Should -Be 'bad thing'
            [string]$r.Warnings[0] | Should -Be 'careful'
            { Invoke-LabPwsh -Topology $Topo -HostName h1 -Script 'throw "kaboom"' } | Should -Throw '*kaboom*'
        }
    }

    Context 'Cleanup' {
        It 'Remove-LabTopology kills tracked and untracked processes and deletes the namespaces' {
            $t = New-LabTopology -Hosts 'a', 'b'
            $names = @($t.Namespaces)
            $tracked = Start-LabProcess -Topology $t -HostName a -Command sleep -ArgumentList '300'
            # untracked background process, detached from our pipes
            $null = Invoke-LabCommand -Topology $t -HostName b -Command sh -ArgumentList '-c', 'sleep 301 </dev/null >/dev/null 2>&1 &'
            $untracked = @(& ip netns pids $t.Hosts.b.Namespace | ForEach-Object { [int]$_ })
            $untracked.Count | Should -BeGreaterThan 0
            foreach ($n in $names) { Get-HapsNamespace | Should -Contain $n }

            Remove-LabTopology -Topology $t

            $left = Get-HapsNamespace
            foreach ($n in $names) { $left | Should -Not -Contain $n }
            Wait-Until { -not (Test-ProcessAlive $tracked.Pid) } | Should -BeTrue
            foreach ($p in $untracked) { Wait-Until { -not (Test-ProcessAlive $p) } | Should -BeTrue }
            Test-Path $t.StateDirectory | Should -BeFalse
        }

        It 'cleans up in finally when a test throws midway' {
            $holder = @{}
            {
                $t = New-LabTopology -Hosts 'a', 'b'
                $holder.Topology = $t
                try {
                    Get-HapsNamespace | Should -Contain $t.Hosts.a.Namespace
                    throw 'failure in the middle of a test'
                } finally {
                    Remove-LabTopology -Topology $t
                }
            } | Should -Throw 'failure in the middle of a test'
            $holder.Topology | Should -Not -BeNullOrEmpty
            $left = Get-HapsNamespace
            foreach ($n in $holder.Topology.Namespaces) { $left | Should -Not -Contain $n }
        }

        It 'AfterAll removes the topology when an It block fails (nested Pester run)' {
            $inner = Join-Path $TestDrive 'Inner.Tests.ps1'
            $idFile = Join-Path $TestDrive 'inner.id'
            $resFile = Join-Path $TestDrive 'inner.result'
            Set-Content -LiteralPath $inner -Value @"
Describe 'inner' {
    BeforeAll {
        Import-Module '$ModuleFile' -Force
        `$script:t = New-LabTopology -Hosts 'a', 'b'
        Set-Content -LiteralPath '$idFile' -Value `$script:t.Id
    }
    AfterAll { Remove-LabTopology -Topology `$script:t }
    It 'throws midway' { throw 'inner failure' }
    It 'passes' { 1 | Should -Be 1 }
}
"@
            $pester = (Get-Module Pester).Path
            $child = Start-ChildPwsh -Script @"
Import-Module '$pester'
`$r = Invoke-Pester -Path '$inner' -PassThru -Output None
# record the namespaces while this (owning) process is still alive, so the watchdog cannot be the one who cleaned up
`$left = @(ip netns list | Where-Object { `$_ -like "haps-`$(Get-Content '$idFile')-*" })
Set-Content -LiteralPath '$resFile' -Value "`$(`$r.FailedCount) `$(`$r.PassedCount) `$(`$left.Count)"
"@
            $child.WaitForExit(120000) | Should -BeTrue
            $stderr = $child.StandardError.ReadToEnd()
            Test-Path $resFile | Should -BeTrue -Because $stderr
            $failed, $passed, $leftCount = (Get-Content $resFile).Split(' ')
            $failed | Should -Be '1'
            $passed | Should -Be '1'
            $leftCount | Should -Be '0'
            $id = Get-Content $idFile
            Get-HapsNamespace | Where-Object { $_ -like "haps-$id-*" } | Should -BeNullOrEmpty
        }

        It 'the watchdog removes the topology when the owning pwsh is killed (SIGKILL)' {
            $idFile = Join-Path $TestDrive 'killed.id'
            $child = Start-ChildPwsh -Script @"
Import-Module '$ModuleFile'
`$t = New-LabTopology -Hosts 'a', 'b'
`$null = Start-LabProcess -Topology `$t -HostName a -Command sleep -ArgumentList '300'
Set-Content -LiteralPath '$idFile' -Value "`$PID `$(`$t.Id)"
Start-Sleep -Seconds 120
"@
            try {
                # the child writes the file after creating it: wait for its whole line, not just for the file
                Wait-Until -TimeoutMilliseconds 60000 { (Test-Path $idFile) -and ((Get-Content -Raw $idFile) -match '^\d+ \S+\r?\n') } | Should -BeTrue
                $childPid, $id = (Get-Content $idFile).Split(' ')
                [int]$childPid | Should -Be $child.Id
                (Get-HapsNamespace | Where-Object { $_ -like "haps-$id-*" }).Count | Should -Be 3
                $child.Kill()   # SIGKILL: no finally, no AfterAll, no engine events
                Wait-Until -TimeoutMilliseconds 10000 { -not (Get-HapsNamespace | Where-Object { $_ -like "haps-$id-*" }) } |
                    Should -BeTrue
                Wait-Until -TimeoutMilliseconds 5000 { -not (Test-Path "/tmp/haps-lab/$id") } | Should -BeTrue
            } finally {
                if (-not $child.HasExited) { $child.Kill() }
            }
        }

        It 'cleans up when the owning pwsh is interrupted (SIGINT)' {
            $idFile = Join-Path $TestDrive 'int.id'
            $child = Start-ChildPwsh -Script @"
Import-Module '$ModuleFile'
`$t = New-LabTopology -Hosts 'a'
try {
    Set-Content -LiteralPath '$idFile' -Value `$t.Id
    Start-Sleep -Seconds 120
} finally {
    Remove-LabTopology -Topology `$t
}
"@
            try {
                # the child writes the file after creating it: wait for its line, not just for the file
                Wait-Until -TimeoutMilliseconds 60000 { (Test-Path $idFile) -and ((Get-Content -Raw $idFile) -match '\S+\r?\n') } | Should -BeTrue
                $id = Get-Content $idFile
                & kill -s INT $child.Id
                # The child's finally runs Remove-LabTopology in a pwsh that may still be compiling it (30 s of room).
                # A run started from a background job of a non-interactive shell inherits SIGINT ignored (POSIX), and
                # pwsh then ignores it: this test fails there whatever the wait; run the suite in the foreground.
                Wait-Until -TimeoutMilliseconds 30000 { -not (Get-HapsNamespace | Where-Object { $_ -like "haps-$id-*" }) } |
                    Should -BeTrue
            } finally {
                if (-not $child.WaitForExit(5000)) { $child.Kill() }
            }
        }

        It 'a New-LabTopology that fails halfway leaves nothing behind' {
            # let the real creation batch run, but make its last step fail
            Mock -ModuleName NetnsLab Invoke-LabNative -ParameterFilter { $ArgumentList.Count -eq 2 -and $ArgumentList[1] -like '*/root.batch' } -MockWith {
                Add-Content -LiteralPath $ArgumentList[1] -Value 'link add haps-bogus type no-such-link-type'
                $out = & $FilePath -batch $ArgumentList[1] 2>&1
                [pscustomobject]@{ ExitCode = $LASTEXITCODE; StdOut = ''; StdErr = ($out -join "`n"); TimedOut = $false }
            }
            $before = Get-OwnHapsNamespace
            { New-LabTopology -Hosts 'a', 'b' } | Should -Throw '*creating topology*failed*'
            Should -Invoke -ModuleName NetnsLab Invoke-LabNative -ParameterFilter { $ArgumentList[1] -like '*/root.batch' } -Times 1 -Exactly
            @(Get-OwnHapsNamespace | Where-Object { $_ -notin $before }) | Should -BeNullOrEmpty
        }

        It 'Remove-LabTopology never throws on partial state' {
            $t = New-LabTopology -Hosts 'a', 'b'
            & ip netns del $t.SwitchNamespace
            & ip netns del $t.Hosts.a.Namespace
            { Remove-LabTopology -Topology $t } | Should -Not -Throw
            { Remove-LabTopology -Topology $t } | Should -Not -Throw   # twice
            { Remove-LabTopology -Topology $null } | Should -Not -Throw
            { Remove-LabTopology -Topology ([pscustomobject]@{ Id = 'zzzzzz' }) } | Should -Not -Throw
            $left = Get-HapsNamespace
            foreach ($n in $t.Namespaces) { $left | Should -Not -Contain $n }
        }
    }
}

Describe 'Clear-LabLeftovers' -Tag 'Root' -Skip:(-not $LabSupported) {
    BeforeAll {
        # a namespace owned by "another live test run" (owner = PID 1, which is alive)
        $script:OtherId = 'fe' + [System.Security.Cryptography.RandomNumberGenerator]::GetHexString(4, $true)
        $script:OtherNs = "haps-$OtherId-sw"
        $dir = "/tmp/haps-lab/$OtherId"
        $null = New-Item -ItemType Directory -Force -Path $dir
        $stat = [System.IO.File]::ReadAllText('/proc/1/stat')
        $ticks = $stat.Substring($stat.LastIndexOf(')') + 2).Split(' ')[19]
        Set-Content -LiteralPath "$dir/owner" -Value "1 $ticks"
        & ip netns add $OtherNs
    }
    AfterAll {
        & ip netns del $OtherNs 2>$null
        Remove-Item -Recurse -Force "/tmp/haps-lab/$OtherId" -ErrorAction SilentlyContinue
        Clear-LabLeftovers
    }

    It 'removes stray and own haps-* namespaces (with their processes) but keeps other live runs' {
        $stray = 'haps-stray' + [System.Security.Cryptography.RandomNumberGenerator]::GetHexString(4, $true) + '-x'
        & ip netns add $stray
        $sleeper = [System.Diagnostics.Process]::Start('ip', [string[]]@('netns', 'exec', $stray, 'sleep', '300'))
        try {
            Wait-Until { (& ip netns pids $stray) -contains [string]$sleeper.Id } | Should -BeTrue
            $own = New-LabTopology -Hosts 'a'

            $removed = Clear-LabLeftovers -PassThru

            $removed | Should -Contain $stray
            $removed | Should -Contain $own.SwitchNamespace
            $left = Get-HapsNamespace
            $left | Should -Not -Contain $stray
            $left | Should -Not -Contain $own.Hosts.a.Namespace
            $left | Should -Contain $OtherNs
            $sleeper.WaitForExit(5000) | Should -BeTrue
        } finally {
            if (-not $sleeper.HasExited) { $sleeper.Kill() }
            $sleeper.Dispose()
        }
    }

    It 'removes a topology of another run once its owner process is gone' {
        Set-Content -LiteralPath "/tmp/haps-lab/$OtherId/owner" -Value '999999999 1'   # no such pid
        $removed = Clear-LabLeftovers -PassThru
        $removed | Should -Contain $OtherNs
        Get-HapsNamespace | Should -Not -Contain $OtherNs
        Test-Path "/tmp/haps-lab/$OtherId" | Should -BeFalse
    }

    It 'leaves no haps-* namespaces behind (except those of concurrent live runs)' {
        Clear-LabLeftovers
        Get-OwnHapsNamespace | Should -BeNullOrEmpty
    }
}
