# Real packets through IPVS: a client namespace reaches two real-server namespaces through a
# NAT-mode (Masquerade) service on the director (the VM's root namespace). Counters and the
# connection table must show that traffic. Runs inside the kernel lab VM only.
BeforeAll {
    Import-Module $env:HAPS_MODULE_PATH -Force
    $script:web = Join-Path ([IO.Path]::GetTempPath()) "haps-traffic-$PID"
    # busybox-static's wget crashes in its resolver; Debian's python3 is the HTTP client.
    $script:get = 'ip netns exec haps-client python3 -c "import urllib.request;print(urllib.request.urlopen(''http://203.0.113.10/'',timeout=5).read().decode().strip())"'
    function Invoke-Sh([string]$Command) {
        $out = & bash -c $Command 2>&1
        if ($LASTEXITCODE) { throw "'$Command' failed: $out" }
        $out
    }
    function Remove-Topology {
        foreach ($ns in 'haps-client', 'haps-rs1', 'haps-rs2') {
            & bash -c "ip netns pids $ns 2>/dev/null | xargs -r kill -9; ip netns del $ns 2>/dev/null" 2>$null
        }
        & bash -c 'ip link del haps-br 2>/dev/null; ip link del haps-c0 2>/dev/null; ip addr del 203.0.113.10/32 dev lo 2>/dev/null' 2>$null
        & ipvsadm -C
        if ((Split-Path $web -Leaf) -like 'haps-traffic-*' -and (Test-Path $web)) { Remove-Item -Recurse -Force -LiteralPath $web }
    }
}

Describe 'IPVS forwarding real traffic (NAT)' -Tag 'Kernel', 'Root' {
    BeforeAll {
        Remove-Topology
        New-Item -ItemType Directory -Path "$web/rs1", "$web/rs2" | Out-Null
        Set-Content "$web/rs1/index.html" 'served-by-rs1'
        Set-Content "$web/rs2/index.html" 'served-by-rs2'
        Invoke-Sh @'
set -e
sysctl -qw net.ipv4.ip_forward=1
ip addr add 203.0.113.10/32 dev lo
ip netns add haps-client
ip link add haps-c0 type veth peer name eth0 netns haps-client
ip addr add 198.51.100.1/24 dev haps-c0; ip link set haps-c0 up
ip -n haps-client addr add 198.51.100.2/24 dev eth0
ip -n haps-client link set eth0 up; ip -n haps-client link set lo up
ip -n haps-client route add default via 198.51.100.1
ip link add haps-br type bridge; ip addr add 192.0.2.1/24 dev haps-br; ip link set haps-br up
for i in 1 2; do
  ip netns add haps-rs$i
  ip link add haps-r$i type veth peer name eth0 netns haps-rs$i
  ip link set haps-r$i master haps-br; ip link set haps-r$i up
  ip -n haps-rs$i addr add 192.0.2.1$i/24 dev eth0
  ip -n haps-rs$i link set eth0 up; ip -n haps-rs$i link set lo up
  ip -n haps-rs$i route add default via 192.0.2.1
done
'@
        foreach ($i in 1, 2) {
            Invoke-Sh "ip netns exec haps-rs$i setsid busybox httpd -p 8080 -h '$web/rs$i' </dev/null >/dev/null 2>&1 &"
        }
        Start-Sleep -Milliseconds 500
        $script:svc = New-IpvsService -Protocol Tcp -Address 203.0.113.10 -Port 80 -Scheduler rr -PassThru
        $svc | Add-IpvsRealServer -Address 192.0.2.11 -Port 8080 -ForwardingMethod Masquerade
        $svc | Add-IpvsRealServer -Address 192.0.2.12 -Port 8080 -ForwardingMethod Masquerade
        $script:answers = 1..6 | ForEach-Object { Invoke-Sh $get }
    }
    AfterAll { Remove-Topology }

    It 'balances client requests over both real servers (rr)' {
        ($answers | Where-Object { $_ -eq 'served-by-rs1' }).Count | Should -Be 3
        ($answers | Where-Object { $_ -eq 'served-by-rs2' }).Count | Should -Be 3
    }

    It 'counts the traffic in the service and real-server statistics' {
        # The kernel folds its per-CPU counters into the reported ones every 2 s (the estimator).
        $deadline = [DateTime]::UtcNow.AddSeconds(6)
        do { $s = Get-IpvsService -Port 80; if ($s.Statistics.Connections -ge 6) { break }; Start-Sleep -Milliseconds 250 } while ([DateTime]::UtcNow -lt $deadline)
        $s.Statistics.Connections | Should -Be 6
        $s.Statistics.InPackets | Should -BeGreaterThan 12
        $s.Statistics.OutBytes | Should -BeGreaterThan 0
        $rs = $s | Get-IpvsRealServer
        $rs | ForEach-Object { $_.Statistics.Connections | Should -Be 3 }
        ($rs | Measure-Object { $_.ActiveConnections + $_.InactiveConnections } -Sum).Sum | Should -Be 6
        ($s | Format-Table -View Stats | Out-String) | Should -Match 'TCP\s+203\.0\.113\.10:80\s+6'
    }

    It 'shows the connections like ipvsadm -Lnc' {
        $conns = Get-IpvsConnection -Service 'TCP 203.0.113.10:80'
        $conns.Count | Should -Be 6
        $conns | ForEach-Object {
            $_.SourceAddress | Should -Be ([ipaddress]'198.51.100.2')
            $_.VirtualPort | Should -Be 80
            $_.DestinationAddress.ToString() | Should -BeIn '192.0.2.11', '192.0.2.12'
            $_.DestinationPort | Should -Be 8080
        }
        $theirs = @(& ipvsadm -Lnc | Select-Object -Skip 2)
        $theirs.Count | Should -Be $conns.Count
        (Get-IpvsConnection -RealServer ($svc | Get-IpvsRealServer -Address 192.0.2.11)).Count | Should -Be 3
        (Get-IpvsConnection -State NO_SUCH_STATE).Count | Should -Be 0
    }

    It 'drains a real server with weight 0: new connections go to the other one' {
        $svc | Get-IpvsRealServer -Address 192.0.2.11 | Set-IpvsRealServer -Weight 0
        $more = 1..3 | ForEach-Object { Invoke-Sh $get }
        $more | Should -Be @('served-by-rs2', 'served-by-rs2', 'served-by-rs2')
    }

    It 'Reset-IpvsStatistic zeroes what the traffic counted' {
        $deadline = [DateTime]::UtcNow.AddSeconds(6)
        while ((Get-IpvsService -Port 80).Statistics.Connections -lt 9 -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 250 }
        (Get-IpvsService -Port 80).Statistics.Connections | Should -Be 9
        $svc | Reset-IpvsStatistic
        (Get-IpvsService -Port 80).Statistics.Connections | Should -Be 0
    }
}
