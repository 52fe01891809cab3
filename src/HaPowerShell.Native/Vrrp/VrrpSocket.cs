using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using HaPowerShell.Native.Packet;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace HaPowerShell.Native.Vrrp;

/// <summary>One datagram received on a <see cref="VrrpSocket"/>.</summary>
/// <param name="Data">IPv4: the whole IP datagram (header included, as a raw IPv4 socket delivers it). IPv6: the VRRP message only.</param>
/// <param name="Source">The sender.</param>
/// <param name="Destination">The destination address (IP_PKTINFO / IPV6_PKTINFO), null when the kernel did not say.</param>
/// <param name="HopLimit">The received TTL / hop limit (IP_RECVTTL / IPV6_RECVHOPLIMIT), -1 when the kernel did not say.</param>
/// <param name="InterfaceIndex">The interface it arrived on (0 when unknown).</param>
/// <param name="ArrivalUnixNanoseconds">When the kernel received it (SO_TIMESTAMPNS, CLOCK_REALTIME), 0 when it did not say.</param>
public sealed record VrrpDatagram(byte[] Data, IPAddress Source, IPAddress? Destination, int HopLimit, int InterfaceIndex, long ArrivalUnixNanoseconds = 0);

/// <summary>
/// Raw IP sockets for VRRP (IP protocol 112) on one interface, one address family. There are two
/// file descriptors, as keepalived has: the receive socket is bound to the interface
/// (SO_BINDTODEVICE), joins 224.0.0.18 / ff02::12 and asks for the TTL / hop limit and the
/// destination of every packet; the send socket is bound to the interface and to the source address
/// (so the kernel uses exactly the address the VRRPv3 checksum was computed with), sends with TTL /
/// hop limit 255 and does not loop multicast back. Binding the receive socket to an address would
/// make the kernel drop multicast, hence the split. Needs CAP_NET_RAW.
/// </summary>
public sealed unsafe class VrrpSocket : IDisposable
{
    public const int ProtocolVrrp = 112;

    // Linux values (include/uapi/linux/in.h, in6.h, asm-generic/socket.h).
    private const int SolSocket = ControlMessages.SolSocket, SoBindToDevice = 25, SoRcvBuf = 8, SoTimestampNs = ControlMessages.SoTimestampNs;
    private const int SolIp = 0, IpTtl = 2, IpPktInfo = 8, IpRecvTtl = 12, IpMulticastIf = 32, IpMulticastTtl = 33, IpMulticastLoop = 34, IpAddMembership = 35;
    private const int SolIpv6 = 41, Ipv6UnicastHops = 16, Ipv6MulticastIf = 17, Ipv6MulticastHops = 18, Ipv6MulticastLoop = 19, Ipv6AddMembership = 20,
        Ipv6RecvPktInfo = 49, Ipv6PktInfo = 50, Ipv6RecvHopLimit = 51, Ipv6HopLimit = 52;
    private const int Ipv6Checksum = 7, Ipv6TClass = 67;

    private readonly object _sendLock = new();
    private readonly byte[] _buffer = new byte[65536];
    private int _recvFd, _sendFd;

    private VrrpSocket(int recvFd, int sendFd, int ifindex, string ifname, AddressFamily family, IPAddress source)
    {
        _recvFd = recvFd;
        _sendFd = sendFd;
        InterfaceIndex = ifindex;
        InterfaceName = ifname;
        AddressFamily = family;
        SourceAddress = source;
    }

    public int InterfaceIndex { get; }
    public string InterfaceName { get; }
    public AddressFamily AddressFamily { get; }
    public IPAddress SourceAddress { get; }

    /// <summary>The receive file descriptor, for a driver that polls several sockets at once.</summary>
    public int ReceiveDescriptor => _recvFd;

    /// <summary>Datagrams skipped because they did not fit the buffer.</summary>
    public long TruncatedDatagrams { get; private set; }

    /// <summary>
    /// Opens the socket pair on <paramref name="interfaceName"/>. With <paramref name="joinMulticast"/> the
    /// receive socket joins the VRRP group of the family (224.0.0.18 or ff02::12); unicast instances leave it off.
    /// </summary>
    public static VrrpSocket Open(int interfaceIndex, string interfaceName, AddressFamily family, IPAddress sourceAddress, bool joinMulticast)
    {
        if (interfaceIndex <= 0) throw new ArgumentOutOfRangeException(nameof(interfaceIndex));
        if (family is not (AddressFamily.InterNetwork or AddressFamily.InterNetworkV6)) throw new ArgumentOutOfRangeException(nameof(family));
        if (sourceAddress.AddressFamily != family) throw new ArgumentException("The source address is not of the socket's family.", nameof(sourceAddress));
        bool v6 = family == AddressFamily.InterNetworkV6;
        int af = v6 ? AF_INET6 : AF_INET;
        int recvFd = -1, sendFd = -1;
        try
        {
            recvFd = socket(af, SOCK_RAW | SOCK_CLOEXEC, ProtocolVrrp);
            if (recvFd < 0) throw new PacketSocketException($"open raw VRRP socket on {interfaceName}", errno);
            BindToDevice(recvFd, interfaceName);
            SetInt(recvFd, SolSocket, SoRcvBuf, 256 * 1024, interfaceName, "SO_RCVBUF", optional: true);
            // The kernel's receive time of each advert: the Master_Down timer starts from the advert's arrival,
            // not from when this process got round to reading it.
            SetInt(recvFd, SolSocket, SoTimestampNs, 1, interfaceName, "SO_TIMESTAMPNS", optional: true);
            if (v6)
            {
                SetInt(recvFd, SolIpv6, Ipv6RecvHopLimit, 1, interfaceName, "IPV6_RECVHOPLIMIT");
                SetInt(recvFd, SolIpv6, Ipv6RecvPktInfo, 1, interfaceName, "IPV6_RECVPKTINFO");
                if (joinMulticast)
                {
                    byte* mreq = stackalloc byte[20];
                    new Span<byte>(mreq, 20).Clear();
                    IPAddress.Parse("ff02::12").TryWriteBytes(new Span<byte>(mreq, 16), out _);
                    *(int*)(mreq + 16) = interfaceIndex;
                    if (setsockopt(recvFd, SolIpv6, Ipv6AddMembership, mreq, 20) < 0)
                        throw new PacketSocketException($"join ff02::12 on {interfaceName}", errno);
                }
            }
            else
            {
                SetInt(recvFd, SolIp, IpRecvTtl, 1, interfaceName, "IP_RECVTTL");
                SetInt(recvFd, SolIp, IpPktInfo, 1, interfaceName, "IP_PKTINFO");
                if (joinMulticast)
                {
                    byte* mreq = stackalloc byte[12];
                    WriteMreqn(mreq, IPAddress.Parse("224.0.0.18"), interfaceIndex);
                    if (setsockopt(recvFd, SolIp, IpAddMembership, mreq, 12) < 0)
                        throw new PacketSocketException($"join 224.0.0.18 on {interfaceName}", errno);
                }
            }

            sendFd = socket(af, SOCK_RAW | SOCK_CLOEXEC, ProtocolVrrp);
            if (sendFd < 0) throw new PacketSocketException($"open raw VRRP socket on {interfaceName}", errno);
            BindToDevice(sendFd, interfaceName);
            if (v6)
            {
                SetInt(sendFd, SolIpv6, Ipv6MulticastHops, 255, interfaceName, "IPV6_MULTICAST_HOPS");
                SetInt(sendFd, SolIpv6, Ipv6UnicastHops, 255, interfaceName, "IPV6_UNICAST_HOPS");
                SetInt(sendFd, SolIpv6, Ipv6MulticastLoop, 0, interfaceName, "IPV6_MULTICAST_LOOP");
                SetInt(sendFd, SolIpv6, Ipv6MulticastIf, interfaceIndex, interfaceName, "IPV6_MULTICAST_IF");
                // Traffic class 0xc0 (network control), as keepalived sends its IPv6 adverts.
                SetInt(sendFd, SolIpv6, Ipv6TClass, 0xc0, interfaceName, "IPV6_TCLASS", optional: true);
                // The engine fills in the checksum itself; make sure the kernel leaves it alone.
                SetInt(sendFd, SolIpv6, Ipv6Checksum, -1, interfaceName, "IPV6_CHECKSUM", optional: true);
                byte* sa = stackalloc byte[28];
                WriteSockaddrIn6(sa, sourceAddress, 0, IsLinkLocal(sourceAddress) ? (uint)interfaceIndex : 0);
                if (bind(sendFd, (sockaddr*)sa, 28) < 0)
                    throw new PacketSocketException($"bind VRRP socket to {sourceAddress} on {interfaceName}", errno);
            }
            else
            {
                SetInt(sendFd, SolIp, IpMulticastTtl, 255, interfaceName, "IP_MULTICAST_TTL");
                SetInt(sendFd, SolIp, IpTtl, 255, interfaceName, "IP_TTL");
                SetInt(sendFd, SolIp, IpMulticastLoop, 0, interfaceName, "IP_MULTICAST_LOOP");
                byte* mreq = stackalloc byte[12];
                WriteMreqn(mreq, IPAddress.Any, interfaceIndex);
                if (setsockopt(sendFd, SolIp, IpMulticastIf, mreq, 12) < 0)
                    throw new PacketSocketException($"set IP_MULTICAST_IF on {interfaceName}", errno);
                byte* sa = stackalloc byte[16];
                WriteSockaddrIn(sa, sourceAddress);
                if (bind(sendFd, (sockaddr*)sa, 16) < 0)
                    throw new PacketSocketException($"bind VRRP socket to {sourceAddress} on {interfaceName}", errno);
            }
            return new VrrpSocket(recvFd, sendFd, interfaceIndex, interfaceName, family, sourceAddress);
        }
        catch
        {
            if (recvFd >= 0) close(recvFd);
            if (sendFd >= 0) close(sendFd);
            throw;
        }
    }

    private const int MsgProbe = 0x10; // linux/socket.h: do not send, only probe the path

    /// <summary>
    /// Sends one VRRP message (no IP header: the kernel adds it, from the bound source address, TTL 255). With
    /// <paramref name="probe"/> the kernel does everything but transmit (MSG_PROBE: route lookup, no packet):
    /// a takeover rehearsal runs the whole send path that way, syscall included.
    /// </summary>
    public void Send(IPAddress destination, ReadOnlySpan<byte> message, bool probe = false)
    {
        if (destination.AddressFamily != AddressFamily) throw new ArgumentException("Destination family differs from the socket's.", nameof(destination));
        lock (_sendLock)
        {
            ObjectDisposedException.ThrowIf(_sendFd < 0, this);
            byte* sa = stackalloc byte[28];
            uint len;
            if (AddressFamily == AddressFamily.InterNetworkV6)
            {
                WriteSockaddrIn6(sa, destination, 0, destination.IsIPv6Multicast || IsLinkLocal(destination) ? (uint)InterfaceIndex : 0);
                len = 28;
            }
            else
            {
                WriteSockaddrIn(sa, destination);
                len = 16;
            }
            int busy = 0;
            fixed (byte* p = message)
            {
                while (true)
                {
                    long n = sendto(_sendFd, p, (size_t)(ulong)message.Length, probe ? MsgProbe : 0, (sockaddr*)sa, len);
                    if (n >= 0) return;
                    int e = errno;
                    if (e == Errno.EINTR) continue;
                    if ((e == Errno.ENOBUFS || e == Errno.EAGAIN) && busy++ < 20) { Thread.Sleep(1); continue; }
                    throw new PacketSocketException($"send VRRP advertisement to {destination} on {InterfaceName}", e);
                }
            }
        }
    }

    /// <summary>Waits up to <paramref name="timeout"/> for one datagram; null on timeout.</summary>
    public VrrpDatagram? Receive(TimeSpan timeout)
    {
        var deadline = Deadline.After(timeout);
        while (true)
        {
            int revents = Poll.Wait(_recvFd, deadline);
            if (revents < 0) throw new PacketSocketException($"wait for VRRP on {InterfaceName}", -revents);
            if (revents == 0) return null;
            var d = TryReceive();
            if (d is not null) return d;
            if (deadline.HasPassed) return null;
        }
    }

    /// <summary>Reads one datagram if one is queued (non-blocking); null when none is.</summary>
    public VrrpDatagram? TryReceive()
    {
        ObjectDisposedException.ThrowIf(_recvFd < 0, this);
        byte* control = stackalloc byte[256];
        byte* from = stackalloc byte[28];
        while (true)
        {
            fixed (byte* buf = _buffer)
            {
                var iov = new iovec { iov_base = buf, iov_len = (size_t)(ulong)_buffer.Length };
                var msg = new msghdr
                {
                    msg_name = from,
                    msg_namelen = 28,
                    msg_iov = &iov,
                    msg_iovlen = 1,
                    msg_control = control,
                    msg_controllen = 256,
                };
                long n = recvmsg(_recvFd, &msg, MSG_TRUNC | MSG_DONTWAIT);
                if (n < 0)
                {
                    int e = errno;
                    if (e == Errno.EINTR) continue;
                    if (e == Errno.EAGAIN) return null;
                    throw new PacketSocketException($"receive VRRP on {InterfaceName}", e);
                }
                if ((msg.msg_flags & MSG_TRUNC) != 0 || n > _buffer.Length) { TruncatedDatagrams++; continue; }
                var data = _buffer.AsSpan(0, (int)n).ToArray();
                IPAddress source = ReadSockaddr(from, AddressFamily);
                ParseControl(control, (long)(ulong)msg.msg_controllen, out var dst, out int hops, out int ifindex, out long arrival);
                return new VrrpDatagram(data, source, dst, hops, ifindex, arrival);
            }
        }
    }

    private void ParseControl(byte* control, long length, out IPAddress? destination, out int hopLimit, out int ifindex, out long arrivalUnixNanoseconds)
    {
        destination = null;
        hopLimit = -1;
        ifindex = 0;
        arrivalUnixNanoseconds = 0;
        long offset = 0;
        while (ControlMessages.Next(control, length, ref offset, out int level, out int type, out byte* data, out long dataLen))
        {
            if (level == SolSocket && type == SoTimestampNs)
                ControlMessages.TryReadTimestamp(data, dataLen, out arrivalUnixNanoseconds);
            else if (level == SolIp && type == IpTtl && dataLen >= 4) hopLimit = *(int*)data;
            else if (level == SolIp && type == IpPktInfo && dataLen >= 12)
            {
                ifindex = *(int*)data;
                destination = new IPAddress(new ReadOnlySpan<byte>(data + 8, 4));
            }
            else if (level == SolIpv6 && type == Ipv6HopLimit && dataLen >= 4) hopLimit = *(int*)data;
            else if (level == SolIpv6 && type == Ipv6PktInfo && dataLen >= 20)
            {
                destination = new IPAddress(new ReadOnlySpan<byte>(data, 16));
                ifindex = *(int*)(data + 16);
            }
        }
    }

    private static IPAddress ReadSockaddr(byte* sa, AddressFamily family)
        => family == AddressFamily.InterNetworkV6
            ? new IPAddress(new ReadOnlySpan<byte>(sa + 8, 16))
            : new IPAddress(new ReadOnlySpan<byte>(sa + 4, 4));

    private static bool IsLinkLocal(IPAddress a) => a.AddressFamily == AddressFamily.InterNetworkV6 && (a.IsIPv6LinkLocal || a.IsIPv6Multicast);

    private static void WriteSockaddrIn(byte* sa, IPAddress address)
    {
        var s = new Span<byte>(sa, 16);
        s.Clear();
        BinaryPrimitives.WriteUInt16LittleEndian(s, (ushort)AF_INET);
        address.TryWriteBytes(s.Slice(4, 4), out _);
    }

    private static void WriteSockaddrIn6(byte* sa, IPAddress address, ushort port, uint scope)
    {
        var s = new Span<byte>(sa, 28);
        s.Clear();
        BinaryPrimitives.WriteUInt16LittleEndian(s, (ushort)AF_INET6);
        BinaryPrimitives.WriteUInt16BigEndian(s.Slice(2), port);
        address.TryWriteBytes(s.Slice(8, 16), out _);
        BinaryPrimitives.WriteUInt32LittleEndian(s.Slice(24), scope);
    }

    private static void WriteMreqn(byte* mreq, IPAddress group, int ifindex)
    {
        var s = new Span<byte>(mreq, 12);
        s.Clear();
        group.TryWriteBytes(s.Slice(0, 4), out _);
        BinaryPrimitives.WriteInt32LittleEndian(s.Slice(8), ifindex);
    }

    private static void BindToDevice(int fd, string name)
    {
        var bytes = System.Text.Encoding.ASCII.GetBytes(name + "\0");
        fixed (byte* p = bytes)
            if (setsockopt(fd, SolSocket, SoBindToDevice, p, (uint)bytes.Length) < 0)
                throw new PacketSocketException($"bind VRRP socket to interface {name}", errno);
    }

    private static void SetInt(int fd, int level, int option, int value, string ifname, string what, bool optional = false)
    {
        if (setsockopt(fd, level, option, &value, sizeof(int)) < 0 && !optional)
            throw new PacketSocketException($"set {what} on the VRRP socket for {ifname}", errno);
    }

    public void Dispose()
    {
        lock (_sendLock)
        {
            if (_sendFd >= 0) { close(_sendFd); _sendFd = -1; }
            if (_recvFd >= 0) { close(_recvFd); _recvFd = -1; }
        }
    }
}
