using System.Management.Automation;
using System.Runtime.InteropServices;

namespace HaPowerShell;

/// <summary>
/// The module owns the process it runs in, not its engines: when the module is removed (Remove-Module, or
/// Import-Module -Force, which removes it first) and when pwsh ends (exit, SIGTERM, SIGHUP), it shuts its hosts
/// down (<see cref="ModuleHosts.Shutdown"/>): VRRP instances stop gracefully, so a peer takes over at once, and
/// checkers stop. On Remove-Module a warning says what was stopped. The engines and hosts register no handler
/// of their own.
/// </summary>
public sealed class ModuleLifecycle : IModuleAssemblyInitializer, IModuleAssemblyCleanup
{
    private static readonly object Sync = new();
    private static PosixSignalRegistration[]? _signals;

    /// <summary>How long the process may wait at exit for the hosts to stop (a priority-0 advert takes far less).</summary>
    private static readonly TimeSpan ExitBound = TimeSpan.FromSeconds(5);

    public void OnImport()
    {
        lock (Sync)
        {
            if (_signals is not null) return;
            AppDomain.CurrentDomain.ProcessExit += OnProcessExit;
            // pwsh ends on SIGTERM and SIGHUP without running ProcessExit: stop the hosts first, then let the
            // default action go ahead (the handler does not cancel it).
            _signals = new[] { PosixSignal.SIGTERM, PosixSignal.SIGHUP }
                .Select(s => PosixSignalRegistration.Create(s, _ => ShutdownBounded())).ToArray();
        }
    }

    public void OnRemove(PSModuleInfo psModuleInfo)
    {
        lock (Sync)
        {
            AppDomain.CurrentDomain.ProcessExit -= OnProcessExit;
            foreach (var r in _signals ?? Array.Empty<PosixSignalRegistration>()) r.Dispose();
            _signals = null;
        }
        var (summary, console) = ModuleHosts.Shutdown();
        if (summary is null) return;
        try { console?.UI.WriteWarningLine($"{summary} Removing the module stops what it runs; start them again after Import-Module."); }
        catch (Exception) { /* the session's console is gone: the hosts are stopped all the same */ }
    }

    private static void OnProcessExit(object? sender, EventArgs e) => ShutdownBounded();

    private static void ShutdownBounded()
    {
        try { Task.Run(ModuleHosts.Shutdown).Wait(ExitBound); }
        catch (Exception) { /* exiting anyway */ }
    }
}
