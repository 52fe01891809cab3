using System.Buffers.Binary;
using System.Net;
using System.Text;

namespace HaPowerShell.Native.Netlink;

/// <summary>
/// A parsed, validated list of netlink attributes. Lookups by type return the last occurrence
/// (as the kernel's nla_parse does); <see cref="GetAll"/> returns every occurrence (for arrays).
/// Accessors check the payload length and throw <see cref="NetlinkProtocolException"/> on a mismatch.
/// </summary>
public sealed class NetlinkAttributes
{
    private readonly List<(ushort Type, ReadOnlyMemory<byte> Value)> _items;
    private readonly string _operation;

    private NetlinkAttributes(List<(ushort, ReadOnlyMemory<byte>)> items, string operation)
    {
        _items = items;
        _operation = operation;
    }

    public int Count => _items.Count;
    public IEnumerable<(ushort Type, ReadOnlyMemory<byte> Value)> Items => _items;

    public static NetlinkAttributes Parse(ReadOnlyMemory<byte> data, string operation)
    {
        var items = new List<(ushort, ReadOnlyMemory<byte>)>();
        ReadOnlySpan<byte> span = data.Span;
        int offset = 0;
        while (offset < span.Length)
        {
            int remaining = span.Length - offset;
            if (remaining < NetlinkLayout.AttributeHeaderSize)
            {
                // Trailing padding shorter than an attribute header is tolerated only if it is zero.
                if (span[offset..].IndexOfAnyExcept((byte)0) < 0) break;
                throw new NetlinkProtocolException(operation, $"truncated attribute header at offset {offset}");
            }
            ushort length = BinaryPrimitives.ReadUInt16LittleEndian(span[offset..]);
            ushort type = (ushort)(BinaryPrimitives.ReadUInt16LittleEndian(span[(offset + 2)..]) & NetlinkLayout.AttributeTypeMask);
            if (length < NetlinkLayout.AttributeHeaderSize)
                throw new NetlinkProtocolException(operation, $"attribute {type} at offset {offset} has invalid length {length}");
            if (length > remaining)
                throw new NetlinkProtocolException(operation, $"attribute {type} at offset {offset} claims {length} bytes but only {remaining} remain");
            items.Add((type, data.Slice(offset + NetlinkLayout.AttributeHeaderSize, length - NetlinkLayout.AttributeHeaderSize)));
            offset += Math.Min(NetlinkLayout.Align(length), remaining);
        }
        return new NetlinkAttributes(items, operation);
    }

    public bool Has(ushort type) => TryGet(type, out _);

    public bool TryGet(ushort type, out ReadOnlyMemory<byte> value)
    {
        for (int i = _items.Count - 1; i >= 0; i--)
        {
            if (_items[i].Type == type) { value = _items[i].Value; return true; }
        }
        value = default;
        return false;
    }

    public IEnumerable<ReadOnlyMemory<byte>> GetAll(ushort type)
    {
        foreach (var (t, v) in _items) if (t == type) yield return v;
    }

    public ReadOnlyMemory<byte> Get(ushort type)
        => TryGet(type, out var v) ? v : throw new NetlinkProtocolException(_operation, $"attribute {type} is missing from the reply");

    public byte GetU8(ushort type) => Sized(type, 1).Span[0];
    public ushort GetU16(ushort type) => BinaryPrimitives.ReadUInt16LittleEndian(Sized(type, 2).Span);
    public ushort GetU16BigEndian(ushort type) => BinaryPrimitives.ReadUInt16BigEndian(Sized(type, 2).Span);
    public uint GetU32(ushort type) => BinaryPrimitives.ReadUInt32LittleEndian(Sized(type, 4).Span);
    public uint GetU32BigEndian(ushort type) => BinaryPrimitives.ReadUInt32BigEndian(Sized(type, 4).Span);
    public ulong GetU64(ushort type) => BinaryPrimitives.ReadUInt64LittleEndian(Sized(type, 8).Span);

    public uint GetU32OrDefault(ushort type, uint fallback = 0) => Has(type) ? GetU32(type) : fallback;
    public ushort GetU16OrDefault(ushort type, ushort fallback = 0) => Has(type) ? GetU16(type) : fallback;
    public ulong GetU64OrDefault(ushort type, ulong fallback = 0) => Has(type) ? GetU64(type) : fallback;

    public string GetString(ushort type)
        => TryGetString(type, out var s) ? s : throw new NetlinkProtocolException(_operation, $"attribute {type} is missing from the reply");

    public bool TryGetString(ushort type, out string value)
    {
        if (!TryGet(type, out var raw)) { value = string.Empty; return false; }
        ReadOnlySpan<byte> s = raw.Span;
        int nul = s.IndexOf((byte)0);
        value = Encoding.UTF8.GetString(nul >= 0 ? s[..nul] : s);
        return true;
    }

    public NetlinkAttributes GetNested(ushort type) => Parse(Get(type), _operation);

    public bool TryGetNested(ushort type, out NetlinkAttributes nested)
    {
        if (TryGet(type, out var raw)) { nested = Parse(raw, _operation); return true; }
        nested = Parse(ReadOnlyMemory<byte>.Empty, _operation);
        return false;
    }

    /// <summary>Reads an address of the given family; IPVS pads IPv4 into a 16-byte union.</summary>
    public IPAddress GetAddress(ushort type, System.Net.Sockets.AddressFamily family)
    {
        var raw = Get(type).Span;
        int need = family == System.Net.Sockets.AddressFamily.InterNetworkV6 ? 16 : 4;
        if (raw.Length < need)
            throw new NetlinkProtocolException(_operation, $"attribute {type} holds {raw.Length} bytes, too short for an {(need == 4 ? "IPv4" : "IPv6")} address");
        return new IPAddress(raw[..need]);
    }

    private ReadOnlyMemory<byte> Sized(ushort type, int size)
    {
        var v = Get(type);
        if (v.Length < size)
            throw new NetlinkProtocolException(_operation, $"attribute {type} holds {v.Length} bytes, expected {size}");
        return v[..size];
    }
}
