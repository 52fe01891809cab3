using HaPowerShell.Core.Vrrp;
using HaPowerShell.Hosting.Arp;
using HaPowerShell.Native;
using HaPowerShell.Native.Packet;
using HaPowerShell.Native.Rtnl;
using HaPowerShell.Native.Vrrp;

namespace HaPowerShell.Hosting.Vrrp;

/// <summary>The takeover warm-up: the pre-deadline wake-up and spin, and the dry rehearsal at start.</summary>
public sealed partial class VrrpHost
{
    private const long PrewarmLeadMicroseconds = 2_000;

    private bool _takeoverCompiled;

    /// <summary>Times the loop woke ahead of a Master_Down deadline to run the takeover's first steps (diagnostics).</summary>
    public long TakeoverPrewarms { get; private set; }

    /// <summary>Times the loop then stayed on the CPU until that deadline (diagnostics).</summary>
    public long TakeoverSpins { get; private set; }

    /// <summary>
    /// Polls the loop's descriptors without sleeping until <paramref name="until"/> (engine time) or until one
    /// is readable (an advert, a command, a link change: the loop then handles it as usual). At most
    /// <see cref="PrewarmLeadMicroseconds"/> of CPU, once per Master_Down deadline that the loop readied, which
    /// happens only when the master has been silent for nearly the whole interval.
    /// </summary>
    private void SpinUntil(long until, int[] fds, bool[] readable)
    {
        while (_engine.Clock.NowMicroseconds < until)
            if (DescriptorPoll.Wait(fds, readable, 0) > 0) return;
        Array.Clear(readable, 0, fds.Length);
    }

    private (VrrpInstance Instance, long Due)? _prewarmFor;
    private long _prewarmedDue = -1;

    /// <summary>Runs, without sending anything, what a takeover of <paramref name="inst"/> runs first: its adverts
    /// encoded, its address messages built, its GARP frames built (the interface's GARP socket opened if it is not).</summary>
    private void PrewarmTakeover(VrrpInstance inst)
    {
        if (!_socketOf.TryGetValue(inst.Name, out var entry)) return;
        int ifindex = entry.Socket.InterfaceIndex;
        _ = inst.EncodeAdvertisements(inst.EffectivePriority);
        foreach (var a in inst.Config.VirtualAddresses)
            _ = RtnlClient.BuildAddressChange(true, IndexOf(entry, a), a.Address, (byte)a.PrefixLength, a.Label, 0, a.Scope, a.Broadcast);
        PrimeAnnouncer(ifindex, entry.InterfaceName, inst.Config.VirtualAddresses.Select(v => v.Address).ToArray());
    }

    /// <summary>
    /// Readies what a takeover runs, so that a backup's first takeover (it has never sent an advert)
    /// does not pay for it between its Master_Down timer and its first advert: a rehearsal on a private
    /// engine through the host's actions in their dry mode (adverts encoded and probed, address requests
    /// built and refused, the interface's GARP socket opened and its frames probed; nothing is sent), and
    /// the methods of the Master path and their native calls compiled in the background.
    /// Measured in bench/Vrrp.Bench.ps1 (docs/benchmarks.md).
    /// </summary>
    private void PrepareTakeover(VrrpInstance inst)
    {
        _ = RehearseTakeover(inst, _socketOf.TryGetValue(inst.Name, out var entry) ? new Actions(this, dry: entry) : null);
        if (_takeoverCompiled || !CodeWarmUp.IsUseful) return; // nothing to compile ahead without a JIT (NativeAOT)
        _takeoverCompiled = true;
        Task.Run(() =>
        {
            CodeWarmUp.Prepare(typeof(Actions), "SendAdvertisement", "AddVirtualAddresses", "SendGratuitousArp", "Announce", "HasDevice", "AddressFlags", "RunNotify", "Handle");
            CodeWarmUp.Prepare(typeof(VrrpHost), "SyncAcceptFilter", "GetAnnouncer", "IndexOf", "PublishAndRaise");
            CodeWarmUp.Prepare(typeof(VrrpSocket), "Send", "WriteSockaddrIn", "WriteSockaddrIn6");
            CodeWarmUp.Prepare(typeof(PacketSocket), "Send");
            CodeWarmUp.Prepare(typeof(AddressActions), "Add");
            CodeWarmUp.Prepare(typeof(RtnlClient), "AddAddress");
            CodeWarmUp.Prepare(typeof(Tmds.Linux.LibC), "sendto");
        });
    }

    /// <summary>
    /// Runs the engine's own takeover once, on a private engine with a clock of its own: a copy of the
    /// instance (no trackers, no sync group, not the owner) starts as Backup, its Master_Down timer runs
    /// out, it becomes Master, then stops. That runs (so compiles) the state machine's Master path as it
    /// is, and with the host's actions in their dry mode (<paramref name="actions"/>) the actions' own code
    /// down to the syscalls; nothing is sent or changed and the host's engine is not touched. Without
    /// <paramref name="actions"/> the actions do nothing.
    /// </summary>
    /// <returns>Whether the copy reached Master (it should; false means nothing was rehearsed).</returns>
    internal static bool RehearseTakeover(VrrpInstance inst, IVrrpActions? actions = null)
    {
        var clock = new RehearsalClock();
        var engine = new VrrpEngine(actions ?? VrrpNoActions.Instance, clock);
        var config = inst.Config with
        {
            Name = "rehearsal", Priority = Math.Min(inst.Config.Priority, 254), SourceAddress = inst.PrimaryAddress,
            TrackInterfaces = Array.Empty<VrrpTrackInterface>(), TrackScripts = Array.Empty<VrrpTrackScript>(), SyncGroup = null,
        };
        try
        {
            var copy = engine.Add(config);
            engine.Start(copy.Name);
            clock.NowMicroseconds += 2 * copy.MasterDownIntervalMicroseconds;
            engine.RunDueTimers();
            bool master = copy.State == VrrpState.Master;
            engine.Stop(copy.Name);
            return master;
        }
        catch (Exception) { return false; /* a warm-up only: whatever fails here (the copy is checked as the instance was) must not fail the start */ }
    }

    private sealed class RehearsalClock : IVrrpClock
    {
        public long NowMicroseconds { get; set; } = 1_000_000;
    }
}

/// <summary>Actions that do nothing: the takeover rehearsal's, and a test's that counts allocation alone.</summary>
internal sealed class VrrpNoActions : IVrrpActions
{
    public static readonly VrrpNoActions Instance = new();
    public void SendAdvertisement(VrrpInstance instance, VrrpOutboundAdvertisement advertisement) { }
    public bool AddVirtualAddresses(VrrpInstance instance, IReadOnlyList<VrrpVirtualAddress> addresses) => true;
    public void RemoveVirtualAddresses(VrrpInstance instance, IReadOnlyList<VrrpVirtualAddress> addresses) { }
    public void SendGratuitousArp(VrrpInstance instance, int count, VrrpGarpKind kind) { }
    public void RunNotify(VrrpInstance instance, VrrpNotification notification) { }
    public void RunTrackScript(VrrpTrackScript script) { }
    public void StateChanged(VrrpStateChange change) { }
}
