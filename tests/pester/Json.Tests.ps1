# Every object the cmdlets write serialises to clean JSON with plain ConvertTo-Json (docs/architecture.md,
# "Objects and JSON"): addresses and MACs as text, enums as names, durations as seconds, no secrets.
# The types come from the cmdlets' [OutputType] and everything reachable from their public properties,
# so a new output type or property is checked without touching this file.
BeforeDiscovery {
    Import-Module $env:HAPS_MODULE_PATH -Force
    function Get-HaOutputTypes {
        $seen = [System.Collections.Generic.HashSet[type]]::new()
        $queue = [System.Collections.Generic.Queue[type]]::new()
        foreach ($c in (Get-Module HaPowerShell).ExportedCmdlets.Values) {
            foreach ($o in $c.OutputType) { if ($o.Type -and $o.Type.Namespace -like 'HaPowerShell*') { $queue.Enqueue($o.Type) } }
        }
        while ($queue.Count) {
            $t = $queue.Dequeue()
            if (-not $seen.Add($t)) { continue }
            foreach ($p in $t.GetProperties([System.Reflection.BindingFlags]'Public,Instance')) {
                foreach ($inner in @($p.PropertyType; $p.PropertyType.GetGenericArguments(); $p.PropertyType.GetElementType())) {
                    if ($inner -and $inner.Namespace -like "HaPowerShell*" -and -not $inner.IsEnum -and -not $inner.IsArray) { $queue.Enqueue($inner) }
                }
            }
        }
        $seen | Sort-Object FullName
    }
    $script:types = @(Get-HaOutputTypes | ForEach-Object { @{ Name = $_.FullName; Type = $_ } })
}

BeforeAll {
    Import-Module $env:HAPS_MODULE_PATH -Force

    # The JSON types ConvertTo-Json writes as values: text, numbers, booleans, times.
    $script:scalars = [string], [bool], [char], [byte], [sbyte], [int16], [uint16], [int], [uint32], [long], [uint64],
        [double], [single], [decimal], [datetime], [datetimeoffset], [guid], [uri]

    function Test-JsonShapedType([type]$t) {
        # $null: fine; otherwise why the type is not JSON-shaped
        $u = [Nullable]::GetUnderlyingType($t); if ($u) { $t = $u }
        if ($t -in $script:scalars) { return $null }
        if ($t.IsEnum) { return "an enum ($t) is written as a number" }
        if ($t.IsArray) { return Test-JsonShapedType $t.GetElementType() }
        if ($t.IsGenericType) {
            $def = $t.GetGenericTypeDefinition(); $args_ = $t.GetGenericArguments()
            if ($def.Name -like '*Dictionary*') {
                if ($args_[0] -ne [string]) { return "a dictionary keyed by $($args_[0]) cannot be written (ConvertTo-Json needs string keys)" }
                return Test-JsonShapedType $args_[1]
            }
            if ([System.Collections.IEnumerable].IsAssignableFrom($t)) { return Test-JsonShapedType $args_[0] }
            return "$t is written as an object of its internals"
        }
        if ($t -eq [hashtable]) { return $null }
        if ($t.Namespace -like 'HaPowerShell*' -and $t.IsClass) { return $null }   # checked as a type of its own
        return "$t is written as an object of its internals"
    }

    function Assert-CleanJson($object, [int]$MaxChars = 60000) {
        $json = $object | ConvertTo-Json -Depth 4 -WarningAction SilentlyContinue
        $json.Length | Should -BeLessThan $MaxChars -Because "$($object.GetType().Name) must stay a readable size"
        $json | Should -Not -Match '"IsIPv6Multicast"|"ScopeId":\s*null,\s*"IsIPv6' -Because 'addresses are text'
        $json | Should -Not -Match '"Ticks"|"TotalMilliseconds"' -Because 'durations are seconds'
        $json | Should -Not -Match '"AddressFamily":\s*\d' -Because 'enums are names'
        $back = $json | ConvertFrom-Json
        foreach ($p in $object.PSObject.Properties) {
            if ($p.MemberType -ne 'Property') { continue }
            $v = $p.Value
            if ($null -eq $v -or $v -is [string] -or $v -is [bool] -or $v -is [int] -or $v -is [long] -or $v -is [double]) {
                $b = $back.($p.Name)
                if ($v -is [double]) { [double]$b | Should -Be $v -Because "$($p.Name) comes back from JSON" }
                elseif ($null -eq $v) { $b | Should -BeNullOrEmpty -Because "$($p.Name) comes back from JSON" }
                else { "$b" | Should -BeExactly "$v" -Because "$($p.Name) comes back from JSON" }
            }
        }
        $json
    }
}

Describe 'JSON shape of <Name>' -ForEach $script:types {
    It 'has only JSON-shaped public properties (text, numbers, booleans, times, nested objects, lists)' {
        $problems = foreach ($p in $Type.GetProperties([System.Reflection.BindingFlags]'Public,Instance')) {
            if ($p.GetIndexParameters().Count) { continue }
            $why = Test-JsonShapedType $p.PropertyType
            if ($why) { "$($p.Name): $why" }
        }
        $problems | Should -BeNullOrEmpty
    }
}

Describe 'ConvertTo-Json of the objects' {
    It 'writes a virtual IP address with text addresses and names' {
        $vip = [HaPowerShell.Core.Arp.VirtualIPAddress]::new('lo', 1, [ipaddress]'127.0.0.1', 8, 'lo', 254, 0x80, $null)
        $json = Assert-CleanJson $vip
        $back = $json | ConvertFrom-Json
        $back.IPAddress | Should -BeExactly '127.0.0.1'
        $back.AddressFamily | Should -BeExactly 'IPv4'
        $back.Cidr | Should -BeExactly '127.0.0.1/8'
    }

    It 'writes the addresses Get-VirtualIPAddress reads from this host' {
        $all = @(Get-VirtualIPAddress)
        $all.Count | Should -BeGreaterThan 0
        foreach ($a in $all) { $null = Assert-CleanJson $a }
        ($all | ConvertTo-Json | ConvertFrom-Json)[0].IPAddress | Should -BeOfType [string]
    }

    It 'writes neighbour entries, replies, announcements and claims with text addresses, state names and seconds' {
        $mac = [System.Net.NetworkInformation.PhysicalAddress]::Parse('02-00-00-00-00-02')
        $e = [HaPowerShell.Core.Arp.ArpEntry]::new('eth0', 2, [ipaddress]'192.0.2.12', $mac, 'Stale', $false, $false)
        ($e | ConvertTo-Json | ConvertFrom-Json).State | Should -BeExactly 'Stale'
        $null = Assert-CleanJson $e
        $r = [HaPowerShell.Core.Arp.ArpReply]::new('eth0', [ipaddress]'192.0.2.12', $mac, [ipaddress]'192.0.2.1', 1,
            [timespan]::FromMilliseconds(1.5), $true, [datetime]::UtcNow)
        $back = Assert-CleanJson $r | ConvertFrom-Json
        $back.RoundTripTime | Should -Be 0.0015
        $back.SourceAddress | Should -BeExactly '192.0.2.1'
        $g = [HaPowerShell.Core.Arp.GratuitousArpResult]::new('eth0', [ipaddress]'2001:db8::1', $mac, 'NeighborAdvertisement')
        (Assert-CleanJson $g | ConvertFrom-Json).Kind | Should -BeExactly 'NeighborAdvertisement'
        $claim = [HaPowerShell.Core.Arp.ArpClaim]::new($mac, 'Probe', [ipaddress]'0.0.0.0', [datetime]::UtcNow)
        $t = [HaPowerShell.Core.Arp.ArpAddressTestResult]::new('eth0', [ipaddress]'192.0.2.9', 3, [HaPowerShell.Core.Arp.ArpClaim[]]@($claim))
        $back = Assert-CleanJson $t | ConvertFrom-Json
        $back.Claims[0].Kind | Should -BeExactly 'Probe'
        $back.Claims[0].SenderAddress | Should -BeExactly '0.0.0.0'
    }

    It 'writes IPVS services, real servers, connections and daemons that convert back to the same objects' {
        $svc = [HaPowerShell.Core.Ipvs.IpvsService]@{ Protocol = 'Tcp'; Address = '2001:db8::80'; Port = 443; AddressFamily = 'InterNetworkV6'; Scheduler = 'wrr' }
        $rs = [HaPowerShell.Core.Ipvs.IpvsRealServer]@{ Service = $svc; Address = '2001:db8::10'; Port = 8443; ForwardingMethod = 'Tunnel'; TunnelType = 'Gue'; TunnelPort = 6080; Weight = 3 }
        $json = Assert-CleanJson $rs
        $back = $json | ConvertFrom-Json
        $back.Service.Address | Should -BeExactly '2001:db8::80'
        $back.ForwardingMethod | Should -BeExactly 'Tunnel'
        $back.TunnelType | Should -BeExactly 'Gue'
        # ConvertFrom-Json's objects cast back to the types (the faces' setters parse the text)
        $again = [HaPowerShell.Core.Ipvs.IpvsRealServer]@{ Address = $back.Address; Port = $back.Port; ForwardingMethod = $back.ForwardingMethod; TunnelType = $back.TunnelType; TunnelPort = $back.TunnelPort; Weight = $back.Weight }
        $again.Endpoint | Should -BeExactly '[2001:db8::10]:8443'
        { [HaPowerShell.Core.Ipvs.IpvsRealServer]@{ Address = '192.0.2.300' } } | Should -Throw '*192.0.2.300*'
        { [HaPowerShell.Core.Ipvs.IpvsRealServer]@{ ForwardingMethod = 'Teleport' } } | Should -Throw '*DirectRouting*'

        $c = [HaPowerShell.Core.Ipvs.IpvsConnection]@{ Protocol = 'TCP'; SourceAddress = '203.0.113.5'; SourcePort = 40000; VirtualAddress = '192.0.2.1'; VirtualPort = 80; DestinationAddress = '198.51.100.10'; DestinationPort = 80; State = 'ESTABLISHED'; Expires = 899.5 }
        (Assert-CleanJson $c | ConvertFrom-Json).Expires | Should -Be 899.5
        $d = [HaPowerShell.Core.Ipvs.IpvsSyncDaemon]@{ State = 'Backup'; InterfaceName = 'eth0'; SyncId = 7; Group = '239.0.0.81' }
        $back = Assert-CleanJson $d | ConvertFrom-Json
        $back.State | Should -BeExactly 'Backup'
        $back.Group | Should -BeExactly '239.0.0.81'
        $info = [HaPowerShell.Core.Ipvs.IpvsInfo]::new(0x010201, 4096)
        (Assert-CleanJson $info | ConvertFrom-Json).Version | Should -BeExactly '1.2.1'
        $null = Assert-CleanJson ([HaPowerShell.Core.Ipvs.IpvsTimeout]@{ Tcp = 900; TcpFin = 120; Udp = 300 })
    }

    It 'IPVS objects'' JSON goes back in: the readers of Import-/Sync-IpvsConfig take what ConvertTo-Json wrote' {
        $svc = [HaPowerShell.Core.Ipvs.IpvsService]@{ Protocol = 'Tcp'; Address = '192.0.2.30'; Port = 80; Scheduler = 'wrr'; PersistenceTimeout = 300; PersistenceNetmask = '255.255.255.0' }
        $svc.RealServers = [System.Collections.Generic.List[HaPowerShell.Core.Ipvs.IpvsRealServer]]::new()
        $svc.RealServers.Add([HaPowerShell.Core.Ipvs.IpvsRealServer]@{ Service = $svc; Address = '198.51.100.11'; Port = 80; Weight = 3 })
        $svc.RealServers.Add([HaPowerShell.Core.Ipvs.IpvsRealServer]@{ Service = $svc; Address = '203.0.113.5'; ForwardingMethod = 'Tunnel'; TunnelType = 'Gre' })
        $fwm = [HaPowerShell.Core.Ipvs.IpvsService]@{ FirewallMark = 5; AddressFamily = 'InterNetworkV6'; Scheduler = 'sh'; SchedulerFlag = @('sh-port') }
        $json = @($svc, $fwm) | ConvertTo-Json -Depth 4 -WarningAction SilentlyContinue
        $back = [HaPowerShell.Core.Ipvs.IpvsJson]::Deserialize($json).Item1
        $rules = [HaPowerShell.Core.Ipvs.IpvsRules]::Format([HaPowerShell.Core.Ipvs.IpvsService[]]@($svc, $fwm))
        [HaPowerShell.Core.Ipvs.IpvsRules]::Format($back) | Should -BeExactly $rules
        $back[1].RealServers | Should -BeNullOrEmpty -Because 'a service object without real servers states none (Sync keeps the current ones)'
        # one object alone is one service
        $one = [HaPowerShell.Core.Ipvs.IpvsJson]::Deserialize(($fwm | ConvertTo-Json)).Item1
        "$($one[0])" | Should -BeExactly "$fwm"
    }

    It 'writes check results with text addresses, check types by name and durations in seconds' {
        $tcp = Invoke-TcpCheck -Address 127.0.0.1 -Port 9 -ConnectTimeout 1
        $back = Assert-CleanJson $tcp | ConvertFrom-Json
        $back.CheckType | Should -BeExactly 'Tcp'
        $back.Address | Should -BeExactly '127.0.0.1'
        $back.Duration | Should -BeOfType [double]
        $misc = Invoke-MiscCheck -Path /bin/true
        (Assert-CleanJson $misc | ConvertFrom-Json).CheckType | Should -BeExactly 'Misc'
        $http = Invoke-HttpCheck -Address 127.0.0.1 -Port 9 -ConnectTimeout 1
        (Assert-CleanJson $http | ConvertFrom-Json).CheckType | Should -BeExactly 'Http'
    }

    It 'writes ARP suppression settings and keepalived configuration objects' {
        foreach ($s in Get-ArpSuppression) { $null = Assert-CleanJson $s }
        $text = @'
vrrp_instance VI_1 {
    state BACKUP
    interface eth0
    virtual_router_id 51
    priority 100
    authentication {
        auth_type PASS
        auth_pass secret1
    }
    virtual_ipaddress {
        192.0.2.10/24
    }
}
virtual_server 192.0.2.10 80 {
    lb_algo rr
    lb_kind DR
    protocol TCP
    real_server 198.51.100.10 80 {
        weight 1
        TCP_CHECK {
            connect_timeout 3
        }
    }
}
'@
        $path = Join-Path ([System.IO.Path]::GetTempPath()) "haps-json-$PID.conf"
        try {
            Set-Content -LiteralPath $path -Value $text
            $config = ConvertFrom-KeepalivedConfig -Path $path
            $json = Assert-CleanJson $config -MaxChars 200000
            $json | Should -Not -Match 'secret1' -Because 'secrets are never written'
            foreach ($section in 'VirtualServer', 'RealServer', 'VrrpInstance', 'IpvsService') {
                foreach ($o in ConvertFrom-KeepalivedConfig -Path $path -Section $section) {
                    $j = Assert-CleanJson $o -MaxChars 200000
                    $j | Should -Not -Match 'secret1'
                }
            }
            foreach ($f in Test-KeepalivedConfig -Path $path -Detailed) { $null = Assert-CleanJson $f }
        }
        finally { Remove-Item -LiteralPath $path -ErrorAction SilentlyContinue }
    }
}
