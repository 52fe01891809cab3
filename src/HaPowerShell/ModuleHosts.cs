using System.Management.Automation.Host;
using HaPowerShell.Hosting.Health;
using HaPowerShell.Hosting.Vrrp;

namespace HaPowerShell;

/// <summary>
/// The hosts the module runs in this process, made on first use and reporting to one
/// <see cref="PowerShellEventSink"/>. The module front end owns them: <see cref="ModuleLifecycle"/> shuts
/// them down on Remove-Module and when the process ends; after that, the next use makes new ones.
/// Scripts reach them as <c>[HaPowerShell.ModuleHosts]::Vrrp</c> and <c>::Health</c>, for what has no cmdlet:
/// <c>Reconfigure</c> (apply a whole new set of instances or checkers, changing only the difference).
/// </summary>
public static class ModuleHosts
{
    private static readonly object Sync = new();
    private static VrrpHost? _vrrp;
    private static HealthCheckHost? _health;
    private static PSHost? _console;

    /// <summary>Where the hosts report: PowerShell engine events in the runspaces that used the cmdlets.</summary>
    public static PowerShellEventSink Sink { get; } = new();

    /// <summary>The VRRP host (made on first use: it starts the engine thread).</summary>
    public static VrrpHost Vrrp
    {
        get { lock (Sync) return _vrrp ??= new VrrpHost(Sink); }
    }

    /// <summary>The VRRP host, or null when none was made (so reads do not start a thread).</summary>
    public static VrrpHost? ExistingVrrp
    {
        get { lock (Sync) return _vrrp; }
    }

    /// <summary>The health-check host (made on first use).</summary>
    public static HealthCheckHost Health
    {
        get { lock (Sync) return _health ??= new HealthCheckHost(Sink); }
    }

    /// <summary>The health-check host, or null when none was made.</summary>
    public static HealthCheckHost? ExistingHealth
    {
        get { lock (Sync) return _health; }
    }

    /// <summary>The PowerShell host of the session that last started something (where Remove-Module's warning goes).</summary>
    internal static void RememberConsole(PSHost? host)
    {
        if (host is null) return;
        lock (Sync) _console = host;
    }

    /// <summary>
    /// Stops everything the hosts run — every VRRP instance gracefully (a Master sends priority 0 and removes its
    /// addresses), then every checker (omega as configured) — and forgets the hosts. Returns a sentence saying
    /// what was stopped, or null when nothing ran; and the console to say it on.
    /// </summary>
    internal static (string? Summary, PSHost? Console) Shutdown()
    {
        VrrpHost? vrrp;
        HealthCheckHost? health;
        PSHost? console;
        lock (Sync)
        {
            vrrp = _vrrp;
            health = _health;
            console = _console;
            _vrrp = null;
            _health = null;
        }
        var parts = new List<string>();
        if (vrrp is not null)
        {
            // Said per state: a Master sends priority 0 and removes its addresses, a Backup or Fault instance just stops.
            var running = VrrpRunningInstance.Running(vrrp.Instances);
            vrrp.Dispose();
            if (running.Count > 0) parts.Add($"{Count(running.Count, "VRRP instance")} {VrrpRunningInstance.DescribeStop(running)}");
        }
        if (health is not null)
        {
            var checks = health.Checks.Select(c => c.Name).ToList();
            health.Dispose();
            if (checks.Count > 0) parts.Add($"{Count(checks.Count, "health check")} {string.Join(", ", checks)}");
        }
        return (parts.Count == 0 ? null : $"HaPowerShell stopped {string.Join("; and ", parts)}.", console);
    }

    private static string Count(int n, string what) => n == 1 ? what : $"{n} {what}s";
}
