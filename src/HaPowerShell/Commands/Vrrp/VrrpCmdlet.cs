using System.Management.Automation;
using HaPowerShell.Core.Vrrp;
using HaPowerShell.Hosting.Vrrp;
using HaPowerShell.Native;

namespace HaPowerShell.Commands.Vrrp;

/// <summary>
/// Shared plumbing of the VRRP cmdlets: the process-wide <see cref="VrrpHost"/>, the lookup of running instances
/// by name, and forwarding of state changes to the runspace as
/// PowerShell engine events (source identifier 'HaPowerShell.Vrrp').
/// </summary>
public abstract class VrrpCmdlet : HaCmdlet
{
    /// <summary>The source identifier of the engine events raised for every state change.</summary>
    public const string EventSourceIdentifier = PowerShellEventSink.VrrpSourceIdentifier;

    private readonly CancellationTokenSource _cancel = new();

    protected CancellationToken Cancellation => _cancel.Token;

    protected override void StopProcessing()
    {
        _cancel.Cancel();
        base.StopProcessing();
    }

    /// <summary>The host, or null when nothing was ever started in this process (so reads do not start a thread).</summary>
    protected static VrrpHost? ExistingHost => ModuleHosts.ExistingVrrp;

    /// <summary>Makes the host raise 'HaPowerShell.Vrrp' events in this runspace (once per runspace).</summary>
    protected void ForwardEvents()
    {
        ModuleHosts.Sink.Attach(Events);
        ModuleHosts.RememberConsole(Host);
    }

    /// <summary>The Start-VrrpInstance parameter that sets a field (the name Core's messages get in the cmdlets).</summary>
    internal static string ParameterName(VrrpField field) => field switch
    {
        VrrpField.VirtualAddress => "VirtualIPAddress",
        VrrpField.AcceptMode => "NoAccept",
        VrrpField.GarpDelay => "GarpMasterDelay",
        VrrpField.GarpRepeat => "GarpMasterRepeat",
        VrrpField.GarpRefresh => "GarpMasterRefresh",
        VrrpField.GarpRefreshRepeat => "GarpMasterRefreshRepeat",
        _ => field.ToString(),
    };

    /// <summary>A configuration refusal with its settings named as this cmdlet's parameters ("-VirtualRouterId").</summary>
    internal static Exception InParameterNames(Exception e)
        => e is VrrpConfigurationException c ? c.NamedBy(f => "-" + ParameterName(f), ParameterName) : e;

    /// <summary>Writes <paramref name="e"/> through the one mapper, configuration problems in parameter names (one record each).</summary>
    protected void WriteVrrpFailure(Exception e, object? target) => WriteFailure(InParameterNames(e), target);

    protected HaException NotFound(string name)
    {
        var names = ExistingHost?.Instances.Select(i => i.Name).ToList() ?? new List<string>();
        string msg = $"No VRRP instance named '{name}' runs in this process. " +
                     (names.Count == 0 ? "None is running; start one with Start-VrrpInstance." : $"Running: {string.Join(", ", names)}.");
        return new HaException("VrrpInstanceNotFound", HaErrorCategory.ObjectNotFound, msg, name);
    }

    /// <summary>The running instances whose names match <paramref name="pattern"/> (wildcards allowed); an error when a plain name matches nothing.</summary>
    protected IEnumerable<VrrpRunningInstance> Resolve(string pattern)
    {
        var all = ExistingHost?.Instances ?? Array.Empty<VrrpRunningInstance>();
        if (WildcardPattern.ContainsWildcardCharacters(pattern))
        {
            var w = new WildcardPattern(pattern, WildcardOptions.IgnoreCase);
            return all.Where(i => w.IsMatch(i.Name)).ToList();
        }
        var one = all.FirstOrDefault(i => i.Name == pattern);
        if (one is null)
        {
            WriteFailure(NotFound(pattern), pattern);
            return Array.Empty<VrrpRunningInstance>();
        }
        return new[] { one };
    }
}
