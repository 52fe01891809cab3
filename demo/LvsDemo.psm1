#Requires -Version 7.2
<#
.SYNOPSIS
    The seed's LVS-DR cluster as a runbook: the steps that demo/Demo.ps1 narrates and that
    tests/pester/LvsDemo.Tests.ps1 asserts. Needs root and a kernel with IPVS.

.DESCRIPTION
    Topology (tests/lab/NetnsLab.psm1: one namespace per host on a bridge, 192.0.2.0/24):

        rs1 192.0.2.11   rs2 192.0.2.12   real servers (DR: the VIP on lo:0, ARP suppressed)
        lb1 192.0.2.13   lb2 192.0.2.14   directors (IPVS, VRRP for the VIP, health checks, sync daemon)
        client 192.0.2.15                 the seed's gateway 10.0.0.2 / the users
        VIP 192.0.2.30                    the seed's 10.0.0.30

    Every host runs a long-lived pwsh (a NetnsLab agent) with the module imported: each step sends the
    cmdlets it runs there, as text, so what the demo prints is exactly what ran. The real servers' and
    the client's programs (demo/realserver.py, demo/client.py) are lab plumbing, as is the link cut.

    Each step function takes the lab object from New-LvsDemo and returns a step: Name, Title, Seed
    (the seed's lines it replaces), Data (what it observed, for the tests) and Checks (What, Ok,
    Detail: what the step said it would do and whether it did). Narration goes to the lab's -Say
    callback (kind, text): 'title', 'seed', 'command', 'output', 'check', 'note', 'progress'.
#>

Set-StrictMode -Version 3.0
Import-Module (Join-Path $PSScriptRoot '../tests/lab/NetnsLab.psm1')

$script:Vip = '192.0.2.30'
$script:Vrid = 51
$script:SyncId = 51
$script:Password = 'lvs-demo'   # VRRPv2 PASS: at most 8 characters
$script:Events = @('HaPowerShell.Vrrp', 'HaPowerShell.HealthCheck')
# Generous: under the kernel-lab VM's emulation on a busy machine a first call can take minutes (the runtime
# compiles each cmdlet's code on first use). Waits end as soon as their condition holds.
$PSDefaultParameterValues = @{ 'Invoke-LabAgent:TimeoutSeconds' = 600 }

#region plumbing

function Write-LvsSay([object]$Lab, [string]$Kind, [string]$Text) {
    if ($Lab.Say) { & $Lab.Say $Kind $Text }
}

function New-LvsStep([object]$Lab, [string]$Name, [string]$Title, [string[]]$Seed = @()) {
    $step = [pscustomobject]@{ Name = $Name; Title = $Title; Seed = $Seed; Data = [ordered]@{}; Checks = [System.Collections.Generic.List[object]]::new() }
    $Lab.Steps.Add($step)
    Write-LvsSay $Lab 'title' $Title
    foreach ($s in $Seed) { Write-LvsSay $Lab 'seed' $s }
    $step
}

function Add-LvsCheck([object]$Lab, [object]$Step, [string]$What, [bool]$Ok, [string]$Detail = '') {
    $Step.Checks.Add([pscustomobject]@{ Step = $Step.Name; What = $What; Ok = $Ok; Detail = $Detail })
    Write-LvsSay $Lab 'check' ("{0}|{1}{2}" -f $(if ($Ok) { 'ok' } else { 'FAILED' }), $What, $(if ($Detail) { " ($Detail)" } else { '' }))
}

function Invoke-LvsCommand {
    # Runs cmdlets on one or more hosts; shows them (unless -Quiet) and their formatted output (-Show).
    param([object]$Lab, [string[]]$HostName, [string]$Script, [switch]$Show, [switch]$Quiet, [object[]]$ArgumentList = @(), [double]$TimeoutSeconds = 600)
    if (-not $Quiet) { Write-LvsSay $Lab 'command' ("{0}> {1}" -f ($HostName -join ', '), $Script.Trim()) }
    $results = foreach ($h in $HostName) {
        $r = Invoke-LabAgent -Agent $Lab.Agents[$h] -Script $Script -ArgumentList $ArgumentList -Format $(if ($Show) { 130 } else { 0 }) -TimeoutSeconds $TimeoutSeconds
        foreach ($w in $r.Warnings) { Write-LvsSay $Lab 'note' "WARNING on ${h}: $w" }
        $r
    }
    if ($Show) {
        $texts = @($results | ForEach-Object { "$($_.Text)".Trim() })
        if ($texts.Count -gt 1 -and @($texts | Sort-Object -Unique).Count -eq 1) {
            if ($texts[0]) { Write-LvsSay $Lab 'output' ("({0}: the same on each)`n{1}" -f ($HostName -join ', '), $texts[0]) }
        } else {
            for ($i = 0; $i -lt $texts.Count; $i++) {
                if (-not $texts[$i]) { continue }
                $label = if ($texts.Count -gt 1) { "($($HostName[$i]))`n" } else { '' }
                Write-LvsSay $Lab 'output' ($label + $texts[$i])
            }
        }
    }
    $results
}

function Wait-LvsCondition {
    # Polls $Condition until it returns something truthy or the time is up; returns the last value.
    param([scriptblock]$Condition, [double]$TimeoutSeconds = 30, [double]$IntervalSeconds = 0.25)
    $deadline = [DateTime]::UtcNow.AddSeconds($TimeoutSeconds)
    do {
        $v = & $Condition
        if ($v) { return $v }
        Start-Sleep -Seconds $IntervalSeconds
    } while ([DateTime]::UtcNow -lt $deadline)
    $v
}

function Get-LvsUnixNs { ([DateTimeOffset]::UtcNow.UtcTicks - [DateTime]::UnixEpoch.Ticks) * 100L }

function Stop-LvsProcess {
    # SIGTERM, SIGKILL after the timeout (Stop-LabProcess); returns whether it exited by itself. (Its stops once took
    # 16-19 s in the VM: it looked kill up with Get-Command on every stop, 6-25 s there; now once, without Get-Command.)
    param([object]$Process, [double]$TimeoutSeconds = 30)
    -not (Stop-LabProcess $Process -TimeoutSeconds $TimeoutSeconds).Killed
}

function ConvertFrom-LvsClientLine([string]$Text, [string]$Step) {
    foreach ($line in ($Text -split "`n")) {
        $f = $line.TrimEnd("`r") -split "`t"
        if ($f.Count -lt 4) { continue }
        [pscustomobject]@{ Step = $Step; Start = [long]$f[0]; End = [long]$f[1]; Ok = $f[2] -eq 'ok'; What = $f[3] }
    }
}

function Invoke-LvsClient {
    # Runs demo/client.py on the client (get / lines) and records every request.
    param([object]$Lab, [object]$Step, [ValidateSet('get', 'lines')][string]$Mode, [int]$Port, [int]$Count)
    Write-LvsSay $Lab 'command' ("client$ python3 client.py {0} {1} {2} {3}   (lab plumbing: {4})" -f $Mode, $script:Vip, $Port, $Count,
        $(if ($Mode -eq 'get') { 'HTTP GETs, one after another' } else { 'new connections, reading the greeting' }))
    $r = Invoke-LabCommand -Topology $Lab.Topology -HostName client -Command python3 -ArgumentList @((Join-Path $PSScriptRoot 'client.py'), $Mode, $script:Vip, "$Port", "$Count") -TimeoutSeconds 120
    $records = @(ConvertFrom-LvsClientLine $r.StdOut $Step.Name)
    foreach ($x in $records) { $Lab.Requests.Add($x) }
    $summary = $records | Group-Object { if ($_.Ok) { $_.What } else { 'failed' } } | Sort-Object Name | ForEach-Object { "$($_.Name) x$($_.Count)" }
    Write-LvsSay $Lab 'output' ("answers: " + ($summary -join ', '))
    $records
}

function Get-LvsVipHolder {
    # The directors that have the VIP on an interface now (Get-VirtualIPAddress on each).
    param([object]$Lab)
    foreach ($h in 'lb1', 'lb2') {
        $r = Invoke-LabAgent -Agent $Lab.Agents[$h] -Script "@(Get-VirtualIPAddress -IPAddress $($script:Vip)).Count"
        if ([int]$r.Output[0] -gt 0) { $h }
    }
}

function Wait-LvsRealServerState {
    # Waits until every checker on both directors reports $Address in $State (by state, not by counting events: a
    # check that timed out on a starved machine may have taken the server out already, and raises no second event).
    param([object]$Lab, [string]$Address, [string]$State, [int]$PerDirector = 2, [double]$TimeoutSeconds = 180)
    Wait-LvsCondition -TimeoutSeconds $TimeoutSeconds -Condition {
        $ok = $true
        foreach ($h in 'lb1', 'lb2') {
            $n = (Invoke-LvsCommand $Lab $h "@(Get-IpvsHealthCheck -RealServer | Where-Object { `$_.Address -eq '$Address' -and `"`$(`$_.State)`" -eq '$State' }).Count" -Quiet).Output[0]
            if ([int]$n -lt $PerDirector) { $ok = $false }
        }
        $ok }
}

function Start-LvsRealServerApp {
    param([object]$Lab, [string]$HostName)
    $app = Start-LabProcess -Topology $Lab.Topology -HostName $HostName -Command python3 -ArgumentList @(
        (Join-Path $PSScriptRoot 'realserver.py'), $HostName, (Join-Path $Lab.WorkDirectory "$HostName.weight"))
    $Lab.Apps[$HostName] = $app
    $ok = Wait-LvsCondition -TimeoutSeconds 180 -Condition { (Test-Path $app.StdOutPath) -and ([IO.File]::ReadAllText($app.StdOutPath) -match 'listening') -or $app.Process.HasExited }
    if ($app.Process.HasExited -or -not $ok) { throw "realserver.py on $HostName did not start: $([IO.File]::ReadAllText($app.StdErrPath))" }
}

#endregion

function New-LvsDemo {
    <#
    .SYNOPSIS
        Builds the topology, starts an agent (pwsh with the module) on every host and the real servers'
        programs. Returns the lab object that every step takes; Remove-LvsDemo removes it all.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)][string]$ModulePath,
        [scriptblock]$Say,
        # The hosts that get an agent (every step needs lb1 and lb2; the real-server step rs1 and rs2; steps
        # showing the client's ARP table the client). The failover bench needs the directors' only.
        [ValidateSet('lb1', 'lb2', 'client', 'rs1', 'rs2')][string[]]$AgentHost = @('lb1', 'lb2', 'client', 'rs1', 'rs2')
    )
    $ModulePath = [IO.Path]::GetFullPath($ModulePath)
    $lab = [pscustomobject]@{
        Topology = $null; Agents = @{}; Apps = @{}; Capture = $null; Say = $Say; ModulePath = $ModulePath
        Vip = $script:Vip; Steps = [System.Collections.Generic.List[object]]::new()
        Requests = [System.Collections.Generic.List[object]]::new(); WorkDirectory = $null
        Failover = $null; Traffic = $null; Hapd = @{}; HapdFailover = $null
    }
    $ok = $false
    try {
        Clear-LabLeftovers
        $lab.Topology = New-LabTopology -Hosts rs1, rs2, lb1, lb2, client -IPv6Subnet ''
        $step = New-LvsStep $lab 'Lab' 'The lab: five network namespaces on one bridge'
        $t = $lab.Topology
        foreach ($h in $t.Hosts.Values) {
            $role = switch ($h.Name) { 'rs1' { 'real server (seed: 10.0.0.10)' } 'rs2' { 'real server (seed: 10.0.0.11)' }
                'lb1' { 'director, VRRP priority 150' } 'lb2' { 'director, VRRP priority 100' } 'client' { 'client (seed: the gateway 10.0.0.2)' } }
            Write-LvsSay $lab 'output' ("  {0,-7} {1,-13} {2}  {3}" -f $h.Name, $h.IPv4Address, $h.MacAddress, $role)
        }
        Write-LvsSay $lab 'output' "  VIP     $($script:Vip)   (seed: 10.0.0.30)"
        # The MISC_CHECK script must be owned by root and writable by nobody else, along its whole path.
        $lab.WorkDirectory = Join-Path $t.StateDirectory 'demo'
        $null = New-Item -ItemType Directory -Path $lab.WorkDirectory
        Copy-Item (Join-Path $PSScriptRoot 'check-db.sh') (Join-Path $lab.WorkDirectory 'check-db.sh')
        & chmod 0755 $lab.WorkDirectory (Join-Path $lab.WorkDirectory 'check-db.sh')
        foreach ($rs in 'rs1', 'rs2') { Set-Content -Path (Join-Path $lab.WorkDirectory "$rs.weight") -Value '1' }

        Write-LvsSay $lab 'note' 'Starting a PowerShell with the module in each namespace (the directors keep theirs: VRRP and the checkers run in it).'
        foreach ($h in $AgentHost) {
            $lab.Agents[$h] = Start-LabAgent -Topology $t -HostName $h -ModulePath $ModulePath -ForwardEvent $script:Events
        }
        foreach ($rs in 'rs1', 'rs2') { Start-LvsRealServerApp $lab $rs }
        Write-LvsSay $lab 'note' 'rs1, rs2: python3 realserver.py (lab plumbing): HTTP on 80 answering with its name, the health port 90, a line service on 3306'
        $sw = [Diagnostics.Stopwatch]::StartNew()
        $last = 0
        Wait-LabAgent -Agent @($lab.Agents.Values) -TimeoutSeconds 1800 -OnWait {
            param($pending)
            if ($sw.Elapsed.TotalSeconds - $last -ge 5) {
                Set-Variable -Name last -Value $sw.Elapsed.TotalSeconds -Scope 1
                Write-LvsSay $lab 'progress' ("  ... PowerShell still starting on {0} ({1:n0} s)" -f ($pending -join ', '), $sw.Elapsed.TotalSeconds)
            }
        }
        Write-LvsSay $lab 'note' ("All ready after {0:n0} s." -f $sw.Elapsed.TotalSeconds)
        # The client's wire, for the failover's timings: VRRP adverts and ARP.
        $lab.Capture = Start-LabCapture -Topology $t -HostName client -Filter 'ip proto 112 or arp' -TimeoutSeconds 60
        Add-LvsCheck $lab $step 'an agent (pwsh with HaPowerShell) runs in every namespace' $true
        $ok = $true
    } finally {
        if (-not $ok) { Remove-LvsDemo $lab }
    }
    $lab
}

function Remove-LvsDemo {
    <# Ends the agents (their VRRP instances and checkers stop with them), the programs and the namespaces. Never throws. #>
    [CmdletBinding()]
    param([Parameter(Position = 0)][AllowNull()][object]$Lab)
    if (-not $Lab) { return }
    try { Stop-LabAgent -Agent @($Lab.Agents.Values) -TimeoutSeconds 15 } catch { Write-Verbose "$_" }
    Remove-LabTopology -Topology $Lab.Topology
}

function Invoke-LvsRealServerStep {
    param([Parameter(Mandatory)][object]$Lab)
    $vip = $script:Vip
    $step = New-LvsStep $Lab 'RealServers' 'The real servers: the VIP on lo:0, ARP suppressed' @(
        'ifconfig lo:0 10.0.0.30/32 up', 'echo 1 > /proc/sys/net/ipv4/conf/lo/arp_ignore', 'echo 1 > /proc/sys/net/ipv4/conf/all/arp_ignore',
        'echo 2 > /proc/sys/net/ipv4/conf/lo/arp_announce', 'echo 2 > /proc/sys/net/ipv4/conf/all/arp_announce')
    $null = Invoke-LvsCommand $Lab rs1, rs2 "Add-VirtualIPAddress -InterfaceName lo -IPAddress $vip -PrefixLength 32 -Label lo:0 -PassThru" -Show
    $null = Invoke-LvsCommand $Lab rs1, rs2 'Set-ArpSuppression -PassThru' -Show
    $sup = Invoke-LvsCommand $Lab rs1, rs2 'Get-ArpSuppression -InterfaceName lo, all' -Quiet
    $onLo = Invoke-LvsCommand $Lab rs1, rs2 "Get-VirtualIPAddress -InterfaceName lo -IPAddress $vip" -Quiet
    $Step.Data.VipOnLo = @($onLo | ForEach-Object { @($_.Output).Count -eq 1 -and $_.Output[0].Label -eq 'lo:0' })
    $Step.Data.Suppression = @($sup | ForEach-Object { $_.Output } | ForEach-Object { [pscustomobject]@{ InterfaceName = $_.InterfaceName; ArpIgnore = $_.ArpIgnore; ArpAnnounce = $_.ArpAnnounce } })
    Add-LvsCheck $Lab $step 'rs1 and rs2 hold the VIP on lo as lo:0 (/32)' (@($Step.Data.VipOnLo | Where-Object { $_ }).Count -eq 2)
    Add-LvsCheck $Lab $step 'arp_ignore=1 and arp_announce=2 on lo and all, on both' (@($Step.Data.Suppression | Where-Object { $_.ArpIgnore -eq 1 -and $_.ArpAnnounce -eq 2 }).Count -eq 4)
    Write-LvsSay $Lab 'note' 'No director holds the VIP yet; with ARP suppressed, no real server may answer for it:'
    $probe = Invoke-LvsCommand $Lab client "Send-ArpRequest -InterfaceName eth0 -IPAddress $vip -Count 2 -Timeout 1 -ErrorAction SilentlyContinue -ErrorVariable e; if (`$e) { 'no reply: ' + `$e[0].FullyQualifiedErrorId.Split(',')[0] }" -Show
    $Step.Data.ArpRepliesBeforeDirectors = @($probe.Output | Where-Object { $_ -isnot [string] -and $_.PSObject.Properties['LinkLayerAddress'] }).Count
    Add-LvsCheck $Lab $step 'nobody answers ARP for the VIP (the real servers keep quiet)' ($Step.Data.ArpRepliesBeforeDirectors -eq 0)
    # The real servers need no PowerShell from here on (their settings stay): end those agents, freeing the CPU.
    Stop-LabAgent -Agent $Lab.Agents.rs1, $Lab.Agents.rs2
    $Lab.Agents.Remove('rs1'); $Lab.Agents.Remove('rs2')
    $step
}

function Get-LvsDirectorScript {
    # The seed's ipvsadm section plus the keepalived virtual_server, as cmdlets (identical on both directors).
    $vip = $script:Vip
    @"
Clear-IpvsService -Confirm:`$false
Set-IpvsTimeout -Tcp 30 -TcpFin 5 -Udp 60
New-IpvsService -Protocol Tcp -Address $vip -Port 3306 -Scheduler rr -PersistenceTimeout 20
Get-IpvsService 'TCP ${vip}:3306' | Add-IpvsRealServer -Address 192.0.2.11 -Port 3306 -ForwardingMethod DirectRouting -Weight 1
Get-IpvsService 'TCP ${vip}:3306' | Add-IpvsRealServer -Address 192.0.2.12 -Port 3306 -ForwardingMethod DirectRouting -Weight 1
New-IpvsService -Protocol Tcp -Address $vip -Port 80 -Scheduler wrr
Get-IpvsService 'TCP ${vip}:80' | Add-IpvsRealServer -Address 192.0.2.11 -Port 80 -ForwardingMethod DirectRouting -Weight 1
Get-IpvsService 'TCP ${vip}:80' | Add-IpvsRealServer -Address 192.0.2.12 -Port 80 -ForwardingMethod DirectRouting -Weight 1
"@
}

function Invoke-LvsDirectorStep {
    param([Parameter(Mandatory)][object]$Lab)
    $step = New-LvsStep $Lab 'Directors' "The directors' IPVS table (the same on lb1 and lb2)" @(
        'ipvsadm -C', 'ipvsadm --set 30 5 60', 'ipvsadm -A -t 10.0.0.30:3306 -s rr -p 20',
        'ipvsadm -a -t 10.0.0.30:3306 -r 10.0.0.10:3306 -g -w 1', 'ipvsadm -a -t 10.0.0.30:3306 -r 10.0.0.11:3306 -g -w 1',
        'virtual_server 10.0.0.10 80 { lb_algo wrr; lb_kind DR; real_server 10.0.0.20 80 { weight 1 } ... }   (keepalived.conf)',
        'ipvsadm -L -n', 'ipvsadm -Ln --timeout')
    Write-LvsSay $Lab 'note' "The seed's web virtual_server also sets persistence_timeout 300; with one client that would send every request to one real server, so here port 80 has none and port 3306 shows persistence (-p 20)."
    $null = Invoke-LvsCommand $Lab lb1, lb2 (Get-LvsDirectorScript)
    $null = Invoke-LvsCommand $Lab lb1 'Get-IpvsService | Get-IpvsRealServer' -Show
    $null = Invoke-LvsCommand $Lab lb1 'Get-IpvsTimeout' -Show
    $exports = Invoke-LvsCommand $Lab lb1, lb2 'Export-IpvsConfig' -Quiet
    $Step.Data.Rules = @($exports | ForEach-Object { ($_.Output -join "`n").Trim() })
    $Step.Data.Services = @((Invoke-LvsCommand $Lab lb1 'Get-IpvsService | Select-Object Protocol, Address, Port, Scheduler, PersistenceTimeout' -Quiet).Output)
    $Step.Data.Timeout = (Invoke-LvsCommand $Lab lb1 'Get-IpvsTimeout | Select-Object Tcp, TcpFin, Udp' -Quiet).Output[0]
    Add-LvsCheck $Lab $step 'lb1 has the two services with two DR real servers each' (@($Step.Data.Rules[0] -split "`n" | Where-Object { $_ -match '^-a .* -g -w 1' }).Count -eq 4)
    Add-LvsCheck $Lab $step 'lb2 has the same table (Export-IpvsConfig text equal)' ($Step.Data.Rules[0] -eq $Step.Data.Rules[1] -and $Step.Data.Rules[0])
    Add-LvsCheck $Lab $step 'timeouts 30 / 5 / 60 (tcp, tcpfin, udp)' ($Step.Data.Timeout.Tcp -eq 30 -and $Step.Data.Timeout.TcpFin -eq 5 -and $Step.Data.Timeout.Udp -eq 60)
    $step
}

function Get-LvsVrrpScript([int]$Priority, [string]$SyncState) {
    $vip = $script:Vip
    # keepalived's lvs_sync_daemon: the master daemon follows the VRRP master.
    @"
Register-EngineEvent -SourceIdentifier HaPowerShell.Vrrp -Action {
    `$e = `$Event.SourceArgs[0]
    `$want = if (`$e.State -eq 'Master') { 'Master' } elseif (`$e.PreviousState -eq 'Master') { 'Backup' } else { return }
    Get-IpvsSyncDaemon | Where-Object State -ne `$want | ForEach-Object { Stop-IpvsSyncDaemon `$_.State }
    if (-not (Get-IpvsSyncDaemon | Where-Object State -eq `$want)) { Start-IpvsSyncDaemon `$want eth0 -SyncId $($script:SyncId) }
} | Out-Null
Start-IpvsSyncDaemon $SyncState eth0 -SyncId $($script:SyncId)
Start-VrrpInstance -Name VI_1 -InterfaceName eth0 -VirtualRouterId $($script:Vrid) -Priority $Priority -AuthenticationPassword (ConvertTo-SecureString '$($script:Password)' -AsPlainText -Force) -VirtualIPAddress '$vip/24 label eth0:0' -GarpMasterDelay 0 | Out-Null
"@
}

function Invoke-LvsVrrpStep {
    param([Parameter(Mandatory)][object]$Lab)
    $vip = $script:Vip
    $step = New-LvsStep $Lab 'Vrrp' 'VRRP: lb1 takes the VIP, lb2 stands by; the connection sync daemon follows' @(
        'ifconfig eth0:0 10.0.0.30/24    (done by VRRP: virtual_ipaddress { 10.0.0.30/24 label eth0:0 })',
        'vrrp_instance VI_1 { state MASTER; priority 150; advert_int 1; authentication { auth_type PASS } ... }   (keepalived.conf)',
        'ipvsadm --start-daemon master / backup --mcast-interface eth0 --syncid 51   (keepalived: lvs_sync_daemon eth0 VI_1)',
        '/sbin/arping -U -I eth0 10.0.0.30', '/sbin/arping -I eth0 -c 3 -s 10.0.0.30 10.0.0.2', 'arp -a')
    $null = Invoke-LvsCommand $Lab lb1 (Get-LvsVrrpScript 150 'Master')
    Write-LvsSay $Lab 'progress' '  ... waiting for lb1 to become Master (VRRPv2, 1 s adverts: about 3.4 s of silence first)'
    $m = Invoke-LvsCommand $Lab lb1 '"$((Wait-VrrpInstance VI_1 -State Master -Timeout 30).State)"' -TimeoutSeconds 90
    $null = Invoke-LvsCommand $Lab lb2 (Get-LvsVrrpScript 100 'Backup')
    $b = Wait-LvsCondition -TimeoutSeconds 60 -Condition {
        $r = Invoke-LabAgent -Agent $Lab.Agents.lb2 -Script '$i = Get-VrrpInstance VI_1; if ($i.State -eq "Backup" -and $i.AdvertisementsReceived -gt 0) { $true }'
        @($r.Output).Count -gt 0 }
    # A backup that misses adverts (a starved machine) goes Master for a moment and announces the VIP; say so.
    Start-Sleep -Seconds 3
    $flaps = (Invoke-LvsCommand $Lab lb2 '(Get-VrrpInstance VI_1).BecameMaster' -Quiet).Output[0]
    if ([int]$flaps -gt 0) { Write-LvsSay $Lab 'note' "lb2 went Master $flaps time(s) before settling as Backup: it missed lb1's adverts (a starved machine); lb1's gratuitous ARP below puts the client right." }
    $Step.Data.Lb2BecameMaster = [int]$flaps
    $null = Invoke-LvsCommand $Lab lb1, lb2 'Get-VrrpInstance' -Show
    $null = Invoke-LvsCommand $Lab lb1, lb2 'Get-IpvsSyncDaemon' -Show
    $null = Invoke-LvsCommand $Lab lb1 "Get-VirtualIPAddress -IPAddress $vip" -Show
    $null = Invoke-LvsCommand $Lab lb1 "Send-GratuitousArp -InterfaceName eth0 -IPAddress $vip" -Show
    $null = Invoke-LvsCommand $Lab lb1 "Send-ArpRequest -InterfaceName eth0 -IPAddress $($Lab.Topology.Hosts.client.IPv4Address) -SourceAddress $vip -Count 3 -Interval 0.2" -Show
    $null = Invoke-LvsCommand $Lab client "Get-ArpEntry -IPAddress $vip" -Show
    $arp = Invoke-LvsCommand $Lab client "Get-ArpEntry -IPAddress $vip | ForEach-Object { `"`$(`$_.LinkLayerAddress)`" }" -Quiet
    $Step.Data.Lb1State = [string]$m.Output[0]
    $Step.Data.Lb2Ready = [bool]$b
    $Step.Data.VipHolders = @(Get-LvsVipHolder $Lab)
    $Step.Data.ClientVipMac = [string]@($arp.Output)[0]
    $Step.Data.SyncDaemons = @(foreach ($h in 'lb1', 'lb2') { (Invoke-LvsCommand $Lab $h 'Get-IpvsSyncDaemon | ForEach-Object { "$($_.State)" }' -Quiet).Output | ForEach-Object { "${h}:$_" } })
    Add-LvsCheck $Lab $step 'lb1 is Master, lb2 Backup and hearing its adverts' ($Step.Data.Lb1State -eq 'Master' -and $Step.Data.Lb2Ready)
    Add-LvsCheck $Lab $step 'exactly one director holds the VIP: lb1' (($Step.Data.VipHolders -join ',') -eq 'lb1') "holders: $($Step.Data.VipHolders -join ', ')"
    Add-LvsCheck $Lab $step "the client's ARP entry for the VIP is lb1's MAC" ($Step.Data.ClientVipMac -eq $Lab.Topology.Hosts.lb1.MacAddress) $Step.Data.ClientVipMac
    Add-LvsCheck $Lab $step 'sync daemon: master on lb1, backup on lb2' ((($Step.Data.SyncDaemons | Sort-Object) -join ',') -eq 'lb1:Master,lb2:Backup') ($Step.Data.SyncDaemons -join ', ')
    $step
}

function Invoke-LvsHealthCheckStep {
    param([Parameter(Mandatory)][object]$Lab)
    $vip = $script:Vip
    $check = Join-Path $Lab.WorkDirectory 'check-db.sh'
    $step = New-LvsStep $Lab 'HealthChecks' 'Health checks on both directors: TCP_CHECK with connect_port, MISC_CHECK with misc_dynamic' @(
        'TCP_CHECK { connect_timeout 8; nb_get_retry 3; delay_before_retry 3; connect_port 90 }   (delay_loop 6)',
        'MISC_CHECK { misc_path check-db.sh; misc_timeout 5; misc_dynamic }')
    Write-LvsSay $Lab 'note' "Shorter timings than the seed's (delay_loop 6, 3 retries 3 s apart: up to 15 s to notice a failure), so the demo does not wait long."
    $null = Invoke-LvsCommand $Lab lb1, lb2 @"
Get-IpvsService 'TCP ${vip}:80' | Start-IpvsHealthCheck -Name web -CheckType Tcp -Port 90 -ConnectTimeout 2 -Retry 1 -DelayBeforeRetry 1 -DelayLoop 2 | Out-Null
Get-IpvsService 'TCP ${vip}:3306' | Start-IpvsHealthCheck -Name db -CheckType Misc -MiscPath $check -MiscTimeout 10 -Dynamic -DelayLoop 2 | Out-Null
"@
    $up = Wait-LvsCondition -TimeoutSeconds 90 -Condition {
        $r = Invoke-LabAgent -Agent $Lab.Agents.lb2 -Script '(Get-IpvsHealthCheck | Where-Object { $_.Checks -gt 0 -and $_.Up -eq 2 }).Count'
        [int]$r.Output[0] -eq 2 }
    $null = Invoke-LvsCommand $Lab lb1 'Get-IpvsHealthCheck' -Show
    $null = Invoke-LvsCommand $Lab lb1 'Get-IpvsHealthCheck -RealServer' -Show
    $Step.Data.Up = @(foreach ($h in 'lb1', 'lb2') { (Invoke-LvsCommand $Lab $h 'Get-IpvsHealthCheck | ForEach-Object { "{0}:{1}" -f $_.Name, $_.Up }' -Quiet).Output | ForEach-Object { "${h}/$_" } })
    Add-LvsCheck $Lab $step 'both checkers on both directors see both real servers UP' ([bool]$up -and @($Step.Data.Up | Where-Object { $_ -match ':2$' }).Count -eq 4) ($Step.Data.Up -join ', ')
    $step
}

function Invoke-LvsRequestStep {
    param([Parameter(Mandatory)][object]$Lab)
    $vip = $script:Vip
    $step = New-LvsStep $Lab 'Requests' 'Requests through the VIP, and how they spread' @(
        'ipvsadm -L -n --stats --sort', 'ipvsadm -Ln --thresholds', 'ipvsadm -Lnc')
    $records = Invoke-LvsClient $Lab $step get 80 10
    Start-Sleep -Milliseconds 2200   # the kernel folds its per-CPU counters into the reported ones every 2 s
    $null = Invoke-LvsCommand $Lab lb1 'Get-IpvsService | Sort-Object Protocol, Address, Port | Format-Table -View Stats' -Show
    $null = Invoke-LvsCommand $Lab lb1 'Get-IpvsService | Get-IpvsRealServer | Format-Table -View Thresholds' -Show
    $null = Invoke-LvsCommand $Lab lb1 "Get-IpvsConnection -Service 'TCP ${vip}:80' | Select-Object -First 4" -Show
    $rs = (Invoke-LvsCommand $Lab lb1 "Get-IpvsService 'TCP ${vip}:80' | Get-IpvsRealServer | ForEach-Object { '{0}={1}' -f `$_.Address, `$_.Statistics.Connections }" -Quiet).Output
    $Step.Data.Answers = @($records | ForEach-Object { if ($_.Ok) { $_.What } else { 'failed' } })
    $Step.Data.ConnectionsPerRealServer = @($rs)
    Add-LvsCheck $Lab $step 'all 10 requests answered' (@($records | Where-Object Ok).Count -eq 10)
    Add-LvsCheck $Lab $step 'wrr with equal weights: 5 answers from rs1, 5 from rs2' ((@($Step.Data.Answers | Where-Object { $_ -eq 'rs1' }).Count -eq 5) -and (@($Step.Data.Answers | Where-Object { $_ -eq 'rs2' }).Count -eq 5))
    Add-LvsCheck $Lab $step "lb1's counters show 5 connections per real server" ((($rs | Sort-Object) -join ',') -eq '192.0.2.11=5,192.0.2.12=5') ($rs -join ', ')
    $step
}

function Invoke-LvsPersistenceStep {
    param([Parameter(Mandatory)][object]$Lab)
    $vip = $script:Vip
    $step = New-LvsStep $Lab 'Persistence' 'Persistence: -p 20 keeps a client on one real server' @('ipvsadm -A -t 10.0.0.30:3306 -s rr -p 20   (#-p session hold)')
    $records = Invoke-LvsClient $Lab $step lines 3306 6
    $null = Invoke-LvsCommand $Lab lb1 "Get-IpvsConnection -Service 'TCP ${vip}:3306' -SourceAddress $($Lab.Topology.Hosts.client.IPv4Address) | Sort-Object SourcePort | Select-Object -First 3" -Show
    $tpl = (Invoke-LvsCommand $Lab lb1 "@(Get-IpvsConnection -Service 'TCP ${vip}:3306' | Where-Object SourcePort -eq 0).Count" -Quiet).Output[0]
    $Step.Data.Servers = @($records | Where-Object Ok | ForEach-Object What | Sort-Object -Unique)
    $Step.Data.Answered = @($records | Where-Object Ok).Count
    $Step.Data.Templates = [int]$tpl
    Add-LvsCheck $Lab $step 'all 6 connections answered by the same real server (rr alone would alternate)' ($Step.Data.Answered -eq 6 -and $Step.Data.Servers.Count -eq 1) ($Step.Data.Servers -join ', ')
    Add-LvsCheck $Lab $step "lb1 holds the client's persistence template (source port 0)" ($Step.Data.Templates -ge 1)
    $step
}

function Invoke-LvsMiscDynamicStep {
    param([Parameter(Mandatory)][object]$Lab)
    $vip = $script:Vip
    $step = New-LvsStep $Lab 'MiscDynamic' "misc_dynamic: the check script's exit status sets the weight" @(
        '#   exit status 2-255: svc check success, weight changed to 2 less than exit status.')
    Write-LvsSay $Lab 'note' "rs2's application now reports weight 3 (lab plumbing: its weight file); check-db.sh exits 5, so the weight becomes 3:"
    Set-Content -Path (Join-Path $Lab.WorkDirectory 'rs2.weight') -Value '3'
    $w = Wait-LvsCondition -TimeoutSeconds 90 -Condition {
        $ws = @(foreach ($h in 'lb1', 'lb2') { (Invoke-LabAgent -Agent $Lab.Agents[$h] -Script "(Get-IpvsService 'TCP ${vip}:3306' | Get-IpvsRealServer -Address 192.0.2.12).Weight").Output[0] })
        @($ws | Where-Object { [int]$_ -eq 3 }).Count -eq 2 }
    $null = Invoke-LvsCommand $Lab lb1 'Get-IpvsHealthCheck db -RealServer' -Show
    $weights = foreach ($h in 'lb1', 'lb2') {
        (Invoke-LvsCommand $Lab $h "Get-IpvsService 'TCP ${vip}:3306' | Get-IpvsRealServer | ForEach-Object { '{0}={1}' -f `$_.Address, `$_.Weight }" -Quiet).Output | ForEach-Object { "${h}:$_" }
    }
    $null = Invoke-LvsCommand $Lab lb1 "Get-IpvsService 'TCP ${vip}:3306' | Get-IpvsRealServer" -Show
    $Step.Data.Weights = @($weights)
    Add-LvsCheck $Lab $step 'rs2 has weight 3 on 3306 on both directors, rs1 keeps 1' ([bool]$w -and (($weights | Sort-Object) -join ',') -eq 'lb1:192.0.2.11=1,lb1:192.0.2.12=3,lb2:192.0.2.11=1,lb2:192.0.2.12=3') ($weights -join ', ')
    Set-Content -Path (Join-Path $Lab.WorkDirectory 'rs2.weight') -Value '1'
    $step
}

function Invoke-LvsRealServerFailureStep {
    param([Parameter(Mandatory)][object]$Lab)
    $vip = $script:Vip
    $step = New-LvsStep $Lab 'RealServerFailure' 'A real server fails: the checks take it out, then put it back' @(
        'TCP_CHECK ... connect_port 90   (keepalived removes the real server: ipvsadm -d ...; and adds it back when the check passes)')
    foreach ($a in $Lab.Agents.Values) { $null = Receive-LabAgentEvent $a -SourceIdentifier HaPowerShell.HealthCheck -Clear }
    Write-LvsSay $Lab 'command' 'rs1$ kill realserver.py   (lab plumbing: rs1 stops answering on 80, 90 and 3306)'
    $null = Stop-LvsProcess $Lab.Apps.rs1 3
    Write-LvsSay $Lab 'progress' '  ... waiting for both checkers on both directors to mark rs1 DOWN (delay_loop 2 + 1 retry after 1 s)'
    $down = Wait-LvsRealServerState $Lab 192.0.2.11 Down
    $ev = @(Receive-LabAgentEvent $Lab.Agents.lb1 -SourceIdentifier HaPowerShell.HealthCheck | Where-Object { $_.Data.Kind -eq 'RealServerDown' })
    foreach ($e in $ev) { Write-LvsSay $Lab 'output' ("  lb1 event {0:HH:mm:ss.fff} {1} {2} {3}:{4} {5}" -f $e.TimeGenerated, $e.Data.Kind, $e.Data.Checker, $e.Data.Address, $e.Data.Port, $e.Data.Message) }
    $null = Invoke-LvsCommand $Lab lb1 'Get-IpvsService | Get-IpvsRealServer' -Show
    $before = (Invoke-LvsCommand $Lab lb1 "@(Get-IpvsConnection -Service 'TCP ${vip}:80' | Where-Object { `$_.DestinationAddress -eq '192.0.2.11' -and `$_.State -eq 'SYN_RECV' }).Count" -Quiet).Output[0]
    $records = Invoke-LvsClient $Lab $step get 80 6
    $Step.Data.RemovedEverywhere = [bool]$down
    $Step.Data.AnswersWhileDown = @($records | ForEach-Object { if ($_.Ok) { $_.What } else { 'failed' } })
    $Step.Data.Rs1InServicesWhileDown = @(foreach ($h in 'lb1', 'lb2') { (Invoke-LvsCommand $Lab $h "@(Get-IpvsService | Get-IpvsRealServer -Address 192.0.2.11).Count" -Quiet).Output[0] })
    Add-LvsCheck $Lab $step 'both checkers on lb1 and lb2 took rs1 out of its services' ($Step.Data.RemovedEverywhere -and ($Step.Data.Rs1InServicesWhileDown -join ',') -eq '0,0')
    Add-LvsCheck $Lab $step 'no new connection goes to rs1: all 6 requests answered by rs2' ((($Step.Data.AnswersWhileDown | Sort-Object -Unique) -join ',') -eq 'rs2' -and $Step.Data.AnswersWhileDown.Count -eq 6)

    Write-LvsSay $Lab 'command' 'rs1$ python3 realserver.py rs1   (lab plumbing: rs1 is back)'
    Start-LvsRealServerApp $Lab rs1
    Write-LvsSay $Lab 'progress' '  ... waiting for the checks to pass again'
    $up = Wait-LvsRealServerState $Lab 192.0.2.11 Up
    $null = Invoke-LvsCommand $Lab lb1 'Get-IpvsService | Get-IpvsRealServer' -Show
    $weights = foreach ($h in 'lb1', 'lb2') {
        (Invoke-LvsCommand $Lab $h "Get-IpvsService | Get-IpvsRealServer -Address 192.0.2.11 | ForEach-Object { '{0}={1}' -f `$_.Service.Port, `$_.Weight }" -Quiet).Output | ForEach-Object { "${h}:$_" }
    }
    $after = Invoke-LvsClient $Lab $step get 80 4
    $Step.Data.WeightsAfter = @($weights)
    $Step.Data.AnswersAfter = @($after | ForEach-Object { if ($_.Ok) { $_.What } else { 'failed' } })
    Add-LvsCheck $Lab $step 'rs1 is back on both services of both directors with weight 1' ([bool]$up -and (($weights | Sort-Object) -join ',') -eq 'lb1:3306=1,lb1:80=1,lb2:3306=1,lb2:80=1') ($weights -join ', ')
    Add-LvsCheck $Lab $step 'requests spread over rs1 and rs2 again' ((($Step.Data.AnswersAfter | Sort-Object -Unique) -join ',') -eq 'rs1,rs2')
    $step
}

function Invoke-LvsFailoverStep {
    <#
        The director failover under traffic. Data: CutNs, FirstAdvertNs, FirstGarpNs, FailoverMs (cut to lb2's
        first advert, from the client's capture), WindowEndNs, Loop (the continuous client's requests), Hold
        (the long-lived connection's round trips), and the checks' inputs.
    #>
    param([Parameter(Mandatory)][object]$Lab)
    $vip = $script:Vip
    $client = $Lab.Topology.Hosts.client.IPv4Address
    $step = New-LvsStep $Lab 'Failover' "The master director fails: lb2 takes over; traffic and connections carry on" @(
        '(keepalived: the backup takes the VIP after 3 missed adverts and sends gratuitous ARPs: arping -U -I eth0 10.0.0.30)',
        'arp -a', 'ipvsadm -Lnc')
    $loopLog = Join-Path $Lab.WorkDirectory 'loop.log'
    $holdLog = Join-Path $Lab.WorkDirectory 'hold.log'
    $py = Join-Path $PSScriptRoot 'client.py'
    Write-LvsSay $Lab 'command' "client$ python3 client.py loop $vip 80 0.1 loop.log &   (lab plumbing: a request every 100 ms)"
    Write-LvsSay $Lab 'command' "client$ python3 client.py hold $vip 3306 0.5 hold.log &  (lab plumbing: one long-lived connection, a line every 500 ms)"
    $loop = Start-LabProcess -Topology $Lab.Topology -HostName client -Command python3 -ArgumentList @($py, 'loop', $vip, '80', '0.1', $loopLog)
    $hold = Start-LabProcess -Topology $Lab.Topology -HostName client -Command python3 -ArgumentList @($py, 'hold', $vip, '3306', '0.5', $holdLog)
    $Lab.Traffic = @($loop, $hold)
    $read = { param($p) if (Test-Path $p) { @(ConvertFrom-LvsClientLine ([IO.File]::ReadAllText($p)) 'Failover') } else { @() } }
    $null = Wait-LvsCondition -TimeoutSeconds 90 -Condition { @(& $read $holdLog).Count -ge 4 -and @(& $read $loopLog).Count -ge 10 }
    Write-LvsSay $Lab 'note' 'Before the failover, the backup director already knows the long-lived connection (the sync daemon carried it):'
    $synced = Wait-LvsCondition -TimeoutSeconds 45 -Condition {
        $r = Invoke-LabAgent -Agent $Lab.Agents.lb2 -Script "@(Get-IpvsConnection -Service 'TCP ${vip}:3306' -SourceAddress $client -State ESTABLISHED).Count"
        [int]$r.Output[0] -ge 1 }
    $null = Invoke-LvsCommand $Lab lb2 "Get-IpvsConnection -Service 'TCP ${vip}:3306' -SourceAddress $client" -Show
    $null = Invoke-LvsCommand $Lab client "Get-ArpEntry -IPAddress $vip" -Show
    $holdOpen = @(& $read $holdLog)[0]
    foreach ($a in $Lab.Agents.Values) { $null = Receive-LabAgentEvent $a -SourceIdentifier HaPowerShell.Vrrp -Clear }

    Write-LvsSay $Lab 'command' "(lab plumbing) lb1's cable is pulled: Set-LabLink lb1 -Down (its bridge port goes down)"
    $cut = Get-LvsUnixNs
    Set-LabLink -Topology $Lab.Topology -HostName lb1 -Down
    Write-LvsSay $Lab 'progress' '  ... lb2 waits for 3 missed adverts (Master_Down_Interval 3 x 1 s + skew 0.61 s), takes the VIP and sends gratuitous ARPs'
    # The state decides, not the event: on a starved machine lb2 may have gone Master (missed adverts) before the
    # events were cleared, and then raises no new one. The event, when there is one, narrates.
    $lb2State = Wait-LvsCondition -TimeoutSeconds 120 -Condition {
        $s = (Invoke-LvsCommand $Lab lb2 "(Get-VrrpInstance VI_1).State.ToString()" -Quiet).Output[0]
        if ($s -eq 'Master') { $s } }
    $master = @(Receive-LabAgentEvent $Lab.Agents.lb2 -SourceIdentifier HaPowerShell.Vrrp -Wait -TimeoutSeconds 5 -Filter { $_.Data.State -eq 'Master' })
    $Step.Data.Lb2Master = $lb2State -eq 'Master'
    # Let traffic run on after the takeover: the long-lived connection's retransmissions back off (up to a few seconds).
    $cutTime = [DateTime]::UnixEpoch.AddTicks([long]($cut / 100))
    $resumed = Wait-LvsCondition -TimeoutSeconds 90 -Condition {
        $h = @(& $read $holdLog | Where-Object { $_.Start -gt $cut -and $_.Ok -and $_.End -gt $cut + 4e9 })
        $l = @(& $read $loopLog | Where-Object { $_.Start -gt $cut + 5e9 })
        $h.Count -ge 2 -and $l.Count -ge 10 }
    Write-LvsSay $Lab 'command' 'client$ kill client.py (loop, hold)'
    $null = Stop-LvsProcess $loop 9
    $null = Stop-LvsProcess $hold 9
    $loopRecords = @(& $read $loopLog)
    $holdRecords = @(& $read $holdLog)

    $adverts = @(Get-LabVrrpAdvert $Lab.Capture -AfterNanoseconds $cut | Where-Object { $_.Source -eq $Lab.Topology.Hosts.lb2.IPv4Address -and $_.Priority -gt 0 })
    $garps = @(Get-LabGratuitousArp $Lab.Capture -AfterNanoseconds $cut | Where-Object { $_.Mac -eq $Lab.Topology.Hosts.lb2.MacAddress -and $_.Address -eq $vip })
    $firstAdvert = if ($adverts) { $adverts[0].Ns } else { $null }
    $firstGarp = if ($garps) { $garps[0].Ns } else { $null }
    $windowEnd = if ($firstGarp) { $firstGarp } elseif ($firstAdvert) { $firstAdvert } else { [long]::MaxValue }
    $inWindow = { param($r) $r.Start -le $windowEnd -and $r.End -ge $cut }
    foreach ($r in @($loopRecords) + @($holdRecords)) { $r | Add-Member -NotePropertyName InWindow -NotePropertyValue ([bool](& $inWindow $r)); $Lab.Requests.Add($r) }
    $Lab.Failover = [pscustomobject]@{ CutNs = $cut; FirstAdvertNs = $firstAdvert; FirstGarpNs = $firstGarp; WindowEndNs = $windowEnd
        FailoverMs = if ($firstAdvert) { [math]::Round(($firstAdvert - $cut) / 1e6, 1) } else { $null }
        GarpMs = if ($firstGarp) { [math]::Round(($firstGarp - $cut) / 1e6, 1) } else { $null } }

    if ($master.Count -gt 0) {
        Write-LvsSay $Lab 'output' ("  lb2 event: {0} -> {1} ({2}) at {3:HH:mm:ss.fff}; cut at {4:HH:mm:ss.fff}" -f $master[0].Data.PreviousState, $master[0].Data.State, $master[0].Data.Reason, $master[0].TimeGenerated.ToUniversalTime(), $cutTime)
    } else {
        Write-LvsSay $Lab 'output' ("  lb2 raised no Master event after the cut; its state now: {0}" -f $(if ($Step.Data.Lb2Master) { 'Master' } else { 'not Master' }))
    }
    Write-LvsSay $Lab 'output' ("  on the client's wire: lb2's first advert {0} ms after the cut, its first gratuitous ARP for the VIP {1} ms after it" -f $Lab.Failover.FailoverMs, $Lab.Failover.GarpMs)
    $null = Invoke-LvsCommand $Lab client "Get-ArpEntry -IPAddress $vip" -Show
    $arpAfter = (Invoke-LvsCommand $Lab client "Get-ArpEntry -IPAddress $vip | ForEach-Object { `"`$(`$_.LinkLayerAddress)`" }" -Quiet).Output
    $null = Invoke-LvsCommand $Lab lb2 'Get-VrrpInstance; Get-IpvsSyncDaemon' -Show
    $null = Invoke-LvsCommand $Lab lb2 "Get-IpvsConnection -Service 'TCP ${vip}:3306' -SourceAddress $client" -Show
    $holders = @(Get-LvsVipHolder $Lab)

    $loopFailedOutside = @($loopRecords | Where-Object { -not $_.Ok -and -not $_.InWindow })
    $loopFailedInside = @($loopRecords | Where-Object { -not $_.Ok -and $_.InWindow })
    $beforeOk = @($loopRecords | Where-Object { $_.End -lt $cut -and $_.Ok }).Count
    $afterOk = @($loopRecords | Where-Object { $_.Start -gt $windowEnd -and $_.Ok }).Count
    $after = @($loopRecords | Where-Object { $_.Start -gt $windowEnd }).Count
    $holdServer = if ($holdOpen) { ($holdOpen.What -replace '^open ', '') } else { '' }
    $holdAfter = @($holdRecords | Where-Object { $_.Start -gt $windowEnd })
    Write-LvsSay $Lab 'output' ("  continuous client: {0} requests, {1} answered before the cut, {2} of {3} after the window, {4} failed inside the window, {5} outside" -f
        $loopRecords.Count, $beforeOk, $afterOk, $after, $loopFailedInside.Count, $loopFailedOutside.Count)
    Write-LvsSay $Lab 'output' ("  long-lived connection to {0}: {1} round trips, {2} after the window, {3} failed" -f $holdServer, ($holdRecords.Count - 1), $holdAfter.Count, @($holdRecords | Where-Object { -not $_.Ok }).Count)

    $Step.Data.FailoverMs = $Lab.Failover.FailoverMs
    $Step.Data.GarpMs = $Lab.Failover.GarpMs
    $Step.Data.Lb2BecameMaster = $Step.Data.Lb2Master   # by its state (the event is narration)
    $Step.Data.SyncedBeforeCut = [bool]$synced
    $Step.Data.ClientVipMacAfter = [string]@($arpAfter)[0]
    $Step.Data.VipHolders = $holders
    $Step.Data.LoopBeforeOk = $beforeOk
    $Step.Data.LoopAfter = $after
    $Step.Data.LoopAfterOk = $afterOk
    $Step.Data.LoopFailedOutsideWindow = $loopFailedOutside.Count
    $Step.Data.HoldServer = $holdServer
    $Step.Data.HoldFailed = @($holdRecords | Where-Object { -not $_.Ok }).Count
    $Step.Data.HoldAfterWindow = $holdAfter.Count
    $Step.Data.HoldAfterServers = @($holdAfter | ForEach-Object { ($_.What -split ' ')[0] } | Sort-Object -Unique)
    Add-LvsCheck $Lab $step 'the backup director knew the long-lived connection before the cut (sync daemon)' $Step.Data.SyncedBeforeCut
    Add-LvsCheck $Lab $step 'lb2 became Master; its first advert reached the client' ($Step.Data.Lb2BecameMaster -and $null -ne $firstAdvert) "failover $($Step.Data.FailoverMs) ms"
    Add-LvsCheck $Lab $step "the client's ARP entry for the VIP moved to lb2's MAC" ($Step.Data.ClientVipMacAfter -eq $Lab.Topology.Hosts.lb2.MacAddress) $Step.Data.ClientVipMacAfter
    Add-LvsCheck $Lab $step 'exactly one director holds the VIP: lb2' (($holders -join ',') -eq 'lb2') "holders: $($holders -join ', ')"
    Add-LvsCheck $Lab $step 'requests answered before the cut and after the takeover' ($beforeOk -gt 0 -and $after -gt 0 -and $afterOk -eq $after)
    Add-LvsCheck $Lab $step 'no request failed outside the failover window' ($loopFailedOutside.Count -eq 0) "$($loopFailedInside.Count) inside it"
    Add-LvsCheck $Lab $step 'the long-lived connection kept working through the failover, on the same real server' (
        $Step.Data.HoldFailed -eq 0 -and $Step.Data.HoldAfterWindow -gt 0 -and ($Step.Data.HoldAfterServers -join ',') -eq $holdServer) "$holdServer, $($Step.Data.HoldAfterWindow) round trips after the window"
    $step
}

function Invoke-LvsFailbackStep {
    param([Parameter(Mandatory)][object]$Lab)
    $vip = $script:Vip
    $step = New-LvsStep $Lab 'Failback' "lb1's link comes back: it preempts (priority 150 > 100) and takes the VIP back" @('(keepalived: preempt, the default)')
    foreach ($a in $Lab.Agents.Values) { $null = Receive-LabAgentEvent $a -SourceIdentifier HaPowerShell.Vrrp -Clear }
    Write-LvsSay $Lab 'command' "(lab plumbing) Set-LabLink lb1 -Up"
    Set-LabLink -Topology $Lab.Topology -HostName lb1 -Up
    Write-LvsSay $Lab 'progress' '  ... lb1 leaves Fault, hears lb2 and preempts it'
    # The states decide, not the events (as in the failover step): lb1 may never have left Master if it did not see
    # its link go, and an event raised before the clear above is not raised again.
    $states = Wait-LvsCondition -TimeoutSeconds 120 -Condition {
        $s = @(foreach ($h in 'lb1', 'lb2') { (Invoke-LvsCommand $Lab $h "(Get-VrrpInstance VI_1).State.ToString()" -Quiet).Output[0] })
        if (($s -join ',') -eq 'Master,Backup') { $s } }
    $Step.Data.States = @($states)
    foreach ($h in 'lb1', 'lb2') {
        foreach ($e in @(Receive-LabAgentEvent $Lab.Agents[$h] -SourceIdentifier HaPowerShell.Vrrp)) {
            Write-LvsSay $Lab 'output' ("  $h event: {0} -> {1} ({2}) at {3:HH:mm:ss.fff}" -f $e.Data.PreviousState, $e.Data.State, $e.Data.Reason, $e.TimeGenerated.ToUniversalTime())
        }
    }
    $null = Invoke-LvsCommand $Lab lb1, lb2 'Get-VrrpInstance' -Show
    $records = Invoke-LvsClient $Lab $step get 80 4
    $holders = @(Get-LvsVipHolder $Lab)
    $mac = (Invoke-LvsCommand $Lab client "Get-ArpEntry -IPAddress $vip | ForEach-Object { `"`$(`$_.LinkLayerAddress)`" }" -Quiet).Output
    $Step.Data.VipHolders = $holders
    $Step.Data.ClientVipMac = [string]@($mac)[0]
    $Step.Data.Answered = @($records | Where-Object Ok).Count
    Add-LvsCheck $Lab $step 'lb1 Master again, lb2 Backup' ((@($states) -join ',') -eq 'Master,Backup') "states: $(@($states) -join ', ')"
    Add-LvsCheck $Lab $step 'exactly one director holds the VIP: lb1' (($holders -join ',') -eq 'lb1') "holders: $($holders -join ', ')"
    Add-LvsCheck $Lab $step "the client's ARP entry points at lb1 again, requests answered" ($Step.Data.ClientVipMac -eq $Lab.Topology.Hosts.lb1.MacAddress -and $Step.Data.Answered -eq 4)
    $step
}

#region the second act: the same cluster from keepalived.conf, run by hapd

function Get-LvsKeepalivedConfig {
    # The first act's cluster as one director's keepalived.conf: the same VIP, VRID, password and interface, both
    # virtual servers with the checkers and timings the first act started with cmdlets, the sync daemon following
    # VI_1, the timeouts of ipvsadm --set. lb1: MASTER, priority 150; lb2: BACKUP, priority 100.
    param([object]$Lab, [ValidateSet('lb1', 'lb2')][string]$HostName)
    $vip = $script:Vip
    $check = Join-Path $Lab.WorkDirectory 'check-db.sh'
    $state, $priority = if ($HostName -eq 'lb1') { 'MASTER', 150 } else { 'BACKUP', 100 }
    $db = foreach ($a in '192.0.2.11', '192.0.2.12') {
        "    real_server $a 3306 {`n        weight 1`n        MISC_CHECK {`n            misc_path `"$check $a`"`n            misc_timeout 10`n            misc_dynamic`n        }`n    }`n"
    }
    $web = foreach ($a in '192.0.2.11', '192.0.2.12') {
        "    real_server $a 80 {`n        weight 1`n        TCP_CHECK {`n            connect_port 90`n            connect_timeout 2`n            retry 1`n            delay_before_retry 1`n        }`n    }`n"
    }
    @"
global_defs {
    router_id $HostName
    script_user nobody
    enable_script_security
    lvs_timeouts tcp 30 tcpfin 5 udp 60
    lvs_sync_daemon eth0 VI_1 id $($script:SyncId)
}

vrrp_instance VI_1 {
    state $state
    interface eth0
    virtual_router_id $($script:Vrid)
    priority $priority
    advert_int 1
    garp_master_delay 0
    authentication {
        auth_type PASS
        auth_pass $($script:Password)
    }
    virtual_ipaddress {
        $vip/24 dev eth0 label eth0:0
    }
}

virtual_server $vip 3306 {
    delay_loop 2
    lb_algo rr
    lb_kind DR
    persistence_timeout 20
    protocol TCP
$(-join $db)}

virtual_server $vip 80 {
    delay_loop 2
    lb_algo wrr
    lb_kind DR
    protocol TCP
$(-join $web)}
"@
}

function Get-LvsHapdPath([object]$Lab) { Join-Path $Lab.ModulePath 'hapd/hapd' }

function Get-LvsHapdDirectory([object]$Lab, [string]$HostName) { Join-Path $Lab.WorkDirectory "hapd-$HostName" }

function Read-LvsHapdLog([object]$Process) {
    # What a hapd started by Start-LvsHapd has logged so far (-l: to stderr).
    if ($Process -and (Test-Path $Process.StdErrPath)) { [IO.File]::ReadAllText($Process.StdErrPath) } else { '' }
}

function Get-LvsHapdState([object]$Process) {
    # The last "(VI_1) Entering X STATE" the daemon logged (keepalived's words), or 'NONE'.
    $m = [regex]::Matches((Read-LvsHapdLog $Process), '\(VI_1\) Entering (\w+) STATE')
    if ($m.Count) { $m[$m.Count - 1].Groups[1].Value } else { 'NONE' }
}

function Start-LvsHapd {
    # hapd in the foreground in a director's namespace (-n), logging to the console (-l, no syslog in the lab), its
    # control socket, pid files and dumps ($TMPDIR) in the run's folder; -I (keepalived's --dont-release-ipvs) leaves
    # the IPVS table at its stop for the seed's teardown. Throws with hapd's log when it does not start.
    param([object]$Lab, [string]$HostName)
    $dir = Get-LvsHapdDirectory $Lab $HostName
    $arguments = @('-n', '-l', '-I', '--no-syslog', '--control-socket', (Join-Path $dir 'hapd.sock'), '-f', (Join-Path $dir 'keepalived.conf'),
        '-p', (Join-Path $dir 'keepalived.pid'), '-r', (Join-Path $dir 'vrrp.pid'), '-c', (Join-Path $dir 'checkers.pid'))
    Write-LvsSay $Lab 'command' ("${HostName}$ hapd {0}" -f ($arguments -join ' '))
    $p = Start-LabProcess -Topology $Lab.Topology -HostName $HostName -Command env -ArgumentList (@("TMPDIR=$dir", (Get-LvsHapdPath $Lab)) + $arguments)
    $Lab.Hapd[$HostName] = $p
    $up = Wait-LvsCondition -TimeoutSeconds 60 -Condition { $p.Process.HasExited -or (Read-LvsHapdLog $p) -match 'Control socket ' }
    if ($p.Process.HasExited -or -not $up) {
        throw "hapd on $HostName did not start ($(if ($p.Process.HasExited) { "exit $($p.Process.ExitCode)" } else { 'no control socket after 60 s' })); its log:`n$(Read-LvsHapdLog $p)"
    }
    $p
}

function Wait-LvsHapdState([object]$Lab, [string]$HostName, [string]$State, [double]$TimeoutSeconds = 60) {
    $p = $Lab.Hapd[$HostName]
    $null = Wait-LvsCondition -TimeoutSeconds $TimeoutSeconds -Condition { (Get-LvsHapdState $p) -eq $State -or $p.Process.HasExited }
    Get-LvsHapdState $p
}

function Invoke-LvsKeepalivedConfigStep {
    param([Parameter(Mandatory)][object]$Lab)
    $step = New-LvsStep $Lab 'KeepalivedConfig' "The same cluster as keepalived.conf, checked before it runs" @(
        '#### keepalived and LVS: add below to keepalived''s conf file', 'virtaul_server 10.0.0.10 80 {   (sic)', '  ...',
        'cp /usr/local/etc/keepalived/keepalived.conf /etc/keepalived/')
    $hapd = Get-LvsHapdPath $Lab
    if (-not (Test-Path $hapd)) { throw "No hapd at ${hapd}: 'dotnet pwsh ./build.ps1 Build' builds it with the module." }
    $seed = Join-Path $Lab.WorkDirectory 'seed-lvs.conf'
    Copy-Item (Join-Path $PSScriptRoot 'seed-lvs.conf') $seed
    Write-LvsSay $Lab 'note' "The seed's keepalived.conf snippet, as its author wrote it (demo/seed-lvs.conf), checked as keepalived -t would:"
    $r = Invoke-LvsCommand $Lab lb1 "`$f = @(Test-KeepalivedConfig -LiteralPath $seed -Detailed); `$f | Select-Object -First 2; '... {0} findings in all' -f `$f.Count" -Show
    $typo = @($r.Output | Where-Object { $_.PSObject.Properties['Keyword'] -and $_.Keyword -eq 'virtaul_server' }) | Select-Object -First 1
    Write-LvsSay $Lab 'note' "With the block's keyword misspelt, keepalived skips that line and reads the rest of the block at the top level, so every later line is a finding too; started anyway, keepalived would log them and run without the virtual server. hapd -t refuses it, as keepalived -t does:"
    Write-LvsSay $Lab 'command' "lb1$ hapd -t -f $seed"
    $t = Invoke-LabCommand -Topology $Lab.Topology -HostName lb1 -Command $hapd -ArgumentList '-t', '-f', $seed -AllowFailure
    $lines = @($t.StdErr -split "`n" | Where-Object { $_ })
    Write-LvsSay $Lab 'output' ("{0}`n... {1} more lines (exit {2})" -f $lines[0], ($lines.Count - 1), $t.ExitCode)
    $Step.Data.SeedTypo = if ($typo) { [pscustomobject]@{ Line = $typo.Line; Keyword = $typo.Keyword; Suggestion = $typo.Suggestion } } else { $null }
    $Step.Data.SeedHapdExit = $t.ExitCode
    Add-LvsCheck $Lab $step "line 1's virtaul_server is caught, with the suggestion virtual_server" ($typo -and $typo.Line -eq 1 -and $typo.Suggestion -eq 'virtual_server') $(if ($typo) { $typo.Message })
    Add-LvsCheck $Lab $step 'hapd -t refuses the seed snippet (exit 5, as keepalived -t)' ($t.ExitCode -eq 5 -and $t.StdErr -match "Unknown keyword 'virtaul_server' \(did you mean virtual_server\?\)")

    foreach ($h in 'lb1', 'lb2') {
        $dir = Get-LvsHapdDirectory $Lab $h
        $null = New-Item -ItemType Directory -Path $dir -Force
        Set-Content -Path (Join-Path $dir 'keepalived.conf') -Value (Get-LvsKeepalivedConfig $Lab $h)
    }
    $conf1 = Join-Path (Get-LvsHapdDirectory $Lab lb1) 'keepalived.conf'
    Write-LvsSay $Lab 'note' "lb1's keepalived.conf: the first act's cluster (the VRRP instance, both virtual servers with their checkers, the sync daemon, ipvsadm --set):"
    Write-LvsSay $Lab 'output' ("# $conf1`n" + (Get-Content -Raw $conf1))
    Write-LvsSay $Lab 'note' "lb2's differs in three lines: router_id lb2, state BACKUP, priority 100. Both checked (on lb1: both directors have eth0 and the user nobody), then hapd -t on each:"
    $confs = @(foreach ($h in 'lb1', 'lb2') { Join-Path (Get-LvsHapdDirectory $Lab $h) 'keepalived.conf' })
    # One agent for both files: a PowerShell's first Test-KeepalivedConfig is compiled, slow under the VM's emulation.
    $v = Invoke-LvsCommand $Lab lb1 ("foreach (`$c in '{0}', '{1}') {{ @(Test-KeepalivedConfig -LiteralPath `$c -CheckEnvironment -Detailed).Count; Test-KeepalivedConfig -LiteralPath `$c -CheckEnvironment }}" -f $confs[0], $confs[1]) -Show
    $Step.Data.Findings = @($v.Output[0], $v.Output[2] | ForEach-Object { [int]$_ })
    $Step.Data.Valid = @($v.Output[1], $v.Output[3] | ForEach-Object { $_ -eq $true })
    $Step.Data.HapdTest = @()
    foreach ($i in 0, 1) {
        $h = @('lb1', 'lb2')[$i]
        Write-LvsSay $Lab 'command' "${h}$ hapd -t -f $($confs[$i])"
        $ht = Invoke-LabCommand -Topology $Lab.Topology -HostName $h -Command $hapd -ArgumentList '-t', '-f', $confs[$i] -AllowFailure
        Write-LvsSay $Lab 'output' ("{0}(exit {1})" -f $ht.StdErr, $ht.ExitCode)
        $Step.Data.HapdTest += $ht.ExitCode
    }
    Add-LvsCheck $Lab $step 'both directors'' files pass Test-KeepalivedConfig -CheckEnvironment with no finding' (($Step.Data.Valid -join ',') -eq 'True,True' -and ($Step.Data.Findings -join ',') -eq '0,0') "findings: $($Step.Data.Findings -join ', ')"
    Add-LvsCheck $Lab $step 'and hapd -t (exit 0 on both)' (($Step.Data.HapdTest -join ',') -eq '0,0') "exit: $($Step.Data.HapdTest -join ', ')"
    $step
}

function Invoke-LvsHapdStartStep {
    param([Parameter(Mandatory)][object]$Lab)
    $vip = $script:Vip
    $step = New-LvsStep $Lab 'HapdStart' 'hapd runs the files on both directors: lb1 Master with the VIP, IPVS and checkers from the file' @(
        '/etc/init.d/keepalived start')
    Write-LvsSay $Lab 'note' "First the first act's cmdlet-run VRRP instances, checkers and sync daemons stop and the IPVS tables are cleared (lb2, the Backup, first):"
    $null = Invoke-LvsCommand $Lab lb2, lb1 'Stop-IpvsHealthCheck -All; Get-VrrpInstance | Stop-VrrpInstance'
    $left = Clear-LvsDirector $Lab
    Add-LvsCheck $Lab $step 'nothing of the first act left on the directors (no service, sync daemon or VRRP instance)' (($left -join ',') -eq '0,0') "left: $($left -join ', ')"
    $clock = [Diagnostics.Stopwatch]::StartNew()
    foreach ($h in 'lb1', 'lb2') { $null = Start-LvsHapd $Lab $h }
    $s1 = Wait-LvsHapdState $Lab lb1 MASTER
    $s2 = Wait-LvsHapdState $Lab lb2 BACKUP
    $programmed = Wait-LvsCondition -TimeoutSeconds 30 -Condition { @('lb1', 'lb2' | Where-Object { (Read-LvsHapdLog $Lab.Hapd[$_]) -match 'IPVS programmed in' }).Count -eq 2 }
    Write-LvsSay $Lab 'note' ("lb1 {0} and lb2 {1} after {2:n1} s; lb1's log:" -f $s1, $s2, $clock.Elapsed.TotalSeconds)
    Write-LvsSay $Lab 'output' (Read-LvsHapdLog $Lab.Hapd.lb1)
    $Step.Data.States = @($s1, $s2)
    Add-LvsCheck $Lab $step 'lb1''s hapd entered MASTER, lb2''s BACKUP' (($Step.Data.States -join ',') -eq 'MASTER,BACKUP') $(if (($Step.Data.States -join ',') -ne 'MASTER,BACKUP') { "lb1's log:`n$(Read-LvsHapdLog $Lab.Hapd.lb1)`nlb2's log:`n$(Read-LvsHapdLog $Lab.Hapd.lb2)" })

    $null = Invoke-LvsCommand $Lab lb1 'Get-IpvsService | Get-IpvsRealServer' -Show
    $exports = Invoke-LvsCommand $Lab lb1, lb2 'Export-IpvsConfig' -Quiet
    $first = @($Lab.Steps | Where-Object Name -eq 'Directors' | Select-Object -First 1)
    $want = if ($first) { (@($first[0].Data.Rules[0] -split "`n" | Sort-Object) -join "`n") } else { '' }
    $Step.Data.Rules = @($exports | ForEach-Object { (@(($_.Output -join "`n").Trim() -split "`n" | Sort-Object) -join "`n") })
    $Step.Data.SameAsFirstAct = @($Step.Data.Rules | ForEach-Object { $want -and $_ -eq $want })
    Add-LvsCheck $Lab $step "hapd programmed the first act's IPVS table on both directors (Export-IpvsConfig, the same rules)" ([bool]$programmed -and ($Step.Data.SameAsFirstAct -join ',') -eq 'True,True') $(if (-not $programmed) { 'no "IPVS programmed" line in a log' })

    # A control socket is a file: lb1's PowerShell reaches lb2's hapd too (a first Get-HapdStatus is compiled once, not twice).
    $sock = { param($h) Join-Path (Get-LvsHapdDirectory $Lab $h) 'hapd.sock' }
    $st = Invoke-LvsCommand $Lab lb1 "`$s = Get-HapdStatus -SocketPath $(& $sock lb1); `$s.VrrpInstances; `$s.Ipvs.Checkers; 'sync daemon: ' + `$s.Ipvs.SyncDaemon" -Show
    $st2 = Invoke-LvsCommand $Lab lb1 "`$s = Get-HapdStatus -SocketPath $(& $sock lb2); '{0} {1}, sync daemon: {2}' -f `$s.VrrpInstances[0].Name, `$s.VrrpInstances[0].State, `$s.Ipvs.SyncDaemon" -Show
    $inst = @($st.Output | Where-Object { $_.PSObject.Properties['VirtualRouterId'] }) | Select-Object -First 1
    $checkers = @($st.Output | Where-Object { $_.PSObject.Properties['Checks'] })
    $Step.Data.Status = [pscustomobject]@{ State = $inst.State; Priority = $inst.Priority; VirtualAddressesInstalled = $inst.VirtualAddressesInstalled
        Checkers = $checkers.Count; SyncDaemon = (@($st.Output) | Where-Object { $_ -is [string] }) -replace '^sync daemon: ', '' }
    $Step.Data.Lb2Status = [string]@($st2.Output)[0]
    Add-LvsCheck $Lab $step 'Get-HapdStatus over the control sockets: VI_1 MASTER (150) on lb1 with its VIP installed, BACKUP on lb2; sync daemon Master / Backup' (
        $inst -and $inst.State -eq 'MASTER' -and $inst.Priority -eq 150 -and $inst.VirtualAddressesInstalled -and $Step.Data.Status.SyncDaemon -eq 'Master' -and $Step.Data.Lb2Status -eq 'VI_1 BACKUP, sync daemon: Backup') "lb2: $($Step.Data.Lb2Status)"
    Add-LvsCheck $Lab $step 'four checkers on lb1, one per real server (TCP_CHECK and MISC_CHECK)' ($checkers.Count -eq 4) "$($checkers.Count)"

    $records = Invoke-LvsClient $Lab $step get 80 6
    $holders = @(Get-LvsVipHolder $Lab)
    $Step.Data.VipHolders = $holders
    $Step.Data.Answered = @($records | Where-Object Ok).Count
    $Step.Data.Servers = @($records | Where-Object Ok | ForEach-Object What | Sort-Object -Unique)
    Add-LvsCheck $Lab $step 'exactly one director holds the VIP: lb1' (($holders -join ',') -eq 'lb1') "holders: $($holders -join ', ')"
    Add-LvsCheck $Lab $step 'all 6 requests through the VIP answered, by both real servers' ($Step.Data.Answered -eq 6 -and ($Step.Data.Servers -join ',') -eq 'rs1,rs2') ($Step.Data.Servers -join ', ')
    $step
}

function Invoke-LvsHapdFailoverStep {
    <#
        hapd on the master killed under traffic (kill -9: no priority-0 advert, nothing cleaned up). Data as the first
        act's failover step: FailoverMs (the kill to lb2's first advert on the client's wire), GarpMs, the continuous
        client's requests before, inside and after the window (the kill to lb2's first gratuitous ARP).
    #>
    param([Parameter(Mandatory)][object]$Lab)
    $vip = $script:Vip
    $step = New-LvsStep $Lab 'HapdFailover' "hapd on lb1 dies (kill -9): lb2's hapd takes the VIP; traffic carries on" @(
        'kill -9 $(cat /var/run/keepalived.pid)   (a crash: no priority-0 advert, nothing cleaned up)',
        '(keepalived: the backup takes the VIP after 3 missed adverts and sends gratuitous ARPs: arping -U -I eth0 10.0.0.30)')
    $loopLog = Join-Path $Lab.WorkDirectory 'hapd-loop.log'
    $read = { if (Test-Path $loopLog) { @(ConvertFrom-LvsClientLine ([IO.File]::ReadAllText($loopLog)) 'HapdFailover') } else { @() } }
    Write-LvsSay $Lab 'command' "client$ python3 client.py loop $vip 80 0.1 hapd-loop.log &   (lab plumbing: a request every 100 ms)"
    $loop = Start-LabProcess -Topology $Lab.Topology -HostName client -Command python3 -ArgumentList @((Join-Path $PSScriptRoot 'client.py'), 'loop', $vip, '80', '0.1', $loopLog)
    $Lab.Traffic = @($loop)
    # A fresh capture of the client's wire (VRRP and ARP) for this failover: a short file is read quickly.
    $null = Stop-LvsProcess $Lab.Capture.Process 5
    $Lab.Capture = Start-LabCapture -Topology $Lab.Topology -HostName client -Filter 'ip proto 112 or arp' -TimeoutSeconds 60
    $null = Wait-LvsCondition -TimeoutSeconds 60 -Condition { @(& $read).Count -ge 10 }
    $victim = $Lab.Hapd.lb1
    Write-LvsSay $Lab 'command' "lb1$ kill -9 $($victim.Pid)   (hapd)"
    $cut = Get-LvsUnixNs
    & kill -s KILL $victim.Pid
    Write-LvsSay $Lab 'progress' ("  ... killed at {0:HH:mm:ss.fff}; lb2's hapd waits for 3 missed adverts (3 x 1 s + skew 0.61 s), enters MASTER and sends gratuitous ARPs" -f [DateTime]::Now)
    $lb2 = Wait-LvsHapdState $Lab lb2 MASTER
    $null = Wait-LvsCondition -TimeoutSeconds 60 -Condition { @(& $read | Where-Object { $_.Start -gt $cut + 5e9 }).Count -ge 5 }
    Write-LvsSay $Lab 'command' 'client$ kill client.py (loop)'
    $null = Stop-LvsProcess $loop 9
    $records = @(& $read)

    $adverts = @(Get-LabVrrpAdvert $Lab.Capture -AfterNanoseconds $cut | Where-Object { $_.Source -eq $Lab.Topology.Hosts.lb2.IPv4Address -and $_.Priority -gt 0 })
    $garps = @(Get-LabGratuitousArp $Lab.Capture -AfterNanoseconds $cut | Where-Object { $_.Mac -eq $Lab.Topology.Hosts.lb2.MacAddress -and $_.Address -eq $vip })
    $firstAdvert = if ($adverts) { $adverts[0].Ns } else { $null }
    $firstGarp = if ($garps) { $garps[0].Ns } else { $null }
    $windowEnd = if ($firstGarp) { $firstGarp } elseif ($firstAdvert) { $firstAdvert } else { [long]::MaxValue }
    foreach ($r in $records) { $r | Add-Member -NotePropertyName InWindow -NotePropertyValue ([bool]($r.Start -le $windowEnd -and $r.End -ge $cut)); $Lab.Requests.Add($r) }
    $Lab.HapdFailover = [pscustomobject]@{ CutNs = $cut; FirstAdvertNs = $firstAdvert; FirstGarpNs = $firstGarp; WindowEndNs = $windowEnd
        FailoverMs = if ($firstAdvert) { [math]::Round(($firstAdvert - $cut) / 1e6, 1) } else { $null }
        GarpMs = if ($firstGarp) { [math]::Round(($firstGarp - $cut) / 1e6, 1) } else { $null } }
    $lb2Log = @((Read-LvsHapdLog $Lab.Hapd.lb2) -split "`n" | Where-Object { $_ -match 'Entering MASTER|sync daemon' })
    Write-LvsSay $Lab 'output' ("  lb2's log: " + ($lb2Log -join "`n  lb2's log: "))
    Write-LvsSay $Lab 'output' ("  on the client's wire: lb2's first advert {0} ms after the kill, its first gratuitous ARP for the VIP {1} ms after it" -f $Lab.HapdFailover.FailoverMs, $Lab.HapdFailover.GarpMs)
    $null = Invoke-LvsCommand $Lab client "Get-ArpEntry -IPAddress $vip" -Show
    $mac = (Invoke-LvsCommand $Lab client "Get-ArpEntry -IPAddress $vip | ForEach-Object { `"`$(`$_.LinkLayerAddress)`" }" -Quiet).Output
    $holders = @(Get-LvsVipHolder $Lab)
    Write-LvsSay $Lab 'note' "lb1 still has the VIP on eth0:0: kill -9 left no process to remove it (keepalived leaves it the same way); the client follows lb2's gratuitous ARPs, and lb1's kernel would still forward what reaches it."

    $failedOutside = @($records | Where-Object { -not $_.Ok -and -not $_.InWindow })
    $failedInside = @($records | Where-Object { -not $_.Ok -and $_.InWindow })
    $beforeOk = @($records | Where-Object { $_.End -lt $cut -and $_.Ok }).Count
    $after = @($records | Where-Object { $_.Start -gt $windowEnd })
    $afterOk = @($after | Where-Object Ok).Count
    Write-LvsSay $Lab 'output' ("  continuous client: {0} requests, {1} answered before the kill, {2} of {3} after the window, {4} failed inside the window, {5} outside" -f
        $records.Count, $beforeOk, $afterOk, $after.Count, $failedInside.Count, $failedOutside.Count)
    $Step.Data.Lb1Exit = if ($victim.Process.HasExited) { $victim.Process.ExitCode } else { $null }
    $Step.Data.Lb2State = $lb2
    $Step.Data.FailoverMs = $Lab.HapdFailover.FailoverMs
    $Step.Data.GarpMs = $Lab.HapdFailover.GarpMs
    $Step.Data.ClientVipMac = [string]@($mac)[0]
    $Step.Data.VipHolders = $holders
    $Step.Data.LoopBeforeOk = $beforeOk
    $Step.Data.LoopAfter = $after.Count
    $Step.Data.LoopAfterOk = $afterOk
    $Step.Data.LoopFailedOutsideWindow = $failedOutside.Count
    Add-LvsCheck $Lab $step "lb2's hapd entered MASTER; its first advert reached the client" ($lb2 -eq 'MASTER' -and $null -ne $firstAdvert) $(if ($lb2 -eq 'MASTER') { "failover $($Step.Data.FailoverMs) ms" } else { "lb2's log:`n$(Read-LvsHapdLog $Lab.Hapd.lb2)" })
    Add-LvsCheck $Lab $step "the client's ARP entry for the VIP moved to lb2's MAC" ($Step.Data.ClientVipMac -eq $Lab.Topology.Hosts.lb2.MacAddress) $Step.Data.ClientVipMac
    Add-LvsCheck $Lab $step 'lb2 holds the VIP (and lb1 still does: nothing removed it)' (($holders -join ',') -eq 'lb1,lb2') "holders: $($holders -join ', ')"
    Add-LvsCheck $Lab $step 'requests answered before the kill and after the takeover' ($beforeOk -gt 0 -and $after.Count -gt 0 -and $afterOk -eq $after.Count)
    Add-LvsCheck $Lab $step 'no request failed outside the failover window' ($failedOutside.Count -eq 0) "$($failedInside.Count) inside it"
    $step
}

function Invoke-LvsHapdFailbackStep {
    param([Parameter(Mandatory)][object]$Lab)
    $vip = $script:Vip
    $step = New-LvsStep $Lab 'HapdFailback' "hapd on lb1 starts again: it preempts (priority 150 > 100) and takes the VIP back" @(
        '/etc/init.d/keepalived start', '(keepalived: preempt, the default)')
    Write-LvsSay $Lab 'note' "The killed hapd's pid files are still there; they name a process that no longer exists, so the start goes ahead."
    $null = Start-LvsHapd $Lab lb1
    $s1 = Wait-LvsHapdState $Lab lb1 MASTER
    $s2 = Wait-LvsHapdState $Lab lb2 BACKUP
    foreach ($h in 'lb1', 'lb2') {
        $lines = @((Read-LvsHapdLog $Lab.Hapd[$h]) -split "`n" | Where-Object { $_ -match 'Entering' } | Select-Object -Last 2)
        Write-LvsSay $Lab 'output' ("  ${h}'s log: " + ($lines -join "`n  ${h}'s log: "))
    }
    $records = Invoke-LvsClient $Lab $step get 80 4
    $holders = @(Get-LvsVipHolder $Lab)
    $mac = (Invoke-LvsCommand $Lab client "Get-ArpEntry -IPAddress $vip | ForEach-Object { `"`$(`$_.LinkLayerAddress)`" }" -Quiet).Output
    $Step.Data.States = @($s1, $s2)
    $Step.Data.VipHolders = $holders
    $Step.Data.ClientVipMac = [string]@($mac)[0]
    $Step.Data.Answered = @($records | Where-Object Ok).Count
    Add-LvsCheck $Lab $step "lb1's new hapd MASTER, lb2's BACKUP" ((@($s1, $s2) -join ',') -eq 'MASTER,BACKUP') "states: $s1, $s2"
    Add-LvsCheck $Lab $step 'exactly one director holds the VIP: lb1' (($holders -join ',') -eq 'lb1') "holders: $($holders -join ', ')"
    Add-LvsCheck $Lab $step "the client's ARP entry points at lb1 again, requests answered" ($Step.Data.ClientVipMac -eq $Lab.Topology.Hosts.lb1.MacAddress -and $Step.Data.Answered -eq 4) $Step.Data.ClientVipMac
    $step
}

function Invoke-LvsHapdStopStep {
    param([Parameter(Mandatory)][object]$Lab)
    $step = New-LvsStep $Lab 'HapdStop' 'hapd stops on both directors (SIGTERM): the VIP goes, the IPVS table stays (-I)' @('/etc/init.d/keepalived stop')
    $Step.Data.Exit = @(); $Step.Data.StopSeconds = @()
    foreach ($h in 'lb2', 'lb1') {
        $p = $Lab.Hapd[$h]
        # lb2 (Backup) first: lb1 (Master) still holds the VIP when its own stop begins, and must not after it.
        if ($h -eq 'lb1') { $Step.Data.Lb1HeldVip = @(Get-LvsVipHolder $Lab) -contains 'lb1' }
        Write-LvsSay $Lab 'command' "${h}$ kill -TERM $($p.Pid)   (hapd)"
        # The signal and the wait timed apart (hapd logs when its main loop takes the signal): a slow stop shows where.
        $clock = [Diagnostics.Stopwatch]::StartNew()
        $exited = Stop-LvsProcess $p 30
        $Step.Data.Exit += if ($exited) { $p.Process.ExitCode } else { 'killed' }
        $Step.Data.StopSeconds += [math]::Round($clock.Elapsed.TotalSeconds, 1)
        $log = Read-LvsHapdLog $p
        $lines = @($log -split "`n" | Where-Object { $_ -match 'SIGTERM|Stopped|stopped' })
        Write-LvsSay $Lab 'output' ("  ${h}'s log: " + ($lines -join "`n  ${h}'s log: ") + ("`n  (exited {0:n1} s after the signal was sent)" -f $clock.Elapsed.TotalSeconds))
    }
    # The fact, not the log's words: lb1 held the VIP until its stop and no longer holds it.
    $holders = @(Get-LvsVipHolder $Lab)
    $Step.Data.Lb1RemovedVip = $Step.Data.Lb1HeldVip -and $holders -notcontains 'lb1'
    $null = Invoke-LvsCommand $Lab lb1 'Get-IpvsService | Get-IpvsRealServer' -Show
    $left = @(foreach ($h in 'lb1', 'lb2') { (Invoke-LvsCommand $Lab $h "'{0} {1}' -f @(Get-IpvsService).Count, @(Get-IpvsSyncDaemon).Count" -Quiet).Output[0] })
    Write-LvsSay $Lab 'note' "Started with -I (keepalived's --dont-release-ipvs), hapd leaves the IPVS table; without it hapd removes its services on stop, as keepalived does. The seed's ipvsadm -d, -D and -C take it down next."
    $Step.Data.VipHolders = $holders
    $Step.Data.ServicesAndSyncDaemons = $left
    Add-LvsCheck $Lab $step 'both hapd exited 0 on SIGTERM' (($Step.Data.Exit -join ',') -eq '0,0') "exit: $($Step.Data.Exit -join ', ')"
    Add-LvsCheck $Lab $step 'lb1 (Master) held the VIP until its stop and removed it: no director holds it' ($Step.Data.Lb1RemovedVip -and $holders.Count -eq 0) "lb1 held it before its stop: $($Step.Data.Lb1HeldVip); holders after: $($holders -join ', ')"
    Add-LvsCheck $Lab $step 'the sync daemons stopped; both services left in IPVS' (($left -join ',') -eq '2 0,2 0') "services and sync daemons: $($left -join '; ')"
    $step
}

#endregion

function Clear-LvsDirector {
    # ipvsadm -C and the sync daemons stopped on both directors; returns per director what is left (services + sync
    # daemons + VRRP instances: 0 when clean). The sync daemon follows VRRP through an event action in each agent,
    # which may still run after its instance stopped (event actions run between commands): clear again until nothing
    # is left, for up to 15 s.
    param([object]$Lab)
    $null = Invoke-LvsCommand $Lab lb1, lb2 'Clear-IpvsService -Confirm:$false; Get-IpvsSyncDaemon | ForEach-Object { Stop-IpvsSyncDaemon $_.State -ErrorAction SilentlyContinue }'
    $count = '@(Get-IpvsService).Count + @(Get-IpvsSyncDaemon).Count + @(Get-VrrpInstance).Count'
    for ($try = 0; $try -lt 15; $try++) {
        $left = @(foreach ($h in 'lb1', 'lb2') { (Invoke-LvsCommand $Lab $h $count -Quiet).Output[0] })
        if (($left -join ',') -eq '0,0') { break }
        Start-Sleep -Seconds 1
        $null = Invoke-LvsCommand $Lab lb1, lb2 'Get-IpvsSyncDaemon | ForEach-Object { Stop-IpvsSyncDaemon $_.State -ErrorAction SilentlyContinue }' -Quiet
    }
    $left
}

function Invoke-LvsTeardownStep {
    param([Parameter(Mandatory)][object]$Lab)
    $vip = $script:Vip
    $step = New-LvsStep $Lab 'Teardown' "Taking it down the seed's way" @('ipvsadm -d -t 10.0.0.30:3306 -r 10.0.0.10:3306', 'ipvsadm -D -t 10.0.0.30:3306', 'ipvsadm -C')
    # After the second act hapd has stopped the VRRP instances and checkers and left the table (-I, as keepalived -I).
    $null = Invoke-LvsCommand $Lab lb1, lb2 'Stop-IpvsHealthCheck -All; Get-VrrpInstance | Stop-VrrpInstance'
    $null = Invoke-LvsCommand $Lab lb1, lb2 "Remove-IpvsRealServer -Service 'TCP ${vip}:3306' -Address 192.0.2.11 -Port 3306 -Confirm:`$false"
    $null = Invoke-LvsCommand $Lab lb1, lb2 "Remove-IpvsService -Service 'TCP ${vip}:3306' -Confirm:`$false"
    $null = Invoke-LvsCommand $Lab lb1 'Get-IpvsService | Get-IpvsRealServer' -Show
    $left = Clear-LvsDirector $Lab
    $Step.Data.Left = $left
    Add-LvsCheck $Lab $step 'no service, sync daemon or VRRP instance left on either director' (($left -join ',') -eq '0,0')
    $step
}

function Get-LvsDemoSummary {
    <# N requests, F failed outside the failover windows, T (ms from the cut to the new master's first advert; and from hapd's kill when the second act ran). #>
    param([Parameter(Mandatory)][object]$Lab)
    $n = $Lab.Requests.Count
    $f = @($Lab.Requests | Where-Object { -not $_.Ok -and -not ($_.PSObject.Properties['InWindow'] -and $_.InWindow) }).Count
    $t = if ($Lab.Failover -and $null -ne $Lab.Failover.FailoverMs) { [math]::Round($Lab.Failover.FailoverMs) } else { $null }
    $th = if ($Lab.HapdFailover -and $null -ne $Lab.HapdFailover.FailoverMs) { [math]::Round($Lab.HapdFailover.FailoverMs) } else { $null }
    $hapd = if ($Lab.Steps | Where-Object Name -eq 'HapdFailover') { ", hapd failover $(if ($null -ne $th) { $th } else { '?' }) ms" } else { '' }
    [pscustomobject]@{ Requests = $n; FailedOutsideWindow = $f; FailoverMs = $t; HapdFailoverMs = $th
        FailedChecks = @($Lab.Steps | ForEach-Object { $_.Checks } | Where-Object { -not $_.Ok })
        Line = "Demo: $n requests, $f failed outside the failover windows, failover $(if ($null -ne $t) { $t } else { '?' }) ms$hapd" }
}

Export-ModuleMember -Function New-LvsDemo, Remove-LvsDemo, Invoke-LvsRealServerStep, Invoke-LvsDirectorStep, Invoke-LvsVrrpStep,
    Invoke-LvsHealthCheckStep, Invoke-LvsRequestStep, Invoke-LvsPersistenceStep, Invoke-LvsMiscDynamicStep, Invoke-LvsRealServerFailureStep,
    Invoke-LvsFailoverStep, Invoke-LvsFailbackStep, Invoke-LvsKeepalivedConfigStep, Invoke-LvsHapdStartStep, Invoke-LvsHapdFailoverStep,
    Invoke-LvsHapdFailbackStep, Invoke-LvsHapdStopStep, Invoke-LvsTeardownStep, Get-LvsDemoSummary, Get-LvsVipHolder
