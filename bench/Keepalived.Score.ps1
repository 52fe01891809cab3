<#
.SYNOPSIS
    Scores Test-KeepalivedConfig against `keepalived -t` (Debian's 2.2.7) on the same files.
.DESCRIPTION
    Runs both checkers on every file of:
      - keepalived's sample configurations (/usr/share/doc/keepalived/samples/keepalived.conf.*);
      - a corpus generated here by tests/HaPowerShell.Tests/KeepalivedCorpusGenerator.cs (compiled with
        Add-Type: valid configurations with every section, classic LVS-DR/NAT directors, VRRP pairs, unicast,
        sync groups, every checker, includes; and one mutant per mistake kind of each: typos, missing and extra
        braces, bad numbers, out-of-range values, undefined references, duplicates, ...), written to -CorpusDirectory;
      - any further directories given with -ExtraDirectory (every regular file in them).
    Both run on this host, with its interfaces, users and files: keepalived -t as it is, Test-KeepalivedConfig with
    -CheckEnvironment (so findings about this host count as errors on both sides). keepalived is run with
    -i <ConfigId> and Test-KeepalivedConfig with -ConfigId, the same id.

    Reports, per set and in all:
      - verdict agreement: accepted by both or rejected by both (keepalived: exit status 0 or not);
      - on the files keepalived rejects, error-line agreement: the set of (file, line) keepalived prints
        ("(FILE: Line N) ...") equals the set of lines of the findings Test-KeepalivedConfig marks as printed by
        keepalived (ReportedByKeepalived);
      - environment findings, counted apart (the issue scores verdicts "environment findings aside"): files
        keepalived rejects where every error we find is about this host (IsEnvironment), and files naming a
        net_namespace that does not exist here (keepalived -t enters it first and, failing, exits 0 unchecked).
    Each disagreement is listed with both sides' lines (-ShowDisagreements), so a change can be checked against it.
    Not a test and not a benchmark: no timing; tests/pester/KeepalivedConfig.Tests.ps1 asserts the samples' agreement.
.EXAMPLE
    dotnet pwsh ./build.ps1 Build; dotnet pwsh bench/Keepalived.Score.ps1
.EXAMPLE
    dotnet pwsh bench/Keepalived.Score.ps1 -Valid 40 -ExtraDirectory /srv/configs -ShowDisagreements
#>
param(
    [ValidateRange(0, 10000)][int]$Valid = 30,
    [int]$Seed = 1400,
    [string]$CorpusDirectory = (Join-Path ([IO.Path]::GetTempPath()) 'hap-kconf-corpus'),
    [string[]]$ExtraDirectory = @(),
    [string]$ConfigId = 'lb1',
    [switch]$ShowDisagreements,
    [switch]$NoSamples,
    [switch]$HostNetwork,
    [string]$ResultFile
)
$ErrorActionPreference = 'Stop'
$root = Split-Path $PSScriptRoot -Parent
$module = Join-Path $root 'out/HaPowerShell'
if (-not (Test-Path (Join-Path $module 'HaPowerShell.psd1'))) { throw 'Build first: dotnet pwsh ./build.ps1 Build' }
if (-not (Get-Command keepalived -CommandType Application -ErrorAction Ignore)) { throw 'keepalived is not installed (apt-get install keepalived).' }

# By default both checkers run inside a network namespace made here with the interfaces the generated
# configurations name (eth0, eth1: veth devices), so that a generated file is not rejected only
# because this host lacks eth1; -HostNetwork scores on this host's own interfaces.
if (-not $HostNetwork -and -not $env:HAP_SCORE_NETNS) {
    $ns = "hapk-score-$PID"
    & ip netns add $ns
    try {
        & ip -n $ns link set lo up
        foreach ($i in 'eth0', 'eth1') {
            & ip -n $ns link add $i type veth peer name "$i-peer"
            & ip -n $ns link set "$i-peer" up
            & ip -n $ns link set $i multicast on up
        }
        $env:HAP_SCORE_NETNS = $ns
        $pass = @{} + $PSBoundParameters
        $argv = foreach ($k in $pass.Keys) {
            $v = $pass[$k]
            if ($v -is [switch]) { if ($v) { "-$k" } } elseif ($v -is [array]) { "-$k"; $v -join ',' } else { "-$k"; "$v" }
        }
        Push-Location $root
        try { & ip netns exec $ns dotnet pwsh -NoProfile -File $PSCommandPath @argv } finally { Pop-Location }
    }
    finally {
        & ip netns delete $ns
        Remove-Item env:HAP_SCORE_NETNS -ErrorAction Ignore
    }
    return
}
Import-Module $module -Force

function Get-KeepalivedVerdict([string]$Path) {
    # keepalived -t prints its findings as "(FILE: Line N) message" and exits non-zero on any; a crash (signal) rejects too.
    $out = & timeout 60 keepalived -t -n -l -i $ConfigId -f $Path 2>&1 | ForEach-Object { "$_" }
    $code = $LASTEXITCODE
    $lines = [Collections.Generic.HashSet[string]]::new()
    foreach ($l in $out) {
        # The parent process's read names no file ("(Line 4) ..."): the main file, or an include keepalived does not name.
        if ($l -match '^\((?:(?<file>.+): )?Line (?<line>\d+)\)') { [void]$lines.Add("$(if ($Matches.file) { $Matches.file } else { $Path }):$($Matches.line)") }
    }
    [pscustomobject]@{ Accepted = ($code -eq 0); ExitCode = $code; Lines = $lines; Output = $out }
}

function Get-OurVerdict([string]$Path) {
    $findings = @(Test-KeepalivedConfig -LiteralPath $Path -Detailed -CheckEnvironment -ConfigId $ConfigId -ErrorAction SilentlyContinue)
    $lines = [Collections.Generic.HashSet[string]]::new()
    foreach ($f in $findings) { if ($f.ReportedByKeepalived -and $null -ne $f.Line) { [void]$lines.Add("$($f.File):$($f.Line)") } }
    $errors = @($findings | Where-Object Severity -eq 'Error')
    [pscustomobject]@{
        Accepted = ($errors.Count -eq 0); Lines = $lines; Findings = $findings
        EnvironmentOnly = ($errors.Count -gt 0 -and -not ($errors | Where-Object { -not $_.IsEnvironment }))
        # keepalived -t enters the net_namespace before its checks and, when it does not exist here, exits 0 at once
        # (whatever it printed): its verdict is about this host, not the file.
        NamespaceStop = [bool]($findings | Where-Object { $_.IsEnvironment -and $_.Keyword -eq 'net_namespace' })
    }
}

# The corpus: written fresh each run from the generator (the same seed gives the same files).
$sets = [ordered]@{}
if (-not $NoSamples) {
    $sets['keepalived samples'] = @(Get-ChildItem /usr/share/doc/keepalived/samples -Filter 'keepalived.conf.*' -File | Sort-Object Name | ForEach-Object FullName)
}
if ($Valid -gt 0) {
    if (Test-Path $CorpusDirectory) { Remove-Item $CorpusDirectory -Recurse -Force }
    if (-not ('HaPowerShell.Tests.KeepalivedCorpusGenerator' -as [type])) {
        Add-Type -Path (Join-Path $root 'tests/HaPowerShell.Tests/KeepalivedCorpusGenerator.cs') -ReferencedAssemblies System.Text.RegularExpressions, System.Collections, System.Linq, System.Runtime, System.Console
    }
    $sets['generated corpus'] = @([HaPowerShell.Tests.KeepalivedCorpusGenerator]::WriteCorpus($CorpusDirectory, $Valid, $Seed) |
        Where-Object { $_ -notmatch '/include/' })
}
foreach ($d in $ExtraDirectory) {
    $sets["extra: $d"] = @(Get-ChildItem $d -File -Recurse | Sort-Object FullName | ForEach-Object FullName)
}

$rows = @(foreach ($set in $sets.Keys) {
    $n = 0; $agree = 0; $rejected = 0; $lineAgree = 0; $envOnly = 0; $envOnlyAgree = 0
    $disagree = [Collections.Generic.List[object]]::new()
    foreach ($path in $sets[$set]) {
        $n++
        $k = Get-KeepalivedVerdict $path
        $o = Get-OurVerdict $path
        $verdictOk = $k.Accepted -eq $o.Accepted
        if ($verdictOk) { $agree++ }
        if ((-not $k.Accepted -and $o.EnvironmentOnly) -or $o.NamespaceStop) { $envOnly++; if ($verdictOk) { $envOnlyAgree++ } }
        $linesOk = $true
        if (-not $k.Accepted) {
            $rejected++
            $linesOk = $k.Lines.SetEquals($o.Lines)
            if ($linesOk) { $lineAgree++ }
        }
        if (-not $verdictOk -or -not $linesOk) {
            $disagree.Add([pscustomobject]@{
                File = $path; Keepalived = if ($k.Accepted) { 'accepts' } else { "rejects ($($k.ExitCode))" }
                Ours = if ($o.Accepted) { 'accepts' } else { 'rejects' }
                OnlyKeepalived = @($k.Lines | Where-Object { -not $o.Lines.Contains($_) })
                OnlyOurs = @($o.Lines | Where-Object { -not $k.Lines.Contains($_) })
                KeepalivedSays = $k.Output; WeSay = @($o.Findings | ForEach-Object { "$_" })
            })
        }
    }
    [pscustomobject]@{
        Set = $set; Files = $n; VerdictAgree = $agree
        VerdictPercent = if ($n) { [math]::Round(100.0 * $agree / $n, 2) } else { $null }
        KeepalivedRejects = $rejected; ErrorLinesAgree = $lineAgree
        ErrorLinesPercent = if ($rejected) { [math]::Round(100.0 * $lineAgree / $rejected, 2) } else { $null }
        EnvironmentOnly = $envOnly; EnvironmentOnlyAgree = $envOnlyAgree
        VerdictPercentEnvironmentAside = if ($n - $envOnly) { [math]::Round(100.0 * ($agree - $envOnlyAgree) / ($n - $envOnly), 2) } else { $null }
        Disagreements = $disagree
    }
})

$total = [pscustomobject]@{
    Set = 'all'; Files = ($rows | Measure-Object Files -Sum).Sum; VerdictAgree = ($rows | Measure-Object VerdictAgree -Sum).Sum
    KeepalivedRejects = ($rows | Measure-Object KeepalivedRejects -Sum).Sum; ErrorLinesAgree = ($rows | Measure-Object ErrorLinesAgree -Sum).Sum
    EnvironmentOnly = ($rows | Measure-Object EnvironmentOnly -Sum).Sum
}
$total | Add-Member VerdictPercent ([math]::Round(100.0 * $total.VerdictAgree / [math]::Max(1, $total.Files), 2))
$envAgree = ($rows | Measure-Object EnvironmentOnlyAgree -Sum).Sum
$total | Add-Member VerdictPercentEnvironmentAside ([math]::Round(100.0 * ($total.VerdictAgree - $envAgree) / [math]::Max(1, $total.Files - $total.EnvironmentOnly), 2))
$total | Add-Member ErrorLinesPercent ([math]::Round(100.0 * $total.ErrorLinesAgree / [math]::Max(1, $total.KeepalivedRejects), 2))

@($rows) + $total | Format-Table Set, Files, VerdictAgree, VerdictPercent, KeepalivedRejects, ErrorLinesAgree, ErrorLinesPercent, EnvironmentOnly, VerdictPercentEnvironmentAside -AutoSize | Out-String -Width 200 | Write-Host
"keepalived: $((keepalived --version 2>&1 | Select-Object -First 1))  network: $(if ($env:HAP_SCORE_NETNS) { "namespace $env:HAP_SCORE_NETNS (lo, eth0, eth1)" } else { 'this host' })  config id: $ConfigId  load average: $((Get-Content /proc/loadavg).Split(' ')[0..2] -join ' ')" | Write-Host
if ($ShowDisagreements) {
    foreach ($r in $rows) {
        foreach ($d in $r.Disagreements) {
            Write-Host "---- $($d.File): keepalived $($d.Keepalived), we $($d.Ours); lines only keepalived: $($d.OnlyKeepalived -join ', '); only ours: $($d.OnlyOurs -join ', ')"
            $d.KeepalivedSays | Select-Object -First 8 | ForEach-Object { Write-Host "   k: $_" }
            $d.WeSay | Select-Object -First 8 | ForEach-Object { Write-Host "   w: $_" }
        }
    }
}
if ($ResultFile) { @($rows) + $total | Select-Object * -ExcludeProperty Disagreements | ConvertTo-Json | Set-Content $ResultFile }
@($rows) + $total | Select-Object * -ExcludeProperty Disagreements
