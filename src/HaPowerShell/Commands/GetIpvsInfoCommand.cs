using System.Management.Automation;
using HaPowerShell.Core.Ipvs;
using HaPowerShell.Hosting;

namespace HaPowerShell.Commands;

/// <summary>
/// Get-IpvsInfo: the kernel's IPVS version and connection table size (ipvsadm --version). No IPVS or no permission is
/// an error that honours -ErrorAction (Test-IpvsAvailable is the quiet probe).
/// </summary>
[Cmdlet(VerbsCommon.Get, "IpvsInfo")]
[OutputType(typeof(IpvsInfo))]
public sealed class GetIpvsInfoCommand : HaCmdlet
{
    /// <summary>What the kernel says about its IPVS (opens the session's IPVS socket on first use).</summary>
    internal static IpvsInfo ReadInfo()
    {
        var raw = KernelSession.Ipvs.GetInfo();
        return new IpvsInfo(raw.VersionCode, raw.ConnectionTableSize);
    }

    protected override void EndProcessing()
    {
        try
        {
            WriteObject(ReadInfo());
        }
        catch (Exception e) when (e is not PipelineStoppedException)
        {
            WriteFailure(e, "IPVS");
        }
    }
}

/// <summary>
/// Test-IpvsAvailable: $true when this process can use the kernel's IPVS (the family is there, after one
/// 'modprobe ip_vs' attempt as every IPVS cmdlet makes, and the kernel lets it read the table), else $false with the
/// reason as a verbose message. Writes no error for any of those: the probe for scripts and automation.
/// </summary>
[Cmdlet(VerbsDiagnostic.Test, "IpvsAvailable")]
[OutputType(typeof(bool))]
public sealed class TestIpvsAvailableCommand : HaCmdlet
{
    protected override void EndProcessing()
    {
        try
        {
            WriteVerbose($"{GetIpvsInfoCommand.ReadInfo()}: usable.");
            WriteObject(true);
        }
        catch (Native.HaException e)
        {
            // no IPVS, no permission, a kernel that refuses: the answer is no, with why (anything else is a bug and surfaces)
            WriteVerbose(e.Message);
            WriteObject(false);
        }
    }
}
