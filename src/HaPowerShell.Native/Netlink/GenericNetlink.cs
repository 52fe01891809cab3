using System.Collections.Concurrent;

namespace HaPowerShell.Native.Netlink;

/// <summary>What the generic netlink controller told us about a family.</summary>
public sealed record GenericNetlinkFamily(
    string Name, ushort Id, uint Version, uint HeaderSize, uint MaxAttribute,
    IReadOnlyDictionary<string, uint> MulticastGroups);

/// <summary>
/// Generic netlink over one <see cref="NetlinkSocket"/>: resolves family names to ids through the
/// controller (nlctrl) and caches positive answers for the lifetime of the client.
/// </summary>
public sealed class GenericNetlinkClient : IDisposable
{
    public const ushort ControllerId = 0x10;
    private const byte CtrlCmdGetFamily = 3;
    private const ushort CtrlAttrFamilyId = 1, CtrlAttrFamilyName = 2, CtrlAttrVersion = 3,
        CtrlAttrHeaderSize = 4, CtrlAttrMaxAttr = 5, CtrlAttrMcastGroups = 7;
    private const ushort CtrlAttrMcastGrpName = 1, CtrlAttrMcastGrpId = 2;

    private readonly ConcurrentDictionary<string, GenericNetlinkFamily> _families = new(StringComparer.Ordinal);

    public GenericNetlinkClient() : this(new NetlinkSocket(NetlinkProtocol.Generic)) { }

    public GenericNetlinkClient(NetlinkSocket socket) => Socket = socket;

    public NetlinkSocket Socket { get; }

    /// <summary>Builds the CTRL_CMD_GETFAMILY request for a name (exposed for golden-byte tests).</summary>
    public static NetlinkMessageBuilder BuildGetFamily(string name)
        => new NetlinkMessageBuilder(ControllerId, NetlinkFlags.Request)
            .PutGenericHeader(CtrlCmdGetFamily, 1)
            .PutString(CtrlAttrFamilyName, name);

    /// <summary>Parses a CTRL_CMD_NEWFAMILY reply payload (genl header + attributes).</summary>
    public static GenericNetlinkFamily ParseFamily(ReadOnlyMemory<byte> payload, string operation)
    {
        if (payload.Length < 4) throw new NetlinkProtocolException(operation, "generic netlink reply shorter than its 4-byte header");
        var attrs = NetlinkAttributes.Parse(payload[4..], operation);
        var groups = new Dictionary<string, uint>(StringComparer.Ordinal);
        if (attrs.TryGetNested(CtrlAttrMcastGroups, out var list))
        {
            foreach (var (_, value) in list.Items)
            {
                var g = NetlinkAttributes.Parse(value, operation);
                if (g.TryGetString(CtrlAttrMcastGrpName, out var gname) && g.Has(CtrlAttrMcastGrpId))
                    groups[gname] = g.GetU32(CtrlAttrMcastGrpId);
            }
        }
        return new GenericNetlinkFamily(
            attrs.GetString(CtrlAttrFamilyName),
            attrs.GetU16(CtrlAttrFamilyId),
            attrs.GetU32OrDefault(CtrlAttrVersion),
            attrs.GetU32OrDefault(CtrlAttrHeaderSize),
            attrs.GetU32OrDefault(CtrlAttrMaxAttr),
            groups);
    }

    /// <summary>Looks a family up; null when the kernel does not know it (ENOENT).</summary>
    public GenericNetlinkFamily? TryGetFamily(string name)
    {
        if (_families.TryGetValue(name, out var cached)) return cached;
        if (string.IsNullOrEmpty(name) || name.Length >= 16)
            throw new ArgumentException($"A generic netlink family name has 1 to 15 characters; '{name}' does not.", nameof(name));
        string op = $"resolve generic netlink family '{name}'";
        List<NetlinkMessage> reply;
        try
        {
            reply = Socket.Execute(BuildGetFamily(name).ToArray(), op);
        }
        catch (NetlinkException e) when (e.Errno == Errno.ENOENT)
        {
            return null;
        }
        if (reply.Count == 0) throw new NetlinkProtocolException(op, "the controller acknowledged without describing the family");
        var family = ParseFamily(reply[0].Payload, op);
        _families[name] = family;
        return family;
    }

    /// <summary>Forgets cached ids (after a module reload, for instance).</summary>
    public void ClearCache() => _families.Clear();

    /// <summary>Starts a request for a family command; add attributes, then pass ToArray() to Socket.</summary>
    public static NetlinkMessageBuilder NewRequest(GenericNetlinkFamily family, byte command, NetlinkFlags flags = NetlinkFlags.Request)
        => StartRequest(new NetlinkMessageBuilder(family.Id, flags | NetlinkFlags.Request), family, command, flags);

    /// <summary><see cref="NewRequest"/> in a builder that is reused (started afresh).</summary>
    public static NetlinkMessageBuilder StartRequest(NetlinkMessageBuilder b, GenericNetlinkFamily family, byte command, NetlinkFlags flags = NetlinkFlags.Request)
        => b.Reset(family.Id, flags | NetlinkFlags.Request).PutGenericHeader(command, (byte)family.Version);

    public void Dispose() => Socket.Dispose();
}
