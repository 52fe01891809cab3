using System.Management.Automation;
using HaPowerShell.Core.Ipvs;
using HaPowerShell.Hosting;

namespace HaPowerShell.Commands.Ipvs;

/// <summary>Base of the IPVS cmdlets: the shared kernel session wrapped in the domain layer.</summary>
public abstract class IpvsCmdlet : HaCmdlet
{
    private IpvsAdmin? _admin;

    /// <summary>Opened on first use, so argument errors are reported before the kernel is touched.</summary>
    internal IpvsAdmin Admin => _admin ??= new IpvsAdmin(KernelSession.Ipvs);

    /// <summary>Runs one pipeline item; its failure is reported and the pipeline goes on.</summary>
    internal void PerItem(object? target, Action action)
    {
        try { action(); }
        catch (Exception e) when (e is not PipelineStoppedException and not Native.Ipvs.IpvsUnavailableException
                                  and not Native.Netlink.NetlinkException { Category: Native.HaErrorCategory.PermissionDenied })
        {
            WriteFailure(e, target);
        }
        catch (Exception e) when (e is not PipelineStoppedException)
        {
            ThrowFailure(e, target); // no IPVS or no permission: nothing else can work either
        }
    }
}

/// <summary>
/// Lets -Service take an IpvsService object or a string such as 'TCP 192.0.2.1:80' or 'FWM 5'.
/// </summary>
public sealed class IpvsServiceTransformationAttribute : ArgumentTransformationAttribute
{
    public override object Transform(EngineIntrinsics engineIntrinsics, object inputData)
    {
        object value = inputData is PSObject p ? p.BaseObject : inputData;
        return value switch
        {
            IpvsService s => s,
            string text => IpvsServiceId.TryParse(text, out var s, out var error)
                ? s : throw new ArgumentTransformationMetadataException(error),
            // Objects that convert themselves (ConvertFrom-KeepalivedConfig's virtual servers) are converted; any other
            // object is left to the binder, so that from the pipeline it can bind another parameter by property name
            // (a keepalived real server's HealthCheck) instead of failing here.
            null => throw new ArgumentTransformationMetadataException(
                "Cannot use null as a virtual service; pass an IpvsService (from Get-IpvsService) or a string such as 'TCP 192.0.2.1:80'."),
            _ => LanguagePrimitives.TryConvertTo(value, out IpvsService converted) ? converted : inputData,
        };
    }
}

/// <summary>
/// -AddressFamily of the IPVS cmdlets: IPVS knows IPv4 and IPv6 only, so only those bind ('IPv4', 'IPv6', 'inet',
/// 'inet6', or the enum names InterNetwork and InterNetworkV6, in any case); any other socket family fails at
/// binding with a message naming the two, instead of PowerShell's list of the 30 members of the enum.
/// </summary>
public sealed class IpvsAddressFamilyTransformationAttribute : ArgumentTransformationAttribute
{
    public override object? Transform(EngineIntrinsics engineIntrinsics, object? inputData)
    {
        object? value = inputData is PSObject p ? p.BaseObject : inputData;
        switch (value)
        {
            case null: return null;
            case System.Net.Sockets.AddressFamily.InterNetwork or System.Net.Sockets.AddressFamily.InterNetworkV6: return value;
            case string s when s.Trim().ToLowerInvariant() is "ipv4" or "inet" or "internetwork" or "4": return System.Net.Sockets.AddressFamily.InterNetwork;
            case string s when s.Trim().ToLowerInvariant() is "ipv6" or "inet6" or "internetworkv6" or "6": return System.Net.Sockets.AddressFamily.InterNetworkV6;
        }
        throw new ArgumentTransformationMetadataException(
            $"'{value}' is not an address family IPVS knows: give IPv4 (InterNetwork) or IPv6 (InterNetworkV6). (InvalidAddressFamily)");
    }
}
