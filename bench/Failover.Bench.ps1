<#
.SYNOPSIS
    Failover window under continuous traffic: the demo's LVS-DR director pair with our VRRP
    (Start-VrrpInstance) and with keepalived as the pair's VRRP, same topology, same IPVS service.
.DESCRIPTION
    The topology and IPVS set-up are the demo's (demo/LvsDemo.psm1: two DR real servers with the VIP on
    lo:0 and ARP suppressed, two directors with the same IPVS table built by the cmdlets, a client). Only
    the directors' VRRP changes between series: ours in the directors' long-lived pwsh, or keepalived
    (`keepalived --vrrp`, one process per director) with the same VRID, priorities (lb1 150, lb2 100),
    interval and VIP (v2 with auth_type PASS, as ours with -AuthenticationPassword; v3 without).

    Per trial: once lb1 has been the only advertiser for a while and the client's requests are answered,
    lb1's bridge port goes down (at a random phase of the advert cycle) while the client sends an HTTP
    request through the VIP every 20 ms (timeout 250 ms, demo/client.py loop). Three figures per trial:
      takeover  cut -> lb2's first advert on the client's wire (tcpdump on the client, kernel timestamps)
      GARP      cut -> lb2's first gratuitous ARP for the VIP on the client's wire
      window    the longest time between the starts of two answered requests, from a second before the cut
                to the first answer after lb2's gratuitous ARP: the outage the client saw
    and the requests that failed in it. Then the link comes back and lb1 preempts before the next trial.
    Series: VRRPv3 at 100 ms and VRRPv2 at 1 s, each with ours and with keepalived.
    The 1-minute load average is recorded around each series: on a shared machine it moves the figures.

    On a machine whose kernel has no IPVS the script boots the kernel-lab VM and runs itself there
    (everything then runs under software emulation: absolute times are slow, the comparison is the figure).
    Needs root, keepalived, tcpdump, python3. Not a test: nothing here asserts on time.
.EXAMPLE
    dotnet pwsh ./build.ps1 Build; dotnet pwsh bench/Failover.Bench.ps1 -Trials 10
#>
param(
    [int]$Trials = 10,
    # ours, keepalived (a comma-separated string works too: pwsh -File passes 'ours,keepalived' as one)
    [string[]]$Vrrp = @('ours', 'keepalived'),
    # v3 (100 ms), v2 (1 s)
    [string[]]$Version = @('v3', 'v2'),
    [string]$ModulePath = (Join-Path $PSScriptRoot '../out/HaPowerShell'),
    [switch]$InGuest,
    [string]$ResultFile
)
$ErrorActionPreference = 'Stop'
$Vrrp = @($Vrrp -split ',' | Where-Object { $_ }); $Version = @($Version -split ',' | Where-Object { $_ })
if (@($Vrrp | Where-Object { $_ -notin 'ours', 'keepalived' }) -or @($Version | Where-Object { $_ -notin 'v3', 'v2' })) {
    throw "-Vrrp takes ours and/or keepalived, -Version v3 and/or v2 (given: $($Vrrp -join ','); $($Version -join ','))."
}
$root = Split-Path $PSScriptRoot -Parent
$ModulePath = [IO.Path]::GetFullPath($ModulePath)
if (-not (Test-Path (Join-Path $ModulePath 'HaPowerShell.psd1'))) { throw 'Build first: dotnet pwsh ./build.ps1 Build' }

if (-not $InGuest -and -not (Test-Path /proc/net/ip_vs)) {
    Import-Module (Join-Path $root 'tests/lab/KernelLab.psm1') -Force
    if (-not (Test-KernelIpvs)) {
        $pw = "'$([Environment]::ProcessPath)'" + $(if ([IO.Path]::GetFileNameWithoutExtension([Environment]::ProcessPath) -eq 'dotnet') { " '$(Join-Path $PSHOME 'pwsh.dll')'" } else { '' })
        $run = Invoke-KernelLab -WorkingDirectory $root -TimeoutSeconds 5400 -Script @"
cd '$root'
$pw -NoProfile -NonInteractive -File bench/Failover.Bench.ps1 -InGuest -Trials $Trials -Vrrp $($Vrrp -join ',') -Version $($Version -join ',') -ModulePath '$ModulePath' -ResultFile "`$LAB_OUT/failover-bench.json"
"@
        if ($run.ExitCode -ne 0) { throw "benchmark run in the VM failed (exit $($run.ExitCode)); console: $($run.ConsoleLog)" }
        if ($ResultFile) { Copy-Item (Join-Path $run.OutputDirectory 'failover-bench.json') $ResultFile }
        return
    }
}

Import-Module (Join-Path $root 'demo/LvsDemo.psm1') -Force
Import-Module (Join-Path $root 'tests/lab/NetnsLab.psm1')
$vip = '192.0.2.30'
function Get-UnixNs { ([DateTimeOffset]::UtcNow.UtcTicks - [DateTime]::UnixEpoch.Ticks) * 100L }
function Get-LoadAverage { ([IO.File]::ReadAllText('/proc/loadavg').Split(' ')[0..2]) -join ' ' }
function Get-Stat([double[]]$Ms) {
    $s = @($Ms | Sort-Object)
    if ($s.Count -eq 0) { return [pscustomobject]@{ N = 0; Median = $null; P95 = $null; Max = $null } }
    $med = if ($s.Count % 2) { $s[($s.Count - 1) / 2] } else { ($s[$s.Count / 2 - 1] + $s[$s.Count / 2]) / 2 }
    [pscustomobject]@{ N = $s.Count; Median = [math]::Round($med, 1); P95 = [math]::Round($s[[math]::Ceiling(0.95 * $s.Count) - 1], 1); Max = [math]::Round($s[-1], 1) }
}
# The continuous client's log, read incrementally (it grows by 50 lines a second): the records since the
# last call are added to $Log.Records, and the records that started after $AfterNs are returned.
function Read-Loop($Log, [long]$AfterNs = 0) {
    if (Test-Path $Log.Path) {
        $fs = [IO.FileStream]::new($Log.Path, 'Open', 'Read', 'ReadWrite')
        try {
            $null = $fs.Seek($Log.Position, 'Begin')
            $text = [IO.StreamReader]::new($fs).ReadToEnd()
        } finally { $fs.Dispose() }
        $complete = $text.LastIndexOf("`n") + 1
        $Log.Position += [Text.Encoding]::UTF8.GetByteCount($text.Substring(0, $complete))
        foreach ($line in $text.Substring(0, $complete) -split "`n") {
            $f = $line -split "`t"
            if ($f.Count -ge 4) { $Log.Records.Add([pscustomobject]@{ Start = [long]$f[0]; End = [long]$f[1]; Ok = $f[2] -eq 'ok'; What = $f[3] }) }
        }
    }
    for ($i = $Log.Records.Count - 1; $i -ge 0 -and $Log.Records[$i].Start -gt $AfterNs; $i--) { }
    for ($j = $i + 1; $j -lt $Log.Records.Count; $j++) { $Log.Records[$j] }
}

# keepalived as the pair's VRRP: one vrrp_instance like ours (VRID 51, the VIP as eth0:0, PASS at v2).
function Start-KeepalivedDirector($Lab, [string]$HostName, [int]$Priority, [int]$Ver, [double]$Interval) {
    $dir = Join-Path $Lab.WorkDirectory "keepalived-$HostName-$Ver"
    $null = New-Item -ItemType Directory -Path $dir -Force
    $auth = if ($Ver -eq 2) { "    authentication {`n        auth_type PASS`n        auth_pass lvs-demo`n    }" } else { '' }
    Set-Content -Path "$dir/keepalived.conf" -Value @"
global_defs {
    router_id $HostName
}
vrrp_instance VI_1 {
    state BACKUP
    interface eth0
    version $Ver
    virtual_router_id 51
    priority $Priority
    advert_int $Interval
$auth
    virtual_ipaddress {
        $vip/24 dev eth0 label eth0:0
    }
}
"@
    Start-LabProcess -Topology $Lab.Topology -HostName $HostName -Command keepalived -ArgumentList @('--dont-fork', '--log-console', '--vrrp',
        '-f', "$dir/keepalived.conf", '-p', "$dir/k.pid", '-r', "$dir/vrrp.pid", '-c', "$dir/check.pid")
}

function Start-Pair($Lab, [string]$Kind, [int]$Ver, [double]$Interval) {
    $pair = @{}
    foreach ($d in @(@('lb1', 150), @('lb2', 100))) {
        if ($Kind -eq 'ours') {
            $auth = if ($Ver -eq 2) { '-AuthenticationPassword (ConvertTo-SecureString lvs-demo -AsPlainText -Force)' } else { '' }
            $null = Invoke-LabAgent $Lab.Agents[$d[0]] "Start-VrrpInstance -Name VI_1 -InterfaceName eth0 -VirtualRouterId 51 -Priority $($d[1]) -Version $Ver -AdvertisementInterval $Interval $auth -VirtualIPAddress '$vip/24 label eth0:0' | Out-Null"
        } else { $pair[$d[0]] = Start-KeepalivedDirector $Lab $d[0] $d[1] $Ver $Interval }
        if ($d[0] -eq 'lb1') { $null = Wait-SoleMaster $Lab $Interval 60 }
    }
    $pair
}

function Stop-Pair($Lab, [string]$Kind, $Pair) {
    if ($Kind -eq 'ours') { foreach ($d in 'lb1', 'lb2') { $null = Invoke-LabAgent $Lab.Agents[$d] 'Get-VrrpInstance | Stop-VrrpInstance' } }
    else { foreach ($p in $Pair.Values) { $null = Stop-LabProcess $p } }
    Start-Sleep -Seconds 1
}

# Steady: for the last 3.5 intervals (at least 0.6 s) only lb1 advertised, at least 3 times.
function Wait-SoleMaster($Lab, [double]$Interval, [double]$TimeoutSeconds = 30) {
    $lb1 = $Lab.Topology.Hosts.lb1.IPv4Address
    $quiet = [math]::Max(0.6, 3.5 * $Interval)
    $deadline = [DateTime]::UtcNow.AddSeconds($TimeoutSeconds)
    do {
        $ads = @(Get-LabVrrpAdvert $Lab.Capture -AfterNanoseconds ((Get-UnixNs) - [long]($quiet * 1e9)))
        if ($ads.Count -ge 3 -and -not @($ads | Where-Object { $_.Source -ne $lb1 -or $_.Priority -eq 0 })) { return $true }
        Start-Sleep -Milliseconds 200
    } while ([DateTime]::UtcNow -lt $deadline)
    throw 'no steady state with lb1 as the only master'
}

$results = [Collections.Generic.List[object]]::new()
# Agents on the directors only (each pwsh costs a minute under the VM's emulation); the real servers'
# VIP on lo:0 and ARP suppression are plain ip/sysctl here: they are set-up, not what is measured.
$lab = New-LvsDemo -ModulePath $ModulePath -AgentHost lb1, lb2
try {
    foreach ($rs in 'rs1', 'rs2') {
        $null = Invoke-LabCommand -Topology $lab.Topology -HostName $rs -Command ip -ArgumentList 'addr', 'add', "$vip/32", 'dev', 'lo', 'label', 'lo:0'
        $null = Invoke-LabCommand -Topology $lab.Topology -HostName $rs -Command sysctl -ArgumentList '-qw', 'net.ipv4.conf.lo.arp_ignore=1', 'net.ipv4.conf.all.arp_ignore=1', 'net.ipv4.conf.lo.arp_announce=2', 'net.ipv4.conf.all.arp_announce=2'
    }
    $null = Invoke-LvsDirectorStep -Lab $lab
    $lb2 = $lab.Topology.Hosts.lb2
    foreach ($v in $Version) {
        $ver = if ($v -eq 'v3') { 3 } else { 2 }
        $interval = if ($v -eq 'v3') { 0.1 } else { 1 }
        $masterDown = 3 * $interval + (256 - 100) * $(if ($ver -eq 3) { $interval } else { 1 }) / 256
        foreach ($kind in $Vrrp) {
            $loadBefore = Get-LoadAverage
            $pair = Start-Pair $lab $kind $ver $interval
            $log = @{ Path = (Join-Path $lab.WorkDirectory "loop-$kind-$v.log"); Position = 0L; Records = [Collections.Generic.List[object]]::new() }
            $loop = Start-LabProcess -Topology $lab.Topology -HostName client -Command python3 -ArgumentList @(
                (Join-Path $root 'demo/client.py'), 'loop', $vip, '80', '0.02', $log.Path, '0.25')
            $takeover = [Collections.Generic.List[double]]::new(); $garp = [Collections.Generic.List[double]]::new()
            $window = [Collections.Generic.List[double]]::new(); $failed = [Collections.Generic.List[double]]::new()
            try {
                for ($t = 0; $t -lt $Trials; $t++) {
                    $null = Wait-SoleMaster $lab $interval 60
                    $deadline = [DateTime]::UtcNow.AddSeconds(30)
                    while (-not @(Read-Loop $log ((Get-UnixNs) - 1e9) | Where-Object Ok).Count -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 200 }
                    Start-Sleep -Milliseconds (Get-Random -Minimum 0 -Maximum ([int]($interval * 1000)))
                    $cut = Get-UnixNs
                    Set-LabLink -Topology $lab.Topology -HostName lb1 -Down
                    $cutMs = ((Get-UnixNs) - $cut) / 1e6
                    # No parsing while the takeover is due (this pwsh's CPU would delay either side).
                    Start-Sleep -Milliseconds ([int]($masterDown * 1000) + 300)
                    # Until lb2 has announced the VIP and a request started after that was answered.
                    $deadline = [DateTime]::UtcNow.AddSeconds(20)
                    do {
                        $ad = Get-LabVrrpAdvert $lab.Capture -AfterNanoseconds $cut | Where-Object { $_.Source -eq $lb2.IPv4Address -and $_.Priority -gt 0 } | Select-Object -First 1
                        $ga = Get-LabGratuitousArp $lab.Capture -AfterNanoseconds $cut | Where-Object { $_.Mac -eq $lb2.MacAddress -and $_.Address -eq $vip } | Select-Object -First 1
                        $done = $ga -and @(Read-Loop $log $ga.Ns | Where-Object Ok).Count
                        if (-not $done) { Start-Sleep -Milliseconds 200 }
                    } while (-not $done -and [DateTime]::UtcNow -lt $deadline)
                    if ($ad) { $takeover.Add(($ad.Ns - $cut) / 1e6) }
                    if ($ga) { $garp.Add(($ga.Ns - $cut) / 1e6) }
                    # The outage the client saw: the longest time between the starts of two answered requests, from
                    # a second before the cut to the first answer after lb2's gratuitous ARP (or advert). Measured
                    # this way, a cut that takes effect late (`ip link set` itself is slow on a starved machine)
                    # does not shorten it.
                    $ok = $null
                    $after = if ($ga) { $ga.Ns } elseif ($ad) { $ad.Ns } else { $cut }
                    $recent = @(Read-Loop $log ($cut - 1e9))
                    $oks = @($recent | Where-Object Ok)
                    $ok = $oks | Where-Object { $_.Start -gt $after } | Select-Object -First 1
                    if ($ok) {
                        $gap = 0L
                        for ($k = 1; $k -lt $oks.Count -and $oks[$k - 1].Start -lt $ok.Start; $k++) { $gap = [math]::Max($gap, $oks[$k].Start - $oks[$k - 1].Start) }
                        $window.Add($gap / 1e6)
                        $failed.Add(@($recent | Where-Object { -not $_.Ok -and $_.Start -le $ok.Start }).Count)
                    }
                    Write-Host ("{0,-10} {1} trial {2,2}: takeover {3,8:n1} ms, GARP {4,8:n1} ms, window {5,8:n1} ms, {6} failed requests (ip link set took {7:n1} ms)" -f $kind, $v, $t,
                        $(if ($ad) { $takeover[-1] }), $(if ($ga) { $garp[-1] }), $(if ($ok) { $window[-1] }), $(if ($ok) { $failed[-1] }), $cutMs)
                    Set-LabLink -Topology $lab.Topology -HostName lb1 -Up
                }
            } finally {
                $null = Stop-LabProcess $loop
                Stop-Pair $lab $kind $pair
            }
            $loadAfter = Get-LoadAverage
            foreach ($row in @(@('takeover', $takeover), @('GARP', $garp), @('window', $window), @('failed requests', $failed))) {
                $st = Get-Stat $row[1].ToArray()
                $results.Add([pscustomobject]@{ Version = $v; Vrrp = $kind; Figure = $row[0]; N = $st.N; Median = $st.Median; P95 = $st.P95; Max = $st.Max
                        Bound = if ($row[0] -eq 'takeover') { [math]::Round($masterDown * 1000, 1) } else { $null }; Load = "$loadBefore -> $loadAfter" })
            }
        }
    }
} finally {
    Remove-LvsDemo $lab
}
$results | Format-Table Version, Vrrp, Figure, N, Median, P95, Max, Bound, Load -AutoSize | Out-String -Width 200 | Write-Host
if ($ResultFile) { $results | ConvertTo-Json | Set-Content $ResultFile }
