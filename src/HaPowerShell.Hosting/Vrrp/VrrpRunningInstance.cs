using System.Net;
using System.Net.Sockets;
using HaPowerShell.Core;
using HaPowerShell.Core.Vrrp;

namespace HaPowerShell.Hosting.Vrrp;

/// <summary>
/// What <see cref="VrrpHost"/> publishes about one instance: a new snapshot after a turn of its loop that changed
/// something in it, the previous one kept otherwise. The advert counters, which change with every advert, are not in
/// it: the handle holds them as two numbers the engine thread overwrites, so a steady Master or Backup allocates
/// nothing (hapd's resident memory at 50 instances depended on it).
/// </summary>
internal sealed record VrrpInstanceSnapshot(
    VrrpState State, bool IsRunning, int Priority, int EffectivePriority, IPAddress PrimaryAddress,
    IPAddress? MasterAddress, int? MasterPriority, long MasterAdverIntervalMicroseconds,
    IReadOnlyList<string> FaultReasons, bool VirtualAddressesInstalled,
    long PriorityZeroSent, long PriorityZeroReceived,
    long BecameMaster, long ReleasedMaster, long GratuitousArpBursts, long Rejected,
    IReadOnlyDictionary<VrrpRejectReason, long> RejectedByReason)
{
    /// <param name="previous">The snapshot published before: its rejection table is reused while the total is unchanged.</param>
    public static VrrpInstanceSnapshot From(VrrpInstance i, VrrpInstanceSnapshot? previous = null) => new(
        i.State, i.IsStarted, i.BasePriority, i.EffectivePriority, i.PrimaryAddress, i.MasterAddress, i.MasterPriority,
        i.MasterAdverIntervalMicroseconds, i.FaultReasons, i.VirtualAddressesInstalled,
        i.Counters.PriorityZeroSent, i.Counters.PriorityZeroReceived,
        i.Counters.BecameMaster, i.Counters.ReleasedMaster, i.Counters.GratuitousArpBursts, i.Counters.TotalRejected,
        previous is not null && previous.Rejected == i.Counters.TotalRejected ? previous.RejectedByReason : i.Counters.RejectedByReason);

    /// <summary>Whether this snapshot still says everything <paramref name="i"/> would (the engine's lists are replaced, never changed, so a reference says it).</summary>
    public bool Describes(VrrpInstance i)
    {
        var c = i.Counters;
        return State == i.State && IsRunning == i.IsStarted && Priority == i.BasePriority && EffectivePriority == i.EffectivePriority
            && ReferenceEquals(PrimaryAddress, i.PrimaryAddress) && Equals(MasterAddress, i.MasterAddress) && MasterPriority == i.MasterPriority
            && MasterAdverIntervalMicroseconds == i.MasterAdverIntervalMicroseconds && ReferenceEquals(FaultReasons, i.FaultReasons)
            && VirtualAddressesInstalled == i.VirtualAddressesInstalled
            && PriorityZeroSent == c.PriorityZeroSent && PriorityZeroReceived == c.PriorityZeroReceived
            && BecameMaster == c.BecameMaster && ReleasedMaster == c.ReleasedMaster
            && GratuitousArpBursts == c.GratuitousArpBursts && Rejected == c.TotalRejected;
    }
}

/// <summary>
/// A VRRP instance run by a <see cref="VrrpHost"/>, as users see it: a live view (every property reads
/// the state the host published last, so a variable holding it keeps showing the current state). This is its
/// JSON face: addresses as text, states by name, intervals in seconds; <see cref="VrrpRunningInstance"/> holds
/// the typed twins.
/// </summary>
public abstract class VrrpRunningInstanceJson
{
    private protected volatile VrrpInstanceSnapshot _snapshot;
    private protected VrrpTransitionReason? lastTransitionReason;
    private protected VrrpState? previousState;
    private long _sendErrors, _actionErrors;

    private protected VrrpRunningInstanceJson(VrrpHost host, VrrpInstanceConfig config, VrrpInstanceSnapshot first)
    {
        Host = host;
        Config = config;
        _snapshot = first;
        StartTime = DateTime.Now;
    }

    internal VrrpHost Host { get; }

    /// <summary>The host that runs it.</summary>
    public VrrpHost GetHost() => Host;

    /// <summary>The configuration it runs with (a reconfiguration in place replaces it).</summary>
    public VrrpInstanceConfig Config { get; internal set; }

    public string Name => Config.EffectiveName;
    public string InterfaceName => Config.InterfaceName;
    public int VirtualRouterId => Config.VirtualRouterId;
    public int Version => (int)Config.Version;
    /// <summary>InterNetwork (IPv4) or InterNetworkV6.</summary>
    public string AddressFamily => Config.AddressFamily.ToString();

    /// <summary>Initialize, Backup, Master, Fault or Stopped.</summary>
    public string State => _snapshot.State.ToString();

    /// <summary>False once the instance was stopped.</summary>
    public bool IsRunning => _snapshot.IsRunning;

    /// <summary>The configured priority (Set-VrrpInstance -Priority changes it).</summary>
    public int Priority => _snapshot.Priority;

    /// <summary>The priority advertised: configured plus tracker weights (1-254; 255 for the owner).</summary>
    public int EffectivePriority => _snapshot.EffectivePriority;

    /// <summary>The address adverts are sent from.</summary>
    public string PrimaryAddress => _snapshot.PrimaryAddress.ToString();

    /// <summary>The current master: this router when Master, else the last master heard.</summary>
    public string? MasterAddress => _snapshot.MasterAddress?.ToString();
    public int? MasterPriority => _snapshot.MasterPriority;

    /// <summary>Seconds between adverts.</summary>
    public double AdvertisementInterval => JsonShape.Seconds(Config.AdvertisementInterval);

    /// <summary>v3: the interval learnt from the master; v2: the configured one (seconds).</summary>
    public double MasterAdvertisementInterval => JsonShape.Seconds(TimeSpan.FromTicks(_snapshot.MasterAdverIntervalMicroseconds * 10));

    /// <summary>The virtual addresses as keepalived writes them ("192.0.2.10/24 dev eth0 label eth0:1").</summary>
    public string[] VirtualIPAddress => Config.VirtualAddresses.Select(a => a.ToString()).ToArray();
    public string[] UnicastPeer => JsonShape.Texts(Config.UnicastPeers);
    public bool NoPreempt => Config.NoPreempt;

    /// <summary>Whether a non-owner Master accepts packets addressed to the virtual addresses (false with -NoAccept).</summary>
    public bool AcceptMode => Config.AcceptMode;

    /// <summary>The sync group (keepalived vrrp_sync_group), or null.</summary>
    public string? SyncGroup => Config.SyncGroup;

    /// <summary>Whether the nf_tables rules that drop packets to the virtual addresses are in place now (non-owner Master with -NoAccept).</summary>
    public bool AcceptFilterActive => Host.IsAcceptFilterInstalled(Name);
    /// <summary>Seconds a Backup waits before it preempts a lower-priority Master.</summary>
    public double PreemptDelay => JsonShape.Seconds(Config.PreemptDelay);

    /// <summary>Whether the virtual addresses are on the interface now.</summary>
    public bool VirtualAddressesInstalled => _snapshot.VirtualAddressesInstalled;

    /// <summary>Why the instance is in Fault (empty when healthy).</summary>
    public IReadOnlyList<string> FaultReasons => _snapshot.FaultReasons;

    public DateTime StartTime { get; }

    /// <summary>How the engine thread that runs every instance of this host is scheduled ("nice 0", "SCHED_RR 10").</summary>
    public string EngineScheduling => Host.EngineScheduling.ToString();

    /// <summary>When the last state change happened (local time), and why.</summary>
    public DateTime? LastTransition { get; internal set; }
    public string? LastTransitionReason => lastTransitionReason?.ToString();
    public string? PreviousState => previousState?.ToString();
    public long TransitionCount { get; internal set; }

    public long AdvertisementsSent => Volatile.Read(ref _advertisementsSent);
    public long AdvertisementsReceived => Volatile.Read(ref _advertisementsReceived);
    public long PriorityZeroSent => _snapshot.PriorityZeroSent;
    public long PriorityZeroReceived => _snapshot.PriorityZeroReceived;
    public long BecameMaster => _snapshot.BecameMaster;
    public long ReleasedMaster => _snapshot.ReleasedMaster;
    public long GratuitousArpBursts => _snapshot.GratuitousArpBursts;

    /// <summary>Received packets dropped by the receive checks, in total and by reason.</summary>
    public long Rejected => _snapshot.Rejected;
    public IReadOnlyDictionary<string, long> RejectedByReason => _snapshot.RejectedByReason.ToDictionary(p => p.Key.ToString(), p => p.Value);

    /// <summary>Adverts the kernel refused to send (link down, for example).</summary>
    public long SendErrors => Interlocked.Read(ref _sendErrors);

    /// <summary>Failed address changes, announcements and scripts (see <see cref="LastError"/>).</summary>
    public long ActionErrors => Interlocked.Read(ref _actionErrors);
    public string? LastError { get; private set; }

    private long _advertisementsSent, _advertisementsReceived;

    /// <summary>Publishes what <paramref name="i"/> says now (engine thread): its advert counters, and a new snapshot only when something else changed.</summary>
    internal void Publish(VrrpInstance i)
    {
        Volatile.Write(ref _advertisementsSent, i.Counters.AdvertisementsSent);
        Volatile.Write(ref _advertisementsReceived, i.Counters.AdvertisementsReceived);
        var last = _snapshot;
        if (!last.Describes(i)) _snapshot = VrrpInstanceSnapshot.From(i, last);
    }
    private long _sendErrorReportedAt = long.MinValue;

    /// <summary>An advert the kernel refused: counted, and reported once a minute at most (a link that is down refuses every one).</summary>
    internal void CountSendError(Exception e)
    {
        long n = Interlocked.Increment(ref _sendErrors);
        LastError = e.Message;
        long now = Environment.TickCount64;
        if (now - _sendErrorReportedAt < 60_000) return;
        _sendErrorReportedAt = now;
        Host.Report(HostLogLevel.Warning, Name, $"sending an advertisement failed: {e.Message} ({n} failed sends so far; the next report at most a minute later)");
    }

    /// <summary>A failed address change, announcement, filter change or script: counted and reported.</summary>
    internal void CountActionError(string what, Exception e)
    {
        Interlocked.Increment(ref _actionErrors);
        LastError = $"{what}: {e.Message}";
        Host.Report(HostLogLevel.Error, Name, $"{what} failed: {e.Message}");
    }

    public override string ToString() => $"{Name} VRID {VirtualRouterId} on {InterfaceName}: {State} (priority {EffectivePriority})";
}

/// <summary>A VRRP instance run by a <see cref="VrrpHost"/>; typed internal twins of its JSON face.</summary>
public sealed class VrrpRunningInstance : VrrpRunningInstanceJson
{
    internal VrrpRunningInstance(VrrpHost host, VrrpInstanceConfig config, VrrpInstanceSnapshot first) : base(host, config, first) { }

    internal new AddressFamily AddressFamily => Config.AddressFamily;
    internal new VrrpState State => _snapshot.State;
    internal new IPAddress PrimaryAddress => _snapshot.PrimaryAddress;
    internal new IPAddress? MasterAddress => _snapshot.MasterAddress;
    internal new TimeSpan AdvertisementInterval => Config.AdvertisementInterval;
    internal new TimeSpan MasterAdvertisementInterval => TimeSpan.FromTicks(_snapshot.MasterAdverIntervalMicroseconds * 10);
    internal new IReadOnlyList<VrrpVirtualAddress> VirtualIPAddress => Config.VirtualAddresses;
    internal new IReadOnlyList<IPAddress> UnicastPeer => Config.UnicastPeers;
    internal new TimeSpan PreemptDelay => Config.PreemptDelay;
    internal new VrrpTransitionReason? LastTransitionReason { get => lastTransitionReason; set => lastTransitionReason = value; }
    internal new VrrpState? PreviousState { get => previousState; set => previousState = value; }
    internal new IReadOnlyDictionary<VrrpRejectReason, long> RejectedByReason => _snapshot.RejectedByReason;

    /// <summary>
    /// What a graceful stop of these instances (name and state when it began) did, for the stop's log line and
    /// the module's stop summary: "VI_1 (Master), VI_2 (Backup): VI_1 sent priority 0 and removed its virtual
    /// addresses". Only a Master sends priority 0 and holds the virtual addresses; a Backup or Fault instance just
    /// stops, so a stop of Backups alone is the list ("VI_2 (Backup)"). Null when there is none.
    /// </summary>
    internal static string? DescribeStop(IReadOnlyList<(string Name, VrrpState State)> stopped)
    {
        if (stopped.Count == 0) return null;
        var list = string.Join(", ", stopped.Select(i => $"{i.Name} ({i.State})"));
        var masters = stopped.Where(i => i.State == VrrpState.Master).Select(i => i.Name).ToList();
        if (masters.Count == 0) return list;
        var who = masters.Count == 1 ? masters[0] : $"{string.Join(", ", masters.Take(masters.Count - 1))} and {masters[^1]}";
        return $"{list}: {who} sent priority 0 and removed {(masters.Count == 1 ? "its" : "their")} virtual addresses";
    }

    /// <summary>The instances of <paramref name="instances"/> that run now, with their states, for <see cref="DescribeStop(IReadOnlyList{ValueTuple{string, VrrpState}})"/>.</summary>
    internal static List<(string Name, VrrpState State)> Running(IEnumerable<VrrpRunningInstance> instances) =>
        instances.Where(i => i.IsRunning).Select(i => (i.Name, i.State)).ToList();
}

/// <summary>A state change of a hosted instance (the data of the 'HaPowerShell.Vrrp' engine event).</summary>
public sealed class VrrpStateChangedEventArgs : EventArgs
{
    internal VrrpStateChangedEventArgs(VrrpRunningInstance instance, VrrpState from, VrrpState to, VrrpTransitionReason reason, DateTime time, int priority)
    {
        Instance = instance;
        Name = instance.Name;
        PreviousState = from;
        State = to;
        Reason = reason;
        Time = time;
        Priority = priority;
    }

    public VrrpRunningInstance Instance { get; }
    public string Name { get; }
    public VrrpState PreviousState { get; }
    public VrrpState State { get; }
    public VrrpTransitionReason Reason { get; }
    public DateTime Time { get; }
    public int Priority { get; }

    public override string ToString() => $"{Name}: {PreviousState} -> {State} ({Reason})";
}

/// <summary>What <see cref="VrrpHost.Reconfigure"/> did: the plan, the instances running after it, and the steps that failed.</summary>
public sealed record VrrpReconfigureResult(VrrpReconfigurePlan Plan, IReadOnlyList<VrrpRunningInstance> Instances, IReadOnlyList<VrrpReconfigureFailure> Failures);

/// <summary>A step of a reconfiguration that failed (the others were applied).</summary>
public sealed record VrrpReconfigureFailure(string Name, VrrpInstanceChange Change, Exception Error);
