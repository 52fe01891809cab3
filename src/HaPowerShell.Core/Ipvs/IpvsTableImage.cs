using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace HaPowerShell.Core.Ipvs;

/// <summary>
/// Each service of a table written once as bytes, one run after the other: its identity, every setting
/// <see cref="IpvsPlanner"/> compares and its real servers in order with theirs, as they are (not normalised). Two
/// services whose runs are equal are the same service with the same settings and real servers, so no operation is
/// needed between them: a reload's difference of two 10,000-service configurations that differ in a few
/// (<see cref="IpvsPlanner.PlanDistinct"/>) compares two byte runs per service, read in order, instead of walking both
/// object graphs (a service, its address, its real-server list and each real server with its address, on each side).
/// Runs that differ say nothing: those services are compared field by field. An image is of the services as they were
/// when it was made (a keepalived configuration's plan, whose services nothing changes afterwards).
/// </summary>
internal sealed class IpvsTableImage
{
    private readonly byte[] _bytes;
    private readonly int[] _ends;

    private IpvsTableImage(byte[] bytes, int[] ends)
    {
        _bytes = bytes;
        _ends = ends;
    }

    public static IpvsTableImage Empty { get; } = new(Array.Empty<byte>(), Array.Empty<int>());

    /// <summary>How many services the image holds (the list's count).</summary>
    public int Count => _ends.Length;

    /// <summary>The run of the service at <paramref name="index"/>.</summary>
    public ReadOnlySpan<byte> this[int index]
    {
        get
        {
            int start = index == 0 ? 0 : _ends[index - 1];
            return _bytes.AsSpan(start, _ends[index] - start);
        }
    }

    /// <summary>True when service <paramref name="i"/> of <paramref name="a"/> and <paramref name="j"/> of <paramref name="b"/> are written alike.</summary>
    public static bool Same(IpvsTableImage a, int i, IpvsTableImage b, int j) => a[i].SequenceEqual(b[j]);

    /// <summary>The image of <paramref name="services"/> (no service or real server null).</summary>
    public static IpvsTableImage Of(IReadOnlyList<IpvsService> services)
    {
        ArgumentNullException.ThrowIfNull(services);
        var b = new Builder(services.Count);
        foreach (var s in services) b.Add(s);
        return b.ToImage();
    }

    /// <summary>
    /// Writes services one by one, each as it is made (its objects are then still in the processor's cache), in the
    /// order of the list the image is of.
    /// </summary>
    public sealed class Builder
    {
        private Writer _w;
        private readonly List<int> _ends;

        public Builder(int expected)
        {
            _w = new Writer(Math.Max(expected, 1) * 112);
            _ends = new List<int>(expected);
        }

        public void Add(IpvsService service)
        {
            Write(ref _w, service ?? throw new ArgumentException("The list contains a null service.", nameof(service)));
            _ends.Add(_w.Length);
        }

        public IpvsTableImage ToImage() => _ends.Count == 0 ? Empty : new IpvsTableImage(_w.ToArray(), _ends.ToArray());
    }

    private static void Write(ref Writer w, IpvsService s)
    {
        w.U32(s.FirewallMark);
        w.U16((ushort)s.AddressFamily);
        w.U32(s.Protocol is { } p ? (uint)p : uint.MaxValue);
        w.Address(s.Address);
        w.U16(s.Port);
        w.Text(s.Scheduler);
        w.U32(s.PersistenceTimeout);
        w.Text(s.PersistenceNetmask);
        w.Text(s.PersistenceEngine);
        w.U8(s.OnePacket ? (byte)1 : (byte)0);
        if (s.SchedulerFlag is not { } flags) w.U32(uint.MaxValue);
        else
        {
            w.U32((uint)flags.Length);
            foreach (var f in flags) w.Text(f);
        }
        if (s.RealServers is not { } list) { w.U32(uint.MaxValue); return; }
        w.U32((uint)list.Count);
        foreach (var r in list)
        {
            if (r is null) throw new ArgumentException($"Service {s} has a null real server.", nameof(s));
            w.Address(r.Address);
            w.U16(r.Port);
            w.U32((uint)r.ForwardingMethod);
            w.U32((uint)r.Weight);
            w.U32(r.UpperThreshold);
            w.U32(r.LowerThreshold);
            w.U16(r.TunnelType is { } t ? (ushort)t : (ushort)0x100); // the enum is a byte: 0x100 is none
            w.U16(r.TunnelPort);
            w.U16((ushort)r.TunnelChecksum);
        }
    }

    /// <summary>A growing byte buffer; each value is written with a width or length, so two writes compare equal only when their values do.</summary>
    private struct Writer
    {
        private byte[] _buf;
        public int Length;

        public Writer(int capacity) { _buf = new byte[Math.Max(capacity, 64)]; Length = 0; }

        private Span<byte> Take(int n)
        {
            if (Length + n > _buf.Length) Array.Resize(ref _buf, Math.Max(_buf.Length * 2, Length + n));
            var span = _buf.AsSpan(Length, n);
            Length += n;
            return span;
        }

        public void U8(byte v) => Take(1)[0] = v;

        public void U16(ushort v) => BinaryPrimitives.WriteUInt16LittleEndian(Take(2), v);

        public void U32(uint v) => BinaryPrimitives.WriteUInt32LittleEndian(Take(4), v);

        public void Text(string? s)
        {
            if (s is null) { U32(uint.MaxValue); return; }
            U32((uint)s.Length);
            MemoryMarshal.AsBytes(s.AsSpan()).CopyTo(Take(s.Length * 2));
        }

        /// <summary>Family, the address's bytes and, for IPv6, its scope (IPAddress equality includes it).</summary>
        public void Address(IPAddress? a)
        {
            if (a is null) { U16(ushort.MaxValue); return; }
            U16((ushort)a.AddressFamily);
            var span = Take(a.AddressFamily == AddressFamily.InterNetworkV6 ? 16 : 4);
            if (!a.TryWriteBytes(span, out int written) || written != span.Length)
                throw new ArgumentException($"The address {a} is neither IPv4 nor IPv6.");
            if (a.AddressFamily == AddressFamily.InterNetworkV6) BinaryPrimitives.WriteInt64LittleEndian(Take(8), a.ScopeId);
        }

        public byte[] ToArray() => _buf.AsSpan(0, Length).ToArray();
    }
}
