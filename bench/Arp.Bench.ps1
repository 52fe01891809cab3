<#
.SYNOPSIS
    ARP benchmark: Send-GratuitousArp side by side with iputils arping, frames timed on the wire.
.DESCRIPTION
    Builds a two-host namespace lab (sender, peer on a bridge), captures ARP on the peer with
    tcpdump (nanosecond kernel receive timestamps) and measures, with medians over -Trials runs:
      1. time from the call to the first gratuitous ARP seen by the peer:
         - Send-GratuitousArp called in an already-running pwsh session (module loaded, warmed up);
         - a fresh pwsh process that imports the module and calls it (what a one-shot script costs);
         - `arping -U -c 1` started from bash (t0 = bash's $EPOCHREALTIME just before the fork);
         - `arping -U -c 1` started from the same pwsh session (& arping: .NET process start);
      2. frames per second for a burst:
         - Send-GratuitousArp -Count <Burst> -Interval 0, as seen by the peer and as stamped by the
           cmdlet itself (the lab's veth/bridge path drops part of a burst this fast: the peer's
           per-CPU backlog holds 1000 frames; the frames the peer saw are counted and reported);
         - iputils arping cannot burst (-i takes whole seconds and -i 0 never sends a second frame),
           so its burst is <ArpingParallel> arping processes started at once from bash; its own
           repetition (-c 3, default 1 s interval) is measured once for reference.
    Clocks: the call stamps and tcpdump's stamps are both CLOCK_REALTIME of this one kernel
    (network namespaces share it). Needs root. Not a test: nothing here asserts on time.
.EXAMPLE
    dotnet pwsh ./build.ps1 Build; dotnet pwsh bench/Arp.Bench.ps1 -Trials 20
#>
param(
    [ValidateRange(1, 1000)][int]$Trials = 20,
    [ValidateRange(2, 100000)][int]$Burst = 1000,
    [ValidateRange(2, 1000)][int]$ArpingParallel = 100,
    [string]$ResultFile
)
$ErrorActionPreference = 'Stop'
$root = Split-Path $PSScriptRoot -Parent
$module = Join-Path $root 'out/HaPowerShell'
if (-not (Test-Path (Join-Path $module 'HaPowerShell.psd1'))) { throw 'Build first: dotnet pwsh ./build.ps1 Build' }
Import-Module (Join-Path $root 'tests/lab/NetnsLab.psm1') -Force
if (-not (Test-LabEnvironment)) { throw 'This benchmark needs root, iproute2 and network namespaces.' }
foreach ($tool in 'arping', 'tcpdump', 'bash') { if (-not (Get-Command $tool -CommandType Application -ErrorAction Ignore)) { throw "$tool is not installed." } }

function Get-Median([double[]]$x) { $s = @($x | Sort-Object); $n = $s.Count; if ($n -eq 0) { return [double]::NaN }; if ($n % 2) { $s[[math]::Floor($n / 2)] } else { ($s[$n / 2 - 1] + $s[$n / 2]) / 2 } }
function Get-Percentile([double[]]$x, [double]$p) { $s = @($x | Sort-Object); if (-not $s) { return [double]::NaN }; $s[[math]::Min($s.Count - 1, [math]::Floor($p * $s.Count))] }

$vip = '192.0.2.30'
$t = New-LabTopology -Hosts 'sender', 'peer'
try {
    $null = Invoke-LabCommand -Topology $t -HostName sender -Command ip -ArgumentList 'addr', 'add', "$vip/24", 'dev', 'eth0'   # arping -U wants a local address
    $capture = Start-LabCapture -Topology $t -HostName peer -Filter 'arp'
    Write-Host "lab $($t.Id): sender $($t.Hosts.sender.MacAddress) -> peer; $Trials trials, bursts of $Burst"

    $run = Invoke-LabPwsh -Topology $t -HostName sender -ModulePath $module -TimeoutSeconds 3600 -ArgumentList $Trials, $Burst, $ArpingParallel, $module, $vip -Script {
        param($Trials, $Burst, $Parallel, $Module, $Vip)
        $ErrorActionPreference = 'Stop'
        function Now { ([DateTime]::UtcNow - [DateTime]::UnixEpoch).Ticks * 100 }   # unix ns, CLOCK_REALTIME
        function Mark($Kind, $Trial, $Start, $End) { [pscustomobject]@{ Kind = $Kind; Trial = $Trial; Start = [long]$Start; End = [long]$End } }
        $pwsh = @([Environment]::ProcessPath)
        if ([IO.Path]::GetFileNameWithoutExtension($pwsh[0]) -eq 'dotnet') { $pwsh += Join-Path $PSHOME 'pwsh.dll' }
        $fresh = "Import-Module '$Module'; Send-GratuitousArp eth0 $Vip | Out-Null"
        $gap = 300

        # warm-up: JIT, socket paths, arping's pages in the cache
        $null = Send-GratuitousArp eth0 $Vip -Count 3 -Interval 0
        $null = & arping -U -c 1 -I eth0 $Vip
        Start-Sleep -Milliseconds $gap
        $warm = Now

        for ($i = 1; $i -le $Trials; $i++) {
            # alternate the order so slow drifts hit both tools alike
            $order = if ($i % 2) { 'cmdlet', 'arping-pwsh', 'pwsh-fresh' } else { 'pwsh-fresh', 'arping-pwsh', 'cmdlet' }
            foreach ($kind in $order) {
                $s = Now
                switch ($kind) {
                    'cmdlet' { $null = Send-GratuitousArp eth0 $Vip }
                    'arping-pwsh' { $null = & arping -U -c 1 -I eth0 $Vip }
                    'pwsh-fresh' { $null = & $pwsh[0] @($pwsh | Select-Object -Skip 1) -NoProfile -NonInteractive -Command $fresh }
                }
                Mark $kind $i $s (Now)
                Start-Sleep -Milliseconds $gap
            }
        }
        # arping from a shell: t0 is bash's own clock read right before it forks arping
        $bash = "for i in `$(seq $Trials); do echo `$EPOCHREALTIME; arping -U -c 1 -I eth0 $Vip >/dev/null; sleep 0.$gap; done"
        $stamps = @(& env LC_ALL=C bash -c $bash)
        $n = 0
        foreach ($line in $stamps) { $n++; $us = [decimal]$line; Mark 'arping-bash' $n ([long]($us * 1000000000)) ([long]($us * 1000000000) + 900000000) }
        Start-Sleep -Milliseconds $gap

        for ($i = 1; $i -le $Trials; $i++) {
            $s = Now; $sw = [Diagnostics.Stopwatch]::StartNew()
            $r = Send-GratuitousArp eth0 $Vip -Count $Burst -Interval 0
            $sw.Stop()
            # the cmdlet's own stamps of its first and last frame give the rate frames were handed to the kernel
            $sendRate = ($r.FramesSent - 1) / ($r.LastSent - $r.FirstSent).TotalSeconds
            Mark 'burst-cmdlet' $i $s (Now) | Add-Member -NotePropertyName SenderMs -NotePropertyValue $sw.Elapsed.TotalMilliseconds -PassThru |
                Add-Member -NotePropertyName Sent -NotePropertyValue $r.FramesSent -PassThru | Add-Member -NotePropertyName SendRate -NotePropertyValue $sendRate -PassThru
            Start-Sleep -Milliseconds $gap
            $s = Now
            & bash -c "for i in `$(seq $Parallel); do arping -U -c 1 -I eth0 $Vip >/dev/null 2>&1 & done; wait"
            Mark 'burst-arping' $i $s (Now)
            Start-Sleep -Milliseconds $gap
        }
        $s = Now
        $null = & arping -U -c 3 -I eth0 $Vip
        Mark 'arping-c3' 1 $s (Now)
        Mark 'warm' 0 $warm $warm
    }
    Start-Sleep -Milliseconds 200
    $frames = @(Stop-LabCapture -Capture $capture)
    $sender = $t.Hosts.sender.MacAddress
    $ours = @($frames | Where-Object {
            $b = $_.Bytes
            $b.Length -ge 42 -and $b[12] -eq 8 -and $b[13] -eq 6 -and $b[21] -eq 1 -and
            (($b[6..11] | ForEach-Object { $_.ToString('x2') }) -join ':') -eq $sender -and
            ([ipaddress][byte[]]$b[28..31]).ToString() -eq $vip -and ([ipaddress][byte[]]$b[38..41]).ToString() -eq $vip
        } | ForEach-Object { $_.UnixNanoseconds })
    $marks = @($run.Output | Where-Object { $_.PSObject.Properties['Kind'] })
    $warmAt = ($marks | Where-Object Kind -eq 'warm').Start
    $ours = @($ours | Where-Object { $_ -ge $warmAt } | Sort-Object)
    Write-Host "captured $($frames.Count) ARP frames, $($ours.Count) gratuitous from the sender after warm-up"

    function Get-FirstAfter([long]$Start, [long]$Limit) {
        foreach ($f in $ours) { if ($f -ge $Start) { if ($f -le $Limit) { return $f } else { return $null } } }
        return $null
    }
    $ttff = [ordered]@{}
    foreach ($kind in 'cmdlet', 'pwsh-fresh', 'arping-bash', 'arping-pwsh') {
        $ttff[$kind] = [System.Collections.Generic.List[double]]::new()
        foreach ($m in $marks | Where-Object Kind -eq $kind) {
            $f = Get-FirstAfter $m.Start ($m.Start + 5000000000)
            if ($null -ne $f) { $ttff[$kind].Add(($f - $m.Start) / 1e6) } else { Write-Warning "$kind trial $($m.Trial): no frame seen" }
        }
    }
    $bursts = [ordered]@{ 'burst-cmdlet' = [System.Collections.Generic.List[double]]::new(); 'burst-arping' = [System.Collections.Generic.List[double]]::new() }
    $seen = @{ 'burst-cmdlet' = [System.Collections.Generic.List[double]]::new(); 'burst-arping' = [System.Collections.Generic.List[double]]::new() }
    foreach ($m in $marks | Where-Object Kind -like 'burst-*') {
        $in = @($ours | Where-Object { $_ -ge $m.Start -and $_ -le $m.End + 50000000 })
        $seen[$m.Kind].Add($in.Count)
        if ($in.Count -ge 2) { $bursts[$m.Kind].Add(($in.Count - 1) / (($in[-1] - $in[0]) / 1e9)) }
    }
    $c3 = $marks | Where-Object Kind -eq 'arping-c3'
    $c3Frames = @($ours | Where-Object { $_ -ge $c3.Start -and $_ -le $c3.End })
    $c3Rate = if ($c3Frames.Count -ge 2) { ($c3Frames.Count - 1) / (($c3Frames[-1] - $c3Frames[0]) / 1e9) } else { [double]::NaN }
    $senderMs = @($marks | Where-Object Kind -eq 'burst-cmdlet' | ForEach-Object SenderMs)

    $rows = foreach ($kind in $ttff.Keys) {
        $v = [double[]]$ttff[$kind]
        [pscustomobject]@{ Measure = 'time to first frame'; Tool = $kind; Trials = $v.Count
            Median = [math]::Round((Get-Median $v), 3); P10 = [math]::Round((Get-Percentile $v 0.1), 3); P90 = [math]::Round((Get-Percentile $v 0.9), 3); Unit = 'ms' }
    }
    $rows += foreach ($kind in $bursts.Keys) {
        $v = [double[]]$bursts[$kind]
        [pscustomobject]@{ Measure = 'burst rate'; Tool = $kind; Trials = $v.Count
            Median = [math]::Round((Get-Median $v), 0); P10 = [math]::Round((Get-Percentile $v 0.1), 0); P90 = [math]::Round((Get-Percentile $v 0.9), 0); Unit = 'frames/s' }
    }
    $sendRates = [double[]]@($marks | Where-Object Kind -eq 'burst-cmdlet' | ForEach-Object SendRate)
    $rows += [pscustomobject]@{ Measure = 'burst rate'; Tool = 'burst-cmdlet (sender stamps)'; Trials = $sendRates.Count
        Median = [math]::Round((Get-Median $sendRates), 0); P10 = [math]::Round((Get-Percentile $sendRates 0.1), 0); P90 = [math]::Round((Get-Percentile $sendRates 0.9), 0); Unit = 'frames/s' }
    $rows | Format-Table -AutoSize | Out-String -Width 200 | Write-Host
    $medCmd = Get-Median ([double[]]$ttff['cmdlet'])
    $summary = [ordered]@{
        Kernel                       = (& uname -r)
        Cores                        = [Environment]::ProcessorCount
        Trials                       = $Trials
        Burst                        = $Burst
        ArpingParallel               = $ArpingParallel
        Rows                         = @($rows)
        TimeToFirstFrameMs           = [ordered]@{}
        BurstFramesPerSecond         = [ordered]@{}
        BurstFramesSeenMedian        = [ordered]@{ 'burst-cmdlet' = Get-Median ([double[]]$seen['burst-cmdlet']); 'burst-arping' = Get-Median ([double[]]$seen['burst-arping']) }
        BurstSenderMsMedian          = Get-Median ([double[]]$senderMs)
        BurstSendRateMedian          = [math]::Round((Get-Median $sendRates), 0)
        ArpingOwnRepeatFramesPerSecond = [math]::Round($c3Rate, 3)
        Ratios                       = [ordered]@{
            'arping-bash / cmdlet (time to first frame)' = [math]::Round((Get-Median ([double[]]$ttff['arping-bash'])) / $medCmd, 1)
            'arping-pwsh / cmdlet (time to first frame)' = [math]::Round((Get-Median ([double[]]$ttff['arping-pwsh'])) / $medCmd, 1)
            'pwsh-fresh / arping-bash (time to first frame)' = [math]::Round((Get-Median ([double[]]$ttff['pwsh-fresh'])) / (Get-Median ([double[]]$ttff['arping-bash'])), 1)
            'cmdlet / arping parallel (burst rate)' = [math]::Round((Get-Median ([double[]]$bursts['burst-cmdlet'])) / (Get-Median ([double[]]$bursts['burst-arping'])), 1)
        }
    }
    foreach ($r in $rows) { if ($r.Unit -eq 'ms') { $summary.TimeToFirstFrameMs[$r.Tool] = $r.Median } elseif ($r.Tool -notlike '*sender*') { $summary.BurstFramesPerSecond[$r.Tool] = $r.Median } }
    $json = $summary | ConvertTo-Json -Depth 5
    Write-Host $json
    if ($ResultFile) { Set-Content -Path $ResultFile -Value $json }
} finally {
    Remove-LabTopology -Topology $t
}
