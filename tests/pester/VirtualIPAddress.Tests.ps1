# Get-/Add-/Remove-VirtualIPAddress.
# Untagged: reading and argument checks that fail before anything is looked up or changed.
# Root: in a network namespace, with ip(8) as the independent reader: labels (eth0:0, lo:0),
# broadcast, nodad for IPv6, idempotence, conflicts, -WhatIf, -SendGratuitousArp seen by a peer,
# pipeline removal, the primary/secondary warning, and PermissionDenied without root.
BeforeDiscovery {
    Import-Module (Join-Path $PSScriptRoot '../lab/NetnsLab.psm1') -Force
    $script:LabSupported = Test-LabEnvironment
}

BeforeAll {
    Import-Module $env:HAPS_MODULE_PATH -Force
    Import-Module (Join-Path $PSScriptRoot '../lab/NetnsLab.psm1') -Force

    function Get-ErrorOf([scriptblock]$Script) {
        $errors = [System.Collections.Generic.List[object]]::new()
        $out = @()
        try {
            $out = @(& $Script 2>&1 | ForEach-Object { if ($_ -is [System.Management.Automation.ErrorRecord]) { $errors.Add($_) } else { $_ } })
        } catch { $errors.Add($_) }
        [pscustomobject]@{ Output = $out; Errors = $errors.ToArray() }
    }
}

Describe 'Get-VirtualIPAddress' {
    It 'lists the addresses of this namespace like ip addr, with labels' {
        $lo = @(Get-VirtualIPAddress -InterfaceName lo -AddressFamily IPv4)
        $loop = $lo | Where-Object { "$($_.IPAddress)" -eq '127.0.0.1' }
        $loop.PrefixLength | Should -Be 8
        $loop.Label | Should -Be 'lo'
        $loop.Scope | Should -Be 'host'
        $loop.Cidr | Should -Be '127.0.0.1/8'
        "$loop" | Should -Be 'inet 127.0.0.1/8 scope host lo'
        ($loop | Out-String) | Should -Match 'InterfaceName\s+AddressFamily\s+Cidr'
    }

    It 'filters by family and address' {
        @(Get-VirtualIPAddress -AddressFamily IPv6 | Where-Object { "$($_.AddressFamily)" -ne 'IPv6' }) | Should -BeNullOrEmpty
        @(Get-VirtualIPAddress -IPAddress 127.0.0.1/8).Count | Should -Be 1
        @(Get-VirtualIPAddress -IPAddress 127.0.0.1/16).Count | Should -Be 0
    }

    It 'names the existing interfaces for an unknown one' {
        $r = Get-ErrorOf { Get-VirtualIPAddress -InterfaceName nosuch0 }
        $r.Errors[0].FullyQualifiedErrorId | Should -Be 'InterfaceNotFound,HaPowerShell.Commands.Arp.GetVirtualIPAddressCommand'
        $r.Errors[0].Exception.Message | Should -Match 'Interfaces here: lo'
    }
}

Describe 'Add-/Remove-VirtualIPAddress argument checks' {
    It 'Add: <Why> is refused as <Id> before anything is looked up' -ForEach @(
        @{ Why = 'a prefix over 32'; Params = @{ InterfaceName = 'nosuch0'; IPAddress = '192.0.2.30/33' }; Id = 'InvalidPrefixLength' }
        @{ Why = 'contradicting prefixes'; Params = @{ InterfaceName = 'nosuch0'; IPAddress = '192.0.2.30/24'; PrefixLength = 25 }; Id = 'InvalidPrefixLength' }
        @{ Why = 'a label of another interface'; Params = @{ InterfaceName = 'nosuch0'; IPAddress = '192.0.2.30'; Label = 'eth1:0' }; Id = 'InvalidLabel' }
        @{ Why = 'a label contradicting the alias'; Params = @{ InterfaceName = 'nosuch0:0'; IPAddress = '192.0.2.30'; Label = 'nosuch0:1' }; Id = 'InvalidLabel' }
        @{ Why = 'a label on an IPv6 address'; Params = @{ InterfaceName = 'nosuch0:0'; IPAddress = '2001:db8::30/64' }; Id = 'InvalidLabel' }
        @{ Why = 'a multicast address'; Params = @{ InterfaceName = 'nosuch0'; IPAddress = '224.0.0.18' }; Id = 'InvalidIPAddress' }
        @{ Why = 'a bad address'; Params = @{ InterfaceName = 'nosuch0'; IPAddress = '192.0.2' }; Id = 'InvalidIPAddress' }
        @{ Why = 'a bad interface name'; Params = @{ InterfaceName = 'eth/0'; IPAddress = '192.0.2.30' }; Id = 'InvalidInterfaceName' }
    ) {
        $p = $Params
        $r = Get-ErrorOf { Add-VirtualIPAddress @p }
        $r.Errors.Count | Should -Be 1
        $r.Errors[0].FullyQualifiedErrorId | Should -Be "$Id,HaPowerShell.Commands.Arp.AddVirtualIPAddressCommand"
        $r.Errors[0].CategoryInfo.Category | Should -Be 'InvalidArgument'
    }

    It 'Add/Remove: unknown interface, listing the existing ones' {
        (Get-ErrorOf { Add-VirtualIPAddress nosuch0 192.0.2.30/24 }).Errors[0].Exception.Message | Should -Match "'nosuch0'.*Interfaces here: lo"
        (Get-ErrorOf { Remove-VirtualIPAddress nosuch0 192.0.2.30 }).Errors[0].FullyQualifiedErrorId | Should -Be 'InterfaceNotFound,HaPowerShell.Commands.Arp.RemoveVirtualIPAddressCommand'
    }

    It 'binds a VirtualIPAddress by property name' {
        foreach ($name in 'Add-VirtualIPAddress', 'Remove-VirtualIPAddress') {
            $c = Get-Command $name
            foreach ($p in 'InterfaceName', 'IPAddress', 'PrefixLength', 'Label') {
                ($c.Parameters[$p].Attributes | Where-Object { $_ -is [System.Management.Automation.ParameterAttribute] }).ValueFromPipelineByPropertyName |
                    Should -Contain $true -Because "$name -$p"
            }
            $c.Parameters.Keys | Should -Contain 'WhatIf'
            $c.Parameters.Keys | Should -Contain 'PassThru'
        }
    }
}

Describe 'Virtual IP addresses in a namespace' -Tag 'Root' -Skip:(-not $LabSupported) {
    BeforeAll {
        Clear-LabLeftovers
        $script:T = New-LabTopology -Hosts 'me', 'peer'
        $script:Me = $T.Hosts.me
        # An address ip(8) added, to be read and removed by the cmdlets.
        $null = Invoke-LabCommand -Topology $T -HostName me -Command ip -ArgumentList 'addr', 'add', '192.0.2.60/24', 'dev', 'eth0', 'label', 'eth0:7'
        $capture = Start-LabCapture -Topology $T -HostName peer -Filter 'arp'

        $out = (Invoke-LabPwsh -Topology $T -HostName me -ModulePath $env:HAPS_MODULE_PATH -Script {
                function Out-Key {
                    param([Parameter(Mandatory, Position = 0)][string]$Key, [Parameter(ValueFromPipeline)]$InputObject)
                    process {
                        if ($null -eq $InputObject) { return }
                        if ($InputObject -is [string] -or $InputObject -is [ValueType]) { [pscustomobject]@{ Key = $Key; Value = $InputObject } }
                        else { $InputObject | Add-Member -NotePropertyName Key -NotePropertyValue $Key -PassThru -Force }
                    }
                }
                function Err([string]$Key, [scriptblock]$Script) {
                    $list = @()
                    try { $list += @(& $Script 2>&1 | Where-Object { $_ -is [System.Management.Automation.ErrorRecord] }) } catch { $list += $_ }
                    if (-not $list) { 'none' | Out-Key $Key }
                    $list | ForEach-Object { "$($_.FullyQualifiedErrorId)|$($_.CategoryInfo.Category)|$($_.Exception.Message)" } | Out-Key $Key
                }
                function IpAddr {
                    # ip(8)'s view: "address/prefix label broadcast flags" per address
                    (ip -j addr show | ConvertFrom-Json) | ForEach-Object { $_.addr_info } | ForEach-Object {
                        ("$($_.local)/$($_.prefixlen) $($_.label) $($_.broadcast) $(if ($_.PSObject.Properties['nodad']) { 'nodad' })" -replace '\s+', ' ').Trim()
                    }
                }
                Add-VirtualIPAddress -InterfaceName eth0:0 -IPAddress 192.0.2.30/24 -PassThru | Out-Key Added
                Add-VirtualIPAddress -InterfaceName lo -IPAddress 192.0.2.30 -PrefixLength 32 -Label lo:0 -PassThru | Out-Key AddedLo
                Add-VirtualIPAddress eth0 2001:db8:1::30/64 -PassThru | Out-Key Added6
                IpAddr | Out-Key IpAfterAdd
                # again: nothing changes, no error, a verbose note
                Err Again { Add-VirtualIPAddress eth0:0 192.0.2.30/24 }
                Add-VirtualIPAddress eth0:0 192.0.2.30/24 -Verbose 4>&1 | ForEach-Object { "$($_.Message)" } | Out-Key AgainVerbose
                Err AgainPlain { Add-VirtualIPAddress eth0 192.0.2.30/24 }
                Add-VirtualIPAddress eth0:0 192.0.2.30/24 -PassThru | Out-Key AgainPassThru
                Err Conflict { Add-VirtualIPAddress eth0 192.0.2.30/25 }
                Err ConflictLabel { Add-VirtualIPAddress eth0:5 192.0.2.30/24 }
                Add-VirtualIPAddress eth0 192.0.2.31/24 -WhatIf -PassThru | Out-Key AddWhatIf
                Err LoGarp { Add-VirtualIPAddress lo 192.0.2.33/32 -SendGratuitousArp }
                Err BadLabel { Add-VirtualIPAddress eth0 192.0.2.34/24 -Label eth1:0 }
                Err Unknown { Add-VirtualIPAddress eth9 192.0.2.35/24 }
                Add-VirtualIPAddress eth0:1 192.0.2.32/24 -SendGratuitousArp -PassThru | Out-Key Announced
                IpAddr | Out-Key IpAfterErrors
                Get-VirtualIPAddress eth0:7 | Out-Key Alias7
                Get-VirtualIPAddress -Label 'eth0:*' | ForEach-Object { "$($_.Cidr) $($_.Label)" } | Out-Key Labelled
                (Get-VirtualIPAddress | Out-String) | Out-Key Table
                # removal
                Err RemoveMismatch { Remove-VirtualIPAddress eth0 192.0.2.30 -PrefixLength 25 -Confirm:$false }
                Err RemoveWrongLabel { Remove-VirtualIPAddress eth0:3 192.0.2.30 -Confirm:$false }
                # ConfirmImpact High: without -Confirm:$false it asks, and a host that cannot ask (-NonInteractive) removes nothing
                Err RemoveAsks { Remove-VirtualIPAddress eth0:0 192.0.2.30/24 }
                Get-VirtualIPAddress -Label 'eth0:*' | Remove-VirtualIPAddress -PassThru -Confirm:$false | ForEach-Object { "$($_.Cidr) $($_.Label) $($_.Changed)" } | Out-Key Removed
                Err RemoveAgain { Get-VirtualIPAddress eth0 | Out-Null; Remove-VirtualIPAddress eth0 192.0.2.30, 192.0.2.32 -Confirm:$false }
                Remove-VirtualIPAddress lo:0 192.0.2.30/32 -PassThru -Confirm:$false | ForEach-Object { "$($_.Cidr) $($_.Label)" } | Out-Key RemovedLo
                # the issue's case: every address of lo piped to removal; loopback needs -Force
                Err RemoveLoopback { Get-VirtualIPAddress lo | Remove-VirtualIPAddress -Confirm:$false }
                Err RemovePrimary { Remove-VirtualIPAddress eth0 192.0.2.11 -Confirm:$false }
                Err RemoveLinkLocal { Get-VirtualIPAddress eth0 -AddressFamily IPv6 | Where-Object { ([ipaddress]$_.IPAddress).IsIPv6LinkLocal } | Remove-VirtualIPAddress -Confirm:$false }
                IpAddr | Out-Key IpAfterProtected
                Remove-VirtualIPAddress eth0 2001:db8:1::30 -WhatIf -PassThru | ForEach-Object { "$($_.Cidr) $($_.Changed)" } | Out-Key RemoveWhatIf
                IpAddr | Out-Key IpAfterWhatIfRemove
                Remove-VirtualIPAddress eth0 2001:db8:1::30/64 -Confirm:$false
                IpAddr | Out-Key IpAfterRemove
                # removing a primary takes its secondaries along unless promote_secondaries is on
                Add-VirtualIPAddress eth0:9 192.0.2.70/24
                (Get-Content /proc/sys/net/ipv4/conf/eth0/promote_secondaries) + (Get-Content /proc/sys/net/ipv4/conf/all/promote_secondaries) | Out-Key Promote
                Remove-VirtualIPAddress eth0 192.0.2.11 -Force -Confirm:$false -WarningVariable w -WarningAction SilentlyContinue
                "$w" | Out-Key PrimaryWarning
                IpAddr | Out-Key IpAfterPrimary
            }).Output
        $script:R = @{}
        foreach ($o in $out) {
            if ($o -is [string] -or -not $o.PSObject.Properties['Key']) { continue }
            $v = if (@($o.PSObject.Properties).Count -eq 2 -and $o.PSObject.Properties['Value']) { $o.Value } else { $o }
            $R[$o.Key] = @($R[$o.Key] | Where-Object { $null -ne $_ }) + @($v)
        }
        $script:Frames = @(Stop-LabCapture -Capture $capture)

        # Without root (uid nobody, no capabilities): refused, nothing changed.
        $home2 = Join-Path $T.StateDirectory 'nobody-home'
        $null = New-Item -ItemType Directory -Path $home2
        & chmod 777 $home2
        $pwshArgs = @([Environment]::ProcessPath)
        if ([IO.Path]::GetFileNameWithoutExtension($pwshArgs[0]) -eq 'dotnet') { $pwshArgs += Join-Path $PSHOME 'pwsh.dll' }
        $script:NotRoot = Invoke-LabCommand -Topology $T -HostName peer -Command setpriv -AllowFailure -TimeoutSeconds 120 -ArgumentList (@(
                '--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=+dac_read_search', '--ambient-caps=+dac_read_search',
                'env', "HOME=$home2", "DOTNET_CLI_HOME=$home2", 'DOTNET_NOLOGO=1') + $pwshArgs + @('-NoProfile', '-NonInteractive', '-Command',
                "Import-Module '$env:HAPS_MODULE_PATH'; `$ErrorActionPreference = 'Stop'; foreach (`$s in { Add-VirtualIPAddress lo:0 192.0.2.30/32 }, { Remove-VirtualIPAddress eth0 $($T.Hosts.peer.IPv4Address) -Force -Confirm:`$false }, { Send-GratuitousArp eth0 192.0.2.30 }) { try { & `$s } catch { `$_.FullyQualifiedErrorId } }"))
        $script:PeerAddresses = (Invoke-LabCommand -Topology $T -HostName peer -Command ip -ArgumentList '-4', '-br', 'addr').StdOut
    }

    AfterAll {
        Remove-LabTopology -Topology $script:T
    }

    It 'adds eth0:0 192.0.2.30/24 with its label and broadcast, as ifconfig eth0:0 does' {
        $R.Added[0].Label | Should -Be 'eth0:0'
        $R.Added[0].PrefixLength | Should -Be 24
        "$($R.Added[0].Broadcast)" | Should -Be '192.0.2.255'
        $R.Added[0].IsSecondary | Should -BeTrue
        $R.IpAfterAdd | Should -Contain '192.0.2.30/24 eth0:0 192.0.2.255'
    }

    It 'adds lo:0 192.0.2.30/32, as on a DR real server' {
        $R.AddedLo[0].InterfaceName | Should -Be 'lo'
        $R.AddedLo[0].Label | Should -Be 'lo:0'
        $R.IpAfterAdd | Should -Contain '192.0.2.30/32 lo:0'
    }

    It 'adds IPv6 addresses without DAD, usable at once' {
        $R.Added6[0].IsTentative | Should -BeFalse
        ($R.Added6[0].Flags -band 2) | Should -Be 2
        $R.IpAfterAdd | Should -Contain '2001:db8:1::30/64 nodad'
    }

    It 'says Changed: true for an address it added, false for one already there, true under -WhatIf (and adds nothing)' {
        $R.Added[0].Changed | Should -BeTrue
        $R.AddedLo[0].Changed | Should -BeTrue
        $R.AgainPassThru[0].Changed | Should -BeFalse
        $R.AddWhatIf[0].Changed | Should -BeTrue
        $R.AddWhatIf[0].Cidr | Should -Be '192.0.2.31/24'
        @($R.IpAfterErrors | Where-Object { $_ -like '192.0.2.31/*' }) | Should -BeNullOrEmpty
    }

    It 'is idempotent: adding what is there changes nothing and is no error' {
        $R.Again | Should -Be 'none'
        $R.AgainPlain | Should -Be 'none'
        $R.AgainVerbose | Should -Match 'already on eth0 as eth0:0; nothing to change'
        @($R.IpAfterErrors | Where-Object { $_ -like '192.0.2.30/*' }) | Should -Be @('192.0.2.30/32 lo:0', '192.0.2.30/24 eth0:0 192.0.2.255')
    }

    It 'refuses a different prefix or label for an address that is there, changing nothing' {
        $R.Conflict[0] | Should -BeLike 'VirtualIPAddressConflict,HaPowerShell.Commands.Arp.AddVirtualIPAddressCommand|ResourceExists|*already on eth0 as 192.0.2.30/24*'
        $R.ConflictLabel[0] | Should -BeLike 'VirtualIPAddressConflict,*'
    }

    It 'adds nothing for -WhatIf, an invalid label, an unknown interface, or -SendGratuitousArp on loopback' {
        $R.LoGarp[0] | Should -BeLike 'InterfaceCannotArp,*|InvalidOperation|*loopback*'
        $R.BadLabel[0] | Should -BeLike 'InvalidLabel,*'
        $R.Unknown[0] | Should -BeLike "InterfaceNotFound,*|ObjectNotFound|*'eth9'*Interfaces here: lo, eth0.*"
        foreach ($a in '192.0.2.31', '192.0.2.33', '192.0.2.34', '192.0.2.35') {
            @($R.IpAfterErrors | Where-Object { $_ -like "$a/*" }) | Should -BeNullOrEmpty -Because "$a must not have been added"
        }
    }

    It '-SendGratuitousArp announces the new address to the link' {
        $R.Announced[0].Label | Should -Be 'eth0:1'
        $garp = @($Frames | Where-Object { $_.Bytes.Length -ge 42 -and $_.Bytes[21] -eq 1 -and
                ([ipaddress][byte[]]$_.Bytes[28..31]).ToString() -eq '192.0.2.32' -and ([ipaddress][byte[]]$_.Bytes[38..41]).ToString() -eq '192.0.2.32' })
        $garp.Count | Should -Be 1
        (($garp[0].Bytes[6..11] | ForEach-Object { $_.ToString('x2') }) -join ':') | Should -Be $Me.MacAddress
    }

    It 'reads addresses ip(8) added, with their labels' {
        $R.Alias7[0].Label | Should -Be 'eth0:7'
        "$($R.Alias7[0].IPAddress)" | Should -Be '192.0.2.60'
        @($R.Labelled | Sort-Object) | Should -Be @('192.0.2.30/24 eth0:0', '192.0.2.32/24 eth0:1', '192.0.2.60/24 eth0:7')
        $R.Table | Should -Match 'lo\s+IPv4\s+192\.0\.2\.30/32\s+global\s+lo:0'
    }

    It 'removes only what matches, and removes piped addresses' {
        $R.RemoveMismatch[0] | Should -BeLike 'VirtualIPAddressConflict,HaPowerShell.Commands.Arp.RemoveVirtualIPAddressCommand|*'
        $R.RemoveWrongLabel[0] | Should -BeLike 'VirtualIPAddressConflict,*'
        @($R.Removed | Sort-Object) | Should -Be @('192.0.2.30/24 eth0:0 True', '192.0.2.32/24 eth0:1 True', '192.0.2.60/24 eth0:7 True')
        $R.RemovedLo | Should -Be '192.0.2.30/32 lo:0'
    }

    It 'asks before removing (ConfirmImpact High), and removes nothing when it cannot ask' {
        (Get-Command Remove-VirtualIPAddress).ImplementingType.GetCustomAttributes([System.Management.Automation.CmdletAttribute], $false)[0].ConfirmImpact |
            Should -Be 'High'
        $R.RemoveAsks | Should -Not -Be 'none'
        $R.Labelled | Should -Contain '192.0.2.30/24 eth0:0'
        @($R.Removed) | Should -Contain '192.0.2.30/24 eth0:0 True'
    }

    It 'refuses loopback, link-local and primary addresses without -Force, removing none of them' {
        @($R.RemoveLoopback | Sort-Object) | Should -HaveCount 2
        foreach ($e in $R.RemoveLoopback) { $e | Should -BeLike 'AddressRemovalNeedsForce,HaPowerShell.Commands.Arp.RemoveVirtualIPAddressCommand|InvalidOperation|* is a loopback address;*-Force*' }
        $R.RemovePrimary[0] | Should -BeLike "AddressRemovalNeedsForce,*|InvalidOperation|$($Me.IPv4Address)/24 on eth0 is the interface's primary IPv4 address;*"
        $R.IpAfterProtected | Should -Contain '127.0.0.1/8 lo'
        $R.IpAfterProtected | Should -Contain '::1/128'
        $R.IpAfterProtected | Should -Contain "$($Me.IPv4Address)/24 eth0"
        if ($R.RemoveLinkLocal -ne 'none') { $R.RemoveLinkLocal[0] | Should -BeLike 'AddressRemovalNeedsForce,*link-local*' }
        @($R.IpAfterProtected | Where-Object { $_ -like 'fe80:*' }).Count | Should -Be @($R.IpAfterAdd | Where-Object { $_ -like 'fe80:*' }).Count
    }

    It 'is idempotent: removing what is gone is no error' {
        $R.RemoveAgain | Should -Be 'none'
    }

    It 'removes IPv6 addresses, and nothing with -WhatIf (whose -PassThru says Changed: it would)' {
        $R.RemoveWhatIf | Should -Be '2001:db8:1::30/64 True'
        $R.IpAfterWhatIfRemove | Should -Contain '2001:db8:1::30/64 nodad'
        @($R.IpAfterRemove | Where-Object { $_ -like '2001:db8:1::30/*' }) | Should -BeNullOrEmpty
        @($R.IpAfterRemove | Where-Object { $_ -like '192.0.2.*' }) | Should -Be @("$($Me.IPv4Address)/24 eth0")
    }

    It 'warns before removing a primary address whose secondaries go with it' {
        $promote = ($R.Promote -join '') -match '1'
        if ($promote) {
            $R.PrimaryWarning | Should -BeNullOrEmpty
            $R.IpAfterPrimary | Should -Contain '192.0.2.70/24 eth0:9 192.0.2.255'
        } else {
            $R.PrimaryWarning | Should -Match 'primary address.*192\.0\.2\.70/24.*promote_secondaries is 0'
            @($R.IpAfterPrimary | Where-Object { $_ -like '192.0.2.*' }) | Should -BeNullOrEmpty
        }
    }

    It 'says PermissionDenied without root and changes nothing' {
        @($NotRoot.StdOut -split "`n" | Where-Object { $_ -match 'PermissionDenied' }) | Should -Be @(
            'PermissionDenied,HaPowerShell.Commands.Arp.AddVirtualIPAddressCommand'
            'PermissionDenied,HaPowerShell.Commands.Arp.RemoveVirtualIPAddressCommand'
            'PermissionDenied,HaPowerShell.Commands.Arp.SendGratuitousArpCommand')
        $PeerAddresses | Should -Match ([regex]::Escape($T.Hosts.peer.IPv4Address))
        $PeerAddresses | Should -Not -Match '192\.0\.2\.30'
    }
}
