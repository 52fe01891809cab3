using HaPowerShell.Core.Health;
using HaPowerShell.Hosting.Vrrp;

namespace HaPowerShell.Hosting;

/// <summary>How much a <see cref="HostLogEntry"/> matters (syslog's informational, warning, error).</summary>
public enum HostLogLevel
{
    Information,
    Warning,
    Error,
}

/// <summary>
/// Something a host did or failed to do that is not a state change: a VIP it could not add, a notify script
/// that failed, a loop error it survived. <see cref="Source"/> is the host ("Vrrp", "HealthCheck"),
/// <see cref="Subject"/> the instance or checker concerned (empty for the host itself).
/// </summary>
public sealed record HostLogEntry(DateTimeOffset Time, HostLogLevel Level, string Source, string Subject, string Message)
{
    public override string ToString() => $"{Source}{(Subject.Length == 0 ? "" : " " + Subject)}: {Message}";
}

/// <summary>
/// Where hosts report, chosen by the front end: the module raises PowerShell engine events, the daemon
/// writes syslog or the journal. Hosts call it from their own dispatch or loop threads (never the VRRP
/// engine thread), one call at a time per host and in order; an implementation must return quickly and
/// must not throw (what it throws is dropped).
/// </summary>
public interface IHostEventSink
{
    /// <summary>A VRRP instance changed state (after its live view shows the new state).</summary>
    void VrrpStateChanged(VrrpStateChangedEventArgs change);

    /// <summary>A checker reported a real server up or down, a weight change, quorum, or an IPVS change that failed.</summary>
    void HealthCheckEvent(HealthCheckEvent e);

    void Log(HostLogEntry entry);
}

/// <summary>A sink that drops everything (hosts that nobody watches; tests).</summary>
public sealed class NullHostEventSink : IHostEventSink
{
    public static readonly NullHostEventSink Instance = new();
    public void VrrpStateChanged(VrrpStateChangedEventArgs change) { }
    public void HealthCheckEvent(HealthCheckEvent e) { }
    public void Log(HostLogEntry entry) { }
}
