# keepalived.conf in PowerShell: Test-KeepalivedConfig against keepalived -t, ConvertFrom-KeepalivedConfig into the
# module's cmdlets (bound by property name; -WhatIf where the real action needs IPVS), ConvertTo-KeepalivedConfig round
# trips, and hostile input. Needs keepalived (Debian's 2.2.7; build.ps1 Test installs it) for the comparisons.

BeforeDiscovery {
    $script:haveKeepalived = [bool](Get-Command keepalived -CommandType Application -ErrorAction Ignore)
    $script:samples = @(Get-ChildItem /usr/share/doc/keepalived/samples -Filter 'keepalived.conf.*' -File -ErrorAction Ignore |
        Sort-Object Name | ForEach-Object { @{ Name = $_.Name; Path = $_.FullName } })
}

BeforeAll {
    Import-Module $env:HAPS_MODULE_PATH -Force
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    $script:dir = Join-Path ([IO.Path]::GetTempPath()) "hap-kconf-tests-$PID"
    New-Item -ItemType Directory -Path $dir -Force | Out-Null

    # The seed's snippet (docs/seeds: "keepalived and LVS"), as its author wrote it: virtual_server misspelt on line 1.
    $script:seedText = @'
virtaul_server 10.0.0.10 80 {
  delay_loop 6
  lb_algo wrr
  lb_kind DR
  net_mask 255.255.255.0
  persistence_timeout 300
  protocol TCP
#ipvsadm -A -t 10.0.0.10:80 -s wrr -p 300
  real_server 10.0.0.20 80 {
    weight 1
    TCP_CHECK {
      connect_timeout 8
      nb_get_retry 3
      delay_before_retry 3
      connect_port 90
    }
  }
  real_server 10.0.0.21 80 {
    weight 1
    TCP_CHECK {
      connect_timeout 8
      nb_get_retry 3
      delay_before_retry 3
      connect_port 90
    }
  }
#ipvsadm -a -t 10.0.0.10:80 -r 10.0.0.20:80 -g -w 1
#ipvsadm -a -t 10.0.0.10:80 -r 10.0.0.21:80 -g -w 1
}
'@
    $script:seed = Join-Path $dir 'seed.conf'
    $script:fixed = Join-Path $dir 'fixed.conf'
    Set-Content -LiteralPath $seed -Value $seedText
    Set-Content -LiteralPath $fixed -Value ($seedText -replace 'virtaul_server', 'virtual_server')

    # A VRRP pair member with a tracked script, on an interface of this host that can multicast (keepalived refuses
    # lo for VRRP; Start-VrrpInstance -WhatIf validates the interface here).
    $script:iface = Get-ChildItem /sys/class/net | Where-Object {
        $_.Name -ne 'lo' -and ([Convert]::ToInt32((Get-Content -LiteralPath (Join-Path $_.FullName 'flags')).Trim(), 16) -band 0x1000)
    } | Select-Object -First 1 -ExpandProperty Name
    $script:vrrp = Join-Path $dir 'vrrp.conf'
    Set-Content -LiteralPath $vrrp -Value (@'
global_defs {
    router_id LB1
    enable_script_security
    script_user root
}
vrrp_script chk_web {
    script "/usr/bin/true"
    interval 2
    timeout 1
    weight -20
    fall 2
    rise 1
}
vrrp_instance VI_WEB {
    state BACKUP
    interface IFACE
    virtual_router_id 51
    priority 150
    advert_int 1
    authentication {
        auth_type PASS
        auth_pass s3cret
    }
    virtual_ipaddress {
        192.0.2.10/24
    }
    track_script {
        chk_web weight -30
    }
}
'@ -replace 'IFACE', $iface)

    # parse, write, parse: the same text and the same objects; returns the written file.
    function script:Assert-RoundTrip([string]$Path, [string]$Written) {
        $c1 = ConvertFrom-KeepalivedConfig -LiteralPath $Path -WarningAction SilentlyContinue
        $text = $c1 | ConvertTo-KeepalivedConfig
        Set-Content -LiteralPath $Written -Value $text -NoNewline
        $c2 = ConvertFrom-KeepalivedConfig -LiteralPath $Written -WarningAction SilentlyContinue
        ($c2 | ConvertTo-KeepalivedConfig) | Should -BeExactly $text
        ($c2.ToIpvsServices() | ConvertTo-Json -Depth 8 -Compress -WarningAction SilentlyContinue) | Should -Be ($c1.ToIpvsServices() | ConvertTo-Json -Depth 8 -Compress -WarningAction SilentlyContinue)
        $vrrpView = 'Name', 'InterfaceName', 'VirtualRouterId', 'Priority', 'VirtualIPAddress', 'TrackInterface', 'UnicastPeer', 'AdvertisementInterval'
        ($c2.VrrpInstances | Select-Object $vrrpView | ConvertTo-Json) | Should -Be ($c1.VrrpInstances | Select-Object $vrrpView | ConvertTo-Json)
        $Written
    }

    function script:Invoke-Keepalived([string]$Path) {
        $out = & keepalived -t -n -l -f $Path 2>&1 | ForEach-Object { "$_" }
        $lines = @($out | ForEach-Object { if ($_ -match '^\((?:(?<f>.+): )?Line (?<l>\d+)\)') { "$(if ($Matches.f) { $Matches.f } else { $Path }):$($Matches.l)" } } | Sort-Object -Unique)
        [pscustomobject]@{ Accepted = $LASTEXITCODE -eq 0; Lines = $lines; Output = $out }
    }
}

AfterAll {
    Remove-Item -LiteralPath $dir -Recurse -Force -ErrorAction Ignore
}

Describe 'Test-KeepalivedConfig on the seed''s snippet' {
    It 'fails it, with the typo on line 1 and the suggestion virtual_server' {
        Test-KeepalivedConfig -Path $seed | Should -BeFalse
        $first = Test-KeepalivedConfig -Path $seed -Detailed | Select-Object -First 1
        $first.Line | Should -Be 1
        $first.File | Should -Be $seed
        $first.Severity | Should -Be 'Error'
        $first.Category | Should -Be 'UnknownKeyword'
        $first.Keyword | Should -Be 'virtaul_server'
        $first.Suggestion | Should -Be 'virtual_server'
    }

    It 'reports on the fixed snippet only what keepalived 2.2.7 reports (net_mask and TCP_CHECK''s nb_get_retry are unknown to it)' {
        $findings = @(Test-KeepalivedConfig -Path $fixed -Detailed | Where-Object ReportedByKeepalived)
        @($findings | ForEach-Object Line | Sort-Object -Unique) | Should -Be @(5, 13, 22)
        ($findings | Where-Object Line -EQ 13).Keyword | Should -Be 'nb_get_retry'
    }

    It 'takes paths from the pipeline and answers one verdict per file' {
        $verdicts = @(Get-ChildItem -LiteralPath $dir -Filter '*.conf' | Sort-Object Name | Test-KeepalivedConfig)
        $verdicts.Count | Should -Be 3
        $verdicts[0] | Should -BeFalse -Because 'fixed.conf keeps the lines keepalived rejects (net_mask, nb_get_retry)'
        $verdicts[1] | Should -BeFalse -Because 'seed.conf has the typo'
    }
}

Describe 'Test-KeepalivedConfig against keepalived -t on keepalived''s samples' -Skip:(-not $haveKeepalived -or $samples.Count -eq 0) {
    It 'agrees with keepalived -t on <Name>: verdict, and error lines when it rejects' -ForEach $samples {
        $k = Invoke-Keepalived $Path
        $ours = @(Test-KeepalivedConfig -LiteralPath $Path -Detailed -CheckEnvironment)
        $accepted = -not ($ours | Where-Object Severity -EQ 'Error')
        $accepted | Should -Be $k.Accepted -Because ($k.Output -join "`n")
        if (-not $k.Accepted) {
            $lines = @($ours | Where-Object { $_.ReportedByKeepalived -and $null -ne $_.Line } | ForEach-Object { "$($_.File):$($_.Line)" } | Sort-Object -Unique)
            $lines | Should -Be $k.Lines -Because ($k.Output -join "`n")
        }
    }
}

Describe 'ConvertFrom-KeepalivedConfig' {
    It 'turns the fixed seed into the service and real servers its ipvsadm comments describe' {
        # ipvsadm -A -t 10.0.0.10:80 -s wrr -p 300
        $svc = @(ConvertFrom-KeepalivedConfig -Path $fixed -Section IpvsService -WarningAction SilentlyContinue)
        $svc.Count | Should -Be 1
        $svc[0].Protocol | Should -Be 'Tcp'
        "$($svc[0].Address)" | Should -Be '10.0.0.10'
        $svc[0].Port | Should -Be 80
        $svc[0].Scheduler | Should -Be 'wrr'
        $svc[0].PersistenceTimeout | Should -Be 300
        # ipvsadm -a -t 10.0.0.10:80 -r 10.0.0.2x:80 -g -w 1
        $rs = @($svc[0].RealServers)
        @($rs | ForEach-Object { "$($_.Address):$($_.Port)" }) | Should -Be @('10.0.0.20:80', '10.0.0.21:80')
        $rs | ForEach-Object { $_.ForwardingMethod | Should -Be 'DirectRouting'; $_.Weight | Should -Be 1 }
        # and the checkers: TCP_CHECK on port 90, 8 s connect timeout, delay_loop 6 (nb_get_retry is not a TCP_CHECK keyword in 2.2.7)
        $real = @(ConvertFrom-KeepalivedConfig -Path $fixed -Section RealServer -WarningAction SilentlyContinue)
        $real[0].Line | Should -Be 9
        $real[0].File | Should -Be $fixed
        $real[0].HealthCheck.CheckTypes | Should -Be @('Tcp')
        $real[0].HealthCheck.Port | Should -Be 90
        $real[0].HealthCheck.ConnectTimeoutSeconds | Should -Be 8
        $real[0].HealthCheck.Policy.DelayLoopSeconds | Should -Be 6
        $real[0].HealthCheck.Policy.DelayBeforeRetrySeconds | Should -Be 3
    }

    It 'warns about what keepalived -t would report, with file and line' {
        $null = ConvertFrom-KeepalivedConfig -Path $fixed -WarningVariable w -WarningAction SilentlyContinue
        @($w).Count | Should -Be 3
        "$($w[0])" | Should -Match 'Line 5\) Unknown keyword ''net_mask'''
    }

    It 'binds virtual servers into New-IpvsService by property name (-WhatIf: nothing is changed)' {
        $r = Invoke-ChildPwsh -Script "Import-Module '$env:HAPS_MODULE_PATH'; ConvertFrom-KeepalivedConfig -Path '$fixed' -Section VirtualServer -WarningAction SilentlyContinue | New-IpvsService -WhatIf"
        $r.Text | Should -Match 'What if: Performing the operation "Add virtual service \(scheduler wrr\)" on target "TCP 10\.0\.0\.10:80"'
        $r.Text | Should -Not -Match 'ParameterBinding|cannot be bound|InputObjectNotBound'
    }

    It 'binds real servers with their checkers into Start-IpvsHealthCheck by property name (-WhatIf)' {
        $r = Invoke-ChildPwsh -Script "Import-Module '$env:HAPS_MODULE_PATH'; ConvertFrom-KeepalivedConfig -Path '$fixed' -Section RealServer -WarningAction SilentlyContinue | Start-IpvsHealthCheck -WhatIf"
        ([regex]::Matches($r.Text, 'What if: Performing the operation "Check and add/remove/reweight real servers" on target "1 real server\(s\) of TCP 10\.0\.0\.10:80"')).Count | Should -Be 2
        $r.Text | Should -Not -Match 'cannot be bound|InputObjectNotBound'
    }

    It 'binds IPVS services into Sync-IpvsConfig (bound; the diff itself needs IPVS, which this host may lack)' {
        $services = @(ConvertFrom-KeepalivedConfig -Path $fixed -Section IpvsService -WarningAction SilentlyContinue)
        try {
            $plan = $services | Sync-IpvsConfig -WhatIf -ErrorAction Stop
            $plan.WhatIf | Should -BeTrue
        }
        catch {
            # Bound: what stopped it is the kernel (no IPVS here; the Kernel-tagged test runs it in the lab), not the objects.
            $_.Exception | Should -Not -BeOfType [System.Management.Automation.ParameterBindingException]
            $_.FullyQualifiedErrorId | Should -Match '^Ipvs'
        }
    }

    It 'binds IPVS services into Sync-IpvsConfig, whose -WhatIf plan adds the service and its two real servers' -Tag Kernel {
        $plan = ConvertFrom-KeepalivedConfig -Path $fixed -Section IpvsService -WarningAction SilentlyContinue | Sync-IpvsConfig -WhatIf
        $plan.WhatIf | Should -BeTrue
        $plan.Changed | Should -BeTrue
        Get-IpvsService | Should -BeNullOrEmpty
    }

    It 'binds VRRP instances into Start-VrrpInstance by property name, tracked script and all (-WhatIf)' {
        $v = ConvertFrom-KeepalivedConfig -Path $vrrp -Section VrrpInstance -WarningAction SilentlyContinue
        $v.Name | Should -Be 'VI_WEB'
        $v.VirtualRouterId | Should -Be 51
        $v.Priority | Should -Be 150
        $v.VirtualIPAddress | Should -Be @('192.0.2.10/24')
        # the password is masked on the object and in JSON, and binds to -AuthenticationPassword as a SecureString
        "$($v.AuthenticationPassword)" | Should -Be '********'
        $v | ConvertTo-Json -Depth 5 -WarningAction SilentlyContinue | Should -Not -Match 's3cret'
        $v | Format-List * | Out-String | Should -Not -Match 's3cret'
        $secure = [HaPowerShell.SecretTransformationAttribute]::new().Transform($null, $v.AuthenticationPassword)
        $secure | Should -BeOfType [securestring]
        ConvertFrom-SecureString $secure -AsPlainText | Should -BeExactly 's3cret'
        [HaPowerShell.SecretTransformationAttribute]::new().Transform($null, 'plain') | Should -BeExactly 'plain' -Because 'a plain string is still refused by the SecureString parameter'
        $v.TrackScript[0].Weight | Should -Be -30
        $v.TrackScript[0].Script | Should -Be '/usr/bin/true'
        $r = Invoke-ChildPwsh -Script "Import-Module '$env:HAPS_MODULE_PATH'; ConvertFrom-KeepalivedConfig -Path '$vrrp' -Section VrrpInstance -WarningAction SilentlyContinue | Start-VrrpInstance -WhatIf"
        $r.Text | Should -Match "What if: Performing the operation ""Start"" on target ""VRRP instance 'VI_WEB' \(VRID 51 on $iface, priority 150, 192\.0\.2\.10/24\)"""
    }

    It 'checks each instance as the module''s VRRP engine would run it: what only it refuses is a warning at the line, in keepalived words' {
        $conf = Join-Path $dir 'vrrp-forms.txt'
        Set-Content -LiteralPath $conf -Value (@'
vrrp_instance VI_1 {
    interface IFACE
    virtual_router_id 7
    virtual_ipaddress {
        192.0.2.20/24 use_vmac
        192.0.2.21/24 label other:1
    }
    track_interface {
        lo weight 10 reverse
    }
}
vrrp_instance VI_2 {
    interface IFACE
    virtual_router_id 8
    virtual_ipaddress {
        192.0.2.22/24
    }
    track_interface {
        lo weight 300
    }
}
'@ -replace 'IFACE', $iface)
        $f = @(Test-KeepalivedConfig -LiteralPath $conf -Detailed)
        $vmac = $f | Where-Object Line -EQ 5
        $vmac.Severity | Should -Be 'Warning'
        $vmac.Category | Should -Be 'NotSupported'
        $vmac.Keyword | Should -Be 'virtual_ipaddress'
        ($f | Where-Object Line -EQ 6).Message | Should -Match 'label'
        ($f | Where-Object Line -EQ 9).Category | Should -Be 'NotSupported'
        $bad = $f | Where-Object Line -EQ 19
        $bad.Severity | Should -Be 'Error'
        $bad.Message | Should -Match 'track_interface'
    }
}

Describe 'ConvertTo-KeepalivedConfig' {
    It 'round-trips the fixed seed: parse, write, parse gives the same objects' {
        $written = Assert-RoundTrip $fixed (Join-Path $dir 'written.txt')
        Test-KeepalivedConfig -LiteralPath $written | Should -BeTrue -Because 'what keepalived ignored (net_mask, nb_get_retry) is not written back'
    }

    It 'writes <Name> so that keepalived -t accepts it when it accepts the original, and reads back the same' -ForEach $samples -Skip:(-not $haveKeepalived) {
        $written = Assert-RoundTrip $Path (Join-Path $dir "$Name.written")
        $original = Invoke-Keepalived $Path
        if ($original.Accepted) { (Invoke-Keepalived $written).Accepted | Should -BeTrue -Because ((Invoke-Keepalived $written).Output -join "`n") }
    }

    It 'writes virtual_server blocks from IPVS service objects (as Get-IpvsService returns them), which keepalived accepts' -Skip:(-not $haveKeepalived) {
        $svc = [HaPowerShell.Core.Ipvs.IpvsService]@{ Protocol = 'Tcp'; Address = [ipaddress]'192.0.2.80'; Port = 443; Scheduler = 'wlc'; PersistenceTimeout = 600 }
        $svc.RealServers = [System.Collections.Generic.List[HaPowerShell.Core.Ipvs.IpvsRealServer]]::new()
        foreach ($a in '198.51.100.11', '198.51.100.12') {
            $svc.RealServers.Add([HaPowerShell.Core.Ipvs.IpvsRealServer]@{ Service = $svc; Address = [ipaddress]$a; Port = 443; ForwardingMethod = 'Masquerade'; Weight = 3 })
        }
        $text = $svc | ConvertTo-KeepalivedConfig -HealthCheck TCP_CHECK -DelayLoop 5 -ConnectTimeout 2
        $text | Should -Match 'virtual_server 192\.0\.2\.80 443 \{'
        $path = Join-Path $dir 'from-ipvs.txt'
        Set-Content -LiteralPath $path -Value $text -NoNewline
        (Invoke-Keepalived $path).Accepted | Should -BeTrue -Because ((Invoke-Keepalived $path).Output -join "`n")
        $back = @(ConvertFrom-KeepalivedConfig -LiteralPath $path -Section IpvsService)
        "$($back[0])" | Should -Be "$svc"
        $back[0].PersistenceTimeout | Should -Be 600
        @($back[0].RealServers | ForEach-Object { "$($_.Address):$($_.Port):$($_.ForwardingMethod):$($_.Weight)" }) |
            Should -Be @('198.51.100.11:443:Masquerade:3', '198.51.100.12:443:Masquerade:3')
    }

    It 'refuses objects it cannot write, with an ErrorRecord' {
        $null = 'not a config' | ConvertTo-KeepalivedConfig -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -Match '^KeepalivedUnsupportedObject'
        $err[0].CategoryInfo.Category | Should -Be 'InvalidType'
    }
}

Describe 'hostile keepalived.conf input' {
    It 'reports an include loop and an include bomb instead of hanging' {
        $loop = Join-Path $dir 'loop'
        New-Item -ItemType Directory -Path $loop -Force | Out-Null
        Set-Content -LiteralPath (Join-Path $loop 'a.conf') -Value "include b.conf`nglobal_defs {`n router_id A`n}"
        Set-Content -LiteralPath (Join-Path $loop 'b.conf') -Value "include a.conf"
        $f = @(Test-KeepalivedConfig -LiteralPath (Join-Path $loop 'a.conf') -Detailed)
        ($f | Where-Object Message -Match 'Too many open files|include') | Should -Not -BeNullOrEmpty
        $bomb = Join-Path $dir 'bomb'
        New-Item -ItemType Directory -Path $bomb -Force | Out-Null
        foreach ($i in 0..9) { Set-Content -LiteralPath (Join-Path $bomb "l$i.conf") -Value ("include l$($i + 1).conf`n" * 10) }
        Set-Content -LiteralPath (Join-Path $bomb 'l10.conf') -Value "global_defs {`n}"
        $f = @(Test-KeepalivedConfig -LiteralPath (Join-Path $bomb 'l0.conf') -Detailed)
        ($f | Where-Object Category -EQ 'Limit') | Should -Not -BeNullOrEmpty
    }

    It 'reads binary junk and a self-referencing parameter to a verdict' {
        $junk = Join-Path $dir 'junk.bin'
        $bytes = [byte[]]::new(200000); [Random]::new(7).NextBytes($bytes)
        [IO.File]::WriteAllBytes($junk, $bytes)
        Test-KeepalivedConfig -LiteralPath $junk | Should -BeFalse
        $self = Join-Path $dir 'self.conf'
        Set-Content -LiteralPath $self -Value "`$A=`$A`nglobal_defs {`n router_id `$A`n}"
        $f = @(Test-KeepalivedConfig -LiteralPath $self -Detailed)
        ($f | Where-Object Message -Match 'refers to itself') | Should -Not -BeNullOrEmpty
    }

    It 'refuses a file over -MaxSize with a finding, not by reading it all' {
        $big = Join-Path $dir 'big.conf'
        Set-Content -LiteralPath $big -Value ("! padding`n" * 200000)
        $f = @(Test-KeepalivedConfig -LiteralPath $big -MaxSize 100000 -Detailed -ErrorAction SilentlyContinue -ErrorVariable err)
        (@($f | Where-Object Category -EQ 'Limit') + @($err)).Count | Should -BeGreaterThan 0
    }
}
