using System.Management.Automation;
using HaPowerShell.Core.Vrrp;
using HaPowerShell.Hosting.Vrrp;

namespace HaPowerShell.Commands.Vrrp;

/// <summary>
/// Shared plumbing of the VRRP cmdlets: the process-wide <see cref="VrrpHost"/>, configuration errors as
/// ErrorRecords with the engine's stable ids, and forwarding of state changes to the runspace as
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

    /// <summary>One ErrorRecord per configuration problem, with the engine's id and the message in parameter names.</summary>
    internal static IEnumerable<ErrorRecord> ToErrorRecords(VrrpConfigurationException e, object? target)
    {
        foreach (var err in e.Errors)
        {
            var category = err.ErrorId switch
            {
                "VrrpInterfaceNotFound" => ErrorCategory.ObjectNotFound,
                "VrrpInstanceDuplicate" or "VrrpInstanceNameDuplicate" => ErrorCategory.ResourceExists,
                "VrrpSourceAddressMissing" => ErrorCategory.InvalidOperation,
                "VrrpEngineSchedulingDenied" => ErrorCategory.PermissionDenied,
                "VrrpVirtualAddressOptionNotSupported" or "VrrpTrackReverseNotSupported" => ErrorCategory.NotImplemented,
                _ => ErrorCategory.InvalidArgument,
            };
            string message = err.Render(f => "-" + ParameterName(f));
            yield return new ErrorRecord(new ArgumentException(message, ParameterName(err.Field)), err.ErrorId, category, target)
            {
                ErrorDetails = new ErrorDetails(message),
            };
        }
    }

    protected void WriteVrrpFailure(Exception e, object? target)
    {
        if (e is VrrpConfigurationException c)
            foreach (var r in ToErrorRecords(c, target)) WriteError(r);
        else
            WriteFailure(e, target);
    }

    protected ErrorRecord NotFound(string name)
    {
        var names = ExistingHost?.Instances.Select(i => i.Name).ToList() ?? new List<string>();
        string msg = $"No VRRP instance named '{name}' runs in this process. " +
                     (names.Count == 0 ? "None is running; start one with Start-VrrpInstance." : $"Running: {string.Join(", ", names)}.");
        return new ErrorRecord(new ItemNotFoundException(msg), "VrrpInstanceNotFound", ErrorCategory.ObjectNotFound, name);
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
            WriteError(NotFound(pattern));
            return Array.Empty<VrrpRunningInstance>();
        }
        return new[] { one };
    }
}
