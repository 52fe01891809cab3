# The one mapper from exceptions to ErrorRecords: ids, categories and targets as users see them, for our
# exceptions and for .NET's own (whose type names never become ids). Runs anywhere.
BeforeAll {
    Import-Module $env:HAPS_MODULE_PATH -Force
    function Get-Records($Exception, $Target = 'the-target') { @([HaPowerShell.ErrorRecords]::From($Exception, $Target)) }
}

Describe 'ErrorRecords' {
    It 'takes the id, category and target of one of ours' {
        $e = [HaPowerShell.Core.Ipvs.IpvsOperationException]::new('ServiceExists', 'AlreadyExists', 'exists', 'TCP 192.0.2.1:80', $null)
        $r = Get-Records $e
        $r.Count | Should -Be 1
        $r[0].FullyQualifiedErrorId | Should -Be 'ServiceExists'
        $r[0].CategoryInfo.Category | Should -Be 'ResourceExists'
        $r[0].TargetObject | Should -Be 'TCP 192.0.2.1:80'
        $r[0].Exception | Should -Be $e
    }

    It 'names the target the cmdlet gives when the exception knows none' {
        $r = Get-Records ([HaPowerShell.Core.Arp.InterfaceDownException]::new('eth0')) 'eth0'
        $r[0].FullyQualifiedErrorId | Should -Be 'InterfaceDown'
        $r[0].CategoryInfo.Category | Should -Be 'ResourceUnavailable'
        $r[0].TargetObject | Should -Be 'eth0'
    }

    It 'makes a refused system call an UnauthorizedAccessException that says what is needed' {
        $r = Get-Records ([HaPowerShell.Native.Netlink.NetlinkException]::new('IPVS get info', 1, $null, $null))
        $r[0].FullyQualifiedErrorId | Should -Be 'PermissionDenied'
        $r[0].CategoryInfo.Category | Should -Be 'PermissionDenied'
        $r[0].Exception | Should -BeOfType [UnauthorizedAccessException]
        $r[0].Exception.Message | Should -Match 'CAP_NET_ADMIN.*sudo'
        $r[0].Exception.InnerException | Should -BeOfType [HaPowerShell.Native.Netlink.NetlinkException]
    }

    It 'gives one record per problem of a VRRP configuration, in order' {
        $errors = [System.Collections.Generic.List[HaPowerShell.Core.Vrrp.VrrpConfigError]]::new()
        $errors.Add([HaPowerShell.Core.Vrrp.VrrpConfigError]::new('VrrpInterfaceNotFound', 'InterfaceName', 'no eth9 for {InterfaceName}', $null, $null))
        $errors.Add([HaPowerShell.Core.Vrrp.VrrpConfigError]::new('VrrpPriorityOutOfRange', 'Priority', '{Priority} 0', '0', $null))
        $r = Get-Records ([HaPowerShell.Core.Vrrp.VrrpConfigurationException]::new($errors, $null, $null))
        $r.FullyQualifiedErrorId | Should -Be @('VrrpInterfaceNotFound', 'VrrpPriorityOutOfRange')
        $r.CategoryInfo.Category | Should -Be @('ObjectNotFound', 'InvalidArgument')
        $r.Exception.ParamName | Should -Be @('InterfaceName', 'Priority')
        $r.Exception.Message | Should -Be @('no eth9 for InterfaceName', 'Priority 0')
    }


    It 'unwraps an AggregateException with one inner exception' {
        $inner = [HaPowerShell.Core.Health.HealthCheckException]::new('ScriptNotFound', 'NotFound', 'no script', '/x', $null)
        $r = Get-Records ([AggregateException]::new([Exception[]]@($inner)))
        $r[0].FullyQualifiedErrorId | Should -Be 'ScriptNotFound'
        $r[0].TargetObject | Should -Be '/x'
    }

    It 'gives <Type> the stable id <Id> (<Category>), never the type name' -ForEach @(
        @{ Type = 'ArgumentOutOfRangeException'; Make = { [ArgumentOutOfRangeException]::new('x') }; Id = 'InvalidArgument'; Category = 'InvalidArgument' }
        @{ Type = 'UnauthorizedAccessException'; Make = { [UnauthorizedAccessException]::new('no') }; Id = 'PermissionDenied'; Category = 'PermissionDenied' }
        @{ Type = 'FileNotFoundException'; Make = { [IO.FileNotFoundException]::new('no') }; Id = 'PathNotFound'; Category = 'ObjectNotFound' }
        @{ Type = 'DirectoryNotFoundException'; Make = { [IO.DirectoryNotFoundException]::new('no') }; Id = 'PathNotFound'; Category = 'ObjectNotFound' }
        @{ Type = 'IOException'; Make = { [IO.IOException]::new('disk') }; Id = 'IOError'; Category = 'NotSpecified' }
        @{ Type = 'TimeoutException'; Make = { [TimeoutException]::new('late') }; Id = 'OperationTimeout'; Category = 'OperationTimeout' }
        @{ Type = 'InvalidOperationException'; Make = { [InvalidOperationException]::new('no') }; Id = 'InvalidOperation'; Category = 'InvalidOperation' }
        @{ Type = 'NotSupportedException'; Make = { [NotSupportedException]::new('no') }; Id = 'NotSupported'; Category = 'NotImplemented' }
        @{ Type = 'FormatException'; Make = { [FormatException]::new('bad') }; Id = 'InvalidFormat'; Category = 'InvalidData' }
        @{ Type = 'NullReferenceException'; Make = { [NullReferenceException]::new() }; Id = 'UnexpectedError'; Category = 'NotSpecified' }
    ) {
        $r = Get-Records (& $Make)
        $r[0].FullyQualifiedErrorId | Should -Be $Id
        $r[0].CategoryInfo.Category | Should -Be $Category
        $r[0].TargetObject | Should -Be 'the-target'
    }

    It 'maps every category of ours to the PowerShell category of the same name' {
        foreach ($c in [Enum]::GetValues([HaPowerShell.Native.HaErrorCategory])) {
            [string][HaPowerShell.ErrorRecords]::ToCategory($c) | Should -Be ([string]$c)
        }
    }
}
