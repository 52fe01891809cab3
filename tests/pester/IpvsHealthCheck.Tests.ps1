# Start-/Get-/Stop-IpvsHealthCheck: the checker loop.
# Untagged: -MonitorOnly against listeners on 127.0.0.1 (no IPVS needed), events, errors.
# Kernel: a NAT service on the VM's root namespace with real servers in namespaces running
# busybox httpd; stopping a listener takes its real server out (or to weight 0 with inhibit) within
# delay_loop + retry x delay_before_retry, starting it restores the weight; losing quorum brings in
# the sorry server and regaining it removes the sorry server. Documentation addresses only.
BeforeDiscovery {
    Import-Module (Join-Path $PSScriptRoot '../lab/NetnsLab.psm1') -Force
    $script:LabSupported = Test-LabEnvironment
    $script:HaveLabTools = [bool](Get-Command python3 -CommandType Application -ErrorAction SilentlyContinue) -and
        [bool](Get-Command nft -CommandType Application -ErrorAction SilentlyContinue)
}

BeforeAll {
    Import-Module $env:HAPS_MODULE_PATH -Force
    Import-Module (Join-Path $PSScriptRoot '../lab/NetnsLab.psm1') -Force

    function Wait-Until([scriptblock]$Condition, [double]$Seconds = 10) {
        $sw = [Diagnostics.Stopwatch]::StartNew()
        while (-not (& $Condition)) {
            if ($sw.Elapsed.TotalSeconds -gt $Seconds) { throw "condition not met within $Seconds s: $Condition" }
            Start-Sleep -Milliseconds 50
        }
        $sw.Elapsed.TotalSeconds
    }

    function New-Listener {
        $l = [System.Net.Sockets.TcpListener]::new([ipaddress]::Loopback, 0)
        $l.Start()
        $l
    }

    function New-LoopbackServer([int]$Port, [int]$Weight = 1) {
        [HaPowerShell.Core.Ipvs.IpvsRealServer]@{ Address = [ipaddress]'127.0.0.1'; Port = $Port; Weight = $Weight }
    }
}

Describe 'Start-IpvsHealthCheck -MonitorOnly on loopback' {
    AfterEach { Stop-IpvsHealthCheck -All -ErrorAction SilentlyContinue }

    It 'marks a real server DOWN when its listener stops and UP when it is back, with events' {
        $a = New-Listener; $b = New-Listener
        $pa = $a.LocalEndpoint.Port; $pb = $b.LocalEndpoint.Port
        Get-Event -SourceIdentifier HaPowerShell.HealthCheck -ErrorAction SilentlyContinue | Remove-Event
        $hc = (New-LoopbackServer $pa 2), (New-LoopbackServer $pb 3) | Start-IpvsHealthCheck -MonitorOnly -Name lo-test -DelayLoop 0.2 -Retry 1 -DelayBeforeRetry 0.1
        try {
            $hc.Name | Should -Be 'lo-test'
            $hc.Status | Should -Be 'Running'
            $hc.RealServers.Count | Should -Be 2
            Wait-Until { (Get-IpvsHealthCheck lo-test).Checks -ge 4 } | Out-Null
            (Get-IpvsHealthCheck lo-test).Up | Should -Be 2
            $a.Stop()
            $took = Wait-Until { (Get-IpvsHealthCheck lo-test -RealServer | Where-Object Port -eq $pa).State -eq 'Down' }
            $took | Should -BeLessThan 3
            $info = Get-IpvsHealthCheck lo-test
            $info.Down | Should -Be 1
            $info.WeightSum | Should -Be 3
            $info.RecentEvents.Kind | Should -Contain 'RealServerDown'
            $a = [System.Net.Sockets.TcpListener]::new([ipaddress]::Loopback, $pa); $a.Start()
            Wait-Until { (Get-IpvsHealthCheck lo-test).Up -eq 2 } | Out-Null
            (Get-IpvsHealthCheck lo-test -RealServer | Where-Object Port -eq $pa).Weight | Should -Be 2
            $ev = @(Get-Event -SourceIdentifier HaPowerShell.HealthCheck -ErrorAction SilentlyContinue)
            $ev.Count | Should -BeGreaterOrEqual 2
            $ev.MessageData.Kind | Should -Contain 'RealServerDown'
            $ev.MessageData.Kind | Should -Contain 'RealServerUp'
            ($ev | Where-Object { $_.MessageData.Kind -eq 'RealServerDown' })[0].MessageData.Port | Should -Be $pa
        } finally {
            $a.Stop(); $b.Stop()
            Get-Event -SourceIdentifier HaPowerShell.HealthCheck -ErrorAction SilentlyContinue | Remove-Event
        }
    }

    It 'runs notify_down and notify_up scripts with the event in the environment' {
        $a = New-Listener; $pa = $a.LocalEndpoint.Port
        $log = Join-Path $TestDrive 'notify.log'
        New-LoopbackServer $pa | Start-IpvsHealthCheck -MonitorOnly -Name notify-test -DelayLoop 0.2 -Retry 0 `
            -NotifyDown "echo `"`$HAPS_EVENT `$HAPS_REAL_SERVER_ADDRESS:`$HAPS_REAL_SERVER_PORT`" >> '$log'" `
            -NotifyUp "echo `"`$HAPS_EVENT `$HAPS_REAL_SERVER_ADDRESS:`$HAPS_REAL_SERVER_PORT`" >> '$log'" | Out-Null
        try {
            Wait-Until { (Get-IpvsHealthCheck notify-test).Checks -ge 2 } | Out-Null
            $a.Stop()
            Wait-Until { (Test-Path $log) -and (Get-Content $log) -contains "DOWN 127.0.0.1:$pa" } | Out-Null
            $a = [System.Net.Sockets.TcpListener]::new([ipaddress]::Loopback, $pa); $a.Start()
            Wait-Until { (Get-Content $log) -contains "UP 127.0.0.1:$pa" } | Out-Null
        } finally { $a.Stop() }
    }

    It 'reports a notify script that fails, or outlives -NotifyTimeout, as a HaPowerShell.Log event; the checker goes on' {
        $a = New-Listener
        Get-Event -SourceIdentifier HaPowerShell.Log -ErrorAction SilentlyContinue | Remove-Event
        try {
            New-LoopbackServer $a.LocalEndpoint.Port | Start-IpvsHealthCheck -MonitorOnly -Alpha -Name log-fail -DelayLoop 0.2 -NotifyUp 'exit 3' | Out-Null
            New-LoopbackServer $a.LocalEndpoint.Port | Start-IpvsHealthCheck -MonitorOnly -Alpha -Name log-hang -DelayLoop 0.2 -NotifyUp 'sleep 30' -NotifyTimeout 0.5 | Out-Null
            $entries = { @(Get-Event -SourceIdentifier HaPowerShell.Log -ErrorAction SilentlyContinue | ForEach-Object { $_.SourceArgs[0] }) }
            Wait-Until { @(& $entries | Where-Object Subject -eq 'log-hang').Count -ge 1 } | Out-Null
            $fail = @(& $entries | Where-Object Subject -eq 'log-fail')[0]
            $fail.Source | Should -Be 'HealthCheck'
            $fail.Level | Should -Be 'Warning'
            $fail.Message | Should -Match "notify script 'exit 3' failed \(exit status 3\)"
            @(& $entries | Where-Object Subject -eq 'log-hang')[0].Message | Should -Match 'ran longer than 0\.5 s'
            (Get-IpvsHealthCheck log-fail).Status | Should -Be 'Running'
            (Get-IpvsHealthCheck log-fail).Up | Should -Be 1
        } finally { $a.Stop() }
    }

    It 'with -Alpha starts DOWN and comes UP on the first good check' {
        $a = New-Listener
        try {
            $hc = New-LoopbackServer $a.LocalEndpoint.Port | Start-IpvsHealthCheck -MonitorOnly -Alpha -Name alpha-test -DelayLoop 0.2 -Warmup 0.5
            $hc.Down | Should -Be 1
            $hc.QuorumUp | Should -BeFalse
            Wait-Until { (Get-IpvsHealthCheck alpha-test).Up -eq 1 } | Out-Null
            (Get-IpvsHealthCheck alpha-test).QuorumUp | Should -BeTrue
        } finally { $a.Stop() }
    }

    It 'Stop-IpvsHealthCheck stops checking and forgets the checker; -PassThru shows the end state' {
        $a = New-Listener
        try {
            New-LoopbackServer $a.LocalEndpoint.Port | Start-IpvsHealthCheck -MonitorOnly -Name stop-test -DelayLoop 0.1 | Out-Null
            Wait-Until { (Get-IpvsHealthCheck stop-test).Checks -ge 2 } | Out-Null
            $end = Stop-IpvsHealthCheck -Name stop-test -PassThru
            $end.Status | Should -Be 'Stopped'
            Get-IpvsHealthCheck stop-test -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
            $checks = $end.Checks
            Start-Sleep -Milliseconds 400
            $end.Checks | Should -Be $checks
        } finally { $a.Stop() }
    }

    It 'refuses a second checker with the same name, bad policies and unknown names' {
        $a = New-Listener
        try {
            New-LoopbackServer $a.LocalEndpoint.Port | Start-IpvsHealthCheck -MonitorOnly -Name dup-test -DelayLoop 5 | Out-Null
            { New-LoopbackServer $a.LocalEndpoint.Port | Start-IpvsHealthCheck -MonitorOnly -Name dup-test -ErrorAction Stop } |
                Should -Throw -ErrorId 'HealthCheckExists*'
            { New-LoopbackServer 1 | Start-IpvsHealthCheck -MonitorOnly -Quorum 2 -Hysteresis 2 -ErrorAction Stop } |
                Should -Throw -ErrorId 'InvalidHysteresis*'
            { New-LoopbackServer 1 | Start-IpvsHealthCheck -MonitorOnly -DelayLoop 0 -ErrorAction Stop } |
                Should -Throw -ErrorId 'InvalidDelayLoop*'
            { New-LoopbackServer 1 | Start-IpvsHealthCheck -ErrorAction Stop } | Should -Throw -ErrorId 'RealServerWithoutService*'
            { Get-IpvsHealthCheck -Name no-such-checker -ErrorAction Stop } | Should -Throw -ErrorId 'HealthCheckNotFound*'
            { Stop-IpvsHealthCheck -Id 99999 -ErrorAction Stop } | Should -Throw -ErrorId 'HealthCheckNotFound*'
        } finally { $a.Stop() }
    }

    It 'runs TCP checks on their own thread, at the -CheckerPriority nice value' -Skip:((& id -u) -ne '0') {
        $a = New-Listener
        try {
            $hc = New-LoopbackServer $a.LocalEndpoint.Port | Start-IpvsHealthCheck -MonitorOnly -Name prio-test -DelayLoop 0.2 -CheckerPriority -5
            $hc.TcpLoop | Should -BeTrue
            Wait-Until { (Get-IpvsHealthCheck prio-test).Checks -ge 2 } | Out-Null
            $nice = foreach ($t in Get-ChildItem "/proc/$PID/task") {
                if ((Get-Content "$($t.FullName)/comm" -Raw).Trim() -like 'HaPowerShell TC*') {
                    $st = Get-Content "$($t.FullName)/stat" -Raw
                    [int]($st.Substring($st.LastIndexOf(')') + 2).Split(' ')[16])   # field 19: nice
                }
            }
            $nice | Should -Be -5
        } finally { $a.Stop() }
    }

    It 'makes the TCP check thread real-time with -CheckerRealtimePriority' -Skip:((& id -u) -ne '0') {
        $a = New-Listener
        try {
            $null = New-LoopbackServer $a.LocalEndpoint.Port | Start-IpvsHealthCheck -MonitorOnly -Name rt-test -DelayLoop 0.2 -CheckerRealtimePriority 3
            Wait-Until { (Get-IpvsHealthCheck rt-test).Checks -ge 2 } | Out-Null
            (Get-IpvsHealthCheck rt-test).Status | Should -Be 'Running'
            $sched = foreach ($t in Get-ChildItem "/proc/$PID/task") {
                if ((Get-Content "$($t.FullName)/comm" -Raw).Trim() -like 'HaPowerShell TC*') {
                    $st = Get-Content "$($t.FullName)/stat" -Raw
                    $f = $st.Substring($st.LastIndexOf(')') + 2).Split(' ')
                    '{0}/{1}' -f $f[37], $f[38]   # fields 40 and 41: rt_priority, policy (2 = SCHED_RR)
                }
            }
            $sched | Should -Be '3/2'
        } finally { $a.Stop() }
    }

    It 'refuses bad -CheckType and -CheckerPriority combinations before starting anything' {
        { New-LoopbackServer 1 | Start-IpvsHealthCheck -MonitorOnly -CheckType Tcp, Tcp -ErrorAction Stop } | Should -Throw -ErrorId 'DuplicateCheckType*'
        { New-LoopbackServer 1 | Start-IpvsHealthCheck -MonitorOnly -CheckType Tcp, Misc -ErrorAction Stop } | Should -Throw -ErrorId 'ScriptNotFound*'
        { New-LoopbackServer 1 | Start-IpvsHealthCheck -MonitorOnly -CheckerPriority 20 -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidCheckerPriority*'
        { New-LoopbackServer 1 | Start-IpvsHealthCheck -MonitorOnly -CheckType Http -CheckerPriority 1 -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidCheckerPriority*'
        { New-LoopbackServer 1 | Start-IpvsHealthCheck -MonitorOnly -CheckerRealtimePriority 100 -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidCheckerPriority*'
        { New-LoopbackServer 1 | Start-IpvsHealthCheck -MonitorOnly -CheckType Misc -MiscPath /bin/true -CheckerRealtimePriority 5 -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidCheckerPriority*'
        Get-IpvsHealthCheck | Should -BeNullOrEmpty
    }

    It '-WhatIf starts nothing' {
        New-LoopbackServer 1 | Start-IpvsHealthCheck -MonitorOnly -Name whatif-test -WhatIf | Should -BeNullOrEmpty
        Get-IpvsHealthCheck -Name whatif-test -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
    }

    It 'formats checkers, real-server states and events as tables' {
        $a = New-Listener
        try {
            New-LoopbackServer $a.LocalEndpoint.Port | Start-IpvsHealthCheck -MonitorOnly -Name fmt-test -DelayLoop 0.2 | Out-Null
            Wait-Until { (Get-IpvsHealthCheck fmt-test).Checks -ge 1 } | Out-Null
            (Get-IpvsHealthCheck fmt-test | Out-String) | Should -Match 'fmt-test\s+Running\s+Tcp\s+1\s+0\s+UP \(1/1\)'
            (Get-IpvsHealthCheck fmt-test -RealServer | Out-String) | Should -Match "UP\s+127\.0\.0\.1:$($a.LocalEndpoint.Port)\s+1/1"
        } finally { $a.Stop() }
    }
}

Describe 'The TCP check loop inside network namespaces' -Tag 'Root' -Skip:(-not ($LabSupported -and $HaveLabTools)) {
    # rs1 runs a listener on 8080 that closes while a flag file exists, has nothing on 8081 (refused)
    # and drops SYNs to 8082 (nft), so connects there time out. lb runs the checker, bound to its address.
    BeforeAll {
        Clear-LabLeftovers
        $script:Topo = New-LabTopology -Hosts 'rs1', 'lb'
        $script:Flag = Join-Path $TestDrive 'closed'
        $py = Join-Path $TestDrive 'switchable.py'
        [IO.File]::WriteAllText($py, @'
import os, socket, sys, time
addr, port, flag, ready = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
s = None
while True:
    want = not os.path.exists(flag)
    if want and s is None:
        s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((addr, port)); s.listen(128); s.setblocking(False)
    elif not want and s is not None:
        s.close(); s = None
    with open(ready + ".tmp", "w") as f: f.write("open" if s else "closed")
    os.replace(ready + ".tmp", ready)
    if s is not None:
        try:
            while True:
                c, _ = s.accept(); c.close()
        except BlockingIOError:
            pass
    time.sleep(0.02)
'@)
        $script:Ready = Join-Path $TestDrive 'listener-state'
        # Wait-Until for the scripts that run in the lb namespace (put in place of #WAIT#)
        $script:LabWait = @'
function Wait-Until([scriptblock]$Condition, [string]$What) {
    $sw = [Diagnostics.Stopwatch]::StartNew()
    while (-not (& $Condition)) {
        if ($sw.Elapsed.TotalSeconds -gt 30) { throw "not within 30 s: $What" }
        Start-Sleep -Milliseconds 50
    }
}
'@
        $script:Listener = Start-LabProcess -Topology $script:Topo -HostName rs1 -Command python3 -ArgumentList $py, $script:Topo.Hosts.rs1.IPv4Address, '8080', $script:Flag, $script:Ready
        $nft = Join-Path $TestDrive 'drop.nft'
        [IO.File]::WriteAllText($nft, "table inet haps_drop {`n chain input {`n  type filter hook input priority 0; policy accept;`n  tcp dport 8082 drop`n }`n}`n")
        $null = Invoke-LabCommand -Topology $script:Topo -HostName rs1 -Command nft -ArgumentList '-f', $nft
        $deadline = [DateTime]::UtcNow.AddSeconds(10)
        while (-not ((Test-Path $script:Ready) -and (Get-Content $script:Ready -Raw) -eq 'open')) {
            if ([DateTime]::UtcNow -gt $deadline) { throw 'the switchable listener did not start' }
            Start-Sleep -Milliseconds 50
        }
    }
    AfterAll {
        if ($script:Listener) { $null = Stop-LabProcess $script:Listener }
        Remove-LabTopology -Topology $script:Topo
    }

    It 'a stopped listener goes DOWN and comes back UP; refused and dropped connects fail as such' {
        $out = Invoke-LabPwsh -Topology $Topo -HostName lb -ModulePath $env:HAPS_MODULE_PATH -TimeoutSeconds 180 `
            -ArgumentList $Topo.Hosts.rs1.IPv4Address, $Topo.Hosts.lb.IPv4Address, $Flag -Script {
            param($rs, $lb, $flag)
            #WAIT#
            function State([int]$Port) { Get-IpvsHealthCheck ns-loop -RealServer | Where-Object Port -eq $Port }
            function Snap([string]$Label) {
                $i = Get-IpvsHealthCheck ns-loop
                [pscustomobject]@{
                    Label = $Label; TcpLoop = $i.TcpLoop; Up = $i.Up; Down = $i.Down
                    S8080 = "$((State 8080).State)"; S8081 = "$((State 8081).State)"; S8082 = "$((State 8082).State)"
                    E8081 = (State 8081).LastResult.SocketError; E8082 = (State 8082).LastResult.SocketError
                    Kinds = @($i.RecentEvents | ForEach-Object { "$($_.Kind) $($_.Port)" })
                }
            }
            $servers = 8080, 8081, 8082 | ForEach-Object { [HaPowerShell.Core.Ipvs.IpvsRealServer]@{ Address = [ipaddress]$rs; Port = $_; Weight = 1 } }
            $null = $servers | Start-IpvsHealthCheck -MonitorOnly -Name ns-loop -DelayLoop 0.3 -Retry 1 -DelayBeforeRetry 0.1 -ConnectTimeout 0.5 -BindAddress $lb
            try {
                Wait-Until { (State 8080).Checks -ge 3 -and (State 8082).State -eq 'Down' -and (State 8081).State -eq 'Down' } 'first states'
                Snap 'start'
                New-Item -ItemType File -Path $flag | Out-Null
                Wait-Until { (State 8080).State -eq 'Down' } 'stopped listener DOWN'
                Snap 'stopped'
                Remove-Item $flag
                Wait-Until { (State 8080).State -eq 'Up' } 'listener back UP'
                Snap 'back'
            } finally { Stop-IpvsHealthCheck -All }
        }.ToString().Replace('#WAIT#', $LabWait)
        $out.Errors | Should -BeNullOrEmpty
        $out.Output.Count | Should -Be 3
        $start, $stopped, $back = $out.Output
        $start.TcpLoop | Should -BeTrue
        $start.S8080 | Should -Be 'Up'
        $start.S8081 | Should -Be 'Down'
        $start.E8081 | Should -Be 'ConnectionRefused'
        $start.S8082 | Should -Be 'Down'
        $start.E8082 | Should -Be 'TimedOut'
        $stopped.S8080 | Should -Be 'Down'
        $stopped.Kinds | Should -Contain 'RealServerDown 8080'
        $back.S8080 | Should -Be 'Up'
        $back.Kinds | Should -Contain 'RealServerUp 8080'
        $back.Up | Should -Be 1
        $back.Down | Should -Be 2
    }

    It 'runs -NotifyQuorumDown and -NotifyQuorumUp when quorum is lost and regained' {
        $log = Join-Path $TestDrive 'quorum.log'
        $out = Invoke-LabPwsh -Topology $Topo -HostName lb -ModulePath $env:HAPS_MODULE_PATH -TimeoutSeconds 180 `
            -ArgumentList $Topo.Hosts.rs1.IPv4Address, $Flag, $log -Script {
            param($rs, $flag, $log)
            #WAIT#
            function Lines { if (Test-Path $log) { @(Get-Content $log) } else { @() } }
            $server = [HaPowerShell.Core.Ipvs.IpvsRealServer]@{ Address = [ipaddress]$rs; Port = 8080; Weight = 3 }
            $null = $server | Start-IpvsHealthCheck -MonitorOnly -Name ns-quorum -DelayLoop 0.3 -Retry 0 -ConnectTimeout 0.5 -Quorum 2 `
                -NotifyQuorumDown "echo `"`$HAPS_EVENT `$HAPS_WEIGHT_SUM`" >> '$log'" -NotifyQuorumUp "echo `"`$HAPS_EVENT `$HAPS_WEIGHT_SUM`" >> '$log'"
            try {
                Wait-Until { (Get-IpvsHealthCheck ns-quorum).Checks -ge 2 } 'two checks'
                [pscustomobject]@{ Label = 'start'; Lines = @(Lines) }
                New-Item -ItemType File -Path $flag | Out-Null
                Wait-Until { (Lines) -contains 'QUORUM_DOWN 0' } 'quorum_down script'
                Remove-Item $flag
                Wait-Until { (Lines) -contains 'QUORUM_UP 3' } 'quorum_up script'
                [pscustomobject]@{ Label = 'end'; Lines = @(Lines); Kinds = @((Get-IpvsHealthCheck ns-quorum).RecentEvents.Kind | ForEach-Object ToString) }
            } finally { Stop-IpvsHealthCheck -All; if (Test-Path $flag) { Remove-Item $flag } }
        }.ToString().Replace('#WAIT#', $LabWait)
        $out.Errors | Should -BeNullOrEmpty
        $out.Output.Count | Should -Be 2
        $out.Output[0].Lines | Should -BeNullOrEmpty   # started with quorum: no script yet
        $out.Output[1].Lines | Should -Be @('QUORUM_DOWN 0', 'QUORUM_UP 3')
        $out.Output[1].Kinds | Should -Contain 'QuorumDown'
        $out.Output[1].Kinds | Should -Contain 'QuorumUp'
    }

    It 'with -CheckType Tcp, Misc a real server is UP only while both its checks pass' {
        $miscFail = Join-Path $TestDrive 'misc-fail'
        $out = Invoke-LabPwsh -Topology $Topo -HostName lb -ModulePath $env:HAPS_MODULE_PATH -TimeoutSeconds 180 `
            -ArgumentList $Topo.Hosts.rs1.IPv4Address, $Flag, $miscFail -Script {
            param($rs, $flag, $miscFail)
            #WAIT#
            function Entries { Get-IpvsHealthCheck ns-multi -RealServer }
            function Snap([string]$Label) {
                $e = Entries
                [pscustomobject]@{ Label = $Label; State = "$($e[0].State)"; Checks = @($e | ForEach-Object { "$($_.CheckType) $($_.CheckState)" }); Up = (Get-IpvsHealthCheck ns-multi).Up }
            }
            $server = [HaPowerShell.Core.Ipvs.IpvsRealServer]@{ Address = [ipaddress]$rs; Port = 8080; Weight = 1 }
            $null = $server | Start-IpvsHealthCheck -MonitorOnly -Name ns-multi -CheckType Tcp, Misc -UseShell -MiscPath "test ! -e '$miscFail'" `
                -DelayLoop 0.3 -Retry 0 -ConnectTimeout 0.5
            try {
                Wait-Until { @(Entries | Where-Object Checks -ge 2).Count -eq 2 } 'both checks ran'
                Snap 'both pass'
                New-Item -ItemType File -Path $miscFail | Out-Null
                Wait-Until { (Entries)[0].State -eq 'Down' } 'DOWN on the MISC check'
                Snap 'misc fails'
                New-Item -ItemType File -Path $flag | Out-Null
                Wait-Until { (Entries)[0].CheckState -eq 'Down' } 'TCP check down too'
                Remove-Item $miscFail
                Wait-Until { (Entries)[1].CheckState -eq 'Up' } 'MISC check up again'
                Snap 'tcp still fails'
                Remove-Item $flag
                Wait-Until { (Entries)[0].State -eq 'Up' } 'UP with both'
                Snap 'both pass again'
                [pscustomobject]@{ Label = 'info'; TcpLoop = (Get-IpvsHealthCheck ns-multi).TcpLoop; CheckType = (Get-IpvsHealthCheck ns-multi).CheckType -join '+' }
            } finally {
                Stop-IpvsHealthCheck -All
                foreach ($f in $flag, $miscFail) { if (Test-Path $f) { Remove-Item $f } }
            }
        }.ToString().Replace('#WAIT#', $LabWait)
        $out.Errors | Should -BeNullOrEmpty
        $out.Output.Count | Should -Be 5
        $out.Output[0].State | Should -Be 'Up'
        $out.Output[0].Checks | Should -Be @('Tcp Up', 'Misc Up')
        $out.Output[1].State | Should -Be 'Down'
        $out.Output[1].Checks | Should -Be @('Tcp Up', 'Misc Down')
        $out.Output[1].Up | Should -Be 0
        $out.Output[2].State | Should -Be 'Down'
        $out.Output[2].Checks | Should -Be @('Tcp Down', 'Misc Up')
        $out.Output[3].State | Should -Be 'Up'
        $out.Output[3].Up | Should -Be 1
        $out.Output[4].TcpLoop | Should -BeFalse
        $out.Output[4].CheckType | Should -Be 'Tcp+Misc'
    }
}

Describe 'Health checks changing IPVS (real servers in namespaces)' -Tag 'Kernel', 'Root' {
    BeforeAll {
        $script:web = Join-Path ([IO.Path]::GetTempPath()) "haps-hc-$PID"
        function Invoke-Sh([string]$Command) {
            $out = & bash -c $Command 2>&1
            if ($LASTEXITCODE) { throw "'$Command' failed: $out" }
            $out
        }
        function Start-Web([int]$i) {
            Invoke-Sh "ip netns exec haps-hc$i setsid busybox httpd -p 8080 -h '$web/rs$i' </dev/null >/dev/null 2>&1 &"
            Wait-Until { (Invoke-TcpCheck -Address "192.0.2.2$i" -Port 8080 -ConnectTimeout 1).Success } 10 | Out-Null
        }
        function Stop-Web([int]$i) { & bash -c "ip netns pids haps-hc$i | xargs -r kill -9" }
        function Get-Weight([string]$Address) {
            $r = Get-IpvsService -Protocol Tcp -Address 203.0.113.20 -Port 80 | Get-IpvsRealServer -Address $Address
            if ($r) { $r.Weight } else { $null }
        }
        function Remove-Topology {
            Stop-IpvsHealthCheck -All -ErrorAction SilentlyContinue
            foreach ($i in 1, 2, 3) { & bash -c "ip netns pids haps-hc$i 2>/dev/null | xargs -r kill -9; ip netns del haps-hc$i 2>/dev/null" 2>$null }
            & bash -c 'ip link del haps-hcbr 2>/dev/null' 2>$null
            & ipvsadm -D -t 203.0.113.20:80 2>$null
            if ((Split-Path $web -Leaf) -like 'haps-hc-*' -and (Test-Path $web)) { Remove-Item -Recurse -Force -LiteralPath $web }
        }
        Remove-Topology
        foreach ($i in 1, 2, 3) { New-Item -ItemType Directory -Path "$web/rs$i" -Force | Out-Null; Set-Content "$web/rs$i/index.html" "rs$i" }
        Invoke-Sh @'
set -e
sysctl -qw net.ipv4.ip_forward=1
ip link add haps-hcbr type bridge; ip addr add 192.0.2.1/24 dev haps-hcbr; ip link set haps-hcbr up
for i in 1 2 3; do
  ip netns add haps-hc$i
  ip link add haps-hcv$i type veth peer name eth0 netns haps-hc$i
  ip link set haps-hcv$i master haps-hcbr; ip link set haps-hcv$i up
  ip -n haps-hc$i addr add 192.0.2.2$i/24 dev eth0
  ip -n haps-hc$i link set eth0 up; ip -n haps-hc$i link set lo up
  ip -n haps-hc$i route add default via 192.0.2.1
done
'@
        foreach ($i in 1, 2, 3) { Start-Web $i }
        $script:svc = New-IpvsService -Protocol Tcp -Address 203.0.113.20 -Port 80 -Scheduler wlc -PassThru
        $svc | Add-IpvsRealServer -Address 192.0.2.21 -Port 8080 -ForwardingMethod Masquerade -Weight 2
        $svc | Add-IpvsRealServer -Address 192.0.2.22 -Port 8080 -ForwardingMethod Masquerade -Weight 3
        # delay_loop + retry x delay_before_retry, plus what a check and our polling take in a TCG VM
        $script:DelayLoop = 1; $script:Retry = 1; $script:DelayBeforeRetry = 0.5
        $script:Bound = $DelayLoop + $Retry * $DelayBeforeRetry
        $script:Slack = 1.0
    }
    AfterAll { Remove-Topology }
    AfterEach {
        Stop-IpvsHealthCheck -All -ErrorAction SilentlyContinue
        Start-Web 1; Start-Web 2
        if ($null -eq (Get-Weight 192.0.2.21)) { $svc | Add-IpvsRealServer -Address 192.0.2.21 -Port 8080 -ForwardingMethod Masquerade -Weight 2 }
        if ($null -eq (Get-Weight 192.0.2.22)) { $svc | Add-IpvsRealServer -Address 192.0.2.22 -Port 8080 -ForwardingMethod Masquerade -Weight 3 }
        $svc | Get-IpvsRealServer -Address 192.0.2.21 | Set-IpvsRealServer -Weight 2
        $svc | Get-IpvsRealServer -Address 192.0.2.22 | Set-IpvsRealServer -Weight 3
        & ipvsadm -d -t 203.0.113.20:80 -r 192.0.2.23:8080 2>$null
    }

    It 'takes a real server out within delay_loop + retry x delay_before_retry and restores its weight' {
        $hc = $svc | Start-IpvsHealthCheck -Name hc-remove -DelayLoop $DelayLoop -Retry $Retry -DelayBeforeRetry $DelayBeforeRetry
        $hc.RealServers.Count | Should -Be 2
        Wait-Until { (Get-IpvsHealthCheck hc-remove).Checks -ge 4 } | Out-Null
        Get-Weight 192.0.2.21 | Should -Be 2
        Stop-Web 1
        $took = Wait-Until { $null -eq (Get-Weight 192.0.2.21) } ($Bound + 10)
        Write-Host "    removed after $([math]::Round($took, 2)) s (bound $Bound s + $Slack s slack)"
        $took | Should -BeLessOrEqual ($Bound + $Slack)
        Get-Weight 192.0.2.22 | Should -Be 3
        $down = (Get-IpvsHealthCheck hc-remove).RecentEvents | Where-Object Kind -eq 'RealServerDown'
        $down.Address | Should -Be ([ipaddress]'192.0.2.21')
        Start-Web 1
        $back = Wait-Until { (Get-Weight 192.0.2.21) -eq 2 } ($DelayLoop + 10)
        Write-Host "    back with weight 2 after $([math]::Round($back, 2)) s"
        $back | Should -BeLessOrEqual ($DelayLoop + $Slack)
        (Get-IpvsHealthCheck hc-remove -RealServer | Where-Object { $_.Address -eq [ipaddress]'192.0.2.21' }).State | Should -Be 'Up'
    }

    It 'with -InhibitOnFailure sets weight 0 instead of removing, and restores the configured weight' {
        $svc | Start-IpvsHealthCheck -Name hc-inhibit -InhibitOnFailure -DelayLoop $DelayLoop -Retry $Retry -DelayBeforeRetry $DelayBeforeRetry | Out-Null
        Wait-Until { (Get-IpvsHealthCheck hc-inhibit).Checks -ge 4 } | Out-Null
        Stop-Web 2
        $took = Wait-Until { (Get-Weight 192.0.2.22) -eq 0 } ($Bound + 10)
        Write-Host "    inhibited after $([math]::Round($took, 2)) s"
        $took | Should -BeLessOrEqual ($Bound + $Slack)
        Start-Web 2
        Wait-Until { (Get-Weight 192.0.2.22) -eq 3 } ($DelayLoop + 10) | Should -BeLessOrEqual ($DelayLoop + $Slack)
    }

    It 'brings in the sorry server when quorum is lost and removes it when quorum is back' {
        $svc | Start-IpvsHealthCheck -Name hc-quorum -Quorum 4 -SorryServer 192.0.2.23 -SorryServerPort 8080 `
            -DelayLoop $DelayLoop -Retry $Retry -DelayBeforeRetry $DelayBeforeRetry | Out-Null
        Wait-Until { (Get-IpvsHealthCheck hc-quorum).Checks -ge 4 } | Out-Null
        Get-Weight 192.0.2.23 | Should -BeNullOrEmpty
        (Get-IpvsHealthCheck hc-quorum).QuorumUp | Should -BeTrue
        Stop-Web 2   # 5 - 3 = 2 < 4
        $took = Wait-Until { (Get-Weight 192.0.2.23) -eq 1 } ($Bound + 10)
        Write-Host "    sorry server in after $([math]::Round($took, 2)) s"
        $took | Should -BeLessOrEqual ($Bound + $Slack)
        Get-Weight 192.0.2.21 | Should -BeNullOrEmpty   # UP, but out while quorum is lost
        Get-Weight 192.0.2.22 | Should -BeNullOrEmpty
        $info = Get-IpvsHealthCheck hc-quorum
        $info.QuorumUp | Should -BeFalse
        $info.SorryServerActive | Should -BeTrue
        Start-Web 2
        Wait-Until { $null -eq (Get-Weight 192.0.2.23) } ($DelayLoop + 10) | Should -BeLessOrEqual ($DelayLoop + $Slack)
        Get-Weight 192.0.2.21 | Should -Be 2
        Get-Weight 192.0.2.22 | Should -Be 3
        (Get-IpvsHealthCheck hc-quorum).RecentEvents.Kind | Should -Contain 'QuorumDown'
        (Get-IpvsHealthCheck hc-quorum).RecentEvents.Kind | Should -Contain 'QuorumUp'
    }

    It 'with -Omega removes the real servers on stop' {
        $svc | Start-IpvsHealthCheck -Name hc-omega -Omega -DelayLoop $DelayLoop | Out-Null
        Wait-Until { (Get-IpvsHealthCheck hc-omega).Checks -ge 2 } | Out-Null
        Stop-IpvsHealthCheck -Name hc-omega
        @($svc | Get-IpvsRealServer).Count | Should -Be 0
    }
}
