# Runs the hostile-input rows of one tag in this process (the caller puts it in the right network
# namespace) and writes their results: to -ResultFile (CliXml) when given, else to the pipeline.
# Rows come from Hostile.Rows.ps1; each runs between two snapshots (HostileInput.psm1).
param(
    [Parameter(Mandatory)][string]$ModulePath,
    [Parameter(Mandatory)][ValidateSet('None', 'Root', 'Kernel')][string]$Tag,
    [string]$Setup,
    # Only these parts of the state are compared (all by default; see Get-HaStateSnapshot).
    [string[]]$Parts,
    [string]$ResultFile
)
$ErrorActionPreference = 'Stop'
Import-Module $ModulePath
Import-Module (Join-Path $PSScriptRoot 'HostileInput.psm1')
$env:HAPS_HOSTILE_WORK = Join-Path ([System.IO.Path]::GetTempPath()) ("haps-hostile-" + [guid]::NewGuid().ToString('n').Substring(0, 8))
$null = New-Item -ItemType Directory -Path $env:HAPS_HOSTILE_WORK
try {
    if ($Setup) { $null = & ([scriptblock]::Create($Setup)) }
    # Rows that change the machine's files (LabOnly) run only in the throw-away kernel lab.
    $rows = @(& (Join-Path $PSScriptRoot 'Hostile.Rows.ps1') | Where-Object { $_.Tag -eq $Tag -and (-not $_.LabOnly -or $env:HAPS_KERNEL_LAB -eq '1') })
    $results = foreach ($row in $rows) {
        $ErrorActionPreference = 'Continue'
        if ($env:HAPS_HOSTILE_LOG) { Add-Content $env:HAPS_HOSTILE_LOG "$([DateTime]::UtcNow.ToString('HH:mm:ss.fff')) start $($row.Name)" }
        try { Invoke-HostileRow -Row $row -ModulePath $ModulePath -Parts $Parts }
        catch { [pscustomobject]@{ Name = $row.Name; Ids = @("RunnerFailed: $_"); Messages = @("$_"); Changed = @(); Output = @(); Stopped = $false; Seconds = 0 } }
    }
} finally {
    Remove-Item -Recurse -Force $env:HAPS_HOSTILE_WORK -ErrorAction Ignore
}
if ($ResultFile) { $results | Export-Clixml -Path $ResultFile -Depth 4 } else { $results }
