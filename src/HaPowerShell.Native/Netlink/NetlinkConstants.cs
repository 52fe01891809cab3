namespace HaPowerShell.Native.Netlink;

/// <summary>Netlink protocol numbers (linux/netlink.h).</summary>
public static class NetlinkProtocol
{
    public const int Route = 0;
    public const int Generic = 16;
}

/// <summary>nlmsg_flags (linux/netlink.h).</summary>
[Flags]
public enum NetlinkFlags : ushort
{
    None = 0,
    Request = 0x1,
    Multi = 0x2,
    Ack = 0x4,
    Echo = 0x8,
    DumpInterrupted = 0x10,
    DumpFiltered = 0x20,
    // GET modifiers
    Root = 0x100,
    Match = 0x200,
    Atomic = 0x400,
    Dump = Root | Match,
    // NEW modifiers
    Replace = 0x100,
    Exclusive = 0x200,
    Create = 0x400,
    Append = 0x800,
    // ACK modifiers
    Capped = 0x100,
    AckTlvs = 0x200,
}

/// <summary>Control message types every netlink family shares.</summary>
public static class NetlinkMessageType
{
    public const ushort Noop = 1;
    public const ushort Error = 2;
    public const ushort Done = 3;
    public const ushort Overrun = 4;
    /// <summary>Types below this value are reserved for control messages.</summary>
    public const ushort MinType = 0x10;
}

internal static class NetlinkSocketOption
{
    public const int SolNetlink = 270;
    public const int AddMembership = 1;
    public const int DropMembership = 2;
    public const int CapAck = 10;
    public const int ExtAck = 11;
    public const int GetStrictChk = 12;
}

/// <summary>Sizes and alignment rules of the netlink wire format.</summary>
public static class NetlinkLayout
{
    public const int HeaderSize = 16;
    public const int AttributeHeaderSize = 4;
    public const int Alignment = 4;
    public const ushort AttributeNestedFlag = 0x8000;
    public const ushort AttributeByteOrderFlag = 0x4000;
    public const ushort AttributeTypeMask = 0x3fff;

    public static int Align(int length) => (length + Alignment - 1) & ~(Alignment - 1);
}
