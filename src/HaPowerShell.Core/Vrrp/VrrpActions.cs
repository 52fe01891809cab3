using System.Diagnostics;
using System.Net;

namespace HaPowerShell.Core.Vrrp;

/// <summary>A monotonic clock in microseconds. Tests use a fake one.</summary>
public interface IVrrpClock
{
    long NowMicroseconds { get; }
}

/// <summary>The real clock (Stopwatch based).</summary>
public sealed class SystemVrrpClock : IVrrpClock
{
    public static readonly SystemVrrpClock Instance = new();
    public long NowMicroseconds
    {
        get
        {
            long t = Stopwatch.GetTimestamp(), f = Stopwatch.Frequency;
            return t / f * 1_000_000 + t % f * 1_000_000 / f;
        }
    }
}

/// <summary>Why a GARP burst is sent.</summary>
public enum VrrpGarpKind
{
    /// <summary>At once on becoming Master.</summary>
    BecameMaster,
    /// <summary>The second burst, <see cref="VrrpGarpSettings.Delay"/> later.</summary>
    Delayed,
    /// <summary>Periodic refresh.</summary>
    Refresh,
}

/// <summary>Why an instance changed state.</summary>
public enum VrrpTransitionReason
{
    Startup,
    AddressOwner,
    MasterDown,
    HigherPriorityAdvertisement,
    Fault,
    FaultCleared,
    SyncGroup,
    Stop,
}

/// <summary>One packet to send: <see cref="Message"/> is the VRRP message (no IP header) for <see cref="Destination"/>.</summary>
public sealed record VrrpOutboundAdvertisement(IPAddress Source, IPAddress Destination, bool IsMulticast, VrrpAdvertisement Advertisement, byte[] Message)
{
    public bool IsPriorityZero => Advertisement.Priority == 0;
}

/// <summary>A command to run for a notification (keepalived's notify scripts).</summary>
public sealed record VrrpNotifyCommand(string Command, IReadOnlyList<string> Arguments);

/// <summary>
/// A state notification. <see cref="Arguments"/> are keepalived's generic notify arguments
/// (<c>INSTANCE name STATE priority</c>); <see cref="Commands"/> are what to run: the per-state script
/// as configured, then the generic one with those arguments appended.
/// </summary>
public sealed record VrrpNotification(string Name, string StateName, int Priority, IReadOnlyList<VrrpNotifyCommand> Commands)
{
    public IReadOnlyList<string> Arguments => new[] { "INSTANCE", Name, StateName, Priority.ToString(System.Globalization.CultureInfo.InvariantCulture) };
}

/// <summary>A state transition, as raised through <see cref="IVrrpActions.StateChanged"/> and <see cref="VrrpEngine.StateChanged"/>.</summary>
public sealed record VrrpStateChange(VrrpInstance Instance, VrrpState From, VrrpState To, VrrpTransitionReason Reason, long AtMicroseconds);

/// <summary>
/// What the engine asks the outside world to do. The Native layer implements it with raw sockets,
/// rtnetlink and packet sockets; tests record the calls. Calls are made synchronously from engine
/// methods; implementations should not call back into the engine.
/// </summary>
public interface IVrrpActions
{
    /// <summary>Send one advert (priority 0 on a graceful stop or on entering Fault from Master).</summary>
    void SendAdvertisement(VrrpInstance instance, VrrpOutboundAdvertisement advertisement);

    /// <summary>Puts the addresses in place; false when one of them could not be (the failure is the host's to report).</summary>
    bool AddVirtualAddresses(VrrpInstance instance, IReadOnlyList<VrrpVirtualAddress> addresses);

    void RemoveVirtualAddresses(VrrpInstance instance, IReadOnlyList<VrrpVirtualAddress> addresses);

    /// <summary>Announce every VIP <paramref name="count"/> times (GARP for IPv4, unsolicited NA for IPv6), paced by <see cref="VrrpGarpSettings.Interval"/>.</summary>
    void SendGratuitousArp(VrrpInstance instance, int count, VrrpGarpKind kind);

    void RunNotify(VrrpInstance instance, VrrpNotification notification);

    /// <summary>Start one run of a tracked script; report the result with <see cref="VrrpEngine.ReportTrackScriptResult"/> (a timeout is a failure).</summary>
    void RunTrackScript(VrrpTrackScript script);

    void StateChanged(VrrpStateChange change);
}
