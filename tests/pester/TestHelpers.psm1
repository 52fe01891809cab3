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

# The text a lab process (Start-LabProcess) has written to its stdout and stderr so far, read while it runs.
function Read-ProcessText($P) {
    $t = ''
    foreach ($f in $P.StdOutPath, $P.StdErrPath) {
        if (Test-Path $f) {
            $fs = [System.IO.FileStream]::new($f, 'Open', 'Read', 'ReadWrite')
            try { $t += [System.IO.StreamReader]::new($fs).ReadToEnd() } finally { $fs.Dispose() }
        }
    }
    $t
}

Export-ModuleMember -Function Invoke-ChildPwsh, Read-ProcessText
