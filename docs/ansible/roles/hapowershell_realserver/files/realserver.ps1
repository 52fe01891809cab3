# Runs on an LVS-DR real server: the VIPs on lo as /32 (Add-VirtualIPAddress lo:N) and the ARP
# suppression that keeps it from answering ARP for them (Set-ArpSuppression -Persist). Input in
# $env:HAPS_SPEC (JSON), check mode in $env:HAPS_CHECK_MODE. Prints one line "HAPS-RESULT {json}":
# changed is true when something changed or, in check mode, would.
$ErrorActionPreference = 'Stop'
Import-Module $env:HAPS_MODULE
$spec = $env:HAPS_SPEC | ConvertFrom-Json
$whatIf = $env:HAPS_CHECK_MODE -eq 'True'
$changes = [System.Collections.Generic.List[string]]::new()
$n = 0
foreach ($v in @($spec.vips)) {
    $r = Add-VirtualIPAddress -InterfaceName "lo:$n" -IPAddress "$($v.address)/32" -PassThru -WhatIf:$whatIf
    if (@($r | Where-Object Changed).Count) { $changes.Add("VIP $($v.address)/32 on lo:$n") }
    $n++
}
$arp = Set-ArpSuppression -Persist -PersistPath $spec.persist_path -PassThru -WhatIf:$whatIf
foreach ($a in @($arp | Where-Object Changed)) { $changes.Add("arp_ignore/arp_announce on $($a.InterfaceName)") }
'HAPS-RESULT ' + (@{ changed = $changes.Count -gt 0; changes = @($changes) } | ConvertTo-Json -Compress)
