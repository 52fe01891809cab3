using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using HaPowerShell.Native.Netlink;

namespace HaPowerShell.Native.Netfilter;

/// <summary>
/// Drops packets addressed to given addresses on local delivery, for a VRRP Master that must not accept
/// them (RFC 5798 §6.1, Accept_Mode False), with nf_tables driven over nfnetlink: one <c>inet</c> table owned
/// by this socket (NFT_TABLE_F_OWNER: the kernel deletes it when the socket closes, so a killed process
/// leaves nothing behind), and one base chain per owner (an instance) on the input hook. A chain holds,
/// per address, "daddr == address → drop"; for IPv6 Neighbor Solicitations and Advertisements to the address
/// are let through first, so neighbour discovery keeps working. ARP is not IP, so it is never touched: the
/// Master still answers ARP for the address. Forwarded packets (the VRRP router's real job) do not pass the
/// input hook and are not affected; only packets whose destination is one of the addresses are.
/// </summary>
public sealed class VipInputFilter : IDisposable
{
    private const int NetlinkNetfilter = 12;
    private const byte SubsysNfTables = 10;
    private const ushort BatchBegin = 0x10, BatchEnd = 0x11;
    private const byte MsgNewTable = 0, MsgNewChain = 3, MsgDelChain = 5, MsgNewRule = 6;
    private const byte FamilyInet = 1, FamilyUnspec = 0;
    private const byte NfProtoIPv4 = 2, NfProtoIPv6 = 10;
    private const uint TableFlagOwner = 2;
    private const uint HookLocalIn = 1, VerdictDrop = 0, VerdictAccept = 1;
    private const uint RegVerdict = 0, Reg1 = 1;
    private const uint PayloadNetwork = 1, PayloadTransport = 2;
    private const uint MetaNfProto = 15, MetaL4Proto = 16;
    private const uint CmpEq = 0, CmpGte = 5, CmpLte = 3;

    private readonly NetlinkSocket _socket;
    private readonly HashSet<string> _chains = new(StringComparer.Ordinal);
    private bool _tableCreated;

    /// <summary>Opens the nfnetlink socket; nothing is created in the kernel until <see cref="EnsureTable"/> or <see cref="Install"/>.</summary>
    public VipInputFilter(string tableName)
    {
        if (string.IsNullOrEmpty(tableName) || tableName.Length > 255) throw new ArgumentException("The table name must be 1-255 characters.", nameof(tableName));
        TableName = tableName;
        _socket = new NetlinkSocket(NetlinkNetfilter);
    }

    /// <summary>The nf_tables table (family inet) that holds the chains.</summary>
    public string TableName { get; }

    /// <summary>Whether chain <paramref name="chain"/> is installed now (safe from any thread).</summary>
    public bool IsInstalled(string chain) { lock (_chains) return _chains.Contains(chain); }

    /// <summary>Creates the owned table (once); throws <see cref="NetlinkException"/> when nf_tables cannot be used here.</summary>
    public void EnsureTable()
    {
        if (_tableCreated) return;
        Transaction($"create nftables table inet {TableName}", NewTable(TableName));
        _tableCreated = true;
    }

    /// <summary>Installs (or replaces) chain <paramref name="chain"/> dropping local delivery to <paramref name="addresses"/>, atomically.</summary>
    public void Install(string chain, IReadOnlyList<IPAddress> addresses)
    {
        EnsureTable();
        Transaction($"install nftables chain {chain} in inet {TableName}", InstallMessages(TableName, chain, IsInstalled(chain), addresses).ToArray());
        lock (_chains) _chains.Add(chain);
    }

    /// <summary>Removes chain <paramref name="chain"/> and its rules; nothing when it is not installed.</summary>
    public void Remove(string chain)
    {
        if (!IsInstalled(chain)) return;
        Transaction($"delete nftables chain {chain} in inet {TableName}", DelChain(TableName, chain));
        lock (_chains) _chains.Remove(chain);
    }

    /// <summary>Closes the socket: the kernel removes the owned table with every chain in it.</summary>
    public void Dispose()
    {
        lock (_chains) _chains.Clear();
        _socket.Dispose();
    }

    // ---- messages ---------------------------------------------------------------------------

    private void Transaction(string operation, params byte[][] body)
    {
        var all = new List<byte[]>(body.Length + 2) { Batch(BatchBegin) };
        all.AddRange(body);
        all.Add(Batch(BatchEnd));
        _socket.ExecuteTransaction(all, operation);
    }

    /// <summary>nfgenmsg: family, version 0, resource id (big-endian).</summary>
    private static NetlinkMessageBuilder Message(ushort type, NetlinkFlags flags, byte family, ushort resId = 0)
    {
        var b = new NetlinkMessageBuilder(type, flags | NetlinkFlags.Request, 256);
        Span<byte> h = stackalloc byte[4];
        h[0] = family;
        h[1] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(h[2..], resId);
        return b.PutHeader(h);
    }

    /// <summary>The messages of one install: the old chain deleted (when <paramref name="replace"/>), the chain, its rules.</summary>
    internal static List<byte[]> InstallMessages(string table, string chain, bool replace, IReadOnlyList<IPAddress> addresses)
    {
        var messages = new List<byte[]>();
        if (replace) messages.Add(DelChain(table, chain));
        messages.Add(NewChain(table, chain));
        foreach (var a in addresses)
        {
            if (a.AddressFamily == AddressFamily.InterNetworkV6)
                messages.Add(NeighborDiscoveryAccept(table, chain, a));
            messages.Add(DropTo(table, chain, a));
        }
        return messages;
    }

    internal static byte[] Batch(ushort type) => Message(type, 0, FamilyUnspec, SubsysNfTables).ToArray();

    private static ushort NfType(byte msg) => (ushort)((SubsysNfTables << 8) | msg);

    internal static byte[] NewTable(string table)
        => Message(NfType(MsgNewTable), NetlinkFlags.Create, FamilyInet)
            .PutString(1, table)            // NFTA_TABLE_NAME
            .PutU32BigEndian(2, TableFlagOwner) // NFTA_TABLE_FLAGS
            .ToArray();

    private static byte[] NewChain(string table, string chain)
        => Message(NfType(MsgNewChain), NetlinkFlags.Create | NetlinkFlags.Exclusive, FamilyInet)
            .PutString(1, table)            // NFTA_CHAIN_TABLE
            .PutString(3, chain)                // NFTA_CHAIN_NAME
            .BeginNested(4, true)               // NFTA_CHAIN_HOOK
                .PutU32BigEndian(1, HookLocalIn)// NFTA_HOOK_HOOKNUM
                .PutU32BigEndian(2, 0)          // NFTA_HOOK_PRIORITY (filter)
            .EndNested()
            .PutU32BigEndian(5, VerdictAccept)  // NFTA_CHAIN_POLICY
            .PutString(7, "filter")             // NFTA_CHAIN_TYPE
            .ToArray();

    internal static byte[] DelChain(string table, string chain)
        => Message(NfType(MsgDelChain), 0, FamilyInet)
            .PutString(1, table)
            .PutString(3, chain)
            .ToArray();

    private static NetlinkMessageBuilder Rule(string table, string chain)
        => Message(NfType(MsgNewRule), NetlinkFlags.Create | NetlinkFlags.Append, FamilyInet)
            .PutString(1, table)            // NFTA_RULE_TABLE
            .PutString(2, chain)                // NFTA_RULE_CHAIN
            .BeginNested(4, true);              // NFTA_RULE_EXPRESSIONS

    /// <summary>meta nfproto == family; daddr == address (loaded into register 1).</summary>
    private static void MatchDestination(NetlinkMessageBuilder b, IPAddress address)
    {
        bool v6 = address.AddressFamily == AddressFamily.InterNetworkV6;
        Meta(b, MetaNfProto);
        Cmp(b, CmpEq, new[] { v6 ? NfProtoIPv6 : NfProtoIPv4 });
        // IPv4 destination at offset 16 (4 bytes), IPv6 at offset 24 (16 bytes).
        Payload(b, PayloadNetwork, v6 ? 24u : 16u, v6 ? 16u : 4u);
        Cmp(b, CmpEq, address.GetAddressBytes());
    }

    private static byte[] DropTo(string table, string chain, IPAddress address)
    {
        var b = Rule(table, chain);
        MatchDestination(b, address);
        Verdict(b, VerdictDrop);
        return b.EndNested().ToArray();
    }

    /// <summary>ICMPv6 types 135-136 (NS, NA) to the address: accept, ahead of the drop.</summary>
    private static byte[] NeighborDiscoveryAccept(string table, string chain, IPAddress address)
    {
        var b = Rule(table, chain);
        MatchDestination(b, address);
        Meta(b, MetaL4Proto);
        Cmp(b, CmpEq, new byte[] { 58 });
        Payload(b, PayloadTransport, 0, 1);
        Cmp(b, CmpGte, new byte[] { 135 });
        Cmp(b, CmpLte, new byte[] { 136 });
        Verdict(b, VerdictAccept);
        return b.EndNested().ToArray();
    }

    private static NetlinkMessageBuilder Expression(NetlinkMessageBuilder b, string name)
        => b.BeginNested(1, true)               // NFTA_LIST_ELEM
            .PutString(1, name)                 // NFTA_EXPR_NAME
            .BeginNested(2, true);              // NFTA_EXPR_DATA

    private static void Meta(NetlinkMessageBuilder b, uint key)
        => Expression(b, "meta")
            .PutU32BigEndian(1, Reg1)           // NFTA_META_DREG
            .PutU32BigEndian(2, key)            // NFTA_META_KEY
            .EndNested().EndNested();

    private static void Payload(NetlinkMessageBuilder b, uint @base, uint offset, uint length)
        => Expression(b, "payload")
            .PutU32BigEndian(1, Reg1)           // NFTA_PAYLOAD_DREG
            .PutU32BigEndian(2, @base)          // NFTA_PAYLOAD_BASE
            .PutU32BigEndian(3, offset)         // NFTA_PAYLOAD_OFFSET
            .PutU32BigEndian(4, length)         // NFTA_PAYLOAD_LEN
            .EndNested().EndNested();

    private static void Cmp(NetlinkMessageBuilder b, uint op, byte[] value)
        => Expression(b, "cmp")
            .PutU32BigEndian(1, Reg1)           // NFTA_CMP_SREG
            .PutU32BigEndian(2, op)             // NFTA_CMP_OP
            .BeginNested(3, true)               // NFTA_CMP_DATA
                .PutAttribute(1, value)         // NFTA_DATA_VALUE
            .EndNested()
            .EndNested().EndNested();

    private static void Verdict(NetlinkMessageBuilder b, uint code)
        => Expression(b, "immediate")
            .PutU32BigEndian(1, RegVerdict)     // NFTA_IMMEDIATE_DREG
            .BeginNested(2, true)               // NFTA_IMMEDIATE_DATA
                .BeginNested(2, true)           // NFTA_DATA_VERDICT
                    .PutU32BigEndian(1, code)   // NFTA_VERDICT_CODE
                .EndNested()
            .EndNested()
            .EndNested().EndNested();
}
