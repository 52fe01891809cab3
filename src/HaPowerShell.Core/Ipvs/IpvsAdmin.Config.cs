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
    public List<IpvsLineError> Errors { get; } = new();
}

public sealed record IpvsLineError(int LineNumber, string Text, string ErrorId, string Message);

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
    public List<string> Errors { get; } = new();
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
        var result = new IpvsImportResult { Commands = rules.Commands.Count, Replaced = replace };
        if (replace) _kernel.Flush();
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
        if (replace) _kernel.Flush();
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
        var result = new IpvsImportResult { Commands = changes.Count + (timeout is null ? 0 : 1), Replaced = replace };
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

    /// <summary>Works out the changes that turn the live table into <paramref name="desired"/>.</summary>
    public IpvsPlan PlanSync(IReadOnlyList<IpvsService> desired)
    {
        ValidateTable(desired);
        var current = Snapshot();
        // A desired service that does not list its real servers (RealServers null, e.g. straight
        // from Get-IpvsService) keeps the ones it has: only what is stated is managed.
        foreach (var s in desired.Where(d => d.RealServers is null))
            s.RealServers = current.FirstOrDefault(c => c.SameIdentity(s))?.RealServers ?? new List<IpvsRealServer>();
        return IpvsPlanner.Plan(desired, current);
    }

    /// <summary>Applies planned operations (all of a plan, or those the user approved), pipelined.</summary>
    public IpvsSyncResult ApplyOperations(IReadOnlyList<IpvsOperation> operations)
    {
        var result = new IpvsSyncResult { Operations = operations };
        if (operations.Count == 0) return result;
        var changes = operations.Select(ToChange).ToList();
        var outcome = _kernel.Apply(changes);
        for (int i = 0; i < outcome.Length; i++)
        {
            var op = operations[i];
            if (outcome[i] is { } e)
            {
                result.Failed++;
                result.Errors.Add($"{op.Description}: {(Explain(e, op.Service, op.Kind.ToString(), op.RealServer)?.Message ?? e.Message)}");
                continue;
            }
            switch (op.Kind)
            {
                case IpvsOperationKind.AddService or IpvsOperationKind.AddRealServer: result.Added++; break;
                case IpvsOperationKind.UpdateService or IpvsOperationKind.UpdateRealServer: result.Updated++; break;
                default: result.Removed++; break;
            }
        }
        result.Changed = result.Added + result.Updated + result.Removed > 0;
        return result;
    }

    private static IpvsChange ToChange(IpvsOperation op) => op.Kind switch
    {
        IpvsOperationKind.AddService => new IpvsChange(IpvsChangeKind.NewService, IpvsMapping.ToEntry(op.Service)),
        IpvsOperationKind.UpdateService => new IpvsChange(IpvsChangeKind.SetService, IpvsMapping.ToEntry(op.Service)),
        IpvsOperationKind.RemoveService => new IpvsChange(IpvsChangeKind.DeleteService, IpvsMapping.ToIdentity(op.Service)),
        IpvsOperationKind.AddRealServer => new IpvsChange(IpvsChangeKind.NewDest, IpvsMapping.ToIdentity(op.Service), IpvsMapping.ToDestEntry(op.Service, op.RealServer!)),
        IpvsOperationKind.UpdateRealServer => new IpvsChange(IpvsChangeKind.SetDest, IpvsMapping.ToIdentity(op.Service), IpvsMapping.ToDestEntry(op.Service, op.RealServer!)),
        IpvsOperationKind.RemoveRealServer => new IpvsChange(IpvsChangeKind.DeleteDest, IpvsMapping.ToIdentity(op.Service), IpvsMapping.ToDestEntry(op.Service, op.RealServer!)),
        _ => throw new ArgumentOutOfRangeException(nameof(op)),
    };
}
