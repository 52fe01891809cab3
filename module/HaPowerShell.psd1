@{
    RootModule           = 'HaPowerShell.dll'
    ModuleVersion        = '0.1.0'
    GUID                 = '6c1b8e0a-3f7d-4d55-9a0e-2b7f6f3c9d41'
    Author               = 'HaPowerShell contributors'
    CompanyName          = 'HaPowerShell'
    Copyright            = '(c) HaPowerShell contributors. MIT License.'
    Description          = 'Linux high availability from PowerShell: IPVS load balancing, ARP and virtual IPs, VRRP failover and health checks, talking netlink to the kernel directly.'
    PowerShellVersion    = '7.4'
    CompatiblePSEditions = @('Core')
    FormatsToProcess     = @(
        'HaPowerShell.Format.ps1xml'
        # IPVS
        'HaPowerShell.Ipvs.Format.ps1xml'
        # ARP and addresses
        'HaPowerShell.Arp.Format.ps1xml'
        # Health checks
        'HaPowerShell.Health.Format.ps1xml'
        # VRRP
        'HaPowerShell.Vrrp.Format.ps1xml'
        # keepalived configs
        'HaPowerShell.Keepalived.Format.ps1xml'
    )
    TypesToProcess       = @('HaPowerShell.Types.ps1xml')
    CmdletsToExport      = @(
        # IPVS
        'Get-IpvsInfo', 'Test-IpvsAvailable', 'Get-IpvsService', 'New-IpvsService', 'Set-IpvsService', 'Remove-IpvsService', 'Clear-IpvsService',
        'Get-IpvsRealServer', 'Add-IpvsRealServer', 'Set-IpvsRealServer', 'Remove-IpvsRealServer',
        'Get-IpvsTimeout', 'Set-IpvsTimeout', 'Get-IpvsConnection', 'Reset-IpvsStatistic',
        'Get-IpvsSyncDaemon', 'Start-IpvsSyncDaemon', 'Stop-IpvsSyncDaemon',
        'Export-IpvsConfig', 'Import-IpvsConfig', 'Sync-IpvsConfig'
        # ARP and addresses
        'Get-ArpEntry'
        'Send-GratuitousArp'
        'Send-ArpRequest'
        'Test-ArpAddress'
        'Get-ArpSuppression'
        'Set-ArpSuppression'
        'Get-VirtualIPAddress'
        'Add-VirtualIPAddress'
        'Remove-VirtualIPAddress'
        # Health checks
        'Invoke-MiscCheck', 'Invoke-TcpCheck', 'Invoke-HttpCheck',
        'Start-IpvsHealthCheck', 'Get-IpvsHealthCheck', 'Stop-IpvsHealthCheck'
        # VRRP
        'Start-VrrpInstance', 'Get-VrrpInstance', 'Set-VrrpInstance', 'Stop-VrrpInstance', 'Wait-VrrpInstance'
        # keepalived configs
        'Test-KeepalivedConfig', 'ConvertFrom-KeepalivedConfig', 'ConvertTo-KeepalivedConfig'
        # hapd
        'Get-HapdStatus', 'Invoke-HapdReload', 'Set-HapdPriority', 'Suspend-HapdRealServer', 'Resume-HapdRealServer',
        'Register-HapdEvent', 'Unregister-HapdEvent'
    )
    FunctionsToExport    = @()
    AliasesToExport      = @()
    VariablesToExport    = @()
    PrivateData          = @{
        PSData = @{
            Tags         = @('Linux', 'IPVS', 'LVS', 'ipvsadm', 'keepalived', 'VRRP', 'ARP', 'arping', 'HighAvailability',
                             'LoadBalancer', 'Failover', 'HealthCheck', 'netlink', 'PSEdition_Core')
            ProjectUri   = 'https://github.com/HaPowerShell/HaPowerShell'
            LicenseUri   = 'https://github.com/HaPowerShell/HaPowerShell/blob/main/LICENSE'
            ReleaseNotes = @'
0.1.0
- IPVS: services, real servers, timeouts, connections, statistics, sync daemon over generic netlink;
  Export-/Import-/Sync-IpvsConfig with ipvsadm -S/-R formats (byte-identical save/restore).
- ARP and addresses: gratuitous ARP / unsolicited NA, ARP requests and duplicate detection, the
  neighbour table, arp_ignore/arp_announce (with a sysctl.d drop-in), virtual IP addresses with labels.
- VRRP v2/v3 (IPv4, IPv6), interoperating with keepalived: sync groups, unicast peers, accept mode
  and no_accept, tracking, notify scripts, real-time engine scheduling.
- Health checks: TCP, HTTP/HTTPS and misc checks, one-off or as checker loops that keep IPVS real
  servers in step with their health (quorum, sorry server, several checks per real server).
'@
        }
    }
}
