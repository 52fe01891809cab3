<#
.SYNOPSIS
    keepalived.conf benchmark: Test-KeepalivedConfig side by side with `keepalived -t` (Debian's 2.2.7).
.DESCRIPTION
    Two measurements, medians over -Trials runs each, with the ratio keepalived / ours:
      1. one large configuration (-SizeMB, default 10 MB: 200 VRRP instances and as many virtual servers with three
         TCP_CHECK real servers each as fit, from tests/HaPowerShell.Tests/KeepalivedCorpusGenerator.cs):
         - Test-KeepalivedConfig in a warm session (the module loaded and the parser run once before timing), with the
           bytes the session's thread allocated for it (OursAllocatedMB: the parse runs on that thread; a figure the load
           does not move) and the CPU time the session's process used (OursCpuMs: every thread, the JIT's and the
           collector's too);
         - `keepalived -t -f FILE` started from bash (its own process: what a user runs), with the CPU time bash's `time`
           gives for it and the children it waits for (KeepalivedCpuMs).
      CPU times move much less with the load than wall times do: on a busy machine they are the figures to compare.
      2. the whole generated corpus (-Valid valid configurations and their mutants, the scoring corpus):
         - one pipeline: Get-ChildItem | Test-KeepalivedConfig, in the warm session;
         - `keepalived -t` once per file, from one bash loop.
    Both checkers see this host's interfaces (the generated files name eth0 and eth1, so keepalived may also report
    that an interface is missing: the same work on both sides). The load average is printed: other work on a shared
    machine moves absolute times; the ratios are the figure. Not a test: nothing here asserts on time.
.EXAMPLE
    dotnet pwsh ./build.ps1 Build; dotnet pwsh bench/Keepalived.Bench.ps1 -Trials 7
#>
param(
    [ValidateRange(1, 100)][int]$Trials = 5,
    [ValidateRange(1, 256)][int]$SizeMB = 10,
    [ValidateRange(1, 1000)][int]$Valid = 30,
    [int]$Seed = 1400,
    [string]$WorkDirectory = (Join-Path ([IO.Path]::GetTempPath()) "hap-kconf-bench-$PID"),
    [string]$ResultFile
)
$ErrorActionPreference = 'Stop'
$root = Split-Path $PSScriptRoot -Parent
$module = Join-Path $root 'out/HaPowerShell'
if (-not (Test-Path (Join-Path $module 'HaPowerShell.psd1'))) { throw 'Build first: dotnet pwsh ./build.ps1 Build' }
foreach ($tool in 'keepalived', 'bash') { if (-not (Get-Command $tool -CommandType Application -ErrorAction Ignore)) { throw "$tool is not installed." } }
Import-Module $module -Force
if (-not ('HaPowerShell.Tests.KeepalivedCorpusGenerator' -as [type])) {
    Add-Type -Path (Join-Path $root 'tests/HaPowerShell.Tests/KeepalivedCorpusGenerator.cs') -ReferencedAssemblies System.Text.RegularExpressions, System.Collections, System.Linq, System.Runtime, System.Console
}
function Get-Median([double[]]$x) { $s = @($x | Sort-Object); $n = $s.Count; if ($n % 2) { $s[[math]::Floor($n / 2)] } else { ($s[$n / 2 - 1] + $s[$n / 2]) / 2 } }
function Get-Load { (Get-Content /proc/loadavg).Split(' ')[0..2] -join ' ' }
function Measure-Bash([string]$Command) {
    # bash's own clock around the command: no .NET process start in the figure. bash's `time` also gives the CPU time
    # (user + system) of the command and the children it waited for, kept in $script:LastCpuMs.
    $out = & bash -c "TIMEFORMAT='%3U %3S'; s=`$EPOCHREALTIME; c=`$( { time $Command >/dev/null 2>&1 ; } 2>&1 ); e=`$EPOCHREALTIME; echo `$s `$e `$c"
    $p = "$out".Trim().Split(' ')
    $script:LastCpuMs = ([double]$p[2] + [double]$p[3]) * 1000
    ([double]$p[1] - [double]$p[0]) * 1000
}
function Get-CpuMs { [Diagnostics.Process]::GetCurrentProcess().TotalProcessorTime.TotalMilliseconds }

New-Item -ItemType Directory -Path $WorkDirectory -Force | Out-Null
try {
    $loadBefore = Get-Load
    # ---- 1. one large configuration
    $big = Join-Path $WorkDirectory 'large.conf'
    [IO.File]::WriteAllText($big, [HaPowerShell.Tests.KeepalivedCorpusGenerator]::Large([long]$SizeMB * 1MB, $Seed))
    $bytes = (Get-Item $big).Length
    $null = Test-KeepalivedConfig -LiteralPath $big -MaxSize ([long]$SizeMB * 2MB)    # warm-up: JIT, keyword tables
    $allocated = [System.Collections.Generic.List[double]]::new()
    $ourCpu = [System.Collections.Generic.List[double]]::new()
    $theirCpu = [System.Collections.Generic.List[double]]::new()
    $ours = foreach ($t in 1..$Trials) {
        $a0 = [GC]::GetAllocatedBytesForCurrentThread()
        $c0 = Get-CpuMs
        $sw = [Diagnostics.Stopwatch]::StartNew()
        $verdict = Test-KeepalivedConfig -LiteralPath $big -MaxSize ([long]$SizeMB * 2MB)
        $sw.Stop()
        $ourCpu.Add((Get-CpuMs) - $c0)
        $allocated.Add(([GC]::GetAllocatedBytesForCurrentThread() - $a0) / 1MB)
        $sw.Elapsed.TotalMilliseconds
    }
    $theirs = foreach ($t in 1..$Trials) { Measure-Bash "keepalived -t -n -l -f '$big'"; $theirCpu.Add($script:LastCpuMs) }
    $large = [pscustomobject]@{
        Measure = "one $([math]::Round($bytes / 1MB, 1)) MB configuration"
        OursMs = [math]::Round((Get-Median $ours), 1); KeepalivedMs = [math]::Round((Get-Median $theirs), 1)
        Ratio = [math]::Round((Get-Median $theirs) / (Get-Median $ours), 2)
        OursAll = ($ours | ForEach-Object { [math]::Round($_, 0) }) -join ' '; KeepalivedAll = ($theirs | ForEach-Object { [math]::Round($_, 0) }) -join ' '
        OursAllocatedMB = [math]::Round((Get-Median $allocated.ToArray()), 1)
        OursCpuMs = [math]::Round((Get-Median $ourCpu.ToArray()), 1); KeepalivedCpuMs = [math]::Round((Get-Median $theirCpu.ToArray()), 1)
    }

    # ---- 2. the corpus: one pipeline against one keepalived -t per file
    $corpus = Join-Path $WorkDirectory 'corpus'
    $files = [HaPowerShell.Tests.KeepalivedCorpusGenerator]::WriteCorpus($corpus, $Valid, $Seed)
    $null = Get-ChildItem -LiteralPath $corpus -File | Test-KeepalivedConfig    # warm-up
    $ours = foreach ($t in 1..$Trials) {
        $sw = [Diagnostics.Stopwatch]::StartNew()
        $null = Get-ChildItem -LiteralPath $corpus -File | Test-KeepalivedConfig
        $sw.Stop(); $sw.Elapsed.TotalMilliseconds
    }
    $theirs = foreach ($t in 1..$Trials) { Measure-Bash "for f in '$corpus'/*.conf; do keepalived -t -n -l -f `"`$f`"; done" }
    $all = [pscustomobject]@{
        Measure = "corpus of $($files.Count) files ($([math]::Round(((Get-ChildItem $corpus -File | Measure-Object Length -Sum).Sum) / 1KB)) KB)"
        OursMs = [math]::Round((Get-Median $ours), 1); KeepalivedMs = [math]::Round((Get-Median $theirs), 1)
        Ratio = [math]::Round((Get-Median $theirs) / (Get-Median $ours), 2)
        OursAll = ($ours | ForEach-Object { [math]::Round($_, 0) }) -join ' '; KeepalivedAll = ($theirs | ForEach-Object { [math]::Round($_, 0) }) -join ' '
    }
    $result = @($large, $all)
    $result | Format-Table Measure, OursMs, KeepalivedMs, Ratio, OursAllocatedMB, OursCpuMs, KeepalivedCpuMs -AutoSize | Out-String -Width 160 | Write-Host
    "trials: $Trials (medians; ratio = keepalived / Test-KeepalivedConfig)  load average before: $loadBefore  after: $(Get-Load)  cores: $([Environment]::ProcessorCount)  $((keepalived --version 2>&1 | Select-Object -First 1))" | Write-Host
    if ($ResultFile) { $result | ConvertTo-Json | Set-Content $ResultFile }
    $result
}
finally {
    Remove-Item -LiteralPath $WorkDirectory -Recurse -Force -ErrorAction Ignore
}
