# Get-IpvsInfo against real kernels: the clear error where IPVS is missing (this host), the real
# answer where it is present (the lab VM), checked against ipvsadm.
BeforeAll {
    Import-Module $env:HAPS_MODULE_PATH -Force
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    $script:hostHasIpvs = Test-Path /proc/net/ip_vs
}

Describe 'Get-IpvsInfo on a kernel without IPVS' {
    It 'fails with IpvsNotAvailable and says how to fix it, not a stack trace' -Skip:$hostHasIpvs {
        $err = $null; $out = $null
        $out = Get-IpvsInfo -ErrorVariable err -ErrorAction SilentlyContinue
        $out | Should -BeNullOrEmpty
        $err.Count | Should -Be 1
        $err[0].Exception | Should -Not -BeOfType [System.NullReferenceException]
        $err[0].FullyQualifiedErrorId | Should -BeLike 'IpvsNotAvailable,*'
        $err[0].CategoryInfo.Category | Should -Be 'NotInstalled'
        $err[0].Exception.Message | Should -Match 'no IPVS support'
        $err[0].Exception.Message | Should -Match 'modprobe ip_vs'
        $err[0].Exception.Message | Should -Not -Match 'kernel lab' -Because 'the message speaks about the user''s system'
        $err[0].Exception.Message | Should -Match 'CONFIG_IP_VS'
    }

    It 'honours -ErrorAction SilentlyContinue: nothing on the error stream, nothing thrown' -Skip:$hostHasIpvs {
        $r = & { Get-IpvsInfo -ErrorAction SilentlyContinue; 'went on' } 2>&1
        @($r) | Should -Be @('went on')
    }

    It 'Test-IpvsAvailable answers $false quietly, and says why with -Verbose' -Skip:$hostHasIpvs {
        $r = @(Test-IpvsAvailable 2>&1)
        $r | Should -Be @($false)
        $r[0] | Should -BeOfType [bool]
        $v = @(Test-IpvsAvailable -Verbose 4>&1)
        ($v | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }).Message | Should -Match 'no IPVS support'
    }

    It 'an IPVS cmdlet reports no IPVS once for a whole pipeline, honouring -ErrorAction' -Skip:$hostHasIpvs {
        $err = $null
        'TCP 192.0.2.1:80', 'TCP 192.0.2.2:80', 'TCP 192.0.2.3:80' | Remove-IpvsService -Confirm:$false -ErrorVariable err -ErrorAction SilentlyContinue
        @($err).Count | Should -Be 1
        $err[0].FullyQualifiedErrorId | Should -BeLike 'IpvsNotAvailable,*'
    }

    It 'is a terminating error that try/catch sees' -Skip:$hostHasIpvs {
        { Get-IpvsInfo -ErrorAction Stop } | Should -Throw -ErrorId 'IpvsNotAvailable,HaPowerShell.Commands.GetIpvsInfoCommand'
    }
}

Describe 'Get-IpvsInfo on a kernel with IPVS' -Tag 'Kernel', 'Root' {
    It 'Test-IpvsAvailable says $true' {
        Test-IpvsAvailable | Should -BeTrue
    }

    It 'reports IPVS 1.2.1 and the connection table size' {
        $info = Get-IpvsInfo
        $info.Version | Should -Be ([version]'1.2.1')
        $info.VersionCode | Should -Be 0x010201
        $info.ConnectionTableSize | Should -BeGreaterThan 0
    }

    It 'agrees with ipvsadm' {
        $line = (& ipvsadm -L -n | Select-Object -First 1).Trim()
        (Get-IpvsInfo).ToString() | Should -Be $line
    }

    It 'says PermissionDenied without CAP_NET_ADMIN' {
        # One child pwsh for both (each costs seconds under the kernel lab's emulation).
        $script = "Import-Module '$env:HAPS_MODULE_PATH'; try { Get-IpvsInfo -ErrorAction Stop } catch { `$_.FullyQualifiedErrorId; `$_.Exception.Message }; 'ANSWER ' + (Test-IpvsAvailable)"
        $sw = [Diagnostics.Stopwatch]::StartNew()
        $r = Invoke-ChildPwsh -Script $script -Prefix 'setpriv', '--bounding-set=-net_admin', '--inh-caps=-net_admin', '--'
        Write-Host ("    child pwsh without CAP_NET_ADMIN: {0:n1} s" -f $sw.Elapsed.TotalSeconds)
        $r.Text | Should -Match 'PermissionDenied,HaPowerShell.Commands.GetIpvsInfoCommand'
        $r.Text | Should -Match 'CAP_NET_ADMIN'
        $r.Text | Should -Match 'ANSWER False'
    }
}
