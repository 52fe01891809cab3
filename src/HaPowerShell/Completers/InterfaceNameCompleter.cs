using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using HaPowerShell.Hosting;

namespace HaPowerShell.Completers;

/// <summary>
/// Completes -InterfaceName with the interfaces of the current network namespace (read over the
/// session's rtnetlink socket). For the *-ArpSuppression cmdlets it also offers 'all' and 'default'.
/// </summary>
public sealed class InterfaceNameCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        string prefix = (wordToComplete ?? "").Trim('\'', '"');
        var names = new List<(string Name, string Tip)>();
        if (commandName is not null && commandName.EndsWith("ArpSuppression", StringComparison.OrdinalIgnoreCase))
        {
            names.Add(("all", "every interface: the kernel applies the larger of 'all' and the interface's own value"));
            names.Add(("default", "the template new interfaces start from"));
        }
        IReadOnlyList<Native.Rtnl.LinkInfo> links;
        try
        {
            links = KernelSession.Rtnl.GetLinks();
        }
        catch (Exception e) when (e is Native.Netlink.NetlinkException or IOException)
        {
            // A completer has nowhere to report errors; offering nothing is what PowerShell expects.
            links = Array.Empty<Native.Rtnl.LinkInfo>();
        }
        foreach (var l in links.OrderBy(l => l.Index))
            names.Add((l.Name, $"{l.Name} (index {l.Index}{(l.IsUp ? ", up" : ", down")}{(l.MacAddress is null ? "" : ", " + l.MacAddress)})"));
        foreach (var (name, tip) in names)
            if (name.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
                yield return new CompletionResult(name, name, CompletionResultType.ParameterValue, tip);
    }
}
