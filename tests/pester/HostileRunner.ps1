# Runs the hostile-input rows of one tag in this process (the caller puts it in the right network
# namespace) and writes their results: to -ResultFile (CliXml) when given, else to the pipeline.
# Rows come from Hostile.Rows.ps1; each runs between two snapshots (HostileInput.psm1).
param(
    [Parameter(Mandatory)][string]$ModulePath,
    [Parameter(Mandatory)][ValidateSet('None', 'Root', 'Kernel')][string]$Tag,
    [string]$Setup,
    [string]$ResultFile
)
$ErrorActionPreference = 'Stop'
Import-Module $ModulePath
Import-Module (Join-Path $PSScriptRoot 'HostileInput.psm1')
$env:HAPS_HOSTILE_WORK = Join-Path ([System.IO.Path]::GetTempPath()) ("haps-hostile-" + [guid]::NewGuid().ToString('n').Substring(0, 8))
$null = New-Item -ItemType Directory -Path $env:HAPS_HOSTILE_WORK
try {
    if ($Setup) { $null = & ([scriptblock]::Create($Setup)) }
    $results = foreach ($row in @(& (Join-Path $PSScriptRoot 'Hostile.Rows.ps1') | Where-Object { $_.Tag -eq $Tag })) {
        $ErrorActionPreference = 'Continue'
        try { Invoke-HostileRow -Row $row -ModulePath $ModulePath }
        catch { [pscustomobject]@{ Name = $row.Name; Ids = @("RunnerFailed: $_"); Messages = @("$_"); Changed = @(); Output = @(); Stopped = $false; Seconds = 0 } }
    }
} finally {
    Remove-Item -Recurse -Force $env:HAPS_HOSTILE_WORK -ErrorAction Ignore
}
if ($ResultFile) { $results | Export-Clixml -Path $ResultFile -Depth 4 } else { $results }
