# Get-ArpSuppression / Set-ArpSuppression.
# Untagged: reading (no root needed) and the cmdlet contract. Every write happens inside network
# namespaces (tagged Root): an LVS-DR real server with the VIP on lo answers ARP for it until
# Set-ArpSuppression is applied, then stays silent (iputils arping from a client is the judge) while
# still accepting the packets a director forwards to its MAC; idempotence, -WhatIf, -Persist, no root.
BeforeDiscovery {
    Import-Module (Join-Path $PSScriptRoot '../lab/NetnsLab.psm1') -Force
    $script:LabSupported = Test-LabEnvironment
}

BeforeAll {
    Import-Module $env:HAPS_MODULE_PATH -Force
    Import-Module (Join-Path $PSScriptRoot '../lab/NetnsLab.psm1') -Force
}

Describe 'Get-ArpSuppression' {
    It 'reads all, default, lo and every interface, with the effective values the kernel applies' {
        $s = @(Get-ArpSuppression)
        $s.InterfaceName | Should -Contain 'all'
        $s.InterfaceName | Should -Contain 'default'
        $s.InterfaceName | Should -Contain 'lo'
        $all = $s | Where-Object InterfaceName -eq 'all'
        foreach ($x in $s) {
            $x | Should -BeOfType ([HaPowerShell.Core.Arp.ArpSuppression])
            $x.ArpIgnore | Should -Be ([int](Get-Content "/proc/sys/net/ipv4/conf/$($x.InterfaceName)/arp_ignore"))
            $x.ArpAnnounce | Should -Be ([int](Get-Content "/proc/sys/net/ipv4/conf/$($x.InterfaceName)/arp_announce"))
            if ($x.InterfaceName -eq 'default') { $x.EffectiveArpIgnore | Should -BeNullOrEmpty }
            elseif ($x.InterfaceName -ne 'all') {
                $x.EffectiveArpIgnore | Should -Be ([math]::Max($x.ArpIgnore, $all.ArpIgnore))
                $x.EffectiveArpAnnounce | Should -Be ([math]::Max($x.ArpAnnounce, $all.ArpAnnounce))
            }
        }
    }

    It 'names the interfaces that exist when asked for one that does not' {
        $err = $null
        $out = Get-ArpSuppression -InterfaceName lo, nosuch0 -ErrorVariable err -ErrorAction SilentlyContinue
        @($out).Count | Should -Be 1
        $err[0].FullyQualifiedErrorId | Should -Be 'InterfaceNotFound,HaPowerShell.Commands.Arp.GetArpSuppressionCommand'
        $err[0].Exception.Message | Should -Match 'Interfaces here: lo'
    }

    It 'explains the values' {
        (Get-ArpSuppression lo).ArpIgnoreMeaning | Should -Not -BeNullOrEmpty
    }
}

Describe 'Set-ArpSuppression contract' {
    It 'supports -WhatIf/-Confirm, -PassThru and -Persist, and declares its output' {
        $c = Get-Command Set-ArpSuppression
        $c.Parameters.Keys | Should -Contain 'WhatIf'
        $c.Parameters.Keys | Should -Contain 'PassThru'
        $c.Parameters.Keys | Should -Contain 'Persist'
        $c.OutputType.Type | Should -Contain ([HaPowerShell.Core.Arp.ArpSuppressionResult])
    }
}

Describe 'LVS-DR real server in namespaces' -Tag 'Root' -Skip:(-not $LabSupported) {
    BeforeAll {
        Clear-LabLeftovers
        $script:T = New-LabTopology -Hosts 'director', 'rs', 'client'
        $script:Vip = '192.0.2.30'
        $script:Rs = $T.Hosts.rs
        $script:PersistDir = Join-Path $T.StateDirectory 'sysctl.d'   # removed with the topology
        $null = New-Item -ItemType Directory -Path $PersistDir

        function Invoke-Lab([string]$HostName, [string[]]$Arguments) {
            Invoke-LabCommand -Topology $T -HostName $HostName -Command $Arguments[0] -ArgumentList ($Arguments | Select-Object -Skip 1) -AllowFailure
        }
        function Invoke-Arping([string]$Target) {
            # iputils arping from the client: exit 0 and a reply line when someone answers.
            Invoke-Lab client 'arping', '-c', '2', '-w', '3', '-I', 'eth0', $Target
        }
        function ConvertFrom-LabOutput($Output) {
            # Results come back as top-level objects tagged with Key (nested ones would be flattened to text).
            $h = @{}
            foreach ($o in $Output) {
                if ($o -is [string] -or -not $o.PSObject.Properties['Key']) { continue }
                $v = if (@($o.PSObject.Properties).Count -eq 2 -and $o.PSObject.Properties['Value']) { $o.Value } else { $o }
                $h[$o.Key] = @($h[$o.Key] | Where-Object { $null -ne $_ }) + @($v)
            }
            $h
        }
        $script:Prelude = @'
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
    if (-not $list) { "none" | Out-Key $Key }
    $list | ForEach-Object { "$($_.FullyQualifiedErrorId)|$($_.CategoryInfo.Category)|$($_.Exception.Message)" } | Out-Key $Key
}
function Values { ($('lo', 'all', 'eth0') | ForEach-Object { "$_=$(Get-Content /proc/sys/net/ipv4/conf/$_/arp_ignore)/$(Get-Content /proc/sys/net/ipv4/conf/$_/arp_announce)" }) -join ' ' }
'@

        # 1. The real server holds the VIP on lo:0 and answers ARP for it (kernel defaults 0/0).
        $script:Setup = ConvertFrom-LabOutput (Invoke-LabPwsh -Topology $T -HostName rs -ModulePath $env:HAPS_MODULE_PATH -Script ([scriptblock]::Create($Prelude + @'
Add-VirtualIPAddress -InterfaceName lo:0 -IPAddress 192.0.2.30/32 -PassThru | Out-Key Vip
Values | Out-Key Before
'@))).Output
        $script:ArpingBefore = Invoke-Arping $Vip

        # 2. Suppression, with -WhatIf first, idempotence, -Persist and bad input.
        $script:S = ConvertFrom-LabOutput (Invoke-LabPwsh -Topology $T -HostName rs -ModulePath $env:HAPS_MODULE_PATH -ArgumentList $PersistDir -Script ([scriptblock]::Create("param(`$Dir)`n" + $Prelude + @'
Set-ArpSuppression -WhatIf -PassThru | Out-Key WhatIf
Values | Out-Key AfterWhatIf
Set-ArpSuppression -PassThru | Out-Key First
Set-ArpSuppression -PassThru | Out-Key Second
Get-ArpSuppression | Out-Key Get
$file = Join-Path $Dir '95-test.conf'
Set-ArpSuppression -Persist -PersistPath $file -WhatIf -PassThru | Out-Key PersistWhatIf
(Test-Path $file) | Out-Key PersistWhatIfFile
Set-ArpSuppression -Persist -PersistPath $file -PassThru | Out-Key Persist
(Get-Content -Raw $file) | Out-Key PersistText
$stamp = (Get-Item $file).LastWriteTimeUtc.Ticks
Start-Sleep -Milliseconds 20
Set-ArpSuppression -Persist -PersistPath $file -PassThru | Out-Key PersistAgain
((Get-Item $file).LastWriteTimeUtc.Ticks -eq $stamp) | Out-Key PersistUntouched
Set-ArpSuppression -InterfaceName eth0 -ArpIgnore 1 -Persist -PersistPath $file
(Get-Content -Raw $file) | Out-Key PersistMerged
Set-ArpSuppression -InterfaceName eth0 -ArpIgnore 0
$foreign = Join-Path $Dir 'foreign.conf'
Set-Content -Path $foreign -Value 'net.ipv4.ip_forward = 1' -NoNewline
Values | Out-Key BeforeBad
Err ForeignErrors { Set-ArpSuppression -InterfaceName eth0 -ArpAnnounce 1 -Persist -PersistPath $foreign }
(Get-Content -Raw $foreign) | Out-Key ForeignText
Err IgnoreErrors { Set-ArpSuppression -InterfaceName eth0 -ArpIgnore 5 }
Err AnnounceErrors { Set-ArpSuppression -InterfaceName eth0 -ArpAnnounce 3 }
Err PathErrors { Set-ArpSuppression -InterfaceName eth0 -ArpIgnore 2 -PersistPath (Join-Path $Dir 'x.conf') }
Err TxtErrors { Set-ArpSuppression -InterfaceName eth0 -ArpIgnore 2 -Persist -PersistPath (Join-Path $Dir 'x.txt') }
Err UnknownErrors { Set-ArpSuppression -InterfaceName eth0, eth9 -ArpIgnore 2 }
Values | Out-Key AfterBad
(Test-Path (Join-Path $Dir 'x.conf')) | Out-Key StrayFile
'@))).Output
        $script:ArpingAfter = Invoke-Arping $Vip

        # 3. Forwarding as a DR director does: client -> director MAC -> real server MAC, VIP unchanged.
        foreach ($cmd in @(
                @('director', 'sysctl', '-q', '-w', 'net.ipv4.ip_forward=1', 'net.ipv4.conf.all.send_redirects=0', 'net.ipv4.conf.eth0.send_redirects=0'),
                @('director', 'ip', 'route', 'add', "$Vip/32", 'via', $Rs.IPv4Address),
                @('client', 'ip', 'route', 'add', "$Vip/32", 'via', $T.Hosts.director.IPv4Address),
                @('rs', 'ip', 'neigh', 'flush', 'all'))) {
            $r = Invoke-Lab $cmd[0] ($cmd | Select-Object -Skip 1)
            if ($r.ExitCode -ne 0) { throw "setup '$($cmd -join ' ')' failed: $($r.StdErr)" }
        }
        $capture = Start-LabCapture -Topology $T -HostName client -Filter 'arp'
        $pingCmd = @(if (Get-Command ping -CommandType Application -ErrorAction Ignore) { 'ping' } else { 'busybox', 'ping' })
        $script:Ping = Invoke-Lab client ($pingCmd + @('-c', '2', '-W', '2', $Vip))
        $script:ClientArp = @(Stop-LabCapture -Capture $capture)
        $script:ClientView = ConvertFrom-LabOutput (Invoke-LabPwsh -Topology $T -HostName client -ModulePath $env:HAPS_MODULE_PATH -Script ([scriptblock]::Create($Prelude + @'
Err NoReply { Send-ArpRequest eth0 192.0.2.30 -Timeout 0.5 }
Get-ArpEntry -IPAddress 192.0.2.30 | Out-Key VipEntry
'@))).Output

        # 4. Without root: refused, nothing changed.
        $home2 = Join-Path $T.StateDirectory 'nobody-home'
        $null = New-Item -ItemType Directory -Path $home2
        & chmod 777 $home2
        $pwshArgs = @([Environment]::ProcessPath)
        if ([IO.Path]::GetFileNameWithoutExtension($pwshArgs[0]) -eq 'dotnet') { $pwshArgs += Join-Path $PSHOME 'pwsh.dll' }
        $script:NotRoot = Invoke-LabCommand -Topology $T -HostName rs -Command setpriv -AllowFailure -TimeoutSeconds 120 -ArgumentList (@(
                '--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=+dac_read_search', '--ambient-caps=+dac_read_search',
                'env', "HOME=$home2", "DOTNET_CLI_HOME=$home2", 'DOTNET_NOLOGO=1') + $pwshArgs + @('-NoProfile', '-NonInteractive', '-Command',
                "Import-Module '$env:HAPS_MODULE_PATH'; try { Set-ArpSuppression -InterfaceName lo, all -ArpIgnore 0 -ArpAnnounce 0 -ErrorAction Stop } catch { `$_.FullyQualifiedErrorId; `$_.Exception.Message }"))
        $script:AfterNotRoot = (Invoke-Lab rs 'cat', '/proc/sys/net/ipv4/conf/lo/arp_ignore', '/proc/sys/net/ipv4/conf/all/arp_ignore').StdOut

        # 5. Back to the kernel defaults: the real server answers again.
        $null = Invoke-LabPwsh -Topology $T -HostName rs -ModulePath $env:HAPS_MODULE_PATH -Script { Set-ArpSuppression -ArpIgnore 0 -ArpAnnounce 0 }
        $script:ArpingRestored = Invoke-Arping $Vip
    }

    AfterAll {
        Remove-LabTopology -Topology $script:T
    }

    It 'without suppression the real server answers ARP for the VIP on lo' {
        "$($Setup.Vip[0].Label)" | Should -Be 'lo:0'
        $Setup.Before | Should -Be 'lo=0/0 all=0/0 eth0=0/0'
        $ArpingBefore.ExitCode | Should -Be 0 -Because $ArpingBefore.StdOut
        $ArpingBefore.StdOut | Should -Match ([regex]::Escape("reply from $Vip [$($Rs.MacAddress.ToUpper())]"))
    }

    It '-WhatIf changes nothing, and -PassThru says what would change (Changed true, values as they are)' {
        $S.AfterWhatIf | Should -Be 'lo=0/0 all=0/0 eth0=0/0'
        @($S.WhatIf.InterfaceName) | Should -Be @('lo', 'all')
        $S.WhatIf | ForEach-Object {
            $_.Changed | Should -BeTrue
            $_.ArpIgnore | Should -Be 0
        }
    }

    It 'applies arp_ignore=1 / arp_announce=2 on lo and all by default, and says it changed them' {
        @($S.First.InterfaceName) | Should -Be @('lo', 'all')
        $S.First | ForEach-Object {
            $_.Changed | Should -BeTrue
            $_.ArpIgnore | Should -Be 1
            $_.ArpAnnounce | Should -Be 2
            $_.PreviousArpIgnore | Should -Be 0
            $_.PreviousArpAnnounce | Should -Be 0
        }
    }

    It 'is idempotent: a second call changes nothing' {
        $S.Second | ForEach-Object { $_.Changed | Should -BeFalse }
    }

    It 'reports the effective values: eth0 is capped by all' {
        $eth0 = $S.Get | Where-Object InterfaceName -eq 'eth0'
        $eth0.ArpIgnore | Should -Be 0
        $eth0.EffectiveArpIgnore | Should -Be 1
        $eth0.EffectiveArpAnnounce | Should -Be 2
        $eth0.IsSuppressed | Should -BeTrue
    }

    It 'with suppression the real server no longer answers ARP for the VIP' {
        $ArpingAfter.ExitCode | Should -Not -Be 0
        $ArpingAfter.StdOut | Should -Match 'Received 0 response'
        $ClientView.NoReply[0] | Should -BeLike 'NoArpReply,*|OperationTimeout|No reply from 192.0.2.30 on eth0*'
        $ClientView.VipEntry | Should -BeNullOrEmpty
    }

    It 'still accepts packets for the VIP that the director forwards to its MAC' {
        $Ping.ExitCode | Should -Be 0 -Because ($Ping.StdOut + $Ping.StdErr)
        $Ping.StdOut | Should -Match ([regex]::Escape("from $Vip"))
    }

    It 'uses its own address, never the VIP, when it ARPs (arp_announce=2)' {
        $fromRs = @($ClientArp | Where-Object { (($_.Bytes[6..11] | ForEach-Object { $_.ToString('x2') }) -join ':') -eq $Rs.MacAddress })
        $fromRs.Count | Should -BeGreaterThan 0 -Because 'the real server resolves the client to answer it directly'
        foreach ($f in $fromRs) { ([ipaddress][byte[]]$f.Bytes[28..31]).ToString() | Should -Be $Rs.IPv4Address }
    }

    It '-Persist writes a sysctl.d drop-in, leaves it alone when it is current, and merges new interfaces' {
        $S.Persist | ForEach-Object { $_.PersistPath | Should -Be (Join-Path $PersistDir '95-test.conf') }
        # the values were already in place: writing the drop-in alone is a change; under -WhatIf, one that would be made
        $S.PersistWhatIf | ForEach-Object { $_.Changed | Should -BeTrue }
        $S.PersistWhatIfFile | Should -BeFalse
        $S.Persist | ForEach-Object { $_.Changed | Should -BeTrue }
        $S.PersistAgain | ForEach-Object { $_.Changed | Should -BeFalse }
        @($S.PersistAgain).Count | Should -Be 2
        $S.PersistText | Should -Match '(?m)^net\.ipv4\.conf\.all\.arp_ignore = 1$'
        $S.PersistText | Should -Match '(?m)^net\.ipv4\.conf\.all\.arp_announce = 2$'
        $S.PersistText | Should -Match '(?m)^net\.ipv4\.conf\.lo\.arp_ignore = 1$'
        $S.PersistText | Should -Match '(?m)^net\.ipv4\.conf\.lo\.arp_announce = 2$'
        $S.PersistUntouched | Should -BeTrue
        $S.PersistMerged | Should -Match '(?m)^net\.ipv4\.conf\.eth0\.arp_ignore = 1$'
        $S.PersistMerged | Should -Not -Match 'eth0\.arp_announce'
        $S.PersistMerged | Should -Match '(?m)^net\.ipv4\.conf\.lo\.arp_announce = 2$'
        # the drop-in is what sysctl(8) reads at boot
        $check = Invoke-LabCommand -Topology $T -HostName client -Command sysctl -ArgumentList '-p', (Join-Path $PersistDir '95-test.conf') -AllowFailure
        $check.ExitCode | Should -Be 0 -Because $check.StdErr
        $check.StdOut | Should -Match 'net.ipv4.conf.lo.arp_ignore = 1'
    }

    It 'refuses bad input and foreign files with clear errors, changing nothing' {
        $S.ForeignErrors[0] | Should -BeLike 'PersistFileNotOurs,*|InvalidArgument|*not written by HaPowerShell*'
        $S.ForeignText | Should -Be 'net.ipv4.ip_forward = 1'
        $S.IgnoreErrors[0] | Should -BeLike 'InvalidArpIgnore,*|InvalidArgument|*'
        $S.AnnounceErrors[0] | Should -BeLike 'InvalidArpAnnounce,*|InvalidArgument|*'
        $S.PathErrors[0] | Should -BeLike 'InvalidArgument,*|InvalidArgument|*-Persist*'
        $S.TxtErrors[0] | Should -BeLike 'InvalidArgument,*|InvalidArgument|*.conf*'
        $S.UnknownErrors[0] | Should -BeLike "InterfaceNotFound,*|ObjectNotFound|*'eth9'*lo, eth0*"
        $S.AfterBad | Should -Be $S.BeforeBad
        $S.StrayFile | Should -BeFalse
    }

    It 'says PermissionDenied without root and changes nothing' {
        $NotRoot.StdOut | Should -Match 'PermissionDenied,HaPowerShell.Commands.Arp.SetArpSuppressionCommand'
        $NotRoot.StdOut | Should -Match 'needs root'
        ($AfterNotRoot -split '\s+' | Where-Object { $_ }) | Should -Be @('1', '1')
    }

    It 'answers ARP for the VIP again once the settings are back to 0' {
        $ArpingRestored.ExitCode | Should -Be 0 -Because $ArpingRestored.StdOut
    }
}
