<#
.SYNOPSIS
    IPVS benchmark: HaPowerShell side by side with ipvsadm on the same kernel, same input.
.DESCRIPTION
    Measures, with medians over -Trials runs:
      1. applying 10,000 services x 2 real servers: `ipvsadm -R` vs Import-IpvsConfig vs Sync-IpvsConfig (from empty);
      2. listing that table: `ipvsadm -Ln` (to /dev/null) vs `Get-IpvsService | Get-IpvsRealServer` in a warm session,
         and `ipvsadm -S -n` vs Export-IpvsConfig;
      3. a Sync that changes 1% of the real servers vs a full apply.
    On a machine whose kernel has no IPVS, the script boots the kernel-lab VM and runs itself there
    (one pwsh process), then prints the table. Not a test: nothing here asserts on time.
.EXAMPLE
    dotnet pwsh bench/Ipvs.Bench.ps1 -Trials 5
#>
param(
    [int]$Services = 10000,
    [int]$Trials = 5,
    [switch]$InGuest,
    [string]$ResultFile
)
$ErrorActionPreference = 'Stop'
$root = Split-Path $PSScriptRoot -Parent

if (-not $InGuest -and -not (Test-Path /proc/net/ip_vs)) {
    Import-Module (Join-Path $root 'tests/lab/KernelLab.psm1') -Force
    $null = Initialize-KernelLab
    $module = Join-Path $root 'out/HaPowerShell'
    if (-not (Test-Path $module)) { throw "Build first: dotnet pwsh ./build.ps1 Build" }
    $run = Invoke-KernelLab -WorkingDirectory $root -TimeoutSeconds 3000 -Script @"
cd '$root'
dotnet pwsh -NoProfile -NonInteractive -File bench/Ipvs.Bench.ps1 -InGuest -Services $Services -Trials $Trials -ResultFile "`$LAB_OUT/ipvs-bench.json"
"@
    Write-Host $run.Output
    if ($run.ExitCode -ne 0) { throw "benchmark run in the VM failed (exit $($run.ExitCode)); console: $($run.ConsoleLog)" }
    $json = Get-Content -Raw (Join-Path $run.OutputDirectory 'ipvs-bench.json')
    if ($ResultFile) { Set-Content -Path $ResultFile -Value $json }
    return
}

Import-Module (Join-Path $root 'out/HaPowerShell') -Force
$tmp = Join-Path ([IO.Path]::GetTempPath()) "haps-bench-$PID"
New-Item -ItemType Directory -Force -Path $tmp | Out-Null

function Measure-Ms([scriptblock]$Block) {
    $sw = [Diagnostics.Stopwatch]::StartNew(); & $Block | Out-Null; $sw.Stop(); $sw.Elapsed.TotalMilliseconds
}
function Get-Median([double[]]$x) { $s = $x | Sort-Object; $n = $s.Count; if ($n % 2) { $s[[math]::Floor($n / 2)] } else { ($s[$n / 2 - 1] + $s[$n / 2]) / 2 } }

# The table: services spread over the three documentation ranges, 2 real servers each.
$nets = '192.0.2', '198.51.100', '203.0.113'
$lines = [System.Collections.Generic.List[string]]::new()
for ($i = 0; $i -lt $Services; $i++) {
    $vip = "$($nets[$i % 3]).$(1 + [math]::Floor($i / 3) % 250)"
    $port = 1000 + [math]::Floor($i / 750)
    $lines.Add("-A -t ${vip}:$port -s wlc")
    $lines.Add("-a -t ${vip}:$port -r 198.51.100.$(1 + $i % 250):$port -m -w 1")
    $lines.Add("-a -t ${vip}:$port -r 203.0.113.$(1 + $i % 250):$port -g -w 1")
}
$rules = Join-Path $tmp 'table.rules'
[IO.File]::WriteAllLines($rules, $lines)
# 1% of the real servers (every 150th line is a real-server line) get a new weight.
$changedLines = for ($i = 0; $i -lt $lines.Count; $i++) { if ($i % 150 -eq 1) { $lines[$i] -replace '-w 1$', '-w 5' } else { $lines[$i] } }
$changedText = $changedLines -join "`n"
$fullText = $lines -join "`n"

$r = [ordered]@{ Services = $Services; RealServers = 2 * $Services; Trials = $Trials; Kernel = (uname -r) }
$results = @{}
foreach ($k in 'ipvsadmRestore', 'importIpvsConfig', 'syncFromEmpty', 'ipvsadmList', 'getServiceRealServer', 'ipvsadmSave', 'exportIpvsConfig', 'sync1Percent') { $results[$k] = [System.Collections.Generic.List[double]]::new() }

# Warm-up (JIT, sockets, scheduler module loading).
& ipvsadm -C; Import-IpvsConfig -Path $rules | Out-Null; Clear-IpvsService -Confirm:$false

for ($t = 0; $t -lt $Trials; $t++) {
    & ipvsadm -C
    $results.ipvsadmRestore.Add((Measure-Ms { & bash -c "ipvsadm -R < '$rules'" }))
    $results.ipvsadmList.Add((Measure-Ms { & bash -c 'ipvsadm -Ln > /dev/null' }))
    $results.getServiceRealServer.Add((Measure-Ms { $script:count = (Get-IpvsService | Get-IpvsRealServer | Measure-Object).Count }))
    $results.ipvsadmSave.Add((Measure-Ms { & bash -c 'ipvsadm -S -n > /dev/null' }))
    $results.exportIpvsConfig.Add((Measure-Ms { Export-IpvsConfig }))
    & ipvsadm -C
    $results.importIpvsConfig.Add((Measure-Ms { Import-IpvsConfig -Path $rules }))
    & ipvsadm -C
    $results.syncFromEmpty.Add((Measure-Ms { $fullText | Sync-IpvsConfig }))
    $results.sync1Percent.Add((Measure-Ms { $script:s1 = $changedText | Sync-IpvsConfig }))
    & bash -c "ipvsadm -C; ipvsadm -R < '$rules'"
}
if ($count -ne 2 * $Services) { throw "listing returned $count real servers, expected $(2 * $Services)" }
& ipvsadm -C
$r.Median = [ordered]@{}
foreach ($k in $results.Keys | Sort-Object) { $r.Median[$k] = [math]::Round((Get-Median $results[$k].ToArray()), 1) }
$r.Ratio = [ordered]@{
    ApplyIpvsadmOverImport = [math]::Round($r.Median.ipvsadmRestore / $r.Median.importIpvsConfig, 2)
    ApplyIpvsadmOverSync   = [math]::Round($r.Median.ipvsadmRestore / $r.Median.syncFromEmpty, 2)
    ListOursOverIpvsadm    = [math]::Round($r.Median.getServiceRealServer / $r.Median.ipvsadmList, 2)
    SaveOursOverIpvsadm    = [math]::Round($r.Median.exportIpvsConfig / $r.Median.ipvsadmSave, 2)
    Sync1PercentOverFull   = [math]::Round($r.Median.sync1Percent / $r.Median.syncFromEmpty, 3)
}
$r.Sync1PercentUpdated = $s1.Updated
$json = $r | ConvertTo-Json -Depth 4
if ($ResultFile) { Set-Content -Path $ResultFile -Value $json }
$json
Remove-Item -Recurse -Force -LiteralPath $tmp
