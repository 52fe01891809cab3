using System.Management.Automation;
using HaPowerShell.Core.Health;
using HaPowerShell.Hosting;
using HaPowerShell.Hosting.Vrrp;

namespace HaPowerShell;

/// <summary>
/// The module's <see cref="IHostEventSink"/>: raises PowerShell engine events in every runspace that used a
/// VRRP or health-check cmdlet — 'HaPowerShell.Vrrp' (sender: the instance; SourceArgs[0] and MessageData:
/// the <see cref="VrrpStateChangedEventArgs"/>), 'HaPowerShell.HealthCheck' (SourceArgs[0] and MessageData:
/// the <see cref="HealthCheckEvent"/>) and 'HaPowerShell.Log' (SourceArgs[0] and MessageData: the
/// <see cref="HostLogEntry"/>). A runspace that is gone is forgotten.
/// </summary>
public sealed class PowerShellEventSink : IHostEventSink
{
    public const string VrrpSourceIdentifier = "HaPowerShell.Vrrp";
    public const string HealthCheckSourceIdentifier = "HaPowerShell.HealthCheck";
    public const string LogSourceIdentifier = "HaPowerShell.Log";

    private readonly object _sync = new();
    private readonly List<WeakReference<PSEventManager>> _managers = new();

    /// <summary>Makes the events of the hosts arrive in the runspace of <paramref name="events"/> (once per runspace).</summary>
    public void Attach(PSEventManager? events)
    {
        if (events is null) return;
        lock (_sync)
        {
            _managers.RemoveAll(w => !w.TryGetTarget(out _));
            if (_managers.Any(w => w.TryGetTarget(out var m) && ReferenceEquals(m, events))) return;
            _managers.Add(new WeakReference<PSEventManager>(events));
        }
    }

    public void VrrpStateChanged(VrrpStateChangedEventArgs change)
        => Raise(VrrpSourceIdentifier, change.Instance, change);

    public void HealthCheckEvent(HealthCheckEvent e)
        => Raise(HealthCheckSourceIdentifier, null, e);

    public void Log(HostLogEntry entry)
        => Raise(LogSourceIdentifier, null, entry);

    private void Raise(string sourceIdentifier, object? sender, object data)
    {
        List<(WeakReference<PSEventManager> Ref, PSEventManager Manager)> targets;
        lock (_sync)
            targets = _managers.Select(w => (w, w.TryGetTarget(out var m) ? m : null)).Where(t => t.Item2 is not null).Select(t => (t.w, t.Item2!)).ToList();
        foreach (var (weak, manager) in targets)
        {
            try { manager.GenerateEvent(sourceIdentifier, sender, new[] { data }, new PSObject(data)); }
            catch (Exception)
            {
                // the runspace is closed: stop raising there
                lock (_sync) _managers.Remove(weak);
            }
        }
    }
}
