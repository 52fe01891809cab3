using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;

namespace HaPowerShell.Completers;

/// <summary>Offers the names that start with what was typed (quoted when they need it), with a tooltip each.</summary>
internal static class NameCompletion
{
    public static IEnumerable<CompletionResult> Offer(string? wordToComplete, IEnumerable<(string Name, string Tip)> names)
    {
        string prefix = (wordToComplete ?? "").Trim('\'', '"');
        foreach (var (name, tip) in names)
            if (name.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
                yield return new CompletionResult(name.Any(c => char.IsWhiteSpace(c) || c is '\'' or '"' or '$' or '`') ? $"'{name.Replace("'", "''")}'" : name,
                    name, CompletionResultType.ParameterValue, tip);
    }
}

/// <summary>Completes -Name of the VRRP cmdlets with the instances this process runs (nothing when none: no host is started for it).</summary>
public sealed class VrrpInstanceNameCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters)
        => NameCompletion.Offer(wordToComplete, (ModuleHosts.ExistingVrrp?.Instances ?? Array.Empty<Hosting.Vrrp.VrrpRunningInstance>())
            .Select(i => (i.Name, $"{i.Name}: VRID {i.VirtualRouterId} on {i.InterfaceName}, {i.State}")));
}

/// <summary>Completes -Name of the health-check cmdlets with the checkers this process runs.</summary>
public sealed class HealthCheckNameCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters)
        => NameCompletion.Offer(wordToComplete, (ModuleHosts.ExistingHealth?.Checks ?? Array.Empty<Hosting.Health.HostedHealthCheck>())
            .Select(c => (c.Name, $"{c.Name}: {c.Definition.Service} (Id {c.Id})")));
}

/// <summary>
/// Completes -ForwardingMethod with the methods a user can ask for: DirectRouting, Tunnel, Masquerade. Local (set by the
/// kernel) and FullNat (not in mainline Linux) are accepted only to be refused with an explanation, so they are not offered.
/// </summary>
public sealed class ForwardingMethodCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters)
        => NameCompletion.Offer(wordToComplete, new[]
        {
            ("DirectRouting", "LVS-DR (ipvsadm -g): only the destination MAC changes; the default"),
            ("Tunnel", "LVS-TUN (ipvsadm -i): IP-in-IP, GUE or GRE to the real server"),
            ("Masquerade", "LVS-NAT (ipvsadm -m): destination rewritten, replies return through the director"),
        });
}
