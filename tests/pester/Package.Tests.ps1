# The nupkg that `build.ps1 Package` writes installs with Install-PSResource from a local folder
# repository and the installed module imports by name. Runs in a child pwsh whose HOME is a
# throwaway folder, so neither the repository registration nor the install touches the real user.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    $script:packages = Join-Path $env:HAPS_REPO_ROOT 'out/packages'
    $script:fakeHome = Join-Path ([IO.Path]::GetTempPath()) ("haps-pkg-" + [guid]::NewGuid().ToString('N').Substring(0, 8))
    # .NET reports a missing data folder as '', and PSResourceGet would then write into the current directory.
    New-Item -ItemType Directory -Path "$fakeHome/.local/share", "$fakeHome/.config", "$fakeHome/.cache" | Out-Null
}

AfterAll {
    # Only ever delete the throwaway folder this file made.
    if ($fakeHome -and (Split-Path $fakeHome -Leaf) -like 'haps-pkg-*' -and (Test-Path $fakeHome)) {
        Remove-Item -Recurse -Force -LiteralPath $fakeHome
    }
}

Describe 'HaPowerShell package' {
    It 'exists in out/packages' {
        @(Get-ChildItem $packages -Filter 'HaPowerShell.*.nupkg').Count | Should -Be 1
    }

    It 'installs with Install-PSResource from a local repository and imports by name' {
        $script = @"
`$ErrorActionPreference = 'Stop'
Register-PSResourceRepository -Name HapsLocal -Uri '$packages' -Trusted
Install-PSResource -Name HaPowerShell -Repository HapsLocal -Scope CurrentUser -TrustRepository -Quiet
Import-Module HaPowerShell
`$m = Get-Module HaPowerShell
"PATH=`$(`$m.ModuleBase)"
"VERSION=`$(`$m.Version)"
"CMD=`$((Get-Command Get-IpvsInfo).Name)"
"HELP=`$((Get-Help Get-IpvsInfo).Synopsis)"
"@
        $r = Invoke-ChildPwsh -Script $script -Environment @{
            HOME = $fakeHome; XDG_DATA_HOME = "$fakeHome/.local/share"; XDG_CONFIG_HOME = "$fakeHome/.config"
            XDG_CACHE_HOME = "$fakeHome/.cache"; PSModulePath = $null
        }
        $text = $r.Text
        $r.ExitCode | Should -Be 0 -Because $text
        $text | Should -Match ("PATH=" + [regex]::Escape($fakeHome))
        $text | Should -Match 'VERSION=0\.1\.0'
        $text | Should -Match 'CMD=Get-IpvsInfo'
        $text | Should -Match 'HELP=Gets the version'
    }
}
