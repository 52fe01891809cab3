<#
.SYNOPSIS
    Import-/Sync-IpvsConfig on large and hostile input: memory and time of reading and parsing, and how the
    Sync plan scales with the table (issue 17).
.DESCRIPTION
    1. Input: Import-IpvsConfig -WhatIf (read, parse, validate; nothing sent) in a fresh pwsh per file, on
       a 52 MB file of one line of words (what took 1.59 GB before), and valid `ipvsadm -S` files of
       -Services services with one real server each. Reported: bytes allocated while the command ran, the
       parsed rules' retained size (GC heap after, less before) as a multiple of the input, the peak working
       set growth, and the time. ipvsadm cannot take part: it reads nothing before it has opened the
       kernel's IPVS, and this kernel has none (in the lab VM, `ipvsadm -R` of the one-line file fails at
       its first token like ours; its memory is a fixed buffer).
    2. Plan: IpvsAdmin.PlanSync against an in-memory kernel (tests/HaPowerShell.Tests FakeIpvsKernel) of
       -PlanSizes services, the desired table being the live one as Get-IpvsService returns it (real-server
       lists left out, so kept) with 1% of the schedulers changed: what `Get-IpvsService | ... |
       Sync-IpvsConfig -WhatIf` plans. Linear planning shows as time per service staying flat.
    Medians over -Trials. Not a test: nothing here asserts on time.
.EXAMPLE
    dotnet pwsh ./build.ps1 Build; dotnet build tests/HaPowerShell.Tests -c Release
    dotnet pwsh bench/IpvsInput.Bench.ps1 -Trials 3
#>
param(
    [int]$Services = 200000,
    [int[]]$PlanSizes = @(10000, 100000, 1000000),
    [int]$Trials = 3,
    # Internal: one input measurement in a child pwsh.
    [string]$Child
)
$ErrorActionPreference = 'Stop'
$root = Split-Path $PSScriptRoot -Parent
$module = Join-Path $root 'out/HaPowerShell'
function Get-Median([double[]]$x) { $s = $x | Sort-Object; $n = $s.Count; if ($n % 2) { $s[[math]::Floor($n / 2)] } else { ($s[$n / 2 - 1] + $s[$n / 2]) / 2 } }

if ($Child) {
    Import-Module $module
    $p = [Diagnostics.Process]::GetCurrentProcess()
    # Warm the path on a small file first, so the figures are the input's, not the first call's.
    $warm = Join-Path ([IO.Path]::GetTempPath()) "haps-bench-warm-$PID.rules"
    Set-Content $warm "-A -t 192.0.2.1:80 -s rr`n-a -t 192.0.2.1:80 -r 192.0.2.10:80 -g -w 1"
    Import-IpvsConfig -Path $warm -WhatIf; Remove-Item $warm
    [GC]::Collect(); [GC]::WaitForPendingFinalizers(); [GC]::Collect()
    $heap0 = [GC]::GetTotalMemory($true); $alloc0 = [GC]::GetTotalAllocatedBytes($true); $p.Refresh(); $ws0 = $p.WorkingSet64
    $clock = [Diagnostics.Stopwatch]::StartNew()
    # The parsed rules, kept so their size can be read: what Import holds between parsing and sending.
    $reader = [HaPowerShell.Core.Ipvs.IpvsConfigReader]::new(1GB, $null, [Threading.CancellationToken]::None, 'MaximumInputSize')
    $error.Clear()
    try {
        $fs = [IO.File]::OpenRead($Child)
        try { $reader.Read($fs) } finally { $fs.Dispose() }
        $doc = $reader.Finish()
        [HaPowerShell.Core.Ipvs.IpvsAdmin]::ValidateRules($doc.Rules)
        $outcome = "$($doc.Rules.Commands.Count) rules"
    } catch { $m = $_.Exception.InnerException ?? $_.Exception; $outcome = "refused: $($m.Message.Substring(0, [math]::Min(40, $m.Message.Length)))..." }
    $ms = $clock.Elapsed.TotalMilliseconds
    $alloc = [GC]::GetTotalAllocatedBytes($true) - $alloc0
    $p.Refresh(); $peak = $p.PeakWorkingSet64 - $ws0
    $heap = [GC]::GetTotalMemory($true) - $heap0
    [pscustomobject]@{ Ms = $ms; AllocatedMB = $alloc / 1MB; RetainedMB = $heap / 1MB; PeakGrowthMB = [math]::Max(0, $peak) / 1MB; Outcome = $outcome; Keep = $null -ne $doc } | ConvertTo-Json -Compress
    return
}

$work = Join-Path ([IO.Path]::GetTempPath()) ("haps-bench-input-" + [guid]::NewGuid().ToString('n').Substring(0, 8))
$null = New-Item -ItemType Directory $work
try {
    # ---- 1. input ----
    $oneLine = Join-Path $work 'oneline.rules'
    $f = [IO.File]::Create($oneLine); $b = [Text.Encoding]::ASCII.GetBytes('a ' * 65536)
    for ($i = 0; $i -lt 400; $i++) { $f.Write($b, 0, $b.Length) }; $f.Dispose()
    $valid = Join-Path $work 'valid.rules'
    $w = [IO.StreamWriter]::new($valid)
    for ($i = 0; $i -lt $Services; $i++) {
        $vip = "10.$(($i -shr 16) -band 255).$(($i -shr 8) -band 255).$($i -band 255)"
        $w.WriteLine("-A -t ${vip}:80 -s wlc"); $w.WriteLine("-a -t ${vip}:80 -r 192.0.2.$(1 + $i % 250):80 -g -w 1")
    }
    $w.Dispose()
    $exe = [Environment]::ProcessPath
    $prefix = @(if ([IO.Path]::GetFileNameWithoutExtension($exe) -eq 'dotnet') { "$PSHOME/pwsh.dll" })
    $inputRows = foreach ($file in $oneLine, $valid) {
        $size = (Get-Item $file).Length
        $runs = 1..$Trials | ForEach-Object { & $exe @prefix -NoProfile -NonInteractive -File $PSCommandPath -Child $file | Select-Object -Last 1 | ConvertFrom-Json }
        [pscustomobject]@{
            File = "$(Split-Path $file -Leaf) ($([math]::Round($size / 1MB, 1)) MB)"; Outcome = $runs[0].Outcome
            Ms = Get-Median $runs.Ms; AllocatedMB = [math]::Round((Get-Median $runs.AllocatedMB), 1)
            RetainedMB = [math]::Round((Get-Median $runs.RetainedMB), 1); PeakGrowthMB = [math]::Round((Get-Median $runs.PeakGrowthMB), 1)
            RetainedPerInput = [math]::Round((Get-Median $runs.RetainedMB) * 1MB / $size, 2)
        }
    }
    Write-Host "`nInput: Import-IpvsConfig's read + parse + validate, medians of $Trials (load average $((Get-Content /proc/loadavg).Split(' ')[0]))"
    $inputRows | Format-Table File, Ms, AllocatedMB, RetainedMB, RetainedPerInput, PeakGrowthMB, Outcome -AutoSize | Out-String -Width 250 | Write-Host

    # ---- 2. plan ----
    $tests = Join-Path $root 'tests/HaPowerShell.Tests/bin/Release/net8.0'
    if (-not (Test-Path (Join-Path $tests 'HaPowerShell.Tests.dll'))) { throw 'Build the tests first: dotnet build tests/HaPowerShell.Tests -c Release' }
    Add-Type -Path (Join-Path $tests 'HaPowerShell.Native.dll'), (Join-Path $tests 'HaPowerShell.Core.dll'), (Join-Path $tests 'HaPowerShell.Tests.dll')
    $plan = foreach ($n in $PlanSizes) {
        $kernel = [HaPowerShell.Tests.FakeIpvsKernel]::new()
        $admin = [HaPowerShell.Core.Ipvs.IpvsAdmin]::new($kernel, [HaPowerShell.Tests.FakeModules]::Mainline)
        $changes = [System.Collections.Generic.List[HaPowerShell.Native.Ipvs.IpvsChange]]::new($n * 2)
        for ($i = 0; $i -lt $n; $i++) {
            $s = [HaPowerShell.Native.Ipvs.IpvsServiceEntry]@{ Protocol = 6; Address = [ipaddress]::new([byte[]](10, (($i -shr 16) -band 255), (($i -shr 8) -band 255), ($i -band 255))); Port = 80; Scheduler = 'rr' }
            $changes.Add([HaPowerShell.Native.Ipvs.IpvsChange]::new('NewService', $s, $null))
            $changes.Add([HaPowerShell.Native.Ipvs.IpvsChange]::new('NewDest', $s, [HaPowerShell.Native.Ipvs.IpvsDestEntry]@{ Address = [ipaddress]'198.51.100.1'; Port = 80; ForwardMethod = 3; Weight = 1 }))
        }
        $null = $kernel.Apply($changes); $changes = $null
        $times = foreach ($t in 1..$Trials) {
            $desired = $admin.GetServices() # as Get-IpvsService gives them: no real-server lists
            for ($i = 0; $i -lt $desired.Count; $i += 100) { $desired[$i].Scheduler = 'wlc' }
            [GC]::Collect()
            $clock = [Diagnostics.Stopwatch]::StartNew()
            $p = $admin.PlanSync($desired)
            $clock.Elapsed.TotalMilliseconds
            if ($p.Updated -ne [math]::Ceiling($n / 100)) { throw "plan of $n services: $($p.Updated) updates" }
        }
        $ms = Get-Median $times
        [pscustomobject]@{ Services = $n; PlanMs = [math]::Round($ms); MicrosecondsPerService = [math]::Round($ms * 1000 / $n, 2) }
        $kernel = $admin = $null; [GC]::Collect()
    }
    Write-Host "Plan: IpvsAdmin.PlanSync (snapshot of the in-memory kernel, validation, diff, module check), 1% changed, medians of $Trials"
    $plan | Format-Table -AutoSize | Out-String -Width 200 | Write-Host
} finally {
    Remove-Item -Recurse -Force $work -ErrorAction Ignore
}
