using System.Management.Automation;
using HaPowerShell.Completers;
using HaPowerShell.Core.Arp;
using HaPowerShell.Hosting.Arp;
using HaPowerShell.Native;

namespace HaPowerShell.Commands.Arp;

/// <summary>Get-ArpSuppression: arp_ignore and arp_announce of 'all', 'default', lo and every interface (or the ones named).</summary>
[Cmdlet(VerbsCommon.Get, "ArpSuppression")]
[OutputType(typeof(ArpSuppression))]
public sealed class GetArpSuppressionCommand : ArpCmdlet
{
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(InterfaceNameCompleter))]
    [ValidateNotNullOrEmpty]
    [Alias("InterfaceAlias")]
    public string[]? InterfaceName { get; set; }

    protected override void ProcessRecord()
    {
        var sysctl = new ArpSuppressionActions();
        IEnumerable<string> names;
        if (InterfaceName is null)
        {
            try { names = sysctl.DefaultNames(Links); }
            catch (Exception e) when (e is not PipelineStoppedException) { ThrowFailure(e, "arp_ignore/arp_announce"); return; }
        }
        else names = InterfaceName;

        foreach (var requested in names)
        {
            try
            {
                WriteObject(sysctl.Read(sysctl.ConfName(requested, ResolveLink)));
            }
            catch (Exception e) when (e is ArpArgumentException or InterfaceNotFoundException or SysctlException)
            {
                WriteFailure(e, requested);
            }
            catch (Exception e) when (e is not PipelineStoppedException)
            {
                ThrowFailure(e, requested);
            }
        }
    }
}
