<#
.SYNOPSIS
    The one build entry point of HaPowerShell.
.DESCRIPTION
    Build    lays the importable module out under out/HaPowerShell (dlls, manifest, format and type
             files, MAML help generated from docs/cmdlets) and the hapd daemon (NativeAOT, linux-x64)
             under out/HaPowerShell/hapd with its systemd unit; the native toolchain it needs
             (clang, zlib1g-dev) is installed with apt-get when root, named in the error otherwise.
    Test     installs what the tests need (Debian packages when root, Pester from NuGet), builds,
             runs xunit and Pester (on the host, and the Kernel-tagged tests inside the kernel-lab
             VM when the host kernel has no IPVS) and ends with one line "N passed, N failed, N skipped".
    Package  builds out/packages/HaPowerShell.<version>.nupkg, installable with Install-PSResource
             from a local folder repository.
    Demo     builds, then runs demo/Demo.ps1 (the seed's LVS-DR cluster, narrated; needs root): on this
             machine when its kernel has IPVS, else inside the kernel-lab VM. Its exit code is the demo's.
.EXAMPLE
    dotnet tool restore && dotnet pwsh ./build.ps1 Test
.EXAMPLE
    dotnet tool restore && dotnet pwsh ./build.ps1 Demo
#>
[CmdletBinding()]
param(
    [Parameter(Position = 0)]
    [ValidateSet('Build', 'Test', 'Package', 'Demo')]
    [string]$Task = 'Build',

    [ValidateSet('Debug', 'Release')]
    [string]$Configuration = 'Release',

    # Test: only run Pester files whose name matches (e.g. 'Ipvs*'); xunit still runs unless -NoXunit.
    [string]$PesterFilter = '*',

    # Test: skip the xunit run.
    [switch]$NoXunit,

    # Test: do not boot the kernel-lab VM even when the host kernel lacks IPVS (Kernel tests count as skipped).
    [switch]$NoKernelLab
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 3.0
$Root = $PSScriptRoot
$Out = Join-Path $Root 'out'
$ModuleOut = Join-Path $Out 'HaPowerShell'
$env:DOTNET_CLI_TELEMETRY_OPTOUT = '1'
$env:DOTNET_NOLOGO = '1'

# The builds, tests and demo start many pwsh processes: none of them sends PowerShell's start-up telemetry or
# looks for a newer PowerShell (both network calls; the tests' traffic stays in their namespaces and on loopback).
$env:POWERSHELL_TELEMETRY_OPTOUT = '1'
$env:POWERSHELL_UPDATECHECK = 'Off'
$env:DOTNET_CLI_TELEMETRY_OPTOUT = '1'

function Write-Step([string]$Text) { Write-Host "==> $Text" -ForegroundColor Cyan }

function Invoke-Native {
    # Runs an external program, streams its output, throws on a non-zero exit.
    param([Parameter(Mandatory)][string]$FilePath, [string[]]$ArgumentList = @())
    & $FilePath @ArgumentList
    if ($LASTEXITCODE -ne 0) { throw "'$FilePath $($ArgumentList -join ' ')' failed with exit code $LASTEXITCODE" }
}

$script:ChildPwshHome = $PSHOME

function Initialize-FastPwsh {
    <#
        The PowerShell tool's assemblies ship as IL only, so every pwsh the tests start JITs the engine
        again: about 1 s here and 15-20 s inside the kernel-lab VM (software emulation). This copies this
        pwsh's folder to out/pwsh-r2r and precompiles its engine assemblies with the SDK's crossgen2
        (ReadyToRun, the same IL), then points Invoke-ChildPwsh and the VM runs at the copy. When that cannot
        be done it says why and the stock pwsh is used: slower, never different.
    #>
    if ([IO.Path]::GetFileNameWithoutExtension([Environment]::ProcessPath) -ne 'dotnet') { return }
    $target = Join-Path $Out 'pwsh-r2r'
    try {
        Invoke-Native dotnet @('restore', (Join-Path $Root 'tests/Tools/Crossgen/Crossgen.csproj'), '--nologo', '-v', 'quiet')
        $packs = Join-Path (Get-NuGetPackageRoot) 'microsoft.netcore.app.crossgen2.linux-x64'
        $runtime = [Environment]::Version.ToString()
        $pack = Get-ChildItem $packs -Directory | Sort-Object { $_.Name -eq $runtime }, { [version]($_.Name -replace '-.*$', '') } | Select-Object -Last 1
        $crossgen = Join-Path $pack.FullName 'tools/crossgen2'
        if (-not (Test-Path $crossgen)) { throw "no crossgen2 under $packs" }
        $stamp = Join-Path $target '.r2r-stamp'
        $want = "$PSHOME`n$crossgen`n$runtime"
        if ((Test-Path $stamp) -and (Get-Content -Raw $stamp) -eq $want) { $script:ChildPwshHome = $target; return }
        Write-Step "precompiling PowerShell's engine (ReadyToRun) into $target"
        if (Test-Path $target) { Remove-Item -Recurse -Force $target }
        Copy-Item -Recurse $PSHOME $target
        $framework = [Runtime.InteropServices.RuntimeEnvironment]::GetRuntimeDirectory()
        $names = 'System.Management.Automation', 'Microsoft.PowerShell.Commands.Utility', 'Microsoft.PowerShell.Commands.Management',
            'Microsoft.PowerShell.ConsoleHost', 'Microsoft.PowerShell.Security', 'Microsoft.PowerShell.CoreCLR.Eventing', 'pwsh', 'Newtonsoft.Json'
        foreach ($n in $names) {
            $src = Join-Path $PSHOME "$n.dll"
            if (-not (Test-Path $src)) { continue }
            # A response file: PowerShell would expand the reference wildcards into input files.
            $rsp = Join-Path $target "$n.rsp"
            Set-Content -Path $rsp -Value @($src, '-o', (Join-Path $target "$n.dll"), '-r', (Join-Path $PSHOME '*.dll'), '-r', (Join-Path $framework '*.dll'),
                '--targetos:linux', '--targetarch:x64', '-O')
            $log = & $crossgen "@$rsp" 2>&1
            Remove-Item $rsp
            if ($LASTEXITCODE -ne 0) { throw "crossgen2 failed on $n.dll: $($log | Select-Object -Last 3)" }
        }
        Set-Content -Path $stamp -Value $want -NoNewline
        $script:ChildPwshHome = $target
    } catch {
        Write-Warning "The tests use the stock pwsh (slower, the same results): $($_.Exception.Message)"
        if (Test-Path $target) { Remove-Item -Recurse -Force $target -ErrorAction Ignore }
    }
}

function Get-ChildPwshCommand {
    # The program and first arguments of another pwsh like this one (a dotnet tool runs as 'dotnet pwsh.dll');
    # after Initialize-FastPwsh, the precompiled copy of it. -Bash: as one line of single-quoted words for a script.
    param([switch]$Bash)
    $command = @([Environment]::ProcessPath)
    if ([IO.Path]::GetFileNameWithoutExtension($command[0]) -eq 'dotnet') { $command += Join-Path $script:ChildPwshHome 'pwsh.dll' }
    if ($Bash) { ($command | ForEach-Object { "'$_'" }) -join ' ' } else { $command }
}

function Invoke-ChildPwsh {
    # Starts another pwsh like this one (Get-ChildPwshCommand) with -NoProfile.
    param([string[]]$ArgumentList, [switch]$NoThrow)
    $exe, $prefix = Get-ChildPwshCommand
    $prefix = @($prefix | Where-Object { $_ })
    $all = $prefix + @('-NoProfile', '-NonInteractive') + $ArgumentList
    if ($NoThrow) { & $exe @all } else { Invoke-Native $exe $all }
}

function Test-IsRoot { (& id -u) -eq '0' }

function Test-DebianPackage([string]$Name) {
    # A package apt has never installed makes dpkg-query print nothing on stdout; "$(...)" turns
    # that into '' (an empty result would make -match return an empty, falsy array either way).
    $status = "$(& dpkg-query -W -f='${Status}' $Name 2>$null)"
    return $status -match 'install ok installed'
}

function Install-DebianPackage {
    # Installs missing Debian packages when running as root; returns the names still missing.
    param([string[]]$Name)
    $missing = @($Name | Where-Object { -not (Test-DebianPackage $_) })
    if (-not $missing) { return @() }
    if (-not (Test-IsRoot)) {
        Write-Warning "Not root: cannot install $($missing -join ', '); tests that need them are skipped."
        return $missing
    }
    Write-Step "apt-get install $($missing -join ' ')"
    $env:DEBIAN_FRONTEND = 'noninteractive'
    & apt-get install -y -q --no-install-recommends @missing *> $null
    if ($LASTEXITCODE -ne 0) {
        & apt-get update -q *> $null
        Invoke-Native apt-get (@('install', '-y', '-q', '--no-install-recommends') + $missing) | Out-Host
    }
    return @($missing | Where-Object { -not (Test-DebianPackage $_) })
}

function Get-NuGetPackageRoot {
    $line = & dotnet nuget locals global-packages --list
    if ($LASTEXITCODE -ne 0) { throw 'dotnet nuget locals failed' }
    return ($line -replace '^global-packages:\s*', '').Trim()
}

function Install-NativeToolchain {
    # NativeAOT links with clang against zlib; apt-get installs them when root, otherwise the build stops and says what to install.
    $needed = @('clang', 'zlib1g-dev')
    $missing = @($needed | Where-Object { -not (Test-DebianPackage $_) })
    if (-not $missing) { return }
    if (-not (Test-IsRoot)) {
        throw "hapd is compiled ahead of time and needs the Debian packages $($missing -join ' and '), which are not installed. Run 'sudo apt-get install $($missing -join ' ')' (or run this build as root, which installs them), then build again."
    }
    $still = @(Install-DebianPackage $missing)
    if ($still) { throw "apt-get could not install $($still -join ', '), which hapd's NativeAOT build needs." }
}

function Invoke-HapdBuild {
    # The daemon: NativeAOT for linux-x64 (the SDK picks the ILCompiler version), laid out in the module folder with its unit file.
    Install-NativeToolchain
    Write-Step "dotnet publish hapd (NativeAOT, $Configuration)"
    $publish = Join-Path $Out 'hapd'
    if (Test-Path $publish) { Remove-Item $publish -Recurse -Force }
    Invoke-Native dotnet @('publish', (Join-Path $Root 'src/hapd/hapd.csproj'), '-c', $Configuration, '-r', 'linux-x64', '-o', $publish, '--nologo', '-v', 'quiet')
    $target = Join-Path $ModuleOut 'hapd'
    New-Item -ItemType Directory -Force -Path $target | Out-Null
    Copy-Item (Join-Path $publish 'hapd') -Destination $target
    Copy-Item (Join-Path $Root 'src/hapd/hapd.service') -Destination $target
    & chmod 755 (Join-Path $target 'hapd')
}

function Invoke-Build {
    Write-Step "dotnet publish ($Configuration)"
    $publish = Join-Path $Out 'publish'
    Invoke-Native dotnet @('publish', (Join-Path $Root 'src/HaPowerShell/HaPowerShell.csproj'), '-c', $Configuration, '-o', $publish, '--nologo', '-v', 'quiet')

    if (Test-Path $ModuleOut) { Remove-Item $ModuleOut -Recurse -Force }
    New-Item -ItemType Directory -Path $ModuleOut, (Join-Path $ModuleOut 'en-US') | Out-Null
    # Our assemblies and Tmds.LibC; PowerShell's own assemblies come from the host.
    Get-ChildItem $publish -Filter *.dll | Where-Object Name -NotLike 'System.Management.Automation*' |
        Copy-Item -Destination $ModuleOut
    Copy-Item (Join-Path $Root 'module/HaPowerShell.psd1'), (Join-Path $Root 'module/*.ps1xml'), (Join-Path $Root 'LICENSE') -Destination $ModuleOut
    # about_ topics (Get-Help about_HaPowerShell) are plain text beside the MAML help.
    Copy-Item (Join-Path $Root 'module/en-US/about_*.help.txt') -Destination (Join-Path $ModuleOut 'en-US')

    Write-Step 'help (docs/cmdlets -> en-US/HaPowerShell.dll-Help.xml)'
    $helpScript = @"
`$ErrorActionPreference = 'Stop'
. '$Root/module/New-MamlHelp.ps1'
Import-Module '$ModuleOut'
`$project = (Import-PowerShellDataFile '$Root/module/HaPowerShell.psd1').PrivateData.PSData.ProjectUri
New-MamlHelp -ModuleName HaPowerShell -DocsPath '$Root/docs/cmdlets' -OutFile '$ModuleOut/en-US/HaPowerShell.dll-Help.xml' -OnlineBaseUri "`$project/blob/main/docs/cmdlets"
"@
    Invoke-ChildPwsh -ArgumentList @('-Command', $helpScript)
    Invoke-HapdBuild
    Write-Host "Module laid out in $ModuleOut (hapd in $(Join-Path $ModuleOut 'hapd'))"
}

function Read-TrxCounts([string]$Path) {
    [xml]$trx = Get-Content -Raw $Path
    $c = $trx.TestRun.ResultSummary.Counters
    # Each failed test by name with its message's first line: CI shows only the end of the output.
    $failed = @($trx.TestRun.Results.UnitTestResult | Where-Object { $_ -and $_.outcome -ne 'Passed' -and $_.outcome -ne 'NotExecuted' } | ForEach-Object {
            $message = "$($_.Output.ErrorInfo.Message)".Trim() -split "`n" | Select-Object -First 1
            "xunit $($_.testName) ($($_.outcome)): $message"
        })
    [pscustomobject]@{ Passed = [int]$c.passed; Failed = [int]$c.failed + [int]$c.error + [int]$c.timeout + [int]$c.aborted; Skipped = [int]$c.notExecuted; Failures = $failed }
}

function Invoke-Xunit {
    Write-Step 'xunit (Native and Core)'
    $results = Join-Path $Out 'test-results'
    $trx = Join-Path $results 'xunit.trx'
    Remove-Item $trx -ErrorAction Ignore
    & dotnet test (Join-Path $Root 'tests/HaPowerShell.Tests/HaPowerShell.Tests.csproj') -c $Configuration --nologo `
        --logger 'trx;LogFileName=xunit.trx' --logger 'console;verbosity=minimal' --results-directory $results | Out-Host
    if (-not (Test-Path $trx)) {
        Write-Warning 'xunit produced no result file (build failure?)'
        return [pscustomobject]@{ Passed = 0; Failed = 1; Skipped = 0; Failures = @('xunit produced no result file') }
    }
    Read-TrxCounts $trx
}

function Invoke-PesterRun {
    # Runs Pester in a fresh pwsh (the module imported from out/, never a stale copy) and returns counts.
    param([string]$PesterPath, [string[]]$ExcludeTag, [string]$ResultFile)
    $runnerArgs = @('-File', (Join-Path $Root 'tests/Invoke-PesterRun.ps1'),
        '-PesterPath', $PesterPath, '-ModulePath', $ModuleOut, '-ResultFile', $ResultFile)
    # PowerShell expands a bare '*' for native commands on Unix: pass a filter only when there is one.
    if ($PesterFilter -ne '*') { $runnerArgs += @('-Filter', $PesterFilter) }
    if ($ExcludeTag) { $runnerArgs += @('-ExcludeTag', ($ExcludeTag -join ',')) }
    Invoke-ChildPwsh -ArgumentList $runnerArgs -NoThrow | Out-Host
    if (-not (Test-Path $ResultFile)) {
        Write-Warning 'The Pester run produced no result file.'
        return [pscustomobject]@{ Passed = 0; Failed = 1; Skipped = 0; NotRunKernel = 0; NotRunRoot = 0; Failures = @('Pester run crashed') }
    }
    Get-Content -Raw $ResultFile | ConvertFrom-Json
}

function Start-KernelLabPester {
    <#
        Boots the lab VM in a thread job and runs only the Kernel-tagged tests inside it, in two pwsh processes at
        once: the VM has two virtual CPUs and one Pester process keeps about one busy (its tests mostly wait on child
        processes: ansible, agents, peers). The files of $script:KernelLabSecondGroup run in the second process (its
        output follows the first's); tests there use their own network namespaces or only read the root namespace's
        IPVS facts, so the two never change the same IPVS table. Started before the host's tests, which run meanwhile
        (the VM leaves part of this machine idle while its tests wait); Complete-KernelLabPester collects it.
    #>
    param([string]$PesterPath)
    $labModule = Join-Path $Root 'tests/lab/KernelLab.psm1'
    Import-Module $labModule -Force
    $lab = Initialize-KernelLab | Select-Object -Last 1
    Write-Step "kernel lab VM (Linux $($lab.KernelVersion)): Kernel-tagged Pester tests in two processes, started now; its output follows the host's tests"
    $runner = "$(Get-ChildPwshCommand -Bash) -NoProfile -NonInteractive -File tests/Invoke-PesterRun.ps1 -PesterPath '$PesterPath' -ModulePath '$ModuleOut' -Tag Kernel"
    $second = $script:KernelLabSecondGroup -join ','
    $script = @"
cd '$Root'
# Code compiled once, optimised, at first use: under emulation the runtime's background re-compilation of hot
# methods (tiered compilation) costs more CPU than it saves in these short-lived processes.
export DOTNET_TieredCompilation=0
$runner -Filter '$(Get-SecondGroupFilter)' -ResultFile "`$LAB_OUT/pester-kernel-2.json" > "`$LAB_OUT/pester-2.log" 2>&1 </dev/null &
second=`$!
$runner -Filter '$PesterFilter' -SkipFile '$second' -ResultFile "`$LAB_OUT/pester-kernel-1.json" </dev/null
wait `$second
echo
echo '==== the second Pester process ($second) ===='
cat "`$LAB_OUT/pester-2.log"
"@
    $job = Start-ThreadJob -Name 'kernel-lab' -ArgumentList $labModule, $script, $Root -ScriptBlock {
        param($LabModule, $Script, $WorkingDirectory)
        Import-Module $LabModule -Force
        Invoke-KernelLab -Script $Script -WorkingDirectory $WorkingDirectory -TimeoutSeconds 3600
    }
    [pscustomobject]@{ Job = $job; Clock = [Diagnostics.Stopwatch]::StartNew() }
}

function Complete-KernelLabPester($Started) {
    # Waits for Start-KernelLabPester's VM, prints what it printed, and merges the two processes' counts and file times.
    Write-Step 'kernel lab VM: waiting for its tests (its output below)'
    $run = Receive-Job -Job $Started.Job -Wait -AutoRemoveJob | Where-Object { $_ -and $_.PSObject.Properties['OutputDirectory'] } | Select-Object -Last 1
    if (-not $run) {
        Write-Warning 'The kernel lab VM run ended without a result.'
        return [pscustomobject]@{ Passed = 0; Failed = 1; Skipped = 0; NotRunKernel = 0; NotRunRoot = 0; Failures = @('kernel lab VM run failed'); Files = @(); Seconds = $Started.Clock.Elapsed.TotalSeconds }
    }
    $parts = foreach ($n in 1, 2) {
        $file = Join-Path $run.OutputDirectory "pester-kernel-$n.json"
        if ($run.ExitCode -ne 0 -or -not (Test-Path $file)) {
            Write-Warning "Kernel lab Pester process $n gave no result (VM exit $($run.ExitCode)); console log: $($run.ConsoleLog)"
            [pscustomobject]@{ Passed = 0; Failed = 1; Skipped = 0; NotRunKernel = 0; NotRunRoot = 0; Failures = @("kernel lab VM run $n failed"); Files = @() }
        } else { Get-Content -Raw $file | ConvertFrom-Json }
    }
    [pscustomobject]@{
        Passed = [int]($parts | Measure-Object Passed -Sum).Sum; Failed = [int]($parts | Measure-Object Failed -Sum).Sum
        Skipped = [int]($parts | Measure-Object Skipped -Sum).Sum; NotRunKernel = [int]($parts | Measure-Object NotRunKernel -Sum).Sum
        NotRunRoot = [int]($parts | Measure-Object NotRunRoot -Sum).Sum
        Failures = @($parts | ForEach-Object { @($_.Failures) } | Where-Object { $_ })
        Files = @($parts | ForEach-Object { Get-ResultFile $_ })
        Seconds = $Started.Clock.Elapsed.TotalSeconds
    }
}

function Test-KernelTestSelected {
    # Whether -PesterFilter selects a test file with Kernel-tagged tests (a filtered run that has none boots no VM).
    @(Get-ChildItem (Join-Path $Root 'tests/pester') -Filter '*.Tests.ps1' | Where-Object { $f = $_.Name
            @($PesterFilter -split ',' | Where-Object { $f -like "$($_.Trim()).Tests.ps1" -or $f -like $_.Trim() }).Count -gt 0 } |
        Where-Object { Select-String -Path $_.FullName -SimpleMatch "'Kernel'" -Quiet }).Count -gt 0
}

# The Kernel-tagged files the kernel-lab VM runs in its second Pester process (see Invoke-KernelLabPester).
# Their tests use their own namespaces (Ansible) or only read the root namespace's IPVS facts (IpvsInfo); the files
# that change or expect the root namespace's IPVS table (Ipvs, KeepalivedConfig, ...) stay together in the first.
$script:KernelLabSecondGroup = @('Ansible', 'IpvsInfo', 'Hapd.Ipvs')

function Get-SecondGroupFilter {
    # The second group, narrowed by -PesterFilter: names both select (or a name no file has, so none runs).
    $picked = @($script:KernelLabSecondGroup | Where-Object { $g = $_
            @($PesterFilter -split ',' | Where-Object { "$g.Tests.ps1" -like "$($_.Trim()).Tests.ps1" -or "$g.Tests.ps1" -like $_.Trim() }).Count -gt 0 })
    if ($picked) { $picked -join ',' } else { 'NoSuchFile' }
}

function Get-ResultFile($Result) {
    # The per-file durations of a Pester result (none when the run crashed).
    $p = $Result.PSObject.Properties['Files']
    if ($p) { @($p.Value) }
}

function Invoke-Test {
    $isRoot = Test-IsRoot
    Write-Step 'prerequisites'
    $missing = @(Install-DebianPackage @('iproute2', 'ipvsadm', 'keepalived', 'iputils-arping', 'iputils-ping', 'tcpdump', 'nftables', 'procps', 'kmod', 'busybox-static', 'python3', 'ansible-core', 'rsyslog'))
    if ($missing) { Write-Warning "Missing Debian packages: $($missing -join ', ')" }
    Invoke-Native dotnet @('restore', (Join-Path $Root 'tests/Tools/Tools.csproj'), '--nologo', '-v', 'quiet')
    $pester = Join-Path (Get-NuGetPackageRoot) 'pester/5.7.1/tools/Pester.psd1'
    if (-not (Test-Path $pester)) { throw "Pester 5.7.1 was not restored to $pester" }

    $clock = [Diagnostics.Stopwatch]::StartNew()
    Invoke-Package   # builds too; the package is installed by a Pester test
    Initialize-FastPwsh
    $buildSeconds = $clock.Elapsed.TotalSeconds

    $rows = [System.Collections.Generic.List[object]]::new()
    $xunitFailures = @()
    $slowest = [System.Collections.Generic.List[object]]::new()
    Import-Module (Join-Path $Root 'tests/lab/KernelLab.psm1') -Force
    $hostIpvs = Test-KernelIpvs
    # The VM shares this machine's root read-only; only root can read all of it (tools under /root).
    $canVm = -not $hostIpvs -and -not $NoKernelLab -and $isRoot
    $vm = if ($canVm -and (Test-KernelTestSelected)) { Start-KernelLabPester -PesterPath $pester }

    try {
        if (-not $NoXunit) {
            $clock.Restart()
            $x = Invoke-Xunit
            $rows.Add([pscustomobject]@{ Suite = 'xunit'; Passed = $x.Passed; Failed = $x.Failed; Skipped = $x.Skipped; Seconds = [int]$clock.Elapsed.TotalSeconds; Note = '' })
            $xunitFailures = @($x.Failures)
        }

        $exclude = @()
        if (-not $hostIpvs) { $exclude += 'Kernel' }
        if (-not $isRoot) { $exclude += 'Root' }
        Write-Step "Pester on this host (IPVS in this kernel: $hostIpvs; root: $isRoot)"
        $clock.Restart()
        $h = Invoke-PesterRun -PesterPath $pester -ExcludeTag $exclude -ResultFile (Join-Path $Out 'test-results/pester-host.json')
        foreach ($file in @(Get-ResultFile $h)) { if ($file) { $slowest.Add([pscustomobject]@{ Where = 'host'; File = $file.File; Tests = $file.Tests; Seconds = $file.Seconds }) } }
        $skippedHere = $h.Skipped + $h.NotRunRoot
        $deferred = $h.NotRunKernel
        $rows.Add([pscustomobject]@{ Suite = 'pester (host)'; Passed = $h.Passed; Failed = $h.Failed; Skipped = $skippedHere; Seconds = [int]$clock.Elapsed.TotalSeconds
                Note = $(if ($h.NotRunRoot) { "$($h.NotRunRoot) need root" } else { '' }) })
        $failures = @($xunitFailures) + @($h.Failures)

        if ($vm) {
            $k = Complete-KernelLabPester $vm
            foreach ($file in @(Get-ResultFile $k)) { if ($file) { $slowest.Add([pscustomobject]@{ Where = 'kernel VM'; File = $file.File; Tests = $file.Tests; Seconds = $file.Seconds }) } }
            # Tests without the Kernel tag are filtered out in the VM: they ran on the host, so they are not skipped.
            $rows.Add([pscustomobject]@{ Suite = 'pester (kernel VM)'; Passed = $k.Passed; Failed = $k.Failed; Skipped = $k.Skipped; Seconds = [int]$k.Seconds; Note = 'Kernel-tagged (VM boot included; ran alongside the host''s tests)' })
            $failures += @($k.Failures)
        } elseif ($deferred -gt 0) {
            $rows.Add([pscustomobject]@{ Suite = 'pester (kernel VM)'; Passed = 0; Failed = 0; Skipped = $deferred
                    Note = $(if ($NoKernelLab) { 'not run: -NoKernelLab' } else { 'not run: no IPVS here, and the kernel-lab VM needs root' }) })
        }
    } finally {
        # Ctrl+C or a failure on the host: the VM's job is stopped (Invoke-KernelLab then ends qemu).
        if ($vm -and $vm.Job.State -eq 'Running') { Stop-Job -Job $vm.Job; Remove-Job -Job $vm.Job -Force }
    }

    Write-Host ''
    Write-Host ("Where the time went: restore, build and package {0:n0} s; the slowest test files:" -f $buildSeconds)
    $slowest | Sort-Object Seconds -Descending | Select-Object -First 8 | Format-Table Where, File, Tests, Seconds -AutoSize | Out-String -Width 200 | Write-Host
    $rows | Format-Table Suite, Passed, Failed, Skipped, Seconds, Note -AutoSize -Wrap | Out-String -Width 200 | Write-Host
    foreach ($f in $failures | Where-Object { $_ }) { Write-Host "FAILED: $f" -ForegroundColor Red }
    $p = ($rows | Measure-Object Passed -Sum).Sum
    $f = ($rows | Measure-Object Failed -Sum).Sum
    $s = ($rows | Measure-Object Skipped -Sum).Sum
    Write-Host "$p passed, $f failed, $s skipped"
    if ($f -gt 0) { exit 1 }
}

function Invoke-Package {
    Invoke-Build
    Write-Step 'package (nupkg for a local PSResource repository)'
    $packages = Join-Path $Out 'packages'
    New-Item -ItemType Directory -Force -Path $packages | Out-Null
    Get-ChildItem $packages -Filter 'HaPowerShell.*.nupkg' | Remove-Item
    # PSResourceGet keeps its repository list under the user's data folder and NuGet its settings
    # under the config folder; .NET reports either as '' when it does not exist yet (fresh machines),
    # and the files would land in the current directory.
    $dataHome = if ($env:XDG_DATA_HOME) { $env:XDG_DATA_HOME } else { Join-Path $HOME '.local/share' }
    $configHome = if ($env:XDG_CONFIG_HOME) { $env:XDG_CONFIG_HOME } else { Join-Path $HOME '.config' }
    New-Item -ItemType Directory -Force -Path $dataHome, $configHome | Out-Null
    $script = @"
`$ErrorActionPreference = 'Stop'
`$name = 'HaPowerShellBuild' + [guid]::NewGuid().ToString('N').Substring(0, 8)
Register-PSResourceRepository -Name `$name -Uri '$packages' -Trusted
try { Publish-PSResource -Path '$ModuleOut' -Repository `$name -SkipDependenciesCheck }
finally { Unregister-PSResourceRepository -Name `$name }
"@
    Invoke-ChildPwsh -ArgumentList @('-Command', $script)
    Get-ChildItem $packages -Filter 'HaPowerShell.*.nupkg' | ForEach-Object { Write-Host "Package: $($_.FullName)" }
}

function Invoke-Demo {
    # Root first: the demo builds namespaces and programs IPVS, and the kernel-lab VM reads root-only files.
    if (-not (Test-IsRoot)) {
        Write-Host 'The demo needs root: it builds network namespaces and programs the kernel''s IPVS table (inside the kernel-lab VM when this kernel has none). Run it as root: sudo dotnet pwsh ./build.ps1 Demo. Nothing was built or changed.'
        exit 1
    }
    Write-Step 'prerequisites'
    $missing = @(Install-DebianPackage @('iproute2', 'procps', 'python3', 'tcpdump', 'kmod', 'util-linux'))
    if ($missing) { throw "Missing Debian packages: $($missing -join ', ')" }
    Invoke-Build
    Initialize-FastPwsh
    Import-Module (Join-Path $Root 'tests/lab/KernelLab.psm1') -Force
    $demo = Join-Path $Root 'demo/Demo.ps1'
    if (Test-KernelIpvs) {
        Write-Step 'demo (this kernel has IPVS)'
        Invoke-ChildPwsh -ArgumentList @('-File', $demo, '-ModulePath', $ModuleOut) -NoThrow
        exit $LASTEXITCODE
    }
    $lab = Initialize-KernelLab | Select-Object -Last 1
    Write-Step "demo inside the kernel-lab VM (this kernel has no IPVS; Linux $($lab.KernelVersion) under qemu, software emulation)"
    Write-Host 'Booting the VM (about 5 s), then PowerShell starts inside it (about 15 s: everything runs emulated) ...'
    # pwsh.dll straight from this pwsh's folder: 'dotnet pwsh' would resolve the tool and start a second runtime first.
    $script = @"
echo "VM up after `$(cut -d' ' -f1 /proc/uptime) s; starting PowerShell in it ..."
cd '$Root'
$(if ($env:HAPS_LAB_TRACE) { 'export HAPS_LAB_TRACE="$LAB_OUT/lab-trace.txt"' })
$(Get-ChildPwshCommand -Bash) -NoProfile -NonInteractive -File demo/Demo.ps1 -ModulePath '$ModuleOut'
"@
    $run = Invoke-KernelLab -Script $script -WorkingDirectory $Root -TimeoutSeconds 3600
    # HAPS_LAB_TRACE=<file>: each agent command's time (tests/lab/NetnsLab.psm1), copied out of the VM.
    if ($env:HAPS_LAB_TRACE -and (Test-Path (Join-Path $run.OutputDirectory 'lab-trace.txt'))) { Copy-Item (Join-Path $run.OutputDirectory 'lab-trace.txt') $env:HAPS_LAB_TRACE }
    if ($run.ExitCode -ne 0 -and $run.Message) { Write-Host $run.Message }
    exit $run.ExitCode
}

switch ($Task) {
    'Build' { Invoke-Build }
    'Test' { Invoke-Test }
    'Package' { Invoke-Package }
    'Demo' { Invoke-Demo }
}
