# The module as a user meets it: it imports from out/, every cmdlet has real help.
BeforeDiscovery {
    Import-Module $env:HAPS_MODULE_PATH -Force
    $script:cmdlets = @(Get-Command -Module HaPowerShell -CommandType Cmdlet | ForEach-Object { @{ Name = $_.Name } })
    $script:changers = @(Get-Command -Module HaPowerShell -CommandType Cmdlet | Where-Object { $_.Parameters.ContainsKey('WhatIf') } |
        ForEach-Object { @{ Name = $_.Name } })
}

BeforeAll {
    Import-Module $env:HAPS_MODULE_PATH -Force
}

Describe 'HaPowerShell module' {
    It 'imports from the build output and exports what the manifest lists' {
        $m = Get-Module HaPowerShell
        $m | Should -Not -BeNullOrEmpty
        $manifest = Import-PowerShellDataFile (Join-Path $env:HAPS_MODULE_PATH 'HaPowerShell.psd1')
        @($m.ExportedCmdlets.Keys | Sort-Object) | Should -Be @($manifest.CmdletsToExport | Sort-Object)
    }

    It 'has project, licence and release metadata, and ships its licence' {
        $manifest = Import-PowerShellDataFile (Join-Path $env:HAPS_MODULE_PATH 'HaPowerShell.psd1')
        $psData = $manifest.PrivateData.PSData
        foreach ($key in 'ProjectUri', 'LicenseUri') {
            [uri]::IsWellFormedUriString($psData[$key], 'Absolute') | Should -BeTrue -Because "$key must be an absolute URI"
            ([uri]$psData[$key]).Scheme | Should -Be 'https'
        }
        $psData.ReleaseNotes | Should -Match ([regex]::Escape($manifest.ModuleVersion))
        $psData.Tags | Should -Contain 'PSEdition_Core'
        Join-Path $env:HAPS_MODULE_PATH 'LICENSE' | Should -Exist
    }

    It 'uses only approved verbs' {
        $approved = (Get-Verb).Verb
        Get-Command -Module HaPowerShell | ForEach-Object { $_.Verb | Should -BeIn $approved -Because $_.Name }
    }
}

Describe 'about_ topic <Name>' -ForEach @(
    @{ Name = 'about_HaPowerShell'; Words = 'PRIVILEGES', 'HaPowerShell.Vrrp', 'HaPowerShell.HealthCheck', 'HaPowerShell.Log', 'PROCESS LIFETIME', 'RUNNING AS A SERVICE', 'SourceArgs' }
    @{ Name = 'about_HaPowerShell_Ipvs'; Words = 'ipvsadm', 'Sync-IpvsConfig', 'PRIVILEGES' }
    @{ Name = 'about_HaPowerShell_Vrrp'; Words = 'keepalived', 'Start-VrrpInstance', 'SECRETS' }
    @{ Name = 'about_HaPowerShell_HealthChecks'; Words = 'Start-IpvsHealthCheck', 'quorum', 'HaPowerShell.HealthCheck' }
) {
    It 'ships in the module and Get-Help finds it' {
        Join-Path $env:HAPS_MODULE_PATH "en-US/$Name.help.txt" | Should -Exist
        $text = Get-Help $Name | Out-String
        $text | Should -Match "(?m)^\s*$Name\s*$"
        foreach ($w in $Words) { $text | Should -Match ([regex]::Escape($w)) -Because "$Name should cover $w" }
    }

    It 'keeps to 80 columns and names only cmdlets that exist' {
        $lines = Get-Content (Join-Path $env:HAPS_MODULE_PATH "en-US/$Name.help.txt")
        foreach ($l in $lines) { $l.Length | Should -BeLessOrEqual 80 -Because "'$l'" }
        $named = [regex]::Matches(($lines -join "`n"), '\b(?:Get|Set|New|Add|Remove|Clear|Reset|Start|Stop|Wait|Sync|Import|Export|Send|Test|Invoke)-(?:Ipvs|Vrrp|Arp|VirtualIP|Gratuitous|Tcp|Http|Misc)\w*') |
            ForEach-Object Value | Sort-Object -Unique
        foreach ($c in $named) { Get-Command $c -Module HaPowerShell -ErrorAction SilentlyContinue | Should -Not -BeNullOrEmpty -Because "$Name names $c" }
    }
}

Describe 'Help for <Name>' -ForEach $cmdlets {
    BeforeAll {
        $help = Get-Help $Name -Full
        $command = Get-Command $Name
    }

    It 'has a synopsis and a description' {
        $help.Synopsis | Should -Not -BeNullOrEmpty
        # Without MAML help, PowerShell makes the synopsis from the syntax ("Get-X [<CommonParameters>]").
        $help.Synopsis.Trim() | Should -Not -Match ('^' + [regex]::Escape($Name) + '\s')
        ($help.description | Out-String).Trim() | Should -Not -BeNullOrEmpty
    }

    It 'has at least one example, each with code and an explanation' {
        @($help.examples.example).Count | Should -BeGreaterThan 0
        foreach ($e in $help.examples.example) {
            $e.code | Should -Not -BeNullOrEmpty -Because "$($e.title) of $Name needs code"
            ($e.remarks | Out-String).Trim() | Should -Not -BeNullOrEmpty -Because "$($e.title) of $Name needs a sentence saying what it does (docs/cmdlets/$Name.md)"
        }
    }

    It 'opens its online page with -Online: the first related link is its absolute page' {
        $first = @($help.relatedLinks.navigationLink)[0]
        $first.uri | Should -Match "^https://.+/$([regex]::Escape($Name))\.md$"
        foreach ($l in @($help.relatedLinks.navigationLink)) {
            [uri]::IsWellFormedUriString($l.uri, 'Absolute') | Should -BeTrue -Because "link '$($l.linkText)' of $Name"
        }
    }

    It 'documents every parameter' {
        $common = [System.Management.Automation.PSCmdlet]::CommonParameters + [System.Management.Automation.PSCmdlet]::OptionalCommonParameters
        foreach ($p in $command.Parameters.Keys | Where-Object { $_ -notin $common }) {
            $doc = $help.parameters.parameter | Where-Object name -eq $p
            ($doc.description | Out-String).Trim() | Should -Not -BeNullOrEmpty -Because "-$p of $Name needs a description in docs/cmdlets/$Name.md"
        }
    }

    It 'declares its output type' {
        $command.OutputType.Count | Should -BeGreaterThan 0
    }
}

Describe 'Help for <Name>, which changes the system' -ForEach $changers {
    BeforeAll { $help = Get-Help $Name -Full }

    It 'shows -WhatIf and -Confirm in its syntax and describes them when it changes the system' {
        foreach ($set in @($help.syntax.syntaxItem)) {
            @($set.parameter.name) | Should -Contain 'WhatIf'
            @($set.parameter.name) | Should -Contain 'Confirm'
        }
        (Get-Help $Name -Parameter WhatIf).name | Should -Be 'WhatIf'
        ((Get-Help $Name -Parameter Confirm).description | Out-String).Trim() | Should -Not -BeNullOrEmpty
        (Get-Help $Name | Out-String) | Should -Match '\[-WhatIf\]'
    }
}

Describe 'Names, aliases and completion' {
    It 'every -InterfaceName answers to -InterfaceAlias (NetTCPIP''s name), every -Address to -IPAddress, and help says so' {
        foreach ($c in Get-Command -Module HaPowerShell -CommandType Cmdlet) {
            foreach ($pair in @(@('InterfaceName', 'InterfaceAlias'), @('Address', 'IPAddress'))) {
                $p = $c.Parameters[$pair[0]]
                if (-not $p) { continue }
                $p.Aliases | Should -Contain $pair[1] -Because "$($c.Name) -$($pair[0])"
                $doc = (Get-Help $c.Name -Parameter $pair[0]).aliases
                "$doc" | Should -Match $pair[1] -Because "docs/cmdlets/$($c.Name).md should list the alias"
            }
        }
    }

    It '-ForwardingMethod completes only the methods that work' {
        foreach ($cmd in 'Add-IpvsRealServer', 'Set-IpvsRealServer') {
            $line = "$cmd -ForwardingMethod "
            @((TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText) |
                Should -Be @('DirectRouting', 'Tunnel', 'Masquerade') -Because $cmd
        }
        $line = 'Add-IpvsRealServer -ForwardingMethod T'
        @((TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText) | Should -Be @('Tunnel')
        # a word that is no method is refused before the kernel is asked
        $err = $null
        Add-IpvsRealServer -Service 'TCP 192.0.2.50:80' -Address 192.0.2.10 -ForwardingMethod Route -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -BeLike 'InvalidForwardingMethod,*'
        $err[0].Exception.Message | Should -Match 'DirectRouting.*Tunnel.*Masquerade'
    }

    It 'completes the names of running health checks, and of nothing when none runs' {
        $line = 'Get-IpvsHealthCheck -Name complet'
        @((TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches) | Should -BeNullOrEmpty
        $l = [Net.Sockets.TcpListener]::new([ipaddress]::Loopback, 0); $l.Start()
        try {
            $rs = [HaPowerShell.Core.Ipvs.IpvsRealServer]@{ Address = [ipaddress]'127.0.0.1'; Port = $l.LocalEndpoint.Port; Weight = 1 }
            $null = $rs | Start-IpvsHealthCheck -MonitorOnly -Name completer-test -DelayLoop 5
            foreach ($cmd in 'Get-IpvsHealthCheck', 'Stop-IpvsHealthCheck') {
                $line = "$cmd -Name complet"
                @((TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText) | Should -Be @('completer-test') -Because $cmd
            }
        } finally {
            Stop-IpvsHealthCheck -Name completer-test -Confirm:$false -ErrorAction SilentlyContinue
            $l.Stop()
        }
    }

    It 'completes VRRP instance names for Get-, Set-, Stop- and Wait-VrrpInstance (none run here)' {
        foreach ($cmd in 'Get-VrrpInstance', 'Set-VrrpInstance', 'Stop-VrrpInstance', 'Wait-VrrpInstance') {
            $a = (Get-Command $cmd).Parameters['Name'].Attributes | Where-Object { $_ -is [System.Management.Automation.ArgumentCompleterAttribute] }
            $a.Type.Name | Should -Be 'VrrpInstanceNameCompleter' -Because $cmd
        }
        $line = 'Stop-VrrpInstance -Name '
        @((TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches) | Should -BeNullOrEmpty
    }
}

Describe 'Default tables' {
    BeforeAll {
        # Every table view names its columns after the properties they show (Select-Object and Sort-Object take
        # the header), except the columns listed here: the IPVS tables keep ipvsadm -L's headers (Prot,
        # LocalAddress:Port, ActiveConn, ...; design.md: `Get-IpvsService | Get-IpvsRealServer` reads like
        # `ipvsadm -Ln`), and a few columns show the whole object (its identity text) under the object's name.
        $script:NotPropertyNamed = @{
            'HaPowerShell.Core.Ipvs.IpvsService'                  = 'Prot', 'LocalAddress:Port', 'Flags', 'Prot LocalAddress:Port', 'Conns', 'InPkts', 'OutPkts', 'InBytes', 'OutBytes', 'CPS', 'InPPS', 'OutPPS', 'InBPS', 'OutBPS'
            'HaPowerShell.Core.Ipvs.IpvsRealServer'               = '-> RemoteAddress:Port', 'Forward', 'ActiveConn', 'InActConn', 'Conns', 'InPkts', 'OutPkts', 'InBytes', 'OutBytes', 'CPS', 'InPPS', 'OutPPS', 'InBPS', 'OutBPS', 'Uthreshold', 'Lthreshold', 'PersistConn'
            'HaPowerShell.Core.Ipvs.IpvsConnection'               = 'pro', 'expire', 'state', 'source', 'virtual', 'destination'
            'HaPowerShell.Core.Keepalived.KeepalivedVirtualServer' = @('Service')
            'HaPowerShell.Core.Keepalived.KeepalivedRealServer'    = @('RealServer')
        }
        $script:Views = foreach ($f in Get-ChildItem (Join-Path $env:HAPS_MODULE_PATH '*.Format.ps1xml')) {
            ([xml](Get-Content -Raw $f)).Configuration.ViewDefinitions.View | Where-Object { $_.TableControl }
        }
    }

    It 'name each column after the property it shows, so Select-Object and Sort-Object take the header (every view)' {
        $Views.Count | Should -BeGreaterThan 20
        foreach ($v in $Views) {
            $typeName = @($v.ViewSelectedBy.TypeName)[0]
            $type = $typeName -as [type]
            $type | Should -Not -BeNullOrEmpty -Because "the $($v.Name) view is for a type of the module"
            foreach ($h in @($v.TableControl.TableHeaders.TableColumnHeader)) {
                if ($h.Label -in $NotPropertyNamed[$typeName]) { continue }
                $type.GetProperty($h.Label) | Should -Not -BeNullOrEmpty -Because "the $($v.Name) table's column '$($h.Label)' must be a property of $type"
            }
        }
    }

    It 'fit 80 columns for typical objects' {
        $mac = [System.Net.NetworkInformation.PhysicalAddress]::Parse('02-00-5E-10-00-02')
        $objects = @(
            [HaPowerShell.Core.Arp.VirtualIPAddress]::new('eth0', 2, [ipaddress]'2001:db8:1::30', 64, $null, 0, 2, $null)
            [HaPowerShell.Core.Arp.VirtualIPAddress]::new('eth0', 2, [ipaddress]'192.0.2.30', 24, 'eth0:0', 0, 1, [ipaddress]'192.0.2.255')
            [HaPowerShell.Core.Arp.ArpEntry]::new('eth0', 2, [ipaddress]'2001:db8:1::12', $mac, 'Reachable', $true, $false)
            [HaPowerShell.Core.Arp.ArpSuppression]::new('default', 0, 0, $null, $null)
            [HaPowerShell.Core.Arp.ArpReply]::new('eth0', [ipaddress]'192.0.2.12', $mac, [ipaddress]'192.0.2.11', 1, [timespan]::FromMilliseconds(0.41), $true, [datetime]::UtcNow)
            Invoke-TcpCheck -Address 127.0.0.1 -Port 9 -ConnectTimeout 1
            Invoke-MiscCheck -Path /bin/true
        )
        # A real server's health (Get-IpvsHealthCheck -RealServer), from a monitor-only checker on loopback.
        $listener = [System.Net.Sockets.TcpListener]::new([ipaddress]::Loopback, 0); $listener.Start()
        try {
            $rs = [HaPowerShell.Core.Ipvs.IpvsRealServer]@{ Address = '127.0.0.1'; Port = $listener.LocalEndpoint.Port; Weight = 1 }
            $null = $rs | Start-IpvsHealthCheck -MonitorOnly -Name width-test -DelayLoop 0.2
            $deadline = [DateTime]::UtcNow.AddSeconds(10)
            while (-not (Get-IpvsHealthCheck width-test -RealServer).LastChange -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 50 }
            $objects += @(Get-IpvsHealthCheck width-test -RealServer)
        } finally { Stop-IpvsHealthCheck -Name width-test -ErrorAction Ignore | Out-Null; $listener.Stop() }
        foreach ($o in $objects) {
            $lines = ($o | Format-Table | Out-String -Width 300) -split "`n"
            ($lines | Measure-Object -Property Length -Maximum).Maximum | Should -BeLessOrEqual 80 -Because ($lines -join "`n")
        }
    }
}

# The module owns the process, not its engines: removing it stops what it runs and says so; a re-import
# starts from nothing. (The VRRP side, with keepalived as the peer, is in VrrpInterop.Tests.ps1.)
Describe 'Remove-Module' {
    BeforeAll {
        function Invoke-ChildPwsh([string]$Script) {
            $exe = [Environment]::ProcessPath
            $prefix = @(if ([System.IO.Path]::GetFileNameWithoutExtension($exe) -eq 'dotnet') { "$PSHOME/pwsh.dll" })
            $text = & $exe @prefix -NoProfile -NonInteractive -Command $Script 2>&1 | Out-String
            [pscustomobject]@{ ExitCode = $LASTEXITCODE; Text = $text }
        }
    }

    It 'stops a running health check, warns that it did, and a re-import shows none' {
        $r = Invoke-ChildPwsh @"
`$ErrorActionPreference = 'Stop'
Import-Module '$env:HAPS_MODULE_PATH'
`$l = [Net.Sockets.TcpListener]::new([ipaddress]::Loopback, 0); `$l.Start()
`$rs = [HaPowerShell.Core.Ipvs.IpvsRealServer]@{ Address = [ipaddress]'127.0.0.1'; Port = `$l.LocalEndpoint.Port; Weight = 1 }
`$null = `$rs | Start-IpvsHealthCheck -MonitorOnly -Name lifecycle-test -DelayLoop 0.2
"BEFORE `$((Get-IpvsHealthCheck lifecycle-test).Status)"
Remove-Module HaPowerShell
Import-Module '$env:HAPS_MODULE_PATH'
"AFTER `$(@(Get-IpvsHealthCheck).Count)"
"@
        $r.ExitCode | Should -Be 0 -Because $r.Text
        $r.Text | Should -Match 'BEFORE Running'
        $r.Text | Should -Match 'WARNING: HaPowerShell stopped health check lifecycle-test\.'
        $r.Text | Should -Match 'AFTER 0'
    }

    It 'says nothing when nothing runs' {
        $r = Invoke-ChildPwsh "Import-Module '$env:HAPS_MODULE_PATH'; Get-VrrpInstance; Remove-Module HaPowerShell; 'DONE'"
        $r.Text.Trim() | Should -Be 'DONE'
    }
}
