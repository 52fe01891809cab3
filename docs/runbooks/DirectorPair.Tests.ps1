<#
.SYNOPSIS
    A Pester runbook template: checks a live LVS-DR director pair and its real servers.
.DESCRIPTION
    Copy this file, fill in the settings below, and run it from a machine that can reach every node
    over PowerShell remoting (SSH: `Enable-PSRemoting` is Windows-only; on Linux add
    `Subsystem powershell /usr/bin/pwsh -sshs -NoLogo` to sshd_config) as a user who is root there, with
    HaPowerShell installed on every node:

        Invoke-Pester ./DirectorPair.Tests.ps1 -Output Detailed

    It checks, read-only (nothing here changes a node):
      * exactly one director holds each VIP, and it is the one whose VRRP instance is Master;
      * each director's IPVS table equals the rules file (the `ipvsadm -S -n` format, as
        `Export-IpvsConfig` writes it);
      * every real server of every service has a weight above 0 (none drained or taken out by a check),
        and answers a TCP connect on its port;
      * every real server holds the VIPs on lo (/32) with arp_ignore=1 and arp_announce=2 on lo and all;
      * the active director runs the master sync daemon and the standby the backup one.
    To try it without remoting on one machine, replace Invoke-Node's body with
    `Import-Module HaPowerShell; & $Script @ArgumentList` (every "node" is then this machine).
#>
BeforeDiscovery {
    # ---- settings: edit these -------------------------------------------------------------------
    $script:Directors = @('lb1.example.net', 'lb2.example.net')
    $script:RealServers = @('rs1.example.net', 'rs2.example.net')
    $script:Vips = @('192.0.2.30')
    $script:RulesFile = Join-Path $PSScriptRoot 'director.rules'   # Export-IpvsConfig -Path director.rules on a good director
    $script:VrrpInstance = 'VI_1'
    # ----------------------------------------------------------------------------------------------
}

BeforeAll {
    $script:Directors = $Directors; $script:RealServers = $RealServers; $script:Vips = $Vips
    $script:Rules = Get-Content -Raw $RulesFile
    # Runs a script block on a node with HaPowerShell imported there.
    function Invoke-Node([string]$Node, [scriptblock]$Script, [object[]]$ArgumentList = @()) {
        Invoke-Command -HostName $Node -UserName root -ArgumentList $ArgumentList -ScriptBlock ([scriptblock]::Create("Import-Module HaPowerShell; $Script"))
    }
}

Describe 'Director pair' {
    It 'exactly one director holds VIP <_>, the VRRP Master' -ForEach $Vips {
        $vip = $_
        $holders = @(foreach ($d in $Directors) {
                if (@(Invoke-Node $d { param($v) Get-VirtualIPAddress -IPAddress $v } $vip).Count) { $d } })
        $holders.Count | Should -Be 1 -Because "holders: $($holders -join ', ')"
        (Invoke-Node $holders[0] { param($n) (Get-VrrpInstance -Name $n).State.ToString() } $VrrpInstance) | Should -Be 'Master'
    }

    It 'the IPVS table of <_> equals the rules file' -ForEach $Directors {
        # Export-IpvsConfig writes what `ipvsadm -S -n` writes, sorted the same way: equal text, equal table.
        # (To bring a director back in line: Sync-IpvsConfig -Path director.rules -WhatIf, then without -WhatIf.)
        $live = (@(Invoke-Node $_ { Export-IpvsConfig }) -join "`n").Trim()
        $live | Should -Be $Rules.Trim()
    }

    It 'every real server on <_> is in service (weight above 0) and answers on its port' -ForEach $Directors {
        $rs = @(Invoke-Node $_ { Get-IpvsService | Get-IpvsRealServer | ForEach-Object { [pscustomobject]@{ Service = "$($_.Service)"; Address = "$($_.Address)"; Port = $_.Port; Weight = $_.Weight } } })
        $rs.Count | Should -BeGreaterThan 0
        foreach ($r in $rs) { $r.Weight | Should -BeGreaterThan 0 -Because "$($r.Service) -> $($r.Address):$($r.Port)" }
        $down = @(Invoke-Node $_ { Get-IpvsService | Get-IpvsRealServer | Invoke-TcpCheck -ConnectTimeout 3 | Where-Object { -not $_.Success } | ForEach-Object { "$($_.Address):$($_.Port)" } })
        $down | Should -BeNullOrEmpty
    }

    It 'the active director runs the master sync daemon, the standby the backup one' {
        foreach ($d in $Directors) {
            $state = Invoke-Node $d { param($n) [pscustomobject]@{ Vrrp = "$((Get-VrrpInstance -Name $n).State)"; Sync = @(Get-IpvsSyncDaemon | ForEach-Object { "$($_.State)" }) } } $VrrpInstance
            if ($state.Vrrp -eq 'Master') { $state.Sync | Should -Contain 'Master' } else { $state.Sync | Should -Contain 'Backup' }
        }
    }
}

Describe 'Real server <_>' -ForEach $RealServers {
    It 'holds every VIP on lo as a /32' {
        foreach ($vip in $Vips) {
            $a = @(Invoke-Node $_ { param($v) Get-VirtualIPAddress -InterfaceName lo -IPAddress $v | ForEach-Object { $_.PrefixLength } } $vip)
            $a | Should -Be @(32) -Because "VIP $vip on lo"
        }
    }

    It 'suppresses ARP for them: arp_ignore=1 and arp_announce=2 on lo and all' {
        $s = @(Invoke-Node $_ { Get-ArpSuppression -InterfaceName lo, all | ForEach-Object { '{0}:{1}/{2}' -f $_.InterfaceName, $_.ArpIgnore, $_.ArpAnnounce } })
        ($s | Sort-Object) -join ' ' | Should -Be 'all:1/2 lo:1/2'
    }
}
