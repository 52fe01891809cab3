# Runs on the director: the VIPs on their interfaces (Add-VirtualIPAddress) and the IPVS table
# (Sync-IpvsConfig). Input in $env:HAPS_SPEC (JSON), check mode in $env:HAPS_CHECK_MODE. Prints one
# line "HAPS-RESULT {json}": changed is true when something changed or, in check mode, would.
$ErrorActionPreference = 'Stop'
Import-Module $env:HAPS_MODULE
$spec = $env:HAPS_SPEC | ConvertFrom-Json
$whatIf = $env:HAPS_CHECK_MODE -eq 'True'
$changes = [System.Collections.Generic.List[string]]::new()
foreach ($v in @($spec.vips)) {
    $r = Add-VirtualIPAddress -InterfaceName $v.interface -IPAddress "$($v.address)/$($v.prefix_length)" -PassThru -WhatIf:$whatIf
    if (@($r | Where-Object Changed).Count) { $changes.Add("VIP $($v.address)/$($v.prefix_length) on $($v.interface)") }
}
$sync = Sync-IpvsConfig -Text ($spec.ipvs | ConvertTo-Json -Depth 10) -Format Json -WhatIf:$whatIf
if ($sync.Changed) { $changes.Add("IPVS: $($sync.Added) added, $($sync.Updated) updated, $($sync.Removed) removed") }
'HAPS-RESULT ' + (@{ changed = $changes.Count -gt 0; changes = @($changes) } | ConvertTo-Json -Compress)
