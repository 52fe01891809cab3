using System.Buffers.Binary;

namespace HaPowerShell.Native.Netlink;

/// <summary>
/// The 16-byte <c>struct nlmsghdr</c> (length, type, flags, sequence, port id; host byte order): the one place
/// that knows its field offsets, for the builder, the parser and the socket.
/// </summary>
public readonly record struct NetlinkHeader(uint Length, ushort Type, NetlinkFlags Flags, uint Sequence, uint PortId)
{
    private const int TypeOffset = 4, FlagsOffset = 6, SequenceOffset = 8, PortIdOffset = 12;

    /// <summary>Reads the header at the start of <paramref name="message"/> (at least <see cref="NetlinkLayout.HeaderSize"/> bytes).</summary>
    public static NetlinkHeader Read(ReadOnlySpan<byte> message)
    {
        if (message.Length < NetlinkLayout.HeaderSize)
            throw new ArgumentException($"A netlink message has a {NetlinkLayout.HeaderSize}-byte header; {message.Length} bytes is too short.", nameof(message));
        return new(BinaryPrimitives.ReadUInt32LittleEndian(message),
            BinaryPrimitives.ReadUInt16LittleEndian(message[TypeOffset..]),
            (NetlinkFlags)BinaryPrimitives.ReadUInt16LittleEndian(message[FlagsOffset..]),
            BinaryPrimitives.ReadUInt32LittleEndian(message[SequenceOffset..]),
            BinaryPrimitives.ReadUInt32LittleEndian(message[PortIdOffset..]));
    }

    /// <summary>Writes this header over the first <see cref="NetlinkLayout.HeaderSize"/> bytes of <paramref name="message"/>.</summary>
    public void Write(Span<byte> message)
    {
        if (message.Length < NetlinkLayout.HeaderSize)
            throw new ArgumentException($"A netlink message has a {NetlinkLayout.HeaderSize}-byte header; {message.Length} bytes is too short.", nameof(message));
        BinaryPrimitives.WriteUInt32LittleEndian(message, Length);
        BinaryPrimitives.WriteUInt16LittleEndian(message[TypeOffset..], Type);
        BinaryPrimitives.WriteUInt16LittleEndian(message[FlagsOffset..], (ushort)Flags);
        BinaryPrimitives.WriteUInt32LittleEndian(message[SequenceOffset..], Sequence);
        BinaryPrimitives.WriteUInt32LittleEndian(message[PortIdOffset..], PortId);
    }
}

/// <summary>One received netlink message; <see cref="Payload"/> excludes the 16-byte header.</summary>
public readonly struct NetlinkMessage
{
    public NetlinkMessage(ushort type, NetlinkFlags flags, uint sequence, uint portId, ReadOnlyMemory<byte> payload)
    {
        Type = type; Flags = flags; Sequence = sequence; PortId = portId; Payload = payload;
    }

    public ushort Type { get; }
    public NetlinkFlags Flags { get; }
    public uint Sequence { get; }
    public uint PortId { get; }
    public ReadOnlyMemory<byte> Payload { get; }

    /// <summary>
    /// Splits a datagram into messages, validating every length against what is really there.
    /// Throws <see cref="NetlinkProtocolException"/> on anything malformed; never reads out of range.
    /// </summary>
    public static List<NetlinkMessage> ParseAll(ReadOnlyMemory<byte> datagram, string operation)
    {
        var list = new List<NetlinkMessage>();
        ReadOnlySpan<byte> span = datagram.Span;
        int offset = 0;
        while (offset < span.Length)
        {
            int remaining = span.Length - offset;
            if (remaining < NetlinkLayout.HeaderSize)
                throw new NetlinkProtocolException(operation, $"truncated netlink header: {remaining} bytes left at offset {offset}");
            var h = NetlinkHeader.Read(span[offset..]);
            uint length = h.Length;
            if (length < NetlinkLayout.HeaderSize)
                throw new NetlinkProtocolException(operation, $"netlink message length {length} at offset {offset} is shorter than its header");
            if (length > remaining)
                throw new NetlinkProtocolException(operation, $"netlink message at offset {offset} claims {length} bytes but only {remaining} arrived (truncated)");
            list.Add(new NetlinkMessage(h.Type, h.Flags, h.Sequence, h.PortId,
                datagram.Slice(offset + NetlinkLayout.HeaderSize, (int)length - NetlinkLayout.HeaderSize)));
            int advance = NetlinkLayout.Align((int)length);
            if (advance > remaining) advance = remaining; // last message may omit its padding
            offset += advance;
        }
        return list;
    }

    /// <summary>Reads the errno of an NLMSG_ERROR payload (positive; 0 for an ACK) and any extended-ACK text.</summary>
    public static (int Errno, string? Message) ParseError(NetlinkMessage message, string operation)
    {
        ReadOnlySpan<byte> p = message.Payload.Span;
        if (p.Length < 4)
            throw new NetlinkProtocolException(operation, $"NLMSG_ERROR payload of {p.Length} bytes is too short");
        int error = BinaryPrimitives.ReadInt32LittleEndian(p);
        string? text = null;
        if ((message.Flags & NetlinkFlags.AckTlvs) != 0 && p.Length >= 4 + NetlinkLayout.HeaderSize)
        {
            // With NETLINK_CAP_ACK the original request is echoed as a bare header, unless NLM_F_CAPPED is absent.
            int origLen = NetlinkLayout.HeaderSize;
            if ((message.Flags & NetlinkFlags.Capped) == 0)
                origLen = (int)Math.Min(BinaryPrimitives.ReadUInt32LittleEndian(p[4..]), (uint)(p.Length - 4));
            int tlvStart = 4 + NetlinkLayout.Align(origLen);
            if (tlvStart < p.Length)
            {
                var attrs = NetlinkAttributes.Parse(message.Payload[tlvStart..], operation);
                if (attrs.TryGetString(1 /* NLMSGERR_ATTR_MSG */, out var msg)) text = msg;
            }
        }
        return (error <= 0 ? -error : error, text);
    }
}
