using HaPowerShell.Core.Health;
using HaPowerShell.Core.Keepalived.Runtime;
using HaPowerShell.Hosting;
using HaPowerShell.Hosting.Vrrp;

namespace HaPowerShell.Daemon;

/// <summary>
/// The hosts' sink in the daemon: state changes, checker events and host log entries become log lines (syslog, the
/// journal with HAPD_* fields, the console), in keepalived's words where keepalived has them
/// ("(VI_1) Entering MASTER STATE").
/// </summary>
public sealed class DaemonSink : IHostEventSink
{
    private readonly DaemonLog _log;

    public DaemonSink(DaemonLog log) => _log = log;

    /// <summary>Called after a VRRP state change is logged (the daemon posts it to its main thread: lvs_sync_daemon follows).</summary>
    public Action<VrrpStateChangedEventArgs>? VrrpState { get; init; }

    /// <summary>Where events go besides the log: the control socket's event readers (set once the socket is open).</summary>
    public Action<HapdEvent>? Publish { get; set; }

    public void VrrpStateChanged(VrrpStateChangedEventArgs change)
    {
        try { LogAndPublish(change); }
        finally { VrrpState?.Invoke(change); }
    }

    private void LogAndPublish(VrrpStateChangedEventArgs change)
    {
        string state = change.State.ToString().ToUpperInvariant();
        string previous = change.PreviousState.ToString().ToUpperInvariant();
        string text = $"({change.Name}) Entering {state} STATE ({change.Reason}, priority {change.Priority})";
        _log.Write(LogSeverity.Info, text, new KeyValuePair<string, string>[]
        {
            new("HAPD_SOURCE", "Vrrp"),
            new("HAPD_INSTANCE", change.Name),
            new("HAPD_STATE", state),
            new("HAPD_PREVIOUS_STATE", previous),
            new("HAPD_REASON", change.Reason.ToString()),
            new("HAPD_PRIORITY", change.Priority.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        });
        Publish?.Invoke(new HapdEvent
        {
            Time = change.Time.ToUniversalTime(), Source = "Vrrp", Subject = change.Name, Kind = state,
            PreviousState = previous, Reason = change.Reason.ToString(), Priority = change.Priority, Message = text,
        });
    }

    public void HealthCheckEvent(HealthCheckEvent e)
    {
        string text = e.ToString() ?? "health check event";
        _log.Write(LogSeverity.Info, text, new KeyValuePair<string, string>[] { new("HAPD_SOURCE", "HealthCheck") });
        Publish?.Invoke(new HapdEvent
        {
            Time = e.Time.UtcDateTime, Source = "HealthCheck", Subject = e.Checker, Kind = e.Kind.ToString(), RealServer = e.RealServer?.Endpoint, Message = text,
        });
    }

    public void Log(HostLogEntry entry)
    {
        var severity = entry.Level switch
        {
            HostLogLevel.Error => LogSeverity.Error,
            HostLogLevel.Warning => LogSeverity.Warning,
            _ => LogSeverity.Info,
        };
        string text = entry.Subject.Length == 0 ? entry.Message : $"({entry.Subject}) {entry.Message}";
        _log.Write(severity, text, new KeyValuePair<string, string>[] { new("HAPD_SOURCE", entry.Source), new("HAPD_INSTANCE", entry.Subject) });
        Publish?.Invoke(new HapdEvent { Time = entry.Time.UtcDateTime, Source = "Log", Subject = entry.Subject, Kind = entry.Level.ToString(), Message = $"{entry.Source}: {text}" });
    }
}
