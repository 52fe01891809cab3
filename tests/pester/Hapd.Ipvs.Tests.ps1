# hapd's IPVS and checker half (tag 'Kernel': IPVS exists only in the kernel-lab VM here): keepalived.conf's
# virtual_server/real_server programmed into the director namespace's IPVS table, TCP checks against busybox httpd
# real servers in their own namespaces taking a real server out and back, a SIGHUP reload sent as the difference
# (a real server added, a weight changed, the checkers that stay keep running), a removed real server drained, the
# kernel's table reconciled (manual ipvsadm changes undone), lvs_sync_daemon following its VRRP instance, and a
# graceful stop that removes the configuration's virtual servers; then the stop side by side with keepalived (the
# services removed, kept with -I, the table flushed with lvs_flush_onstop).

BeforeDiscovery {
    Import-Module "$PSScriptRoot/../lab/NetnsLab.psm1" -Force
    $script:hapdPath = Join-Path $env:HAPS_MODULE_PATH 'hapd/hapd'
    $script:canRun = (Test-Path $script:hapdPath) -and (Test-LabEnvironment) -and [bool](Get-Command ipvsadm -ErrorAction SilentlyContinue) -and [bool](Get-Command busybox -ErrorAction SilentlyContinue)
}

BeforeAll {
    Import-Module "$PSScriptRoot/../lab/NetnsLab.psm1" -Force
    Import-Module "$PSScriptRoot/TestHelpers.psm1" -Force
    Import-Module $env:HAPS_MODULE_PATH -Force
    $script:Hapd = Join-Path $env:HAPS_MODULE_PATH 'hapd/hapd'
    $script:Work = Join-Path ([System.IO.Path]::GetTempPath()) ("haps-hapdipvs-" + [guid]::NewGuid().ToString('n').Substring(0, 8))
    $null = New-Item -ItemType Directory -Path $script:Work


    function Wait-Until([scriptblock]$Condition, [double]$TimeoutSeconds = 20) {
        $deadline = [DateTime]::UtcNow.AddSeconds($TimeoutSeconds)
        do {
            if (& $Condition) { return $true }
            Start-Sleep -Milliseconds 200
        } while ([DateTime]::UtcNow -lt $deadline)
        $false
    }

    # The director's table for the VIP, as ipvsadm lists it inside lb1's namespace: address:port -> weight.
    function Get-DirectorTable($Topo) {
        $r = Invoke-LabCommand -Topology $Topo -HostName lb1 -Command ipvsadm -ArgumentList '-Ln', '-t', '203.0.113.20:80' -AllowFailure
        $t = @{}
        foreach ($m in [regex]::Matches($r.StdOut, '(?m)^\s+->\s+(\d+\.\d+\.\d+\.\d+):(\d+)\s+\w+\s+(\d+)')) { $t["$($m.Groups[1].Value):$($m.Groups[2].Value)"] = [int]$m.Groups[3].Value }
        $t
    }

    function Write-Config([string]$Path, [string[]]$RealServers, [string]$Extra = '') {
        $rs = ($RealServers | ForEach-Object { "    $_`n" }) -join ''
        Set-Content -Path $Path -Value @"
global_defs {
    router_id lb1
    lvs_sync_daemon eth0 VI_1 id 7
}
vrrp_instance VI_1 {
    state BACKUP
    interface eth0
    virtual_router_id 61
    priority 100
    advert_int 1
    virtual_ipaddress {
        203.0.113.20/32
    }
}
virtual_server 203.0.113.20 80 {
    delay_loop 1
    lb_algo wlc
    lb_kind NAT
    protocol TCP
$rs$Extra}
"@
    }

    function Checked([string]$Address, [int]$Weight) { "real_server $Address 8080 {`n        weight $Weight`n        TCP_CHECK {`n            connect_timeout 1`n            retry 1`n            delay_before_retry 0.5`n        }`n    }" }
    function Plain([string]$Address, [int]$Weight) { "real_server $Address 8080 {`n        weight $Weight`n    }" }
}

AfterAll {
    if ($script:Work -and (Test-Path $script:Work)) { Remove-Item -Recurse -Force $script:Work }
}

Describe 'hapd runs virtual_server and its checkers into IPVS' -Tag 'Kernel', 'Root' -Skip:(-not $canRun) {
    BeforeAll {
        $script:Topo = New-LabTopology -Hosts 'lb1', 'rs1', 'rs2', 'rs3'
        $script:Rs1 = $Topo.Hosts['rs1'].IPv4Address
        $script:Rs2 = $Topo.Hosts['rs2'].IPv4Address
        $script:Rs3 = $Topo.Hosts['rs3'].IPv4Address
        foreach ($rsName in 'rs1', 'rs2', 'rs3') { Set-Content -Path (Join-Path $Work "$rsName.html") -Value $rsName }
        $script:Web = @{}
        function Start-Web([string]$HostName) {
            $script:Web[$HostName] = Start-LabProcess -Topology $Topo -HostName $HostName -Command busybox -ArgumentList 'httpd', '-f', '-p', '8080', '-h', $Work
        }
        foreach ($rsName in 'rs1', 'rs2', 'rs3') { Start-Web $rsName }
        $script:Conf = Join-Path $Work 'keepalived.conf'
        Write-Config $Conf @((Checked $Rs1 2), (Checked $Rs2 3))
        $script:H = Start-LabProcess -Topology $Topo -HostName lb1 -Command env -ArgumentList @("TMPDIR=$Work", $Hapd, '--dont-fork', '--log-console', '--no-syslog', '--log-detail',
            '--drain-timeout=30', '--reconcile', '--control-socket', (Join-Path $Work 'hapd.sock'), '-f', $Conf, '-p', (Join-Path $Work 'k.pid'), '-r', (Join-Path $Work 'v.pid'), '-c', (Join-Path $Work 'c.pid'))
    }
    AfterAll {
        if ($script:H) { $null = Stop-LabProcess $script:H -TimeoutSeconds 10 }
        foreach ($p in $script:Web.Values) { $null = Stop-LabProcess $p -TimeoutSeconds 2 }
        Remove-LabTopology -Topology $script:Topo
    }

    It 'programs the service and its real servers from the configuration at start' {
        Wait-Until { (Read-ProcessText $H) -match 'IPVS programmed in [\d.]+ ms: \d+ change\(s\) sent' } 30 | Should -BeTrue -Because (Read-ProcessText $H)
        $t = Get-DirectorTable $Topo
        $t["${Rs1}:8080"] | Should -Be 2
        $t["${Rs2}:8080"] | Should -Be 3
        (Invoke-LabCommand -Topology $Topo -HostName lb1 -Command ipvsadm -ArgumentList '-Ln', '-t', '203.0.113.20:80').StdOut | Should -Match 'TCP\s+203\.0\.113\.20:80 wlc'
    }

    It 'takes a real server out when its TCP check fails and puts it back with its weight' {
        $null = Stop-LabProcess $script:Web['rs1'] -TimeoutSeconds 2
        Wait-Until { -not (Get-DirectorTable $Topo).ContainsKey("${Rs1}:8080") } 20 | Should -BeTrue -Because (Read-ProcessText $H)
        (Get-DirectorTable $Topo)["${Rs2}:8080"] | Should -Be 3
        Start-Web 'rs1'
        Wait-Until { (Get-DirectorTable $Topo)["${Rs1}:8080"] -eq 2 } 20 | Should -BeTrue -Because (Read-ProcessText $H)
    }

    It 'runs the sync daemon as Master while VI_1 is MASTER' {
        Wait-Until { (Read-ProcessText $H) -match '\(VI_1\) Entering MASTER STATE' } 30 | Should -BeTrue
        Wait-Until { (Invoke-LabCommand -Topology $Topo -HostName lb1 -Command ipvsadm -ArgumentList '-L', '--daemon' -AllowFailure).StdOut -match 'master sync daemon \(mcast=eth0, syncid=7' } 15 |
            Should -BeTrue -Because (Read-ProcessText $H)
    }

    It 'reloads as the difference: a real server added, a weight changed, the other checker kept' {
        Write-Config $Conf @((Checked $Rs1 2), (Checked $Rs2 4), (Plain $Rs3 1))
        & kill -HUP $H.Pid
        Wait-Until { (Read-ProcessText $H) -match 'Reloaded IPVS in [\d.]+ ms: 2 change\(s\) sent, 0 refused; .*1 real server\(s\) added, 1 updated, 0 removed, 0 draining; checkers 1 kept, 1 replaced, 0 added, 0 removed' } 20 |
            Should -BeTrue -Because (Read-ProcessText $H)
        $t = Get-DirectorTable $Topo
        $t["${Rs2}:8080"] | Should -Be 4
        $t["${Rs3}:8080"] | Should -Be 1
        $t["${Rs1}:8080"] | Should -Be 2
    }

    It 'drains a real server removed from the configuration (weight 0, removed once it has no connections)' {
        Write-Config $Conf @((Checked $Rs1 2), (Checked $Rs2 4))
        & kill -HUP $H.Pid
        Wait-Until { (Read-ProcessText $H) -match "Drain real server ${Rs3}:8080" } 20 | Should -BeTrue -Because (Read-ProcessText $H)
        Wait-Until { (Read-ProcessText $H) -match "Drained real server .*${Rs3}:8080 removed: no active connections" } 20 | Should -BeTrue -Because (Read-ProcessText $H)
        (Get-DirectorTable $Topo).ContainsKey("${Rs3}:8080") | Should -BeFalse
    }

    It 'reconciles manual ipvsadm changes on reload (--reconcile)' {
        $null = Invoke-LabCommand -Topology $Topo -HostName lb1 -Command ipvsadm -ArgumentList '-e', '-t', '203.0.113.20:80', '-r', "${Rs2}:8080", '-m', '-w', '9'
        $null = Invoke-LabCommand -Topology $Topo -HostName lb1 -Command ipvsadm -ArgumentList '-a', '-t', '203.0.113.20:80', '-r', '192.0.2.99:8080', '-m', '-w', '1'
        (Get-DirectorTable $Topo)["${Rs2}:8080"] | Should -Be 9
        & kill -HUP $H.Pid
        Wait-Until { (Get-DirectorTable $Topo)["${Rs2}:8080"] -eq 4 } 20 | Should -BeTrue -Because (Read-ProcessText $H)
        (Get-DirectorTable $Topo).ContainsKey('192.0.2.99:8080') | Should -BeFalse
        Read-ProcessText $H | Should -Match 'Reconciling IPVS with the configuration: .*192\.0\.2\.99'
    }

    It 'Suspend-HapdRealServer drains a real server (weight 0) and Resume-HapdRealServer gives its weight back' {
        $sock = Join-Path $Work 'hapd.sock'
        Suspend-HapdRealServer -SocketPath $sock -Service 'TCP 203.0.113.20:80' -Address $Rs2 -Port 8080 -Confirm:$false
        (Get-DirectorTable $Topo)["${Rs2}:8080"] | Should -Be 0
        Resume-HapdRealServer -SocketPath $sock 'TCP 203.0.113.20:80' $Rs2 8080
        (Get-DirectorTable $Topo)["${Rs2}:8080"] | Should -Be 4
        $e = { Suspend-HapdRealServer -SocketPath $sock 'TCP 203.0.113.20:80' 192.0.2.250 -Confirm:$false -ErrorAction Stop } | Should -Throw -PassThru
        $e.FullyQualifiedErrorId | Should -BeLike 'HapdRealServerNotFound*'
        $s = Get-HapdStatus -SocketPath $sock
        $s.Ipvs.Services | Should -Be 1
    }

    It 'shows the checkers in the JSON dump' {
        $path = Join-Path $Work 'keepalived.json'
        Remove-Item $path -ErrorAction Ignore
        & kill -s 36 $H.Pid
        Wait-Until { Test-Path $path } 10 | Should -BeTrue
        $j = Get-Content -Raw $path | ConvertFrom-Json
        $j.ipvs.services | Should -Be 1
        $j.ipvs.realServers | Should -Be 2
        @($j.ipvs.checkers).Count | Should -Be 2
        $j.ipvs.syncDaemon | Should -Be 'Master'
    }

    It 'stops gracefully and removes its virtual server from IPVS, as keepalived does' {
        (Get-DirectorTable $Topo).Count | Should -BeGreaterThan 0
        & kill -TERM $H.Pid
        Wait-Until { $H.Process.HasExited } 15 | Should -BeTrue
        $text = Read-ProcessText $H
        $script:H = $null
        $text | Should -Match "Removed the configuration's 1 IPVS service\(s\) in [\d.]+ ms \(-I keeps them\)"
        (Invoke-LabCommand -Topology $Topo -HostName lb1 -Command ipvsadm -ArgumentList '-Ln').StdOut | Should -Not -Match '203\.0\.113\.20:80'
    }
}

Describe 'hapd leaves IPVS on stop as keepalived does' -Tag 'Kernel', 'Root' -Skip:(-not $canRun -or -not (Get-Command keepalived -ErrorAction SilentlyContinue)) {
    BeforeAll {
        $script:Topo = New-LabTopology -Hosts 'lb1'
        $script:Rs = '192.0.2.77'
        # A service that is not in the configuration: a stop leaves it, lvs_flush_onstop clears it.
        function Reset-Table {
            $r = Invoke-LabCommand -Topology $Topo -HostName lb1 -Command bash -ArgumentList '-c', 'ipvsadm -C && ipvsadm -A -u 203.0.113.99:53 -s rr'
            $r.ExitCode | Should -Be 0 -Because $r.StdErr
        }
        function Get-Saved { ((Invoke-LabCommand -Topology $Topo -HostName lb1 -Command ipvsadm -ArgumentList '-Sn').StdOut.Trim() -split "`n" | ForEach-Object Trim) -join '; ' }
        # keepalived or hapd (-C) on a configuration with two virtual servers, until both are in the table; then TERM.
        function Invoke-StartStop([string]$Program, [string]$Global = '', [string[]]$Extra = @()) {
            $dir = Join-Path $Work "stop-$Program-$([guid]::NewGuid().ToString('n').Substring(0, 6))"
            $null = New-Item -ItemType Directory -Path $dir
            $conf = Join-Path $dir 'keepalived.conf'
            Set-Content -Path $conf -Value @"
global_defs {
    router_id lb1
$Global}
virtual_server 203.0.113.30 80 {
    lb_algo rr
    lb_kind NAT
    protocol TCP
    real_server $Rs 8080 {
        weight 1
    }
}
virtual_server fwmark 7 {
    lb_algo wlc
    lb_kind DR
    real_server $Rs 0 {
        weight 3
    }
}
"@
            $common = @('--dont-fork', '--log-console', '--check', '-f', $conf, '-p', (Join-Path $dir 'k.pid'), '-r', (Join-Path $dir 'v.pid'), '-c', (Join-Path $dir 'c.pid')) + $Extra
            $p = if ($Program -eq 'hapd') { Start-LabProcess -Topology $Topo -HostName lb1 -Command env -ArgumentList (@("TMPDIR=$dir", $Hapd, '--no-syslog') + $common) }
                 else { Start-LabProcess -Topology $Topo -HostName lb1 -Command keepalived -ArgumentList $common }
            try {
                Wait-Until { (Get-Saved) -match 'FWM 7|-f 7' -and (Get-Saved) -match '203\.0\.113\.30:80' -and (Get-Saved) -match "-r ${Rs}:0" } 30 | Should -BeTrue -Because "$(Get-Saved) / $(Read-ProcessText $p)"
                & kill -TERM $p.Pid
                Wait-Until { $p.Process.HasExited } 20 | Should -BeTrue -Because (Read-ProcessText $p)
            } finally { $null = Stop-LabProcess $p -TimeoutSeconds 5 }
            [pscustomobject]@{ Table = Get-Saved; Text = Read-ProcessText $p }
        }
    }
    AfterAll { Remove-LabTopology -Topology $script:Topo }

    It 'removes the configuration''s virtual servers and leaves the others, as keepalived' {
        Reset-Table
        $k = Invoke-StartStop keepalived
        Reset-Table
        $h = Invoke-StartStop hapd
        $k.Table | Should -Be '-A -u 203.0.113.99:53 -s rr'
        $h.Table | Should -Be $k.Table
    }

    It 'keeps them with -I (--dont-release-ipvs), as keepalived' {
        Reset-Table
        $k = Invoke-StartStop keepalived -Extra '-I'
        Reset-Table
        $h = Invoke-StartStop hapd -Extra '--dont-release-ipvs'
        $k.Table | Should -Match '203\.0\.113\.30:80'
        $h.Table | Should -Be $k.Table
        $h.Text | Should -Not -Match 'Removed the configuration'
    }

    It 'clears the whole table with lvs_flush_onstop, as keepalived' {
        Reset-Table
        $k = Invoke-StartStop keepalived "    lvs_flush_onstop`n"
        Reset-Table
        $h = Invoke-StartStop hapd "    lvs_flush_onstop`n"
        $k.Table | Should -BeNullOrEmpty
        $h.Table | Should -Be $k.Table
        $h.Text | Should -Match 'lvs_flush_onstop: IPVS table flushed'
    }
}
