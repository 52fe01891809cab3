<#
.SYNOPSIS
    IPVS benchmark: HaPowerShell side by side with ipvsadm on the same kernel, same input.
.DESCRIPTION
    Measures, with medians over -Trials runs:
      1. applying 10,000 services x 2 real servers: `ipvsadm -R` vs Import-IpvsConfig vs Sync-IpvsConfig (from empty);
      2. listing that table: `ipvsadm -Ln` (to /dev/null) vs `Get-IpvsService | Get-IpvsRealServer` in a warm session,
         and `ipvsadm -S -n` vs Export-IpvsConfig;
      3. a Sync that changes 1% of the real servers vs a full apply.
    Every trial applies the table in fresh network namespaces (each has its own, empty IPVS table):
    ipvsadm -R (then -Ln and -S -n) in one, Import-IpvsConfig in a second, Sync-IpvsConfig from empty
    and then the 1% change in a third. Ours run in a child pwsh in that namespace, warmed up first
    (every path run at least twice on the full-size input: parsing with -WhatIf, the kernel side with
    the 10,000 services alone and with the 20,000 real-server lines alone, which the kernel refuses
    without keeping anything; listing three times on the table itself; the 1% sync's read and compare
    with weight-only syncs); the times are taken inside the namespace
    for both tools. A fresh namespace matters: a table re-added soon after flushing it in the same
    namespace is slowed by the kernel's real-server trash (see docs/benchmarks.md).
    On a machine whose kernel has no IPVS, the script boots the kernel-lab VM and runs itself there,
    then prints the table. Not a test: nothing here asserts on time.
    -NoTieredCompilation runs our child with DOTNET_TieredCompilation=0 (see the parameter).
.EXAMPLE
    dotnet pwsh bench/Ipvs.Bench.ps1 -Trials 5 [-NoTieredCompilation]
#>
param(
    [int]$Services = 10000,
    [int]$Trials = 5,
    # Run our child pwsh with DOTNET_TieredCompilation=0: code compiled once, optimised, at first use, instead of
    # compiled quickly first and again, optimised, by a background thread that under the VM's emulation is
    # still busy minutes after start (see docs/benchmarks.md). Natively a session reaches that state in seconds.
    [switch]$NoTieredCompilation,
    [switch]$InGuest,
    [string]$ResultFile,
    # Internal: one measurement in a child pwsh inside a fresh network namespace.
    [ValidateSet('List', 'Import', 'Sync')][string]$Child,
    [string]$Rules, [string]$WarmRules, [string]$ChangedRules
)
$ErrorActionPreference = 'Stop'
$root = Split-Path $PSScriptRoot -Parent

if (-not $Child -and -not $InGuest -and -not (Test-Path /proc/net/ip_vs)) {
    Import-Module (Join-Path $root 'tests/lab/KernelLab.psm1') -Force
    $null = Initialize-KernelLab
    $module = Join-Path $root 'out/HaPowerShell'
    if (-not (Test-Path $module)) { throw "Build first: dotnet pwsh ./build.ps1 Build" }
    $run = Invoke-KernelLab -WorkingDirectory $root -TimeoutSeconds 3000 -Script @"
cd '$root'
dotnet pwsh -NoProfile -NonInteractive -File bench/Ipvs.Bench.ps1 -InGuest -Services $Services -Trials $Trials $(if ($NoTieredCompilation) { '-NoTieredCompilation' }) -ResultFile "`$LAB_OUT/ipvs-bench.json"
"@
    Write-Host $run.Output
    if ($run.ExitCode -ne 0) { throw "benchmark run in the VM failed (exit $($run.ExitCode)); console: $($run.ConsoleLog)" }
    $json = Get-Content -Raw (Join-Path $run.OutputDirectory 'ipvs-bench.json')
    if ($ResultFile) { Set-Content -Path $ResultFile -Value $json }
    return
}

function Measure-Ms([scriptblock]$Block) {
    $sw = [Diagnostics.Stopwatch]::StartNew(); & $Block | Out-Null; $sw.Stop(); $sw.Elapsed.TotalMilliseconds
}
function Get-Median([double[]]$x) { $s = $x | Sort-Object; $n = $s.Count; if ($n % 2) { $s[[math]::Floor($n / 2)] } else { ($s[$n / 2 - 1] + $s[$n / 2]) / 2 } }

if ($Child) {
    # One measurement in a warm pwsh inside a fresh network namespace (the parent made it): warm up
    # on a small table of the same shape, then time the real one. Prints one JSON line.
    Import-Module (Join-Path $root 'out/HaPowerShell') -Force
    $out = [ordered]@{}
    # Warm means warm: .NET compiles hot code again, optimised, only after it has run a while, so
    # every path is run on the full-size input first. Nothing of that warm-up may leave deleted
    # real servers in the kernel's trash (see below), so the kernel side is warmed with the
    # services alone (10,000 -A lines), which are freed at once when cleared.
    $servicesOnly = $WarmRules
    switch ($Child) {
        'List' {
            for ($w = 0; $w -lt 3; $w++) { $null = (Get-IpvsService | Get-IpvsRealServer | Measure-Object).Count; Export-IpvsConfig | Out-Null }
            $out.getServiceRealServer = Measure-Ms { $script:count = (Get-IpvsService | Get-IpvsRealServer | Measure-Object).Count }
            $out.exportIpvsConfig = Measure-Ms { Export-IpvsConfig }
            $out.count = $count
        }
        'Import' {
            for ($w = 0; $w -lt 2; $w++) { Import-IpvsConfig -Path $Rules -WhatIf | Out-Null }   # parse and check only
            for ($w = 0; $w -lt 2; $w++) { Import-IpvsConfig -Path $servicesOnly | Out-Null; Clear-IpvsService -Confirm:$false }
            # The real-server half of the path (messages, sending, results) without leaving anything in the
            # kernel's trash: the 20,000 -a lines alone, which the kernel refuses at once (no such service).
            $destsOnly = Join-Path (Split-Path $Rules) 'dests-only.rules'
            [IO.File]::WriteAllLines($destsOnly, [string[]]@([IO.File]::ReadAllLines($Rules) | Where-Object { $_.StartsWith('-a ') }))
            for ($w = 0; $w -lt 2; $w++) { Import-IpvsConfig -Path $destsOnly -ErrorAction Ignore | Out-Null }
            $out.importIpvsConfig = Measure-Ms { Import-IpvsConfig -Path $Rules }
        }
        'Sync' {
            $full = [IO.File]::ReadAllText($Rules); $changed = [IO.File]::ReadAllText($ChangedRules); $svcText = [IO.File]::ReadAllText($servicesOnly)
            for ($w = 0; $w -lt 2; $w++) { $svcText | Sync-IpvsConfig | Out-Null; $svcText | Sync-IpvsConfig | Out-Null; Clear-IpvsService -Confirm:$false }
            $out.syncFromEmpty = Measure-Ms { $full | Sync-IpvsConfig }
            # The 1% sync reads and compares 20,000 live real servers, paths the warm-up above never ran:
            # run them (weight changes only, so nothing goes to the kernel's trash) before timing.
            for ($w = 0; $w -lt 2; $w++) { $changed | Sync-IpvsConfig | Out-Null; $full | Sync-IpvsConfig | Out-Null }
            $out.sync1Percent = Measure-Ms { $script:s1 = $changed | Sync-IpvsConfig }
            $out.updated = $s1.Updated
        }
    }
    $out | ConvertTo-Json -Compress
    return
}

$tmp = Join-Path $root ".bench-ipvs-$PID"   # under the clone: the guest's /tmp is its own
New-Item -ItemType Directory -Force -Path $tmp | Out-Null

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
# Warm-up table for the kernel side: the services alone.
$warmRules = Join-Path $tmp 'services-only.rules'
[IO.File]::WriteAllLines($warmRules, [string[]]@($lines | Where-Object { $_.StartsWith('-A ') }))
# 1% of the real servers (every 150th line is a real-server line) get a new weight.
$changedRules = Join-Path $tmp 'changed.rules'
[IO.File]::WriteAllLines($changedRules, [string[]]$(for ($i = 0; $i -lt $lines.Count; $i++) { if ($i % 150 -eq 1) { $lines[$i] -replace '-w 1$', '-w 5' } else { $lines[$i] } }))

$r = [ordered]@{ Services = $Services; RealServers = 2 * $Services; Trials = $Trials; Kernel = (uname -r); NoTieredCompilation = [bool]$NoTieredCompilation }
$results = @{}
foreach ($k in 'ipvsadmRestore', 'importIpvsConfig', 'syncFromEmpty', 'ipvsadmList', 'getServiceRealServer', 'ipvsadmSave', 'exportIpvsConfig', 'sync1Percent') { $results[$k] = [System.Collections.Generic.List[double]]::new() }

# Every apply starts in a fresh network namespace (its own, empty IPVS table). Re-adding a table
# soon after flushing it in the same namespace is not an empty kernel: IPVS keeps deleted real
# servers in a trash list for one to three minutes and every real-server add scans that list, so
# a -C then -R of 20,000 real servers pays a scan of up to 20,000 entries per add (both tools alike).
$namespaces = [System.Collections.Generic.List[string]]::new()
function New-BenchNamespace([string]$Name) {
    # lo up: a namespace without any address has no local routing table yet, and IPVS then takes
    # every real-server address for a non-unicast one (EINVAL).
    & ip netns add $Name; if ($LASTEXITCODE) { throw "ip netns add $Name failed" }
    $namespaces.Add($Name)
    & ip -n $Name link set lo up; if ($LASTEXITCODE) { throw "ip -n $Name link set lo up failed" }
    $Name
}
function Invoke-Timed([string]$Ns, [string]$Command) {
    # Wall time of a shell command inside the namespace, measured there (bash's time), in ms.
    $o = & ip netns exec $Ns bash -c "TIMEFORMAT=%R; { time $Command ; } 2>&1"
    if ($LASTEXITCODE) { throw "'$Command' in $Ns failed: $o" }
    [double](@($o)[-1]) * 1000
}
function Invoke-Child([string]$Ns, [string]$Mode) {
    $env:DOTNET_TieredCompilation = if ($NoTieredCompilation) { '0' } else { $null }
    $o = & ip netns exec $Ns dotnet pwsh -NoProfile -NonInteractive -File (Join-Path $root 'bench/Ipvs.Bench.ps1') -Child $Mode -Rules $rules -WarmRules $warmRules -ChangedRules $changedRules
    $env:DOTNET_TieredCompilation = $null
    if ($LASTEXITCODE) { throw "bench child $Mode in $Ns failed: $o" }
    @($o)[-1] | ConvertFrom-Json
}
Push-Location $root
try {
    for ($t = 0; $t -lt $Trials; $t++) {
        $a = New-BenchNamespace "hapsb-$PID-$t-ipvsadm"
        $results.ipvsadmRestore.Add((Invoke-Timed $a "ipvsadm -R < '$rules'"))
        $results.ipvsadmList.Add((Invoke-Timed $a 'ipvsadm -Ln > /dev/null'))
        $results.ipvsadmSave.Add((Invoke-Timed $a 'ipvsadm -S -n > /dev/null'))
        $l = Invoke-Child $a 'List'
        if ($l.count -ne 2 * $Services) { throw "listing returned $($l.count) real servers, expected $(2 * $Services)" }
        $results.getServiceRealServer.Add($l.getServiceRealServer); $results.exportIpvsConfig.Add($l.exportIpvsConfig)
        $i = Invoke-Child (New-BenchNamespace "hapsb-$PID-$t-import") 'Import'
        $results.importIpvsConfig.Add($i.importIpvsConfig)
        $y = Invoke-Child (New-BenchNamespace "hapsb-$PID-$t-sync") 'Sync'
        $results.syncFromEmpty.Add($y.syncFromEmpty); $results.sync1Percent.Add($y.sync1Percent); $r.Sync1PercentUpdated = $y.updated
        $last = @{}; foreach ($k in $results.Keys) { $last[$k] = [math]::Round($results[$k][$results[$k].Count - 1]) }
        Write-Host "trial ${t}: ipvsadm -R $($last.ipvsadmRestore) ms, Import $($last.importIpvsConfig) ms, Sync from empty $($last.syncFromEmpty) ms, Sync 1% $($last.sync1Percent) ms, ipvsadm -Ln $($last.ipvsadmList) ms, list $($last.getServiceRealServer) ms, ipvsadm -S $($last.ipvsadmSave) ms, Export $($last.exportIpvsConfig) ms (load $(Get-Content /proc/loadavg))"
    }
}
finally {
    Pop-Location
    foreach ($n in $namespaces) { & ip netns del $n 2>$null }
    Remove-Item -Recurse -Force -LiteralPath $tmp -ErrorAction Ignore
}
$r.PerTrial = $results
$r.Median = [ordered]@{}
foreach ($k in $results.Keys | Sort-Object) { $r.Median[$k] = [math]::Round((Get-Median $results[$k].ToArray()), 1) }
$r.Ratio = [ordered]@{
    ApplyIpvsadmOverImport = [math]::Round($r.Median.ipvsadmRestore / $r.Median.importIpvsConfig, 2)
    ApplyIpvsadmOverSync   = [math]::Round($r.Median.ipvsadmRestore / $r.Median.syncFromEmpty, 2)
    ListOursOverIpvsadm    = [math]::Round($r.Median.getServiceRealServer / $r.Median.ipvsadmList, 2)
    SaveOursOverIpvsadm    = [math]::Round($r.Median.exportIpvsConfig / $r.Median.ipvsadmSave, 2)
    Sync1PercentOverFull   = [math]::Round($r.Median.sync1Percent / $r.Median.syncFromEmpty, 3)
}
$json = $r | ConvertTo-Json -Depth 4
if ($ResultFile) { Set-Content -Path $ResultFile -Value $json }
$json
