using HaPowerShell.Core.Arp;
using HaPowerShell.Native;
using HaPowerShell.Native.Rtnl;

namespace HaPowerShell.Hosting.Arp;

/// <summary>One sysctl write of a <see cref="ArpSuppressionPlan"/>: set <see cref="Key"/> of <see cref="Name"/> from <see cref="From"/> to <see cref="To"/>.</summary>
public sealed record ArpSuppressionWrite(string Name, string Key, int From, int To)
{
    public string SysctlKey => ArpSuppressionPolicy.SysctlKey(Name, Key);
}

/// <summary>What setting arp_ignore / arp_announce on some interfaces takes: per name, the values before and the writes that differ.</summary>
public sealed record ArpSuppressionPlan(IReadOnlyList<(string Name, ArpSuppression Before, IReadOnlyList<ArpSuppressionWrite> Writes)> Interfaces);

/// <summary>
/// arp_ignore / arp_announce (Get-/Set-ArpSuppression): reads them with their effective values, plans the writes that
/// differ, checks permission for every approved write before the first, writes them, and keeps a sysctl.d drop-in
/// (only one HaPowerShell wrote) so the setting survives a reboot.
/// </summary>
public sealed class ArpSuppressionActions
{
    private readonly SysctlStore _store;

    public ArpSuppressionActions(SysctlStore? store = null) => _store = store ?? new SysctlStore();

    /// <summary>The values of 'all', 'default' or an interface, with the effective ones (the larger of its own and 'all').</summary>
    public ArpSuppression Read(string name)
    {
        int ignore = _store.ReadIpv4Conf(name, ArpSuppressionPolicy.IgnoreKey);
        int announce = _store.ReadIpv4Conf(name, ArpSuppressionPolicy.AnnounceKey);
        int allIgnore = name == "all" ? ignore : _store.ReadIpv4Conf("all", ArpSuppressionPolicy.IgnoreKey);
        int allAnnounce = name == "all" ? announce : _store.ReadIpv4Conf("all", ArpSuppressionPolicy.AnnounceKey);
        return new ArpSuppression(name, ignore, announce,
            ArpSuppressionPolicy.Effective(name, ignore, allIgnore), ArpSuppressionPolicy.Effective(name, announce, allAnnounce));
    }

    /// <summary>'all', 'default', lo and every interface of <paramref name="links"/> that has IPv4 settings, in that order.</summary>
    public IReadOnlyList<string> DefaultNames(IReadOnlyList<LinkInfo> links)
    {
        var present = _store.ListIpv4ConfNames().ToHashSet(StringComparer.Ordinal);
        return new[] { "all", "default" }.Concat(links.OrderBy(l => l.Index).Select(l => l.Name)).Where(present.Contains).Distinct().ToList();
    }

    /// <summary>'all' or 'default' as they are; an interface (<paramref name="link"/>) when it has IPv4 settings, else <see cref="InterfaceNotFoundException"/> naming those that do.</summary>
    public string ConfName(string name, Func<string, LinkInfo> link)
    {
        if (name is "all" or "default") return name;
        var l = link(name);
        if (!_store.HasIpv4Conf(l.Name)) throw new InterfaceNotFoundException(l.Name, _store.ListIpv4ConfNames());
        return l.Name;
    }

    /// <summary>The writes that setting <paramref name="ignore"/> / <paramref name="announce"/> (null: leave) on <paramref name="names"/> takes; names resolved with <see cref="ConfName"/>.</summary>
    public ArpSuppressionPlan Plan(IEnumerable<string> names, int? ignore, int? announce, Func<string, LinkInfo> link)
    {
        if (ignore is { } i) ArpSuppressionPolicy.CheckArpIgnore(i);
        if (announce is { } a) ArpSuppressionPolicy.CheckArpAnnounce(a);
        var plan = new List<(string, ArpSuppression, IReadOnlyList<ArpSuppressionWrite>)>();
        foreach (var raw in names.Distinct())
        {
            string name = ConfName(raw, link);
            if (plan.Any(p => p.Item1 == name)) continue;
            var before = Read(name);
            var writes = new List<ArpSuppressionWrite>();
            if (ignore is { } vi && before.ArpIgnore != vi) writes.Add(new(name, ArpSuppressionPolicy.IgnoreKey, before.ArpIgnore, vi));
            if (announce is { } va && before.ArpAnnounce != va) writes.Add(new(name, ArpSuppressionPolicy.AnnounceKey, before.ArpAnnounce, va));
            plan.Add((name, before, writes));
        }
        return new ArpSuppressionPlan(plan);
    }

    /// <summary>Throws <see cref="SysctlException"/> (EACCES) unless every one of <paramref name="writes"/> can be made: nothing is written when one cannot.</summary>
    public void CheckWritable(IEnumerable<ArpSuppressionWrite> writes)
    {
        foreach (var w in writes)
        {
            string path = _store.Ipv4ConfPath(w.Name, w.Key);
            if (!_store.CanWrite(path)) throw new SysctlException($"set {w.SysctlKey}", path, Errno.EACCES);
        }
    }

    public void Write(ArpSuppressionWrite w) => _store.WriteIpv4Conf(w.Name, w.Key, w.To);

    /// <summary>
    /// The sysctl.d drop-in at <paramref name="path"/> with the values of <paramref name="plan"/> merged in: the new
    /// text, or null when the file already holds it. Throws <see cref="ArpArgumentException"/> (PersistFileNotOurs) when
    /// the file exists and HaPowerShell did not write it.
    /// </summary>
    public string? DropIn(string path, ArpSuppressionPlan plan, int? ignore, int? announce)
    {
        var existing = _store.ReadFileOrNull(path);
        if (!ArpSuppressionPolicy.IsOurDropIn(existing))
            throw new ArpArgumentException("PersistFileNotOurs",
                $"-PersistPath: '{path}' exists and was not written by HaPowerShell; choose another file so it is not overwritten.", "PersistPath");
        var settings = ArpSuppressionPolicy.ParseDropIn(existing);
        foreach (var (name, _, _) in plan.Interfaces)
        {
            if (ignore is { } vi) settings[(name, ArpSuppressionPolicy.IgnoreKey)] = vi;
            if (announce is { } va) settings[(name, ArpSuppressionPolicy.AnnounceKey)] = va;
        }
        var text = ArpSuppressionPolicy.RenderDropIn(settings);
        return text == existing ? null : text;
    }

    /// <summary>Throws <see cref="SysctlException"/> (EACCES) unless the drop-in's directory can be written.</summary>
    public void CheckDropInWritable(string path)
    {
        string dir = Path.GetDirectoryName(path)!;
        if (!_store.CanWrite(dir)) throw new SysctlException("write sysctl.d drop-in", dir, Errno.EACCES);
    }

    public void WriteDropIn(string path, string text) => _store.WriteFileAtomically(path, text);
}
