using System.Buffers.Binary;
using System.Net;
using System.Text;

namespace HaPowerShell.Native.Netlink;

/// <summary>
/// Builds one netlink message: the 16-byte header, an optional family header and attributes,
/// each padded to 4 bytes. Integers are written in host byte order (little-endian on the
/// platforms we run on) unless a *BigEndian method is used. Sequence and port id are left zero;
/// <see cref="NetlinkSocket"/> fills them in when it sends.
/// </summary>
public sealed class NetlinkMessageBuilder
{
    private byte[] _buffer;
    private int _length;
    private readonly Stack<int> _nests = new();

    public NetlinkMessageBuilder(ushort type, NetlinkFlags flags, int capacity = 128)
    {
        _buffer = new byte[Math.Max(capacity, NetlinkLayout.HeaderSize)];
        Reset(type, flags);
    }

    /// <summary>
    /// Starts a new message in the same buffer (what was built is dropped): a builder reused for many messages
    /// allocates nothing per message (<see cref="NetlinkRequestBatch"/>).
    /// </summary>
    public NetlinkMessageBuilder Reset(ushort type, NetlinkFlags flags)
    {
        _nests.Clear();
        _length = NetlinkLayout.HeaderSize;
        new NetlinkHeader(0, type, flags, 0, 0).Write(_buffer);
        return this;
    }

    public ushort Type => NetlinkHeader.Read(_buffer).Type;
    public NetlinkFlags Flags => NetlinkHeader.Read(_buffer).Flags;

    /// <summary>Appends a fixed family header (genlmsghdr, ifaddrmsg, ...), padded to 4 bytes.</summary>
    public NetlinkMessageBuilder PutHeader(ReadOnlySpan<byte> header)
    {
        if (_nests.Count > 0) throw new InvalidOperationException("A family header cannot be placed inside a nested attribute.");
        Append(header);
        return this;
    }

    /// <summary>Appends the 4-byte generic netlink header (cmd, version, reserved).</summary>
    public NetlinkMessageBuilder PutGenericHeader(byte command, byte version)
        => PutHeader(stackalloc byte[] { command, version, 0, 0 });

    public NetlinkMessageBuilder PutAttribute(ushort type, ReadOnlySpan<byte> value)
    {
        int total = NetlinkLayout.AttributeHeaderSize + value.Length;
        if (total > ushort.MaxValue) throw new ArgumentException($"Attribute {type} is too long ({value.Length} bytes).", nameof(value));
        Span<byte> header = stackalloc byte[4];
        BinaryPrimitives.WriteUInt16LittleEndian(header, (ushort)total);
        BinaryPrimitives.WriteUInt16LittleEndian(header[2..], type);
        Append(header, pad: false);
        Append(value);
        return this;
    }

    public NetlinkMessageBuilder PutFlag(ushort type) => PutAttribute(type, ReadOnlySpan<byte>.Empty);
    public NetlinkMessageBuilder PutU8(ushort type, byte value) => PutAttribute(type, stackalloc byte[] { value });

    public NetlinkMessageBuilder PutU16(ushort type, ushort value)
    {
        Span<byte> b = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(b, value);
        return PutAttribute(type, b);
    }

    /// <summary>A 16-bit value in network byte order (ports in IPVS, for instance).</summary>
    public NetlinkMessageBuilder PutU16BigEndian(ushort type, ushort value)
    {
        Span<byte> b = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16BigEndian(b, value);
        return PutAttribute(type, b);
    }

    public NetlinkMessageBuilder PutU32(ushort type, uint value)
    {
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(b, value);
        return PutAttribute(type, b);
    }

    public NetlinkMessageBuilder PutU32BigEndian(ushort type, uint value)
    {
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(b, value);
        return PutAttribute(type, b);
    }

    public NetlinkMessageBuilder PutU64(ushort type, ulong value)
    {
        Span<byte> b = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(b, value);
        return PutAttribute(type, b);
    }

    /// <summary>A NUL-terminated string (NLA_NUL_STRING / NLA_STRING both accept this).</summary>
    public NetlinkMessageBuilder PutString(ushort type, string value)
    {
        int n = Encoding.UTF8.GetByteCount(value);
        Span<byte> b = n < 256 ? stackalloc byte[n + 1] : new byte[n + 1];
        Encoding.UTF8.GetBytes(value, b);
        b[n] = 0;
        return PutAttribute(type, b);
    }

    /// <summary>The raw bytes of an address (4 for IPv4, 16 for IPv6).</summary>
    public NetlinkMessageBuilder PutAddress(ushort type, IPAddress address)
    {
        Span<byte> b = stackalloc byte[16];
        address.TryWriteBytes(b, out int written);
        return PutAttribute(type, b[..written]);
    }

    /// <summary>An address padded to the 16-byte union nf_inet_addr, as IPVS expects.</summary>
    public NetlinkMessageBuilder PutInetAddress(ushort type, IPAddress address)
    {
        Span<byte> b = stackalloc byte[16];
        b.Clear();
        address.TryWriteBytes(b, out _);
        return PutAttribute(type, b);
    }

    /// <summary>Opens a nested attribute; close it with <see cref="EndNested"/>.</summary>
    public NetlinkMessageBuilder BeginNested(ushort type, bool setNestedFlag = false)
    {
        _nests.Push(_length);
        Span<byte> header = stackalloc byte[4];
        BinaryPrimitives.WriteUInt16LittleEndian(header[2..], setNestedFlag ? (ushort)(type | NetlinkLayout.AttributeNestedFlag) : type);
        Append(header, pad: false);
        return this;
    }

    public NetlinkMessageBuilder EndNested()
    {
        if (_nests.Count == 0) throw new InvalidOperationException("EndNested without BeginNested.");
        int start = _nests.Pop();
        int length = _length - start;
        if (length > ushort.MaxValue) throw new InvalidOperationException("Nested attribute exceeds 65535 bytes.");
        BinaryPrimitives.WriteUInt16LittleEndian(_buffer.AsSpan(start), (ushort)length);
        return this;
    }

    /// <summary>Finishes the message and returns its bytes (length field set).</summary>
    public byte[] ToArray() => Finish().ToArray();

    /// <summary>Finishes the message (length field set) and returns its bytes in the builder's buffer, valid until the next change.</summary>
    public ReadOnlySpan<byte> Finish()
    {
        if (_nests.Count > 0) throw new InvalidOperationException("A nested attribute is still open.");
        (NetlinkHeader.Read(_buffer) with { Length = (uint)_length }).Write(_buffer);
        return _buffer.AsSpan(0, _length);
    }

    private void Append(ReadOnlySpan<byte> data, bool pad = true)
    {
        int needed = _length + NetlinkLayout.Align(data.Length);
        if (needed > _buffer.Length) Array.Resize(ref _buffer, Math.Max(needed, _buffer.Length * 2));
        data.CopyTo(_buffer.AsSpan(_length));
        int padded = pad ? NetlinkLayout.Align(data.Length) : data.Length;
        _buffer.AsSpan(_length + data.Length, padded - data.Length).Clear();
        _length += padded;
    }
}
