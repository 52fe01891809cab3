namespace HaPowerShell.Native.Netlink;

/// <summary>
/// Many requests laid out back to back in one buffer, each padded to 4 bytes, as they go out in a pipelined
/// sendmsg: <see cref="NetlinkSocket.ExecuteBatch(NetlinkRequestBatch, string, int)"/> fills in each header's
/// sequence, port id and ACK flag in place and sends a chunk straight from this buffer. A batch of 30,000 IPVS
/// changes is then two growing arrays instead of 30,000 arrays copied once more into the socket's buffer.
/// </summary>
public sealed class NetlinkRequestBatch
{
    private byte[] _buffer;
    private int _length;
    private int[] _starts;
    private int _count;

    public NetlinkRequestBatch(int capacityBytes = 4096, int capacityRequests = 32)
    {
        _buffer = new byte[Math.Max(capacityBytes, NetlinkLayout.HeaderSize)];
        _starts = new int[Math.Max(capacityRequests, 1) + 1];
    }

    /// <summary>How many requests the batch holds.</summary>
    public int Count => _count;

    /// <summary>Appends a copy of one request (a whole netlink message, header first), padded to 4 bytes.</summary>
    public void Add(ReadOnlySpan<byte> request)
    {
        NetlinkHeader.Read(request); // a request has a header
        int padded = NetlinkLayout.Align(request.Length);
        if (_length + padded > _buffer.Length) Array.Resize(ref _buffer, Math.Max(_length + padded, _buffer.Length * 2));
        if (_count + 2 > _starts.Length) Array.Resize(ref _starts, _starts.Length * 2);
        request.CopyTo(_buffer.AsSpan(_length));
        _buffer.AsSpan(_length + request.Length, padded - request.Length).Clear();
        _starts[_count++] = _length;
        _length += padded;
        _starts[_count] = _length;
    }

    /// <summary>Where request <paramref name="index"/> starts; <see cref="Count"/> gives the end of the last.</summary>
    internal int Start(int index) => _starts[index];

    /// <summary>The padded bytes of requests [<paramref name="first"/>, <paramref name="end"/>).</summary>
    internal Span<byte> Span(int first, int end) => _buffer.AsSpan(_starts[first], _starts[end] - _starts[first]);

    /// <summary>Request <paramref name="index"/> as sent (padding included).</summary>
    internal Span<byte> Request(int index) => Span(index, index + 1);
}
