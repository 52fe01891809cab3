using System.Net.Sockets;

namespace HaPowerShell.Core.Vrrp;

/// <summary>How a reconfiguration treats one VRRP instance.</summary>
public enum VrrpInstanceChange
{
    /// <summary>Only in the new configuration: started.</summary>
    Added,

    /// <summary>The same in both: not touched (its state, addresses, timers and counters go on).</summary>
    Unchanged,

    /// <summary>
    /// Differs only in <see cref="VrrpReconfigurePlan.InPlaceFields"/>: takes the new configuration in place and keeps
    /// its state (a Master stays Master, keeps the addresses both have, adds the new ones, drops the removed ones).
    /// </summary>
    Updated,

    /// <summary>Differs in a field that cannot change while it runs (interface, VRID, version, interval, source, accept mode, sync group, address family): stopped, then started with the new configuration.</summary>
    Replaced,

    /// <summary>Only in the running configuration: stopped (a Master sends priority 0 and removes its addresses).</summary>
    Removed,
}

/// <summary>One instance in a <see cref="VrrpReconfigurePlan"/>: its name, what happens, both configurations and the fields that differ.</summary>
public sealed record VrrpPlanItem(string Name, VrrpInstanceChange Change, VrrpInstanceConfig? Old, VrrpInstanceConfig? New, IReadOnlyList<VrrpField> ChangedFields);

/// <summary>
/// What changes when the running VRRP instances are reconfigured to a new set (keepalived's reload), matched by
/// instance name: only the difference. Pure; the VRRP host applies it (removed and replaced instances first, so a
/// VRID that moves to another name is free again, then updates, then new instances).
/// </summary>
public sealed class VrrpReconfigurePlan
{
    /// <summary>The fields a running instance can take in place, keeping its state.</summary>
    public static readonly IReadOnlySet<VrrpField> InPlaceFields = new HashSet<VrrpField>
    {
        VrrpField.Priority, VrrpField.AuthenticationPassword, VrrpField.VirtualAddress, VrrpField.UnicastPeer,
        VrrpField.NoPreempt, VrrpField.PreemptDelay, VrrpField.GarpDelay, VrrpField.GarpRepeat, VrrpField.GarpRefresh,
        VrrpField.GarpRefreshRepeat, VrrpField.GarpInterval, VrrpField.TrackInterface, VrrpField.TrackScript, VrrpField.NotifyScript,
    };

    private VrrpReconfigurePlan(IReadOnlyList<VrrpPlanItem> items) => Items = items;

    /// <summary>Every instance of either side, in the order they are applied: removed, replaced, updated, unchanged, added (by name within each).</summary>
    public IReadOnlyList<VrrpPlanItem> Items { get; }

    public IEnumerable<VrrpPlanItem> Of(VrrpInstanceChange change) => Items.Where(i => i.Change == change);

    /// <summary>
    /// Compares <paramref name="running"/> with <paramref name="wanted"/>. Throws <see cref="VrrpConfigurationException"/>
    /// (VrrpInstanceNameDuplicate, VrrpInstanceDuplicate) when the new set names an instance twice or runs one VRID
    /// twice on an interface and address family; each configuration's own checks are <see cref="VrrpInstanceConfig.Validate"/>.
    /// </summary>
    public static VrrpReconfigurePlan Compute(IEnumerable<VrrpInstanceConfig> running, IEnumerable<VrrpInstanceConfig> wanted)
    {
        var old = running.ToDictionary(c => c.EffectiveName, StringComparer.Ordinal);
        var now = new Dictionary<string, VrrpInstanceConfig>(StringComparer.Ordinal);
        var errors = new List<VrrpConfigError>();
        var vrids = new Dictionary<(string, AddressFamily, int), string>();
        foreach (var c in wanted)
        {
            if (!now.TryAdd(c.EffectiveName, c))
            {
                errors.Add(new VrrpConfigError("VrrpInstanceNameDuplicate", VrrpField.Name, $"The new configuration names instance '{c.EffectiveName}' twice.", c.EffectiveName));
                continue;
            }
            if (!vrids.TryAdd((c.InterfaceName, c.AddressFamily, c.VirtualRouterId), c.EffectiveName))
                errors.Add(new VrrpConfigError("VrrpInstanceDuplicate", VrrpField.VirtualRouterId,
                    $"Instances '{vrids[(c.InterfaceName, c.AddressFamily, c.VirtualRouterId)]}' and '{c.EffectiveName}' both run {{VirtualRouterId}} {c.VirtualRouterId} on '{c.InterfaceName}'.",
                    c.VirtualRouterId.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        }
        var seen = new List<VrrpInstanceConfig>();
        foreach (var c in now.Values)
        {
            errors.AddRange(VrrpInstanceConfig.SharedVirtualAddresses(seen, c));
            seen.Add(c);
        }
        if (errors.Count > 0) throw new VrrpConfigurationException(errors);

        var items = new List<VrrpPlanItem>();
        foreach (var (name, o) in old)
        {
            if (!now.TryGetValue(name, out var n)) { items.Add(new(name, VrrpInstanceChange.Removed, o, null, Array.Empty<VrrpField>())); continue; }
            var diff = o.Differences(n);
            var change = diff.Count == 0 ? VrrpInstanceChange.Unchanged
                : diff.All(InPlaceFields.Contains) && o.AddressFamily == n.AddressFamily ? VrrpInstanceChange.Updated
                : VrrpInstanceChange.Replaced;
            items.Add(new(name, change, o, n, diff));
        }
        foreach (var (name, n) in now)
            if (!old.ContainsKey(name)) items.Add(new(name, VrrpInstanceChange.Added, null, n, Array.Empty<VrrpField>()));
        return new VrrpReconfigurePlan(items.OrderBy(i => i.Change switch
        {
            VrrpInstanceChange.Removed => 0,
            VrrpInstanceChange.Replaced => 1,
            VrrpInstanceChange.Updated => 2,
            VrrpInstanceChange.Unchanged => 3,
            _ => 4,
        }).ThenBy(i => i.Name, StringComparer.Ordinal).ToList());
    }
}
