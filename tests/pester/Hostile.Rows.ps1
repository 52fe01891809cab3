# The hostile-input table: bad input for every state-changing cmdlet, each row run between two snapshots
# of what the cmdlets could change (HostileInput.psm1) and expected to fail with its error id and change nothing.
#
# A row is a hashtable:
#   Name        what is tried (the test's name)
#   Tag         None   : runs in a child pwsh on this machine, as any user (refused before anything is touched)
#               Root   : runs in a pwsh inside a lab network namespace (host h1, eth0 192.0.2.1/24, a peer h2)
#               Kernel : runs there too, in the kernel lab when this kernel has no IPVS, over a baseline IPVS table
#   Script      PowerShell text run in that pwsh (the module imported; $env:HAPS_HOSTILE_WORK is a scratch folder)
#   ErrorId     wildcard for the FullyQualifiedErrorId of one of the errors it must write or throw
#   Message     (optional) regex one of the messages must match
#   Expect      (optional) 'Stopped': instead of an error, the command must end when its pipeline is stopped
#   StopAfterSeconds  (optional) run in a pipeline of its own and stop it after this long, as Ctrl+C does
#   MaxAllocatedMB    (optional) bytes the runner process may allocate while the row runs
#   Setup, Cleanup    (optional) PowerShell text run before the first and after the second snapshot
#   Directory   (optional) folders whose file lists are part of the snapshots
#   LabOnly     (optional) $true: the row changes the machine (a mount over /lib/modules): run only in the kernel lab
#   IgnoreChildren    (optional) child process names a Setup started (left out of the snapshots)
#
# Issue 17's second part: health checks (sorry server family and port, -Name '', both priority switches,
# -NotifyUp /nonexistent: Kernel rows, against the baseline's TCP 192.0.2.10:80), VRRP labels longer than 15
# bytes or naming another device and the same VIP in two instances (Root rows).

$w = '$env:HAPS_HOSTILE_WORK'   # in row scripts: the runner's scratch folder
# A named pipe in the scratch folder, fed by a writer process (COMMAND > the pipe).
$fifoSetup = @'
mkfifo "$env:HAPS_HOSTILE_WORK/fifo"
Set-Content "$env:HAPS_HOSTILE_WORK/writer.sh" 'exec COMMAND > "$1" 2> /dev/null'
$null = Start-Process /bin/sh -ArgumentList "$env:HAPS_HOSTILE_WORK/writer.sh", "$env:HAPS_HOSTILE_WORK/fifo"
'@
$fifoWriter = { param($command) $fifoSetup.Replace('COMMAND', $command) }
# A 52 MB file of one line of words, as the issue's probe had.
$oneLineSetup = @'
$f = [IO.File]::Create("$env:HAPS_HOSTILE_WORK/oneline.rules")
$b = [Text.Encoding]::ASCII.GetBytes('a ' * 65536)
for ($i = 0; $i -lt 400; $i++) { $f.Write($b, 0, $b.Length) }
$f.Dispose()
'@
# A copy of the running kernel's modules.dep naming a scheduler module that cannot be loaded, mounted over the real one.
$brokenModuleSetup = @'
$dep = '/lib/modules/' + (uname -r) + '/modules.dep'
Copy-Item $dep "$env:HAPS_HOSTILE_WORK/modules.dep"
Add-Content "$env:HAPS_HOSTILE_WORK/modules.dep" 'kernel/net/netfilter/ipvs/ip_vs_broken.ko:'
mount --bind "$env:HAPS_HOSTILE_WORK/modules.dep" $dep
'@
$brokenModuleCleanup = 'umount (''/lib/modules/'' + (uname -r) + ''/modules.dep'')'

@(
    # ---- strict addresses at binding (IPAddress.Parse would read inet_aton's shorthand) ----
    @{ Tag = 'None'; Name = "New-IpvsService -Address '192.0.2' (not 192.0.0.2)"; Script = "New-IpvsService -Protocol Tcp -Address '192.0.2' -Port 80"
       ErrorId = 'ParameterArgumentTransformationError,*'; Message = 'all four numbers' }
    @{ Tag = 'None'; Name = "New-IpvsService -Address '1' (not 0.0.0.1)"; Script = "New-IpvsService -Protocol Tcp -Address '1' -Port 80"
       ErrorId = 'ParameterArgumentTransformationError,*'; Message = 'InvalidIPAddress' }
    @{ Tag = 'None'; Name = "New-IpvsService -Address 1 (a number)"; Script = 'New-IpvsService -Protocol Tcp -Address 1 -Port 80'
       ErrorId = 'ParameterArgumentTransformationError,*'; Message = 'InvalidIPAddress' }
    @{ Tag = 'None'; Name = "New-IpvsService piped Address '010.0.0.1'"; Script = "[pscustomobject]@{ Protocol = 'Tcp'; Address = '010.0.0.1'; Port = 80 } | New-IpvsService"
       ErrorId = 'ParameterArgumentTransformationError,*' }
    @{ Tag = 'None'; Name = "Add-IpvsRealServer -Address '192.0.2'"; Script = "Add-IpvsRealServer -Service 'TCP 192.0.2.1:80' -Address '192.0.2'"
       ErrorId = 'ParameterArgumentTransformationError,*' }
    @{ Tag = 'None'; Name = "Add-IpvsRealServer -Service 'TCP 192.0.2:80'"; Script = "Add-IpvsRealServer -Service 'TCP 192.0.2:80' -Address 192.0.2.10"
       ErrorId = 'ParameterArgumentTransformationError,*'; Message = 'all four numbers' }
    @{ Tag = 'None'; Name = "Set-IpvsRealServer -Address '1'"; Script = "Set-IpvsRealServer -Service 'TCP 192.0.2.1:80' -Address '1' -Weight 0"
       ErrorId = 'ParameterArgumentTransformationError,*' }
    @{ Tag = 'None'; Name = "Remove-IpvsRealServer -Address '192.0.2'"; Script = "Remove-IpvsRealServer -Service 'TCP 192.0.2.1:80' -Address '192.0.2' -Confirm:`$false"
       ErrorId = 'ParameterArgumentTransformationError,*' }
    @{ Tag = 'None'; Name = "Start-IpvsSyncDaemon -Group '239.1'"; Script = "Start-IpvsSyncDaemon -State Master -InterfaceName lo -Group '239.1'"
       ErrorId = 'ParameterArgumentTransformationError,*' }
    @{ Tag = 'None'; Name = "Invoke-TcpCheck -Address '192.0.2'"; Script = "Invoke-TcpCheck -Address '192.0.2' -Port 80"
       ErrorId = 'ParameterArgumentTransformationError,*' }
    @{ Tag = 'None'; Name = 'Invoke-TcpCheck -Address 255.255.255.255 (not "missing")'; Script = 'Invoke-TcpCheck -Address 255.255.255.255 -Port 80'
       ErrorId = 'InvalidAddress,*'; Message = 'broadcast' }

    # ---- numbers and families at binding ----
    @{ Tag = 'None'; Name = "New-IpvsService -AddressFamily Unix (IPVS knows IPv4 and IPv6)"; Script = 'New-IpvsService -FirewallMark 5 -AddressFamily Unix'
       ErrorId = 'ParameterArgumentTransformationError,*'; Message = 'IPv4 \(InterNetwork\) or IPv6' }
    @{ Tag = 'None'; Name = "New-IpvsService piped Port 'http'"; Script = "[pscustomobject]@{ Protocol = 'Tcp'; Address = '192.0.2.1'; Port = 'http' } | New-IpvsService"
       ErrorId = 'ParameterArgumentTransformationError,*'; Message = 'InvalidNumber' }
    @{ Tag = 'None'; Name = "Set-IpvsTimeout piped Tcp 'abc'"; Script = "[pscustomobject]@{ Tcp = 'abc' } | Set-IpvsTimeout"
       ErrorId = 'ParameterArgumentTransformationError,*'; Message = 'InvalidNumber' }
    @{ Tag = 'None'; Name = 'Start-IpvsSyncDaemon -MaxLength 1 (master)'; Script = 'Start-IpvsSyncDaemon -State Master -InterfaceName lo -MaxLength 1'
       ErrorId = 'InvalidSyncMaxLength,*' }
    @{ Tag = 'None'; Name = 'Start-IpvsSyncDaemon -MaxLength 1000 (backup: the kernel would make it 1024)'; Script = 'Start-IpvsSyncDaemon -State Backup -InterfaceName lo -MaxLength 1000'
       ErrorId = 'InvalidSyncMaxLength,*' }
    @{ Tag = 'None'; Name = 'Start-IpvsSyncDaemon -MaxLength 65535 (more than a datagram holds)'; Script = 'Start-IpvsSyncDaemon -State Master -InterfaceName lo -MaxLength 65535 -WhatIf'
       ErrorId = 'InvalidSyncMaxLength,*' }
    @{ Tag = 'None'; Name = "Start-IpvsSyncDaemon piped MaxLength 'abc'"; Script = "[pscustomobject]@{ State = 'Master'; InterfaceName = 'lo'; MaxLength = 'abc' } | Start-IpvsSyncDaemon"
       ErrorId = 'ParameterArgumentTransformationError,*' }

    # ---- Import-/Sync-IpvsConfig input: devices, folders, limits, stops ----
    foreach ($cmd in 'Import-IpvsConfig', 'Sync-IpvsConfig') {
        foreach ($dev in '/dev/zero', '/dev/urandom') {
            @{ Tag = 'None'; Name = "$cmd -Path $dev"; Script = "$cmd -Path $dev"; ErrorId = 'InputNotAFile,*'; Message = 'character device'; MaxAllocatedMB = 16 }
        }
    }
    @{ Tag = 'None'; Name = 'Import-IpvsConfig -Path a directory'; Script = "Import-IpvsConfig -Path $w"; ErrorId = 'InputIsDirectory,*' }
    @{ Tag = 'None'; Name = 'Import-IpvsConfig -Path in a missing directory'; Script = "Import-IpvsConfig -Path $w/missing/x.rules"; ErrorId = 'InputDirectoryNotFound,*' }
    @{ Tag = 'None'; Name = 'Sync-IpvsConfig -Path a missing file'; Script = "Sync-IpvsConfig -Path $w/missing.rules"; ErrorId = 'InputFileNotFound,*' }
    @{ Tag = 'None'; Name = 'Import-IpvsConfig -Path a file over -MaximumInputSize'
       Setup = "Set-Content $w/small.rules ('-A -t 192.0.2.1:80 -s rr' * 100)"; Script = "Import-IpvsConfig -Path $w/small.rules -MaximumInputSize 1000"
       ErrorId = 'InputTooLarge,*'; Message = '-MaximumInputSize' }
    @{ Tag = 'None'; Name = 'Import-IpvsConfig of a 52 MB one-line file (1.59 GB before)'; MaxAllocatedMB = 64; Setup = $oneLineSetup
       Script = "Import-IpvsConfig -Path $w/oneline.rules -MaximumInputSize 1GB"; ErrorId = 'InvalidConfig,*'; Message = 'line 1: .*longer than 4096'
       Cleanup = "Remove-Item $w/oneline.rules" }
    @{ Tag = 'None'; Name = 'Sync-IpvsConfig of endless piped text'; Script = "1..10000000 | ForEach-Object { '# comment' } | Sync-IpvsConfig -MaximumInputSize 100KB"
       ErrorId = 'InputTooLarge,*'; MaxAllocatedMB = 64 }
    @{ Tag = 'None'; Name = 'Import-IpvsConfig -Path a named pipe fed from /dev/zero'; Setup = (& $fifoWriter 'cat /dev/zero'); IgnoreChildren = @('cat', 'sh')
       Script = "Import-IpvsConfig -Path $w/fifo"; ErrorId = 'InvalidConfig,*'; Message = 'longer than 4096'; MaxAllocatedMB = 16; Cleanup = "Remove-Item $w/fifo" }
    @{ Tag = 'None'; Name = 'Sync-IpvsConfig -Path a named pipe fed from /dev/urandom'; Setup = (& $fifoWriter 'cat /dev/urandom'); IgnoreChildren = @('cat', 'sh')
       Script = "Sync-IpvsConfig -Path $w/fifo"; ErrorId = 'InvalidConfig,*'; MaxAllocatedMB = 16; Cleanup = "Remove-Item $w/fifo" }
    @{ Tag = 'None'; Name = 'Import-IpvsConfig -Path a named pipe with no writer ends at Ctrl+C'; Setup = "mkfifo $w/fifo"; StopAfterSeconds = 2; Expect = 'Stopped'
       Script = "Import-IpvsConfig -Path $w/fifo"; Cleanup = "Remove-Item $w/fifo" }
    @{ Tag = 'None'; Name = 'Sync-IpvsConfig -Path an endless named pipe ends at Ctrl+C'; Setup = (& $fifoWriter 'yes ""'); IgnoreChildren = @('yes', 'sh')
       StopAfterSeconds = 3; Expect = 'Stopped'; Script = "Sync-IpvsConfig -Path $w/fifo -MaximumInputSize 100GB"; Cleanup = "Remove-Item $w/fifo" }
    @{ Tag = 'None'; Name = 'Export-IpvsConfig -Path a directory'; Script = "Export-IpvsConfig -Path $w"; ErrorId = 'OutputIsDirectory,*' }
    @{ Tag = 'None'; Name = 'Export-IpvsConfig -Path in a missing directory'; Script = "Export-IpvsConfig -Path $w/missing/x.rules"; ErrorId = 'OutputDirectoryNotFound,*' }

    # ---- health checks (part 1: what is not the checker registry) ----
    @{ Tag = 'None'; Name = 'Invoke-MiscCheck with a 200,000-byte argument (no Win32Exception)'; Script = "Invoke-MiscCheck -Path /bin/true -ArgumentList ('x' * 200000)"
       ErrorId = 'ArgumentTooLong,*' }
    @{ Tag = 'None'; Name = 'Invoke-MiscCheck with 2 MB of arguments'; Script = "Invoke-MiscCheck -Path /bin/true -ArgumentList (1..20 | ForEach-Object { 'x' * 100000 })"
       ErrorId = 'ArgumentListTooLong,*' }

    # ---- addresses, ARP and sysctls, inside a namespace ----
    @{ Tag = 'Root'; Name = "Add-VirtualIPAddress -IPAddress '1'"; Script = "Add-VirtualIPAddress -InterfaceName eth0 -IPAddress '1'"; ErrorId = 'InvalidIPAddress,*' }
    @{ Tag = 'Root'; Name = "Add-VirtualIPAddress -IPAddress '192.0.2'"; Script = "Add-VirtualIPAddress -InterfaceName eth0 -IPAddress '192.0.2'"; ErrorId = 'InvalidIPAddress,*' }
    @{ Tag = 'Root'; Name = 'Add-VirtualIPAddress -IPAddress 255.255.255.255'; Script = 'Add-VirtualIPAddress -InterfaceName eth0 -IPAddress 255.255.255.255'; ErrorId = 'InvalidIPAddress,*' }
    @{ Tag = 'Root'; Name = "Add-VirtualIPAddress piped PrefixLength 'abc' (not a /32)"
       Script = "[pscustomobject]@{ InterfaceName = 'eth0'; IPAddress = '192.0.2.50'; PrefixLength = 'abc' } | Add-VirtualIPAddress"; ErrorId = 'ParameterArgumentTransformationError,*' }
    @{ Tag = 'Root'; Name = "Remove-VirtualIPAddress piped PrefixLength 'abc'"
       Script = "[pscustomobject]@{ InterfaceName = 'eth0'; IPAddress = '192.0.2.1'; PrefixLength = 'abc' } | Remove-VirtualIPAddress -Confirm:`$false"; ErrorId = 'ParameterArgumentTransformationError,*' }
    @{ Tag = 'Root'; Name = 'Send-GratuitousArp -IPAddress 192.0.2.50/24'; Script = 'Send-GratuitousArp -InterfaceName eth0 -IPAddress 192.0.2.50/24'; ErrorId = 'InvalidIPAddress,*' }
    @{ Tag = 'Root'; Name = 'Test-ArpAddress -IPAddress 192.0.2.50/24'; Script = 'Test-ArpAddress -InterfaceName eth0 -IPAddress 192.0.2.50/24'; ErrorId = 'InvalidIPAddress,*' }
    @{ Tag = 'Root'; Name = "Send-ArpRequest -IPAddress '1'"; Script = "Send-ArpRequest -InterfaceName eth0 -IPAddress '1'"; ErrorId = 'InvalidIPAddress,*' }
    @{ Tag = 'Root'; Name = 'Set-ArpSuppression -PersistPath in a missing directory (not "needs root")'
       Script = "Set-ArpSuppression -InterfaceName eth0 -Persist -PersistPath $w/missing/arp.conf"; ErrorId = 'PersistDirectoryNotFound,*'; Directory = @($w) }
    @{ Tag = 'Root'; Name = "Set-ArpSuppression piped ArpIgnore 'abc'"; Script = "[pscustomobject]@{ InterfaceName = 'eth0'; ArpIgnore = 'abc' } | Set-ArpSuppression"
       ErrorId = 'ParameterArgumentTransformationError,*' }

    # ---- VRRP and checkers: addresses at binding (a one-line attribute in their files) ----
    @{ Tag = 'Root'; Name = "Start-VrrpInstance -VirtualIPAddress '1'"; Script = "Start-VrrpInstance -InterfaceName eth0 -VirtualRouterId 51 -VirtualIPAddress '1'"
       ErrorId = 'VrrpVirtualAddressInvalid*' }
    @{ Tag = 'Root'; Name = "Start-VrrpInstance -UnicastPeer '192.0.2'"; Script = "Start-VrrpInstance -InterfaceName eth0 -VirtualRouterId 51 -VirtualIPAddress 192.0.2.50/24 -UnicastPeer '192.0.2'"
       ErrorId = 'ParameterArgumentTransformationError,*' }
    @{ Tag = 'Root'; Name = "Start-VrrpInstance -SourceAddress '1'"; Script = "Start-VrrpInstance -InterfaceName eth0 -VirtualRouterId 51 -VirtualIPAddress 192.0.2.50/24 -SourceAddress '1'"
       ErrorId = 'ParameterArgumentTransformationError,*' }
    @{ Tag = 'Root'; Name = "Start-VrrpInstance piped Priority 'high'"
       Script = "[pscustomobject]@{ InterfaceName = 'eth0'; VirtualRouterId = 51; VirtualIPAddress = '192.0.2.50/24'; Priority = 'high' } | Start-VrrpInstance"
       ErrorId = 'ParameterArgumentTransformationError,*' }
    @{ Tag = 'Root'; Name = "Start-IpvsHealthCheck -SorryServer '192.0.2'"; Script = "Start-IpvsHealthCheck -Service 'TCP 192.0.2.1:80' -SorryServer '192.0.2'"
       ErrorId = 'ParameterArgumentTransformationError,*' }
    @{ Tag = 'Root'; Name = "Invoke-TcpCheck -BindAddress '1'"; Script = "Invoke-TcpCheck -Address 192.0.2.2 -Port 80 -BindAddress '1'"
       ErrorId = 'ParameterArgumentTransformationError,*' }

    # ---- VRRP: what the kernel would refuse later is refused at start ----
    @{ Tag = 'Root'; Name = 'Start-VrrpInstance with a label of 16 bytes in 11 characters'
       Script = "Start-VrrpInstance -InterfaceName eth0 -VirtualRouterId 51 -VirtualIPAddress '192.0.2.50/24 label eth0:$([string]::new([char]0xe9, 6))'"
       ErrorId = 'VrrpVirtualAddressLabelInvalid,*'; Message = 'bytes' }
    @{ Tag = 'Root'; Name = 'Start-VrrpInstance with a label naming another device'
       Script = "Start-VrrpInstance -InterfaceName eth0 -VirtualRouterId 51 -VirtualIPAddress '192.0.2.50/24 label eth9:0'"
       ErrorId = 'VrrpVirtualAddressLabelInvalid,*' }
    @{ Tag = 'Root'; Name = 'Start-VrrpInstance with a VIP another instance owns'
       Script = "`$null = Start-VrrpInstance -Name A -InterfaceName eth0 -VirtualRouterId 51 -Priority 100 -VirtualIPAddress 192.0.2.50/24; try { Start-VrrpInstance -Name B -InterfaceName eth0 -VirtualRouterId 52 -VirtualIPAddress 192.0.2.50/24 } finally { Stop-VrrpInstance -Name A }"
       ErrorId = 'VrrpVirtualAddressShared,*'; Message = "owned by instance 'A'" }

    # ---- the IPVS table (kernel lab): a plan checked whole, undone when the kernel refuses a step ----
    # Against the baseline (Hostile.Tests.ps1): .1 removed, .10 updated (scheduler, weight), .11 real server
    # removed and one added, .12 (SCHED) and .13 added: the refused step comes after removals and updates.
    $desired = @'
-A -t 192.0.2.10:80 -s wrr
-a -t 192.0.2.10:80 -r 198.51.100.1:80 -g -w 5
-A -t 192.0.2.11:80 -s rr
-a -t 192.0.2.11:80 -r 198.51.100.9:80 -m -w 1
-A -t 192.0.2.12:80 -s SCHED
-a -t 192.0.2.12:80 -r 198.51.100.3:80 -g -w 1
-A -t 192.0.2.13:80 -s sh
-a -t 192.0.2.13:80 -r 198.51.100.4:80 -g -w 1
'@
    @{ Tag = 'Kernel'; Name = "Sync-IpvsConfig with scheduler 'nosuch' changes nothing"; Script = "`"$($desired.Replace('SCHED', 'nosuch'))`" | Sync-IpvsConfig"
       ErrorId = 'SchedulerNotFound,*'; Message = 'ip_vs_nosuch' }
    @{ Tag = 'Kernel'; Name = "Import-IpvsConfig -Replace with scheduler 'nosuch' changes nothing"; Script = "`"$($desired.Replace('SCHED', 'nosuch'))`" | Import-IpvsConfig -Replace"
       ErrorId = 'SchedulerNotFound,*' }
    @{ Tag = 'Kernel'; Name = "Import-IpvsConfig with scheduler 'nosuch' changes nothing"; Script = "`"$($desired.Replace('SCHED', 'nosuch'))`" | Import-IpvsConfig"
       ErrorId = 'SchedulerNotFound,*' }
    @{ Tag = 'Kernel'; Name = 'Import-IpvsConfig -Replace of rules that cannot apply whole changes nothing'
       Script = "`"-A -t 192.0.2.20:80 -s rr`n-a -t 192.0.2.21:80 -r 198.51.100.1:80`" | Import-IpvsConfig -Replace"; ErrorId = 'InvalidConfig,*'; Message = 'line 2' }
    # The module index says ip_vs_broken exists (a bind-mounted modules.dep), modprobe cannot load it: the kernel refuses
    # the fifth step of eleven, after removals and updates went through; all of it is undone.
    @{ Tag = 'Kernel'; Name = 'Sync-IpvsConfig whose step the kernel refuses mid-plan leaves the table as it was'
       Setup = $brokenModuleSetup; LabOnly = $true
       Script = "`$r = `"$($desired.Replace('SCHED', 'broken'))`" | Sync-IpvsConfig; if (-not `$r.RolledBack) { throw 'not rolled back' }"
       ErrorId = 'SchedulerNotFound,*'; Message = 'table is as it was'
       Cleanup = $brokenModuleCleanup }
    @{ Tag = 'Kernel'; Name = 'Import-IpvsConfig -Replace whose step the kernel refuses mid-plan leaves the table as it was'
       Setup = $brokenModuleSetup; LabOnly = $true
       Script = "`$r = `"$($desired.Replace('SCHED', 'broken'))`" | Import-IpvsConfig -Replace; if (-not `$r.RolledBack) { throw 'not rolled back' }"
       ErrorId = 'SchedulerNotFound,*'; Message = 'table is as it was'
       Cleanup = $brokenModuleCleanup }
    @{ Tag = 'Kernel'; Name = "New-IpvsService -Address '192.0.2' changes nothing"; Script = "New-IpvsService -Protocol Tcp -Address '192.0.2' -Port 80"
       ErrorId = 'ParameterArgumentTransformationError,*' }
    @{ Tag = 'Kernel'; Name = 'Sync-IpvsConfig -Path /dev/zero changes nothing'; Script = 'Sync-IpvsConfig -Path /dev/zero'; ErrorId = 'InputNotAFile,*' }
    @{ Tag = 'Kernel'; Name = 'Start-IpvsSyncDaemon on a down interface says so'
       Setup = 'ip link add haps-down type dummy; ip addr add 203.0.113.9/24 dev haps-down'; Script = 'Start-IpvsSyncDaemon -State Master -InterfaceName haps-down'
       ErrorId = 'InterfaceDown,*'; Message = 'is down'; Cleanup = 'ip link del haps-down' }
    @{ Tag = 'Kernel'; Name = 'Start-IpvsSyncDaemon -MaxLength 1 changes nothing'; Script = 'Start-IpvsSyncDaemon -State Master -InterfaceName eth0 -MaxLength 1'
       ErrorId = 'InvalidSyncMaxLength,*' }
    # ---- health checks (kernel lab): a checker that could never do what it says is refused at start ----
    @{ Tag = 'Kernel'; Name = 'Start-IpvsHealthCheck -SorryServer of the other family'
       Script = "Start-IpvsHealthCheck -Service 'TCP 192.0.2.10:80' -SorryServer 2001:db8::9"; ErrorId = 'SorryServerFamilyMismatch,*' }
    @{ Tag = 'Kernel'; Name = 'Start-IpvsHealthCheck -SorryServerPort 70000 (not 4464)'
       Script = "Start-IpvsHealthCheck -Service 'TCP 192.0.2.10:80' -SorryServer 198.51.100.99 -SorryServerPort 70000"; ErrorId = 'InvalidPort,*' }
    @{ Tag = 'Kernel'; Name = "Start-IpvsHealthCheck -Name ''"
       Script = "Start-IpvsHealthCheck -Service 'TCP 192.0.2.10:80' -Name ''"; ErrorId = 'InvalidName,*' }
    @{ Tag = 'Kernel'; Name = 'Start-IpvsHealthCheck with both checker priority switches'
       Script = "Start-IpvsHealthCheck -Service 'TCP 192.0.2.10:80' -CheckerPriority 5 -CheckerRealtimePriority 10"; ErrorId = 'InvalidCheckerPriority,*' }
    @{ Tag = 'Kernel'; Name = 'Start-IpvsHealthCheck -NotifyUp /nonexistent'
       Script = "Start-IpvsHealthCheck -Service 'TCP 192.0.2.10:80' -NotifyUp /nonexistent"; ErrorId = 'ScriptNotFound,*'; Message = 'NotifyUp' }
)
