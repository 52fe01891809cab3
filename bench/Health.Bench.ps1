<#
.SYNOPSIS
    Health-check benchmark: N real servers with TCP checks at a 1-second delay_loop on loopback.
.DESCRIPTION
    A python3 listener opens N listening sockets on 127.0.0.1 (ports BasePort..BasePort+N-1), accepts
    and closes every connection and counts them. Then, one after the other, in separate processes:
      - HaPowerShell: Start-IpvsHealthCheck -MonitorOnly -DelayLoop 1 -Retry 0 -ConnectTimeout 1
        -Warmup 1 over the N real servers (a child pwsh; nothing but the checker runs in it);
      - keepalived (-Keepalived): the same N real servers as TCP_CHECKs of one virtual server,
        delay_loop 1, run with --dont-fork -C (checkers only). keepalived's checker process needs
        IPVS, so on a kernel without it the whole run moves into the kernel-lab VM.
    After a warm-up, CPU time (utime + stime from /proc/<pid>/stat, the checker process and its
    children) is measured over a window, together with the connections the listener accepted (checks
    really made) and, for HaPowerShell, how late each check started after its due time (the checker
    keeps a histogram in 1 ms buckets). For HaPowerShell the CPU of the TCP loop thread and of the
    runtime's tiered-JIT thread are also given (in the VM the JIT still recompiles hot code for
    minutes after start; give -Warmup 60 or more there, or -NoTieredCompilation, which runs the
    HaPowerShell child with DOTNET_TieredCompilation=0 so that code is compiled once, fully, at first use). Medians over the trials. The 1-minute load average at the end
    of each window is recorded (the machine is shared: other load disturbs the figures).
    -CheckerPriority N runs both checkers at nice N (Start-IpvsHealthCheck -CheckerPriority, keepalived's
    checker_priority); -CheckerRealtimePriority N makes them SCHED_RR N (checker_realtime_priority).
    Rerun: dotnet pwsh ./build.ps1 Build; dotnet pwsh bench/Health.Bench.ps1 [-Keepalived] [-Trials 3] [-CheckerPriority -10]
#>
param(
    [int]$Count = 10000,
    [int]$Seconds = 20,
    [int]$Warmup = 10,
    [int]$Trials = 3,
    [int]$BasePort = 20000,
    [switch]$Keepalived,
    [string]$CheckerPriority,   # nice value of the checker: -CheckerPriority for ours, checker_priority for keepalived
    [string]$CheckerRealtimePriority,   # SCHED_RR priority: -CheckerRealtimePriority for ours, checker_realtime_priority for keepalived
    [switch]$NoTieredCompilation,   # run the HaPowerShell child with DOTNET_TieredCompilation=0 (no background re-JIT during the window)
    [switch]$InGuest,
    [string]$ResultFile,
    [string]$ModulePath
)
$ErrorActionPreference = 'Stop'
$root = Split-Path $PSScriptRoot -Parent
if (-not $ModulePath) { $ModulePath = Join-Path $root 'out/HaPowerShell' }

if ($Keepalived -and -not $InGuest -and -not (Test-Path /proc/net/ip_vs)) {
    Import-Module (Join-Path $root 'tests/lab/KernelLab.psm1') -Force
    if (-not (Test-KernelIpvs)) {
        Write-Host "No IPVS in this kernel: keepalived's checkers cannot start here; running in the kernel-lab VM."
        $run = Invoke-KernelLab -WorkingDirectory $root -TimeoutSeconds 3000 -Quiet -Script @"
ulimit -n 65536
dotnet pwsh -NoProfile -NonInteractive -File bench/Health.Bench.ps1 -InGuest -Keepalived -CheckerPriority '$CheckerPriority' -CheckerRealtimePriority '$CheckerRealtimePriority' $(if ($NoTieredCompilation) { '-NoTieredCompilation' }) -Count $Count -Seconds $Seconds -Warmup $Warmup -Trials $Trials -BasePort $BasePort -ResultFile "`$LAB_OUT/health-bench.json"
"@
        $run.Output
        $json = Join-Path $run.OutputDirectory 'health-bench.json'
        if (Test-Path $json) {
            if ($ResultFile) { Copy-Item $json $ResultFile }
            Get-Content $json -Raw | ConvertFrom-Json
        }
        return
    }
}

$work = Join-Path ([IO.Path]::GetTempPath()) "haps-health-bench-$PID"
New-Item -ItemType Directory -Path $work -Force | Out-Null

function Get-CpuSeconds([int]$ProcessId) {
    # utime + stime of the process and its threads' children (keepalived's checker child), in seconds
    $ids = @($ProcessId)
    foreach ($t in Get-ChildItem "/proc/$ProcessId/task" -ErrorAction SilentlyContinue) {
        $c = Get-Content "$($t.FullName)/children" -Raw -ErrorAction SilentlyContinue
        if ($c) { $ids += @($c.Trim() -split '\s+' | Where-Object { $_ } | ForEach-Object { [int]$_ }) }
    }
    $sum = 0
    foreach ($id in $ids | Select-Object -Unique) {
        $stat = Get-Content "/proc/$id/stat" -Raw -ErrorAction SilentlyContinue
        if (-not $stat) { continue }
        $f = $stat.Substring($stat.LastIndexOf(')') + 2).Split(' ')
        $sum += [long]$f[11] + [long]$f[12]   # fields 14 and 15: utime, stime
    }
    $sum / 100.0   # USER_HZ
}

$listenerPy = Join-Path $work 'listener.py'
Set-Content $listenerPy @'
import os, resource, selectors, socket, sys, time
base, count, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
resource.setrlimit(resource.RLIMIT_NOFILE, (count + 1024, count + 1024))
sel = selectors.EpollSelector()
for p in range(base, base + count):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", p)); s.listen(128); s.setblocking(False)
    sel.register(s, selectors.EVENT_READ)
n = 0; last = 0.0
while True:
    for key, _ in sel.select(0.2):
        try:
            while True:
                c, _ = key.fileobj.accept(); c.close(); n += 1
        except (BlockingIOError, InterruptedError):
            pass
    now = time.monotonic()
    if now - last >= 0.2:
        with open(out + ".tmp", "w") as f: f.write(str(n))
        os.replace(out + ".tmp", out); last = now
'@

$oursPs1 = Join-Path $work 'ours.ps1'
Set-Content $oursPs1 @'
param($ModulePath, [int]$Count, [int]$BasePort, [int]$Warmup, [int]$Seconds, $Counter, $Out, [string]$Priority)
$nice, $rt = ($Priority -replace '^prio=') -split '/'
$prio = @{}
if ($nice) { $prio.CheckerPriority = [int]$nice }
if ($rt) { $prio.CheckerRealtimePriority = [int]$rt }
Import-Module $ModulePath
function Accepted { [long](Get-Content $Counter -Raw) }
function Cpu { $st = Get-Content /proc/self/stat -Raw; $f = $st.Substring($st.LastIndexOf(')') + 2).Split(' '); ([long]$f[11] + [long]$f[12]) / 100.0 }
$rs = foreach ($i in 0..($Count - 1)) { [HaPowerShell.Core.Ipvs.IpvsRealServer]@{ Address = [ipaddress]'127.0.0.1'; Port = $BasePort + $i; Weight = 1 } }
$null = $rs | Start-IpvsHealthCheck -MonitorOnly -Name bench -DelayLoop 1 -Retry 0 -ConnectTimeout 1 -Warmup 1 @prio
function Threads {
    # CPU seconds by thread id of the TCP loop thread and of the runtime's tiered-JIT thread (names as /proc shows them)
    $r = @{}
    foreach ($t in Get-ChildItem "/proc/$PID/task") {
        $comm = (Get-Content "$($t.FullName)/comm" -Raw -ErrorAction SilentlyContinue) -replace '\s+$'
        $key = if ($comm -like 'HaPowerShell TC*') { 'Loop' } elseif ($comm -like '.NET Tiered*') { 'Jit' } else { $null }
        if (-not $key) { continue }
        $st = Get-Content "$($t.FullName)/stat" -Raw; $f = $st.Substring($st.LastIndexOf(')') + 2).Split(' ')
        $r[$t.Name] = [pscustomobject]@{ Key = $key; Seconds = ([long]$f[11] + [long]$f[12]) / 100.0 }
    }
    $r
}
function ThreadDelta($Before, $After, [string]$Key) {
    # the runtime ends and starts its JIT thread as needed: a thread that ended within the window is
    # missing from $After, so this is a lower bound for Jit (exact for Loop, which lives throughout)
    $sum = 0.0
    foreach ($tid in $After.Keys) { if ($After[$tid].Key -eq $Key) { $sum += $After[$tid].Seconds - ($Before[$tid].Seconds ?? 0) } }
    $sum
}
Start-Sleep -Seconds $Warmup
# the first calls are slow (JIT, and very slow in the VM); keep them out of the window
$null = Get-IpvsHealthCheck bench; $null = Accepted; $null = Cpu; $null = Threads
$i0 = Get-IpvsHealthCheck bench; $a0 = Accepted; $c0 = Cpu; $t0 = Threads; $sw = [Diagnostics.Stopwatch]::StartNew()
Start-Sleep -Seconds $Seconds
$i1 = Get-IpvsHealthCheck bench; $a1 = Accepted; $c1 = Cpu; $t1 = Threads; $wall = $sw.Elapsed.TotalSeconds
$h = for ($k = 0; $k -lt $i1.LatenessHistogram.Count; $k++) { $i1.LatenessHistogram[$k] - $i0.LatenessHistogram[$k] }
$total = ($h | Measure-Object -Sum).Sum
$max = 0; for ($k = 0; $k -lt $h.Count; $k++) { if ($h[$k] -gt 0) { $max = $k } }
$acc = 0; $p99 = 0; for ($k = 0; $k -lt $h.Count; $k++) { $acc += $h[$k]; if ($acc -ge 0.99 * $total) { $p99 = $k; break } }
$over = 0; for ($k = 101; $k -lt $h.Count; $k++) { $over += $h[$k] }
[pscustomobject]@{
    Checks = $i1.Checks - $i0.Checks; Failures = $i1.Failures - $i0.Failures; Accepted = $a1 - $a0
    LateMaxMs = $max; LateP99Ms = $p99; LateOver100Ms = $over; Up = $i1.Up; TcpLoop = $i1.TcpLoop
    CpuSeconds = [math]::Round($c1 - $c0, 2); Wall = [math]::Round($wall, 2)
    LoopCpuSeconds = [math]::Round((ThreadDelta $t0 $t1 Loop), 2); JitCpuSeconds = [math]::Round((ThreadDelta $t0 $t1 Jit), 2)
    Load = ((Get-Content /proc/loadavg -Raw) -split ' ')[0]
} | ConvertTo-Json | Set-Content $Out
Stop-IpvsHealthCheck -All
'@

function Wait-File([string]$Path, [string]$Content, [double]$TimeoutSeconds) {
    $sw = [Diagnostics.Stopwatch]::StartNew()
    while (-not ((Test-Path $Path) -and ((Get-Content $Path -Raw -ErrorAction SilentlyContinue) -match $Content))) {
        if ($sw.Elapsed.TotalSeconds -gt $TimeoutSeconds) { throw "timed out waiting for $Path" }
        Start-Sleep -Milliseconds 50
    }
}

function Measure-Ours([string]$Counter) {
    $out = Join-Path $work "ours-$([guid]::NewGuid().ToString('n')).json"
    $env:DOTNET_TieredCompilation = if ($NoTieredCompilation) { '0' } else { $null }
    $p = Start-Process -PassThru -FilePath dotnet -ArgumentList @('pwsh', '-NoProfile', '-NonInteractive', '-File', $oursPs1,
        $ModulePath, $Count, $BasePort, $Warmup, $Seconds, $Counter, $out, "prio=$CheckerPriority/$CheckerRealtimePriority")
    $env:DOTNET_TieredCompilation = $null
    # the child measures its own CPU (/proc/self/stat) and wall time over the window
    Wait-File $out 'Checks' ($Warmup + $Seconds + 600)
    $p.WaitForExit(30000) | Out-Null
    Get-Content $out -Raw | ConvertFrom-Json
}

function Measure-Keepalived([string]$Counter) {
    $conf = Join-Path $work 'keepalived.conf'
    $sb = [Text.StringBuilder]::new()
    $prio = if ($CheckerPriority) { "`n  checker_priority $CheckerPriority" } else { '' }
    if ($CheckerRealtimePriority) { $prio += "`n  checker_realtime_priority $CheckerRealtimePriority" }
    [void]$sb.AppendLine("global_defs {`n  router_id haps-bench$prio`n}`nvirtual_server 203.0.113.30 80 {`n  delay_loop 1`n  lb_algo rr`n  lb_kind NAT`n  protocol TCP")
    for ($i = 0; $i -lt $Count; $i++) {
        [void]$sb.AppendLine("  real_server 127.0.0.1 $($BasePort + $i) {`n    weight 1`n    TCP_CHECK {`n      connect_timeout 1`n      retry 0`n    }`n  }")
    }
    [void]$sb.AppendLine('}')
    Set-Content $conf $sb.ToString()
    $log = Join-Path $work 'keepalived.log'
    $kpid = [int](& bash -c "ulimit -n 65536; setsid keepalived --dont-fork --log-console -C -f '$conf' -p '$work/k.pid' -c '$work/c.pid' -r '$work/v.pid' >'$log' 2>&1 </dev/null & echo `$!")
    try {
        Start-Sleep -Seconds $Warmup
        if (-not (Test-Path "/proc/$kpid")) { throw "keepalived exited: $(Get-Content $log -Tail 5)" }
        $a0 = [long](Get-Content $Counter -Raw); $c0 = Get-CpuSeconds $kpid; $t0 = [Diagnostics.Stopwatch]::StartNew()
        Start-Sleep -Seconds $Seconds
        $a1 = [long](Get-Content $Counter -Raw); $c1 = Get-CpuSeconds $kpid; $wall = $t0.Elapsed.TotalSeconds
        [pscustomobject]@{ Accepted = $a1 - $a0; CpuSeconds = [math]::Round($c1 - $c0, 2); Wall = [math]::Round($wall, 2); Load = ((Get-Content /proc/loadavg -Raw) -split ' ')[0] }
    } finally {
        & kill $kpid 2>$null
        for ($k = 0; $k -lt 100 -and (Test-Path "/proc/$kpid"); $k++) { Start-Sleep -Milliseconds 100 }
    }
}

$counter = Join-Path $work 'accepted'
$lp = [int](& bash -c "setsid python3 '$listenerPy' $BasePort $Count '$counter' </dev/null >'$work/listener.log' 2>&1 & echo `$!")
try {
    Wait-File $counter '\d' 120
    $ours = @(); $theirs = @()
    for ($t = 1; $t -le $Trials; $t++) {
        $o = Measure-Ours $counter
        Write-Host ("trial {0} HaPowerShell: {1} checks ({2} accepted) in {3} s, CPU {4} s, late max {5} ms p99 {6} ms, >100 ms: {7}, TCP loop {8} ({10} s CPU, runtime JIT thread {11} s), load average {9}" -f $t, $o.Checks, $o.Accepted, $o.Wall, $o.CpuSeconds, $o.LateMaxMs, $o.LateP99Ms, $o.LateOver100Ms, $o.TcpLoop, $o.Load, $o.LoopCpuSeconds, $o.JitCpuSeconds)
        $ours += $o
        if ($Keepalived) {
            $k = Measure-Keepalived $counter
            Write-Host ("trial {0} keepalived:   {1} accepted in {2} s, CPU {3} s, load average {4}" -f $t, $k.Accepted, $k.Wall, $k.CpuSeconds, $k.Load)
            $theirs += $k
        }
    }
    function Median($xs) { $s = @($xs | Sort-Object); if ($s.Count -eq 0) { return $null }; if ($s.Count % 2) { $s[[int][math]::Floor($s.Count / 2)] } else { ($s[$s.Count / 2 - 1] + $s[$s.Count / 2]) / 2 } }
    $summary = [pscustomobject]@{
        Count = $Count; Seconds = $Seconds; Trials = $Trials; CheckerPriority = $CheckerPriority; CheckerRealtimePriority = $CheckerRealtimePriority; NoTieredCompilation = [bool]$NoTieredCompilation; Kernel = (& uname -r); InLab = [bool]$env:HAPS_KERNEL_LAB
        OursCpuPerSecond = [math]::Round((Median ($ours | ForEach-Object { $_.CpuSeconds / $_.Wall })), 3)
        OursLoopCpuPerSecond = [math]::Round((Median ($ours | ForEach-Object { $_.LoopCpuSeconds / $_.Wall })), 3)
        OursJitCpuPerSecond = [math]::Round((Median ($ours | ForEach-Object { $_.JitCpuSeconds / $_.Wall })), 3)
        OursChecksPerSecond = [math]::Round((Median ($ours | ForEach-Object { $_.Checks / $_.Wall })), 0)
        OursAcceptedPerSecond = [math]::Round((Median ($ours | ForEach-Object { $_.Accepted / $_.Wall })), 0)
        OursLateMaxMs = ($ours | Measure-Object LateMaxMs -Maximum).Maximum
        OursLateP99Ms = Median ($ours.LateP99Ms)
        OursLateOver100Ms = ($ours | Measure-Object LateOver100Ms -Sum).Sum
        OursFailures = ($ours | Measure-Object Failures -Sum).Sum
        KeepalivedCpuPerSecond = if ($theirs) { [math]::Round((Median ($theirs | ForEach-Object { $_.CpuSeconds / $_.Wall })), 3) } else { $null }
        KeepalivedAcceptedPerSecond = if ($theirs) { [math]::Round((Median ($theirs | ForEach-Object { $_.Accepted / $_.Wall })), 0) } else { $null }
        LoadAverage = (@($ours.Load) + @($theirs | ForEach-Object Load) | Where-Object { $_ } | Sort-Object { [double]$_ }) -join ' '
        Ours = $ours; Keepalived = $theirs
    }
    if ($ResultFile) { $summary | ConvertTo-Json -Depth 4 | Set-Content $ResultFile }
    $summary
} finally {
    & kill $lp 2>$null
    if ((Split-Path $work -Leaf) -like 'haps-health-bench-*') { Remove-Item -Recurse -Force -LiteralPath $work -ErrorAction SilentlyContinue }
}
