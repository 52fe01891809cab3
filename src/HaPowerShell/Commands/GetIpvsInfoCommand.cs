using System.Management.Automation;
using HaPowerShell.Core.Ipvs;
using HaPowerShell.Hosting;

namespace HaPowerShell.Commands;

/// <summary>Get-IpvsInfo: the kernel's IPVS version and connection table size (ipvsadm --version).</summary>
[Cmdlet(VerbsCommon.Get, "IpvsInfo")]
[OutputType(typeof(IpvsInfo))]
public sealed class GetIpvsInfoCommand : HaCmdlet
{
    protected override void EndProcessing()
    {
        try
        {
            var raw = KernelSession.Ipvs.GetInfo();
            WriteObject(new IpvsInfo(raw.VersionCode, raw.ConnectionTableSize));
        }
        catch (Exception e) when (e is not PipelineStoppedException)
        {
            ThrowFailure(e, "IPVS");
        }
    }
}
