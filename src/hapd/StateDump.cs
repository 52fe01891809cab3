using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using HaPowerShell.Core.Keepalived.Runtime;
using HaPowerShell.Hosting.Vrrp;

namespace HaPowerShell.Daemon;

/// <summary>The three dumps keepalived writes on signals, from the same snapshot: data (USR1), stats (USR2), JSON.</summary>
public static class StateDump
{
    /// <summary>keepalived's dump files, in $TMPDIR (default /tmp, as keepalived).</summary>
    public static string DataFile => Path.Combine(Path.GetTempPath(), "keepalived.data");
    public static string StatsFile => Path.Combine(Path.GetTempPath(), "keepalived.stats");
    public static string JsonFile => Path.Combine(Path.GetTempPath(), "keepalived.json");

    public static HapdInstanceState Instance(VrrpRunningInstance i) => new()
    {
        Name = i.Name,
        Interface = i.InterfaceName,
        VirtualRouterId = i.VirtualRouterId,
        Version = i.Version,
        State = i.State.ToString().ToUpperInvariant(),
        Priority = i.Priority,
        EffectivePriority = i.EffectivePriority,
        MasterAddress = i.MasterAddress?.ToString(),
        MasterPriority = i.MasterPriority,
        AdvertisementIntervalSeconds = i.AdvertisementInterval.TotalSeconds,
        VirtualAddresses = i.VirtualIPAddress.Select(a => a.ToString()).ToList(),
        UnicastPeers = i.UnicastPeer.Select(a => a.ToString()).ToList(),
        SyncGroup = i.SyncGroup,
        NoPreempt = i.NoPreempt,
        VirtualAddressesInstalled = i.VirtualAddressesInstalled,
        FaultReasons = i.FaultReasons.ToList(),
        LastTransition = i.LastTransition,
        Transitions = i.TransitionCount,
        Counters = new HapdInstanceCounters
        {
            AdvertisementsSent = i.AdvertisementsSent,
            AdvertisementsReceived = i.AdvertisementsReceived,
            PriorityZeroSent = i.PriorityZeroSent,
            PriorityZeroReceived = i.PriorityZeroReceived,
            BecameMaster = i.BecameMaster,
            ReleasedMaster = i.ReleasedMaster,
            GratuitousArpBursts = i.GratuitousArpBursts,
            Rejected = i.Rejected,
            RejectedByReason = i.RejectedByReason.ToDictionary(kv => kv.Key.ToString(), kv => kv.Value),
            SendErrors = i.SendErrors,
            ActionErrors = i.ActionErrors,
        },
    };

    public static string Json(HapdState state) => JsonSerializer.Serialize(state, HapdJsonContext.Default.HapdState);

    /// <summary>keepalived.data's shape: one block per instance with its configuration and state.</summary>
    public static string Data(HapdState s)
    {
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"------< hapd {s.Version} data, {s.Written:ddd MMM d HH:mm:ss yyyy} >------\n");
        sb.Append(CultureInfo.InvariantCulture, $" Config file = {s.ConfigFile}\n PID = {s.Pid}\n Started = {s.Started:u}\n Reloads = {s.Reloads} ({s.FailedReloads} refused)\n");
        if (s.LastReloadError is not null) sb.Append(" Last refused reload = ").Append(s.LastReloadError).Append('\n');
        sb.Append("------< VRRP Topology >------\n");
        foreach (var i in s.VrrpInstances)
        {
            sb.Append(CultureInfo.InvariantCulture, $" VRRP Instance = {i.Name}\n");
            sb.Append(CultureInfo.InvariantCulture, $"   State = {i.State}\n   Interface = {i.Interface}\n   Virtual Router ID = {i.VirtualRouterId}\n   VRRP Version = {i.Version}\n");
            sb.Append(CultureInfo.InvariantCulture, $"   Priority = {i.Priority}\n   Effective priority = {i.EffectivePriority}\n   Advert interval = {i.AdvertisementIntervalSeconds} sec\n");
            if (i.MasterAddress is not null) sb.Append(CultureInfo.InvariantCulture, $"   Master router = {i.MasterAddress}\n   Master priority = {i.MasterPriority}\n");
            if (i.SyncGroup is not null) sb.Append("   Sync group = ").Append(i.SyncGroup).Append('\n');
            sb.Append("   Preempt = ").Append(i.NoPreempt ? "disabled" : "enabled").Append('\n');
            sb.Append(CultureInfo.InvariantCulture, $"   Virtual IP ({i.VirtualAddresses.Count}):\n");
            foreach (var a in i.VirtualAddresses) sb.Append("     ").Append(a).Append('\n');
            if (i.UnicastPeers.Count > 0)
            {
                sb.Append("   Unicast Peers:\n");
                foreach (var p in i.UnicastPeers) sb.Append("     ").Append(p).Append('\n');
            }
            foreach (var r in i.FaultReasons) sb.Append("   Fault = ").Append(r).Append('\n');
            if (i.LastTransition is { } t) sb.Append(CultureInfo.InvariantCulture, $"   Last transition = {t:u} ({i.Transitions} in all)\n");
        }
        if (s.Ipvs is { } v)
        {
            sb.Append(CultureInfo.InvariantCulture, $"------< IPVS Topology >------\n Services = {v.Services}\n Real servers = {v.RealServers}\n");
            if (v.SyncDaemon is not null) sb.Append(" Sync daemon = ").Append(v.SyncDaemon).Append('\n');
            foreach (var d in v.Draining) sb.Append(" Draining = ").Append(d).Append('\n');
            foreach (var c in v.Checkers)
            {
                sb.Append(CultureInfo.InvariantCulture, $" Checker = {c.Name}\n   Status = {c.Status}\n   Quorum = {(c.QuorumUp ? "up" : "down")}{(c.SorryServerActive ? ", sorry server in" : "")}\n");
                foreach (var u in c.Up) sb.Append("   Real server UP = ").Append(u).Append('\n');
                foreach (var d in c.Down) sb.Append("   Real server DOWN = ").Append(d).Append('\n');
            }
        }
        if (s.NotActedOn.Count > 0)
        {
            sb.Append("------< Not acted on >------\n");
            foreach (var n in s.NotActedOn) sb.Append(' ').Append(n).Append('\n');
        }
        return sb.ToString();
    }

    /// <summary>keepalived.stats's shape: the counters of each instance.</summary>
    public static string Stats(HapdState s)
    {
        var sb = new StringBuilder();
        foreach (var i in s.VrrpInstances)
        {
            var c = i.Counters;
            sb.Append(CultureInfo.InvariantCulture, $"VRRP Instance: {i.Name}\n");
            sb.Append(CultureInfo.InvariantCulture, $"  Advertisements:\n    Received: {c.AdvertisementsReceived}\n    Sent: {c.AdvertisementsSent}\n");
            sb.Append(CultureInfo.InvariantCulture, $"  Became master: {c.BecameMaster}\n  Released master: {c.ReleasedMaster}\n");
            sb.Append(CultureInfo.InvariantCulture, $"  Packet Errors:\n    Rejected: {c.Rejected}\n");
            foreach (var kv in c.RejectedByReason.OrderBy(k => k.Key, StringComparer.Ordinal))
                sb.Append(CultureInfo.InvariantCulture, $"    {kv.Key}: {kv.Value}\n");
            sb.Append(CultureInfo.InvariantCulture, $"  Priority Zero:\n    Received: {c.PriorityZeroReceived}\n    Sent: {c.PriorityZeroSent}\n");
            sb.Append(CultureInfo.InvariantCulture, $"  Gratuitous ARP bursts: {c.GratuitousArpBursts}\n  Send errors: {c.SendErrors}\n  Action errors: {c.ActionErrors}\n");
        }
        if (s.Ipvs is { } v)
        {
            sb.Append(CultureInfo.InvariantCulture, $"IPVS:\n  Operations sent: {v.OperationsSent}\n  Operations failed: {v.OperationsFailed}\n  Reconciled: {v.Reconciled}\n");
            foreach (var c in v.Checkers)
                sb.Append(CultureInfo.InvariantCulture, $"Checker: {c.Name}\n  Checks: {c.Checks}\n  Failures: {c.Failures}\n  Up: {c.Up.Count}\n  Down: {c.Down.Count}\n");
        }
        return sb.ToString();
    }
}
