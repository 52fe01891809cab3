using System.Buffers.Binary;
using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using HaPowerShell.Native.Netlink;

namespace HaPowerShell.Native.Rtnl;

/// <summary>
/// rtnetlink (NETLINK_ROUTE): links, addresses and neighbours. Message builders and parsers are
/// static so that tests can check them against golden bytes without a kernel.
/// </summary>
public sealed class RtnlClient : IDisposable
{
    public const ushort RtmNewLink = 16, RtmGetLink = 18, RtmNewAddr = 20, RtmDelAddr = 21, RtmGetAddr = 22,
        RtmNewNeigh = 28, RtmGetNeigh = 30;
    private const ushort IflaAddress = 1, IflaBroadcast = 2, IflaIfname = 3, IflaMtu = 4, IflaMaster = 10,
        IflaOperstate = 16, IflaLinkinfo = 18, IflaInfoKind = 1;
    private const ushort IfaAddress = 1, IfaLocal = 2, IfaLabel = 3, IfaBroadcast = 4, IfaFlags = 8;
    private const ushort NdaDst = 1, NdaLladdr = 2;
    public const byte AfUnspec = 0, AfInet = 2, AfInet6 = 10;
    public const uint IfaFNoDad = 0x02, IfaFHomeAddress = 0x10, IfaFNoPrefixRoute = 0x200;

    public RtnlClient() : this(new NetlinkSocket(NetlinkProtocol.Route)) { }
    public RtnlClient(NetlinkSocket socket) => Socket = socket;

    public NetlinkSocket Socket { get; }

    // ---- links -------------------------------------------------------------------------

    public static byte[] BuildGetLinks()
        => new NetlinkMessageBuilder(RtmGetLink, NetlinkFlags.Request | NetlinkFlags.Dump).PutHeader(new byte[16]).ToArray();

    public IReadOnlyList<LinkInfo> GetLinks()
    {
        const string op = "list network interfaces";
        return Socket.Execute(BuildGetLinks(), op).Where(m => m.Type == RtmNewLink).Select(m => ParseLink(m.Payload, op)).ToList();
    }

    public LinkInfo? GetLink(string name) => GetLinks().FirstOrDefault(l => l.Name == name);
    public LinkInfo? GetLink(int index) => GetLinks().FirstOrDefault(l => l.Index == index);

    public static LinkInfo ParseLink(ReadOnlyMemory<byte> payload, string operation)
    {
        if (payload.Length < 16) throw new NetlinkProtocolException(operation, "ifinfomsg shorter than 16 bytes");
        var s = payload.Span;
        ushort type = BinaryPrimitives.ReadUInt16LittleEndian(s[2..]);
        int index = BinaryPrimitives.ReadInt32LittleEndian(s[4..]);
        uint flags = BinaryPrimitives.ReadUInt32LittleEndian(s[8..]);
        var a = NetlinkAttributes.Parse(payload[16..], operation);
        string? kind = null;
        if (a.TryGetNested(IflaLinkinfo, out var info) && info.TryGetString(IflaInfoKind, out var k)) kind = k;
        return new LinkInfo(index, a.TryGetString(IflaIfname, out var n) ? n : $"if{index}", flags, type,
            a.GetU32OrDefault(IflaMtu), Mac(a, IflaAddress), Mac(a, IflaBroadcast),
            a.Has(IflaOperstate) ? a.GetU8(IflaOperstate) : (byte)0, (int)a.GetU32OrDefault(IflaMaster), kind);
    }

    private static PhysicalAddress? Mac(NetlinkAttributes a, ushort type)
        => a.TryGet(type, out var v) && v.Length > 0 ? new PhysicalAddress(v.ToArray()) : null;

    // ---- addresses ---------------------------------------------------------------------

    public static byte[] BuildGetAddresses(byte family)
        => new NetlinkMessageBuilder(RtmGetAddr, NetlinkFlags.Request | NetlinkFlags.Dump)
            .PutHeader(new byte[] { family, 0, 0, 0, 0, 0, 0, 0 }).ToArray();

    public IReadOnlyList<AddressInfo> GetAddresses(byte family = AfUnspec)
    {
        const string op = "list interface addresses";
        return Socket.Execute(BuildGetAddresses(family), op).Where(m => m.Type == RtmNewAddr).Select(m => ParseAddress(m.Payload, op)).ToList();
    }

    public static AddressInfo ParseAddress(ReadOnlyMemory<byte> payload, string operation)
    {
        if (payload.Length < 8) throw new NetlinkProtocolException(operation, "ifaddrmsg shorter than 8 bytes");
        var s = payload.Span;
        byte fam = s[0];
        var family = fam == AfInet6 ? AddressFamily.InterNetworkV6 : fam == AfInet ? AddressFamily.InterNetwork
            : throw new NetlinkProtocolException(operation, $"address of unexpected family {fam}");
        byte prefix = s[1], flags8 = s[2], scope = s[3];
        int index = (int)BinaryPrimitives.ReadUInt32LittleEndian(s[4..]);
        var a = NetlinkAttributes.Parse(payload[8..], operation);
        // IFA_LOCAL is the local address; IFA_ADDRESS is the peer on point-to-point links.
        IPAddress local = a.Has(IfaLocal) ? a.GetAddress(IfaLocal, family) : a.GetAddress(IfaAddress, family);
        IPAddress? peer = a.Has(IfaLocal) && a.Has(IfaAddress) ? a.GetAddress(IfaAddress, family) : null;
        if (peer != null && peer.Equals(local)) peer = null;
        return new AddressInfo(index, family, local, prefix,
            a.TryGetString(IfaLabel, out var label) ? label : null, scope,
            a.Has(IfaFlags) ? a.GetU32(IfaFlags) : flags8, peer,
            a.Has(IfaBroadcast) ? a.GetAddress(IfaBroadcast, family) : null);
    }

    /// <summary>
    /// RTM_NEWADDR / RTM_DELADDR for one address on one interface. An IPv4 address added with a prefix
    /// shorter than /31 gets <paramref name="broadcast"/>, or by default the subnet's broadcast address.
    /// </summary>
    public static byte[] BuildAddressChange(bool add, int interfaceIndex, IPAddress address, byte prefixLength,
        string? label, uint extraFlags = 0, byte scope = 0, IPAddress? broadcast = null)
    {
        bool v6 = address.AddressFamily == AddressFamily.InterNetworkV6;
        var header = new byte[8];
        header[0] = v6 ? AfInet6 : AfInet;
        header[1] = prefixLength;
        header[2] = (byte)(extraFlags & 0xff);
        header[3] = scope;
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(4), (uint)interfaceIndex);
        var flags = NetlinkFlags.Request | (add ? NetlinkFlags.Create | NetlinkFlags.Exclusive : NetlinkFlags.None);
        var b = new NetlinkMessageBuilder(add ? RtmNewAddr : RtmDelAddr, flags).PutHeader(header)
            .PutAddress(IfaLocal, address).PutAddress(IfaAddress, address);
        if (add && !v6 && (broadcast is not null || prefixLength < 31))
            b.PutAddress(IfaBroadcast, broadcast ?? Ipv4Broadcast(address, prefixLength));
        if (!string.IsNullOrEmpty(label) && !v6) b.PutString(IfaLabel, label);
        if (extraFlags > 0xff) b.PutU32(IfaFlags, extraFlags);
        return b.ToArray();
    }

    public void AddAddress(int interfaceIndex, IPAddress address, byte prefixLength, string? label = null, uint extraFlags = 0,
        byte scope = 0, IPAddress? broadcast = null)
        => Socket.Execute(BuildAddressChange(true, interfaceIndex, address, prefixLength, label, extraFlags, scope, broadcast), $"add address {address}/{prefixLength}");

    public void DeleteAddress(int interfaceIndex, IPAddress address, byte prefixLength)
        => Socket.Execute(BuildAddressChange(false, interfaceIndex, address, prefixLength, null), $"remove address {address}/{prefixLength}");

    public static IPAddress Ipv4Broadcast(IPAddress address, int prefixLength)
    {
        uint a = BinaryPrimitives.ReadUInt32BigEndian(address.GetAddressBytes());
        uint mask = prefixLength == 0 ? 0 : uint.MaxValue << (32 - prefixLength);
        var bytes = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, a | ~mask);
        return new IPAddress(bytes);
    }

    // ---- neighbours --------------------------------------------------------------------

    public static byte[] BuildGetNeighbors(byte family)
        => new NetlinkMessageBuilder(RtmGetNeigh, NetlinkFlags.Request | NetlinkFlags.Dump)
            .PutHeader(new byte[] { family, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 }).ToArray();

    public IReadOnlyList<NeighborInfo> GetNeighbors(byte family = AfUnspec)
    {
        const string op = "list neighbour table";
        var list = new List<NeighborInfo>();
        foreach (var m in Socket.Execute(BuildGetNeighbors(family), op))
            if (m.Type == RtmNewNeigh && ParseNeighbor(m.Payload, op) is { } n) list.Add(n);
        return list;
    }

    /// <summary>Parses RTM_NEWNEIGH; null for entries without a destination or of other families.</summary>
    public static NeighborInfo? ParseNeighbor(ReadOnlyMemory<byte> payload, string operation)
    {
        if (payload.Length < 12) throw new NetlinkProtocolException(operation, "ndmsg shorter than 12 bytes");
        var s = payload.Span;
        byte fam = s[0];
        if (fam != AfInet && fam != AfInet6) return null;
        var family = fam == AfInet ? AddressFamily.InterNetwork : AddressFamily.InterNetworkV6;
        int index = BinaryPrimitives.ReadInt32LittleEndian(s[4..]);
        ushort state = BinaryPrimitives.ReadUInt16LittleEndian(s[8..]);
        byte flags = s[10];
        var a = NetlinkAttributes.Parse(payload[12..], operation);
        if (!a.Has(NdaDst)) return null;
        return new NeighborInfo(index, family, a.GetAddress(NdaDst, family), Mac(a, NdaLladdr), state, flags);
    }

    public void Dispose() => Socket.Dispose();
}
