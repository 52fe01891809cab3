# VRRP timing benchmark: HaPowerShell's VRRP engine side by side with keepalived, in network namespaces.
# Not a test. Needs root, keepalived, tcpdump, iproute2 (bridge), busybox. Run from the repository root:
#   dotnet pwsh ./build.ps1 Build
#   dotnet pwsh -c './bench/Vrrp.Bench.ps1 -Trials 20 [-Series LinkCut,LinkCutV2,Handover,Load] [-RealtimePriority N] [-Backup ours|keepalived]'
# (-c, not -File: -File passes "LinkCut,LinkCutV2" as one string.) -RealtimePriority N runs both sides' VRRP
# threads SCHED_RR N (-EngineRealtimePriority / vrrp_rt_priority). While a takeover is due the bench sleeps
# rather than parse its capture, so its own CPU use does not delay either side.
#
# Series use VRRPv3 at 100 ms (IPv4) on a lab bridge (tests/lab/NetnsLab.psm1) unless named V2: master on
# lb1 (priority 200), backup on lb2 (priority 100), a packet capture on the third namespace (client) with
# nanosecond kernel receive timestamps. Every time below is computed from that capture and from the
# wall clock of this host (same clock, same machine). The load average (/proc/loadavg) is recorded
# before and after each series: other work on the machine disturbs the figures.
#
#   LinkCut   keepalived master on lb1; lb1's bridge port is set down (Set-LabLink -Down, carrier lost).
#             Time from just before the cut to the backup's first advert (priority > 0) seen by the client.
#             Series 'ours' (backup = Start-VrrpInstance) and 'keepalived' (backup = keepalived).
#             RFC 5798 bound: the backup goes Master Master_Down_Interval = 3 x 100 ms + (256 - 100) x
#             100 ms / 256 = 360.9 ms after the LAST advert it received, which is 0-100 ms before the cut.
#             Two more figures from the same trials: 'LastToFirst', from the old master's last advert on
#             the wire to the new master's first (independent of the cut's phase; bound: Master_Down_Interval),
#             and 'FirstGarp', from the new master's first advert to its first gratuitous ARP for the VIP.
#   LinkCutV2 the same with VRRPv2 at 1 s adverts: Master_Down_Interval = 3 s + 156/256 s = 3609.4 ms.
#   Handover  graceful stop of the master: from the master's priority-0 advert to the backup's first advert.
#             Series 'ours' (Stop-VrrpInstance on lb1, keepalived backup on lb2) and 'keepalived'
#             (SIGTERM to keepalived on lb1, our backup on lb2). RFC bound: Skew_Time = 60.9 ms.
#   Load      50 instances at 100 ms, all Master (no peer): CPU (utime + stime) and RSS (VmRSS) from /proc
#             over -LoadSeconds, ours in one pwsh vs one keepalived with 50 vrrp_instances.
[CmdletBinding()]
param(
    [int]$Trials = 20,
    [ValidateSet('LinkCut', 'LinkCutV2', 'Handover', 'Load')][string[]]$Series = @('LinkCut', 'LinkCutV2', 'Handover', 'Load'),
    [int]$LoadInstances = 50,
    [int]$LoadSeconds = 20,
    [string]$ModulePath = (Join-Path $PSScriptRoot '../out/HaPowerShell'),
    # Both sides' VRRP threads real-time (SCHED_RR): -EngineRealtimePriority for ours, vrrp_rt_priority for keepalived.
    [ValidateRange(1, 99)][int]$RealtimePriority,
    # Which backups to time in LinkCut/LinkCutV2/Handover (both by default; one side alone is for quick iterations, not for comparisons).
    [ValidateSet('ours', 'keepalived')][string[]]$Backup = @('ours', 'keepalived')
)
$ErrorActionPreference = 'Stop'
Import-Module (Join-Path $PSScriptRoot '../tests/lab/NetnsLab.psm1') -Force
if (-not (Test-LabEnvironment)) { throw 'Needs root and the NetnsLab tools.' }
$ModulePath = (Resolve-Path $ModulePath).Path
$Runner = Join-Path $PSScriptRoot '../tests/pester/VrrpRunner.ps1'
$Work = Join-Path ([IO.Path]::GetTempPath()) ("haps-vrrpbench-" + [guid]::NewGuid().ToString('n').Substring(0, 8))
$null = New-Item -ItemType Directory -Path $Work
$PwshHost = [Environment]::ProcessPath
$PwshArgs = @(if ([IO.Path]::GetFileNameWithoutExtension($PwshHost) -eq 'dotnet') { "$PSHOME/pwsh.dll" })
$Interval = 0.1; $BackupPriority = 100
$MasterDown = 3 * $Interval + (256 - $BackupPriority) * $Interval / 256
$Skew = (256 - $BackupPriority) * $Interval / 256

function Read-Text($P) { $t = ''; foreach ($f in $P.StdOutPath, $P.StdErrPath) { if (Test-Path $f) { $t += [IO.File]::ReadAllText($f) } }; $t }
function Get-UnixNs { ([DateTimeOffset]::UtcNow.UtcTicks - [DateTime]::UnixEpoch.Ticks) * 100L }

function Start-Keepalived($Topo, [string]$HostName, [int]$Vrid, [int]$Priority, [string]$Vip, [int]$Count = 1, [int]$Version = 3, [double]$Advert = $Interval) {
    $dir = Join-Path $Work "$($Topo.Id)-$HostName-$Vrid-$([guid]::NewGuid().ToString('n').Substring(0, 4))"
    $null = New-Item -ItemType Directory -Path $dir
    $inst = for ($i = 0; $i -lt $Count; $i++) {
        $v = if ($Count -eq 1) { $Vip } else { "198.51.100.$($i + 1)/24" }
        "vrrp_instance VI_$($Vrid + $i) {`n    state BACKUP`n    interface eth0`n    version $Version`n    virtual_router_id $($Vrid + $i)`n    priority $Priority`n    advert_int $Advert`n    virtual_ipaddress {`n        $v`n    }`n}"
    }
    $rt = if ($RealtimePriority) { "`n    vrrp_rt_priority $RealtimePriority" } else { '' }
    $conf = "global_defs {`n    router_id $HostName`n    vrrp_garp_master_delay 0$rt`n}`n" + ($inst -join "`n")
    Set-Content -Path (Join-Path $dir 'keepalived.conf') -Value $conf
    Start-LabProcess -Topology $Topo -HostName $HostName -Command keepalived -ArgumentList @(
        '--dont-fork', '--log-console', '--vrrp', '-f', (Join-Path $dir 'keepalived.conf'),
        '-p', (Join-Path $dir 'k.pid'), '-r', (Join-Path $dir 'vrrp.pid'), '-c', (Join-Path $dir 'check.pid'))
}

function Start-Ours($Topo, [string]$HostName, [hashtable]$Parameters) {
    if ($RealtimePriority) { $Parameters = $Parameters + @{ EngineRealtimePriority = $RealtimePriority } }
    $ctl = Join-Path $Work "$($Topo.Id)-$HostName-ctl-$([guid]::NewGuid().ToString('n').Substring(0, 6))"
    $null = New-Item -ItemType Directory -Path $ctl
    $p = Start-LabProcess -Topology $Topo -HostName $HostName -Command $PwshHost -ArgumentList (
        @($PwshArgs) + @('-NoProfile', '-NonInteractive', '-File', $Runner, $ModulePath, $ctl, ($Parameters | ConvertTo-Json -Compress)))
    $p | Add-Member -NotePropertyName ControlDirectory -NotePropertyValue $ctl -PassThru
}

function Invoke-Ours($P, [string]$Text, [double]$TimeoutSeconds = 15) {
    $before = (Read-Text $P).Length
    $tmp = Join-Path $P.ControlDirectory 'cmd.tmp'
    Set-Content -Path $tmp -Value $Text
    Move-Item -Path $tmp -Destination (Join-Path $P.ControlDirectory 'cmd') -Force
    $deadline = [DateTime]::UtcNow.AddSeconds($TimeoutSeconds)
    do {
        $new = (Read-Text $P).Substring($before)
        $m = [regex]::Match($new, '(?ms)^(RESULT|ERROR) (.*?)(?=^\w+ |\z)')
        if ($m.Success) { if ($m.Groups[1].Value -eq 'ERROR') { throw $m.Groups[2].Value.Trim() }; return $m.Groups[2].Value.Trim() }
        Start-Sleep -Milliseconds 50
    } while ([DateTime]::UtcNow -lt $deadline)
    throw "no answer to: $Text"
}

# The backup must be up and listening before a trial: ours answers only once its instance runs (the
# runner starts it before reading commands), then must be Backup having heard the master; keepalived
# must have logged BACKUP.
function Wait-BackupReady($P, [string]$Kind, [int]$Vrid) {
    $deadline = [DateTime]::UtcNow.AddSeconds(20)
    do {
        if ($Kind -eq 'ours') {
            $r = Invoke-Ours $P "`$i = Get-VrrpInstance VI_$Vrid; '{0} {1}' -f `$i.State, (`$i.AdvertisementsReceived -gt 2)"
            if ($r -eq 'Backup True') { return }
        } elseif ((Read-Text $P) -match 'Entering BACKUP STATE') { return }
        Start-Sleep -Milliseconds 200
    } while ([DateTime]::UtcNow -lt $deadline)
    throw "$Kind backup not ready"
}

function Stop-Ours($P) {
    if (-not $P -or $P.Process.HasExited) { return }
    $null = New-Item -ItemType File -Path (Join-Path $P.ControlDirectory 'quit') -Force
    $null = $P.Process.WaitForExit(10000)
    $null = Stop-LabProcess $P
}

# IPv4 VRRP adverts in a capture: receive time (ns), source, VRID, priority.
function Get-Advert($Capture, [long]$AfterNs = 0) {
    foreach ($f in @(Read-LabCapture $Capture)) {
        if ($f.UnixNanoseconds -le $AfterNs) { continue }
        $b = $f.Bytes
        if ($b.Length -lt 34 -or $b[12] -ne 8 -or $b[13] -ne 0 -or $b[23] -ne 112) { continue }
        $v = 14 + 4 * ($b[14] -band 0x0f)
        if ($b.Length -lt $v + 3) { continue }
        [pscustomobject]@{ Ns = $f.UnixNanoseconds; Source = '{0}.{1}.{2}.{3}' -f $b[26], $b[27], $b[28], $b[29]; Vrid = [int]$b[$v + 1]; Priority = [int]$b[$v + 2] }
    }
}

# Gratuitous ARPs (sender address = target address) in a capture: receive time (ns), sender MAC, address.
function Get-Garp($Capture, [long]$AfterNs = 0) {
    foreach ($f in @(Read-LabCapture $Capture)) {
        if ($f.UnixNanoseconds -le $AfterNs) { continue }
        $b = $f.Bytes
        if ($b.Length -lt 42 -or $b[12] -ne 8 -or $b[13] -ne 6) { continue }
        $spa = '{0}.{1}.{2}.{3}' -f $b[28], $b[29], $b[30], $b[31]
        $tpa = '{0}.{1}.{2}.{3}' -f $b[38], $b[39], $b[40], $b[41]
        if ($spa -ne $tpa) { continue }
        [pscustomobject]@{ Ns = $f.UnixNanoseconds; Mac = ($b[22..27] | ForEach-Object { $_.ToString('x2') }) -join ':'; Address = $spa }
    }
}

function Get-LoadAverage { ([IO.File]::ReadAllText('/proc/loadavg').Split(' ')[0..2]) -join ' ' }

# Waits until $Condition (given the adverts after $AfterNs) returns something; returns it or $null.
function Wait-Advert($Capture, [long]$AfterNs, [scriptblock]$Condition, [double]$TimeoutSeconds = 5) {
    $deadline = [DateTime]::UtcNow.AddSeconds($TimeoutSeconds)
    do {
        $r = & $Condition @(Get-Advert $Capture $AfterNs)
        if ($r) { return $r }
        Start-Sleep -Milliseconds 50
    } while ([DateTime]::UtcNow -lt $deadline)
    $null
}

# Steady state: for the last $QuietSeconds only $Source advertised (and at least a few times).
function Wait-SoleMaster($Capture, [string]$Source, [double]$QuietSeconds = 0.6, [double]$TimeoutSeconds = 10) {
    $deadline = [DateTime]::UtcNow.AddSeconds($TimeoutSeconds)
    do {
        $since = (Get-UnixNs) - [long]($QuietSeconds * 1e9)
        $ads = @(Get-Advert $Capture $since)
        if ($ads.Count -ge 3 -and -not @($ads | Where-Object { $_.Source -ne $Source -or $_.Priority -eq 0 })) { return $true }
        Start-Sleep -Milliseconds 100
    } while ([DateTime]::UtcNow -lt $deadline)
    throw "no steady state with $Source as the only Master"
}

function Get-Stat([double[]]$Ms) {
    $s = @($Ms | Sort-Object)
    if ($s.Count -eq 0) { return [pscustomobject]@{ N = 0; Min = $null; Median = $null; P95 = $null; Max = $null } }
    $med = if ($s.Count % 2) { $s[($s.Count - 1) / 2] } else { ($s[$s.Count / 2 - 1] + $s[$s.Count / 2]) / 2 }
    [pscustomobject]@{ N = $s.Count; Min = $s[0]; Median = $med; P95 = $s[[math]::Ceiling(0.95 * $s.Count) - 1]; Max = $s[-1] }
}

$results = [System.Collections.Generic.List[object]]::new()
function Add-Result([string]$Name, [string]$Backup, [double[]]$Ms, [double]$BoundMs, [string]$Note = '') {
    $st = Get-Stat $Ms
    $results.Add([pscustomobject]@{ Series = $Name; Backup = $Backup; N = $st.N; MinMs = $st.Min; MedianMs = $st.Median; P95Ms = $st.P95; MaxMs = $st.Max; BoundMs = [math]::Round($BoundMs, 1); Note = $Note })
    Write-Host ("{0,-21} backup={1,-10} n={2,2} min={3,7:n2} median={4,7:n2} p95={5,7:n2} max={6,7:n2} ms (bound {7:n1} ms) {8}" -f $Name, $Backup, $st.N, $st.Min, $st.Median, $st.P95, $st.Max, $BoundMs, $Note)
}

try {
    # ---------------------------------------------------------------- link cut (loss of the master)
    function Measure-LinkCut([string]$Label, [int]$Version, [double]$Advert) {
        $down = 3 * $Advert + (256 - $BackupPriority) * $(if ($Version -eq 2) { 1 } else { $Advert }) / 256
        $quiet = [math]::Max(0.6, 3.5 * $Advert)   # steady state: at least three adverts from the master alone
        foreach ($backupKind in @('ours', 'keepalived' | Where-Object { $_ -in $Backup })) {
            $topo = New-LabTopology -Hosts 'lb1', 'lb2', 'client'
            $o = $null
            $load = Get-LoadAverage
            try {
                $vipAddress = '192.0.2.100'; $vip = "$vipAddress/24"; $vrid = 71
                $lb1 = $topo.Hosts.lb1.IPv4Address; $lb2 = $topo.Hosts.lb2.IPv4Address
                $lb2Mac = $topo.Hosts.lb2.MacAddress
                $cap = Start-LabCapture -Topology $topo -HostName client -Filter 'ip proto 112 or arp'
                $null = Start-Keepalived $topo lb1 $vrid 200 $vip -Version $Version -Advert $Advert
                if ($backupKind -eq 'ours') {
                    $o = Start-Ours $topo lb2 @{ Name = "VI_$vrid"; InterfaceName = 'eth0'; VirtualRouterId = $vrid; Priority = $BackupPriority
                        Version = $Version; AdvertisementInterval = $Advert; VirtualIPAddress = @($vip); GarpMasterDelay = 0 }
                    $b = $o
                } else { $b = Start-Keepalived $topo lb2 $vrid $BackupPriority $vip -Version $Version -Advert $Advert }
                $null = Wait-SoleMaster $cap $lb1 $quiet 30
                Wait-BackupReady $b $backupKind $vrid
                $ms = [System.Collections.Generic.List[double]]::new(); $cutCost = [System.Collections.Generic.List[double]]::new()
                $fromLast = [System.Collections.Generic.List[double]]::new(); $garp = [System.Collections.Generic.List[double]]::new()
                for ($t = 0; $t -lt $Trials; $t++) {
                    $null = Wait-SoleMaster $cap $lb1 $quiet 30
                    Start-Sleep -Milliseconds (Get-Random -Minimum 0 -Maximum ([int]($Advert * 1000)))   # cut at a random phase of the advert cycle
                    $cut = Get-UnixNs
                    Set-LabLink -Topology $topo -HostName lb1 -Down
                    $cutCost.Add(((Get-UnixNs) - $cut) / 1e6)
                    # Parsing the capture costs this pwsh tens of milliseconds of CPU on a machine of two cores:
                    # none of it while a takeover is due (it comes at most Master_Down_Interval after the cut).
                    Start-Sleep -Milliseconds ([math]::Max(0, [int]($down * 1000) + 30 - [int](((Get-UnixNs) - $cut) / 1e6)))   # a starved machine may already be past it
                    $first = Wait-Advert $cap $cut { param($a) $a | Where-Object { $_.Source -eq $lb2 -and $_.Priority -gt 0 } | Select-Object -First 1 } ($down + 2)
                    if ($first) {
                        $ms.Add(($first.Ns - $cut) / 1e6)
                        # the old master's last advert on the wire: it may leave after $cut, while `ip link set` runs
                        $last = @(Get-Advert $cap ($cut - [long](2 * $Advert * 1e9)) | Where-Object { $_.Source -eq $lb1 -and $_.Ns -lt $first.Ns })[-1]
                        if ($last) { $fromLast.Add(($first.Ns - $last.Ns) / 1e6) }
                        $g = $null
                        $deadline = [DateTime]::UtcNow.AddSeconds(2)
                        while (-not $g -and [DateTime]::UtcNow -lt $deadline) {
                            $g = Get-Garp $cap ($first.Ns - 1) | Where-Object { $_.Mac -eq $lb2Mac -and $_.Address -eq $vipAddress } | Select-Object -First 1
                            if (-not $g) { Start-Sleep -Milliseconds 50 }
                        }
                        if ($g) { $garp.Add(($g.Ns - $first.Ns) / 1e6) } else { Write-Warning "trial $t ($backupKind): no gratuitous ARP seen" }
                        Write-Verbose ("{0} {1} trial {2}: {3:n1} ms from the cut, {4:n1} ms from the last advert, first GARP {5:n3} ms after the first advert" -f $Label, $backupKind, $t, $ms[-1], $fromLast[-1], $garp[-1])
                    } else { Write-Warning "trial $t ($backupKind): no takeover seen" }
                    Set-LabLink -Topology $topo -HostName lb1 -Up
                }
                $note = "(ip link set median {0:n1} ms; load {1} -> {2})" -f (Get-Stat $cutCost.ToArray()).Median, $load, (Get-LoadAverage)
                Add-Result $Label $backupKind $ms.ToArray() ($down * 1000) $note
                Add-Result "$Label/LastToFirst" $backupKind $fromLast.ToArray() ($down * 1000)
                Add-Result "$Label/FirstGarp" $backupKind $garp.ToArray() 1
            } finally {
                Stop-Ours $o
                Remove-LabTopology -Topology $topo
            }
        }
    }
    if ('LinkCut' -in $Series) { Measure-LinkCut 'LinkCut' 3 $Interval }
    if ('LinkCutV2' -in $Series) { Measure-LinkCut 'LinkCutV2' 2 1 }

    # ---------------------------------------------------------------- graceful handover
    if ('Handover' -in $Series) {
        foreach ($backupKind in @('keepalived', 'ours' | Where-Object { $_ -in $Backup })) {
            $topo = New-LabTopology -Hosts 'lb1', 'lb2', 'client'
            $o = $null; $k = $null
            try {
                $vip = '192.0.2.101/24'; $vrid = 72
                $lb1 = $topo.Hosts.lb1.IPv4Address; $lb2 = $topo.Hosts.lb2.IPv4Address
                $cap = Start-LabCapture -Topology $topo -HostName client -Filter 'ip proto 112'
                $masterArgs = "-Name VI_$vrid -InterfaceName eth0 -VirtualRouterId $vrid -Priority 200 -Version 3 -AdvertisementInterval $Interval -VirtualIPAddress $vip -GarpMasterDelay 0"
                if ($backupKind -eq 'keepalived') {
                    # our master on lb1 (restarted inside the same pwsh each trial), keepalived backup on lb2
                    $o = Start-Ours $topo lb1 @{ Name = "VI_$vrid"; InterfaceName = 'eth0'; VirtualRouterId = $vrid; Priority = 200
                        Version = 3; AdvertisementInterval = $Interval; VirtualIPAddress = @($vip); GarpMasterDelay = 0 }
                    $k = Start-Keepalived $topo lb2 $vrid $BackupPriority $vip
                } else {
                    $o = Start-Ours $topo lb2 @{ Name = "VI_$vrid"; InterfaceName = 'eth0'; VirtualRouterId = $vrid; Priority = $BackupPriority
                        Version = 3; AdvertisementInterval = $Interval; VirtualIPAddress = @($vip); GarpMasterDelay = 0 }
                }
                $ms = [System.Collections.Generic.List[double]]::new()
                for ($t = 0; $t -lt $Trials; $t++) {
                    if ($backupKind -eq 'ours') { $k = Start-Keepalived $topo lb1 $vrid 200 $vip }
                    $null = Wait-SoleMaster $cap $lb1 0.6 15
                    if ($t -eq 0) { Wait-BackupReady $(if ($backupKind -eq 'ours') { $o } else { $k }) $backupKind $vrid }
                    Start-Sleep -Milliseconds (Get-Random -Minimum 0 -Maximum 100)
                    $stop = Get-UnixNs
                    if ($backupKind -eq 'keepalived') { $null = Invoke-Ours $o "Stop-VrrpInstance VI_$vrid" } else { $null = Stop-LabProcess $k }
                    Start-Sleep -Milliseconds 150   # no capture parsing while the handover is due (Skew_Time after the stop)
                    $pair = Wait-Advert $cap $stop {
                        param($a)
                        $zero = $a | Where-Object { $_.Source -eq $lb1 -and $_.Priority -eq 0 } | Select-Object -First 1
                        if ($zero) {
                            $new = $a | Where-Object { $_.Source -eq $lb2 -and $_.Priority -gt 0 -and $_.Ns -gt $zero.Ns } | Select-Object -First 1
                            if ($new) { , @($zero, $new) }
                        }
                    } 5
                    if ($pair) {
                        $ms.Add(($pair[1].Ns - $pair[0].Ns) / 1e6)
                        Write-Verbose ("Handover {0} trial {1}: {2:n1} ms; adverts from the stop on: {3}" -f $backupKind, $t, $ms[-1], ((@(Get-Advert $cap $stop) | Where-Object Ns -le $pair[1].Ns |
                            ForEach-Object { '{0}/{1}@{2:n1}' -f $_.Source.Split('.')[-1], $_.Priority, (($_.Ns - $stop) / 1e6) }) -join ' '))
                    } else { Write-Warning "trial $t ($backupKind): no priority-0 handover seen" }
                    if ($backupKind -eq 'keepalived') { $null = Invoke-Ours $o "Start-VrrpInstance $masterArgs | Out-Null; 'ok'" }
                }
                Add-Result 'Handover' $backupKind $ms.ToArray() ($Skew * 1000) $(if ($backupKind -eq 'keepalived') { '(master: ours, Stop-VrrpInstance)' } else { '(master: keepalived, SIGTERM)' })
            } finally {
                Stop-Ours $o
                if ($k) { $null = Stop-LabProcess $k }
                Remove-LabTopology -Topology $topo
            }
        }
    }

    # ---------------------------------------------------------------- 50 instances: CPU and RSS
    if ('Load' -in $Series) {
        $hz = 100   # USER_HZ
        $pageKb = 4
        function Get-ProcSample([int[]]$Pids) {
            $ticks = 0L; $rss = 0L
            foreach ($p in $Pids) {
                $stat = [IO.File]::ReadAllText("/proc/$p/stat")
                $f = $stat.Substring($stat.LastIndexOf(')') + 2).Split(' ')
                $ticks += [long]$f[11] + [long]$f[12]   # utime, stime (fields 14, 15)
                $m = [regex]::Match([IO.File]::ReadAllText("/proc/$p/status"), 'VmRSS:\s+(\d+)')
                $rss += [long]$m.Groups[1].Value
            }
            [pscustomobject]@{ Ticks = $ticks; RssKb = $rss; Ns = Get-UnixNs }
        }
        function Measure-Load([string]$Name, [int[]]$Pids, $Cap, [long]$FromNs) {
            $a = Get-ProcSample $Pids
            Start-Sleep -Seconds $LoadSeconds
            $b = Get-ProcSample $Pids
            $sec = ($b.Ns - $a.Ns) / 1e9
            $ads = @(Get-Advert $Cap $a.Ns | Where-Object { $_.Ns -le $b.Ns }).Count
            $row = [pscustomobject]@{ Side = $Name; Instances = $LoadInstances; Seconds = [math]::Round($sec, 1)
                CpuCores = [math]::Round(($b.Ticks - $a.Ticks) / $hz / $sec, 4); RssMiB = [math]::Round($b.RssKb / 1024, 1)
                AdvertsPerSecond = [math]::Round($ads / $sec, 1) }
            Write-Host ("Load      {0,-10} {1} instances: CPU {2:n4} cores, RSS {3:n1} MiB, {4:n1} adverts/s seen by the client" -f $Name, $LoadInstances, $row.CpuCores, $row.RssMiB, $row.AdvertsPerSecond)
            $results.Add($row)
        }
        $topo = New-LabTopology -Hosts 'lb1', 'client'
        $o = $null; $k = $null
        try {
            $cap = Start-LabCapture -Topology $topo -HostName client -Filter 'ip proto 112'
            # ours: one pwsh with 50 instances, all Master (no peer); pids = the pwsh process
            $o = Start-Ours $topo lb1 @{ Name = 'VI_1'; InterfaceName = 'eth0'; VirtualRouterId = 1; Priority = 100
                Version = 3; AdvertisementInterval = $Interval; VirtualIPAddress = @('198.51.100.1/24'); GarpMasterDelay = 0 }
            $cmd = "2..$LoadInstances | ForEach-Object { Start-VrrpInstance -Name ""VI_`$_"" -InterfaceName eth0 -VirtualRouterId `$_ -Priority 100 -Version 3 -AdvertisementInterval $Interval -VirtualIPAddress ""198.51.100.`$_/24"" -GarpMasterDelay 0 | Out-Null }; @(Get-VrrpInstance).Count"
            $n = Invoke-Ours $o $cmd 60
            if ([int]$n -ne $LoadInstances) { throw "ours: $n instances" }
            Start-Sleep -Seconds 3   # all Master (Master_Down_Interval), GARP bursts done
            Measure-Load 'ours' @($o.Pid) $cap
            Stop-Ours $o; $o = $null
            Start-Sleep -Seconds 1
            # keepalived: parent + VRRP child
            $k = Start-Keepalived $topo lb1 1 100 '' $LoadInstances
            Start-Sleep -Seconds 4
            $kids = @(Get-ChildItem /proc -Directory | Where-Object { $_.Name -match '^\d+$' } | ForEach-Object {
                try { $s = [IO.File]::ReadAllText("/proc/$($_.Name)/stat"); $ppid = [int]$s.Substring($s.LastIndexOf(')') + 2).Split(' ')[1]; if ($ppid -eq $k.Pid) { [int]$_.Name } } catch { } })
            Measure-Load 'keepalived' (@($k.Pid) + $kids) $cap
        } finally {
            Stop-Ours $o
            if ($k) { $null = Stop-LabProcess $k }
            Remove-LabTopology -Topology $topo
        }
    }
} finally {
    if (Test-Path $Work) { Remove-Item -Recurse -Force $Work }
}
"`nRFC bounds (v3, 100 ms, backup priority $BackupPriority): Master_Down_Interval {0:n1} ms, Skew_Time {1:n1} ms; VRRP threads: {2}" -f ($MasterDown * 1000), ($Skew * 1000), $(if ($RealtimePriority) { "SCHED_RR $RealtimePriority (both)" } else { 'normal scheduling (both)' })
$results | Where-Object { $_.PSObject.Properties['Series'] } | Format-Table -AutoSize | Out-String -Width 200
$results | Where-Object { $_.PSObject.Properties['Side'] } | Format-Table -AutoSize | Out-String -Width 200
