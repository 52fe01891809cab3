using System.Buffers.Binary;
using System.Diagnostics;
using System.Runtime.InteropServices;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace HaPowerShell.Native.Packet;

/// <summary>
/// An AF_PACKET / SOCK_RAW socket bound to one interface: it sends whole Ethernet frames we built
/// (so the sender MAC, opcode and every ARP/NDP field are exactly ours) and receives whole frames
/// of one EtherType with the kernel's receive timestamp (SO_TIMESTAMPNS). There is no BPF filter:
/// the socket is bound to one EtherType on one ifindex, and callers filter further in code.
/// Frames this host sent are skipped (PACKET_IGNORE_OUTGOING where the kernel has it, and the
/// PACKET_OUTGOING type in code). Needs CAP_NET_RAW.
/// </summary>
/// <remarks>
/// IPv6 Neighbor Advertisements and Solicitations go through this socket as well (EtherType
/// 0x86DD) rather than through an ICMPv6 raw socket: it lets us announce an address that is not
/// (yet) configured, fixes the hop limit at 255 in bytes we build and test, and keeps one code path
/// for both families.
/// </remarks>
public sealed unsafe class PacketSocket : IFrameChannel
{
    public const ushort EthPArp = 0x0806, EthPIpv6 = 0x86DD;
    private const int PacketIgnoreOutgoing = 23;
    private const int MaxFrame = 65536;

    [StructLayout(LayoutKind.Sequential)]
    private struct SockaddrLl
    {
        public ushort Family;
        public ushort Protocol;   // network byte order
        public int IfIndex;
        public ushort HaType;
        public byte PktType;
        public byte HaLen;
        public fixed byte Addr[8];
    }

    private readonly object _sync = new();
    private readonly byte[] _buffer = new byte[MaxFrame];
    private int _fd = -1;

    private PacketSocket(int fd, int interfaceIndex, string interfaceName, ushort protocol)
    {
        _fd = fd;
        InterfaceIndex = interfaceIndex;
        InterfaceName = interfaceName;
        Protocol = protocol;
    }

    public int InterfaceIndex { get; }
    public string InterfaceName { get; }

    /// <summary>The EtherType this socket receives; 0 for a send-only socket.</summary>
    public ushort Protocol { get; }

    /// <summary>Frames skipped because they were truncated by the buffer (should stay 0 for ARP/NDP).</summary>
    public long TruncatedFramesDropped { get; private set; }

    /// <summary>
    /// While set, <see cref="Send"/> runs its whole path, the sendto call included, but addresses the frame to
    /// interface index 0, which the kernel refuses (ENXIO) before it builds a packet: nothing is transmitted.
    /// For warming a send path ahead of time (a VRRP backup's first gratuitous ARP).
    /// </summary>
    public bool ProbeOnly { get; set; }

    /// <summary>
    /// Opens a packet socket on <paramref name="interfaceIndex"/>. With <paramref name="protocol"/> 0 it
    /// only sends (the kernel queues nothing for it); otherwise it receives frames of that EtherType
    /// arriving on that interface only (the socket is created unbound, so nothing from other
    /// interfaces is queued before bind).
    /// </summary>
    public static PacketSocket Open(int interfaceIndex, string interfaceName, ushort protocol)
    {
        if (interfaceIndex <= 0) throw new ArgumentOutOfRangeException(nameof(interfaceIndex));
        int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
        if (fd < 0) throw new PacketSocketException($"open packet socket on {interfaceName}", errno);
        try
        {
            var addr = new SockaddrLl { Family = (ushort)AF_PACKET, Protocol = HostToNetwork(protocol), IfIndex = interfaceIndex };
            if (bind(fd, (sockaddr*)&addr, (uint)sizeof(SockaddrLl)) < 0)
                throw new PacketSocketException($"bind packet socket to {interfaceName} (ifindex {interfaceIndex})", errno);
            if (protocol != 0)
            {
                int one = 1;
                // Kernel receive timestamps for round-trip times; best effort (falls back to read time).
                setsockopt(fd, SOL_SOCKET, ControlMessages.SoTimestampNs, &one, sizeof(int));
                // Linux 4.20+: do not queue our own transmissions at all; older kernels: filtered below.
                setsockopt(fd, SOL_PACKET, PacketIgnoreOutgoing, &one, sizeof(int));
            }
            return new PacketSocket(fd, interfaceIndex, interfaceName, protocol);
        }
        catch
        {
            close(fd);
            throw;
        }
    }

    /// <inheritdoc />
    public DateTime Send(ReadOnlySpan<byte> frame)
    {
        if (frame.Length < 14) throw new ArgumentException("An Ethernet frame has at least 14 bytes.", nameof(frame));
        lock (_sync)
        {
            ObjectDisposedException.ThrowIf(_fd < 0, this);
            var addr = new SockaddrLl
            {
                Family = (ushort)AF_PACKET,
                Protocol = HostToNetwork(BinaryPrimitives.ReadUInt16BigEndian(frame[12..])),
                IfIndex = ProbeOnly ? 0 : InterfaceIndex,
                HaLen = 6,
            };
            for (int i = 0; i < 6; i++) addr.Addr[i] = frame[i];
            int busy = 0;
            // Stamped before the call: on veth and loopback-like links the answer can be queued for
            // us before sendto() even returns (arping stamps before sending too).
            DateTime before = DateTime.UtcNow;
            fixed (byte* p = frame)
            {
                while (true)
                {
                    long n = sendto(_fd, p, (size_t)(ulong)frame.Length, 0, (sockaddr*)&addr, (uint)sizeof(SockaddrLl));
                    if (n >= 0) return before;
                    int e = errno;
                    if (e == Errno.EINTR) continue;
                    if (ProbeOnly && e == Errno.ENXIO) return before;
                    // A full device queue during a burst: give it a moment, a bounded number of times.
                    if ((e == Errno.ENOBUFS || e == Errno.EAGAIN) && busy++ < 200) { Thread.Sleep(1); before = DateTime.UtcNow; continue; }
                    throw new PacketSocketException($"send frame on {InterfaceName}", e);
                }
            }
        }
    }

    /// <inheritdoc />
    public ReceivedFrame? Receive(TimeSpan timeout)
    {
        if (Protocol == 0) throw new InvalidOperationException("This packet socket was opened for sending only.");
        var deadline = Deadline.After(timeout);
        lock (_sync)
        {
            ObjectDisposedException.ThrowIf(_fd < 0, this);
            byte* control = stackalloc byte[128];
            while (true)
            {
                int revents = Poll.Wait(_fd, deadline);
                if (revents < 0) throw new PacketSocketException($"wait for frames on {InterfaceName}", -revents);
                if (revents == 0) return null;
                if ((revents & (POLLERR | POLLNVAL)) != 0 && (revents & POLLIN) == 0)
                    throw new PacketSocketException($"wait for frames on {InterfaceName}", Errno.EIO);

                SockaddrLl from;
                long n;
                int msgFlags;
                fixed (byte* buf = _buffer)
                {
                    var iov = new iovec { iov_base = buf, iov_len = (size_t)(ulong)_buffer.Length };
                    var msg = new msghdr
                    {
                        msg_name = &from,
                        msg_namelen = (uint)sizeof(SockaddrLl),
                        msg_iov = &iov,
                        msg_iovlen = 1,
                        msg_control = control,
                        msg_controllen = 128,
                    };
                    n = recvmsg(_fd, &msg, MSG_TRUNC | MSG_DONTWAIT);
                    msgFlags = msg.msg_flags;
                    if (n < 0)
                    {
                        int e = errno;
                        if (e == Errno.EINTR || e == Errno.EAGAIN) continue;
                        throw new PacketSocketException($"receive frame on {InterfaceName}", e);
                    }
                    long mono = Stopwatch.GetTimestamp();
                    if ((msgFlags & MSG_TRUNC) != 0 || n > _buffer.Length) { TruncatedFramesDropped++; continue; }
                    var direction = (FrameDirection)from.PktType;
                    if (direction == FrameDirection.Outgoing) continue;
                    DateTime stamp = ReadTimestamp(control, (long)(ulong)msg.msg_controllen) ?? DateTime.UtcNow;
                    return new ReceivedFrame(_buffer.AsSpan(0, (int)n).ToArray(), direction, stamp, mono);
                }
            }
        }
    }

    private static DateTime? ReadTimestamp(byte* control, long length)
    {
        long offset = 0;
        while (ControlMessages.Next(control, length, ref offset, out int level, out int type, out byte* data, out long dataLength))
        {
            if (level == ControlMessages.SolSocket && type == ControlMessages.SoTimestampNs
                && ControlMessages.TryReadTimestamp(data, dataLength, out long ns))
                return DateTime.UnixEpoch.AddTicks(ns / 100);
        }
        return null;
    }

    private static ushort HostToNetwork(ushort v) => BitConverter.IsLittleEndian ? BinaryPrimitives.ReverseEndianness(v) : v;

    public void Dispose()
    {
        lock (_sync)
        {
            if (_fd >= 0) { close(_fd); _fd = -1; }
        }
    }
}
