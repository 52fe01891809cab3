using HaPowerShell.Native;
using HaPowerShell.Native.Ipvs;
using HaPowerShell.Native.Netlink;

namespace HaPowerShell.Core.Ipvs;

/// <summary>What Import-IpvsConfig did.</summary>
public sealed class IpvsImportResult
{
    public int Commands { get; set; }
    public int Applied { get; set; }
    public int Failed { get; set; }
    public bool Replaced { get; set; }

    /// <summary>-Replace: the kernel refused a step, and the steps applied before it were undone (the table is as it was).</summary>
    public bool RolledBack { get; set; }

    public List<IpvsLineError> Errors { get; } = new();
}

public sealed record IpvsLineError(int LineNumber, string Text, string ErrorId, string Message);

/// <summary>One step of a plan the kernel refused (or, in <see cref="IpvsSyncResult.RollbackErrors"/>, could not undo).</summary>
public sealed record IpvsStepError(string Step, string ErrorId, string Message)
{
    public override string ToString() => $"{Step}: {Message}";
}

/// <summary>What Sync-IpvsConfig did (or, with -WhatIf, would do).</summary>
public sealed class IpvsSyncResult
{
    public bool Changed { get; set; }
    public int Added { get; set; }
    public int Updated { get; set; }
    public int Removed { get; set; }
    public int Failed { get; set; }
    public bool WhatIf { get; set; }
    public IReadOnlyList<IpvsOperation> Operations { get; set; } = Array.Empty<IpvsOperation>();

    /// <summary>The steps the kernel refused, with why.</summary>
    public List<IpvsStepError> Errors { get; } = new();

    /// <summary>A step was refused and every step applied before it was undone: the table is as it was before.</summary>
    public bool RolledBack { get; set; }

    /// <summary>Planned steps not in effect afterwards (refused, or undone); empty when the whole plan applied.</summary>
    public IReadOnlyList<IpvsOperation> NotApplied { get; set; } = Array.Empty<IpvsOperation>();

    /// <summary>Undo steps the kernel refused: those changes stay applied (they are counted in Added/Updated/Removed).</summary>
    public List<IpvsStepError> RollbackErrors { get; } = new();
}

// Whole-table operations: import (replaying ipvsadm rules) and sync (applying a desired state).
public sealed partial class IpvsAdmin
{
    /// <summary>
    /// Checks a rule set completely before anything is sent: every service and real server is
    /// validated, so bad input changes nothing. Throws IpvsOperationException naming the line.
    /// </summary>
    public static void ValidateRules(IpvsRuleSet rules)
    {
        foreach (var c in rules.Commands)
        {
            try
            {
                if (c.Service != null && c.Kind is IpvsRuleCommandKind.AddService or IpvsRuleCommandKind.EditService) Validate(c.Service);
                if (c.Service != null && c.RealServer != null && c.Kind is IpvsRuleCommandKind.AddServer or IpvsRuleCommandKind.EditServer)
                    ValidateRealServer(c.Service, c.RealServer);
            }
            catch (IpvsOperationException e)
            {
                throw new IpvsOperationException(e.ErrorId, e.Kind, $"line {c.LineNumber} ({c.Text.Trim()}): {e.Message}", c.Text, e);
            }
        }
    }

    /// <summary>
    /// Replays ipvsadm rules like `ipvsadm -R`: in order, each line once. Runs of service and
    /// real-server changes are pipelined; -C, -Z and --set are run where they stand. A line the
    /// kernel refuses is reported and the rest goes on, as with ipvsadm -R.
    /// </summary>
    public IpvsImportResult Import(IpvsRuleSet rules, bool replace, bool validated = false)
    {
        if (!validated) ValidateRules(rules);
        if (replace) return ImportReplacing(rules);
        CheckModules(rules.Commands.Where(c => c.Kind is IpvsRuleCommandKind.AddService or IpvsRuleCommandKind.EditService)
            .Select(c => c.Service).OfType<IpvsService>());
        var result = new IpvsImportResult { Commands = rules.Commands.Count };
        var pending = new List<(IpvsChange Change, IpvsRuleCommand Command)>();

        void FlushPending()
        {
            if (pending.Count == 0) return;
            var outcome = _kernel.Apply(pending.Select(p => p.Change).ToList());
            for (int i = 0; i < outcome.Length; i++)
            {
                if (outcome[i] is null) { result.Applied++; continue; }
                var c = pending[i].Command;
                var explained = Explain(outcome[i]!, c.Service, c.Kind.ToString(), c.RealServer);
                result.Failed++;
                result.Errors.Add(new IpvsLineError(c.LineNumber, c.Text, explained?.ErrorId ?? "Kernel" + outcome[i]!.ErrnoName,
                    explained?.Message ?? outcome[i]!.Message));
            }
            pending.Clear();
        }

        foreach (var c in rules.Commands)
        {
            var change = ToChange(c);
            if (change != null) { pending.Add((change, c)); continue; }
            FlushPending();
            try
            {
                switch (c.Kind)
                {
                    case IpvsRuleCommandKind.Clear: _kernel.Flush(); break;
                    case IpvsRuleCommandKind.Zero: _kernel.Zero(c.Service is null ? null : IpvsMapping.ToIdentity(c.Service)); break;
                    case IpvsRuleCommandKind.SetTimeout:
                        _kernel.SetTimeouts(new IpvsTimeouts(c.Timeout!.Tcp, c.Timeout.TcpFin, c.Timeout.Udp)); break;
                }
                result.Applied++;
            }
            catch (NetlinkException e)
            {
                result.Failed++;
                result.Errors.Add(new IpvsLineError(c.LineNumber, c.Text, "Kernel" + e.ErrnoName, e.Message));
            }
        }
        FlushPending();
        return result;
    }

    /// <summary>
    /// -Replace: the rules, replayed on an empty table, are the desired table; the live table is made equal
    /// to it as one checked plan (<see cref="PlanSync"/>, <see cref="ApplyPlan"/>): a rule file that cannot
    /// apply as a whole (a -a for a service it never adds, say) changes nothing, and a step the kernel still
    /// refuses is undone with every step before it. --set lines are applied with the plan, -Z lines after it.
    /// </summary>
    /// <exception cref="IpvsOperationException">InvalidConfig: a command that cannot apply to the table the file builds.</exception>
    private IpvsImportResult ImportReplacing(IpvsRuleSet rules)
    {
        List<IpvsService> desired;
        IpvsTimeout? timeout;
        try { desired = IpvsRules.ToTable(rules, out timeout); }
        catch (IpvsRuleParseException e)
        {
            throw new IpvsOperationException("InvalidConfig", IpvsFailureKind.InvalidArgument,
                e.Message + " (with -Replace the file is applied as a whole, to an empty table; nothing was changed)", null, e);
        }
        var plan = PlanReplace(desired);
        var sync = ApplyPlan(plan.Operations, timeout);
        var result = ToImportResult(sync, rules.Commands.Count, plan.Operations.Count + (timeout is null ? 0 : 1));
        if (sync.Failed == 0)
        {
            foreach (var z in rules.Commands.Where(c => c.Kind == IpvsRuleCommandKind.Zero))
            {
                try { _kernel.Zero(z.Service is null ? null : IpvsMapping.ToIdentity(z.Service)); }
                catch (NetlinkException e)
                {
                    result.Failed++;
                    result.Errors.Add(new IpvsLineError(z.LineNumber, z.Text, "Kernel" + e.ErrnoName, e.Message));
                }
            }
        }
        return result;
    }

    /// <summary>A plan that makes the live table exactly <paramref name="desired"/> (a service without a list of real servers gets none).</summary>
    private IpvsPlan PlanReplace(IReadOnlyList<IpvsService> desired)
    {
        foreach (var s in desired) s.RealServers ??= new List<IpvsRealServer>();
        return PlanSync(desired);
    }

    private static IpvsImportResult ToImportResult(IpvsSyncResult sync, int commands, int steps)
    {
        var result = new IpvsImportResult
        {
            Commands = commands, Replaced = true, RolledBack = sync.RolledBack, Failed = sync.Failed,
            Applied = sync.Failed == 0 ? steps : sync.Added + sync.Updated + sync.Removed,
        };
        foreach (var e in sync.Errors.Concat(sync.RollbackErrors)) result.Errors.Add(new IpvsLineError(0, e.Step, e.ErrorId, e.Message));
        return result;
    }

    private static IpvsChange? ToChange(IpvsRuleCommand c) => c.Kind switch
    {
        IpvsRuleCommandKind.AddService => new IpvsChange(IpvsChangeKind.NewService, IpvsMapping.ToEntry(c.Service!)),
        IpvsRuleCommandKind.EditService => new IpvsChange(IpvsChangeKind.SetService, IpvsMapping.ToEntry(c.Service!)),
        IpvsRuleCommandKind.DeleteService => new IpvsChange(IpvsChangeKind.DeleteService, IpvsMapping.ToIdentity(c.Service!)),
        IpvsRuleCommandKind.AddServer => new IpvsChange(IpvsChangeKind.NewDest, IpvsMapping.ToIdentity(c.Service!), IpvsMapping.ToDestEntry(c.Service!, c.RealServer!)),
        IpvsRuleCommandKind.EditServer => new IpvsChange(IpvsChangeKind.SetDest, IpvsMapping.ToIdentity(c.Service!), IpvsMapping.ToDestEntry(c.Service!, c.RealServer!)),
        IpvsRuleCommandKind.DeleteServer => new IpvsChange(IpvsChangeKind.DeleteDest, IpvsMapping.ToIdentity(c.Service!), IpvsMapping.ToDestEntry(c.Service!, c.RealServer!)),
        _ => null,
    };

    /// <summary>
    /// Adds a whole table (from JSON): every service, then every real server, pipelined. With
    /// <paramref name="replace"/> the live table is flushed first.
    /// </summary>
    public IpvsImportResult ImportTable(IReadOnlyList<IpvsService> table, IpvsTimeout? timeout, bool replace, bool validated = false)
    {
        if (!validated) ValidateTable(table);
        if (replace)
        {
            var plan = PlanReplace(table);
            return ToImportResult(ApplyPlan(plan.Operations, timeout), table.Count, plan.Operations.Count + (timeout is null ? 0 : 1));
        }
        CheckModules(table);
        var changes = new List<IpvsChange>();
        var labels = new List<(IpvsService Service, IpvsRealServer? Server)>();
        foreach (var s in table)
        {
            changes.Add(new IpvsChange(IpvsChangeKind.NewService, IpvsMapping.ToEntry(s)));
            labels.Add((s, null));
        }
        foreach (var s in table)
        {
            foreach (var r in s.RealServers ?? new List<IpvsRealServer>())
            {
                changes.Add(new IpvsChange(IpvsChangeKind.NewDest, IpvsMapping.ToIdentity(s), IpvsMapping.ToDestEntry(s, r)));
                labels.Add((s, r));
            }
        }
        var result = new IpvsImportResult { Commands = changes.Count + (timeout is null ? 0 : 1) };
        var outcome = _kernel.Apply(changes);
        for (int i = 0; i < outcome.Length; i++)
        {
            if (outcome[i] is not { } e) { result.Applied++; continue; }
            var (s, r) = labels[i];
            var explained = Explain(e, s, r is null ? "add" : "add real server", r);
            result.Failed++;
            result.Errors.Add(new IpvsLineError(0, r is null ? s.ToString() : $"{s} -> {r.Endpoint}",
                explained?.ErrorId ?? "Kernel" + e.ErrnoName, explained?.Message ?? e.Message));
        }
        if (timeout != null)
        {
            _kernel.SetTimeouts(new IpvsTimeouts(timeout.Tcp, timeout.TcpFin, timeout.Udp));
            result.Applied++;
        }
        return result;
    }

    /// <summary>Validates a desired table completely (nothing is sent when any entry is wrong).</summary>
    public static void ValidateTable(IReadOnlyList<IpvsService> desired)
    {
        foreach (var s in desired)
        {
            Validate(s);
            foreach (var r in s.RealServers ?? new List<IpvsRealServer>()) ValidateRealServer(s, r);
        }
    }

    /// <summary>
    /// Works out the changes that turn the live table into <paramref name="desired"/> and checks them whole:
    /// every entry is validated, and every scheduler and persistence engine the changes name must be a module
    /// this kernel has (loaded, built in or installed), so nothing the kernel would refuse for a reason known
    /// now is left to be found half-way. Linear in the size of both tables.
    /// </summary>
    /// <exception cref="IpvsOperationException">An invalid entry, or SchedulerNotFound / PersistenceEngineNotFound.</exception>
    public IpvsPlan PlanSync(IReadOnlyList<IpvsService> desired)
    {
        ValidateTable(desired);
        var current = Snapshot();
        // A desired service that does not list its real servers (RealServers null, e.g. straight
        // from Get-IpvsService) keeps the ones it has: only what is stated is managed.
        if (desired.Any(d => d.RealServers is null))
        {
            var byKey = new Dictionary<IpvsRules.ServiceKey, IpvsService>(current.Count);
            foreach (var c in current) byKey.TryAdd(IpvsRules.ServiceKey.Of(c), c);
            foreach (var s in desired.Where(d => d.RealServers is null))
                s.RealServers = byKey.TryGetValue(IpvsRules.ServiceKey.Of(s), out var have) ? have.RealServers ?? new List<IpvsRealServer>() : new List<IpvsRealServer>();
        }
        var plan = IpvsPlanner.Plan(desired, current);
        CheckModules(plan.Operations.Where(o => o.Kind is IpvsOperationKind.AddService or IpvsOperationKind.UpdateService).Select(o => o.Service));
        return plan;
    }

    /// <summary>
    /// Refuses, before anything is sent, a scheduler or persistence engine that this kernel does not have
    /// (the kernel would load ip_vs_&lt;name&gt; or ip_vs_pe_&lt;name&gt; on demand, and refuse the service when it cannot).
    /// When the kernel's module index cannot be read, the kernel's own answer decides (and a plan is undone).
    /// </summary>
    public void CheckModules(IEnumerable<IpvsService> services)
    {
        var schedulers = new Dictionary<string, IpvsService>(StringComparer.Ordinal);
        var engines = new Dictionary<string, IpvsService>(StringComparer.Ordinal);
        foreach (var s in services)
        {
            schedulers.TryAdd(string.IsNullOrEmpty(s.Scheduler) ? IpvsService.DefaultScheduler : s.Scheduler, s);
            if (!string.IsNullOrEmpty(s.PersistenceEngine)) engines.TryAdd(s.PersistenceEngine, s);
        }
        foreach (var (name, s) in schedulers)
        {
            if (_modules.IsAvailable("ip_vs_" + name) != false) continue;
            var here = _modules.Available("ip_vs_").Select(m => m["ip_vs_".Length..])
                .Where(m => m is not ("ftp" or "pe_sip") && !m.StartsWith("pe_", StringComparison.Ordinal) && !m.StartsWith("proto", StringComparison.Ordinal)).ToList();
            throw new IpvsOperationException("SchedulerNotFound", IpvsFailureKind.NotInstalled,
                $"Scheduler '{name}' (service {s}) is not available in this kernel: no module ip_vs_{name} is loaded, built in or installed, " +
                $"so the kernel would refuse it. Nothing was changed. Schedulers this kernel has: {(here.Count == 0 ? "(none found)" : string.Join(" ", here))}.", s);
        }
        foreach (var (name, s) in engines)
        {
            if (_modules.IsAvailable("ip_vs_pe_" + name) != false) continue;
            var here = _modules.Available("ip_vs_pe_").Select(m => m["ip_vs_pe_".Length..]).ToList();
            throw new IpvsOperationException("PersistenceEngineNotFound", IpvsFailureKind.NotInstalled,
                $"Persistence engine '{name}' (service {s}) is not available in this kernel: no module ip_vs_pe_{name} is loaded, built in or installed. " +
                $"Nothing was changed. Persistence engines this kernel has: {(here.Count == 0 ? "(none found)" : string.Join(" ", here))}.", s);
        }
    }

    /// <summary>
    /// Applies planned operations (all of a plan, or those the user approved) and then the timeouts, as one
    /// unit: when the kernel refuses any step, every step it had accepted is undone, last first (a removed
    /// service comes back with its real servers, an update gets its old settings, an addition is deleted),
    /// so the table is as it was. The result says what was refused, whether the undo was complete, and which
    /// steps are not in effect. Counters and connections of removed services that come back start afresh.
    /// </summary>
    public IpvsSyncResult ApplyPlan(IReadOnlyList<IpvsOperation> operations, IpvsTimeout? timeout = null)
    {
        var result = new IpvsSyncResult { Operations = operations };
        var outcome = operations.Count == 0 ? Array.Empty<NetlinkException?>() : _kernel.Apply(ToChanges(operations));
        var refused = new List<int>();
        var refusedServices = new HashSet<IpvsRules.ServiceKey>();
        for (int i = 0; i < outcome.Length; i++)
        {
            if (outcome[i] is not { } e) continue;
            var op = operations[i];
            var key = IpvsRules.ServiceKey.Of(op.Service);
            if (op.Kind == IpvsOperationKind.AddService) refusedServices.Add(key);
            // A real server of a service whose addition was refused fails with it: one error, not two.
            else if (op.Kind == IpvsOperationKind.AddRealServer && e.Errno == Errno.ESRCH && refusedServices.Contains(key)) continue;
            refused.Add(i);
            var explained = Explain(e, op.Service, op.Kind.ToString(), op.RealServer);
            result.Errors.Add(new IpvsStepError(op.Description, explained?.ErrorId ?? "Kernel" + e.ErrnoName.Replace(" ", ""), explained?.Message ?? e.Message));
        }
        bool timeoutChanged = false;
        if (refused.Count == 0 && timeout is not null)
        {
            try
            {
                var before = _kernel.GetTimeouts();
                var wanted = new IpvsTimeouts(timeout.Tcp == 0 ? before.Tcp : timeout.Tcp, timeout.TcpFin == 0 ? before.TcpFin : timeout.TcpFin, timeout.Udp == 0 ? before.Udp : timeout.Udp);
                if (wanted != before)
                {
                    _kernel.SetTimeouts(new IpvsTimeouts(timeout.Tcp, timeout.TcpFin, timeout.Udp));
                    timeoutChanged = true;
                }
            }
            catch (NetlinkException e)
            {
                refused.Add(-1);
                result.Errors.Add(new IpvsStepError($"Set timeouts (tcp {timeout.Tcp}, tcpfin {timeout.TcpFin}, udp {timeout.Udp})", "Kernel" + e.ErrnoName.Replace(" ", ""), e.Message));
            }
        }
        var remaining = new bool[operations.Count]; // in effect afterwards
        for (int i = 0; i < outcome.Length; i++) remaining[i] = outcome[i] is null;
        if (refused.Count > 0)
        {
            result.Failed = refused.Count;
            // Undo what the kernel accepted, last first, in one batch.
            var undo = new List<(IpvsChange Change, int Op)>();
            for (int i = operations.Count - 1; i >= 0; i--)
                if (remaining[i])
                    foreach (var c in Inverse(operations[i])) undo.Add((c, i));
            var undone = undo.Count == 0 ? Array.Empty<NetlinkException?>() : _kernel.Apply(undo.Select(u => u.Change).ToList());
            var stuck = new HashSet<int>();
            for (int j = 0; j < undone.Length; j++)
            {
                if (undone[j] is not { } e) continue;
                stuck.Add(undo[j].Op);
                result.RollbackErrors.Add(new IpvsStepError("Undo: " + operations[undo[j].Op].Description, "Kernel" + e.ErrnoName.Replace(" ", ""), e.Message));
            }
            for (int i = 0; i < remaining.Length; i++) remaining[i] = remaining[i] && stuck.Contains(i);
            result.RolledBack = stuck.Count == 0;
        }
        var notApplied = new List<IpvsOperation>();
        for (int i = 0; i < operations.Count; i++)
        {
            if (!remaining[i]) { notApplied.Add(operations[i]); continue; }
            switch (operations[i].Kind)
            {
                case IpvsOperationKind.AddService or IpvsOperationKind.AddRealServer: result.Added++; break;
                case IpvsOperationKind.UpdateService or IpvsOperationKind.UpdateRealServer: result.Updated++; break;
                default: result.Removed++; break;
            }
        }
        result.NotApplied = notApplied;
        result.Changed = result.Added + result.Updated + result.Removed > 0 || timeoutChanged;
        return result;
    }

    /// <summary>The kernel changes that undo one applied operation.</summary>
    private static IEnumerable<IpvsChange> Inverse(IpvsOperation op)
    {
        var id = IpvsMapping.ToIdentity(op.Service);
        switch (op.Kind)
        {
            case IpvsOperationKind.AddService:
                yield return new IpvsChange(IpvsChangeKind.DeleteService, id);
                break;
            case IpvsOperationKind.UpdateService:
                yield return new IpvsChange(IpvsChangeKind.SetService, IpvsMapping.ToEntry(op.PreviousService!));
                break;
            case IpvsOperationKind.RemoveService:
                yield return new IpvsChange(IpvsChangeKind.NewService, IpvsMapping.ToEntry(op.Service));
                foreach (var r in op.Service.RealServers ?? new List<IpvsRealServer>())
                    yield return new IpvsChange(IpvsChangeKind.NewDest, id, IpvsMapping.ToDestEntry(op.Service, Settable(r)));
                break;
            case IpvsOperationKind.AddRealServer:
                yield return new IpvsChange(IpvsChangeKind.DeleteDest, id, IpvsMapping.ToDestEntry(op.Service, op.RealServer!));
                break;
            case IpvsOperationKind.UpdateRealServer:
                yield return new IpvsChange(IpvsChangeKind.SetDest, id, IpvsMapping.ToDestEntry(op.Service, Settable(op.PreviousRealServer!)));
                break;
            case IpvsOperationKind.RemoveRealServer:
                yield return new IpvsChange(IpvsChangeKind.NewDest, id, IpvsMapping.ToDestEntry(op.Service, Settable(op.RealServer!)));
                break;
        }
    }

    /// <summary>The kernel reports Local for real servers on this host; it is set as DirectRouting (and reported Local again).</summary>
    private static IpvsRealServer Settable(IpvsRealServer r) => r.ForwardingMethod != IpvsForwardingMethod.Local ? r : new IpvsRealServer
    {
        Service = r.Service, Address = r.Address, Port = r.Port, ForwardingMethod = IpvsForwardingMethod.DirectRouting, Weight = r.Weight,
        UpperThreshold = r.UpperThreshold, LowerThreshold = r.LowerThreshold,
    };

    /// <summary>The kernel change that carries out one planned operation.</summary>
    public static IpvsChange ToChange(IpvsOperation op) => ToChange(op, null);

    /// <summary>
    /// <see cref="ToChange(IpvsOperation)"/> of each operation, in order; consecutive operations on the same service
    /// object share its identity record (a start's 20,000 real-server additions map 10,000 identities, not 20,000).
    /// </summary>
    public static List<IpvsChange> ToChanges(IReadOnlyList<IpvsOperation> ops)
    {
        var changes = new List<IpvsChange>(ops.Count);
        IpvsService? last = null;
        IpvsServiceEntry? identity = null;
        foreach (var op in ops)
        {
            if (op.Kind is not (IpvsOperationKind.AddService or IpvsOperationKind.UpdateService) && !ReferenceEquals(op.Service, last))
            {
                last = op.Service;
                identity = IpvsMapping.ToIdentity(op.Service);
            }
            changes.Add(ToChange(op, ReferenceEquals(op.Service, last) ? identity : null));
        }
        return changes;
    }

    private static IpvsChange ToChange(IpvsOperation op, IpvsServiceEntry? identity) => op.Kind switch
    {
        IpvsOperationKind.AddService => new IpvsChange(IpvsChangeKind.NewService, IpvsMapping.ToEntry(op.Service)),
        IpvsOperationKind.UpdateService => new IpvsChange(IpvsChangeKind.SetService, IpvsMapping.ToEntry(op.Service)),
        IpvsOperationKind.RemoveService => new IpvsChange(IpvsChangeKind.DeleteService, identity ?? IpvsMapping.ToIdentity(op.Service)),
        IpvsOperationKind.AddRealServer => new IpvsChange(IpvsChangeKind.NewDest, identity ?? IpvsMapping.ToIdentity(op.Service), IpvsMapping.ToDestEntry(op.Service, op.RealServer!)),
        IpvsOperationKind.UpdateRealServer => new IpvsChange(IpvsChangeKind.SetDest, identity ?? IpvsMapping.ToIdentity(op.Service), IpvsMapping.ToDestEntry(op.Service, op.RealServer!)),
        IpvsOperationKind.RemoveRealServer => new IpvsChange(IpvsChangeKind.DeleteDest, identity ?? IpvsMapping.ToIdentity(op.Service), IpvsMapping.ToDestEntry(op.Service, op.RealServer!)),
        _ => throw new ArgumentOutOfRangeException(nameof(op)),
    };
}
