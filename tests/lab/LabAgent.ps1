# A long-lived pwsh inside a lab namespace, driven by Invoke-LabAgent (NetnsLab.psm1) over its standard
# input and output. Not meant to be started by hand: Start-LabAgent starts it with `ip netns exec`.
#
# Protocol (one line per message, UTF-8; payloads are base64 of PowerShell CliXml):
#   in : <payload of @{ Id; Script; Arguments; Format }>          a command; end of input ends the agent
#   out: \x01HAPS READY <payload of @{ Pid; Namespace }>          once, after the module is imported
#        \x01HAPS RESULT <payload of @{ Id; Output; Text; Errors; Warnings; Information; Failed; Seconds }>
#        \x01HAPS EVENT <payload of @{ SourceIdentifier; TimeGenerated; Data }>   engine events of -ForwardEvent
#             (Data: the event's MessageData or SourceArgs[0], flat: numbers, booleans and times as they are, other values as strings)
# Commands run one at a time, dot-sourced in the script scope (a variable one command sets is there for the
# next), with $ErrorActionPreference = 'Stop': the first error ends the command and is reported. Every stream
# is captured, nothing else reaches standard output. Engine events are forwarded whenever the agent waits for
# input; other -Action subscribers of the same events (a command may register them) run as well.
param(
    [string]$ModulePath,
    [string[]]$ForwardEvent = @()
)
$ProgressPreference = 'SilentlyContinue'
$PSStyle.OutputRendering = "PlainText"
$ErrorActionPreference = 'Stop'
Set-StrictMode -Off

$global:HapsAgentWriter = [IO.StreamWriter]::new([Console]::OpenStandardOutput(), [Text.UTF8Encoding]::new($false))
$global:HapsAgentWriter.AutoFlush = $true
function global:Send-HapsAgentMessage([string]$Kind, [object]$Payload) {
    $xml = [Management.Automation.PSSerializer]::Serialize($Payload, 3)
    $line = "`u{1}HAPS $Kind " + [Convert]::ToBase64String([Text.Encoding]::UTF8.GetBytes($xml))
    [Threading.Monitor]::Enter($global:HapsAgentWriter)
    try { $global:HapsAgentWriter.WriteLine($line) } finally { [Threading.Monitor]::Exit($global:HapsAgentWriter) }
}

if ($ModulePath) { Import-Module $ModulePath }
foreach ($__sourceId in @($ForwardEvent | Where-Object { $_ })) {
    $null = Register-EngineEvent -SourceIdentifier $__sourceId -Action {
        $data = if ($null -ne $Event.MessageData) { $Event.MessageData } elseif ($Event.SourceArgs) { $Event.SourceArgs[0] } else { $null }
        # Flat, so the receiver compares plain values: numbers, booleans and times as they are, the rest
        # (enums, addresses, nested objects) as their strings.
        $flat = [ordered]@{}
        if ($null -ne $data) {
            foreach ($p in $data.PSObject.Properties) {
                try { $v = $p.Value } catch { continue }
                if ($null -ne $v -and ($v -is [enum] -or -not ($v -is [ValueType] -or $v -is [string]))) { $v = "$v" }
                $flat[$p.Name] = $v
            }
        }
        Send-HapsAgentMessage 'EVENT' @{ SourceIdentifier = $Event.SourceIdentifier; TimeGenerated = $Event.TimeGenerated; Data = [pscustomobject]$flat }
    }
}

$__agentIn = [IO.StreamReader]::new([Console]::OpenStandardInput(), [Text.UTF8Encoding]::new($false))
$__agentNs = ''
try { $__agentNs = (& ip netns identify 2>$null) } catch { }
Send-HapsAgentMessage 'READY' @{ Pid = $PID; Namespace = "$__agentNs" }

$__agentRead = $__agentIn.ReadLineAsync()
while ($true) {
    # Short waits: engine-event actions (forwarding included) run between them.
    if (-not $__agentRead.Wait(100)) { continue }
    $__agentLine = $__agentRead.Result
    if ($null -eq $__agentLine) { break }
    $__agentRead = $__agentIn.ReadLineAsync()
    if (-not $__agentLine.Trim()) { continue }
    $__agentReq = [Management.Automation.PSSerializer]::Deserialize([Text.Encoding]::UTF8.GetString([Convert]::FromBase64String($__agentLine)))
    $__agentSw = [Diagnostics.Stopwatch]::StartNew()
    $__agentAll = [Collections.Generic.List[object]]::new()
    $__agentFailed = $null
    try {
        $__agentBlock = [scriptblock]::Create([string]$__agentReq.Script)
        $__agentArgs = @($__agentReq.Arguments)
        $ErrorActionPreference = 'Stop'
        . $__agentBlock @__agentArgs 2>&1 3>&1 4>&1 5>&1 6>&1 | ForEach-Object { $__agentAll.Add($_) }
    } catch {
        $__agentFailed = $_
    }
    $ErrorActionPreference = 'Stop'
    $__agentOut = [Collections.Generic.List[object]]::new()
    $__agentErr = [Collections.Generic.List[object]]::new()
    $__agentWarn = [Collections.Generic.List[string]]::new()
    $__agentInfo = [Collections.Generic.List[string]]::new()
    foreach ($__o in $__agentAll) {
        if ($__o -is [Management.Automation.ErrorRecord]) { $__agentErr.Add($__o) }
        elseif ($__o -is [Management.Automation.WarningRecord]) { $__agentWarn.Add($__o.Message) }
        elseif ($__o -is [Management.Automation.InformationRecord]) { $__agentInfo.Add([string]$__o.MessageData) }
        elseif ($__o -is [Management.Automation.VerboseRecord] -or $__o -is [Management.Automation.DebugRecord]) { }
        else { $__agentOut.Add($__o) }
    }
    if ($__agentFailed) { $__agentErr.Add($__agentFailed) }
    $__agentText = $null
    if ($__agentReq.Format -and $__agentOut.Count -gt 0) {
        try { $__agentText = ($__agentOut | Out-String -Width ([int]$__agentReq.Format)).TrimEnd() } catch { $__agentText = "(formatting failed: $_)" }
    }
    $__agentErrors = @($__agentErr | ForEach-Object {
            [pscustomobject]@{ Id = $_.FullyQualifiedErrorId; Category = [string]$_.CategoryInfo.Category; Message = $_.Exception.Message
                Position = if ($_.InvocationInfo) { $_.InvocationInfo.PositionMessage } else { '' } } })
    Send-HapsAgentMessage 'RESULT' @{ Id = $__agentReq.Id; Output = $__agentOut.ToArray(); Text = $__agentText; Errors = $__agentErrors
        Warnings = $__agentWarn.ToArray(); Information = $__agentInfo.ToArray(); Failed = [bool]$__agentFailed; Seconds = $__agentSw.Elapsed.TotalSeconds }
}
