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
        # ARP and addresses
    )
    TypesToProcess       = @('HaPowerShell.Types.ps1xml')
    CmdletsToExport      = @(
        # IPVS
        'Get-IpvsInfo'
        # ARP and addresses
    )
    FunctionsToExport    = @()
    AliasesToExport      = @()
    VariablesToExport    = @()
    PrivateData          = @{
        PSData = @{
            Tags         = @('Linux', 'IPVS', 'LVS', 'keepalived', 'VRRP', 'ARP', 'HighAvailability', 'netlink')
            ReleaseNotes = 'Foundation: netlink core, Get-IpvsInfo, kernel lab.'
        }
    }
}
