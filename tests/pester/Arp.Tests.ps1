# ARP cmdlets (Send-GratuitousArp, Send-ArpRequest, Test-ArpAddress, Get-ArpEntry).
# Untagged: argument checks and formatting, which change nothing and send nothing.
# Root: against real peers in network namespaces: frames checked byte for byte against iputils
# arping as captured by tcpdump on a peer, the peers' Linux neighbour tables, arping -D as the
# reference for duplicate detection. Documentation addresses only; traffic stays in the lab.
BeforeDiscovery {
    Import-Module (Join-Path $PSScriptRoot '../lab/NetnsLab.psm1') -Force
    $script:LabSupported = Test-LabEnvironment
}

BeforeAll {
    Import-Module $env:HAPS_MODULE_PATH -Force
    Import-Module (Join-Path $PSScriptRoot '../lab/NetnsLab.psm1') -Force

    function Get-ErrorOf([scriptblock]$Script) {
        # Runs a script and returns its error records (terminating or not) and its output.
        $errors = [System.Collections.Generic.List[object]]::new()
        $out = @()
        try {
            $out = @(& $Script 2>&1 | ForEach-Object { if ($_ -is [System.Management.Automation.ErrorRecord]) { $errors.Add($_) } else { $_ } })
        } catch { $errors.Add($_) }
        [pscustomobject]@{ Output = $out; Errors = $errors.ToArray() }
    }
}

Describe 'ARP cmdlets refuse bad input before sending anything' {
    It 'Send-GratuitousArp: unknown interface, listing the ones that exist' {
        $r = Get-ErrorOf { Send-GratuitousArp -InterfaceName nosuch0 -IPAddress 192.0.2.30 }
        $r.Output | Should -BeNullOrEmpty
        $r.Errors.Count | Should -Be 1
        $r.Errors[0].FullyQualifiedErrorId | Should -Be 'InterfaceNotFound,HaPowerShell.Commands.Arp.SendGratuitousArpCommand'
        $r.Errors[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $r.Errors[0].Exception.Message | Should -Match "no network interface named 'nosuch0'"
        $r.Errors[0].Exception.Message | Should -Match 'Interfaces here: lo\b'
    }

    It 'Send-GratuitousArp: loopback cannot do ARP' {
        $r = Get-ErrorOf { Send-GratuitousArp lo 192.0.2.30 }
        $r.Errors[0].FullyQualifiedErrorId | Should -BeLike 'InterfaceCannotArp,*'
        $r.Errors[0].Exception.Message | Should -Match 'loopback'
        $r.Output | Should -BeNullOrEmpty
    }

    It 'Send-GratuitousArp: <Address> is refused as <Id>' -ForEach @(
        @{ Address = 'not-an-ip'; Id = 'InvalidIPAddress' }
        @{ Address = '10.1'; Id = 'InvalidIPAddress' }
        @{ Address = '224.0.0.18'; Id = 'InvalidIPAddress' }
        @{ Address = '0.0.0.0'; Id = 'InvalidIPAddress' }
        @{ Address = '127.0.0.1'; Id = 'InvalidIPAddress' }
        @{ Address = 'ff02::1'; Id = 'InvalidIPAddress' }
        @{ Address = '192.0.2.30/40'; Id = 'InvalidIPAddress' }   # one address is announced: no /prefix at all
        @{ Address = '192.0.2.30/24'; Id = 'InvalidIPAddress' }
    ) {
        $r = Get-ErrorOf { Send-GratuitousArp nosuch0 $Address }
        $r.Errors[0].FullyQualifiedErrorId | Should -Be "$Id,HaPowerShell.Commands.Arp.SendGratuitousArpCommand"
        $r.Errors[0].CategoryInfo.Category | Should -Be 'InvalidArgument'
        $r.Errors[0].Exception.Message | Should -Match '-IPAddress'
    }

    It 'rejects out-of-range counts and intervals' {
        { Send-GratuitousArp lo 192.0.2.30 -Count 0 } | Should -Throw -ErrorId 'ParameterArgumentValidationError,HaPowerShell.Commands.Arp.SendGratuitousArpCommand'
        { Send-GratuitousArp lo 192.0.2.30 -Interval -1 } | Should -Throw -ErrorId 'InvalidArgument,HaPowerShell.Commands.Arp.SendGratuitousArpCommand'
        (Get-ErrorOf { Send-ArpRequest lo 192.0.2.1 -Timeout 0 }).Errors[0].FullyQualifiedErrorId | Should -BeLike 'InvalidArgument,*'
        (Get-ErrorOf { Test-ArpAddress lo 192.0.2.1 -Interval 99999 }).Errors[0].FullyQualifiedErrorId | Should -BeLike 'InvalidArgument,*'
    }

    It 'Send-ArpRequest: one address without prefix, source of the same family' {
        (Get-ErrorOf { Send-ArpRequest nosuch0 192.0.2.1/24 }).Errors[0].FullyQualifiedErrorId | Should -BeLike 'InvalidIPAddress,*'
        (Get-ErrorOf { Send-ArpRequest lo 192.0.2.1 }).Errors[0].FullyQualifiedErrorId | Should -BeLike 'InterfaceCannotArp,*'
    }

    It 'Test-ArpAddress: loopback and unknown interfaces' {
        (Get-ErrorOf { Test-ArpAddress lo 192.0.2.1 }).Errors[0].FullyQualifiedErrorId | Should -Be 'InterfaceCannotArp,HaPowerShell.Commands.Arp.TestArpAddressCommand'
        (Get-ErrorOf { Test-ArpAddress nosuch0 192.0.2.1 }).Errors[0].FullyQualifiedErrorId | Should -Be 'InterfaceNotFound,HaPowerShell.Commands.Arp.TestArpAddressCommand'
    }

    It 'Get-ArpEntry: bad MAC, bad address, unknown interface' {
        (Get-ErrorOf { Get-ArpEntry -LinkLayerAddress 'zz:00' }).Errors[0].FullyQualifiedErrorId | Should -Be 'InvalidLinkLayerAddress,HaPowerShell.Commands.Arp.GetArpEntryCommand'
        (Get-ErrorOf { Get-ArpEntry -IPAddress 'nope' }).Errors[0].FullyQualifiedErrorId | Should -BeLike 'InvalidIPAddress,*'
        $r = Get-ErrorOf { Get-ArpEntry -InterfaceName nosuch0 }
        $r.Errors[0].FullyQualifiedErrorId | Should -BeLike 'InterfaceNotFound,*'
        $r.Output | Should -BeNullOrEmpty
    }

    It 'Get-ArpEntry reads the table without root' {
        $entries = @(Get-ArpEntry -AddressFamily IPv4, IPv6)
        foreach ($e in $entries) { $e | Should -BeOfType ([HaPowerShell.Core.Arp.ArpEntry]) }
    }
}

Describe 'ARP cmdlet plumbing' {
    It 'completes -InterfaceName with the interfaces here' {
        $line = 'Send-GratuitousArp -InterfaceName l'
        $c = TabExpansion2 -inputScript $line -cursorColumn $line.Length
        $c.CompletionMatches.CompletionText | Should -Contain 'lo'
        $line = 'Set-ArpSuppression -InterfaceName a'
        $c = TabExpansion2 -inputScript $line -cursorColumn $line.Length
        $c.CompletionMatches.CompletionText | Should -Contain 'all'
    }

    It 'formats an ArpEntry like ip neigh' {
        $e = [HaPowerShell.Core.Arp.ArpEntry]::new('eth0', 2, [ipaddress]'192.0.2.12',
            [System.Net.NetworkInformation.PhysicalAddress]::Parse('02-00-5E-10-00-02'), 'Reachable', $false, $false)
        $text = $e | Out-String
        $text | Should -Match 'IPAddress\s+LinkLayerAddress\s+State'
        $text | Should -Match '192\.0\.2\.12\s+02:00:5e:10:00:02\s+REACHABLE'
        "$e" | Should -Be '192.0.2.12 dev eth0 lladdr 02:00:5e:10:00:02 REACHABLE'
    }

    It 'Send-* support -WhatIf and declare their outputs' {
        foreach ($name in 'Send-GratuitousArp', 'Send-ArpRequest') {
            (Get-Command $name).Parameters.Keys | Should -Contain 'WhatIf'
        }
        (Get-Command Send-GratuitousArp).OutputType.Type | Should -Contain ([HaPowerShell.Core.Arp.GratuitousArpResult])
        (Get-Command Send-ArpRequest).OutputType.Type | Should -Contain ([HaPowerShell.Core.Arp.ArpReply])
        (Get-Command Test-ArpAddress).OutputType.Type | Should -Contain ([bool])
    }
}

Describe 'ARP against real peers' -Tag 'Root' -Skip:(-not $LabSupported) {
    BeforeAll {
        Clear-LabLeftovers
        $script:T = New-LabTopology -Hosts 'me', 'peer', 'peer2'
        $script:Me = $T.Hosts.me
        $script:Peer = $T.Hosts.peer
        $script:Peer2 = $T.Hosts.peer2
        $script:OldMac = '02:00:00:00:00:99'
        function Invoke-Ip([string]$HostName, [string[]]$Arguments) { $null = Invoke-LabCommand -Topology $T -HostName $HostName -Command ip -ArgumentList $Arguments }

        # arping -U/-A only announce addresses configured locally; 192.0.2.50 is held by two hosts (a conflict).
        Invoke-Ip me 'addr', 'add', '192.0.2.30/24', 'dev', 'eth0'
        Invoke-Ip peer 'addr', 'add', '192.0.2.50/24', 'dev', 'eth0'
        Invoke-Ip peer2 'addr', 'add', '192.0.2.50/24', 'dev', 'eth0'
        # The peer believes these addresses are elsewhere: announcements must move them to our MAC.
        foreach ($a in '192.0.2.31', '192.0.2.36', '2001:db8:1::30') {
            Invoke-Ip peer 'neigh', 'replace', $a, 'lladdr', $OldMac, 'dev', 'eth0', 'nud', 'stale'
        }
        # Neighbour entries for Get-ArpEntry: a resolved peer (IPv4 and IPv6) and a static one.
        # iputils ping when installed, else busybox's (both take -c/-W/-6)
        $ping = @(if (Get-Command ping -CommandType Application -ErrorAction Ignore) { 'ping' } else { 'busybox', 'ping' })
        $null = Invoke-LabCommand -Topology $T -HostName me -Command $ping[0] -ArgumentList (@($ping | Select-Object -Skip 1) + @('-c', '1', '-W', '2', $Peer.IPv4Address))
        $null = Invoke-LabCommand -Topology $T -HostName me -Command $ping[0] -ArgumentList (@($ping | Select-Object -Skip 1) + @('-6', '-c', '1', '-W', '2', $Peer.IPv6Address))
        Invoke-Ip me 'neigh', 'add', '192.0.2.77', 'lladdr', '02:00:00:00:00:77', 'dev', 'eth0', 'nud', 'permanent'

        $script:Capture = Start-LabCapture -Topology $T -HostName peer -Filter 'arp or icmp6'
        # One child pwsh in the namespace runs every check (a pwsh start costs about a second). Results
        # come back as top-level objects tagged with a Key, since nested objects would be flattened
        # to strings by the CliXml depth limit.
        $out = (Invoke-LabPwsh -Topology $T -HostName me -ModulePath $env:HAPS_MODULE_PATH -ArgumentList $Peer.IPv4Address, $Peer.IPv6Address -Script {
                param($PeerIp, $PeerIp6)
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
                    $list | ForEach-Object { "$($_.FullyQualifiedErrorId)|$($_.CategoryInfo.Category)|$($_.Exception.Message)" } | Out-Key $Key
                }
                # Announcements, each followed by iputils arping doing the same (for a byte comparison).
                Send-GratuitousArp -InterfaceName eth0 -IPAddress 192.0.2.30 | Out-Key GarpU
                ((& arping -U -c 1 -I eth0 192.0.2.30 2>&1) -join "`n") | Out-Key ArpingU
                Send-GratuitousArp eth0 192.0.2.30 -Mode Reply | Out-Key GarpA
                ((& arping -A -c 1 -I eth0 192.0.2.30 2>&1) -join "`n") | Out-Key ArpingA
                Send-GratuitousArp eth0 192.0.2.31 -WarningVariable w -WarningAction SilentlyContinue | Out-Key Flip
                "$w" | Out-Key FlipWarning
                Send-GratuitousArp eth0 192.0.2.36 -Mode Reply -WarningAction SilentlyContinue | Out-Key FlipReply
                Send-GratuitousArp eth0 2001:db8:1::30 -WarningAction SilentlyContinue | Out-Key Na
                Send-GratuitousArp eth0 192.0.2.32, 192.0.2.33 -Count 3 -Interval 0.1 -WarningAction SilentlyContinue | Out-Key Rounds
                Get-VirtualIPAddress -InterfaceName eth0 -AddressFamily IPv4 | Send-GratuitousArp | Out-Key Piped
                $null = Send-GratuitousArp eth0 192.0.2.34 -WhatIf
                Err LoErrors { Send-GratuitousArp lo 192.0.2.35 }
                Err UnknownErrors { Send-GratuitousArp eth9 192.0.2.35 }
                # Requests.
                Send-ArpRequest -InterfaceName eth0 -IPAddress $PeerIp | Out-Key Request
                ((& arping -c 1 -I eth0 $PeerIp 2>&1) -join "`n") | Out-Key ArpingRequest
                Send-ArpRequest eth0 $PeerIp -SourceAddress 192.0.2.40 -Count 3 -Interval 0.2 | Out-Key Refresh
                Send-ArpRequest eth0 $PeerIp6 | Out-Key Request6
                Send-ArpRequest eth0 192.0.2.50 | Out-Key Duplicate
                Err NoReplyErrors { Send-ArpRequest eth0 192.0.2.99 -Timeout 0.3 }
                @(Send-ArpRequest eth0 192.0.2.99 -Timeout 0.3 -ErrorAction SilentlyContinue).Count | Out-Key NoReplyOutput
                # Duplicate address detection, and arping -D as the reference (exit 1: in use).
                Test-ArpAddress -InterfaceName eth0 -IPAddress $PeerIp | Out-Key TestBusy
                Test-ArpAddress eth0 192.0.2.98 | Out-Key TestFree
                $d = Test-ArpAddress eth0 192.0.2.50 -Detailed
                $d.IsAvailable | Out-Key DetailedAvailable
                $d.ClaimedBy | Out-Key DetailedClaimedBy
                $d.Claims | ForEach-Object { "$($_.Kind)" } | Out-Key DetailedClaimKinds
                Test-ArpAddress eth0 $PeerIp6 | Out-Key TestBusy6
                Test-ArpAddress eth0 2001:db8:1::98 | Out-Key TestFree6
                $null = & arping -D -c 2 -w 2 -I eth0 $PeerIp; $LASTEXITCODE | Out-Key ArpingDBusy
                $null = & arping -D -c 2 -w 2 -I eth0 192.0.2.98; $LASTEXITCODE | Out-Key ArpingDFree
                # The neighbour table.
                Get-ArpEntry | Out-Key Entries
                Get-ArpEntry -AddressFamily IPv6 | Out-Key Entries6
                Get-ArpEntry -State Permanent | Out-Key Permanent
                Get-ArpEntry -IPAddress 192.0.2.0/28, 192.0.2.77 | Out-Key InNetwork
                Get-ArpEntry -LinkLayerAddress '02-00-00-00-00-77'.ToUpper() | Out-Key ByMac
                (ip -j -4 neigh show | ConvertFrom-Json) | Where-Object { $_.state -notcontains 'NOARP' } | ForEach-Object { $_.dst } | Out-Key IpNeigh
                (Get-ArpEntry | Out-String) | Out-Key Table
            }).Output
        $script:R = @{}
        foreach ($o in $out) {
            if ($o -is [string]) { continue }   # host text (the -WhatIf line) comes back as plain strings
            if (-not $o.PSObject.Properties['Key']) { throw "untagged result from the lab: $($o | Out-String)" }
            $v = if (@($o.PSObject.Properties).Count -eq 2 -and $o.PSObject.Properties['Value']) { $o.Value } else { $o }
            $R[$o.Key] = @($R[$o.Key] | Where-Object { $null -ne $_ }) + @($v)
        }
        $script:Frames = @(Stop-LabCapture -Capture $Capture)

        function ConvertFrom-ArpFrame($Frame) {
            $b = $Frame.Bytes
            if ($b.Length -lt 42 -or $b[12] -ne 0x08 -or $b[13] -ne 0x06) { return $null }
            $mac = { param($o) ($b[$o..($o + 5)] | ForEach-Object { $_.ToString('x2') }) -join ':' }
            [pscustomobject]@{
                EthDst = & $mac 0; EthSrc = & $mac 6
                Op     = [int]$b[20] * 256 + $b[21]
                Sha    = & $mac 22; Spa = ([ipaddress][byte[]]$b[28..31]).ToString()
                Tha    = & $mac 32; Tpa = ([ipaddress][byte[]]$b[38..41]).ToString()
                Hex    = [Convert]::ToHexString($b)
                Time   = $Frame.UnixNanoseconds
            }
        }
        $script:Arp = @($Frames | ForEach-Object { ConvertFrom-ArpFrame $_ } | Where-Object { $_ })
    }

    AfterAll {
        Remove-LabTopology -Topology $script:T
    }

    It 'Send-GratuitousArp sends what arping -U sends, byte for byte' {
        $R.ArpingU | Should -Match 'Sent 1 probes'
        $u = @($Arp | Where-Object { $_.Op -eq 1 -and $_.Spa -eq '192.0.2.30' -and $_.Tpa -eq '192.0.2.30' })
        $u.Count | Should -Be 3 -Because 'ours, then arping -U, then the pipeline test (which announces 192.0.2.30 again)'
        $u[0].Hex | Should -Be $u[1].Hex
        $u[2].Hex | Should -Be $u[0].Hex
        $u[0].EthSrc | Should -Be $Me.MacAddress
        $u[0].EthDst | Should -Be 'ff:ff:ff:ff:ff:ff'
        $u[0].Sha | Should -Be $Me.MacAddress
        $u[0].Tha | Should -Be 'ff:ff:ff:ff:ff:ff'
        [HaPowerShell.Core.Arp.AnnouncementKind]$R.GarpU.Kind | Should -Be 'ArpRequest'
        $R.GarpU.FramesSent | Should -Be 1
        $R.GarpU.LinkLayerAddress | Should -Be $Me.MacAddress
    }

    It 'Send-GratuitousArp -Mode Reply sends what arping -A sends, byte for byte' {
        $a = @($Arp | Where-Object { $_.Op -eq 2 -and $_.Spa -eq '192.0.2.30' -and $_.Tpa -eq '192.0.2.30' })
        $a.Count | Should -Be 2 -Because 'ours, then arping -A'
        $a[0].Hex | Should -Be $a[1].Hex
        $a[0].Tha | Should -Be $Me.MacAddress
        $a[0].EthDst | Should -Be 'ff:ff:ff:ff:ff:ff'
        [HaPowerShell.Core.Arp.AnnouncementKind]$R.GarpA.Kind | Should -Be 'ArpReply'
    }

    It "moves the peer's neighbour entry to our MAC (request and reply mode)" {
        foreach ($a in '192.0.2.31', '192.0.2.36') {
            $n = Get-LabNeighbor -Topology $T -HostName peer -IPAddress $a
            $n.MacAddress | Should -Be $Me.MacAddress -Because "$a was at $OldMac before the announcement"
        }
        $R.FlipWarning | Should -Match '192.0.2.31 is not assigned to eth0'
    }

    It 'announces IPv6 addresses with an unsolicited Neighbor Advertisement the peer accepts' {
        $na = @($Frames | Where-Object { $_.Bytes.Length -ge 86 -and $_.Bytes[12] -eq 0x86 -and $_.Bytes[13] -eq 0xDD -and $_.Bytes[54] -eq 136 -and
                ([ipaddress][byte[]]$_.Bytes[62..77]).ToString() -eq '2001:db8:1::30' })
        $na.Count | Should -Be 1
        $b = $na[0].Bytes
        [Convert]::ToHexString($b[0..5]) | Should -Be '333300000001'
        $b[21] | Should -Be 255                      # hop limit
        ([ipaddress][byte[]]$b[38..53]).ToString() | Should -Be 'ff02::1'
        $b[58] | Should -Be 0x20                     # Override, not Solicited, not Router
        $b[78] | Should -Be 2                        # target link-layer address option
        (($b[80..85] | ForEach-Object { $_.ToString('x2') }) -join ':') | Should -Be $Me.MacAddress
        (Get-LabNeighbor -Topology $T -HostName peer -IPAddress '2001:db8:1::30').MacAddress | Should -Be $Me.MacAddress
        [HaPowerShell.Core.Arp.AnnouncementKind]$R.Na.Kind | Should -Be 'NeighborAdvertisement'
    }

    It 'sends several addresses in rounds, -Interval apart' {
        $rounds = @($Arp | Where-Object { $_.Spa -in '192.0.2.32', '192.0.2.33' })
        ($rounds.Spa -join ',') | Should -Be '192.0.2.32,192.0.2.33,192.0.2.32,192.0.2.33,192.0.2.32,192.0.2.33'
        ($rounds[2].Time - $rounds[0].Time) | Should -BeGreaterOrEqual 90000000   # at least the 0.1 s interval (ns)
        $R.Rounds.Count | Should -Be 2
        $R.Rounds | ForEach-Object { $_.FramesSent | Should -Be 3 }
    }

    It 'takes VirtualIPAddress objects from the pipeline' {
        @($R.Piped | ForEach-Object { "$($_.IPAddress)" }) | Should -Be @($Me.IPv4Address, '192.0.2.30')
    }

    It 'sends nothing for -WhatIf, loopback or an unknown interface, and says why' {
        @($Arp | Where-Object { $_.Spa -in '192.0.2.34', '192.0.2.35' }) | Should -BeNullOrEmpty
        $R.LoErrors[0] | Should -BeLike 'InterfaceCannotArp,HaPowerShell.Commands.Arp.SendGratuitousArpCommand|InvalidOperation|*loopback*'
        $R.UnknownErrors[0] | Should -BeLike "InterfaceNotFound,*|ObjectNotFound|*'eth9'*Interfaces here: lo, eth0.*"
    }

    It "Send-ArpRequest returns the peer's MAC, as arping does" {
        $R.Request.Count | Should -Be 1
        $R.Request[0].LinkLayerAddress | Should -Be $Peer.MacAddress
        "$($R.Request[0].IPAddress)" | Should -Be $Peer.IPv4Address
        "$($R.Request[0].SourceAddress)" | Should -Be $Me.IPv4Address
        $R.Request[0].Unicast | Should -BeTrue
        $R.Request[0].RoundTripMilliseconds | Should -BeGreaterThan 0
        $R.ArpingRequest | Should -Match ([regex]::Escape("[$($Peer.MacAddress.ToUpper())]"))
    }

    It "Send-ArpRequest -SourceAddress refreshes the peer's entry for that address (arping -s)" {
        $R.Refresh.Count | Should -Be 3
        @($R.Refresh.Sequence) | Should -Be @(1, 2, 3)
        @($Arp | Where-Object { $_.Op -eq 1 -and $_.Spa -eq '192.0.2.40' -and $_.Tpa -eq $Peer.IPv4Address }).Count | Should -Be 3
        (Get-LabNeighbor -Topology $T -HostName peer -IPAddress '192.0.2.40').MacAddress | Should -Be $Me.MacAddress
    }

    It 'Send-ArpRequest resolves IPv6 neighbours and reports every host that answers' {
        $R.Request6[0].LinkLayerAddress | Should -Be $Peer.MacAddress
        @($R.Duplicate.LinkLayerAddress | Sort-Object) | Should -Be @(@($Peer.MacAddress, $Peer2.MacAddress) | Sort-Object)
    }

    It 'Send-ArpRequest says clearly when nothing answered' {
        $R.NoReplyOutput | Should -Be 0
        $R.NoReplyErrors.Count | Should -Be 1
        $R.NoReplyErrors[0] | Should -BeLike 'NoArpReply,HaPowerShell.Commands.Arp.SendArpRequestCommand|OperationTimeout|No reply from 192.0.2.99 on eth0 to 1 request*'
    }

    It 'Test-ArpAddress agrees with arping -D' {
        $R.ArpingDBusy | Should -Be 1
        $R.ArpingDFree | Should -Be 0
        $R.TestBusy | Should -BeFalse
        $R.TestFree | Should -BeTrue
        $R.TestBusy6 | Should -BeFalse
        $R.TestFree6 | Should -BeTrue
        @($Arp | Where-Object { $_.Op -eq 1 -and $_.Spa -eq '0.0.0.0' -and $_.Tpa -eq '192.0.2.98' }).Count | Should -BeGreaterOrEqual 2
    }

    It 'Test-ArpAddress -Detailed names every host that claims the address' {
        $R.DetailedAvailable | Should -BeFalse
        @($R.DetailedClaimedBy | Sort-Object) | Should -Be @(@($Peer.MacAddress, $Peer2.MacAddress) | Sort-Object)
        $R.DetailedClaimKinds | Should -Contain 'Reply'
    }

    It 'Get-ArpEntry shows the neighbour table as ip neigh does' {
        $peerEntry = $R.Entries | Where-Object { "$($_.IPAddress)" -eq $Peer.IPv4Address }
        $peerEntry.LinkLayerAddress | Should -Be $Peer.MacAddress
        $peerEntry.InterfaceName | Should -Be 'eth0'
        [HaPowerShell.Core.Arp.ArpEntryState]$peerEntry.State | Should -BeIn 'Reachable', 'Stale', 'Delay', 'Probe'
        @($R.Entries | ForEach-Object { "$($_.IPAddress)" } | Sort-Object) | Should -Be @($R.IpNeigh | Sort-Object)
        @($R.Entries6 | Where-Object { "$($_.IPAddress)" -eq $Peer.IPv6Address }).Count | Should -Be 1
        @($R.Entries6 | Where-Object { [HaPowerShell.Core.Arp.IPAddressFamily]$_.AddressFamily -ne 'IPv6' }) | Should -BeNullOrEmpty
        @($R.Permanent | ForEach-Object { "$($_.IPAddress)" }) | Should -Be @('192.0.2.77')
        @($R.InNetwork | ForEach-Object { "$($_.IPAddress)" } | Sort-Object) | Should -Be @($Peer.IPv4Address, '192.0.2.77')
        @($R.ByMac | ForEach-Object { "$($_.IPAddress)" }) | Should -Be @('192.0.2.77')
        $R.Table | Should -Match ('192\.0\.2\.77\s+02:00:00:00:00:77\s+PERMANENT\s+False\s+eth0')
    }
}
