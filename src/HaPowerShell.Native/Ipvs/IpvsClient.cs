using HaPowerShell.Native.Netlink;

namespace HaPowerShell.Native.Ipvs;

/// <summary>Raw answer of IPVS_CMD_GET_INFO.</summary>
public readonly record struct IpvsKernelInfo(uint VersionCode, uint ConnectionTableSize);

/// <summary>
/// The IPVS generic netlink client (family "IPVS", linux/ip_vs.h). One instance owns one socket
/// and is safe to share between threads.
/// </summary>
public sealed partial class IpvsClient : IDisposable
{
    public const string FamilyName = "IPVS";

    private readonly GenericNetlinkClient _genl;
    private readonly GenericNetlinkFamily _family;

    private IpvsClient(GenericNetlinkClient genl, GenericNetlinkFamily family)
    {
        _genl = genl;
        _family = family;
    }

    public GenericNetlinkFamily Family => _family;
    public NetlinkSocket Socket => _genl.Socket;

    /// <summary>
    /// Opens a client. When the family is missing, tries 'modprobe ip_vs' once per process, then
    /// throws <see cref="IpvsUnavailableException"/> if it is still missing.
    /// </summary>
    public static IpvsClient Open()
    {
        var genl = new GenericNetlinkClient();
        try
        {
            var family = genl.TryGetFamily(FamilyName);
            if (family is null)
            {
                var (_, detail) = ModuleLoader.TryLoadOnce("ip_vs");
                genl.ClearCache();
                family = genl.TryGetFamily(FamilyName) ?? throw new IpvsUnavailableException(detail);
            }
            return new IpvsClient(genl, family);
        }
        catch
        {
            genl.Dispose();
            throw;
        }
    }

    public static byte[] BuildGetInfo(GenericNetlinkFamily family)
        => GenericNetlinkClient.NewRequest(family, IpvsCommand.GetInfo).ToArray();

    public static IpvsKernelInfo ParseInfo(ReadOnlyMemory<byte> payload, string operation)
    {
        if (payload.Length < 4) throw new NetlinkProtocolException(operation, "reply shorter than the generic netlink header");
        var a = NetlinkAttributes.Parse(payload[4..], operation);
        return new IpvsKernelInfo(a.GetU32(IpvsInfoAttr.Version), a.GetU32(IpvsInfoAttr.ConnTabSize));
    }

    public IpvsKernelInfo GetInfo()
    {
        const string op = "IPVS get info";
        var reply = Socket.Execute(BuildGetInfo(_family), op);
        if (reply.Count == 0) throw new NetlinkProtocolException(op, "the kernel acknowledged without sending the information");
        return ParseInfo(reply[0].Payload, op);
    }

    public void Dispose() => _genl.Dispose();
}
