# Helpers shared by the Pester suites.

function Invoke-ChildPwsh {
    <#
    .SYNOPSIS
        Runs a script in a fresh pwsh (like this one) and returns its output lines and exit code.
    .PARAMETER Prefix
        Program and arguments to run pwsh under (e.g. 'setpriv', '--bounding-set=-net_admin', '--').
    .PARAMETER Environment
        Variables to set for the child only (a $null value removes one).
    #>
    param(
        [Parameter(Mandatory)][string]$Script,
        [string[]]$Prefix = @(),
        [hashtable]$Environment = @{}
    )
    $exe = [Environment]::ProcessPath
    $command = @($exe)
    if ([IO.Path]::GetFileNameWithoutExtension($exe) -eq 'dotnet') { $command += Join-Path $PSHOME 'pwsh.dll' }
    $command = @($Prefix) + $command + @('-NoProfile', '-NonInteractive', '-Command', $Script)
    $saved = @{}
    foreach ($k in $Environment.Keys) { $saved[$k] = [Environment]::GetEnvironmentVariable($k); [Environment]::SetEnvironmentVariable($k, $Environment[$k]) }
    try {
        $output = & $command[0] @($command | Select-Object -Skip 1) 2>&1 | ForEach-Object { "$_" }
        [pscustomobject]@{ ExitCode = $LASTEXITCODE; Output = @($output); Text = ($output -join "`n") }
    } finally {
        foreach ($k in $saved.Keys) { [Environment]::SetEnvironmentVariable($k, $saved[$k]) }
    }
}

Export-ModuleMember -Function Invoke-ChildPwsh
