#Requires -Version 7.0
<#
.SYNOPSIS
    Throwaway network-namespace topologies for HaPowerShell integration tests.

.DESCRIPTION
    Builds an L2 "switch" namespace (haps-<id>-sw, Linux bridge br0) and one namespace per
    host (haps-<id>-<host>) connected to the bridge by a veth pair whose host end is eth0.
    Everything is created with iproute2 (`ip -batch`, `ip -n`, `ip netns exec`).

    Cleanup guarantees:
      * Remove-LabTopology kills every process in the topology's namespaces and deletes them.
      * Each topology has a detached watchdog (setsid sh) that deletes its namespaces if the
        owning PowerShell process dies (Ctrl+C, kill -9, crash) without calling Remove-LabTopology.
      * Clear-LabLeftovers removes orphaned haps-* namespaces (and -Force removes all of them).

    Requires root (CAP_SYS_ADMIN + CAP_NET_ADMIN), iproute2, sysctl (procps), setsid.
    Use documentation address ranges only (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24,
    2001:db8::/32).
#>

Set-StrictMode -Version 3.0

$script:NetnsRunDir = '/var/run/netns'
$script:StateRoot = '/tmp/haps-lab'
$script:NamePrefix = 'haps-'
$script:SwitchSuffix = 'sw'
$script:HostNamePattern = '^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$'
$script:Topologies = [ordered]@{}   # Id -> topology object created by this module instance
$script:ToolPaths = @{}             # program name -> its path, as Get-LabTool found it

#region internal helpers

function Get-LabTool {
    # The program's path: the first PATH directory (then /usr/sbin, /sbin, /usr/bin, /bin) that has it executable, looked up
    # once per module instance. Not Get-Command: in the kernel-lab VM (the host's / over 9p, every instruction
    # emulated) it took 6-25 s a call, and Stop-LabProcess asked for kill on every stop.
    param([Parameter(Mandatory)][string]$Name)
    if ($script:ToolPaths.ContainsKey($Name)) { return $script:ToolPaths[$Name] }
    $dirs = @(([string]$env:PATH).Split([IO.Path]::PathSeparator) | Where-Object { $_ }) + @('/usr/sbin', '/sbin', '/usr/bin', '/bin')
    $path = foreach ($dir in $dirs) {
        $candidate = [IO.Path]::Join($dir, $Name)
        if ([IO.File]::Exists($candidate) -and ([IO.File]::GetUnixFileMode($candidate) -band [IO.UnixFileMode]'UserExecute, GroupExecute, OtherExecute')) { $candidate; break }
    }
    if (-not $path) { throw "NetnsLab: required program '$Name' was not found in PATH." }
    $script:ToolPaths[$Name] = $path
    $path
}

function Get-IpPath { Get-LabTool -Name 'ip' }

function Invoke-LabNative {
    <# Runs a program without a shell; returns ExitCode/StdOut/StdErr/TimedOut. #>
    param(
        [Parameter(Mandatory)][string]$FilePath,
        [string[]]$ArgumentList = @(),
        [string]$InputText,
        [int]$TimeoutSeconds = 60,
        [System.Collections.IDictionary]$Environment
    )
    $psi = [System.Diagnostics.ProcessStartInfo]::new($FilePath)
    foreach ($a in $ArgumentList) { $psi.ArgumentList.Add([string]$a) }
    $psi.UseShellExecute = $false
    $psi.RedirectStandardInput = $true
    $psi.RedirectStandardOutput = $true
    $psi.RedirectStandardError = $true
    if ($Environment) {
        foreach ($key in $Environment.Keys) { $psi.Environment[[string]$key] = [string]$Environment[$key] }
    }
    $proc = [System.Diagnostics.Process]::Start($psi)
    $finished = $false
    try {
        $outTask = $proc.StandardOutput.ReadToEndAsync()
        $errTask = $proc.StandardError.ReadToEndAsync()
        try {
            if ($InputText) { $proc.StandardInput.Write($InputText) }
            $proc.StandardInput.Close()
        } catch [System.IO.IOException] {
            # the program exited without reading its input
        }
        $deadline = [DateTime]::UtcNow.AddSeconds($TimeoutSeconds)
        $timedOut = $false
        # Wait in short slices so Ctrl+C (pipeline stop) can interrupt between them.
        while (-not $proc.WaitForExit(100)) {
            if ([DateTime]::UtcNow -ge $deadline) { $timedOut = $true; break }
        }
        if ($timedOut) {
            try { $proc.Kill($true) } catch { }
            $null = $proc.WaitForExit(5000)
        }
        # Output pipes may be held open by a daemon the program left behind.
        $pipesDone = [System.Threading.Tasks.Task]::WaitAll([System.Threading.Tasks.Task[]]@($outTask, $errTask), 5000)
        $finished = $true
        [pscustomobject]@{
            ExitCode = if ($proc.HasExited) { $proc.ExitCode } else { -1 }
            StdOut   = if ($outTask.IsCompletedSuccessfully) { $outTask.Result } else { '' }
            StdErr   = if ($errTask.IsCompletedSuccessfully) { $errTask.Result } else { '' }
            TimedOut = $timedOut
            PipesClosed = $pipesDone
        }
    } finally {
        if (-not $finished -and -not $proc.HasExited) { try { $proc.Kill($true) } catch { } }
        $proc.Dispose()
    }
}

function Invoke-Ip {
    <# Runs ip with arguments; throws on failure unless -AllowFailure. #>
    param([string[]]$ArgumentList, [string]$InputText, [switch]$AllowFailure)
    $r = Invoke-LabNative -FilePath (Get-IpPath) -ArgumentList $ArgumentList -InputText $InputText -TimeoutSeconds 60
    if ($r.ExitCode -ne 0 -and -not $AllowFailure) {
        throw "NetnsLab: 'ip $($ArgumentList -join ' ')' failed (exit $($r.ExitCode)): $($r.StdErr.Trim()) $($r.StdOut.Trim())"
    }
    $r
}

function Get-ProcessStartTicks {
    param([int]$ProcessId)
    try {
        $stat = [System.IO.File]::ReadAllText("/proc/$ProcessId/stat")
        # comm (field 2) may contain spaces/parentheses: split after the last ')'
        $rest = $stat.Substring($stat.LastIndexOf(')') + 2).Split(' ')
        return $rest[19]   # field 22 = starttime
    } catch {
        return $null
    }
}

function Get-LabOwnerState {
    <# 'Self', 'Other' (owned by another live process) or 'Dead' for a topology id. #>
    param([string]$Id)
    $ownerFile = Join-Path (Join-Path $script:StateRoot $Id) 'owner'
    try { $text = [System.IO.File]::ReadAllText($ownerFile).Trim() } catch { return 'Dead' }
    $parts = $text -split '\s+'
    if ($parts.Count -lt 2) { return 'Dead' }
    $ownerPid = 0
    if (-not [int]::TryParse($parts[0], [ref]$ownerPid)) { return 'Dead' }
    $ticks = Get-ProcessStartTicks -ProcessId $ownerPid
    if (-not $ticks -or $ticks -ne $parts[1]) { return 'Dead' }
    if ($ownerPid -eq $PID) { return 'Self' }
    return 'Other'
}

function Get-LabNamespaceName {
    param([string]$Id, [string]$Suffix)
    return "$($script:NamePrefix)$Id-$Suffix"
}

function Get-LabNamespaceList {
    <# haps-* namespace names currently present (from the iproute2 run directory). #>
    if (-not [System.IO.Directory]::Exists($script:NetnsRunDir)) { return @() }
    @([System.IO.Directory]::GetFiles($script:NetnsRunDir, "$($script:NamePrefix)*") |
        ForEach-Object { [System.IO.Path]::GetFileName($_) } | Sort-Object)
}

function Stop-LabNamespaceProcess {
    <# SIGKILLs every process whose network namespace is one of $Namespaces (two rounds). #>
    param([string[]]$Namespaces)
    if (-not $Namespaces) { return }
    for ($round = 0; $round -lt 3; $round++) {
        $batch = ($Namespaces | ForEach-Object { "netns pids $_" }) -join "`n"
        $r = Invoke-Ip -ArgumentList '-force', '-batch', '-' -InputText ($batch + "`n") -AllowFailure
        $pids = @($r.StdOut -split '\s+' | Where-Object { $_ -match '^\d+$' } | ForEach-Object { [int]$_ } |
            Where-Object { $_ -ne $PID } | Sort-Object -Unique)
        if ($pids.Count -eq 0) { return }
        foreach ($p in $pids) {
            try {
                $proc = [System.Diagnostics.Process]::GetProcessById($p)
                try { $proc.Kill() } finally { $proc.Dispose() }
            } catch { }
        }
        Start-Sleep -Milliseconds 20
    }
}

function Remove-LabNamespace {
    <# Kills processes in and deletes the given namespaces; never throws. Returns names still present. #>
    param([string[]]$Namespaces)
    $Namespaces = @($Namespaces | Where-Object { $_ })
    if ($Namespaces.Count -eq 0) { return @() }
    try { Stop-LabNamespaceProcess -Namespaces $Namespaces } catch { Write-Verbose "NetnsLab: killing processes failed: $_" }
    $present = @($Namespaces | Where-Object { [System.IO.File]::Exists((Join-Path $script:NetnsRunDir $_)) })
    if ($present.Count -gt 0) {
        $batch = ($present | ForEach-Object { "netns del $_" }) -join "`n"
        try { $null = Invoke-Ip -ArgumentList '-force', '-batch', '-' -InputText ($batch + "`n") -AllowFailure } catch { Write-Verbose "NetnsLab: $_" }
    }
    @($Namespaces | Where-Object { [System.IO.File]::Exists((Join-Path $script:NetnsRunDir $_)) })
}

function Start-LabWatchdog {
    <#
        Detached (setsid) sh that waits while the owner process lives and the state directory
        exists. If the owner dies first, it kills the namespaces' processes and deletes them.
        Remove-LabTopology deletes the state directory, which makes the watchdog exit quietly.
    #>
    param([string]$StateDirectory, [string[]]$Namespaces)
    $script = @'
trap '' INT HUP
exec </dev/null >/dev/null 2>&1
owner=$1; ticks=$2; dir=$3; ip=$4; shift 4
alive() {
  [ -d "$dir" ] || return 1
  [ -r "/proc/$owner/stat" ] || return 1
  t=$(sed 's/.*) //' "/proc/$owner/stat" | cut -d' ' -f20)
  [ "$t" = "$ticks" ]
}
while alive; do sleep 1; done
[ -d "$dir" ] || exit 0
for round in 1 2 3; do
  for ns in "$@"; do
    for p in $("$ip" netns pids "$ns" 2>/dev/null); do kill -9 "$p"; done
  done
done
for ns in "$@"; do "$ip" netns del "$ns"; done
rm -rf "$dir"
'@
    $ticks = Get-ProcessStartTicks -ProcessId $PID
    $psi = [System.Diagnostics.ProcessStartInfo]::new((Get-LabTool -Name 'setsid'))
    foreach ($a in @('-f', '/bin/sh', '-c', $script, 'haps-lab-watchdog', [string]$PID, [string]$ticks, $StateDirectory, (Get-IpPath)) + $Namespaces) {
        $psi.ArgumentList.Add($a)
    }
    $psi.UseShellExecute = $false
    $psi.RedirectStandardInput = $true
    $psi.RedirectStandardOutput = $true
    $psi.RedirectStandardError = $true
    $p = [System.Diagnostics.Process]::Start($psi)
    try { $null = $p.WaitForExit(5000) } finally { $p.Dispose() }
}

function Resolve-LabHost {
    param([Parameter(Mandatory)]$Topology, [Parameter(Mandatory)][string]$HostName)
    if (-not $Topology -or -not $Topology.PSObject.Properties['Hosts']) {
        throw 'NetnsLab: -Topology must be an object returned by New-LabTopology.'
    }
    if (-not $Topology.Hosts.Contains($HostName)) {
        throw "NetnsLab: host '$HostName' is not part of topology $($Topology.Id) (hosts: $(@($Topology.Hosts.Keys) -join ', '))."
    }
    $Topology.Hosts[$HostName]
}

function ConvertTo-IPv4Int {
    param([System.Net.IPAddress]$Address)
    $b = $Address.GetAddressBytes()
    return ([uint32]$b[0] -shl 24) -bor ([uint32]$b[1] -shl 16) -bor ([uint32]$b[2] -shl 8) -bor [uint32]$b[3]
}

function Get-LabHostAddress {
    <# Returns @{Address; PrefixLength} for host index (1-based): IPv4 network + 10 + i. #>
    param([string]$Subnet, [int]$Index)
    if ($Subnet -notmatch '^(?<net>[0-9.]+)/(?<len>\d{1,2})$') { throw "NetnsLab: -Subnet '$Subnet' is not an IPv4 CIDR such as 192.0.2.0/24." }
    $len = [int]$Matches.len
    $ip = $null
    if (-not [System.Net.IPAddress]::TryParse($Matches.net, [ref]$ip) -or $ip.AddressFamily -ne 'InterNetwork' -or $len -lt 1 -or $len -gt 30) {
        throw "NetnsLab: -Subnet '$Subnet' is not a valid IPv4 CIDR (prefix 1..30)."
    }
    $mask = [uint32](([uint64]1 -shl 32) - ([uint64]1 -shl (32 - $len)))
    $net = (ConvertTo-IPv4Int $ip) -band $mask
    $hostPart = [uint32](10 + $Index)
    if ($hostPart -ge ([uint64]1 -shl (32 - $len)) - 1) { throw "NetnsLab: subnet $Subnet is too small for host #$Index." }
    $value = $net + $hostPart
    $bytes = [byte[]]@((($value -shr 24) -band 255), (($value -shr 16) -band 255), (($value -shr 8) -band 255), ($value -band 255))
    @{ Address = ([System.Net.IPAddress]::new($bytes)).ToString(); PrefixLength = $len }
}

function Get-LabHostIPv6Address {
    <# IPv6 network + 0x(10+i): host 1 of 2001:db8:1::/64 is 2001:db8:1::11 (mirrors 192.0.2.11). #>
    param([string]$Subnet, [int]$Index)
    if ($Subnet -notmatch '^(?<net>[0-9A-Fa-f:]+)/(?<len>\d{1,3})$') { throw "NetnsLab: -IPv6Subnet '$Subnet' is not an IPv6 CIDR such as 2001:db8:1::/64." }
    $len = [int]$Matches.len
    $ip = $null
    if (-not [System.Net.IPAddress]::TryParse($Matches.net, [ref]$ip) -or $ip.AddressFamily -ne 'InterNetworkV6' -or $len -gt 112) {
        throw "NetnsLab: -IPv6Subnet '$Subnet' is not a valid IPv6 CIDR (prefix <= 112)."
    }
    $bytes = $ip.GetAddressBytes()
    for ($bit = $len; $bit -lt 128; $bit++) { $bytes[[math]::Floor($bit / 8)] = $bytes[[math]::Floor($bit / 8)] -band (-bnot (0x80 -shr ($bit % 8)) -band 0xFF) }
    $suffix = [Convert]::ToUInt32("$(10 + $Index)", 16)
    $carry = $suffix
    for ($i = 15; $i -ge 0 -and $carry -gt 0; $i--) {
        $sum = [uint32]$bytes[$i] + ($carry -band 0xFF)
        $bytes[$i] = [byte]($sum -band 0xFF)
        $carry = ($carry -shr 8) + ($sum -shr 8)
    }
    @{ Address = ([System.Net.IPAddress]::new($bytes)).ToString(); PrefixLength = $len }
}

function Get-LabPwshCommand {
    <# The executable (+ leading args) that starts the same PowerShell as the current process. #>
    $exe = [Environment]::ProcessPath
    if (-not $exe) { $exe = (Get-Process -Id $PID).Path }
    $name = [System.IO.Path]::GetFileNameWithoutExtension($exe)
    if ($name -eq 'dotnet') {
        # running as a dotnet tool / `dotnet pwsh.dll`: same host, same pwsh.dll
        $dll = Join-Path $PSHOME 'pwsh.dll'
        return @{ FilePath = $exe; Prefix = @($dll) }
    }
    return @{ FilePath = $exe; Prefix = @() }
}

function ConvertFrom-LabCliXml {
    <#
        Parses the '#< CLIXML' stream text of `pwsh -OutputFormat xml`. Returns a list of
        @{ Stream; Object } in order. Non-CLIXML text is returned with Stream 'Text'.
    #>
    param([string]$Text)
    $result = [System.Collections.Generic.List[object]]::new()
    if ([string]::IsNullOrEmpty($Text)) { return , $result }
    $docs = [regex]::Matches($Text, '(?s)<Objs\b.*?</Objs>')
    $rest = [regex]::Replace($Text, '(?s)<Objs\b.*?</Objs>', '').Replace('#< CLIXML', '').Trim()
    foreach ($doc in $docs) {
        $objects = [System.Management.Automation.PSSerializer]::DeserializeAsList($doc.Value)
        $streams = @()
        try {
            $xml = [xml]$doc.Value
            $streams = @($xml.DocumentElement.ChildNodes | Where-Object { $_.NodeType -eq 'Element' } |
                ForEach-Object { $s = $_.GetAttribute('S'); if ($s) { $s } else { 'Output' } })
        } catch { }
        for ($i = 0; $i -lt $objects.Count; $i++) {
            $stream = if ($i -lt $streams.Count) { $streams[$i] } else { 'Output' }
            $result.Add(@{ Stream = $stream; Object = $objects[$i] })
        }
    }
    if ($rest) { $result.Add(@{ Stream = 'Text'; Object = $rest }) }
    return , $result
}

#endregion

function Test-LabEnvironment {
    <#
    .SYNOPSIS
        $true when network namespaces can be created here (root + iproute2 + sysctl + setsid).
    #>
    [CmdletBinding()]
    [OutputType([bool])]
    param()
    if (-not $IsLinux) { return $false }
    try {
        $status = [System.IO.File]::ReadAllText('/proc/self/status')
        if ($status -notmatch '(?m)^Uid:\s+\d+\s+0\s') { return $false }
        $null = Get-IpPath; $null = Get-LabTool sysctl; $null = Get-LabTool setsid
        return $true
    } catch {
        return $false
    }
}

function New-LabTopology {
    <#
    .SYNOPSIS
        Creates a switch namespace with bridge br0 and one namespace per host attached to it.
    .OUTPUTS
        PSCustomObject (HaPowerShell.NetnsLab.Topology): Id, SwitchNamespace, BridgeName,
        Namespaces, Hosts (ordered name -> host), Subnet, IPv6Subnet, StateDirectory,
        Processes, CreatedIn. Host: Name, Index, Namespace, InterfaceName, MacAddress,
        IPv4Address, IPv4PrefixLength, IPv6Address, IPv6PrefixLength, SwitchPort.
    #>
    [CmdletBinding()]
    param(
        [ValidateNotNullOrEmpty()]
        [string[]]$Hosts = @('h1', 'h2'),
        [string]$Subnet = '192.0.2.0/24',
        [AllowEmptyString()]
        [string]$IPv6Subnet = '2001:db8:1::/64',
        [switch]$NoAddresses
    )
    $sw = [System.Diagnostics.Stopwatch]::StartNew()

    # ---- validate ----
    if ($Hosts.Count -gt 200) { throw 'NetnsLab: at most 200 hosts per topology.' }
    $seen = [System.Collections.Generic.HashSet[string]]::new([StringComparer]::OrdinalIgnoreCase)
    foreach ($h in $Hosts) {
        if ($h -notmatch $script:HostNamePattern) { throw "NetnsLab: invalid host name '$h' (letters, digits, '-', '_'; max 32 chars)." }
        if ($h -eq $script:SwitchSuffix) { throw "NetnsLab: host name '$($script:SwitchSuffix)' is reserved for the switch namespace." }
        if (-not $seen.Add($h)) { throw "NetnsLab: duplicate host name '$h'." }
    }
    $addr4 = @{}; $addr6 = @{}
    if (-not $NoAddresses) {
        for ($i = 1; $i -le $Hosts.Count; $i++) {
            $addr4[$i] = Get-LabHostAddress -Subnet $Subnet -Index $i
            if ($IPv6Subnet) { $addr6[$i] = Get-LabHostIPv6Address -Subnet $IPv6Subnet -Index $i }
        }
    }
    $ip = Get-IpPath
    $sysctl = Get-LabTool -Name 'sysctl'

    # ---- unique id ----
    $existing = Get-LabNamespaceList
    do {
        $id = [System.Security.Cryptography.RandomNumberGenerator]::GetHexString(6, $true)
        $clash = @($existing | Where-Object { $_.StartsWith("$($script:NamePrefix)$id-") }).Count -gt 0 -or
            [System.IO.Directory]::Exists((Join-Path $script:StateRoot $id))
    } while ($clash)

    $stateDir = Join-Path $script:StateRoot $id
    $swNs = Get-LabNamespaceName -Id $id -Suffix $script:SwitchSuffix
    $hostObjects = [ordered]@{}
    $macBase = '02:{0}:{1}:{2}' -f $id.Substring(0, 2), $id.Substring(2, 2), $id.Substring(4, 2)
    for ($i = 1; $i -le $Hosts.Count; $i++) {
        $name = $Hosts[$i - 1]
        $hostObjects[$name] = [pscustomobject]@{
            PSTypeName       = 'HaPowerShell.NetnsLab.Host'
            Name             = $name
            Index            = $i
            Namespace        = Get-LabNamespaceName -Id $id -Suffix $name
            InterfaceName    = 'eth0'
            MacAddress       = '{0}:00:{1:x2}' -f $macBase, $i
            IPv4Address      = if ($addr4.ContainsKey($i)) { $addr4[$i].Address } else { $null }
            IPv4PrefixLength = if ($addr4.ContainsKey($i)) { $addr4[$i].PrefixLength } else { $null }
            IPv6Address      = if ($addr6.ContainsKey($i)) { $addr6[$i].Address } else { $null }
            IPv6PrefixLength = if ($addr6.ContainsKey($i)) { $addr6[$i].PrefixLength } else { $null }
            SwitchPort       = "vh$i"
        }
    }
    $namespaces = @($swNs) + @($hostObjects.Values | ForEach-Object Namespace)
    $topology = [pscustomobject]@{
        PSTypeName      = 'HaPowerShell.NetnsLab.Topology'
        Id              = $id
        SwitchNamespace = $swNs
        BridgeName      = 'br0'
        Namespaces      = $namespaces
        Hosts           = $hostObjects
        Subnet          = if ($NoAddresses) { $null } else { $Subnet }
        IPv6Subnet      = if ($NoAddresses -or -not $IPv6Subnet) { $null } else { $IPv6Subnet }
        StateDirectory  = $stateDir
        Processes       = [System.Collections.Generic.List[object]]::new()
        CreatedIn       = [TimeSpan]::Zero
    }

    $ok = $false
    try {
        # state directory + owner marker first, then the watchdog, then the namespaces
        $null = [System.IO.Directory]::CreateDirectory((Join-Path $stateDir 'proc'))
        [System.IO.File]::WriteAllText((Join-Path $stateDir 'owner'), "$PID $(Get-ProcessStartTicks -ProcessId $PID)`n")
        [System.IO.File]::WriteAllLines((Join-Path $stateDir 'namespaces'), [string[]]$namespaces)
        $script:Topologies[$id] = $topology
        Start-LabWatchdog -StateDirectory $stateDir -Namespaces $namespaces

        # switch: no IPv6 on the bridge or its ports (no DAD/RS/MLD noise); no forwarding (pure L2)
        $swBatch = [System.Collections.Generic.List[string]]::new()
        $swBatch.Add('link set lo up')
        $swBatch.Add('link add br0 address {0}:ff:ff type bridge stp_state 0 forward_delay 0 mcast_snooping 0 mcast_querier 0 nf_call_iptables 0 nf_call_ip6tables 0 nf_call_arptables 0' -f $macBase)
        foreach ($h in $hostObjects.Values) {
            $swBatch.Add(('link add {0} address {1}:01:{2:x2} type veth peer name eth0 address {3} netns {4}' -f
                    $h.SwitchPort, $macBase, $h.Index, $h.MacAddress, $h.Namespace))
            $swBatch.Add("link set $($h.SwitchPort) master br0 up")
        }
        $swBatch.Add('link set br0 up')
        [System.IO.File]::WriteAllLines((Join-Path $stateDir 'sw.batch'), $swBatch)

        foreach ($h in $hostObjects.Values) {
            $hb = [System.Collections.Generic.List[string]]::new()
            $hb.Add('link set lo up')
            if ($h.IPv4Address) { $hb.Add("address add $($h.IPv4Address)/$($h.IPv4PrefixLength) dev eth0") }
            if ($h.IPv6Address) { $hb.Add("address add $($h.IPv6Address)/$($h.IPv6PrefixLength) dev eth0 nodad") }
            $hb.Add('link set eth0 up')
            [System.IO.File]::WriteAllLines((Join-Path $stateDir "host-$($h.Index).batch"), $hb)
        }

        $swSysctl = 'net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 net.ipv4.ip_forward=0'
        # hosts: no DAD (addresses usable at once), keep IPv6 addresses across link down/up, no forwarding
        $hostSysctl = 'net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 ' +
        'net.ipv6.conf.all.keep_addr_on_down=1 net.ipv6.conf.default.keep_addr_on_down=1 ' +
        'net.ipv6.conf.all.forwarding=0 net.ipv4.ip_forward=0'

        $root = [System.Collections.Generic.List[string]]::new()
        foreach ($ns in $namespaces) { $root.Add("netns add $ns") }
        $root.Add("netns exec $swNs $sysctl -q -w $swSysctl")
        foreach ($h in $hostObjects.Values) { $root.Add("netns exec $($h.Namespace) $sysctl -q -w $hostSysctl") }
        $root.Add("netns exec $swNs $ip -batch $(Join-Path $stateDir 'sw.batch')")
        foreach ($h in $hostObjects.Values) { $root.Add("netns exec $($h.Namespace) $ip -batch $(Join-Path $stateDir "host-$($h.Index).batch")") }
        $rootFile = Join-Path $stateDir 'root.batch'
        [System.IO.File]::WriteAllLines($rootFile, $root)

        $r = Invoke-LabNative -FilePath $ip -ArgumentList '-batch', $rootFile -TimeoutSeconds 60
        if ($r.ExitCode -ne 0) {
            throw "NetnsLab: creating topology $id failed (ip -batch exit $($r.ExitCode)): $($r.StdErr.Trim()) $($r.StdOut.Trim())"
        }
        $ok = $true
    } finally {
        if (-not $ok) {
            Remove-LabTopology -Topology $topology
        }
    }
    $sw.Stop()
    $topology.CreatedIn = $sw.Elapsed
    Write-Verbose "NetnsLab: topology $id ($($Hosts.Count) hosts) created in $([int]$sw.Elapsed.TotalMilliseconds) ms"
    $topology
}

function Remove-LabTopology {
    <#
    .SYNOPSIS
        Kills all processes in the topology's namespaces and deletes them. Never throws.
        Accepts $null (handy in AfterAll when BeforeAll failed).
    #>
    [CmdletBinding()]
    param(
        [Parameter(ValueFromPipeline, Position = 0)]
        [AllowNull()]
        [object]$Topology
    )
    process {
        if ($null -eq $Topology) { return }
        try {
            $id = [string]$Topology.Id
            $namespaces = @()
            if ($Topology.PSObject.Properties['Namespaces']) { $namespaces = @($Topology.Namespaces) }
            if ($id -and $namespaces.Count -eq 0) {
                $namespaces = @(Get-LabNamespaceList | Where-Object { $_.StartsWith("$($script:NamePrefix)$id-") })
            }
            # tracked processes first (whole process tree), then anything else in the namespaces
            if ($Topology.PSObject.Properties['Processes'] -and $Topology.Processes) {
                foreach ($handle in @($Topology.Processes)) {
                    try {
                        if (-not $handle.Process.HasExited) { $handle.Process.Kill($true) }
                    } catch { Write-Verbose "NetnsLab: $_" }
                }
            }
            $left = @(Remove-LabNamespace -Namespaces $namespaces)
            if ($left.Count -gt 0) { Write-Warning "NetnsLab: could not delete namespace(s): $($left -join ', ')" }
            if ($Topology.PSObject.Properties['Processes'] -and $Topology.Processes) {
                foreach ($handle in @($Topology.Processes)) {
                    try { $null = $handle.Process.WaitForExit(2000) } catch { }
                }
            }
            if ($id -and $id -match '^[0-9a-f]{6}$') {
                $dir = Join-Path $script:StateRoot $id
                # note: this also deletes captured process output (collect it with Stop-LabProcess first)
                try { if ([System.IO.Directory]::Exists($dir)) { [System.IO.Directory]::Delete($dir, $true) } } catch { Write-Verbose "NetnsLab: $_" }
                $script:Topologies.Remove($id)
            }
        } catch {
            Write-Warning "NetnsLab: Remove-LabTopology: $_"
        }
    }
}

function Clear-LabLeftovers {
    <#
    .SYNOPSIS
        Removes haps-* namespaces (and their processes) left behind by earlier runs.
    .DESCRIPTION
        By default skips topologies whose owning PowerShell process is still alive in ANOTHER
        process (a concurrent test run); -Force removes every haps-* namespace regardless.
        Topologies of the current process are removed. -PassThru returns the removed names.
    #>
    [CmdletBinding()]
    param([switch]$Force, [switch]$PassThru)
    $removed = [System.Collections.Generic.List[string]]::new()
    try {
        foreach ($t in @($script:Topologies.Values)) {
            $names = @($t.Namespaces | Where-Object { [System.IO.File]::Exists((Join-Path $script:NetnsRunDir $_)) })
            Remove-LabTopology -Topology $t
            $names | ForEach-Object { $removed.Add($_) }
        }
        $victims = [System.Collections.Generic.List[string]]::new()
        $ids = [System.Collections.Generic.HashSet[string]]::new()
        foreach ($ns in Get-LabNamespaceList) {
            $owner = 'Dead'
            if ($ns -match "^$([regex]::Escape($script:NamePrefix))(?<id>[0-9a-f]{6})-") {
                $owner = Get-LabOwnerState -Id $Matches.id
                $null = $ids.Add($Matches.id)
            }
            if ($owner -eq 'Other' -and -not $Force) {
                Write-Verbose "NetnsLab: keeping $ns (owned by another live process; use -Force)"
                continue
            }
            $victims.Add($ns)
        }
        if ($victims.Count -gt 0) {
            $left = @(Remove-LabNamespace -Namespaces $victims)
            $victims | Where-Object { $_ -notin $left } | ForEach-Object { $removed.Add($_) }
            if ($left.Count -gt 0) { Write-Warning "NetnsLab: could not delete namespace(s): $($left -join ', ')" }
        }
        # stale state directories (no live owner, or -Force)
        if ([System.IO.Directory]::Exists($script:StateRoot)) {
            foreach ($dir in [System.IO.Directory]::GetDirectories($script:StateRoot)) {
                $id = [System.IO.Path]::GetFileName($dir)
                $state = Get-LabOwnerState -Id $id
                if ($state -eq 'Dead' -or $Force -or ($state -eq 'Self' -and -not $script:Topologies.Contains($id))) {
                    try { [System.IO.Directory]::Delete($dir, $true) } catch { Write-Verbose "NetnsLab: $_" }
                }
            }
        }
    } catch {
        Write-Warning "NetnsLab: Clear-LabLeftovers: $_"
    }
    if ($PassThru) { $removed.ToArray() }
}

function Invoke-LabCommand {
    <#
    .SYNOPSIS
        Runs a program (no shell) inside a host namespace via `ip netns exec`.
    .OUTPUTS
        PSCustomObject: ExitCode, StdOut, StdErr, TimedOut. Throws on non-zero exit unless -AllowFailure.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)][object]$Topology,
        [Parameter(Mandatory)][string]$HostName,
        [Parameter(Mandatory)][string]$Command,
        [string[]]$ArgumentList = @(),
        [switch]$AllowFailure,
        [ValidateRange(1, 86400)][int]$TimeoutSeconds = 60,
        [string]$InputText
    )
    $h = Resolve-LabHost -Topology $Topology -HostName $HostName
    $argv = @('netns', 'exec', $h.Namespace, $Command) + @($ArgumentList)
    $r = Invoke-LabNative -FilePath (Get-IpPath) -ArgumentList $argv -TimeoutSeconds $TimeoutSeconds -InputText $InputText
    $result = [pscustomobject]@{
        PSTypeName = 'HaPowerShell.NetnsLab.CommandResult'
        ExitCode   = $r.ExitCode
        StdOut     = $r.StdOut
        StdErr     = $r.StdErr
        TimedOut   = $r.TimedOut
    }
    if (($r.ExitCode -ne 0 -or $r.TimedOut) -and -not $AllowFailure) {
        $what = (@($Command) + @($ArgumentList)) -join ' '
        $why = if ($r.TimedOut) { "timed out after $TimeoutSeconds s" } else { "failed with exit code $($r.ExitCode)" }
        $msg = "NetnsLab: '$what' on host '$HostName' ($($h.Namespace)) $why.`nstdout: $($r.StdOut.TrimEnd())`nstderr: $($r.StdErr.TrimEnd())"
        $err = [System.Management.Automation.ErrorRecord]::new(
            [System.InvalidOperationException]::new($msg), 'LabCommandFailed',
            [System.Management.Automation.ErrorCategory]::NotSpecified, $result)
        $PSCmdlet.ThrowTerminatingError($err)
    }
    $result
}

function Start-LabProcess {
    <#
    .SYNOPSIS
        Starts a long-running program inside a host namespace in the background.
    .DESCRIPTION
        stdin is /dev/null; stdout/stderr go to files (StdOutPath/StdErrPath, or -OutputFile and
        -OutputFile.err). The process is the direct child of this PowerShell process (sh -> exec
        ip netns exec -> exec program, so Pid is the program's pid). Daemons must be kept in
        the foreground (keepalived -n / --dont-fork, etc.).
    .OUTPUTS
        PSCustomObject (HaPowerShell.NetnsLab.Process): Pid, HostName, Namespace, Command,
        ArgumentList, StdOutPath, StdErrPath, Process (System.Diagnostics.Process), TopologyId, StartTime.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)][object]$Topology,
        [Parameter(Mandatory)][string]$HostName,
        [Parameter(Mandatory)][string]$Command,
        [string[]]$ArgumentList = @(),
        [string]$OutputFile
    )
    $h = Resolve-LabHost -Topology $Topology -HostName $HostName
    $procDir = Join-Path $Topology.StateDirectory 'proc'
    $null = [System.IO.Directory]::CreateDirectory($procDir)
    if ($OutputFile) {
        $outPath = [System.IO.Path]::GetFullPath($OutputFile)
        $errPath = "$outPath.err"
    } else {
        $n = $Topology.Processes.Count + 1
        $stem = '{0:d3}-{1}-{2}' -f $n, $HostName, ([System.IO.Path]::GetFileName($Command) -replace '[^A-Za-z0-9_.-]', '_')
        $outPath = Join-Path $procDir "$stem.out"
        $errPath = Join-Path $procDir "$stem.err"
    }
    $psi = [System.Diagnostics.ProcessStartInfo]::new('/bin/sh')
    $wrapper = 'exec </dev/null >"$1" 2>"$2"; shift 2; exec "$@"'
    foreach ($a in @('-c', $wrapper, 'haps-lab', $outPath, $errPath, (Get-IpPath), 'netns', 'exec', $h.Namespace, $Command) + @($ArgumentList)) {
        $psi.ArgumentList.Add([string]$a)
    }
    $psi.UseShellExecute = $false
    $proc = [System.Diagnostics.Process]::Start($psi)
    $handle = [pscustomobject]@{
        PSTypeName   = 'HaPowerShell.NetnsLab.Process'
        Pid          = $proc.Id
        HostName     = $HostName
        Namespace    = $h.Namespace
        Command      = $Command
        ArgumentList = @($ArgumentList)
        StdOutPath   = $outPath
        StdErrPath   = $errPath
        Process      = $proc
        TopologyId   = $Topology.Id
        StartTime    = [DateTime]::Now
    }
    $Topology.Processes.Add($handle)
    $handle
}

function Stop-LabProcess {
    <#
    .SYNOPSIS
        Stops a Start-LabProcess process: SIGTERM, then SIGKILL (whole tree) after -TimeoutSeconds.
    .OUTPUTS
        PSCustomObject: Pid, ExitCode (128+signal when killed by a signal), StdOut, StdErr, Killed.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory, ValueFromPipeline, Position = 0)][object]$Process,
        [ValidateRange(0, 3600)][double]$TimeoutSeconds = 2
    )
    process {
        $proc = $Process.Process
        $killed = $false
        if (-not $proc.HasExited) {
            $r = Invoke-LabNative -FilePath (Get-LabTool -Name 'kill') -ArgumentList '-s', 'TERM', ([string]$Process.Pid) -TimeoutSeconds 10
            if ($r.ExitCode -ne 0) { Write-Verbose "NetnsLab: kill -TERM $($Process.Pid): $($r.StdErr)" }
            $deadline = [DateTime]::UtcNow.AddSeconds($TimeoutSeconds)
            while (-not $proc.WaitForExit(50)) {
                if ([DateTime]::UtcNow -ge $deadline) {
                    try { $proc.Kill($true); $killed = $true } catch { }
                    $null = $proc.WaitForExit(5000)
                    break
                }
            }
        }
        $proc.WaitForExit()
        $read = {
            param($path)
            try {
                $fs = [System.IO.FileStream]::new($path, 'Open', 'Read', 'ReadWrite')
                try { [System.IO.StreamReader]::new($fs).ReadToEnd() } finally { $fs.Dispose() }
            } catch { '' }
        }
        [pscustomobject]@{
            PSTypeName = 'HaPowerShell.NetnsLab.ProcessResult'
            Pid        = $Process.Pid
            ExitCode   = $proc.ExitCode
            StdOut     = & $read $Process.StdOutPath
            StdErr     = & $read $Process.StdErrPath
            Killed     = $killed
        }
    }
}

function Invoke-LabPwsh {
    <#
    .SYNOPSIS
        Runs a script in a fresh pwsh (same executable as this process) inside a host namespace.
    .DESCRIPTION
        pwsh -NoProfile -NonInteractive -OutputFormat xml -Command ...; the script text and
        -ArgumentList (CliXml-serialised) are passed via environment variables, so no quoting
        issues. Information records (Write-Host) are captured, not printed.
    .OUTPUTS
        PSCustomObject: ExitCode, Output (deserialised objects), Errors, Warnings, Verbose,
        Information, StdErr (non-CliXml text), TimedOut. Throws on non-zero exit unless -AllowFailure.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)][object]$Topology,
        [Parameter(Mandatory)][string]$HostName,
        [Parameter(Mandatory)][string]$Script,
        [string]$ModulePath,
        [object[]]$ArgumentList = @(),
        [switch]$AllowFailure,
        [ValidateRange(1, 86400)][int]$TimeoutSeconds = 120
    )
    $h = Resolve-LabHost -Topology $Topology -HostName $HostName
    $pw = Get-LabPwshCommand
    $bootstrap = @'
$ProgressPreference = 'SilentlyContinue'
if ($env:HAPS_LAB_PWSH_MODULE) { Import-Module -Name $env:HAPS_LAB_PWSH_MODULE -ErrorAction Stop }
$__labArgs = @([System.Management.Automation.PSSerializer]::Deserialize($env:HAPS_LAB_PWSH_ARGS))
$__labScript = [scriptblock]::Create($env:HAPS_LAB_PWSH_SCRIPT)
Remove-Item Env:HAPS_LAB_PWSH_SCRIPT, Env:HAPS_LAB_PWSH_ARGS, Env:HAPS_LAB_PWSH_MODULE -ErrorAction SilentlyContinue
& $__labScript @__labArgs 6>&1
'@
    $envVars = @{
        HAPS_LAB_PWSH_SCRIPT = $Script
        HAPS_LAB_PWSH_ARGS   = [System.Management.Automation.PSSerializer]::Serialize([object[]]@($ArgumentList))
        HAPS_LAB_PWSH_MODULE = if ($ModulePath) { [System.IO.Path]::GetFullPath($ModulePath) } else { '' }
    }
    $argv = @('netns', 'exec', $h.Namespace, $pw.FilePath) + $pw.Prefix +
        @('-NoProfile', '-NonInteractive', '-OutputFormat', 'xml', '-Command', $bootstrap)
    $r = Invoke-LabNative -FilePath (Get-IpPath) -ArgumentList $argv -TimeoutSeconds $TimeoutSeconds -Environment $envVars

    $output = [System.Collections.Generic.List[object]]::new()
    $info = [System.Collections.Generic.List[object]]::new()
    $errors = [System.Collections.Generic.List[object]]::new()
    $warnings = [System.Collections.Generic.List[object]]::new()
    $verbose = [System.Collections.Generic.List[object]]::new()
    $text = [System.Collections.Generic.List[string]]::new()
    foreach ($item in (ConvertFrom-LabCliXml -Text $r.StdOut)) {
        if ($item.Stream -eq 'Text') { $text.Add([string]$item.Object); continue }
        $o = $item.Object
        if ($o -is [psobject] -and $o.PSObject.TypeNames -contains 'Deserialized.System.Management.Automation.InformationRecord') { $info.Add($o) }
        else { $output.Add($o) }
    }
    foreach ($item in (ConvertFrom-LabCliXml -Text $r.StdErr)) {
        switch ($item.Stream) {
            'Error' { $errors.Add($item.Object) }
            'warning' { $warnings.Add($item.Object) }
            'verbose' { $verbose.Add($item.Object) }
            'debug' { $verbose.Add($item.Object) }
            'information' { $info.Add($item.Object) }
            'progress' { }
            default { $text.Add([string]$item.Object) }
        }
    }
    $result = [pscustomobject]@{
        PSTypeName  = 'HaPowerShell.NetnsLab.PwshResult'
        ExitCode    = $r.ExitCode
        Output      = $output.ToArray()
        Errors      = $errors.ToArray()
        Warnings    = $warnings.ToArray()
        Verbose     = $verbose.ToArray()
        Information = $info.ToArray()
        StdErr      = ($text -join "`n")
        TimedOut    = $r.TimedOut
    }
    if (($r.ExitCode -ne 0 -or $r.TimedOut) -and -not $AllowFailure) {
        $why = if ($r.TimedOut) { "timed out after $TimeoutSeconds s" } else { "exited with code $($r.ExitCode)" }
        $errText = @($errors | ForEach-Object { [string]$_ }) + @($text)
        $msg = "NetnsLab: pwsh on host '$HostName' ($($h.Namespace)) $why.`n$($errText -join "`n")"
        $err = [System.Management.Automation.ErrorRecord]::new(
            [System.InvalidOperationException]::new($msg), 'LabPwshFailed',
            [System.Management.Automation.ErrorCategory]::NotSpecified, $result)
        $PSCmdlet.ThrowTerminatingError($err)
    }
    $result
}

function Set-LabLink {
    <#
    .SYNOPSIS
        Brings a host's link down/up. -Side Switch (default) toggles the bridge-side veth port
        (like pulling the cable: eth0 keeps its config, loses carrier); -Side Host toggles eth0;
        -Side Bridge stops/starts forwarding on the host's bridge port (bridge port state disabled /
        forwarding) while both veth ends stay up: a partition in which the host keeps its carrier.
    #>
    [CmdletBinding(DefaultParameterSetName = 'Down')]
    param(
        [Parameter(Mandatory)][object]$Topology,
        [Parameter(Mandatory)][string]$HostName,
        [Parameter(Mandatory, ParameterSetName = 'Up')][switch]$Up,
        [Parameter(Mandatory, ParameterSetName = 'Down')][switch]$Down,
        [ValidateSet('Switch', 'Host', 'Bridge')][string]$Side = 'Switch'
    )
    $h = Resolve-LabHost -Topology $Topology -HostName $HostName
    $state = if ($PSCmdlet.ParameterSetName -eq 'Up') { 'up' } else { 'down' }
    if ($Side -eq 'Bridge') {
        $portState = if ($state -eq 'up') { '3' } else { '0' }   # BR_STATE_FORWARDING / BR_STATE_DISABLED
        # bridge(8), not 'ip link set type bridge_slave state', which this kernel accepts but ignores
        $r = Invoke-LabNative -FilePath (Get-LabTool -Name 'bridge') -ArgumentList '-n', $Topology.SwitchNamespace, 'link', 'set', 'dev', $h.SwitchPort, 'state', $portState -TimeoutSeconds 10
        if ($r.ExitCode -ne 0) { throw "NetnsLab: bridge link set $($h.SwitchPort) state $portState failed: $($r.StdErr.Trim())" }
    } elseif ($Side -eq 'Switch') {
        $null = Invoke-Ip -ArgumentList '-n', $Topology.SwitchNamespace, 'link', 'set', 'dev', $h.SwitchPort, $state
    } else {
        $null = Invoke-Ip -ArgumentList '-n', $h.Namespace, 'link', 'set', 'dev', $h.InterfaceName, $state
    }
}

function Get-LabNeighbor {
    <#
    .SYNOPSIS
        A host's neighbour (ARP/NDP) entry for an address, or $null.
    .OUTPUTS
        PSCustomObject: HostName, IPAddress, MacAddress ($null for INCOMPLETE/FAILED), State
        (e.g. 'REACHABLE', 'STALE', 'FAILED'; several flags joined by ','), Interface.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)][object]$Topology,
        [Parameter(Mandatory)][string]$HostName,
        [Parameter(Mandatory)][string]$IPAddress
    )
    $h = Resolve-LabHost -Topology $Topology -HostName $HostName
    $parsed = $null
    if (-not [System.Net.IPAddress]::TryParse($IPAddress, [ref]$parsed)) { throw "NetnsLab: '$IPAddress' is not an IP address." }
    $r = Invoke-Ip -ArgumentList '-n', $h.Namespace, '-j', 'neigh', 'show', 'to', $parsed.ToString()
    $json = $r.StdOut.Trim()
    if (-not $json) { return $null }
    $entries = @($json | ConvertFrom-Json)
    $entry = $entries | Where-Object { $_.PSObject.Properties['dst'] -and [System.Net.IPAddress]::Parse($_.dst).Equals($parsed) } | Select-Object -First 1
    if (-not $entry) { return $null }
    [pscustomobject]@{
        PSTypeName = 'HaPowerShell.NetnsLab.Neighbor'
        HostName   = $HostName
        IPAddress  = $parsed.ToString()
        MacAddress = if ($entry.PSObject.Properties['lladdr']) { [string]$entry.lladdr } else { $null }
        State      = if ($entry.PSObject.Properties['state']) { @($entry.state) -join ',' } else { $null }
        Interface  = if ($entry.PSObject.Properties['dev']) { [string]$entry.dev } else { $null }
    }
}

function Start-LabCapture {
    <#
    .SYNOPSIS
        Starts tcpdump on a host's interface, writing a pcap file with nanosecond kernel receive
        timestamps; returns once tcpdump is listening.
    .DESCRIPTION
        tcpdump -i <if> -n -U --immediate-mode --time-stamp-precision=nano -Z root -w <file> [filter].
        The file lives in the topology's state directory. Read-LabCapture parses it at any time
        (every packet is flushed as it arrives); Stop-LabCapture stops tcpdump and parses it.
    .OUTPUTS
        PSCustomObject (HaPowerShell.NetnsLab.Capture): HostName, InterfaceName, Filter, Path, Process.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)][object]$Topology,
        [Parameter(Mandatory)][string]$HostName,
        [string]$Filter = '',
        [string]$InterfaceName = 'eth0',
        [ValidateRange(1, 60)][int]$TimeoutSeconds = 10
    )
    $null = Resolve-LabHost -Topology $Topology -HostName $HostName
    if ($InterfaceName -notmatch '^[A-Za-z0-9_.:-]{1,15}$') { throw "NetnsLab: invalid interface name '$InterfaceName'." }
    $tcpdump = Get-LabTool -Name 'tcpdump'
    $dir = Join-Path $Topology.StateDirectory 'capture'
    $null = [System.IO.Directory]::CreateDirectory($dir)
    $file = Join-Path $dir ('{0}-{1}.pcap' -f $HostName, [guid]::NewGuid().ToString('N').Substring(0, 8))
    $argv = @('-i', $InterfaceName, '-n', '-U', '-B', '8192', '--immediate-mode', '--time-stamp-precision=nano', '-Z', 'root', '-w', $file)
    if ($Filter) { $argv += @($Filter -split '\s+' | Where-Object { $_ }) }
    $proc = Start-LabProcess -Topology $Topology -HostName $HostName -Command $tcpdump -ArgumentList $argv
    $deadline = [DateTime]::UtcNow.AddSeconds($TimeoutSeconds)
    while ($true) {
        $err = ''
        try {
            $fs = [System.IO.FileStream]::new($proc.StdErrPath, 'Open', 'Read', 'ReadWrite')
            try { $err = [System.IO.StreamReader]::new($fs).ReadToEnd() } finally { $fs.Dispose() }
        } catch { }
        if ($err -match 'listening on') { break }
        if ($proc.Process.HasExited -or [DateTime]::UtcNow -ge $deadline) {
            $result = Stop-LabProcess -Process $proc
            throw "NetnsLab: tcpdump on $HostName did not start listening: $($result.StdErr.Trim())"
        }
        Start-Sleep -Milliseconds 20
    }
    [pscustomobject]@{
        PSTypeName    = 'HaPowerShell.NetnsLab.Capture'
        HostName      = $HostName
        InterfaceName = $InterfaceName
        Filter        = $Filter
        Path          = $file
        Process       = $proc
    }
}

function Read-LabCapture {
    <#
    .SYNOPSIS
        Parses the pcap file of a Start-LabCapture capture (a trailing partial record is ignored).
    .OUTPUTS
        PSCustomObject (HaPowerShell.NetnsLab.Frame) per frame: Index, UnixNanoseconds (kernel receive
        time on the capturing host), Time (UTC DateTime), Length (on the wire), Bytes (captured bytes).
    #>
    [CmdletBinding()]
    param([Parameter(Mandatory, ValueFromPipeline, Position = 0)][object]$Capture)
    process {
        $data = $null
        try {
            $fs = [System.IO.FileStream]::new($Capture.Path, 'Open', 'Read', 'ReadWrite')
            try { $ms = [System.IO.MemoryStream]::new(); $fs.CopyTo($ms); $data = $ms.ToArray() } finally { $fs.Dispose() }
        } catch [System.IO.FileNotFoundException] { return }
        if ($data.Length -lt 24) { return }
        $magic = [BitConverter]::ToUInt32($data, 0)
        $scale = switch ($magic) {
            0xa1b23c4du { 1 }     # nanosecond timestamps
            0xa1b2c3d4u { 1000 }  # microsecond timestamps
            default { throw "NetnsLab: $($Capture.Path) is not a little-endian pcap file (magic 0x$($magic.ToString('x8')))." }
        }
        $offset = 24; $index = 0
        while ($offset + 16 -le $data.Length) {
            $sec = [BitConverter]::ToUInt32($data, $offset)
            $frac = [BitConverter]::ToUInt32($data, $offset + 4)
            $incl = [int][BitConverter]::ToUInt32($data, $offset + 8)
            $orig = [int][BitConverter]::ToUInt32($data, $offset + 12)
            if ($incl -lt 0 -or $offset + 16 + $incl -gt $data.Length) { break }
            $ns = [long]$sec * 1000000000L + [long]$frac * $scale
            $bytes = [byte[]]::new($incl)
            [Array]::Copy($data, $offset + 16, $bytes, 0, $incl)
            [pscustomobject]@{
                PSTypeName      = 'HaPowerShell.NetnsLab.Frame'
                Index           = $index
                UnixNanoseconds = $ns
                Time            = [DateTime]::UnixEpoch.AddTicks([long][math]::Floor($ns / 100))
                Length          = $orig
                Bytes           = $bytes
            }
            $index++
            $offset += 16 + $incl
        }
    }
}

function Stop-LabCapture {
    <#
    .SYNOPSIS
        Stops a Start-LabCapture tcpdump and returns the captured frames (see Read-LabCapture).
    #>
    [CmdletBinding()]
    param([Parameter(Mandatory, ValueFromPipeline, Position = 0)][object]$Capture)
    process {
        $null = Stop-LabProcess -Process $Capture.Process
        Read-LabCapture -Capture $Capture
    }
}

function Get-LabVrrpAdvert {
    <#
    .SYNOPSIS
        The IPv4 VRRP adverts in a Start-LabCapture capture (frames received after -AfterNanoseconds).
    .OUTPUTS
        PSCustomObject: Ns (kernel receive time, Unix nanoseconds), Source (IPv4), SourceMac, Vrid, Priority.
    #>
    [CmdletBinding()]
    param([Parameter(Mandatory, Position = 0)][object]$Capture, [long]$AfterNanoseconds = 0)
    foreach ($f in @(Read-LabCapture -Capture $Capture)) {
        if ($f.UnixNanoseconds -le $AfterNanoseconds) { continue }
        $b = $f.Bytes
        if ($b.Length -lt 34 -or $b[12] -ne 8 -or $b[13] -ne 0 -or $b[23] -ne 112) { continue }
        $v = 14 + 4 * ($b[14] -band 0x0f)
        if ($b.Length -lt $v + 3) { continue }
        [pscustomobject]@{ Ns = $f.UnixNanoseconds; Source = '{0}.{1}.{2}.{3}' -f $b[26], $b[27], $b[28], $b[29]
            SourceMac = ($b[6..11] | ForEach-Object { $_.ToString('x2') }) -join ':'; Vrid = [int]$b[$v + 1]; Priority = [int]$b[$v + 2] }
    }
}

function Get-LabGratuitousArp {
    <#
    .SYNOPSIS
        The gratuitous ARPs (sender address = target address) in a Start-LabCapture capture.
    .OUTPUTS
        PSCustomObject: Ns (kernel receive time, Unix nanoseconds), Mac (sender hardware address), Address.
    #>
    [CmdletBinding()]
    param([Parameter(Mandatory, Position = 0)][object]$Capture, [long]$AfterNanoseconds = 0)
    foreach ($f in @(Read-LabCapture -Capture $Capture)) {
        if ($f.UnixNanoseconds -le $AfterNanoseconds) { continue }
        $b = $f.Bytes
        if ($b.Length -lt 42 -or $b[12] -ne 8 -or $b[13] -ne 6) { continue }
        $spa = '{0}.{1}.{2}.{3}' -f $b[28], $b[29], $b[30], $b[31]
        $tpa = '{0}.{1}.{2}.{3}' -f $b[38], $b[39], $b[40], $b[41]
        if ($spa -ne $tpa) { continue }
        [pscustomobject]@{ Ns = $f.UnixNanoseconds; Mac = ($b[22..27] | ForEach-Object { $_.ToString('x2') }) -join ':'; Address = $spa }
    }
}

#region agents: long-lived pwsh processes inside host namespaces

function Start-LabAgent {
    <#
    .SYNOPSIS
        Starts a long-lived pwsh (tests/lab/LabAgent.ps1) inside a host namespace, driven by Invoke-LabAgent.
    .DESCRIPTION
        The agent is the same PowerShell as this process, started with `ip netns exec`, its standard input
        and output connected to this process (commands in, results and engine events out), standard error
        to a file in the state directory. It imports -ModulePath, forwards the engine events named in
        -ForwardEvent (Receive-LabAgentEvent) and runs commands until Stop-LabAgent, or until this process
        ends (its input closes). It is tracked in the topology's Processes, so Remove-LabTopology and the
        watchdog end it like any lab process. Returns at once: pwsh start-up takes a while (about 13 s in
        the kernel-lab VM); Wait-LabAgent waits for it, and several agents start in parallel.
    .OUTPUTS
        PSCustomObject (HaPowerShell.NetnsLab.Agent): HostName, Namespace, Pid, Process, StdErrPath, Ready,
        Events (received so far), and the reader state.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)][object]$Topology,
        [Parameter(Mandatory)][string]$HostName,
        [string]$ModulePath,
        [string[]]$ForwardEvent = @()
    )
    $h = Resolve-LabHost -Topology $Topology -HostName $HostName
    $pw = Get-LabPwshCommand
    $procDir = Join-Path $Topology.StateDirectory 'proc'
    $null = [System.IO.Directory]::CreateDirectory($procDir)
    $errPath = Join-Path $procDir ("agent-{0}-{1}.err" -f $HostName, [guid]::NewGuid().ToString('N').Substring(0, 6))
    $psi = [System.Diagnostics.ProcessStartInfo]::new('/bin/sh')
    $argv = @('-c', 'exec 2>"$1"; shift; exec "$@"', 'haps-lab-agent', $errPath, (Get-IpPath), 'netns', 'exec', $h.Namespace, $pw.FilePath) +
        $pw.Prefix + @('-NoProfile', '-NonInteractive', '-File', (Join-Path $PSScriptRoot 'LabAgent.ps1'))
    if ($ModulePath) { $argv += @('-ModulePath', [System.IO.Path]::GetFullPath($ModulePath)) }
    if ($ForwardEvent) { $argv += @('-ForwardEvent', ($ForwardEvent -join ',')) }
    foreach ($a in $argv) { $psi.ArgumentList.Add([string]$a) }
    $psi.UseShellExecute = $false
    $psi.RedirectStandardInput = $true
    $psi.RedirectStandardOutput = $true
    $psi.StandardInputEncoding = [System.Text.UTF8Encoding]::new($false)
    $psi.StandardOutputEncoding = [System.Text.UTF8Encoding]::new($false)
    $proc = [System.Diagnostics.Process]::Start($psi)
    $agent = [pscustomobject]@{
        PSTypeName = 'HaPowerShell.NetnsLab.Agent'
        HostName   = $HostName
        Namespace  = $h.Namespace
        Pid        = $proc.Id
        Process    = $proc
        StdErrPath = $errPath
        StdOutPath = $null
        Ready      = $false
        Events     = [System.Collections.Generic.List[object]]::new()
        Results    = @{}
        Stray      = [System.Collections.Generic.List[string]]::new()
        NextId     = 0
        ReadTask   = $proc.StandardOutput.ReadLineAsync()
        TopologyId = $Topology.Id
        StartTime  = [DateTime]::Now
    }
    $Topology.Processes.Add($agent)
    $agent
}

function Read-LabAgentOutput {
    <# Takes in every line the agent has written so far (waiting up to -WaitMilliseconds for the first). #>
    param([Parameter(Mandatory)][object]$Agent, [int]$WaitMilliseconds = 0)
    $waited = $false
    while ($true) {
        $task = $Agent.ReadTask
        if (-not $task.IsCompleted) {
            if ($waited -or $WaitMilliseconds -le 0) { return }
            $waited = $true
            if (-not $task.Wait($WaitMilliseconds)) { return }
        }
        $line = $null
        try { $line = $task.Result } catch { $line = $null }
        if ($null -eq $line) { return }   # end of output: the agent ended (ReadTask stays completed)
        $Agent.ReadTask = $Agent.Process.StandardOutput.ReadLineAsync()
        if ($line -notmatch '^\x01HAPS (READY|RESULT|EVENT) (\S+)$') { $Agent.Stray.Add($line); continue }
        $kind = $Matches[1]
        $payload = [System.Management.Automation.PSSerializer]::Deserialize([System.Text.Encoding]::UTF8.GetString([Convert]::FromBase64String($Matches[2])))
        switch ($kind) {
            'READY' { $Agent.Ready = $true }
            'RESULT' { $Agent.Results[[int]$payload.Id] = $payload }
            'EVENT' { $Agent.Events.Add([pscustomobject]@{ HostName = $Agent.HostName; SourceIdentifier = $payload.SourceIdentifier; TimeGenerated = $payload.TimeGenerated; Data = $payload.Data }) }
        }
    }
}

function Get-LabAgentFailure {
    param([object]$Agent)
    $err = ''
    try {
        $fs = [System.IO.FileStream]::new($Agent.StdErrPath, 'Open', 'Read', 'ReadWrite')
        try { $err = [System.IO.StreamReader]::new($fs).ReadToEnd() } finally { $fs.Dispose() }
    } catch { }
    $stray = ($Agent.Stray | Select-Object -Last 20) -join "`n"
    "stderr: $($err.Trim())`nstdout: $stray"
}

function Wait-LabAgent {
    <#
    .SYNOPSIS
        Waits until the agents are ready (module imported, reading commands); throws if one ends or times out.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory, ValueFromPipeline, Position = 0)][object[]]$Agent,
        [ValidateRange(1, 3600)][double]$TimeoutSeconds = 180,
        # Called about twice a second while waiting (progress display).
        [scriptblock]$OnWait
    )
    begin { $all = [System.Collections.Generic.List[object]]::new() }
    process { foreach ($a in $Agent) { $all.Add($a) } }
    end {
        $deadline = [DateTime]::UtcNow.AddSeconds($TimeoutSeconds)
        $lastTick = [DateTime]::MinValue
        while ($true) {
            $pending = @($all | Where-Object { -not $_.Ready })
            foreach ($a in $pending) { Read-LabAgentOutput -Agent $a }
            $pending = @($all | Where-Object { -not $_.Ready })
            if ($pending.Count -eq 0) { return }
            foreach ($a in $pending) {
                if ($a.Process.HasExited) { throw "NetnsLab: agent on '$($a.HostName)' ended before it was ready (exit $($a.Process.ExitCode)).`n$(Get-LabAgentFailure $a)" }
            }
            if ([DateTime]::UtcNow -ge $deadline) { throw "NetnsLab: agent(s) $(($pending.HostName) -join ', ') not ready after $TimeoutSeconds s.`n$(Get-LabAgentFailure $pending[0])" }
            if ($OnWait -and ([DateTime]::UtcNow - $lastTick).TotalMilliseconds -ge 500) { $lastTick = [DateTime]::UtcNow; & $OnWait @($pending.HostName) }
            $null = $pending[0].ReadTask.Wait(100)
        }
    }
}

function Invoke-LabAgent {
    <#
    .SYNOPSIS
        Runs PowerShell in an agent (Start-LabAgent) and returns what it produced.
    .DESCRIPTION
        The script runs dot-sourced in the agent's script scope (variables persist between calls) with
        $ErrorActionPreference = 'Stop'. -ArgumentList reaches it as its arguments (CliXml-serialised).
        With -Format N the agent also renders the output with Out-String -Width N (with the module's
        format views, as a user at that host would see it).
    .OUTPUTS
        PSCustomObject: HostName, Output (deserialised objects), Text, Errors (Id, Category, Message,
        Position), Warnings, Information (Write-Host text), Failed, Seconds. Throws when the script
        failed, unless -AllowFailure.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory, Position = 0)][object]$Agent,
        [Parameter(Mandatory, Position = 1)][object]$Script,
        [object[]]$ArgumentList = @(),
        [int]$Format = 0,
        [ValidateRange(1, 86400)][double]$TimeoutSeconds = 120,
        [switch]$AllowFailure
    )
    if (-not $Agent.Ready) { Wait-LabAgent -Agent $Agent -TimeoutSeconds $TimeoutSeconds }
    $id = ++$Agent.NextId
    $request = @{ Id = $id; Script = [string]$Script; Arguments = @($ArgumentList); Format = $Format }
    $line = [Convert]::ToBase64String([System.Text.Encoding]::UTF8.GetBytes([System.Management.Automation.PSSerializer]::Serialize($request, 4)))
    $Agent.Process.StandardInput.WriteLine($line)
    $Agent.Process.StandardInput.Flush()
    $deadline = [DateTime]::UtcNow.AddSeconds($TimeoutSeconds)
    $roundTrip = [Diagnostics.Stopwatch]::StartNew()
    while (-not $Agent.Results.ContainsKey($id)) {
        Read-LabAgentOutput -Agent $Agent -WaitMilliseconds 100
        if ($Agent.Results.ContainsKey($id)) { break }
        if ($Agent.Process.HasExited) { throw "NetnsLab: agent on '$($Agent.HostName)' ended (exit $($Agent.Process.ExitCode)) while running: $Script`n$(Get-LabAgentFailure $Agent)" }
        if ([DateTime]::UtcNow -ge $deadline) { throw "NetnsLab: agent on '$($Agent.HostName)' gave no answer within $TimeoutSeconds s to: $Script" }
    }
    $r = $Agent.Results[$id]
    $Agent.Results.Remove($id)
    if ($env:HAPS_LAB_TRACE) {
        # Where a lab's time goes: one line per command (host, seconds in the agent, seconds round trip, its first line).
        $first = ([string]$Script).Trim() -split "`n" | Select-Object -First 1
        Add-Content -Path $env:HAPS_LAB_TRACE -Value ('{0:HH:mm:ss.fff} {1,-8} agent {2,7:n2} s  total {3,7:n2} s  {4}' -f [DateTime]::Now, $Agent.HostName, [double]$r.Seconds,
            $roundTrip.Elapsed.TotalSeconds, $first.Substring(0, [Math]::Min(90, $first.Length)))
    }
    $result = [pscustomobject]@{
        PSTypeName  = 'HaPowerShell.NetnsLab.AgentResult'
        HostName    = $Agent.HostName
        Output      = @($r.Output)
        Text        = $r.Text
        Errors      = @($r.Errors)
        Warnings    = @($r.Warnings)
        Information = @($r.Information)
        Failed      = [bool]$r.Failed
        Seconds     = [double]$r.Seconds
    }
    if ($result.Failed -and -not $AllowFailure) {
        $e = @($result.Errors)[-1]
        $msg = "NetnsLab: on '$($Agent.HostName)': $($e.Message) [$($e.Id)]`n$($e.Position)"
        $err = [System.Management.Automation.ErrorRecord]::new([System.InvalidOperationException]::new($msg), 'LabAgentCommandFailed',
            [System.Management.Automation.ErrorCategory]::NotSpecified, $result)
        $PSCmdlet.ThrowTerminatingError($err)
    }
    $result
}

function Receive-LabAgentEvent {
    <#
    .SYNOPSIS
        The engine events an agent forwarded (-ForwardEvent of Start-LabAgent), oldest first: HostName,
        SourceIdentifier, TimeGenerated, Data (the event's MessageData or SourceArgs[0], deserialised).
        -Wait waits up to -TimeoutSeconds for one that -Filter accepts; -Clear forgets those returned.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory, Position = 0)][object]$Agent,
        [string]$SourceIdentifier,
        [scriptblock]$Filter,
        [switch]$Wait,
        [double]$TimeoutSeconds = 30,
        [switch]$Clear
    )
    $deadline = [DateTime]::UtcNow.AddSeconds($TimeoutSeconds)
    while ($true) {
        Read-LabAgentOutput -Agent $Agent
        $found = @($Agent.Events | Where-Object { (-not $SourceIdentifier -or $_.SourceIdentifier -eq $SourceIdentifier) -and (-not $Filter -or ($_ | Where-Object $Filter)) })
        if ($found.Count -gt 0 -or -not $Wait -or [DateTime]::UtcNow -ge $deadline -or $Agent.Process.HasExited) { break }
        Read-LabAgentOutput -Agent $Agent -WaitMilliseconds 100
    }
    if ($Clear) { foreach ($e in $found) { $null = $Agent.Events.Remove($e) } }
    $found
}

function Stop-LabAgent {
    <#
    .SYNOPSIS
        Ends an agent: closes its input (it ends as after any script, so the module's instances shut down
        as on process exit), SIGKILL after -TimeoutSeconds. Never throws.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory, ValueFromPipeline, Position = 0)][AllowNull()][object[]]$Agent,
        [double]$TimeoutSeconds = 10
    )
    process {
        foreach ($a in @($Agent | Where-Object { $_ })) {
            try {
                if (-not $a.Process.HasExited) {
                    try { $a.Process.StandardInput.Close() } catch { }
                    $deadline = [DateTime]::UtcNow.AddSeconds($TimeoutSeconds)
                    while (-not $a.Process.WaitForExit(50)) {
                        try { Read-LabAgentOutput -Agent $a } catch { }
                        if ([DateTime]::UtcNow -ge $deadline) { $a.Process.Kill($true); $null = $a.Process.WaitForExit(5000); break }
                    }
                }
                try { Read-LabAgentOutput -Agent $a } catch { }
            } catch { Write-Verbose "NetnsLab: Stop-LabAgent $($a.HostName): $_" }
        }
    }
}

#endregion

Export-ModuleMember -Function New-LabTopology, Remove-LabTopology, Clear-LabLeftovers, Invoke-LabCommand,
    Start-LabProcess, Stop-LabProcess, Invoke-LabPwsh, Set-LabLink, Get-LabNeighbor, Test-LabEnvironment,
    Start-LabCapture, Read-LabCapture, Stop-LabCapture, Start-LabAgent, Wait-LabAgent, Invoke-LabAgent, Receive-LabAgentEvent, Stop-LabAgent,
    Get-LabVrrpAdvert, Get-LabGratuitousArp
