#Requires -Version 7.2
<#
.SYNOPSIS
    Runs shell scripts inside a small virtual machine that boots a stock Debian kernel.

.DESCRIPTION
    The development and CI machines run a kernel without IPVS and without module
    loading. This module boots Debian's generic amd64 kernel under qemu (software
    emulation, TCG) with the host's / shared read-only over 9p and a tmpfs overlay on
    top, so everything installed on the host (bash, iproute2, ipvsadm, keepalived,
    dotnet, pwsh, the built module) is usable inside, and IPVS is really there.

    Initialize-KernelLab  prepares (and caches) the kernel, its modules and the initramfs.
    Invoke-KernelLab      boots the guest, runs a bash script as root, returns its result.
    Test-KernelIpvs       tells whether the host kernel itself has IPVS.

    Guest-side scripts live in ./kernel: `init` (stage 1, in the initramfs) and
    `guest-run.sh` (stage 2, copied onto the per-run I/O share for every boot).
#>

Set-StrictMode -Version Latest

# Debian packages the lab needs on the host.
$script:RequiredPackages = @('qemu-system-x86', 'busybox-static', 'kmod', 'cpio')

# The metapackage that names the current generic kernel (not the cloud flavour:
# it lacks 9p).
$script:KernelMetaPackage = 'linux-image-amd64'

# Kernel modules stage 1 needs to reach the 9p shares, in load order. Dependencies
# missing from this list are added from modules.dep; built-in or absent ones are
# skipped, so the list survives kernel version changes.
$script:InitramfsModules = @(
    'virtio_ring', 'virtio', 'virtio_pci_legacy_dev', 'virtio_pci_modern_dev', 'virtio_pci',
    'netfs', 'fscache', '9pnet', '9pnet_virtio', '9p', 'overlay'
)

# Exit codes reported by Invoke-KernelLab when the script itself did not decide one.
$script:ExitCodeTimeout = 124
$script:ExitCodeLabFailure = 125

$script:GuestDirectory = Join-Path $PSScriptRoot 'kernel'

#region helpers

# Runs a native command and returns its combined output as strings; throws on a
# non-zero exit unless -AllowFailure. $LASTEXITCODE is left for the caller.
function Invoke-LabNative {
    param(
        [Parameter(Mandatory)][string]$FilePath,
        [string[]]$ArgumentList = @(),
        [switch]$AllowFailure
    )
    $output = & $FilePath @ArgumentList 2>&1 | ForEach-Object { "$_" }
    if ($LASTEXITCODE -ne 0 -and -not $AllowFailure) {
        $text = ($output | Select-Object -Last 20) -join [Environment]::NewLine
        throw "KernelLab: '$FilePath $($ArgumentList -join ' ')' failed with exit code ${LASTEXITCODE}:$([Environment]::NewLine)$text"
    }
    return , @($output)
}

function Test-LabIsRoot {
    return ((& id -u) -eq '0')
}

function Get-LabCacheRoot {
    param([string]$CacheDirectory)
    if ($CacheDirectory) { return [IO.Path]::GetFullPath($CacheDirectory) }
    if ($env:HAPS_LAB_CACHE) { return [IO.Path]::GetFullPath($env:HAPS_LAB_CACHE) }
    return Join-Path ([Environment]::GetFolderPath('UserProfile')) '.cache/hapowershell/kernel-lab'
}

# Returns the required Debian packages that are not installed.
function Get-LabMissingPackage {
    # One dpkg-query for all; unknown packages are reported on stderr only.
    $installed = & dpkg-query -W -f '${Package} ${db:Status-Status}\n' @script:RequiredPackages 2>$null |
        Where-Object { $_ -match '^(\S+) installed$' } | ForEach-Object { ($_ -split ' ')[0] }
    return @($script:RequiredPackages | Where-Object { $_ -notin @($installed) })
}

function Install-LabPackage {
    $missing = @(Get-LabMissingPackage)
    if ($missing.Count -eq 0) { return }
    if (-not (Test-LabIsRoot)) {
        throw "KernelLab: missing Debian packages: $($missing -join ' '). Install them as root: apt-get install -y --no-install-recommends $($missing -join ' ')"
    }
    $installArgs = @('install', '-y', '--no-install-recommends') + $missing
    Write-Verbose "KernelLab: apt-get $($installArgs -join ' ')"
    $null = Invoke-LabNative apt-get $installArgs -AllowFailure
    if ($LASTEXITCODE -ne 0) {
        # Unknown package or stale lists: refresh them once and try again.
        $null = Invoke-LabNative apt-get @('update')
        $null = Invoke-LabNative apt-get $installArgs
    }
}

# Resolves the kernel metapackage to its concrete package, e.g. linux-image-6.1.0-56-amd64.
# Returns $null when apt does not know it.
function Resolve-LabKernelPackage {
    $lines = Invoke-LabNative apt-cache @('depends', $script:KernelMetaPackage) -AllowFailure
    if ($LASTEXITCODE -ne 0) { return $null }
    foreach ($line in $lines) {
        if ($line -match '^\s*\|?Depends:\s*(linux-image-\d[^\s<>]*-amd64)\s*$') {
            return $Matches[1]
        }
    }
    return $null
}

# A cheap fingerprint of apt's package lists: apt-cache can take half a second
# here, so its answer is remembered until the lists change (apt-get update).
function Get-LabAptListStamp {
    $lists = @(Get-ChildItem -LiteralPath '/var/lib/apt/lists' -File -ErrorAction Ignore)
    if ($lists.Count -eq 0) { return '' }
    $newest = ($lists | Measure-Object -Property LastWriteTimeUtc -Maximum).Maximum
    return '{0}:{1}' -f $lists.Count, $newest.Ticks
}

# Resolve-LabKernelPackage, remembered in the cache directory per apt list stamp.
function Resolve-LabKernelPackageCached {
    param([string]$CacheRoot)
    $memo = Join-Path $CacheRoot 'kernel-package.txt'
    $stamp = Get-LabAptListStamp
    if ($stamp -and (Test-Path -LiteralPath $memo)) {
        $lines = @(Get-Content -LiteralPath $memo)
        if ($lines.Count -eq 2 -and $lines[0] -eq $stamp -and $lines[1]) { return $lines[1] }
    }
    $package = Resolve-LabKernelPackage
    if ($package -and $stamp) { Set-Content -LiteralPath $memo -Value $stamp, $package }
    return $package
}

# The newest kernel already complete in the cache, for machines where apt cannot
# answer (no package lists).
function Get-LabCachedKernelVersion {
    param([string]$CacheRoot)
    if (-not (Test-Path -LiteralPath $CacheRoot)) { return $null }
    $complete = Get-ChildItem -LiteralPath $CacheRoot -Directory |
        Where-Object { Test-Path -LiteralPath (Join-Path $_.FullName '.complete') } |
        Sort-Object LastWriteTime -Descending | Select-Object -First 1
    if ($complete) { return $complete.Name }
    return $null
}

# Downloads and unpacks the kernel package into $KernelDirectory (atomically: a
# temporary directory is renamed at the end) and runs depmod.
function Install-LabKernel {
    param(
        [Parameter(Mandatory)][string]$Package,
        [Parameter(Mandatory)][string]$KernelVersion,
        [Parameter(Mandatory)][string]$KernelDirectory
    )
    $staging = "$KernelDirectory.tmp-$PID"
    if (Test-Path -LiteralPath $staging) { Remove-Item -LiteralPath $staging -Recurse -Force }
    $null = New-Item -ItemType Directory -Path $staging
    try {
        Push-Location -LiteralPath $staging
        try {
            $downloadArgs = @('download', $Package)
            # apt drops to its sandbox user, who cannot write here; as root, stay root.
            if (Test-LabIsRoot) { $downloadArgs = @('-o', 'APT::Sandbox::User=root') + $downloadArgs }
            Write-Verbose "KernelLab: apt-get $($downloadArgs -join ' ')"
            $null = Invoke-LabNative apt-get $downloadArgs
        }
        finally { Pop-Location }

        $deb = Get-ChildItem -LiteralPath $staging -Filter '*.deb' | Select-Object -First 1
        if (-not $deb) { throw "KernelLab: apt-get download $Package produced no .deb file" }
        $root = Join-Path $staging 'root'
        $null = Invoke-LabNative dpkg @('-x', $deb.FullName, $root)
        Remove-Item -LiteralPath $deb.FullName

        # Newer packages put the modules under usr/lib; keep one canonical place.
        $modules = Join-Path $root "lib/modules/$KernelVersion"
        $usrModules = Join-Path $root "usr/lib/modules/$KernelVersion"
        if (-not (Test-Path -LiteralPath $modules) -and (Test-Path -LiteralPath $usrModules)) {
            $null = New-Item -ItemType Directory -Path (Split-Path $modules) -Force
            Move-Item -LiteralPath $usrModules -Destination $modules
        }
        if (-not (Test-Path -LiteralPath $modules)) { throw "KernelLab: $Package has no lib/modules/$KernelVersion" }
        if (-not (Test-Path -LiteralPath (Join-Path $root "boot/vmlinuz-$KernelVersion"))) {
            throw "KernelLab: $Package has no boot/vmlinuz-$KernelVersion"
        }
        # Documentation is of no use here.
        Remove-Item -LiteralPath (Join-Path $root 'usr/share') -Recurse -Force -ErrorAction Ignore

        $null = Invoke-LabNative depmod @('-b', $root, $KernelVersion)
        if (-not (Test-Path -LiteralPath (Join-Path $modules 'modules.dep'))) {
            throw "KernelLab: depmod wrote no modules.dep for $KernelVersion"
        }
        Set-Content -LiteralPath (Join-Path $staging '.complete') -Value $Package

        try { Move-Item -LiteralPath $staging -Destination $KernelDirectory -ErrorAction Stop }
        catch {
            # Another process finished first; its copy is as good as ours.
            if (-not (Test-Path -LiteralPath (Join-Path $KernelDirectory '.complete'))) { throw }
        }
    }
    finally {
        if (Test-Path -LiteralPath $staging) { Remove-Item -LiteralPath $staging -Recurse -Force }
    }
}

# Returns the initramfs modules (file paths relative to the modules directory) in
# load order, dependencies first, skipping built-in and absent ones.
function Get-LabInitramfsModule {
    param([Parameter(Mandatory)][string]$ModulesDirectory)

    # modules.dep lines: "kernel/fs/9p/9p.ko: kernel/net/9p/9pnet.ko kernel/fs/netfs/netfs.ko ..."
    $depends = @{}
    $pathByName = @{}
    foreach ($line in [IO.File]::ReadLines((Join-Path $ModulesDirectory 'modules.dep'))) {
        $colon = $line.IndexOf(':')
        if ($colon -lt 0) { continue }
        $path = $line.Substring(0, $colon)
        $pathByName[(Get-LabModuleName $path)] = $path
        $depends[$path] = @($line.Substring($colon + 1).Split(' ', [StringSplitOptions]::RemoveEmptyEntries))
    }

    $ordered = [Collections.Generic.List[string]]::new()
    $visit = {
        param($path)
        if ($ordered.Contains($path)) { return }
        # modules.dep lists every indirect dependency too, deepest last.
        $deps = @($depends[$path])
        [array]::Reverse($deps)
        foreach ($dep in $deps) { & $visit $dep }
        $ordered.Add($path)
    }
    foreach ($name in $script:InitramfsModules) {
        $key = $name.Replace('-', '_')
        if ($pathByName.ContainsKey($key)) { & $visit $pathByName[$key] }
        else { Write-Verbose "KernelLab: module $name is built in or absent in this kernel; skipped" }
    }
    return , $ordered.ToArray()
}

# "kernel/fs/9p/9p.ko.xz" -> "9p"; '-' and '_' are the same to the kernel.
function Get-LabModuleName {
    param([string]$Path)
    $file = [IO.Path]::GetFileName($Path)
    return ($file -replace '\.ko(\.(gz|xz|zst))?$', '').Replace('-', '_')
}

# Builds the initramfs (cpio newc, gzip): static busybox, stage 1 init and the
# modules above (decompressed, busybox insmod wants plain .ko files).
function New-LabInitramfs {
    param(
        [Parameter(Mandatory)][string]$ModulesDirectory,
        [Parameter(Mandatory)][string[]]$Modules,
        [Parameter(Mandatory)][string]$Destination
    )
    $busybox = (Invoke-LabNative dpkg @('-L', 'busybox-static')) |
        Where-Object { $_ -match '/bin/busybox$' } | Select-Object -First 1
    if (-not $busybox -or -not (Test-Path -LiteralPath $busybox)) { throw 'KernelLab: busybox-static is not installed' }

    $staging = "$Destination.tmp-$PID"
    if (Test-Path -LiteralPath $staging) { Remove-Item -LiteralPath $staging -Recurse -Force }
    try {
        foreach ($dir in 'bin', 'dev', 'proc', 'sys', 'modules') {
            $null = New-Item -ItemType Directory -Path (Join-Path $staging $dir) -Force
        }
        Copy-Item -LiteralPath $busybox -Destination (Join-Path $staging 'bin/busybox')
        foreach ($applet in (Invoke-LabNative $busybox @('--list'))) {
            if ($applet -and $applet -ne 'busybox') {
                $null = New-Item -ItemType SymbolicLink -Path (Join-Path $staging "bin/$applet") -Target 'busybox'
            }
        }
        $init = Join-Path $staging 'init'
        Copy-Item -LiteralPath (Join-Path $script:GuestDirectory 'init') -Destination $init
        & chmod 0755 $init (Join-Path $staging 'bin/busybox')

        $names = foreach ($relative in $Modules) {
            $source = Join-Path $ModulesDirectory $relative
            $name = Get-LabModuleName $relative
            $target = Join-Path $staging "modules/$name.ko"
            switch -Regex ($relative) {
                '\.ko$' { Copy-Item -LiteralPath $source -Destination $target }
                '\.ko\.xz$' { & bash -c 'xz -dc -- "$1" > "$2"' bash $source $target }
                '\.ko\.gz$' { & bash -c 'gzip -dc -- "$1" > "$2"' bash $source $target }
                '\.ko\.zst$' { & bash -c 'zstd -qdc -- "$1" > "$2"' bash $source $target }
            }
            if ($LASTEXITCODE -ne 0 -or -not (Test-Path -LiteralPath $target)) {
                throw "KernelLab: cannot unpack module $relative (xz, gzip or zstd missing?)"
            }
            $name
        }
        Set-Content -LiteralPath (Join-Path $staging 'modules/order') -Value $names

        $temporary = "$Destination.tmp-$PID.img"
        $null = Invoke-LabNative bash @('-c',
            'set -o pipefail; cd -- "$1" && find . -print0 | cpio --null -o -H newc -R 0:0 --quiet | gzip -9n > "$2"',
            'bash', $staging, $temporary)
        Move-Item -LiteralPath $temporary -Destination $Destination -Force
    }
    finally {
        if (Test-Path -LiteralPath $staging) { Remove-Item -LiteralPath $staging -Recurse -Force }
    }
}

function Get-LabSha256 {
    param([string]$Text)
    $bytes = [Text.Encoding]::UTF8.GetBytes($Text)
    return [Convert]::ToHexString([Security.Cryptography.SHA256]::HashData($bytes)).ToLowerInvariant()
}

# qemu option values are comma-separated; a literal comma is written twice.
function ConvertTo-QemuOptionValue {
    param([string]$Value)
    return $Value.Replace(',', ',,')
}

# Bash single-quoted literal.
function ConvertTo-BashLiteral {
    param([string]$Value)
    return "'" + $Value.Replace("'", "'\''") + "'"
}

function Get-LabTail {
    param([string]$Path, [int]$Count = 40)
    if (-not (Test-Path -LiteralPath $Path)) { return '' }
    $text = (Get-Content -LiteralPath $Path -Tail $Count -ErrorAction Ignore) -join [Environment]::NewLine
    # The firmware clears the screen with terminal escapes; they only get in the way.
    return $text -replace '\x1b(\[[0-9;?]*[A-Za-z]|c)', ''

}

# Reads whatever was appended to a file since the last call and writes complete
# lines to the host. State: a hashtable with Position, Decoder, Pending.
function Read-LabStream {
    param([string]$Path, [hashtable]$State, [switch]$Flush, [switch]$Quiet)
    if (Test-Path -LiteralPath $Path) {
        $stream = [IO.File]::Open($Path, 'Open', 'Read', 'ReadWrite')
        try {
            if ($stream.Length -gt $State.Position) {
                $null = $stream.Seek($State.Position, 'Begin')
                $buffer = [byte[]]::new($stream.Length - $State.Position)
                $read = $stream.Read($buffer, 0, $buffer.Length)
                $State.Position += $read
                $chars = [char[]]::new($State.Decoder.GetCharCount($buffer, 0, $read))
                $count = $State.Decoder.GetChars($buffer, 0, $read, $chars, 0)
                $State.Pending += [string]::new($chars, 0, $count)
            }
        }
        finally { $stream.Dispose() }
    }
    $lines = $State.Pending -split "`n"
    $State.Pending = $lines[-1]
    $complete = if ($lines.Count -gt 1) { $lines[0..($lines.Count - 2)] } else { @() }
    if ($Flush -and $State.Pending) { $complete += $State.Pending; $State.Pending = '' }
    if (-not $Quiet) { foreach ($line in $complete) { Write-Host $line.TrimEnd("`r") } }
}

#endregion

function Initialize-KernelLab {
    <#
    .SYNOPSIS
        Prepares the kernel lab: host packages, the Debian kernel and the initramfs. Idempotent.
    .DESCRIPTION
        As root, installs missing host packages (qemu-system-x86 busybox-static kmod cpio).
        Resolves linux-image-amd64 to its versioned package, downloads it with
        apt-get download, unpacks it with dpkg -x, runs depmod and builds the initramfs.
        Everything is cached per kernel version under the cache directory, so a second
        call only checks and returns.
    .PARAMETER CacheDirectory
        Where to keep kernels and initramfs images. Default: $env:HAPS_LAB_CACHE, else
        ~/.cache/hapowershell/kernel-lab.
    .OUTPUTS
        [pscustomobject] KernelVersion, KernelPath, InitrdPath, ModulesPath, CacheDirectory.
    #>
    [CmdletBinding()]
    param([string]$CacheDirectory)
    $ErrorActionPreference = 'Stop'

    if (-not $IsLinux) { throw 'KernelLab: runs on Linux only' }
    if (-not (Get-Command dpkg-query -ErrorAction Ignore)) { throw 'KernelLab: needs a Debian-based host (dpkg, apt)' }

    $cacheRoot = Get-LabCacheRoot $CacheDirectory
    $null = New-Item -ItemType Directory -Path $cacheRoot -Force

    Install-LabPackage

    # Which kernel: the one linux-image-amd64 names now; if apt cannot say (no package
    # lists yet), refresh the lists as root, and else fall back to the cache.
    $package = Resolve-LabKernelPackageCached $cacheRoot
    if (-not $package -and (Test-LabIsRoot) -and -not (Get-LabCachedKernelVersion $cacheRoot)) {
        $null = Invoke-LabNative apt-get @('update')
        $package = Resolve-LabKernelPackageCached $cacheRoot
    }
    if ($package) { $kernelVersion = $package.Substring('linux-image-'.Length) }
    else {
        $kernelVersion = Get-LabCachedKernelVersion $cacheRoot
        if (-not $kernelVersion) { throw "KernelLab: apt knows no $($script:KernelMetaPackage); run apt-get update" }
        Write-Verbose "KernelLab: apt cannot resolve $($script:KernelMetaPackage); using cached kernel $kernelVersion"
    }

    $kernelDirectory = Join-Path $cacheRoot $kernelVersion
    if (-not (Test-Path -LiteralPath (Join-Path $kernelDirectory '.complete'))) {
        try { Install-LabKernel -Package $package -KernelVersion $kernelVersion -KernelDirectory $kernelDirectory }
        catch {
            # Stale package lists name a version the archive no longer has: refresh once.
            if (-not (Test-LabIsRoot)) { throw }
            Write-Verbose "KernelLab: $($_.Exception.Message); refreshing the package lists"
            $null = Invoke-LabNative apt-get @('update')
            $package = Resolve-LabKernelPackageCached $cacheRoot
            if (-not $package) { throw }
            $kernelVersion = $package.Substring('linux-image-'.Length)
            $kernelDirectory = Join-Path $cacheRoot $kernelVersion
            if (-not (Test-Path -LiteralPath (Join-Path $kernelDirectory '.complete'))) {
                Install-LabKernel -Package $package -KernelVersion $kernelVersion -KernelDirectory $kernelDirectory
            }
        }
    }

    $root = Join-Path $kernelDirectory 'root'
    $modulesPath = Join-Path $root 'lib/modules'

    # The initramfs is named after what goes into it, so editing kernel/init or the
    # module list rebuilds it.
    $initText = [IO.File]::ReadAllText((Join-Path $script:GuestDirectory 'init'))
    $hash = Get-LabSha256 ($initText + "`n" + ($script:InitramfsModules -join ' '))
    $initrd = Join-Path $kernelDirectory "initrd-$($hash.Substring(0, 16)).img"
    if (-not (Test-Path -LiteralPath $initrd)) {
        Write-Verbose "KernelLab: building $initrd"
        $modules = Get-LabInitramfsModule -ModulesDirectory (Join-Path $modulesPath $kernelVersion)
        New-LabInitramfs -ModulesDirectory (Join-Path $modulesPath $kernelVersion) -Modules $modules -Destination $initrd
        # Older images of this kernel are dead weight now.
        Get-ChildItem -LiteralPath $kernelDirectory -Filter 'initrd-*.img' |
            Where-Object FullName -ne $initrd | Remove-Item -Force -ErrorAction Ignore
    }

    [pscustomobject]@{
        KernelVersion  = $kernelVersion
        KernelPath     = Join-Path $root "boot/vmlinuz-$kernelVersion"
        InitrdPath     = $initrd
        ModulesPath    = $modulesPath
        CacheDirectory = $cacheRoot
    }
}

function Invoke-KernelLab {
    <#
    .SYNOPSIS
        Boots the lab guest, runs a bash script in it as root and returns the result.
    .DESCRIPTION
        The guest sees the host's / (read-only, with a tmpfs overlay: writes are lost at
        power-off), its own /proc, /sys, /dev, /tmp and /run, the lab kernel's modules at
        /lib/modules/<version>, and no network device to the outside. The script runs
        with bash in WorkingDirectory (a host path, the same path in the guest) with
        PATH, HOME=/root, LANG=C.UTF-8, TERM=dumb, DOTNET_CLI_TELEMETRY_OPTOUT=1,
        DOTNET_NOLOGO=1, HAPS_KERNEL_LAB=1 and LAB_OUT set; LAB_OUT is a directory shared
        with the host (OutputDirectory in the result). The script's combined output is
        streamed to the host (Write-Host) unless -Quiet, and returned.

        It always terminates: qemu is killed after TimeoutSeconds (ExitCode 124,
        TimedOut $true). When the guest fails before reporting a status (kernel panic,
        missing module, bad share), ExitCode is 125 and Message has the console tail.
    .PARAMETER Script
        Bash script text to run in the guest.
    .PARAMETER WorkingDirectory
        Host directory to start the script in (default: the current directory).
    .PARAMETER TimeoutSeconds
        Wall-clock limit for the whole run, boot included (default 1500).
    .PARAMETER MemoryMB
        Guest memory (default 3072). The overlay's writes live in guest memory too.
    .PARAMETER Environment
        Extra environment variables for the script; they override the defaults.
    .PARAMETER CpuCount
        Guest CPUs (default 2).
    .PARAMETER CacheDirectory
        Passed to Initialize-KernelLab.
    .PARAMETER Quiet
        Do not stream the script's output to the host while it runs.
    .OUTPUTS
        [pscustomobject] ExitCode, Output, Duration, OutputDirectory, ConsoleLog, TimedOut,
        BootSeconds, Message, KernelVersion, RunDirectory.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory, Position = 0)][string]$Script,
        [string]$WorkingDirectory = $PWD.ProviderPath,
        [ValidateRange(1, 86400)][int]$TimeoutSeconds = 1500,
        [ValidateRange(256, 65536)][int]$MemoryMB = 3072,
        [hashtable]$Environment = @{},
        [ValidateRange(1, 64)][int]$CpuCount = 2,
        [string]$CacheDirectory,
        [switch]$Quiet
    )

    $ErrorActionPreference = 'Stop'
    $started = [Diagnostics.Stopwatch]::StartNew()
    $lab = Initialize-KernelLab -CacheDirectory $CacheDirectory

    $workDir = (Resolve-Path -LiteralPath $WorkingDirectory -ErrorAction Stop).ProviderPath
    if (-not (Test-Path -LiteralPath $workDir -PathType Container)) { throw "KernelLab: $workDir is not a directory" }

    # Per-run directory on the host: io/ is the guest's /run/lab, io/out its $LAB_OUT.
    $runsRoot = Join-Path ([IO.Path]::GetTempPath()) 'hapowershell-kernel-lab'
    $null = New-Item -ItemType Directory -Path $runsRoot -Force
    Get-ChildItem -LiteralPath $runsRoot -Directory -Filter 'run-*' -ErrorAction Ignore |
        Where-Object LastWriteTime -lt (Get-Date).AddDays(-1) |
        Remove-Item -Recurse -Force -ErrorAction Ignore
    $runDir = Join-Path $runsRoot ('run-{0:yyyyMMdd-HHmmss}-{1}' -f (Get-Date), [IO.Path]::GetRandomFileName().Replace('.', ''))
    $ioDir = Join-Path $runDir 'io'
    $outDir = Join-Path $ioDir 'out'
    $null = New-Item -ItemType Directory -Path $outDir -Force
    $consoleLog = Join-Path $runDir 'console.log'
    $outputLog = Join-Path $ioDir 'output.log'

    $utf8 = [Text.UTF8Encoding]::new($false)
    Copy-Item -LiteralPath (Join-Path $script:GuestDirectory 'guest-run.sh') -Destination $ioDir
    [IO.File]::WriteAllText((Join-Path $ioDir 'script.sh'), ($Script -replace "`r`n", "`n"), $utf8)
    [IO.File]::WriteAllText((Join-Path $ioDir 'workdir'), "$workDir`n", $utf8)
    $exports = foreach ($key in $Environment.Keys) {
        if ("$key" -notmatch '^[A-Za-z_][A-Za-z0-9_]*$') { throw "KernelLab: invalid environment variable name '$key'" }
        "export $key=$(ConvertTo-BashLiteral ([string]$Environment[$key]))"
    }
    [IO.File]::WriteAllText((Join-Path $ioDir 'env.sh'), (@($exports) -join "`n") + "`n", $utf8)

    $qemuArgs = @(
        '-accel', 'tcg', '-cpu', 'max', '-smp', "$CpuCount", '-m', "$MemoryMB",
        '-nodefaults', '-nographic', '-no-reboot', '-nic', 'none', '-monitor', 'none',
        '-chardev', "file,id=console,path=$(ConvertTo-QemuOptionValue $consoleLog)",
        '-serial', 'chardev:console',
        '-device', 'virtio-rng-pci',
        '-kernel', $lab.KernelPath, '-initrd', $lab.InitrdPath,
        '-append', 'console=ttyS0 panic=-1 quiet no_timer_check',
        '-virtfs', 'local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap',
        '-virtfs', "local,path=$(ConvertTo-QemuOptionValue $lab.ModulesPath),mount_tag=labmods,security_model=none,readonly=on",
        '-virtfs', "local,path=$(ConvertTo-QemuOptionValue $ioDir),mount_tag=labio,security_model=none"
    )
    $qemu = Get-Command qemu-system-x86_64 -CommandType Application -ErrorAction Ignore | Select-Object -First 1
    if (-not $qemu) { throw 'KernelLab: qemu-system-x86_64 not found' }

    $startInfo = [Diagnostics.ProcessStartInfo]::new($qemu.Source)
    foreach ($arg in $qemuArgs) { $startInfo.ArgumentList.Add($arg) }
    $startInfo.UseShellExecute = $false
    $startInfo.RedirectStandardInput = $true
    $startInfo.RedirectStandardOutput = $true
    $startInfo.RedirectStandardError = $true
    Write-Verbose "KernelLab: $($qemu.Source) $($qemuArgs -join ' ')"

    $timedOut = $false
    $bootSeconds = $null
    $stream = @{ Position = 0L; Decoder = $utf8.GetDecoder(); Pending = '' }
    $process = [Diagnostics.Process]::Start($startInfo)
    try {
        $process.StandardInput.Close()
        $stdoutTask = $process.StandardOutput.ReadToEndAsync()
        $stderrTask = $process.StandardError.ReadToEndAsync()
        $bootMarker = Join-Path $ioDir 'booted'
        while (-not $process.WaitForExit(250)) {
            if ($null -eq $bootSeconds -and (Test-Path -LiteralPath $bootMarker)) {
                $bootSeconds = [math]::Round($started.Elapsed.TotalSeconds, 1)
                Write-Verbose "KernelLab: guest up after $bootSeconds s"
            }
            Read-LabStream -Path $outputLog -State $stream -Quiet:$Quiet
            if ($started.Elapsed.TotalSeconds -ge $TimeoutSeconds) {
                $timedOut = $true
                $process.Kill($true)
                $null = $process.WaitForExit(10000)
                break
            }
        }
        $process.WaitForExit()   # also drains the redirected streams
        Read-LabStream -Path $outputLog -State $stream -Flush -Quiet:$Quiet
        $qemuOutput = ($stdoutTask.Result + $stderrTask.Result).Trim()
        $qemuExit = $process.ExitCode
    }
    finally {
        if (-not $process.HasExited) { $process.Kill($true); $null = $process.WaitForExit(10000) }
        $process.Dispose()
    }
    $started.Stop()

    $output = if (Test-Path -LiteralPath $outputLog) { [IO.File]::ReadAllText($outputLog) } else { '' }
    $exitFile = Join-Path $ioDir 'exit-code'
    $exitText = if (Test-Path -LiteralPath $exitFile) { [IO.File]::ReadAllText($exitFile).Trim() } else { '' }
    $message = ''
    if ($timedOut) {
        $exitCode = $script:ExitCodeTimeout
        $message = "KernelLab: timed out after $TimeoutSeconds s; qemu was killed."
        if ($null -eq $bootSeconds) {
            $message += " The guest never reached stage 2. Console log tail:$([Environment]::NewLine)$(Get-LabTail $consoleLog)"
        }
    }
    elseif ($exitText -match '^\d+$') {
        $exitCode = [int]$exitText
        $stageError = Join-Path $ioDir 'stage2-error'
        if (Test-Path -LiteralPath $stageError) {
            $message = "KernelLab: guest set-up failed: $((Get-Content -LiteralPath $stageError -Raw).Trim())"
        }
    }
    else {
        $exitCode = $script:ExitCodeLabFailure
        $stageError = Join-Path $ioDir 'stage1-error'
        $console = Get-LabTail $consoleLog -Count 2000
        $why = if (Test-Path -LiteralPath $stageError) { (Get-Content -LiteralPath $stageError -Raw).Trim() }
        elseif ($console -match 'KERNEL-LAB-STAGE1-FAILED: (.*)') { "the guest failed to boot: $($Matches[1].Trim())" }
        elseif ($console -match 'Kernel panic') { 'the guest kernel panicked' }
        elseif ($null -eq $bootSeconds) { 'the guest failed to boot (no sign of life from stage 2)' }
        else { 'the guest stopped without reporting an exit status' }
        $message = "KernelLab: $why (qemu exit code $qemuExit)."
        if ($qemuOutput) { $message += "$([Environment]::NewLine)qemu: $qemuOutput" }
        $message += "$([Environment]::NewLine)Console log tail ($consoleLog):$([Environment]::NewLine)$(Get-LabTail $consoleLog)"
    }
    if ($message) { Write-Warning $message }

    [pscustomobject]@{
        ExitCode        = $exitCode
        Output          = $output
        Duration        = $started.Elapsed
        OutputDirectory = $outDir
        ConsoleLog      = $consoleLog
        TimedOut        = $timedOut
        BootSeconds     = $bootSeconds
        Message         = $message
        KernelVersion   = $lab.KernelVersion
        RunDirectory    = $runDir
    }
}

function Test-KernelIpvs {
    <#
    .SYNOPSIS
        $true when the host's own kernel has IPVS (/proc/net/ip_vs), after one modprobe attempt.
    #>
    [CmdletBinding()]
    [OutputType([bool])]
    param()
    if (Test-Path -LiteralPath '/proc/net/ip_vs') { return $true }
    # modprobe lives in sbin, which is not on every user's PATH.
    $modprobe = Get-Command modprobe -CommandType Application -ErrorAction Ignore | Select-Object -First 1
    $path = if ($modprobe) { $modprobe.Source }
    else { '/usr/sbin/modprobe', '/sbin/modprobe' | Where-Object { Test-Path -LiteralPath $_ } | Select-Object -First 1 }
    if ($path) { & $path ip_vs *> $null }
    return (Test-Path -LiteralPath '/proc/net/ip_vs')
}

Export-ModuleMember -Function Initialize-KernelLab, Invoke-KernelLab, Test-KernelIpvs
