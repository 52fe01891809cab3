# IPVS cmdlets against a real kernel (the lab VM), with ipvsadm as the independent reader and
# writer. Every test starts from an empty table.
BeforeAll {
    Import-Module $env:HAPS_MODULE_PATH -Force
    function Get-Rules { (& ipvsadm -S -n) -join "`n" }
    function Invoke-Ipvsadm { & ipvsadm @args; if ($LASTEXITCODE) { throw "ipvsadm $args failed ($LASTEXITCODE)" } }
}

Describe 'IPVS services and real servers' -Tag 'Kernel', 'Root' {
    BeforeEach { & ipvsadm -C }
    AfterAll { & ipvsadm -C }

    Context 'what our cmdlets write, ipvsadm reads' {
        It 'creates the seed director: -A -t VIP:3306 -s rr -p 20, two DR real servers' {
            New-IpvsService -Protocol Tcp -Address 192.0.2.30 -Port 3306 -Scheduler rr -PersistenceTimeout 20
            Get-IpvsService -Port 3306 | Add-IpvsRealServer -Address 192.0.2.10 -Weight 1 -ForwardingMethod DirectRouting
            Get-IpvsService -Port 3306 | Add-IpvsRealServer -Address 192.0.2.11 -Weight 1
            Get-Rules | Should -Be (@(
                    '-A -t 192.0.2.30:3306 -s rr -p 20'
                    '-a -t 192.0.2.30:3306 -r 192.0.2.10:3306 -g -w 1'
                    '-a -t 192.0.2.30:3306 -r 192.0.2.11:3306 -g -w 1') -join "`n")
        }

        It 'writes <Rule>' -ForEach @(
            @{ Rule = '-A -u 192.0.2.1:53 -s wrr'; Params = @{ Protocol = 'Udp'; Address = '192.0.2.1'; Port = 53; Scheduler = 'wrr' } }
            @{ Rule = '-A --sctp-service 192.0.2.1:2905 -s lc'; Params = @{ Protocol = 'Sctp'; Address = '192.0.2.1'; Port = 2905; Scheduler = 'lc' } }
            @{ Rule = '-A -f 7 -s wlc'; Params = @{ FirewallMark = 7 } }
            @{ Rule = '-A -f 8 -6 -s sed'; Params = @{ FirewallMark = 8; AddressFamily = 'InterNetworkV6'; Scheduler = 'sed' } }
            @{ Rule = '-A -t [2001:db8::1]:443 -s nq'; Params = @{ Protocol = 'Tcp'; Address = '2001:db8::1'; Port = 443; Scheduler = 'nq' } }
            @{ Rule = '-A -t 192.0.2.2:80 -s wlc -p 300 -M 255.255.255.0'; Params = @{ Protocol = 'Tcp'; Address = '192.0.2.2'; Port = 80; PersistenceTimeout = 300; PersistenceNetmask = '255.255.255.0' } }
            @{ Rule = '-A -t [2001:db8::2]:80 -s wlc -p 60 -M 64'; Params = @{ Protocol = 'Tcp'; Address = '2001:db8::2'; Port = 80; PersistenceTimeout = 60; PersistenceNetmask = '64' } }
            @{ Rule = '-A -t 192.0.2.3:0 -s wlc -p 30'; Params = @{ Protocol = 'Tcp'; Address = '192.0.2.3'; Port = 0; PersistenceTimeout = 30 } }
            @{ Rule = '-A -u 192.0.2.4:5060 -s wlc -p 300 --pe sip'; Params = @{ Protocol = 'Udp'; Address = '192.0.2.4'; Port = 5060; PersistenceTimeout = 300; PersistenceEngine = 'sip' } }
            @{ Rule = '-A -u 192.0.2.5:53 -s rr -o'; Params = @{ Protocol = 'Udp'; Address = '192.0.2.5'; Port = 53; Scheduler = 'rr'; OnePacket = $true } }
            @{ Rule = '-A -t 192.0.2.6:80 -s sh -b sh-fallback,sh-port'; Params = @{ Protocol = 'Tcp'; Address = '192.0.2.6'; Port = 80; Scheduler = 'sh'; SchedulerFlag = 'sh-fallback', 'sh-port' } }
            @{ Rule = '-A -t 192.0.2.7:80 -s mh -b mh-port'; Params = @{ Protocol = 'Tcp'; Address = '192.0.2.7'; Port = 80; Scheduler = 'mh'; SchedulerFlag = 'mh-port' } }
        ) {
            New-IpvsService @Params
            Get-Rules | Should -Be $Rule
        }

        It 'supports every mainline scheduler: <_>' -ForEach @('rr', 'wrr', 'lc', 'wlc', 'lblc', 'lblcr', 'dh', 'sh', 'sed', 'nq', 'fo', 'ovf', 'mh') {
            New-IpvsService -Protocol Tcp -Address 198.51.100.1 -Port 80 -Scheduler $_
            Get-Rules | Should -Be "-A -t 198.51.100.1:80 -s $_"
        }

        It 'writes real servers: masquerade, tunnels, weights, thresholds' {
            $s = New-IpvsService -Protocol Tcp -Address 192.0.2.1 -Port 80 -PassThru
            $s | Add-IpvsRealServer -Address 192.0.2.10 -Port 8080 -ForwardingMethod Masquerade -Weight 3 -UpperThreshold 100 -LowerThreshold 10
            $s | Add-IpvsRealServer -Address 192.0.2.11 -ForwardingMethod Tunnel -Weight 0
            $s | Add-IpvsRealServer -Address 192.0.2.12 -ForwardingMethod Tunnel -TunnelType Gue -TunnelPort 6080 -TunnelChecksum Checksum
            $s | Add-IpvsRealServer -Address 192.0.2.13 -ForwardingMethod Tunnel -TunnelType Gre -TunnelChecksum Checksum
            $s | Add-IpvsRealServer -Address 2001:db8::14 -ForwardingMethod Tunnel -Weight 65535
            $s | Add-IpvsRealServer -Address 192.0.2.15 -ForwardingMethod Tunnel -TunnelType Gue -TunnelPort 6081 -TunnelChecksum RemoteChecksum
            Get-Rules | Should -Be (@(
                    '-A -t 192.0.2.1:80 -s wlc'
                    '-a -t 192.0.2.1:80 -r 192.0.2.10:8080 -m -w 3'
                    '-a -t 192.0.2.1:80 -r 192.0.2.11:80 -i -w 0 --tun-type ipip'
                    '-a -t 192.0.2.1:80 -r 192.0.2.12:80 -i -w 1 --tun-type gue --tun-port 6080 --tun-csum'
                    '-a -t 192.0.2.1:80 -r 192.0.2.13:80 -i -w 1 --tun-type gre --tun-csum'
                    '-a -t 192.0.2.1:80 -r 192.0.2.15:80 -i -w 1 --tun-type gue --tun-port 6081 --tun-remcsum'
                    '-a -t 192.0.2.1:80 -r [2001:db8::14]:80 -i -w 65535 --tun-type ipip') -join "`n")
            $t = (& ipvsadm -L -n --thresholds) -join "`n"
            $t | Should -Match '192\.0\.2\.10:8080\s+100\s+10\s+0\s+0'
        }

        It 'edits with Set-IpvsService and Set-IpvsRealServer, deletes with Remove-*' {
            $s = New-IpvsService -Protocol Tcp -Address 192.0.2.1 -Port 80 -PassThru
            $s | Add-IpvsRealServer -Address 192.0.2.10
            $s | Add-IpvsRealServer -Address 192.0.2.11
            $s | Set-IpvsService -Scheduler rr -PersistenceTimeout 120
            Get-IpvsService | Get-IpvsRealServer | Set-IpvsRealServer -Weight 0
            Get-Rules | Should -Be (@(
                    '-A -t 192.0.2.1:80 -s rr -p 120'
                    '-a -t 192.0.2.1:80 -r 192.0.2.10:80 -g -w 0'
                    '-a -t 192.0.2.1:80 -r 192.0.2.11:80 -g -w 0') -join "`n")
            Get-IpvsRealServer -Service 'TCP 192.0.2.1:80' -Address 192.0.2.10 | Remove-IpvsRealServer -Confirm:$false
            Get-Rules | Should -Be "-A -t 192.0.2.1:80 -s rr -p 120`n-a -t 192.0.2.1:80 -r 192.0.2.11:80 -g -w 0"
            Remove-IpvsService -Service 'tcp/192.0.2.1:80' -Confirm:$false
            Get-Rules | Should -BeNullOrEmpty
        }

        It 'Clear-IpvsService empties the table' {
            1..3 | ForEach-Object { New-IpvsService -Protocol Udp -Address "192.0.2.$_" -Port 53 }
            Clear-IpvsService -Confirm:$false
            Get-Rules | Should -BeNullOrEmpty
        }
    }

    Context 'what ipvsadm writes, our cmdlets read' {
        It 'reads every field of a service and its real servers' {
            Invoke-Ipvsadm -A -t 192.0.2.30:3306 -s sh -b sh-port -p 20 -M 255.255.0.0
            Invoke-Ipvsadm -a -t 192.0.2.30:3306 -r 192.0.2.10:3306 -g -w 5 -x 50 -y 5
            Invoke-Ipvsadm -a -t 192.0.2.30:3306 -r 192.0.2.11:3306 -i -w 2 --tun-type gue --tun-port 5555 --tun-nocsum
            $s = Get-IpvsService
            $s.Protocol | Should -Be 'Tcp'
            $s.Address | Should -Be ([ipaddress]'192.0.2.30')
            $s.Port | Should -Be 3306
            $s.Scheduler | Should -Be 'sh'
            $s.SchedulerFlag | Should -Be @('sh-port')
            $s.PersistenceTimeout | Should -Be 20
            $s.PersistenceNetmask | Should -Be '255.255.0.0'
            $s.AddressFamily | Should -Be 'InterNetwork'
            $r = $s | Get-IpvsRealServer
            $r.Count | Should -Be 2
            $r[0].Address | Should -Be ([ipaddress]'192.0.2.10')
            $r[0].ForwardingMethod | Should -Be 'DirectRouting'
            $r[0].Weight | Should -Be 5
            $r[0].UpperThreshold | Should -Be 50
            $r[0].LowerThreshold | Should -Be 5
            $r[0].Service.Port | Should -Be 3306
            $r[1].ForwardingMethod | Should -Be 'Tunnel'
            $r[1].TunnelType | Should -Be 'Gue'
            $r[1].TunnelPort | Should -Be 5555
            $r[1].TunnelChecksum | Should -Be 'NoChecksum'
        }

        It 'reads IPv6, firewall-mark, one-packet and pe services' {
            Invoke-Ipvsadm -A -f 42 -6 -s rr
            Invoke-Ipvsadm -A -u [2001:db8::53]:53 -s wrr -o
            Invoke-Ipvsadm -A -u 192.0.2.9:5060 -p 100 --pe sip
            $all = Get-IpvsService
            $fw = $all | Where-Object FirewallMark -eq 42
            $fw.AddressFamily | Should -Be 'InterNetworkV6'
            $fw.Protocol | Should -BeNullOrEmpty
            $v6 = Get-IpvsService -Port 53
            $v6.Address | Should -Be ([ipaddress]'2001:db8::53')
            $v6.OnePacket | Should -BeTrue
            (Get-IpvsService -Port 5060).PersistenceEngine | Should -Be 'sip'
            (Get-IpvsService -FirewallMark 42).FirewallMark | Should -Be 42
        }

        It 'formats Get-IpvsService | Get-IpvsRealServer like ipvsadm -Ln' {
            Invoke-Ipvsadm -A -t 192.0.2.1:80 -s rr
            Invoke-Ipvsadm -a -t 192.0.2.1:80 -r 192.0.2.10:80 -m -w 2
            $text = Get-IpvsService | Get-IpvsRealServer | Out-String
            $text | Should -Match 'Service: TCP  192\.0\.2\.1:80 rr'
            $text | Should -Match '->\s+RemoteAddress:Port\s+Forward\s+Weight\s+ActiveConn\s+InActConn'
            $text | Should -Match '-> 192\.0\.2\.10:80\s+Masq\s+2\s+0\s+0'
        }
    }

    Context 'errors: clear, and nothing changes' {
        It 'refuses a duplicate service with ServiceExists' {
            New-IpvsService -Protocol Tcp -Address 192.0.2.1 -Port 80
            { New-IpvsService -Protocol Tcp -Address 192.0.2.1 -Port 80 -ErrorAction Stop } | Should -Throw -ErrorId 'ServiceExists,*'
            { New-IpvsService -Protocol Tcp -Address 192.0.2.1 -Port 80 -ErrorAction Stop } | Should -Throw -ExpectedMessage '*already exists*Set-IpvsService*'
        }

        It 'refuses a duplicate real server with RealServerExists' {
            $s = New-IpvsService -Protocol Tcp -Address 192.0.2.1 -Port 80 -PassThru
            $s | Add-IpvsRealServer -Address 192.0.2.10
            { $s | Add-IpvsRealServer -Address 192.0.2.10 -ErrorAction Stop } | Should -Throw -ErrorId 'RealServerExists,*'
        }

        It 'says ServiceNotFound for a missing service' {
            { Add-IpvsRealServer -Service 'TCP 192.0.2.99:80' -Address 192.0.2.10 -ErrorAction Stop } | Should -Throw -ErrorId 'ServiceNotFound,*'
            { Remove-IpvsService -Service 'TCP 192.0.2.99:80' -Confirm:$false -ErrorAction Stop } | Should -Throw -ErrorId 'ServiceNotFound,*'
        }

        It 'says SchedulerNotFound for a scheduler the kernel lacks' {
            { New-IpvsService -Protocol Tcp -Address 192.0.2.1 -Port 80 -Scheduler nosuch -ErrorAction Stop } | Should -Throw -ErrorId 'SchedulerNotFound,*'
            Get-Rules | Should -BeNullOrEmpty
        }

        It 'rejects <Case> before sending anything' -ForEach @(
            @{ Case = 'port 0 without persistence'; Run = { New-IpvsService -Protocol Tcp -Address 192.0.2.1 -Port 0 -ErrorAction Stop } }
            @{ Case = 'sh-port with rr'; Run = { New-IpvsService -Protocol Tcp -Address 192.0.2.1 -Port 80 -Scheduler rr -SchedulerFlag sh-port -ErrorAction Stop } }
            @{ Case = 'tunnel options without Tunnel'; Run = { Add-IpvsRealServer -Service 'TCP 192.0.2.50:80' -Address 192.0.2.10 -TunnelType Gue -ErrorAction Stop } }
            @{ Case = 'an IPv6 real server on an IPv4 service outside tunnel mode'; Run = { Add-IpvsRealServer -Service 'TCP 192.0.2.50:80' -Address 2001:db8::10 -ForwardingMethod Masquerade -ErrorAction Stop } }
            @{ Case = 'FULLNAT'; Run = { Add-IpvsRealServer -Service 'TCP 192.0.2.50:80' -Address 192.0.2.10 -ForwardingMethod FullNat -ErrorAction Stop } }
        ) {
            New-IpvsService -Protocol Tcp -Address 192.0.2.50 -Port 80
            $before = Get-Rules
            $err = $null
            try { & $Run } catch { $err = $_ }
            $err | Should -Not -BeNullOrEmpty
            $err.CategoryInfo.Category | Should -BeIn 'InvalidArgument', 'NotImplemented'
            $err.Exception.Message | Should -Not -BeNullOrEmpty
            Get-Rules | Should -Be $before
        }

        It 'explains FULLNAT and which kernels have it' {
            New-IpvsService -Protocol Tcp -Address 192.0.2.50 -Port 80
            { Add-IpvsRealServer -Service 'TCP 192.0.2.50:80' -Address 192.0.2.10 -ForwardingMethod FullNat -ErrorAction Stop } |
                Should -Throw -ExpectedMessage '*not part of mainline*2.6.32*'
        }
    }
}

Describe 'IPVS -PassThru results say whether they Changed anything' -Tag 'Kernel', 'Root' {
    BeforeEach { & ipvsadm -C }
    AfterAll { & ipvsadm -C; & ipvsadm --set 900 120 300 }

    It 'New-/Set-IpvsService: true when made or changed, false when already so, true under -WhatIf (which changes nothing)' {
        (New-IpvsService -Protocol Tcp -Address 192.0.2.60 -Port 80 -WhatIf -PassThru).Changed | Should -BeTrue
        Get-Rules | Should -BeNullOrEmpty
        (New-IpvsService -Protocol Tcp -Address 192.0.2.60 -Port 80 -Scheduler rr -PassThru).Changed | Should -BeTrue
        (Set-IpvsService 'TCP 192.0.2.60:80' -Scheduler rr -PassThru).Changed | Should -BeFalse
        $before = Get-Rules
        (Set-IpvsService 'TCP 192.0.2.60:80' -Scheduler wlc -WhatIf -PassThru).Changed | Should -BeTrue
        Get-Rules | Should -Be $before
        (Set-IpvsService 'TCP 192.0.2.60:80' -Scheduler wlc -PassThru).Changed | Should -BeTrue
        Get-Rules | Should -Match '-s wlc'
    }

    It 'Add-/Set-IpvsRealServer: true when added or changed, false when already so, true under -WhatIf' {
        New-IpvsService -Protocol Tcp -Address 192.0.2.60 -Port 80
        (Add-IpvsRealServer 'TCP 192.0.2.60:80' 192.0.2.61 -Weight 2 -WhatIf -PassThru).Changed | Should -BeTrue
        Get-Rules | Should -Not -Match '192\.0\.2\.61'
        (Add-IpvsRealServer 'TCP 192.0.2.60:80' 192.0.2.61 -Weight 2 -PassThru).Changed | Should -BeTrue
        (Set-IpvsRealServer 'TCP 192.0.2.60:80' 192.0.2.61 -Weight 2 -PassThru).Changed | Should -BeFalse
        (Set-IpvsRealServer 'TCP 192.0.2.60:80' 192.0.2.61 -Weight 5 -WhatIf -PassThru).Changed | Should -BeTrue
        Get-Rules | Should -Match '192\.0\.2\.61:80 -g -w 2'
        (Get-IpvsRealServer 'TCP 192.0.2.60:80' | Set-IpvsRealServer -Weight 5 -PassThru).Changed | Should -BeTrue
        Get-Rules | Should -Match '192\.0\.2\.61:80 -g -w 5'
    }

    It 'Set-IpvsTimeout: false when the values are already in force' {
        & ipvsadm --set 900 120 300
        (Set-IpvsTimeout -Tcp 900 -PassThru).Changed | Should -BeFalse
        (Set-IpvsTimeout -Tcp 901 -WhatIf -PassThru).Changed | Should -BeTrue
        (Get-IpvsTimeout).Tcp | Should -Be 900
        (Set-IpvsTimeout -Tcp 901 -PassThru).Changed | Should -BeTrue
        (Get-IpvsTimeout).Tcp | Should -Be 901
    }
}

Describe 'IPVS timeouts, counters and sync daemons' -Tag 'Kernel', 'Root' {
    BeforeAll { & ipvsadm -C }
    AfterAll { & ipvsadm -C; & ipvsadm --set 900 120 300 }

    It 'sets timeouts as ipvsadm --set 30 5 60 does' {
        Set-IpvsTimeout -Tcp 30 -TcpFin 5 -Udp 60
        (& ipvsadm -L --timeout) | Should -Be 'Timeout (tcp tcpfin udp): 30 5 60'
        Invoke-Ipvsadm --set 40 6 70
        $t = Get-IpvsTimeout
        $t.Tcp | Should -Be 40; $t.TcpFin | Should -Be 6; $t.Udp | Should -Be 70
        $t.ToString() | Should -Be 'Timeout (tcp tcpfin udp): 40 6 70'
        Set-IpvsTimeout -Udp 90 -PassThru | ForEach-Object Tcp | Should -Be 40
    }

    It 'starts, lists and stops sync daemons like ipvsadm' {
        & ip link add hapsdummy0 type dummy 2>$null; & ip link set hapsdummy0 up
        try {
            Start-IpvsSyncDaemon -State Master -InterfaceName hapsdummy0 -SyncId 7 -MaxLength 1400 -Port 8850 -Ttl 2
            $d = Get-IpvsSyncDaemon
            $d.State | Should -Be 'Master'
            $d.InterfaceName | Should -Be 'hapsdummy0'
            $d.SyncId | Should -Be 7
            (& ipvsadm -L --daemon) | Should -Be $d.ToString()
            { Start-IpvsSyncDaemon -State Master -InterfaceName hapsdummy0 -ErrorAction Stop } | Should -Throw -ErrorId 'SyncDaemonRunning,*'
            Stop-IpvsSyncDaemon -State Master
            Get-IpvsSyncDaemon | Should -BeNullOrEmpty
            Invoke-Ipvsadm --start-daemon backup --mcast-interface hapsdummy0 --syncid 3
            (Get-IpvsSyncDaemon).State | Should -Be 'Backup'
            Get-IpvsSyncDaemon | Stop-IpvsSyncDaemon
            (& ipvsadm -L --daemon) | Should -BeNullOrEmpty
        } finally {
            & ipvsadm --stop-daemon master 2>$null; & ipvsadm --stop-daemon backup 2>$null
            & ip link del hapsdummy0 2>$null
        }
    }
}

Describe 'Export, Import and Sync' -Tag 'Kernel', 'Root' {
    BeforeAll {
        function New-RulesText([int]$Count) {
            $nets = '192.0.2', '198.51.100', '203.0.113'
            $lines = [System.Collections.Generic.List[string]]::new()
            for ($i = 0; $i -lt $Count; $i++) {
                $vip = "$($nets[$i % 3]).$(1 + [math]::Floor($i / 3) % 250)"
                $port = 1000 + [math]::Floor($i / 750)
                $lines.Add("-A -t ${vip}:$port -s $(('rr', 'wlc', 'sh')[$i % 3])$(if ($i % 5 -eq 0) { ' -p 60' })")
                $lines.Add("-a -t ${vip}:$port -r 198.51.100.$(1 + $i % 250):$port -m -w $($i % 7)")
                $lines.Add("-a -t ${vip}:$port -r 203.0.113.$(1 + $i % 250):$port -g -w 1")
            }
            $lines
        }
    }
    BeforeEach { & ipvsadm -C }
    AfterAll { & ipvsadm -C }

    It 'exports byte-identical to ipvsadm -S -n on 1,000 services, and Import round-trips it' {
        $text = (New-RulesText 1000) -join "`n"
        $text | & ipvsadm -R
        $LASTEXITCODE | Should -Be 0
        $expected = (& ipvsadm -S -n | Out-String)
        $ours = Export-IpvsConfig
        $ours | Should -BeExactly $expected
        $file = Join-Path ([IO.Path]::GetTempPath()) "haps-export-$PID.rules"
        try {
            Export-IpvsConfig -Path $file | Out-Null
            & ipvsadm -C
            $r = Import-IpvsConfig -Path $file
            $r.Failed | Should -Be 0
            $r.Applied | Should -Be 3000
            (& ipvsadm -S -n | Out-String) | Should -BeExactly $expected
        } finally { Remove-Item $file -ErrorAction Ignore }
    }

    It 'imports ipvsadm -R style input with comments and a leading ipvsadm' {
        $in = "# saved by hand`nipvsadm -A -t 192.0.2.1:80 -s rr`n`n-a -t 192.0.2.1:80 -r 192.0.2.10:80 -m -w 2`n"
        $r = $in | Import-IpvsConfig
        $r.Applied | Should -Be 2
        Get-Rules | Should -Be "-A -t 192.0.2.1:80 -s rr`n-a -t 192.0.2.1:80 -r 192.0.2.10:80 -m -w 2"
    }

    It 'Import -Replace flushes first; a bad line changes nothing' {
        Invoke-Ipvsadm -A -t 192.0.2.77:80 -s rr
        { "-A -t 192.0.2.1:80 -s rr`n-A -t 192.0.2.2:80 --bogus" | Import-IpvsConfig -Replace -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidConfig,*'
        Get-Rules | Should -Be '-A -t 192.0.2.77:80 -s rr'
        "-A -t 192.0.2.1:80 -s rr" | Import-IpvsConfig -Replace | Out-Null
        Get-Rules | Should -Be '-A -t 192.0.2.1:80 -s rr'
    }

    It 'round-trips JSON' {
        Invoke-Ipvsadm -A -t 192.0.2.1:80 -s sh -b sh-fallback -p 30
        Invoke-Ipvsadm -a -t 192.0.2.1:80 -r 192.0.2.10:80 -i -w 3 --tun-type gre --tun-csum
        $before = Get-Rules
        $json = Export-IpvsConfig -Format Json -IncludeTimeout
        & ipvsadm -C
        $json | Import-IpvsConfig | Out-Null
        Get-Rules | Should -Be $before
    }

    It 'Sync-IpvsConfig sends only the differences and is idempotent; -WhatIf changes nothing' {
        $desired = (New-RulesText 50) -join "`n"
        $first = $desired | Sync-IpvsConfig
        $first.Changed | Should -BeTrue
        $first.Added | Should -Be 150
        $again = $desired | Sync-IpvsConfig
        $again.Changed | Should -BeFalse
        $again.Operations.Count | Should -Be 0
        $changed = $desired -replace '-r 198\.51\.100\.4:(\d+) -m -w 3', '-r 198.51.100.4:$1 -m -w 9'
        $before = Get-Rules
        $plan = $changed | Sync-IpvsConfig -WhatIf
        $plan.WhatIf | Should -BeTrue
        $plan.Changed | Should -BeTrue -Because 'under -WhatIf, Changed says a change would be made'
        ($desired | Sync-IpvsConfig -WhatIf).Changed | Should -BeFalse -Because 'nothing would change'
        $before | Should -Be (Get-Rules)
        $plan.Updated | Should -Be 1
        Get-Rules | Should -Be $before
        $apply = $changed | Sync-IpvsConfig
        $apply.Updated | Should -Be 1
        $apply.Added + $apply.Removed | Should -Be 0
        (Get-Rules) | Should -Match '-r 198\.51\.100\.4:1000 -m -w 9'
    }

    It 'Sync-IpvsConfig honours $WhatIfPreference and names each change under -Verbose' {
        $desired = (New-RulesText 5) -join "`n"
        $desired | Sync-IpvsConfig | Out-Null
        $changed = $desired -replace '-m -w 3', '-m -w 7'
        $before = Get-Rules
        $plan = & { $WhatIfPreference = $true; $changed | Sync-IpvsConfig }
        $plan.WhatIf | Should -BeTrue
        $plan.Updated | Should -BeGreaterThan 0
        Get-Rules | Should -Be $before
        $verbose = @($changed | Sync-IpvsConfig -Verbose 4>&1 | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] })
        $verbose.Count | Should -Be $plan.Updated
        $verbose[0].Message | Should -Match 'Update real server'
        (Get-Rules) | Should -Match '-m -w 7'
        $quiet = @($desired | Sync-IpvsConfig 4>&1 | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] })
        $quiet.Count | Should -Be 0
    }

    It 'Reset-IpvsStatistic zeroes counters (ipvsadm -Z)' {
        Invoke-Ipvsadm -A -t 192.0.2.1:80 -s rr
        { Reset-IpvsStatistic } | Should -Not -Throw
        { Get-IpvsService | Reset-IpvsStatistic } | Should -Not -Throw
        (Get-IpvsService).Statistics.Connections | Should -Be 0
    }
}
