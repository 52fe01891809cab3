# The IPVS configuration JSON (Export-IpvsConfig -Format Json; Import-/Sync-IpvsConfig read it) against its
# published schema, docs/schema/ipvs-config.schema.json: what the module writes validates, what the schema refuses
# the reader refuses too, and a document survives write -> read -> write unchanged. Pure: no kernel needed
# (the cmdlets' own JSON round trip against the kernel is in Ipvs.Tests.ps1).
BeforeAll {
    Import-Module $env:HAPS_MODULE_PATH -Force
    $script:Schema = Join-Path $env:HAPS_REPO_ROOT 'docs/schema/ipvs-config.schema.json'
    $script:Json = [HaPowerShell.Core.Ipvs.IpvsJson]
    function New-Table {
        $web = [HaPowerShell.Core.Ipvs.IpvsService]@{ Protocol = 'Tcp'; Address = [ipaddress]'192.0.2.30'; Port = 80; Scheduler = 'wrr'
            PersistenceTimeout = 300; PersistenceNetmask = '255.255.255.0' }
        $web.RealServers = [System.Collections.Generic.List[HaPowerShell.Core.Ipvs.IpvsRealServer]]::new()
        $web.RealServers.Add([HaPowerShell.Core.Ipvs.IpvsRealServer]@{ Address = [ipaddress]'198.51.100.11'; Port = 80; Weight = 3 })
        $web.RealServers.Add([HaPowerShell.Core.Ipvs.IpvsRealServer]@{ Address = [ipaddress]'198.51.100.12'; Port = 8080; ForwardingMethod = 'Masquerade'; UpperThreshold = 100 })
        $tun = [HaPowerShell.Core.Ipvs.IpvsRealServer]@{ Address = [ipaddress]'203.0.113.5'; Port = 80; ForwardingMethod = 'Tunnel'; TunnelType = 'Gue'; TunnelPort = 6080; TunnelChecksum = 'Checksum' }
        $web.RealServers.Add($tun)
        $v6 = [HaPowerShell.Core.Ipvs.IpvsService]@{ Protocol = 'Udp'; Address = [ipaddress]'2001:db8::30'; Port = 53; AddressFamily = 'InterNetworkV6'; Scheduler = 'mh'; SchedulerFlag = @('mh-port') }
        $fwm = [HaPowerShell.Core.Ipvs.IpvsService]@{ FirewallMark = 5; Scheduler = 'rr'; PersistenceTimeout = 60 }
        @($web, $v6, $fwm)
    }
}

Describe 'IPVS configuration JSON and its schema' {
    It 'the schema is valid JSON with the documented $id' {
        $s = Get-Content -Raw $Schema | ConvertFrom-Json
        $s.'$id' | Should -Match '^https://.+/docs/schema/ipvs-config\.schema\.json$'
    }

    It 'what the module writes validates against the schema (services, real servers, timeouts)' {
        $text = $Json::Serialize([HaPowerShell.Core.Ipvs.IpvsService[]](New-Table), [HaPowerShell.Core.Ipvs.IpvsTimeout]@{ Tcp = 900; TcpFin = 120; Udp = 300 })
        Test-Json -Json $text -SchemaFile $Schema -ErrorAction Stop | Should -BeTrue
        $doc = $text | ConvertFrom-Json
        $doc.services[0].address | Should -Be '192.0.2.30'
        $doc.services[0].realServers[1].forwardingMethod | Should -Be 'Masquerade'
        $doc.services[2].protocol | Should -BeNullOrEmpty
        $doc.timeout.tcp | Should -Be 900
    }

    It 'survives write -> read -> write unchanged' {
        $first = $Json::Serialize([HaPowerShell.Core.Ipvs.IpvsService[]](New-Table), $null)
        $back = $Json::Deserialize($first)
        $Json::Serialize($back.Item1, $back.Item2) | Should -Be $first
    }

    It 'a typo, a bad enum word or an address that is not one is refused by the schema and by the reader' -ForEach @(
        @{ Why = 'an unknown property'; Doc = '{ "services": [ { "protocol": "tcp", "address": "192.0.2.1", "port": 80, "shceduler": "rr" } ] }' }
        @{ Why = 'an unknown forwarding method'; Doc = '{ "services": [ { "protocol": "tcp", "address": "192.0.2.1", "port": 80, "realServers": [ { "address": "192.0.2.2", "forwardingMethod": "Route" } ] } ] }' }
        @{ Why = 'a port out of range'; Doc = '{ "services": [ { "protocol": "tcp", "address": "192.0.2.1", "port": 70000 } ] }' }
        @{ Why = 'a weight out of range'; Doc = '{ "services": [ { "protocol": "tcp", "address": "192.0.2.1", "port": 80, "realServers": [ { "address": "192.0.2.2", "weight": 70000 } ] } ] }' }
    ) {
        Test-Json -Json $Doc -SchemaFile $Schema -ErrorAction SilentlyContinue | Should -BeFalse -Because $Why
        { $Json::Deserialize($Doc) } | Should -Throw -Because $Why
    }
}
