# hapd benchmark: the daemon side by side with keepalived (Debian 2.2.7, --vrrp) on the same keepalived.conf, in
# network namespaces. Not a test. Needs root, keepalived, tcpdump, iproute2. Run from the repository root:
#   dotnet pwsh ./build.ps1 Build
#   dotnet pwsh -c './bench/Hapd.Bench.ps1 -Trials 5 [-Series Memory,FirstAdvert,Cpu]'
#
#   Memory       resident memory (VmRSS; keepalived: its parent and VRRP child summed) of 1 instance (v2, 1 s) and of
#                50 instances (v3, 100 ms), all Master (no peer), after -SettleSeconds.
#   FirstAdvert  from just before exec (this host's clock) to the first advert the client's capture receives (kernel
#                timestamp, same clock), for an address owner (priority 255 and state MASTER: both sides advertise
#                at once, no Master_Down wait). The exec goes through sh and 'ip netns exec' for both sides alike.
#   Cpu          50 instances at 100 ms (v3), all Master: CPU (utime + stime, all processes) over -CpuSeconds.
#   Ipvs         a keepalived.conf of -Services virtual servers (TCP, rr, NAT, 2 real servers each, no checkers) started
#                with hapd -C: the time hapd reports for programming IPVS against `ipvsadm -R` of the same table (timed
#                inside bash), twice per trial: each side in a namespace of its own whose table never held the services
#                (a start at boot), and in one namespace after `ipvsadm -C` (a restart: the flushed real servers wait in
#                IPVS's trash list, and every addition searches it). After the second, a SIGHUP reload of the same file
#                with 1% of the services' first real server at weight 2: hapd's reported time and changes sent; then
#                a restart: hapd stopped (it removes its services, as keepalived does) and started again at once on the
#                same file. Needs IPVS: on a host without it this series runs itself in the kernel-lab VM.
#   Checkers     -CheckedRealServers real servers (10 per virtual server, NAT) each with a TCP_CHECK every second,
#                against a listener in the client namespace, started with hapd -C and keepalived --check: resident
#                memory (all processes summed) after -SettleSeconds, then CPU over -CpuSeconds and memory again. Needs IPVS (the VM, as
#                Ipvs).
# Each figure is the median over -Trials; the load average (/proc/loadavg) is printed with each series: other work on
# the machine disturbs the figures. Memory is read after -SettleSeconds (default 15: past the start's burst and the
# collection hapd runs when it goes quiet, so the figure is the daemon's steady state).
[CmdletBinding()]
param(
    [int]$Trials = 5,
    [string[]]$Series = @('Memory', 'FirstAdvert', 'Cpu'),
    [int]$Services = 10000,
    [int]$CheckedRealServers = 500,
    [switch]$InGuest,
    [string]$ResultFile,
    [int]$SettleSeconds = 15,
    [int]$CpuSeconds = 20,
    [string]$ModulePath = (Join-Path $PSScriptRoot '../out/HaPowerShell')
)
$ErrorActionPreference = 'Stop'
$Series = @($Series -split ',' | Where-Object { $_ })  # 'A,B' arrives as one string through pwsh -File (the VM's run)
$known = 'Memory', 'FirstAdvert', 'Cpu', 'Ipvs', 'Checkers'
foreach ($s in $Series) { if ($s -notin $known) { throw "Unknown series '$s': the series are $($known -join ', ')." } }
$kernelSeries = @($Series | Where-Object { $_ -in 'Ipvs', 'Checkers' })
if ($kernelSeries -and -not $InGuest -and -not (Test-Path /proc/net/ip_vs)) {
    Import-Module (Join-Path $PSScriptRoot '../tests/lab/KernelLab.psm1') -Force
    if (-not (Test-KernelIpvs)) {
        # This kernel has no IPVS: the Ipvs and Checkers series run in the kernel-lab VM; the others here.
        $root = Split-Path $PSScriptRoot -Parent
        $pw = "'$([Environment]::ProcessPath)'" + $(if ([IO.Path]::GetFileNameWithoutExtension([Environment]::ProcessPath) -eq 'dotnet') { " '$(Join-Path $PSHOME 'pwsh.dll')'" } else { '' })
        $run = Invoke-KernelLab -WorkingDirectory $root -TimeoutSeconds 3600 -Script @"
cd '$root'
$pw -NoProfile -NonInteractive -File bench/Hapd.Bench.ps1 -InGuest -Series $($kernelSeries -join ',') -Services $Services -CheckedRealServers $CheckedRealServers -SettleSeconds $SettleSeconds -CpuSeconds $CpuSeconds -Trials $Trials -ModulePath '$([IO.Path]::GetFullPath($ModulePath))' -ResultFile "`$LAB_OUT/hapd-ipvs.json"
"@
        if ($run.ExitCode -ne 0) { throw "the $($kernelSeries -join ' and ') series in the VM failed (exit $($run.ExitCode)); console: $($run.ConsoleLog)" }
        $guestRows = Get-Content -Raw (Join-Path $run.OutputDirectory 'hapd-ipvs.json') | ConvertFrom-Json
        $Series = @($Series | Where-Object { $_ -notin $kernelSeries })
        if (-not $Series) { if ($ResultFile) { $guestRows | ConvertTo-Json -Depth 4 | Set-Content $ResultFile }; return $guestRows }
    }
}
Import-Module (Join-Path $PSScriptRoot '../tests/lab/NetnsLab.psm1') -Force
if (-not (Test-LabEnvironment)) { throw 'Needs root and the NetnsLab tools.' }
$Hapd = (Resolve-Path (Join-Path $ModulePath 'hapd/hapd')).Path
$Work = Join-Path ([IO.Path]::GetTempPath()) ("haps-hapdbench-" + [guid]::NewGuid().ToString('n').Substring(0, 8))
$null = New-Item -ItemType Directory -Path $Work
$results = [System.Collections.Generic.List[object]]::new()

function Get-UnixNs { ([DateTimeOffset]::UtcNow.UtcTicks - [DateTime]::UnixEpoch.Ticks) * 100L }
function Get-LoadAverage { ([IO.File]::ReadAllText('/proc/loadavg').Split(' ')[0..2]) -join ' ' }
function Get-Median([double[]]$Values) {
    $s = @($Values | Sort-Object)
    if ($s.Count -eq 0) { return [double]::NaN }
    if ($s.Count % 2) { $s[[int][math]::Floor($s.Count / 2)] } else { ($s[$s.Count / 2 - 1] + $s[$s.Count / 2]) / 2 }
}

# A keepalived.conf with $Count instances (VRID 1..Count), no peer.
function New-Config([int]$Count, [int]$Version, [string]$Interval, [int]$Priority) {
    $blocks = for ($i = 1; $i -le $Count; $i++) {
        "vrrp_instance VI_$i {`n    state $(if ($Priority -eq 255) { 'MASTER' } else { 'BACKUP' })`n    interface eth0`n    version $Version`n    virtual_router_id $i`n    priority $Priority`n    advert_int $Interval`n    virtual_ipaddress {`n        198.51.100.$i/24`n    }`n}"
    }
    $path = Join-Path $Work "c-$Count-$Version-$Priority-$([guid]::NewGuid().ToString('n').Substring(0, 4)).conf"
    Set-Content -Path $path -Value ("global_defs {`n    router_id bench`n    vrrp_garp_master_delay 0`n}`n" + ($blocks -join "`n"))
    $path
}

function Start-Side($Topo, [string]$Side, [string]$Config, [switch]$Checkers) {
    $dir = Join-Path $Work "$($Topo.Id)-$Side-$([guid]::NewGuid().ToString('n').Substring(0, 4))"
    $null = New-Item -ItemType Directory -Path $dir
    $pids = @('-p', (Join-Path $dir 'k.pid'), '-r', (Join-Path $dir 'vrrp.pid'), '-c', (Join-Path $dir 'check.pid'))
    if ($Side -eq 'hapd') {
        Start-LabProcess -Topology $Topo -HostName lb1 -Command $Hapd -ArgumentList (@('--dont-fork', '--no-syslog') + @(if ($Checkers) { '-C' }) + @('-f', $Config) + $pids)
    } else {
        Start-LabProcess -Topology $Topo -HostName lb1 -Command keepalived -ArgumentList (@('--dont-fork', '--no-syslog', $(if ($Checkers) { '--check' } else { '--vrrp' }), '-f', $Config) + $pids)
    }
}

# The process and its children (keepalived's VRRP child).
function Get-Family([int]$ProcessId) {
    @($ProcessId) + @(Get-ChildItem /proc -Directory | Where-Object { $_.Name -match '^\d+$' } | ForEach-Object {
            try {
                $s = [IO.File]::ReadAllText("/proc/$($_.Name)/stat")
                if ([int]$s.Substring($s.LastIndexOf(')') + 2).Split(' ')[1] -eq $ProcessId) { [int]$_.Name }
            } catch { }
        })
}

# CPU ticks and resident memory of these processes: VmRSS, and its private part (RssAnon: heap, stacks, written
# data) apart from the file pages (RssFile: the executable's and libraries' pages mapped, shared with the page cache).
function Get-Sample([int[]]$Pids) {
    $ticks = 0L; $rss = 0L; $anon = 0L
    foreach ($p in $Pids) {
        $s = [IO.File]::ReadAllText("/proc/$p/stat")
        $f = $s.Substring($s.LastIndexOf(')') + 2).Split(' ')
        $ticks += [long]$f[11] + [long]$f[12]
        $status = [IO.File]::ReadAllText("/proc/$p/status")
        $rss += [long][regex]::Match($status, 'VmRSS:\s+(\d+)').Groups[1].Value
        $anon += [long][regex]::Match($status, 'RssAnon:\s+(\d+)').Groups[1].Value
    }
    [pscustomobject]@{ Ticks = $ticks; RssKb = $rss; AnonKb = $anon; Ns = Get-UnixNs }
}

# The kernel receive times of IPv4 VRRP adverts in a capture.
function Get-AdvertTimes($Capture) {
    foreach ($f in @(Read-LabCapture $Capture)) {
        $b = $f.Bytes
        if ($b.Length -ge 34 -and $b[12] -eq 0x08 -and $b[13] -eq 0x00 -and $b[23] -eq 112) { $f.UnixNanoseconds }
    }
}

function Add-Row([string]$Series, [string]$Side, [string]$Metric, [double[]]$Values, [string]$Unit, [string]$Load) {
    $row = [pscustomobject]@{ Series = $Series; Side = $Side; Metric = $Metric; Median = [math]::Round((Get-Median $Values), 3)
        Min = [math]::Round(($Values | Measure-Object -Minimum).Minimum, 3); Max = [math]::Round(($Values | Measure-Object -Maximum).Maximum, 3)
        Trials = $Values.Count; Unit = $Unit; Load = $Load }
    Write-Host ("{0,-12} {1,-10} {2,-28} median {3} {4} (min {5}, max {6}, n={7}; load {8})" -f $Series, $Side, $Metric, $row.Median, $Unit, $row.Min, $row.Max, $row.Trials, $Load)
    $results.Add($row)
}

$topo = New-LabTopology -Hosts 'lb1', 'client'
try {
    if ('Memory' -in $Series) {
        foreach ($case in @(@{ Count = 1; Version = 2; Interval = '1' }, @{ Count = 50; Version = 3; Interval = '0.1' })) {
            $conf = New-Config $case.Count $case.Version $case.Interval 100
            foreach ($side in 'hapd', 'keepalived') {
                $load = Get-LoadAverage
                $samples = for ($t = 0; $t -lt $Trials; $t++) {
                    $p = Start-Side $topo $side $conf
                    try {
                        Start-Sleep -Seconds $SettleSeconds
                        Get-Sample (Get-Family $p.Pid)
                    } finally { $null = Stop-LabProcess $p -TimeoutSeconds 5 }
                }
                $l = "$load -> $(Get-LoadAverage)"
                Add-Row 'Memory' $side "RSS, $($case.Count) instance(s)" @($samples | ForEach-Object { $_.RssKb / 1024 }) 'MiB' $l
                Add-Row 'Memory' $side "RssAnon, $($case.Count) instance(s)" @($samples | ForEach-Object { $_.AnonKb / 1024 }) 'MiB' $l
            }
        }
    }
    if ('FirstAdvert' -in $Series) {
        $conf = New-Config 1 3 '1' 255
        foreach ($side in 'hapd', 'keepalived') {
            $load = Get-LoadAverage
            $ms = for ($t = 0; $t -lt $Trials; $t++) {
                $cap = Start-LabCapture -Topology $topo -HostName client -Filter 'ip proto 112'
                Start-Sleep -Milliseconds 300
                $t0 = Get-UnixNs
                $p = Start-Side $topo $side $conf
                try {
                    $deadline = [DateTime]::UtcNow.AddSeconds(10); $first = $null
                    do { Start-Sleep -Milliseconds 200; $first = @(Get-AdvertTimes $cap | Where-Object { $_ -gt $t0 } | Sort-Object)[0] } while (-not $first -and [DateTime]::UtcNow -lt $deadline)
                    if (-not $first) { throw "$side sent no advert within 10 s" }
                    ($first - $t0) / 1e6
                } finally {
                    $null = Stop-LabProcess $p -TimeoutSeconds 5
                    Stop-LabCapture $cap | Out-Null
                }
            }
            Add-Row 'FirstAdvert' $side 'exec to first advert' $ms 'ms' "$load -> $(Get-LoadAverage)"
        }
    }
    if ('Cpu' -in $Series) {
        $conf = New-Config 50 3 '0.1' 100
        foreach ($side in 'hapd', 'keepalived') {
            $load = Get-LoadAverage
            $cores = for ($t = 0; $t -lt $Trials; $t++) {
                $p = Start-Side $topo $side $conf
                try {
                    Start-Sleep -Seconds 3
                    $family = Get-Family $p.Pid
                    $a = Get-Sample $family
                    Start-Sleep -Seconds $CpuSeconds
                    $b = Get-Sample $family
                    ($b.Ticks - $a.Ticks) / 100 / (($b.Ns - $a.Ns) / 1e9) * 100
                } finally { $null = Stop-LabProcess $p -TimeoutSeconds 5 }
            }
            Add-Row 'Cpu' $side '50 instances at 100 ms' $cores '% of a core' "$load -> $(Get-LoadAverage)"
        }
    }
    if ('Ipvs' -in $Series) {
        # The same table as a keepalived.conf and as ipvsadm -R input; services 10.x.y.z:80, real servers in 172.16/12.
        $svc = for ($i = 0; $i -lt $Services; $i++) { '10.{0}.{1}.{2}' -f (1 + [math]::Floor($i / 65536)), ([math]::Floor($i / 256) % 256), ($i % 256) }
        $rs = for ($i = 0; $i -lt $Services; $i++) { , @(('172.16.{0}.{1}' -f ([math]::Floor($i / 256) % 256), ($i % 256)), ('172.17.{0}.{1}' -f ([math]::Floor($i / 256) % 256), ($i % 256))) }
        function New-IpvsConfig([int]$ChangedEvery) {
            $sb = [Text.StringBuilder]::new("global_defs {`n    router_id bench`n}`n")
            for ($i = 0; $i -lt $Services; $i++) {
                $w = if ($ChangedEvery -gt 0 -and $i % $ChangedEvery -eq 0) { 2 } else { 1 }
                $null = $sb.Append("virtual_server $($svc[$i]) 80 {`n    lb_algo rr`n    lb_kind NAT`n    protocol TCP`n    real_server $($rs[$i][0]) 8080 {`n        weight $w`n    }`n    real_server $($rs[$i][1]) 8080 {`n        weight 1`n    }`n}`n")
            }
            $sb.ToString()
        }
        $conf = Join-Path $Work 'ipvs.conf'
        $rules = Join-Path $Work 'ipvs.rules'
        Set-Content -Path $rules -Value (@(for ($i = 0; $i -lt $Services; $i++) { "-A -t $($svc[$i]):80 -s rr"; "-a -t $($svc[$i]):80 -r $($rs[$i][0]):8080 -m -w 1"; "-a -t $($svc[$i]):80 -r $($rs[$i][1]):8080 -m -w 1" }) -join "`n")
        # ipvsadm -R of the table, timed inside bash; the table is flushed before and after.
        function Measure-IpvsadmRestore($Topo) {
            $r = Invoke-LabCommand -Topology $Topo -HostName lb1 -Command bash -ArgumentList '-c', "ipvsadm -C; s=`$(date +%s%N); ipvsadm -R < '$rules' || exit 9; e=`$(date +%s%N); echo `$(( (e - s) / 1000 )); ipvsadm -C"
            if ($r.ExitCode -ne 0) { throw "ipvsadm -R failed: $($r.StdErr)" }
            [double]($r.StdOut.Trim()) / 1000
        }
        function Wait-HapdLine($P, [string]$Pattern, [string]$What) {
            $deadline = [DateTime]::UtcNow.AddSeconds(600); $m = $null
            do { Start-Sleep -Milliseconds 100; $m = [regex]::Match((Get-Content -Raw $P.StdOutPath, $P.StdErrPath -ErrorAction Ignore) -join '', $Pattern) } while (-not $m.Success -and [DateTime]::UtcNow -lt $deadline)
            if (-not $m.Success) { throw "hapd did not $What within 600 s: $(Get-Content -Raw $P.StdOutPath, $P.StdErrPath)" }
            $m
        }
        # hapd -C on $conf in lb1 of $Topo, until its "IPVS programmed" line: the process, its figure, exec to the line.
        function Start-HapdIpvs($Topo, [string]$Dir) {
            $null = New-Item -ItemType Directory -Path $Dir
            $t0 = Get-UnixNs
            $p = Start-LabProcess -Topology $Topo -HostName lb1 -Command $Hapd -ArgumentList @('--dont-fork', '--log-console', '--no-syslog', '-C', '-f', $conf,
                '-p', (Join-Path $Dir 'k.pid'), '-r', (Join-Path $Dir 'v.pid'), '-c', (Join-Path $Dir 'c.pid'))
            try { $m = Wait-HapdLine $p 'IPVS programmed in ([\d.]+) ms: (\d+) change[^\r\n]*' 'program IPVS' }
            catch { $null = Stop-LabProcess $p -TimeoutSeconds 30; throw }
            [pscustomobject]@{ Process = $p; Programmed = [double]$m.Groups[1].Value; ExecTo = ((Get-UnixNs) - $t0) / 1e6; Line = $m.Value }
        }
        $load = Get-LoadAverage
        $ipvsadm = [Collections.Generic.List[double]]::new(); $program = [Collections.Generic.List[double]]::new(); $execTo = [Collections.Generic.List[double]]::new()
        $reload = [Collections.Generic.List[double]]::new(); $sent = [Collections.Generic.List[double]]::new()
        $freshIpvsadm = [Collections.Generic.List[double]]::new(); $freshProgram = [Collections.Generic.List[double]]::new(); $restart = [Collections.Generic.List[double]]::new()
        for ($t = 0; $t -lt $Trials; $t++) {
            Set-Content -Path $conf -Value (New-IpvsConfig 0)
            # A start at boot: each side in a namespace of its own, whose IPVS table never held the services.
            $fresh = New-LabTopology -Hosts 'lb1'
            try { $freshIpvsadm.Add((Measure-IpvsadmRestore $fresh)) } finally { Remove-LabTopology -Topology $fresh }
            $fresh = New-LabTopology -Hosts 'lb1'
            try {
                $h = Start-HapdIpvs $fresh (Join-Path $Work "fresh-$t")
                Write-Host "  trial $($t + 1), fresh namespace: $($h.Line)"
                $freshProgram.Add($h.Programmed)
                $null = Stop-LabProcess $h.Process -TimeoutSeconds 30
            } finally {
                $null = Invoke-LabCommand -Topology $fresh -HostName lb1 -Command ipvsadm -ArgumentList '-C'
                Remove-LabTopology -Topology $fresh
            }
            # A restart: the same namespace's table after ipvsadm -C, whose removed real servers wait in IPVS's trash
            # list for a while (each addition searches it); then the reload.
            $ipvsadm.Add((Measure-IpvsadmRestore $topo))
            $h = Start-HapdIpvs $topo (Join-Path $Work "ipvs-$t")
            $p = $h.Process
            try {
                Write-Host "  trial $($t + 1), after a flush: $($h.Line)"
                $execTo.Add($h.ExecTo)
                $program.Add($h.Programmed)
                Set-Content -Path $conf -Value (New-IpvsConfig 100)
                & kill -HUP $p.Pid
                $m = Wait-HapdLine $p 'Reloaded IPVS in ([\d.]+) ms: (\d+) change[^\r\n]*' 'reload'
                Write-Host "  trial $($t + 1): $($m.Value)"
                $reload.Add([double]$m.Groups[1].Value)
                $sent.Add([double]$m.Groups[2].Value)
            } finally {
                $null = Stop-LabProcess $p -TimeoutSeconds 60
            }
            # A restart: hapd's stop removed its services (as keepalived's does), their real servers wait in the trash
            # list; the same configuration started again at once.
            Set-Content -Path $conf -Value (New-IpvsConfig 0)
            $h = Start-HapdIpvs $topo (Join-Path $Work "restart-$t")
            try {
                Write-Host "  trial $($t + 1), restart after hapd's stop: $($h.Line)"
                $restart.Add($h.Programmed)
            } finally {
                $null = Stop-LabProcess $h.Process -TimeoutSeconds 60
                $null = Invoke-LabCommand -Topology $topo -HostName lb1 -Command ipvsadm -ArgumentList '-C'
            }
        }
        $l = "$load -> $(Get-LoadAverage)"
        Add-Row 'Ipvs' 'ipvsadm' "ipvsadm -R, fresh namespace" $freshIpvsadm 'ms' $l
        Add-Row 'Ipvs' 'hapd' "IPVS programmed, fresh namespace" $freshProgram 'ms' $l
        Add-Row 'Ipvs' 'ipvsadm' "ipvsadm -R, after a flush" $ipvsadm 'ms' $l
        Add-Row 'Ipvs' 'hapd' "IPVS programmed, after a flush" $program 'ms' $l
        Add-Row 'Ipvs' 'hapd' "IPVS programmed, restart after hapd's stop" $restart 'ms' $l
        Add-Row 'Ipvs' 'hapd' 'exec to programmed (after a flush)' $execTo 'ms' $l
        Add-Row 'Ipvs' 'hapd' 'reload, 1% changed' $reload 'ms' $l
        Add-Row 'Ipvs' 'hapd' 'reload: changes sent' $sent 'changes' $l
    }
    if ('Checkers' -in $Series) {
        # -CheckedRealServers TCP endpoints: one listener in the client namespace on as many ports (accept, close).
        $client = $topo.Hosts['client'].IPv4Address
        $listener = Join-Path $Work 'listen.py'
        Set-Content -Path $listener -Value @'
import selectors, socket, sys
base, count = int(sys.argv[1]), int(sys.argv[2])
sel = selectors.DefaultSelector()
for p in range(base, base + count):
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("0.0.0.0", p)); s.listen(64); s.setblocking(False)
    sel.register(s, selectors.EVENT_READ)
while True:
    for key, _ in sel.select():
        try:
            c, _ = key.fileobj.accept(); c.close()
        except OSError:
            pass
'@
        $lp = Start-LabProcess -Topology $topo -HostName client -Command python3 -ArgumentList $listener, '20000', "$CheckedRealServers"
        try {
            $sb = [Text.StringBuilder]::new("global_defs {`n    router_id bench`n}`n")
            for ($v = 0; $v * 10 -lt $CheckedRealServers; $v++) {
                $null = $sb.Append("virtual_server 10.9.$([math]::Floor($v / 256)).$($v % 256) 80 {`n    delay_loop 1`n    lb_algo rr`n    lb_kind NAT`n    protocol TCP`n")
                for ($r = $v * 10; $r -lt [math]::Min($CheckedRealServers, $v * 10 + 10); $r++) {
                    $null = $sb.Append("    real_server $client $(20000 + $r) {`n        weight 1`n        TCP_CHECK {`n            connect_timeout 3`n        }`n    }`n")
                }
                $null = $sb.Append("}`n")
            }
            $conf = Join-Path $Work 'checkers.conf'
            Set-Content -Path $conf -Value $sb.ToString()
            foreach ($side in 'hapd', 'keepalived') {
                $load = Get-LoadAverage
                $rss = [Collections.Generic.List[double]]::new(); $anon = [Collections.Generic.List[double]]::new(); $cores = [Collections.Generic.List[double]]::new(); $rssEnd = [Collections.Generic.List[double]]::new()
                for ($t = 0; $t -lt $Trials; $t++) {
                    $p = Start-Side $topo $side $conf -Checkers
                    try {
                        Start-Sleep -Seconds $SettleSeconds
                        $family = Get-Family $p.Pid
                        $a = Get-Sample $family
                        $rss.Add($a.RssKb / 1024)
                        $anon.Add($a.AnonKb / 1024)
                        Start-Sleep -Seconds $CpuSeconds
                        $b = Get-Sample $family
                        $cores.Add(($b.Ticks - $a.Ticks) / 100 / (($b.Ns - $a.Ns) / 1e9) * 100)
                        $rssEnd.Add($b.RssKb / 1024)
                        $n = (Invoke-LabCommand -Topology $topo -HostName lb1 -Command ipvsadm -ArgumentList '-Ln').StdOut -split "`n" | Where-Object { $_ -match '->\s+\d+\.\d+\.\d+\.\d+:\d+\s+Masq' }
                        if (@($n).Count -ne $CheckedRealServers) { throw "$side had $(@($n).Count) of $CheckedRealServers real servers in IPVS after $SettleSeconds s: its checks did not all pass" }
                    } finally {
                        $null = Stop-LabProcess $p -TimeoutSeconds 10
                        $null = Invoke-LabCommand -Topology $topo -HostName lb1 -Command ipvsadm -ArgumentList '-C'
                    }
                }
                $l = "$load -> $(Get-LoadAverage)"
                Add-Row 'Checkers' $side "RSS, $CheckedRealServers checked real servers" $rss 'MiB' $l
                Add-Row 'Checkers' $side "RssAnon, $CheckedRealServers checked" $anon 'MiB' $l
                Add-Row 'Checkers' $side "RSS after the CPU window" $rssEnd 'MiB' $l
                Add-Row 'Checkers' $side "CPU, $CheckedRealServers TCP checks/s" $cores '% of a core' $l
            }
        } finally { $null = Stop-LabProcess $lp -TimeoutSeconds 5 }
    }
} finally {
    Remove-LabTopology -Topology $topo
    Remove-Item -Recurse -Force $Work -ErrorAction Ignore
}
if ($guestRows) { foreach ($g in $guestRows) { $results.Add($g) } }
if ($ResultFile) { $results | ConvertTo-Json -Depth 4 | Set-Content $ResultFile }
$results
