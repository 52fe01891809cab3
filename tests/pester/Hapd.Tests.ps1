# hapd, the keepalived-compatible daemon: its command line (no root), and VRRP from keepalived.conf against
# keepalived (Debian 2.2.7) in network namespaces (tag 'Root'): both roles, v2 and v3, graceful stop, failover on
# kill -9 and on link loss, a reload that changes a priority and adds an instance without moving the VIP, a refused
# reload, a SIGHUP storm, the state dumps.

BeforeDiscovery {
    Import-Module "$PSScriptRoot/../lab/NetnsLab.psm1" -Force
    $script:hapdPath = Join-Path $env:HAPS_MODULE_PATH 'hapd/hapd'
    $script:haveHapd = Test-Path $script:hapdPath
    $script:canRun = $script:haveHapd -and (Test-LabEnvironment) -and [bool](Get-Command keepalived -ErrorAction SilentlyContinue)
}

BeforeAll {
    Import-Module "$PSScriptRoot/../lab/NetnsLab.psm1" -Force
    Import-Module "$PSScriptRoot/TestHelpers.psm1" -Force
    Import-Module $env:HAPS_MODULE_PATH -Force
    $script:Hapd = Join-Path $env:HAPS_MODULE_PATH 'hapd/hapd'
    $script:Work = Join-Path ([System.IO.Path]::GetTempPath()) ("haps-hapd-" + [guid]::NewGuid().ToString('n').Substring(0, 8))
    $null = New-Item -ItemType Directory -Path $script:Work

    function Invoke-Hapd([string[]]$Arguments) {
        $psi = [System.Diagnostics.ProcessStartInfo]::new($script:Hapd)
        foreach ($a in $Arguments) { $psi.ArgumentList.Add($a) }
        $psi.RedirectStandardOutput = $true
        $psi.RedirectStandardError = $true
        $p = [System.Diagnostics.Process]::Start($psi)
        $out = $p.StandardOutput.ReadToEndAsync()
        $err = $p.StandardError.ReadToEnd()
        $p.WaitForExit()
        [pscustomobject]@{ ExitCode = $p.ExitCode; StdOut = $out.Result; StdErr = $err }
    }

    function New-ConfigFile([string]$Name, [string]$Text) {
        $path = Join-Path $script:Work $Name
        Set-Content -Path $path -Value $Text
        $path
    }


    function Wait-Text($P, [string]$Pattern, [double]$TimeoutSeconds = 15) {
        $deadline = [DateTime]::UtcNow.AddSeconds($TimeoutSeconds)
        do {
            if ((Read-ProcessText $P) -match $Pattern) { return $true }
            Start-Sleep -Milliseconds 100
        } while ([DateTime]::UtcNow -lt $deadline)
        $false
    }

    # The last "(NAME) Entering X STATE" a daemon logged (keepalived and hapd write the same words).
    function Get-DaemonState($P, [string]$Instance) {
        $who = if ($Instance) { "\($([regex]::Escape($Instance))\) " } else { '' }
        $m = [regex]::Matches((Read-ProcessText $P), "${who}Entering (MASTER|BACKUP|FAULT) STATE")
        if ($m.Count -eq 0) { return 'NONE' }
        $m[$m.Count - 1].Groups[1].Value
    }

    function Get-Transitions($P, [string]$Instance) {
        [regex]::Matches((Read-ProcessText $P), "\($([regex]::Escape($Instance))\) Entering (MASTER|BACKUP|FAULT) STATE").Count
    }

    function Wait-DaemonState($P, [string]$State, [double]$TimeoutSeconds = 15, [string]$Instance) {
        $deadline = [DateTime]::UtcNow.AddSeconds($TimeoutSeconds)
        while ((Get-DaemonState $P $Instance) -ne $State -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 100 }
        Get-DaemonState $P $Instance
    }

    function New-InstanceBlock([string]$Name, [int]$Vrid, [int]$Priority, [int]$Version, [string]$Interval, [string]$Vip, [string]$Password) {
        $auth = if ($Password) { "    authentication {`n        auth_type PASS`n        auth_pass $Password`n    }`n" } else { '' }
        "vrrp_instance $Name {`n    state BACKUP`n    interface eth0`n    version $Version`n    virtual_router_id $Vrid`n    priority $Priority`n    advert_int $Interval`n$auth    virtual_ipaddress {`n        $Vip`n    }`n}`n"
    }

    # A daemon (keepalived or hapd) in $HostName's namespace, in the foreground, logging to the console; its own
    # folder holds the configuration, the pid files and (hapd) the dumps ($TMPDIR).
    function Start-Daemon($Topo, [string]$HostName, [string]$Program, [string]$Tag, [string]$Body) {
        $dir = Join-Path $script:Work "$($Topo.Id)-$HostName-$Tag"
        $null = New-Item -ItemType Directory -Path $dir -Force
        $path = Join-Path $dir 'keepalived.conf'
        Set-Content -Path $path -Value "global_defs {`n    router_id $HostName`n    vrrp_garp_master_delay 0`n}`n$Body"
        $common = @('--dont-fork', '--log-console', '-f', $path, '-p', (Join-Path $dir 'k.pid'), '-r', (Join-Path $dir 'vrrp.pid'), '-c', (Join-Path $dir 'check.pid'))
        $p = if ($Program -eq 'hapd') {
            Start-LabProcess -Topology $Topo -HostName $HostName -Command env -ArgumentList (@("TMPDIR=$dir", $script:Hapd, '--no-syslog', '--log-detail') + $common)
        } else {
            Start-LabProcess -Topology $Topo -HostName $HostName -Command keepalived -ArgumentList (@('--vrrp') + $common)
        }
        $p | Add-Member -NotePropertyName Directory -NotePropertyValue $dir -PassThru | Add-Member -NotePropertyName ConfigPath -NotePropertyValue $path -PassThru
    }

    function Send-Signal($P, [string]$Signal) {
        $err = & kill -s $Signal ([string]$P.Pid) 2>&1
        $LASTEXITCODE | Should -Be 0 -Because "$err"
    }

    function Get-VipHolder($Topo, [string]$Vip) {
        foreach ($h in $Topo.Hosts.Keys) {
            $r = Invoke-LabCommand -Topology $Topo -HostName $h -Command ip -ArgumentList '-o', '-4', 'addr', 'show', 'dev', 'eth0' -AllowFailure
            if ($r.StdOut -match "inet $([regex]::Escape($Vip))/") { $h }
        }
    }

    function Invoke-ClientPing($Topo, [string]$Vip) {
        (Invoke-LabCommand -Topology $Topo -HostName client -Command busybox -ArgumentList 'ping', '-c', '1', '-W', '1', $Vip -AllowFailure).ExitCode
    }

    function Read-Dump($P, [string]$Signal, [string]$File) {
        $path = Join-Path $P.Directory $File
        Remove-Item $path -ErrorAction Ignore
        Send-Signal $P $Signal
        $deadline = [DateTime]::UtcNow.AddSeconds(10)
        while (-not (Test-Path $path) -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 100 }
        Get-Content -Raw $path
    }
}

AfterAll {
    if ($script:Work -and (Test-Path $script:Work)) { Remove-Item -Recurse -Force $script:Work }
}

Describe 'hapd command line' -Skip:(-not $haveHapd) {
    It '--version and --help answer and exit 0' {
        $v = Invoke-Hapd '--version'
        $v.ExitCode | Should -Be 0
        $v.StdOut | Should -Match '^hapd v\d+\.\d+\.\d+'
        $h = Invoke-Hapd '-h'
        $h.ExitCode | Should -Be 0
        $h.StdOut | Should -Match '--use-file=FILE'
        $h.StdOut | Should -Match '--log-facility'
        $h.StdOut | Should -Match '-I, --dont-release-ipvs'
    }

    It 'takes -I and --dont-release-ipvs as keepalived does (the stop is checked in Hapd.Ipvs.Tests)' {
        (Invoke-Hapd '-I', '--version').ExitCode | Should -Be 0
        (Invoke-Hapd '--dont-release-ipvs', '--version').ExitCode | Should -Be 0
        (Invoke-Hapd '--dont-release-ipvs=1').StdErr | Should -Match "option '--dont-release-ipvs' doesn't allow an argument"
    }

    It 'refuses an unknown option with exit 1 and the usage' {
        $r = Invoke-Hapd '-x'
        $r.ExitCode | Should -Be 1
        $r.StdErr | Should -Match "invalid option -- 'x'"
        $r.StdErr | Should -Match 'Usage: hapd'
        (Invoke-Hapd '-S', '9').StdErr | Should -Match "invalid log facility '9'"
        (Invoke-Hapd '-P', '-C').ExitCode | Should -Be 1
    }

    It '--signum gives keepalived''s signal numbers' {
        foreach ($pair in @(@('STOP', '15'), @('RELOAD', '1'), @('DATA', '10'), @('STATS', '12'), @('JSON', '36'))) {
            (Invoke-Hapd "--signum=$($pair[0])").StdOut.Trim() | Should -Be $pair[1]
        }
        (Invoke-Hapd '--signum=NOPE').ExitCode | Should -Be 1
    }

    It '-t catches the seed''s typo on line 1 with the suggestion and exits 5' {
        $path = New-ConfigFile 'seed.conf' "virtaul_server 10.0.0.10 80 {`n  delay_loop 6`n  lb_algo wrr`n}`n"
        $r = Invoke-Hapd '-t', '-f', $path
        $r.ExitCode | Should -Be 5
        $r.StdErr | Should -Match ([regex]::Escape("($path`: Line 1) Unknown keyword 'virtaul_server' (did you mean virtual_server?)"))
    }

    It '-t=FILE writes the findings to the file; a good configuration exits 0' {
        $good = New-ConfigFile 'good.conf' "vrrp_instance VI_1 {`n    interface lo`n    virtual_router_id 1`n    virtual_ipaddress {`n        192.0.2.1/24`n    }`n}`n"
        $bad = New-ConfigFile 'bad2.conf' "vrrp_instance VI_1 {`n    interface eth0`n    virtual_router_id 300`n    virtual_ipaddress {`n        192.0.2.1/24`n    }`n}`n"
        $log = Join-Path $Work 'test.log'
        (Invoke-Hapd "--config-test=$log", '-f', $bad).ExitCode | Should -Be 5
        Get-Content -Raw $log | Should -Match 'Line 3'
        $g = Invoke-Hapd '-t', '-f', (New-ConfigFile 'fine.conf' "global_defs {`n    router_id x`n}`n")
        $g.ExitCode | Should -Be 0
        $g.StdErr | Should -BeNullOrEmpty
        $null = $good
    }

    It '-t reports the same findings as Test-KeepalivedConfig -Detailed -CheckEnvironment' {
        $files = @(
            New-ConfigFile 'same1.conf' "virtaul_server 10.0.0.10 80 {`n  delay_loop 6`n}`n"
            New-ConfigFile 'same2.conf' "vrrp_script chk {`n    script `"/bin/true`"`n}`nvrrp_instance VI_1 {`n    interface nosuchif0`n    virtual_router_id 300`n    priority 0`n    track_script {`n        chk_missing`n    }`n    virtual_ipaddress {`n        192.0.2.1/24`n    }`n}`nvrrp_instance VI_1 {`n    interface eth0`n}`n"
            New-ConfigFile 'same3.conf' "global_defs {`n    router_id a`n    notification_email {`n        root`n    }`n}`nvirtual_server 192.0.2.10 80 {`n    lb_algo wrr`n    lb_kind DR`n    real_server 192.0.2.20 80 {`n        TCP_CHECK {`n            connect_timeout 3`n        }`n    }`n}`n"
        )
        foreach ($f in $files) {
            $ours = @((Invoke-Hapd '-t', '-f', $f).StdErr -split "`n" | Where-Object { $_ } | ForEach-Object { $_.TrimEnd() })
            $theirs = @(Test-KeepalivedConfig -LiteralPath $f -Detailed -CheckEnvironment | ForEach-Object { $_.ToString() })
            $ours | Should -Be $theirs -Because $f
            (Invoke-Hapd '-t', '-f', $f).ExitCode -eq 0 | Should -Be (Test-KeepalivedConfig -LiteralPath $f -CheckEnvironment) -Because $f
        }
    }
}

Describe 'hapd VRRPv2 Master against keepalived Backup: reload, refused reload, SIGHUP storm, dumps, graceful stop' -Tag 'Root' -Skip:(-not $canRun) {
    BeforeAll {
        $script:Topo = New-LabTopology -Hosts 'lb1', 'lb2', 'client'
        $script:Vip = '192.0.2.100'
        $script:K = Start-Daemon $Topo lb2 keepalived k (New-InstanceBlock VI_51 51 100 2 1 "$Vip/24" 'secret1')
        $script:H = Start-Daemon $Topo lb1 hapd h (New-InstanceBlock VI_51 51 150 2 1 "$Vip/24" 'secret1')
    }
    AfterAll {
        if ($script:H) { $null = Stop-LabProcess $script:H -TimeoutSeconds 5 }
        Remove-LabTopology -Topology $script:Topo
    }

    It 'becomes MASTER while keepalived stays BACKUP; the VIP is on lb1 and the client reaches it' {
        Wait-DaemonState $H 'MASTER' 30 | Should -Be 'MASTER' -Because (Read-ProcessText $H)
        Wait-DaemonState $K 'BACKUP' 5 | Should -Be 'BACKUP' -Because (Read-ProcessText $K)
        Start-Sleep -Seconds 2
        Get-DaemonState $K | Should -Be 'BACKUP'
        @(Get-VipHolder $Topo $Vip) | Should -Be @('lb1')
        Invoke-ClientPing $Topo $Vip | Should -Be 0
        (Get-Content (Join-Path $H.Directory 'k.pid')).Trim() | Should -Be ([string]$H.Pid)
        (Get-Content (Join-Path $H.Directory 'vrrp.pid')).Trim() | Should -Be ([string]$H.Pid)
        Read-ProcessText $K | Should -Not -Match '(?i)(auth|checksum|invalid)'
    }

    It 'keeps transparent huge pages out and gives back the pages of its start (docs/hapd.md, Memory)' {
        [IO.File]::ReadAllText("/proc/$($H.Pid)/status") | Should -Match 'THP_enabled:\s+0'
        $deadline = [DateTime]::UtcNow.AddSeconds(20)
        while ((Read-ProcessText $H) -notmatch "Gave back the executable's pages that ran once \(\d+ mapping\(s\), \d+ KiB asked\)" -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 250 }
        Read-ProcessText $H | Should -Match "Gave back the executable's pages that ran once \(\d+ mapping\(s\), \d+ KiB asked\)"
    }

    It 'writes the JSON, data and stats dumps on signal 36, USR1 and USR2' {
        $j = Read-Dump $H 36 'keepalived.json' | ConvertFrom-Json
        $j.vrrpInstances.Count | Should -Be 1
        $j.vrrpInstances[0].name | Should -Be 'VI_51'
        $j.vrrpInstances[0].state | Should -Be 'MASTER'
        $j.vrrpInstances[0].counters.advertisementsSent | Should -BeGreaterThan 0
        $j.pid | Should -Be $H.Pid
        Read-Dump $H 'USR1' 'keepalived.data' | Should -Match '(?m)^ VRRP Instance = VI_51\s+State = MASTER'
        Read-Dump $H 'USR2' 'keepalived.stats' | Should -Match '(?ms)^VRRP Instance: VI_51.*Sent: [1-9]'
    }

    It 'reloads a priority change and a new instance on SIGHUP without moving the VIP' {
        $before = Get-Transitions $H 'VI_51'
        $body = (New-InstanceBlock VI_51 51 160 2 1 "$Vip/24" 'secret1') + (New-InstanceBlock VI_52 52 100 2 1 '192.0.2.101/24' '')
        Set-Content -Path $H.ConfigPath -Value "global_defs {`n    router_id lb1`n    vrrp_garp_master_delay 0`n}`n$body"
        Send-Signal $H 'HUP'
        Wait-Text $H 'Reloaded in [\d.]+ ms: VRRP 0 unchanged, 1 updated in place, 0 replaced, 1 added, 0 removed' 15 | Should -BeTrue -Because (Read-ProcessText $H)
        Read-ProcessText $H | Should -Match '\(VI_51\) Updated: priority'
        Wait-DaemonState $H 'MASTER' 15 'VI_52' | Should -Be 'MASTER'
        $j = Read-Dump $H 36 'keepalived.json' | ConvertFrom-Json
        ($j.vrrpInstances | Where-Object name -EQ 'VI_51').priority | Should -Be 160
        Get-Transitions $H 'VI_51' | Should -Be $before
        Get-DaemonState $K | Should -Be 'BACKUP'
        @(Get-VipHolder $Topo $Vip) | Should -Be @('lb1')
        @(Get-VipHolder $Topo '192.0.2.101') | Should -Be @('lb1')
    }

    It 'refuses a bad configuration on SIGHUP, says why, and keeps running the old one' {
        $good = Get-Content -Raw $H.ConfigPath
        $before = Get-Transitions $H 'VI_51'
        try {
            Set-Content -Path $H.ConfigPath -Value ($good -replace 'virtual_router_id 52', 'virtual_router_id 300')
            Send-Signal $H 'HUP'
            Wait-Text $H 'Reload refused: .*the running configuration stays as it was' 15 | Should -BeTrue -Because (Read-ProcessText $H)
            Read-ProcessText $H | Should -Match "\(VI_52\): VRID '300' not valid"
            Start-Sleep -Seconds 1
            Get-Transitions $H 'VI_51' | Should -Be $before
            @(Get-VipHolder $Topo $Vip) | Should -Be @('lb1')
            @(Get-VipHolder $Topo '192.0.2.101') | Should -Be @('lb1')
        } finally {
            Set-Content -Path $H.ConfigPath -Value $good
        }
    }

    It 'survives 100 SIGHUPs a second for 10 s: no crash, no state change, no VIP move' {
        $before = Get-Transitions $H 'VI_51'
        $kBefore = [regex]::Matches((Read-ProcessText $K), 'Entering MASTER STATE').Count
        $storm = & /bin/sh -c "i=0; while [ `$i -lt 1000 ]; do kill -HUP $($H.Pid) || exit 1; sleep 0.01; i=`$((i+1)); done" 2>&1
        $LASTEXITCODE | Should -Be 0 -Because "$storm"
        $H.Process.HasExited | Should -BeFalse
        Start-Sleep -Seconds 1
        Get-Transitions $H 'VI_51' | Should -Be $before
        [regex]::Matches((Read-ProcessText $K), 'Entering MASTER STATE').Count | Should -Be $kBefore
        Get-DaemonState $K | Should -Be 'BACKUP'
        @(Get-VipHolder $Topo $Vip) | Should -Be @('lb1')
        $j = Read-Dump $H 36 'keepalived.json' | ConvertFrom-Json
        $j.failedReloads | Should -Be 1
        $j.reloads | Should -BeGreaterThan 1
    }

    It 'stops gracefully on SIGTERM: keepalived takes over at once, pid files removed, exit 0' {
        Send-Signal $H 'TERM'
        Wait-DaemonState $K 'MASTER' 3 | Should -Be 'MASTER'
        $H.Process.WaitForExit(10000) | Should -BeTrue
        $H.Process.ExitCode | Should -Be 0
        Read-ProcessText $H | Should -Match 'Stopped VI_51 \(Master\), VI_52 \(Master\): VI_51 and VI_52 sent priority 0 and removed their virtual addresses'
        Start-Sleep -Milliseconds 300
        @(Get-VipHolder $Topo $Vip) | Should -Be @('lb2')
        @(Get-VipHolder $Topo '192.0.2.101') | Should -BeNullOrEmpty
        Test-Path (Join-Path $H.Directory 'k.pid') | Should -BeFalse
        Test-Path (Join-Path $H.Directory 'vrrp.pid') | Should -BeFalse
    }
}

Describe 'hapd VRRPv3 at 100 ms as Backup to keepalived: failover on kill -9 and on link loss' -Tag 'Root' -Skip:(-not $canRun) {
    BeforeAll {
        $script:Topo = New-LabTopology -Hosts 'lb1', 'lb2', 'client'
        $script:Vip = '192.0.2.110'
        $script:KBody = New-InstanceBlock VI_61 61 200 3 0.1 "$Vip/24" ''
        $script:K = Start-Daemon $Topo lb2 keepalived k1 $KBody
        $script:H = Start-Daemon $Topo lb1 hapd h (New-InstanceBlock VI_61 61 100 3 0.1 "$Vip/24" '')
    }
    AfterAll {
        if ($script:H) { $null = Stop-LabProcess $script:H -TimeoutSeconds 5 }
        Remove-LabTopology -Topology $script:Topo
    }

    It 'stays BACKUP while keepalived is MASTER' {
        Wait-DaemonState $K 'MASTER' 15 | Should -Be 'MASTER' -Because (Read-ProcessText $K)
        Wait-DaemonState $H 'BACKUP' 30 | Should -Be 'BACKUP' -Because (Read-ProcessText $H)
        Start-Sleep -Seconds 1
        Get-DaemonState $H | Should -Be 'BACKUP'
        @(Get-VipHolder $Topo $Vip) | Should -Be @('lb2')
    }

    It 'takes over when keepalived is killed with SIGKILL' {
        Send-Signal $K 'KILL'
        Wait-DaemonState $H 'MASTER' 5 | Should -Be 'MASTER' -Because (Read-ProcessText $H)
        Start-Sleep -Milliseconds 300
        @(Get-VipHolder $Topo $Vip) | Should -Contain 'lb1'
        # keepalived killed with -9 leaves its VIP behind (it could not remove it); take it away as an admin would.
        $null = Invoke-LabCommand -Topology $Topo -HostName lb2 -Command ip -ArgumentList 'addr', 'del', "$Vip/24", 'dev', 'eth0' -AllowFailure
        Invoke-ClientPing $Topo $Vip | Should -Be 0
    }

    It 'yields to a restarted keepalived of higher priority (preemption)' {
        $script:K = Start-Daemon $Topo lb2 keepalived k2 $KBody
        Wait-DaemonState $K 'MASTER' 15 | Should -Be 'MASTER' -Because (Read-ProcessText $K)
        Wait-DaemonState $H 'BACKUP' 5 | Should -Be 'BACKUP'
        Start-Sleep -Milliseconds 500
        @(Get-VipHolder $Topo $Vip) | Should -Be @('lb2')
    }

    It 'takes over when keepalived''s link goes down, and yields when it comes back' {
        Set-LabLink -Topology $Topo -HostName lb2 -Down
        try {
            Wait-DaemonState $H 'MASTER' 5 | Should -Be 'MASTER'
            Start-Sleep -Milliseconds 300
            @(Get-VipHolder $Topo $Vip) | Should -Contain 'lb1'
            Invoke-ClientPing $Topo $Vip | Should -Be 0
        } finally {
            Set-LabLink -Topology $Topo -HostName lb2 -Up
        }
        Wait-DaemonState $H 'BACKUP' 10 | Should -Be 'BACKUP'
        Start-Sleep -Milliseconds 500
        @(Get-VipHolder $Topo $Vip) | Should -Be @('lb2')
    }

    It 'stops as a Backup on SIGTERM: its stop line claims no priority 0 and no address removal; keepalived stays MASTER' {
        $kBefore = [regex]::Matches((Read-ProcessText $K), 'Entering MASTER STATE').Count
        Send-Signal $H 'TERM'
        $H.Process.WaitForExit(10000) | Should -BeTrue
        $H.Process.ExitCode | Should -Be 0
        $stop = @((Read-ProcessText $H) -split "`n" | Where-Object { $_ -match 'Stopped' })
        $stop.Count | Should -Be 1 -Because (Read-ProcessText $H)
        $stop[0].TrimEnd() | Should -Match 'Stopped VI_61 \(Backup\)$'
        $stop[0] | Should -Not -Match 'priority 0|removed'
        Start-Sleep -Milliseconds 500
        Get-DaemonState $K | Should -Be 'MASTER'
        [regex]::Matches((Read-ProcessText $K), 'Entering MASTER STATE').Count | Should -Be $kBefore
        @(Get-VipHolder $Topo $Vip) | Should -Be @('lb2')
    }
}

# The seed's logging setup: KEEPALIVED_OPTIONS="-D -d -S 0" (no -n: the daemon goes to the background) and rsyslog's
# "local0.* /var/log/keepalived.log". rsyslogd and hapd run in a private mount namespace (inside the host's network
# namespace) whose /dev is a fresh tmpfs (so rsyslogd's /dev/log is theirs alone) and whose /var/log is the test's folder.
Describe 'hapd -D -d -S 0 logs through rsyslog''s local0 rule into /var/log/keepalived.log' -Tag 'Root' -Skip:(-not ($canRun -and (Get-Command rsyslogd -ErrorAction SilentlyContinue) -and (Get-Command unshare -ErrorAction SilentlyContinue))) {
    BeforeAll {
        $script:Topo = New-LabTopology -Hosts 'lb1', 'client'
        $script:Dir = Join-Path $Work "$($Topo.Id)-syslog"
        $null = New-Item -ItemType Directory -Path (Join-Path $Dir 'varlog'), (Join-Path $Dir 'olddev') -Force
        Set-Content -Path (Join-Path $Dir 'rsyslog.conf') -Value "module(load=`"imuxsock`")`nlocal0.*    /var/log/keepalived.log`n"
        $script:Conf = Join-Path $Dir 'keepalived.conf'
        Set-Content -Path $Conf -Value ("global_defs {`n    router_id lb1`n    vrrp_garp_master_delay 0`n}`n" + (New-InstanceBlock VI_71 71 150 2 1 '192.0.2.171/24' ''))
        $script:PidFile = Join-Path $Dir 'k.pid'
        $sh = @'
set -e
W=$1; HAPD=$2; CONF=$3
mount --bind /dev "$W/olddev"
mount -t tmpfs -o mode=755 tmpfs /dev
for d in null zero random urandom full; do touch "/dev/$d"; mount --bind "$W/olddev/$d" "/dev/$d"; done
mount --bind "$W/varlog" /var/log
rsyslogd -n -f "$W/rsyslog.conf" -i "$W/rsyslog.pid" &
RS=$!
i=0; while [ ! -S /dev/log ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done
"$HAPD" -D -d -S 0 -f "$CONF" -p "$W/k.pid" -r "$W/vrrp.pid"
echo "hapd returned $?"
i=0; while [ ! -s "$W/k.pid" ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i+1)); done
P=$(cat "$W/k.pid")
echo "daemon $P"
while kill -0 "$P" 2>/dev/null; do sleep 0.1; done
sleep 0.5
kill "$RS"; wait "$RS" || true
echo done
'@
        $script:Shell = Start-LabProcess -Topology $Topo -HostName lb1 -Command unshare -ArgumentList '--mount', '--propagation', 'private', '/bin/sh', '-c', $sh, 'sh', $Dir, $Hapd, $Conf
        $script:LogFile = Join-Path $Dir 'varlog/keepalived.log'
        function Wait-Log([string]$Pattern, [double]$TimeoutSeconds = 30) {
            $deadline = [DateTime]::UtcNow.AddSeconds($TimeoutSeconds)
            do {
                if ((Test-Path $LogFile) -and (Get-Content -Raw $LogFile) -match $Pattern) { return $true }
                Start-Sleep -Milliseconds 100
            } while ([DateTime]::UtcNow -lt $deadline)
            $false
        }
    }
    AfterAll {
        if ($script:Shell) { $null = Stop-LabProcess $script:Shell -TimeoutSeconds 5 }
        Remove-LabTopology -Topology $script:Topo
    }

    It 'forks into the background: the command returns 0 at once and the daemon writes its pid file' {
        Wait-Text $Shell '(?m)^daemon \d+' 30 | Should -BeTrue -Because (Read-ProcessText $Shell)
        Read-ProcessText $Shell | Should -Match '(?m)^hapd returned 0'
        $script:DaemonPid = [int]((Get-Content $PidFile).Trim())
        $DaemonPid | Should -Not -Be $Shell.Pid
    }

    It 'writes its start, the configuration dump (-d) and the state change to the local0 file, with the daemon''s pid' {
        Wait-Log "hapd\[$DaemonPid\]: \(VI_71\) Entering MASTER STATE" | Should -BeTrue -Because "$(Get-Content -Raw $LogFile -ErrorAction Ignore)"
        $text = Get-Content -Raw $LogFile
        # rsyslog's own file format puts its timestamp and the host name first
        $text | Should -Match "(?m)^\S+ \S+ hapd\[$DaemonPid\]: Starting hapd v"
        $text | Should -Match "hapd\[$DaemonPid\]:  VRRP Instance = VI_71: interface eth0, virtual_router_id 71"
        $text | Should -Match 'logging to syslog \(local0\)'
    }

    It 'logs the graceful stop on SIGTERM' {
        & kill -s TERM $DaemonPid
        Wait-Log "hapd\[$DaemonPid\]: Stopped VI_71 \(Master\): VI_71 sent priority 0 and removed its virtual addresses" | Should -BeTrue -Because "$(Get-Content -Raw $LogFile -ErrorAction Ignore)"
        Wait-Text $Shell '(?m)^done' 15 | Should -BeTrue
        Test-Path $PidFile | Should -BeFalse
    }
}

# Under systemd: Type=notify (READY=1, RELOADING=1 with MONOTONIC_USEC, STOPPING=1 over NOTIFY_SOCKET) and the journal's
# native protocol (JOURNAL_STREAM set, /run/systemd/journal/socket): the test is systemd, receiving both on its own sockets;
# a private mount namespace puts the journal socket where hapd looks for it.
Describe 'hapd under systemd: sd_notify and journal fields' -Tag 'Root' -Skip:(-not ($canRun -and (Get-Command unshare -ErrorAction SilentlyContinue))) {
    BeforeAll {
        $script:Topo = New-LabTopology -Hosts 'lb1', 'client'
        $script:Dir = Join-Path $Work "$($Topo.Id)-systemd"
        $null = New-Item -ItemType Directory -Path $Dir -Force
        function New-DgramSocket([string]$Path) {
            $s = [System.Net.Sockets.Socket]::new([System.Net.Sockets.AddressFamily]::Unix, [System.Net.Sockets.SocketType]::Dgram, [System.Net.Sockets.ProtocolType]::Unspecified)
            $s.Bind([System.Net.Sockets.UnixDomainSocketEndPoint]::new($Path))
            $s
        }
        $script:Notify = New-DgramSocket (Join-Path $Dir 'notify.sock')
        $script:Journal = New-DgramSocket (Join-Path $Dir 'journal.sock')
        $script:Received = @{ notify = [System.Collections.Generic.List[string]]::new(); journal = [System.Collections.Generic.List[string]]::new() }
        function Receive-Datagrams {
            $buf = [byte[]]::new(65536)
            foreach ($pair in @(@('notify', $Notify), @('journal', $Journal))) {
                while ($pair[1].Poll(0, [System.Net.Sockets.SelectMode]::SelectRead)) {
                    $n = $pair[1].Receive($buf)
                    $Received[$pair[0]].Add([System.Text.Encoding]::UTF8.GetString($buf, 0, $n))
                }
            }
        }
        function Wait-Datagram([string]$Kind, [string]$Pattern, [double]$TimeoutSeconds = 20) {
            $deadline = [DateTime]::UtcNow.AddSeconds($TimeoutSeconds)
            do {
                Receive-Datagrams
                $hit = @($Received[$Kind] | Where-Object { $_ -match $Pattern })
                if ($hit) { return $hit[-1] }
                Start-Sleep -Milliseconds 50
            } while ([DateTime]::UtcNow -lt $deadline)
            $null
        }
        $script:Conf = Join-Path $Dir 'keepalived.conf'
        Set-Content -Path $Conf -Value ("global_defs {`n    router_id lb1`n}`n" + (New-InstanceBlock VI_72 72 150 3 1 '192.0.2.172/24' ''))
        $sh = @'
set -e
W=$1; HAPD=$2; CONF=$3
mount -t tmpfs tmpfs /run
mkdir -p /run/systemd/journal
touch /run/systemd/journal/socket
mount --bind "$W/journal.sock" /run/systemd/journal/socket
exec env NOTIFY_SOCKET="$W/notify.sock" JOURNAL_STREAM=8:12345 "$HAPD" --dont-fork -S 0 -f "$CONF" -p "$W/k.pid" -r "$W/vrrp.pid"
'@
        $script:H = Start-LabProcess -Topology $Topo -HostName lb1 -Command unshare -ArgumentList '--mount', '--propagation', 'private', '/bin/sh', '-c', $sh, 'sh', $Dir, $Hapd, $Conf
    }
    AfterAll {
        if ($script:H) { $null = Stop-LabProcess $script:H -TimeoutSeconds 5 }
        Remove-LabTopology -Topology $script:Topo
        $script:Notify.Dispose()
        $script:Journal.Dispose()
    }

    It 'sends READY=1 with its pid once the configuration runs' {
        $m = Wait-Datagram notify '(?m)^READY=1$'
        $m | Should -Not -BeNullOrEmpty -Because (Read-ProcessText $H)
        $m | Should -Match "(?m)^MAINPID=$($H.Pid)$"
        $m | Should -Match '(?m)^STATUS=1 VRRP instance'
    }

    It 'writes journal entries with the facility, priority and HAPD_* fields' {
        $e = Wait-Datagram journal '(?m)^HAPD_STATE=MASTER$'
        $e | Should -Not -BeNullOrEmpty -Because ($Received.journal -join "`n---`n")
        $e | Should -Match '(?m)^MESSAGE=\(VI_72\) Entering MASTER STATE'
        $e | Should -Match '(?m)^PRIORITY=6$'
        $e | Should -Match '(?m)^SYSLOG_FACILITY=16$'
        $e | Should -Match '(?m)^SYSLOG_IDENTIFIER=hapd$'
        $e | Should -Match '(?m)^HAPD_INSTANCE=VI_72$'
    }

    It 'sends RELOADING=1 with MONOTONIC_USEC, then READY=1, around a reload' {
        $Received.notify.Clear()
        & kill -s HUP $H.Pid
        Wait-Datagram notify '(?m)^RELOADING=1$' | Should -Match '(?m)^MONOTONIC_USEC=\d+$'
        Wait-Datagram notify '(?m)^READY=1$' | Should -Not -BeNullOrEmpty
        $i = [array]::FindIndex($Received.notify.ToArray(), [Predicate[string]] { param($x) $x -match 'RELOADING=1' })
        $j = [array]::FindLastIndex($Received.notify.ToArray(), [Predicate[string]] { param($x) $x -match 'READY=1' })
        $j | Should -BeGreaterThan $i
    }

    It 'sends STOPPING=1 on SIGTERM and exits 0' {
        & kill -s TERM $H.Pid
        Wait-Datagram notify '(?m)^STOPPING=1$' | Should -Not -BeNullOrEmpty
        $H.Process.WaitForExit(10000) | Should -BeTrue
        $H.Process.ExitCode | Should -Be 0
    }
}

Describe 'hapd control socket and the Hapd cmdlets' -Tag 'Root' -Skip:(-not ($canRun -and (Test-Path /usr/bin/python3) -and (Get-Command setpriv -ErrorAction SilentlyContinue))) {
    BeforeAll {
        $script:Topo = New-LabTopology -Hosts 'lb1'
        $script:Sock = Join-Path $Work 'ctl-hapd.sock'
        $script:CtlDir = Join-Path $Work 'ctl'
        $null = New-Item -ItemType Directory -Path $CtlDir -Force
        $script:CtlConf = Join-Path $CtlDir 'keepalived.conf'
        $script:Body = "global_defs {`n    router_id lb1`n}`nstatic_ipaddress {`n    198.51.100.7/32 dev eth0`n}`n" + (New-InstanceBlock VI_71 71 100 2 1 '192.0.2.120/24' '')
        function Test-StaticAddress { (Invoke-LabCommand -Topology $Topo -HostName lb1 -Command ip -ArgumentList '-o', '-4', 'addr', 'show', 'dev', 'eth0').StdOut -match 'inet 198\.51\.100\.7/32' }
        Set-Content -Path $CtlConf -Value $Body
        $script:C = Start-LabProcess -Topology $Topo -HostName lb1 -Command env -ArgumentList @("TMPDIR=$CtlDir", $Hapd, '--dont-fork', '--log-console', '--no-syslog',
            '--control-socket', $Sock, '--control-group', 'nogroup', '-f', $CtlConf, '-p', (Join-Path $CtlDir 'k.pid'), '-r', (Join-Path $CtlDir 'v.pid'), '-c', (Join-Path $CtlDir 'c.pid'))
        # A client that is not root: uid and gid nobody/nogroup, no supplementary groups, speaking the protocol itself.
        function Invoke-AsNobody([string]$Json) {
            $py = "import socket,sys; s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(sys.argv[2].encode()+b'\n'); print(s.makefile().readline())"
            (& setpriv --reuid 65534 --regid 65534 --clear-groups /usr/bin/python3 -c $py $Sock $Json 2>&1) -join "`n"
        }
    }
    AfterAll {
        if ($script:C) { $null = Stop-LabProcess $script:C -TimeoutSeconds 5 }
        Remove-LabTopology -Topology $script:Topo
    }

    It 'opens the socket mode 0660, group nogroup, and Get-HapdStatus reads the state' {
        Wait-Text $C 'Control socket .*ctl-hapd\.sock' 20 | Should -BeTrue -Because (Read-ProcessText $C)
        $st = (& stat -c '%a %G' $Sock)
        $st | Should -Be '660 nogroup'
        $s = Get-HapdStatus -SocketPath $Sock
        $s | Should -BeOfType ([HaPowerShell.Core.Keepalived.Runtime.HapdState])
        $s.Pid | Should -Be $C.Pid
        $s.VrrpInstances[0].Name | Should -Be 'VI_71'
        $s.VrrpInstances[0].Priority | Should -Be 100
        # static_ipaddress is on eth0 from the start
        Test-StaticAddress | Should -BeTrue
    }

    It 'Set-HapdPriority changes the running priority; a wrong name is ObjectNotFound' {
        $i = Set-HapdPriority -SocketPath $Sock -Name VI_71 -Priority 180 -PassThru
        $i.Priority | Should -Be 180
        (Get-HapdStatus -SocketPath $Sock).VrrpInstances[0].Priority | Should -Be 180
        $e = { Set-HapdPriority -SocketPath $Sock -Name VI_99 -Priority 50 -ErrorAction Stop } | Should -Throw -PassThru
        $e.FullyQualifiedErrorId | Should -BeLike 'HapdInstanceNotFound*'
        $e.CategoryInfo.Category | Should -Be 'ObjectNotFound'
        Set-HapdPriority -SocketPath $Sock VI_71 60 -WhatIf
        (Get-HapdStatus -SocketPath $Sock).VrrpInstances[0].Priority | Should -Be 180
    }

    It 'Invoke-HapdReload takes the file again (the priority back to 100) and reports a refused reload' {
        $before = (Get-HapdStatus -SocketPath $Sock).Reloads
        $s = Invoke-HapdReload -SocketPath $Sock -PassThru
        $s.Reloads | Should -Be ($before + 1)
        $s.VrrpInstances[0].Priority | Should -Be 100
        Set-Content -Path $CtlConf -Value ($Body -replace 'priority 100', 'priority 300')
        $e = { Invoke-HapdReload -SocketPath $Sock -ErrorAction Stop } | Should -Throw -PassThru
        $e.FullyQualifiedErrorId | Should -BeLike 'HapdReloadRefused*'
        (Get-HapdStatus -SocketPath $Sock).FailedReloads | Should -Be 1
        Set-Content -Path $CtlConf -Value $Body
    }

    It 'lets the control group read and refuses it every change (SO_PEERCRED)' {
        $read = Invoke-AsNobody '{"command":"status"}' | ConvertFrom-Json
        $read.ok | Should -BeTrue -Because ($read | ConvertTo-Json -Depth 3)
        $read.state.vrrpInstances[0].name | Should -Be 'VI_71'
        $change = Invoke-AsNobody '{"command":"set-priority","instance":"VI_71","priority":10}' | ConvertFrom-Json
        $change.ok | Should -BeFalse
        $change.errorId | Should -Be 'HapdAccessDenied'
        (Get-HapdStatus -SocketPath $Sock).VrrpInstances[0].Priority | Should -Be 100
        Read-ProcessText $C | Should -Match 'set-priority refused to pid \d+, uid 65534'
    }

    It 'Register-HapdEvent raises hapd''s VRRP events as PowerShell events (link down: FAULT; up: MASTER again)' {
        function Wait-HapdTestEvent([string]$Kind, [double]$Seconds, [datetime]$After = [datetime]::MinValue) {
            $deadline = [DateTime]::UtcNow.AddSeconds($Seconds)
            do {
                $e = @(Get-Event -SourceIdentifier HapdTest -ErrorAction Ignore | Where-Object { $_.SourceArgs[0].Source -eq 'Vrrp' -and $_.SourceArgs[0].Kind -eq $Kind -and $_.SourceArgs[0].Time -gt $After })
                if ($e) { return $e[0] }
                $null = Wait-Event -SourceIdentifier HapdTest -Timeout 1
            } while ([DateTime]::UtcNow -lt $deadline)
        }
        Get-Event -SourceIdentifier HapdTest -ErrorAction Ignore | Remove-Event
        $sub = Register-HapdEvent -SocketPath $Sock -SourceIdentifier HapdTest
        $sub | Should -BeOfType ([HaPowerShell.Commands.Hapd.HapdEventSubscription])
        $sub.State | Should -Be 'Running'
        # Master first (no peer: after Master_Down_Interval, about 3.6 s from the start)
        $deadline = [DateTime]::UtcNow.AddSeconds(20)
        while ((Get-HapdStatus -SocketPath $Sock).VrrpInstances[0].State -ne 'MASTER' -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 200 }
        $null = Invoke-LabCommand -Topology $Topo -HostName lb1 -Command ip -ArgumentList 'link', 'set', 'eth0', 'down'
        $fault = Wait-HapdTestEvent 'FAULT' 20
        $null = Invoke-LabCommand -Topology $Topo -HostName lb1 -Command ip -ArgumentList 'link', 'set', 'eth0', 'up'
        $fault | Should -Not -BeNullOrEmpty -Because (Read-ProcessText $C)
        $master = Wait-HapdTestEvent 'MASTER' 30 -After $fault.SourceArgs[0].Time
        $fault.SourceArgs[0].Subject | Should -Be 'VI_71'
        $fault.SourceArgs[0].PreviousState | Should -Be 'MASTER'
        $master | Should -Not -BeNullOrEmpty -Because (Read-ProcessText $C)
        $master.SourceArgs[0].PreviousState | Should -BeIn 'BACKUP', 'FAULT'
        $master.MessageData.Message | Should -Match '\(VI_71\) Entering MASTER STATE'
        $master.Sender.Id | Should -Be $sub.Id
        $sub.EventsReceived | Should -BeGreaterOrEqual 2
        Unregister-HapdEvent $sub
        $sub.State | Should -Be 'Stopped'
        Get-Event -SourceIdentifier HapdTest -ErrorAction Ignore | Remove-Event
        # the control group may read the events too (uid nobody, gid nogroup)
        $read = Invoke-AsNobody '{"command":"events"}' | ConvertFrom-Json
        $read.ok | Should -BeTrue
    }

    It 'says HapdNotRunning for a socket nobody serves' {
        $e = { Get-HapdStatus -SocketPath (Join-Path $Work 'none.sock') -ErrorAction Stop } | Should -Throw -PassThru
        $e.FullyQualifiedErrorId | Should -BeLike 'HapdNotRunning*'
        $e.CategoryInfo.Category | Should -Be 'ObjectNotFound'
    }

    It 'removes the socket when it stops, and ends the event stream' {
        $sub = Register-HapdEvent -SocketPath $Sock -SourceIdentifier HapdStop
        & kill -TERM $C.Pid
        Wait-Text $C 'Stopped' 15 | Should -BeTrue
        $deadline = [DateTime]::UtcNow.AddSeconds(10)
        while ($sub.State -eq 'Running' -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 100 }
        $sub.State | Should -Be 'Closed'
        Get-Event -SourceIdentifier HapdStop -ErrorAction Ignore | Remove-Event
        Test-Path $Sock | Should -BeFalse
        Test-StaticAddress | Should -BeFalse
        $script:C = $null
    }
}

Describe 'hapd runs notify scripts as script_user' -Tag 'Root' -Skip:(-not ($canRun -and (Get-Command setpriv -ErrorAction SilentlyContinue))) {
    BeforeAll {
        $script:Topo = New-LabTopology -Hosts 'lb1'
        # The script sits where only root may write (script security), its output where nobody may.
        $script:ScriptDir = "/run/haps-hapd-su-$PID"
        $null = New-Item -ItemType Directory -Path $ScriptDir -Force
        $script:OutDir = Join-Path $Work 'su-out'
        $null = New-Item -ItemType Directory -Path $OutDir -Force
        & chmod 777 $OutDir
        $script:NotifyScript = Join-Path $ScriptDir 'notify.sh'
        Set-Content -Path $NotifyScript -Value "#!/bin/sh`nid -u > $OutDir/uid`n"
        & chmod 755 $NotifyScript
        $dir = Join-Path $Work 'su'
        $null = New-Item -ItemType Directory -Path $dir -Force
        $conf = Join-Path $dir 'keepalived.conf'
        Set-Content -Path $conf -Value ("global_defs {`n    router_id lb1`n    script_user nobody`n    enable_script_security`n}`n" +
            ((New-InstanceBlock VI_81 81 100 2 1 '192.0.2.130/24' '') -replace '(?m)^}\s*$', "    notify_master $NotifyScript`n}"))
        $script:S = Start-LabProcess -Topology $Topo -HostName lb1 -Command env -ArgumentList @("TMPDIR=$dir", $Hapd, '--dont-fork', '--log-console', '--no-syslog',
            '--control-socket', 'none', '-f', $conf, '-p', (Join-Path $dir 'k.pid'), '-r', (Join-Path $dir 'v.pid'), '-c', (Join-Path $dir 'c.pid'))
    }
    AfterAll {
        if ($script:S) { $null = Stop-LabProcess $script:S -TimeoutSeconds 5 }
        Remove-LabTopology -Topology $script:Topo
        if ($script:ScriptDir -like '/run/haps-hapd-su-*' -and (Test-Path $script:ScriptDir)) { Remove-Item -Recurse -Force $script:ScriptDir }
    }

    It 'runs notify_master as nobody' {
        Wait-DaemonState $S 'MASTER' 20 | Should -Be 'MASTER' -Because (Read-ProcessText $S)
        $uidFile = Join-Path $OutDir 'uid'
        $deadline = [DateTime]::UtcNow.AddSeconds(10)
        # Until the line is there: the shell creates the file (the redirection) before id writes to it.
        while (-not ("$(Get-Content $uidFile -ErrorAction SilentlyContinue)" -match '\d') -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 100 }
        (Get-Content $uidFile -ErrorAction SilentlyContinue) | Should -Be '65534' -Because (Read-ProcessText $S)
    }
}
