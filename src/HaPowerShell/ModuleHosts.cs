using HaPowerShell.Hosting.Health;

namespace HaPowerShell;

/// <summary>
/// The hosts the module runs in this process, made on first use and reporting to one
/// <see cref="PowerShellEventSink"/>. The module front end owns them (see <see cref="ModuleLifecycle"/>).
/// </summary>
internal static class ModuleHosts
{
    private static readonly object Sync = new();
    private static HealthCheckHost? _health;

    public static PowerShellEventSink Sink { get; } = new();

    /// <summary>The health-check host (made on first use).</summary>
    public static HealthCheckHost Health
    {
        get
        {
            lock (Sync) return _health ??= new HealthCheckHost(Sink);
        }
    }

    /// <summary>The health-check host, or null when none was made (so reads do not make one).</summary>
    public static HealthCheckHost? ExistingHealth
    {
        get { lock (Sync) return _health; }
    }
}
