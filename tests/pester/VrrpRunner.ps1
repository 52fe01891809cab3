# Long-lived VRRP speaker for the Vrrp*.Tests.ps1 files: runs inside a lab namespace
# (Start-LabProcess ... dotnet pwsh.dll -NoProfile -File VrrpRunner.ps1 <module> <control-dir> <json-args>).
# It starts one instance with the splatted parameters, prints every 'HaPowerShell.Vrrp' engine event as
#   EVENT <name> <from> <to> <reason> <priority>
# and runs the PowerShell commands dropped into <control-dir>/cmd (one file at a time), printing
#   RESULT <text>   or   ERROR <id> <message>
# It ends (stopping the instance gracefully) when <control-dir>/quit appears or after 10 minutes.
param(
    [Parameter(Mandatory)][string]$ModulePath,
    [Parameter(Mandatory)][string]$ControlDirectory,
    [Parameter(Mandatory)][string]$ParametersJson
)
$ErrorActionPreference = 'Stop'
function Say([string]$Text) { [Console]::Out.WriteLine($Text); [Console]::Out.Flush() }

Import-Module $ModulePath
$p = $ParametersJson | ConvertFrom-Json -AsHashtable
# JSON carries no SecureString: the password arrives as text and is passed as a credential, as from SecretManagement.
if ($p.ContainsKey('AuthenticationPassword')) {
    $p.AuthenticationCredential = [pscredential]::new('vrrp', (ConvertTo-SecureString $p.AuthenticationPassword -AsPlainText -Force))
    $p.Remove('AuthenticationPassword')
}
try {
    $instance = Start-VrrpInstance @p
} catch {
    Say "ERROR $($_.FullyQualifiedErrorId) $($_.Exception.Message)"
    exit 2
}
Say "STARTED $($instance.Name) $($instance.State)"

$deadline = [DateTime]::UtcNow.AddMinutes(10)
$cmd = Join-Path $ControlDirectory 'cmd'
$quit = Join-Path $ControlDirectory 'quit'
while ([DateTime]::UtcNow -lt $deadline -and -not (Test-Path $quit)) {
    # Wait-Event only as the wake-up: with several events queued it returns the newest, so the queue is
    # drained with Get-Event in the order the events were raised.
    $null = Wait-Event -SourceIdentifier 'HaPowerShell.Vrrp' -Timeout 1
    foreach ($e in @(Get-Event -SourceIdentifier 'HaPowerShell.Vrrp' -ErrorAction SilentlyContinue | Sort-Object EventIdentifier)) {
        $a = $e.SourceArgs[0]
        Say "EVENT $($a.Name) $($a.PreviousState) $($a.State) $($a.Reason) $($a.Priority)"
        Remove-Event -EventIdentifier $e.EventIdentifier
    }
    if (Test-Path $cmd) {
        $text = Get-Content -Raw $cmd
        Remove-Item $cmd
        try {
            $r = Invoke-Expression $text | Out-String -Width 400
            Say "RESULT $($r.Trim())"
        } catch {
            Say "ERROR $($_.FullyQualifiedErrorId) $($_.Exception.Message)"
        }
    }
}
Get-VrrpInstance | Stop-VrrpInstance
Say "QUIT"
