# The hostile-input harness: runs rows of bad input against the cmdlets, each between two snapshots of
# the state a cmdlet could change, in the process (and network namespace) where it is loaded.
# Used by HostileRunner.ps1; the rows are in Hostile.Rows.ps1, the assertions in Hostile.Tests.ps1.

function Get-HaStateSnapshot {
    <#
    .SYNOPSIS
        What the cmdlets could change, as text: addresses, neighbours, ARP sysctls, nf_tables, the IPVS
        table (with timeouts and sync daemons) where the kernel has IPVS, running VRRP instances and
        checkers, child processes, and the files under -Directory. Values that change on their own
        (address lifetimes, neighbour states, DAD flags) are left out.
    #>
    param([string[]]$Directory = @(), [string[]]$IgnoreChildren = @(),
        [ValidateSet('Addresses', 'Neighbours', 'Sysctls', 'Nft', 'Ipvs', 'Instances', 'Children')]
        [string[]]$Parts = @('Addresses', 'Neighbours', 'Sysctls', 'Nft', 'Ipvs', 'Instances', 'Children'))
    $s = [ordered]@{}
    if ('Addresses' -in $Parts) { $s.Addresses = @(& ip -o addr show 2>&1 | ForEach-Object {
            "$_" -replace '\\?\s+valid_lft.*$', '' -replace ' (tentative|dadfailed|optimistic)\b', '' }) | Sort-Object }
    if ('Neighbours' -in $Parts) { $s.Neighbours = @(& ip neigh show 2>&1 | ForEach-Object {
            (("$_" -split ' ') | Where-Object { $_ -notin 'REACHABLE', 'STALE', 'DELAY', 'PROBE', 'FAILED', 'INCOMPLETE', 'NONE', 'router', 'extern_learn' }) -join ' ' } |
            Where-Object { $_ -match 'lladdr|PERMANENT|NOARP' }) | Sort-Object }
    if ('Sysctls' -in $Parts) { $s.Sysctls = @(Get-ChildItem /proc/sys/net/ipv4/conf -Directory | ForEach-Object {
            "$($_.Name) arp_ignore=$(Get-Content -Raw "$($_.FullName)/arp_ignore") arp_announce=$(Get-Content -Raw "$($_.FullName)/arp_announce")".Replace("`n", '') }) | Sort-Object }
    if ('Nft' -in $Parts -and (Get-Command nft -ErrorAction Ignore)) { $s.Nft = @(& nft list ruleset 2>&1 | ForEach-Object { "$_" }) }
    if ('Ipvs' -in $Parts -and (Test-Path /proc/net/ip_vs)) {
        $s.Ipvs = @(& ipvsadm -S -n 2>&1 | ForEach-Object { "$_" }) | Sort-Object
        $s.IpvsTimeout = @(& ipvsadm -L --timeout 2>&1 | ForEach-Object { "$_" })
        $s.IpvsDaemons = @(& ipvsadm -L --daemon 2>&1 | ForEach-Object { "$_" })
    }
    if ('Instances' -in $Parts -and (Get-Module HaPowerShell)) {
        $s.VrrpInstances = @(Get-VrrpInstance | ForEach-Object { "$($_.Name) $($_.State)" })
        $s.HealthChecks = @(Get-IpvsHealthCheck | ForEach-Object { "$($_.Id) $($_.State)" })
    }
    if ('Children' -in $Parts) { $s.Children = @(Get-ChildProcess | Where-Object Command -NotIn $IgnoreChildren | ForEach-Object { "$($_.Pid) $($_.Command) $($_.State)" }) | Sort-Object }
    foreach ($d in $Directory) {
        $s["Files $d"] = @(Get-ChildItem -LiteralPath $d -Recurse -Force -ErrorAction Ignore | ForEach-Object { "$($_.FullName) $($_.Length)" }) | Sort-Object
    }
    $s
}

function Get-ChildProcess {
    # Live children of this process (zombies are reported too: a row must not leave one).
    foreach ($dir in [System.IO.Directory]::EnumerateDirectories('/proc')) {
        $name = [System.IO.Path]::GetFileName($dir)
        if ($name -notmatch '^\d+$') { continue }
        try { $stat = [System.IO.File]::ReadAllText("$dir/stat") } catch { continue }
        $close = $stat.LastIndexOf(')')
        $f = $stat.Substring($close + 2).Split(' ')
        if ([int]$f[1] -eq $PID) { [pscustomobject]@{ Pid = [int]$name; Command = $stat.Substring($stat.IndexOf('(') + 1, $close - $stat.IndexOf('(') - 1); State = $f[0] } }
    }
}

function Compare-HaStateSnapshot($Before, $After) {
    # The parts that differ, each as "part: -removed +added".
    foreach ($k in @($Before.Keys) + @($After.Keys | Where-Object { -not $Before.Contains($_) }) | Select-Object -Unique) {
        $b = @($Before[$k]); $a = @($After[$k])
        $gone = @($b | Where-Object { $_ -notin $a }); $new = @($a | Where-Object { $_ -notin $b })
        if ($gone.Count -or $new.Count -or $b.Count -ne $a.Count) {
            "${k}: $(($gone | ForEach-Object { "-[$_]" }) -join ' ') $(($new | ForEach-Object { "+[$_]" }) -join ' ')".Trim()
        }
    }
}

function Invoke-HostileRow {
    <#
    .SYNOPSIS
        Runs one row: its Setup, a snapshot, its Script (errors collected, terminating or not; with
        StopAfterSeconds, in a pipeline that is stopped then, as Ctrl+C would), a second snapshot, its Cleanup.
    .OUTPUTS
        Name, Ids (FullyQualifiedErrorIds), Messages, Changed (what differs between the snapshots),
        Output (text), Stopped, Seconds, AllocatedMB (what this process allocated meanwhile).
    #>
    param([Parameter(Mandatory)][hashtable]$Row, [string]$ModulePath, [string[]]$Parts)
    $dirs = @($Row.Directory | Where-Object { $_ } | ForEach-Object { $ExecutionContext.InvokeCommand.ExpandString($_) })
    if ($Row.Setup) { $null = & ([scriptblock]::Create($Row.Setup)) }
    $ignore = @($Row.IgnoreChildren | Where-Object { $_ })
    $snap = @{ Directory = $dirs; IgnoreChildren = $ignore }
    if ($Parts) { $snap.Parts = $Parts }
    $before = Get-HaStateSnapshot @snap
    $errors = [System.Collections.Generic.List[object]]::new()
    $output = [System.Collections.Generic.List[string]]::new()
    $stopped = $false
    $allocatedBefore = [GC]::GetTotalAllocatedBytes($true)
    $clock = [System.Diagnostics.Stopwatch]::StartNew()
    if ($Row.StopAfterSeconds) {
        # A pipeline of its own, stopped from here after the given time, the way Ctrl+C stops one.
        $ps = [powershell]::Create()
        try {
            $null = $ps.AddScript("Import-Module '$ModulePath'; $($Row.Script)")
            $async = $ps.BeginInvoke()
            if (-not $async.AsyncWaitHandle.WaitOne([TimeSpan]::FromSeconds($Row.StopAfterSeconds))) {
                $stopTask = $ps.BeginStop($null, $null)
                # The stop must end the command: waiting far longer than any stop takes guards against a hang.
                $stopped = $stopTask.AsyncWaitHandle.WaitOne([TimeSpan]::FromSeconds(60)) -and $ps.InvocationStateInfo.State -eq 'Stopped'
                if (-not $stopped) { $output.Add("did not stop: $($ps.InvocationStateInfo.State)") }
            }
            foreach ($e in $ps.Streams.Error) { $errors.Add($e) }
        } finally { if ($stopped -or $ps.InvocationStateInfo.State -ne 'Running') { $ps.Dispose() } }
    } else {
        try {
            $ErrorActionPreference = 'Continue'
            & ([scriptblock]::Create($Row.Script)) 2>&1 | ForEach-Object {
                if ($_ -is [System.Management.Automation.ErrorRecord]) { $errors.Add($_) } else { $output.Add(($_ | Out-String).Trim()) }
            }
        } catch {
            $errors.Add($_)
        }
    }
    $seconds = $clock.Elapsed.TotalSeconds
    $allocatedMB = ([GC]::GetTotalAllocatedBytes($true) - $allocatedBefore) / 1MB
    Start-Sleep -Milliseconds 100 # children a failed command might have left are visible by now
    $after = Get-HaStateSnapshot @snap
    if ($Row.Cleanup) { $null = & ([scriptblock]::Create($Row.Cleanup)) }
    # What the Setup started (the processes this row ignores) ends with the row, so it cannot come or go in the
    # next row's snapshots.
    if ($ignore.Count) {
        $leftover = @(Get-ChildProcess | Where-Object Command -In $ignore)
        foreach ($p in $leftover) { try { [System.Diagnostics.Process]::GetProcessById($p.Pid).Kill() } catch { } }
        $deadline = [DateTime]::UtcNow.AddSeconds(5)
        while (@(Get-ChildProcess | Where-Object { $_.Command -in $ignore -and $_.State -ne 'Z' }).Count -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 20 }
        foreach ($p in $leftover) { try { [System.Diagnostics.Process]::GetProcessById($p.Pid).WaitForExit(1000) } catch { } }
    }
    [pscustomobject]@{
        Name     = $Row.Name
        Ids      = @($errors | ForEach-Object { $_.FullyQualifiedErrorId })
        Messages = @($errors | ForEach-Object { $_.Exception.Message })
        Changed  = @(Compare-HaStateSnapshot $before $after)
        Output   = @($output)
        Stopped  = $stopped
        Seconds  = $seconds
        AllocatedMB = [math]::Round($allocatedMB, 1)
    }
}

Export-ModuleMember -Function Get-HaStateSnapshot, Compare-HaStateSnapshot, Invoke-HostileRow, Get-ChildProcess
