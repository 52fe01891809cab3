<#
.SYNOPSIS
    Runs the Pester suites under tests/pester in this process and writes a JSON summary.
.DESCRIPTION
    Used by build.ps1 (on the host, and inside the kernel-lab VM). Tests find the module under test
    through $env:HAPS_MODULE_PATH and the lab modules under tests/lab. Tests that were filtered out
    are reported by the reason (Kernel or Root tag) so the caller can count them as skipped or run
    them elsewhere, never hide them.
#>
param(
    [Parameter(Mandatory)][string]$PesterPath,
    [Parameter(Mandatory)][string]$ModulePath,
    [Parameter(Mandatory)][string]$ResultFile,
    [string]$Filter = '*',
    # File names (as -Filter takes them) left out even when -Filter selects them.
    [string]$SkipFile = '',
    [string]$Tag,
    [string]$ExcludeTag
)
$ErrorActionPreference = 'Stop'
Import-Module $PesterPath -MinimumVersion 5.7.1
$env:HAPS_MODULE_PATH = $ModulePath
$env:HAPS_REPO_ROOT = Split-Path $PSScriptRoot -Parent

$files = @(Get-ChildItem (Join-Path $PSScriptRoot 'pester'), (Join-Path $PSScriptRoot 'lab') -Filter '*.Tests.ps1' -Recurse |
    Where-Object { $name = $_.Name; @($Filter -split ',' | Where-Object { $name -like "$($_.Trim()).Tests.ps1" -or $name -like $_.Trim() }).Count -gt 0 } |
    Where-Object { $name = $_.Name; @($SkipFile -split ',' | Where-Object { $_.Trim() -and ($name -like "$($_.Trim()).Tests.ps1" -or $name -like $_.Trim()) }).Count -eq 0 })
# With -Tag, only the files that name one of the tags are discovered: discovery runs every file's top-level
# code, which in the kernel-lab VM (software emulation) costs minutes for files with no test to run there.
if ($Tag) {
    $tagPattern = '[''"](' + ((($Tag -split ',') | ForEach-Object { [regex]::Escape($_.Trim()) }) -join '|') + ')[''"]'
    $files = @($files | Where-Object { Select-String -LiteralPath $_.FullName -Pattern $tagPattern -Quiet })
}
$config = New-PesterConfiguration
$config.Run.Path = @($files.FullName)
$config.Run.PassThru = $true
$config.Output.Verbosity = 'Detailed'
if ($Tag) { $config.Filter.Tag = $Tag -split ',' }
if ($ExcludeTag) { $config.Filter.ExcludeTag = $ExcludeTag -split ',' }

# The tests run with PowerShell's default error handling, as in an ordinary session: 'Stop' here
# would turn every non-terminating error in a test into a terminating one.
$ErrorActionPreference = 'Continue'
$result = if ($files) { Invoke-Pester -Configuration $config } else { $null }
$ErrorActionPreference = 'Stop'

function Get-EffectiveTag($test) {
    $tags = @($test.Tag)
    $block = $test.Block
    while ($block) { $tags += @($block.Tag); $block = $block.Parent }
    $tags | Where-Object { $_ }
}

$notRunKernel = 0; $notRunRoot = 0
$failures = @()
if ($result) {
    foreach ($t in $result.Tests) {
        if ($t.Result -eq 'NotRun') {
            $tags = @(Get-EffectiveTag $t)
            if ($tags -contains 'Kernel') { $notRunKernel++ } elseif ($tags -contains 'Root') { $notRunRoot++ }
        }
        if ($t.Result -eq 'Failed') { $failures += $t.ExpandedPath }
    }
    foreach ($c in $result.Containers | Where-Object Result -eq 'Failed') {
        if (-not ($result.Tests | Where-Object { $_.Block.BlockContainer -eq $c -and $_.Result -eq 'Failed' })) { $failures += "container: $($c.Item)" }
    }
}
function Get-RunTestCount($Blocks) {
    # The tests of these blocks and their children that ran (not filtered out).
    $n = 0
    foreach ($b in @($Blocks)) { if ($b) { $n += @($b.Tests | Where-Object { $_.Result -ne 'NotRun' }).Count + (Get-RunTestCount $b.Blocks) } }
    $n
}

$summary = [ordered]@{
    Passed       = if ($result) { $result.PassedCount } else { 0 }
    Failed       = if ($result) { $result.FailedCount + $result.FailedBlocksCount + $result.FailedContainersCount } else { 0 }
    Skipped      = if ($result) { $result.SkippedCount } else { 0 }
    NotRunKernel = $notRunKernel
    NotRunRoot   = $notRunRoot
    Failures     = $failures
    # Where the time went, slowest file first (build.ps1 prints the slowest).
    Files        = @(if ($result) { $result.Containers | Sort-Object Duration -Descending | ForEach-Object { $c = $_
                [ordered]@{ File = [IO.Path]::GetFileName("$($c.Item)"); Seconds = [math]::Round($c.Duration.TotalSeconds, 1)
                    Tests = (Get-RunTestCount $c.Blocks) } } })
}
New-Item -ItemType Directory -Force -Path (Split-Path $ResultFile) | Out-Null
$summary | ConvertTo-Json | Set-Content -Path $ResultFile

