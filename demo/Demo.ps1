#Requires -Version 7.2
<#
.SYNOPSIS
    The seed's LVS-DR cluster end to end, narrated: real servers, two directors sharing the VIP by
    VRRP, IPVS with health checks and the connection sync daemon, a real-server failure and a director
    failover under traffic, all built and driven with HaPowerShell's cmdlets. Then the second act: the same
    cluster from keepalived.conf files (the seed's snippet and its typo caught by Test-KeepalivedConfig first),
    run by hapd on both directors, with a failover (hapd killed) and a failback.
.DESCRIPTION
    Run it with `dotnet tool restore && dotnet pwsh ./build.ps1 Demo`: that builds the module and runs
    this script, inside the kernel-lab VM when this machine's kernel has no IPVS. Needs root (network
    namespaces, IPVS). Every step prints the seed's lines it replaces, the cmdlets it runs (on which
    host) and what they return, then what it checked. The last line is
        Demo: <N> requests, <F> failed outside the failover windows, failover <T> ms, hapd failover <T2> ms
    and the exit code is 0 only when every check passed. Everything it made (namespaces, processes) is
    removed at the end, on failure and on Ctrl+C.

    The runbook's steps live in demo/LvsDemo.psm1 (tests/pester/LvsDemo.Tests.ps1 asserts the same
    steps); the acts below list them, so a later act is one more entry. The teardown runs after the acts chosen.
.PARAMETER ModulePath
    The built module (default: out/HaPowerShell next to this folder).
.PARAMETER Act
    The acts to run (default: all, in order): lvs-dr, keepalived (which needs the lvs-dr act before it).
#>
[CmdletBinding()]
param(
    [string]$ModulePath = (Join-Path $PSScriptRoot '../out/HaPowerShell'),
    [string[]]$Act
)
$ErrorActionPreference = 'Stop'
$started = [Diagnostics.Stopwatch]::StartNew()

$acts = [ordered]@{
    'lvs-dr' = @{
        Title = "the seed's LVS-DR cluster: two directors, two real servers, one VIP"
        Steps = @('Invoke-LvsRealServerStep', 'Invoke-LvsDirectorStep', 'Invoke-LvsVrrpStep', 'Invoke-LvsHealthCheckStep',
            'Invoke-LvsRequestStep', 'Invoke-LvsPersistenceStep', 'Invoke-LvsMiscDynamicStep', 'Invoke-LvsRealServerFailureStep',
            'Invoke-LvsFailoverStep', 'Invoke-LvsFailbackStep')
    }
    'keepalived' = @{
        Title = 'the same cluster from keepalived.conf, checked, then run by hapd on both directors'
        Steps = @('Invoke-LvsKeepalivedConfigStep', 'Invoke-LvsHapdStartStep', 'Invoke-LvsHapdFailoverStep', 'Invoke-LvsHapdFailbackStep', 'Invoke-LvsHapdStopStep')
    }
}
# After the acts: the seed's ipvsadm -d, -D and -C, and the check that nothing is left.
$finale = 'Invoke-LvsTeardownStep'

function Write-Say([string]$Kind, [string]$Text) {
    switch ($Kind) {
        'title' { $script:stepNo++; Write-Host ''; Write-Host (("== {0}. {1} " -f $script:stepNo, $Text).PadRight(92, '=') + (" {0:m\:ss} in" -f $started.Elapsed)) -ForegroundColor Cyan }
        'seed' { Write-Host "   seed | $Text" -ForegroundColor DarkYellow }
        'command' {
            $lines = $Text -split "`r?`n"
            $head = $lines[0]
            $cut = $head.IndexOf('> ')
            $pad = if ($cut -ge 0) { ' ' * ($cut + 2) } else { '' }
            Write-Host "   $head" -ForegroundColor Green
            foreach ($l in $lines | Select-Object -Skip 1) { Write-Host "   $pad$l" -ForegroundColor Green }
        }
        'output' { foreach ($l in ($Text.TrimEnd() -split "`r?`n")) { if ($l.Trim()) { Write-Host "     $l" } } }
        'check' {
            $ok, $what = $Text -split '\|', 2
            if ($ok -eq 'ok') { Write-Host "   ok      $what" -ForegroundColor Green } else { Write-Host "   FAILED  $what" -ForegroundColor Red }
        }
        'note' { Write-Host "   $Text" -ForegroundColor Gray }
        'progress' { Write-Host $Text -ForegroundColor DarkGray }
        default { Write-Host $Text }
    }
}
$script:stepNo = 0

if ((& id -u) -ne '0') {
    Write-Host 'The demo needs root: it builds network namespaces and programs the kernel''s IPVS table. Run it as root (sudo dotnet pwsh ./build.ps1 Demo). Nothing was changed.'
    exit 1
}
Import-Module (Join-Path $PSScriptRoot '../tests/lab/KernelLab.psm1')
if (-not (Test-KernelIpvs)) {
    Write-Host "This kernel has no IPVS. Run the demo with 'dotnet pwsh ./build.ps1 Demo', which boots the kernel-lab VM for it. Nothing was changed."
    exit 1
}
foreach ($tool in 'python3', 'tcpdump', 'ip') {
    if (-not (Get-Command $tool -ErrorAction Ignore)) { Write-Host "The demo needs '$tool' (lab plumbing); 'build.ps1 Demo' installs it as root. Nothing was changed."; exit 1 }
}
if (-not (Test-Path (Join-Path $ModulePath 'HaPowerShell.psd1'))) { Write-Host "No built module at ${ModulePath}: run 'dotnet pwsh ./build.ps1 Build' first."; exit 1 }
Import-Module (Join-Path $PSScriptRoot 'LvsDemo.psm1') -Force

$names = @(if ($Act) { $Act } else { $acts.Keys })
foreach ($n in $names) { if (-not $acts.Contains($n)) { throw "Unknown act '$n' (acts: $($acts.Keys -join ', '))." } }
$iDr = [array]::IndexOf($names, 'lvs-dr'); $iK = [array]::IndexOf($names, 'keepalived')
if ($iK -ge 0 -and ($iDr -lt 0 -or $iDr -gt $iK)) {
    throw "The keepalived act runs the lvs-dr act's cluster again from files: run '-Act lvs-dr, keepalived'."
}

$lab = $null
$aborted = $null
try {
    Write-Host "HaPowerShell demo: $($acts[$names[0]].Title)"
    Write-Host "The seed's 10.0.0.0/24 is the documentation range 192.0.2.0/24 here; every host is a network namespace."
    $lab = New-LvsDemo -ModulePath $ModulePath -Say ${function:Write-Say}
    foreach ($n in $names) {
        if ($names.Count -gt 1 -or $n -ne 'lvs-dr') { Write-Host ''; Write-Host "#### Act: $($acts[$n].Title)" -ForegroundColor Cyan }
        $actClock = [Diagnostics.Stopwatch]::StartNew()
        foreach ($s in $acts[$n].Steps) { $null = & $s -Lab $lab }
        Write-Host ''
        Write-Host ("#### Act {0} took {1:n0} s" -f $n, $actClock.Elapsed.TotalSeconds) -ForegroundColor Cyan
    }
    $null = & $finale -Lab $lab
} catch {
    $aborted = $_
    Write-Host ''
    Write-Host "FAILED: $($_.Exception.Message)" -ForegroundColor Red
    if ($_.InvocationInfo) { Write-Host $_.InvocationInfo.PositionMessage -ForegroundColor DarkGray }
} finally {
    if ($lab) {
        Write-Host ''
        Write-Host 'Cleaning up: agents (their VRRP instances and checkers), programs, namespaces.' -ForegroundColor DarkGray
        Remove-LvsDemo $lab
    }
}

$summary = if ($lab) { Get-LvsDemoSummary -Lab $lab } else { $null }
$failed = @(if ($summary) { $summary.FailedChecks })
Write-Host ''
if ($failed.Count) {
    Write-Host "$($failed.Count) check(s) failed:" -ForegroundColor Red
    foreach ($c in $failed) { Write-Host "   [$($c.Step)] $($c.What) $($c.Detail)" -ForegroundColor Red }
}
$checks = if ($lab) { @($lab.Steps | ForEach-Object { $_.Checks }).Count } else { 0 }
$uptime = [double](([IO.File]::ReadAllText('/proc/uptime') -split ' ')[0])
$vm = if ($env:HAPS_KERNEL_LAB) { "; the kernel-lab VM had been up $([math]::Round($uptime)) s" } else { '' }
Write-Host ("{0} of {1} checks passed; the demo ran {2:n0} s{3}." -f ($checks - $failed.Count), $checks, $started.Elapsed.TotalSeconds, $vm)
if ($summary) { Write-Host $summary.Line } else { Write-Host 'Demo: 0 requests, 0 failed outside the failover windows, failover ? ms' }
if ($aborted -or $failed.Count -or -not $summary -or $summary.FailedOutsideWindow -gt 0) { exit 1 }
exit 0
