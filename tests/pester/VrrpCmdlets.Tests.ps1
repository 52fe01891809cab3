# The VRRP cmdlets' argument checks and lookups: everything here is refused or read before any socket
# opens, so it needs neither root nor namespaces (rtnetlink link dumps are unprivileged). The Root-tagged
# part at the end runs one instance in a namespace for -PassThru's Changed.
BeforeDiscovery {
    Import-Module (Join-Path $PSScriptRoot '../lab/NetnsLab.psm1') -Force
    $script:VrrpLabSupported = Test-LabEnvironment
}

BeforeAll {
    Import-Module $env:HAPS_MODULE_PATH -Force
    Import-Module (Join-Path $PSScriptRoot '../lab/NetnsLab.psm1') -Force
}

Describe 'Start-VrrpInstance argument checks' {
    It 'names the existing interfaces when the interface is unknown' {
        $err = $null
        Start-VrrpInstance -InterfaceName 'nosuch0' -VirtualRouterId 1 -VirtualIPAddress 192.0.2.10 -ErrorVariable err -ErrorAction SilentlyContinue
        $err.Count | Should -Be 1
        $err[0].FullyQualifiedErrorId | Should -BeLike 'InterfaceNotFound,*'
        $err[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $err[0].Exception.Message | Should -Match "no network interface named 'nosuch0'.*lo"
    }

    It 'reports every problem with its own id, and starts nothing' {
        $err = $null
        Start-VrrpInstance -InterfaceName lo -VirtualRouterId 300 -Priority 0 -VirtualIPAddress 192.0.2.10 -Version 3 `
            -AuthenticationPassword (ConvertTo-SecureString secret -AsPlainText -Force) -ErrorVariable err -ErrorAction SilentlyContinue
        $ids = $err | ForEach-Object { ($_.FullyQualifiedErrorId -split ',')[0] }
        $ids | Should -Contain 'VrrpVirtualRouterIdOutOfRange'
        $ids | Should -Contain 'VrrpPriorityOutOfRange'
        $ids | Should -Contain 'VrrpAuthenticationWithVersion3'
        @(Get-VrrpInstance).Count | Should -Be 0
    }

    It 'takes the password as a SecureString or a credential, not as plain text, and not both' {
        (Get-Command Start-VrrpInstance).Parameters.AuthenticationPassword.ParameterType | Should -Be ([securestring])
        (Get-Command Start-VrrpInstance).Parameters.AuthenticationCredential.ParameterType | Should -Be ([pscredential])
        { Start-VrrpInstance lo 5 192.0.2.10 -AuthenticationPassword 'secret' -ErrorAction Stop } |
            Should -Throw -ErrorId 'CannotConvertArgumentNoMessage,HaPowerShell.Commands.Vrrp.StartVrrpInstanceCommand'
        $s = ConvertTo-SecureString secret -AsPlainText -Force
        $err = $null
        Start-VrrpInstance -InterfaceName lo -VirtualRouterId 5 -VirtualIPAddress 192.0.2.10 -AuthenticationPassword $s `
            -AuthenticationCredential ([pscredential]::new('x', $s)) -ErrorVariable err -ErrorAction SilentlyContinue
        @($err | ForEach-Object { ($_.FullyQualifiedErrorId -split ',')[0] }) | Should -Contain 'VrrpAuthenticationGivenTwice'
        ($err | Out-String) | Should -Not -Match 'secret'
        @(Get-VrrpInstance).Count | Should -Be 0
    }

    It 'refuses a VRRPv2 interval that is not whole seconds and a bad address' {
        $err = $null
        Start-VrrpInstance -InterfaceName lo -VirtualRouterId 5 -VirtualIPAddress 192.0.2.10, 'bogus' -AdvertisementInterval 0.5 -ErrorVariable err -ErrorAction SilentlyContinue
        $ids = $err | ForEach-Object { ($_.FullyQualifiedErrorId -split ',')[0] }
        $ids | Should -Contain 'VrrpVirtualAddressInvalid'
        $err = $null
        Start-VrrpInstance -InterfaceName lo -VirtualRouterId 5 -VirtualIPAddress 192.0.2.10 -AdvertisementInterval 0.5 -ErrorVariable err -ErrorAction SilentlyContinue
        ($err[0].FullyQualifiedErrorId -split ',')[0] | Should -Be 'VrrpAdvertisementIntervalInvalid'
    }

    It 'refuses IPv6 on an interface without a link-local address to advertise from' {
        $err = $null
        Start-VrrpInstance -InterfaceName lo -VirtualRouterId 5 -VirtualIPAddress 2001:db8::10 -ErrorVariable err -ErrorAction SilentlyContinue
        ($err[0].FullyQualifiedErrorId -split ',')[0] | Should -Be 'VrrpSourceAddressMissing'
        @(Get-VrrpInstance).Count | Should -Be 0
    }

    It 'refuses IPv6 with VRRPv2' {
        $err = $null
        Start-VrrpInstance -InterfaceName lo -VirtualRouterId 5 -VirtualIPAddress 2001:db8::10 -Version 2 -ErrorVariable err -ErrorAction SilentlyContinue
        ($err[0].FullyQualifiedErrorId -split ',')[0] | Should -Be 'VrrpIPv6RequiresVersion3'
    }

    It 'refuses bad gratuitous ARP settings with VrrpGarpSettingInvalid, and starts nothing' {
        $err = $null
        Start-VrrpInstance -InterfaceName lo -VirtualRouterId 5 -VirtualIPAddress 192.0.2.10 -GarpMasterRefresh -1 -GarpInterval 5 `
            -ErrorVariable err -ErrorAction SilentlyContinue
        $err.Count | Should -Be 2
        $err | ForEach-Object { ($_.FullyQualifiedErrorId -split ',')[0] } | Sort-Object -Unique | Should -Be 'VrrpGarpSettingInvalid'
        ($err | ForEach-Object { $_.Exception.ParamName }) | Should -Be @('GarpMasterRefresh', 'GarpInterval')
        @(Get-VrrpInstance).Count | Should -Be 0
    }

    It 'refuses an empty -SyncGroup and a refresh repeat outside 1-255 at binding' {
        { Start-VrrpInstance -InterfaceName lo -VirtualRouterId 5 -VirtualIPAddress 192.0.2.10 -SyncGroup '' -ErrorAction Stop } |
            Should -Throw -ErrorId 'ParameterArgumentValidationError*'
        { Start-VrrpInstance -InterfaceName lo -VirtualRouterId 5 -VirtualIPAddress 192.0.2.10 -GarpMasterRefreshRepeat 0 -ErrorAction Stop } |
            Should -Throw -ErrorId 'ParameterArgumentValidationError*'
        @(Get-VrrpInstance).Count | Should -Be 0
    }

    It 'refuses an engine priority out of range, or both kinds at once, with VrrpEngineSchedulingInvalid, and starts nothing' {
        foreach ($case in @(@{ EnginePriority = 20 }, @{ EnginePriority = -21 }, @{ EngineRealtimePriority = 0 }, @{ EngineRealtimePriority = 100 },
                            @{ EnginePriority = 0; EngineRealtimePriority = 10 })) {
            $err = $null
            Start-VrrpInstance -InterfaceName lo -VirtualRouterId 5 -VirtualIPAddress 192.0.2.10 @case -ErrorVariable err -ErrorAction SilentlyContinue
            $err.Count | Should -Be 1 -Because ($case | Out-String)
            ($err[0].FullyQualifiedErrorId -split ',')[0] | Should -Be 'VrrpEngineSchedulingInvalid'
            $err[0].CategoryInfo.Category | Should -Be 'InvalidArgument'
            $err[0].Exception.Message | Should -Match '-Engine(Realtime)?Priority'
        }
        @(Get-VrrpInstance).Count | Should -Be 0
    }

    It 'takes keepalived''s text forms and renders Core''s field keys as parameter names' {
        $err = $null
        Start-VrrpInstance -InterfaceName lo -VirtualRouterId 5 -VirtualIPAddress '192.0.2.10/24 label eth1:1', '192.0.2.11/24 peer 192.0.2.1' `
            -TrackInterface 'lo weight 999', 'lo weight 5 reverse' -PreemptDelay 2000 -ErrorVariable err -ErrorAction SilentlyContinue
        $ids = @($err | ForEach-Object { ($_.FullyQualifiedErrorId -split ',')[0] })
        $ids | Should -Contain 'VrrpVirtualAddressOptionNotSupported'
        $ids | Should -Contain 'VrrpTrackWeightOutOfRange'
        $ids | Should -Contain 'VrrpTrackReverseNotSupported'
        $ids | Should -Contain 'VrrpPreemptDelayOutOfRange'
        ($err | Where-Object { $_.FullyQualifiedErrorId -like 'VrrpVirtualAddressOptionNotSupported,*' }).CategoryInfo.Category | Should -Be 'NotImplemented'
        ($err | Where-Object { $_.FullyQualifiedErrorId -like 'VrrpTrackWeightOutOfRange,*' }).Exception.Message | Should -Match '-TrackInterface'
        ($err | Where-Object { $_.FullyQualifiedErrorId -like 'VrrpPreemptDelayOutOfRange,*' }).Exception.Message | Should -Match '^-PreemptDelay 2000 is outside 0-1000 seconds'
        ($err | Where-Object { $_.FullyQualifiedErrorId -like 'VrrpPreemptDelayOutOfRange,*' }).Exception.ParamName | Should -Be 'PreemptDelay'
        # parsed forms that only the instance can judge: the label must belong to the address's device
        $err = $null
        Start-VrrpInstance -InterfaceName lo -VirtualRouterId 5 -VirtualIPAddress '192.0.2.10/24 label eth1:1' -ErrorVariable err -ErrorAction SilentlyContinue
        ($err[0].FullyQualifiedErrorId -split ',')[0] | Should -Be 'VrrpVirtualAddressLabelInvalid'
        $err[0].Exception.ParamName | Should -Be 'VirtualIPAddress'
        @(Get-VrrpInstance).Count | Should -Be 0
    }

    It 'starts nothing with -WhatIf' {
        $r = Start-VrrpInstance -InterfaceName lo -VirtualRouterId 5 -VirtualIPAddress 192.0.2.10 -WhatIf
        $r | Should -BeNullOrEmpty
        @(Get-VrrpInstance).Count | Should -Be 0
    }
}

Describe 'Get/Set/Stop/Wait-VrrpInstance with nothing running' {
    It 'Get-VrrpInstance returns nothing, and a wildcard matches nothing quietly' {
        @(Get-VrrpInstance).Count | Should -Be 0
        @(Get-VrrpInstance -Name 'VI_*' -ErrorAction Stop).Count | Should -Be 0
    }

    It '<Command> of an unknown name is VrrpInstanceNotFound' -ForEach @(
        @{ Command = 'Get-VrrpInstance'; Extra = @{} }
        @{ Command = 'Set-VrrpInstance'; Extra = @{ Priority = 10 } }
        @{ Command = 'Stop-VrrpInstance'; Extra = @{} }
        @{ Command = 'Wait-VrrpInstance'; Extra = @{ Timeout = 1 } }
    ) {
        $err = $null
        & $Command -Name 'VI_none' @Extra -ErrorVariable err -ErrorAction SilentlyContinue
        $err.Count | Should -Be 1
        ($err[0].FullyQualifiedErrorId -split ',')[0] | Should -Be 'VrrpInstanceNotFound'
        $err[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
    }

    It 'binds -Name from the pipeline by property name' {
        $err = $null
        [pscustomobject]@{ Name = 'VI_piped' } | Stop-VrrpInstance -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].TargetObject | Should -Be 'VI_piped'
    }
}

# Changed on -PassThru (issue 16): true exactly when something changed or, under -WhatIf, would change.
# Root: a real instance on a namespace's interface (nothing else on the segment: it becomes Master alone).
Describe 'Set-/Stop-VrrpInstance -PassThru report Changed' -Tag 'Root' -Skip:(-not $script:VrrpLabSupported) {
    BeforeAll {
        $script:T = New-LabTopology -Hosts 'lb'
    }
    AfterAll {
        if ($script:T) { Remove-LabTopology -Topology $script:T }
    }

    It 'is true when the priority or the running state changes (or would), false when it already is so' {
        $out = (Invoke-LabPwsh -Topology $T -HostName lb -ModulePath $env:HAPS_MODULE_PATH -Script {
                $null = Start-VrrpInstance -Name VI_chg -InterfaceName eth0 -VirtualRouterId 61 -Priority 100 -VirtualIPAddress 192.0.2.161/24
                $r = [ordered]@{}
                $r.Same = (Set-VrrpInstance VI_chg -Priority 100 -PassThru).Changed
                $r.SameWhatIf = @(Set-VrrpInstance VI_chg -Priority 100 -PassThru -WhatIf).Changed
                $r.WhatIf = (Set-VrrpInstance VI_chg -Priority 120 -PassThru -WhatIf).Changed
                $r.AfterWhatIf = (Get-VrrpInstance VI_chg).Priority
                $r.Set = (Set-VrrpInstance VI_chg -Priority 120 -PassThru).Changed
                $r.AfterSet = (Get-VrrpInstance VI_chg).Priority
                $r.StopWhatIf = (Stop-VrrpInstance VI_chg -PassThru -WhatIf).Changed
                $r.RunningAfterWhatIf = (Get-VrrpInstance VI_chg).IsRunning
                $stopped = Stop-VrrpInstance VI_chg -PassThru
                $r.Stop = $stopped.Changed
                $r.StopJson = ($stopped | ConvertTo-Json -Depth 1 -WarningAction SilentlyContinue | ConvertFrom-Json).Changed
                $r.Left = @(Get-VrrpInstance).Count
                [pscustomobject]$r
            }).Output | Select-Object -Last 1
        foreach ($k in 'Same', 'SameWhatIf', 'WhatIf', 'Set', 'StopWhatIf', 'Stop', 'StopJson') {
            $out.$k | Should -BeOfType [bool] -Because "$k must be a Changed value, not missing"
        }
        $out.Same | Should -BeFalse
        $out.SameWhatIf | Should -BeFalse
        $out.WhatIf | Should -BeTrue
        $out.AfterWhatIf | Should -Be 100 -Because '-WhatIf changes nothing'
        $out.Set | Should -BeTrue
        $out.AfterSet | Should -Be 120
        $out.StopWhatIf | Should -BeTrue
        $out.RunningAfterWhatIf | Should -BeTrue
        $out.Stop | Should -BeTrue
        $out.StopJson | Should -BeTrue -Because 'Changed is in the JSON for automation'
        $out.Left | Should -Be 0
    }
}
