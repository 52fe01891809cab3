using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using HaPowerShell.Hosting;

namespace HaPowerShell.Completers;

/// <summary>Completes -Service with the live services, quoted: 'TCP 192.0.2.1:80'.</summary>
public sealed class IpvsServiceCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        List<string> names;
        try
        {
            names = KernelSession.Ipvs.GetServices().Select(e => Core.Ipvs.IpvsMapping.FromEntry(e).ToString()).ToList();
        }
        catch (Exception)
        {
            yield break; // no IPVS or no permission: nothing to offer
        }
        string word = wordToComplete.Trim('\'', '"');
        foreach (var n in names.Where(n => n.StartsWith(word, StringComparison.OrdinalIgnoreCase)))
            yield return new CompletionResult($"'{n}'", n, CompletionResultType.ParameterValue, n);
    }
}

/// <summary>Completes -Scheduler with the mainline IPVS schedulers.</summary>
public sealed class SchedulerCompleter : IArgumentCompleter
{
    private static readonly (string Name, string Text)[] Schedulers =
    {
        ("rr", "round robin"), ("wrr", "weighted round robin"), ("lc", "least connection"), ("wlc", "weighted least connection (default)"),
        ("lblc", "locality-based least connection"), ("lblcr", "locality-based least connection with replication"),
        ("dh", "destination hashing"), ("sh", "source hashing"), ("sed", "shortest expected delay"), ("nq", "never queue"),
        ("fo", "weighted failover"), ("ovf", "weighted overflow"), ("mh", "maglev hashing"), ("twos", "weighted random twos choice"),
    };

    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters)
        => Schedulers.Where(s => s.Name.StartsWith(wordToComplete, StringComparison.OrdinalIgnoreCase))
            .Select(s => new CompletionResult(s.Name, s.Name, CompletionResultType.ParameterValue, s.Text));
}
