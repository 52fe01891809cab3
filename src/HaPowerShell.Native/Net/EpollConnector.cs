using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace HaPowerShell.Native.Net;

/// <summary>
/// Non-blocking TCP connects watched by one epoll instance, for a checker loop that runs on one
/// thread (keepalived's TCP_CHECK: connect, and when the socket becomes writable read SO_ERROR and
/// close; nothing is sent). Each connect carries a caller-chosen 32-bit token that comes back when it
/// completes. Nothing here allocates per connect: addresses are encoded once into
/// <see cref="EncodeAddress"/> buffers and <see cref="Wait"/> fills a caller's span.
/// struct epoll_event is { u32 events; u64 data } packed to 12 bytes on x86 and x86-64 and
/// naturally aligned (16 bytes, data at offset 8) on the other Linux architectures; the layout is
/// picked at run time.
/// </summary>
public sealed unsafe class EpollConnector : IDisposable
{
    private const int AfInet = 2, AfInet6 = 10, SockStream = 1, SockNonBlock = 0x800, SockCloExec = 0x80000, IpProtoTcp = 6;
    private const int SolSocket = 1, SoError = 4;
    private const int EpollCtlAdd = 1, EpollCloExec = 0x80000;
    private const uint EpollOut = 0x004, EpollErr = 0x008, EpollHup = 0x010, EpollOneShot = 1u << 30;
    private const ulong WakeToken = ulong.MaxValue;

    private static readonly int EventSize = RuntimeInformation.ProcessArchitecture is Architecture.X64 or Architecture.X86 ? 12 : 16;
    private static readonly int EventDataOffset = EventSize - 8;

    private static void WriteEvent(byte* ev, uint events, ulong data)
    {
        new Span<byte>(ev, EventSize).Clear();
        System.Runtime.CompilerServices.Unsafe.WriteUnaligned(ev, events);
        System.Runtime.CompilerServices.Unsafe.WriteUnaligned(ev + EventDataOffset, data);
    }

    [DllImport("libc", SetLastError = true)] private static extern int epoll_create1(int flags);
    [DllImport("libc", SetLastError = true)] private static extern int epoll_ctl(int epfd, int op, int fd, byte* ev);
    [DllImport("libc", SetLastError = true)] private static extern int epoll_wait(int epfd, byte* events, int max, int timeout);
    [DllImport("libc", SetLastError = true)] private static extern int socket(int domain, int type, int protocol);
    [DllImport("libc", SetLastError = true)] private static extern int connect(int fd, byte* addr, int len);
    [DllImport("libc", SetLastError = true)] private static extern int bind(int fd, byte* addr, int len);
    [DllImport("libc", SetLastError = true)] private static extern int getsockopt(int fd, int level, int name, int* value, int* len);
    [DllImport("libc", SetLastError = true)] private static extern int close(int fd);

    private int _epfd;
    private readonly HaPowerShell.Native.Vrrp.WakeupEvent _wake;

    public EpollConnector()
    {
        _epfd = epoll_create1(EpollCloExec);
        if (_epfd < 0) throw new SocketException(Marshal.GetLastPInvokeError());
        try { _wake = new HaPowerShell.Native.Vrrp.WakeupEvent(); }
        catch
        {
            close(_epfd);
            throw;
        }
        byte* ev = stackalloc byte[16];
        WriteEvent(ev, 0x001 /* EPOLLIN */, WakeToken);
        if (epoll_ctl(_epfd, EpollCtlAdd, _wake.Descriptor, ev) < 0)
        {
            int e = Marshal.GetLastPInvokeError();
            Dispose();
            throw new SocketException(e);
        }
    }

    /// <summary>A sockaddr_in / sockaddr_in6 for <paramref name="ep"/>, to pass to <see cref="Begin"/>.</summary>
    public static byte[] EncodeAddress(IPEndPoint ep)
    {
        bool v6 = ep.AddressFamily == AddressFamily.InterNetworkV6;
        var sa = new byte[v6 ? 28 : 16];
        BitConverter.TryWriteBytes(sa.AsSpan(0, 2), (ushort)(v6 ? AfInet6 : AfInet));
        sa[2] = (byte)(ep.Port >> 8);
        sa[3] = (byte)ep.Port;
        if (v6)
        {
            ep.Address.TryWriteBytes(sa.AsSpan(8, 16), out _);
            BitConverter.TryWriteBytes(sa.AsSpan(24, 4), (uint)ep.Address.ScopeId);
        }
        else ep.Address.TryWriteBytes(sa.AsSpan(4, 4), out _);
        return sa;
    }

    /// <summary>
    /// Starts a connect to <paramref name="remote"/> (from <paramref name="bind"/> when not null, port 0).
    /// Returns 0 when it connected at once (the socket is closed again, <paramref name="fd"/> is -1),
    /// <see cref="Errno.EINPROGRESS"/> when it is under way (<paramref name="fd"/> is watched; it comes back
    /// from <see cref="Wait"/> with <paramref name="token"/>), or the errno of the failure (fd -1).
    /// </summary>
    public int Begin(byte[] remote, byte[]? bind, uint token, out int fd)
    {
        fd = -1;
        int family = remote.Length == 28 ? AfInet6 : AfInet;
        int s = socket(family, SockStream | SockNonBlock | SockCloExec, IpProtoTcp);
        if (s < 0) return Marshal.GetLastPInvokeError();
        if (bind is not null)
        {
            fixed (byte* b = bind)
            {
                if (EpollConnector.bind(s, b, bind.Length) < 0) return CloseWith(s, Marshal.GetLastPInvokeError());
            }
        }
        int r;
        fixed (byte* a = remote) r = connect(s, a, remote.Length);
        if (r == 0) { close(s); return 0; }
        int e = Marshal.GetLastPInvokeError();
        if (e != Errno.EINPROGRESS) return CloseWith(s, e);
        byte* ev = stackalloc byte[16];
        WriteEvent(ev, EpollOut | EpollErr | EpollHup | EpollOneShot, token);
        if (epoll_ctl(_epfd, EpollCtlAdd, s, ev) < 0) return CloseWith(s, Marshal.GetLastPInvokeError());
        fd = s;
        return Errno.EINPROGRESS;
    }

    /// <summary>Set in a token <see cref="Wait"/> returns when the kernel reported an error (EPOLLERR/EPOLLHUP) for that connect.</summary>
    public const uint ErrorFlag = 0x8000_0000;

    /// <summary>
    /// Waits up to <paramref name="timeoutMilliseconds"/> (or until <see cref="Wake"/>) and writes the
    /// tokens of the connects that finished into <paramref name="tokens"/>, with <see cref="ErrorFlag"/>
    /// set on those that failed. Returns how many; 0 on timeout or wake-up. Tokens must be below 2^31.
    /// </summary>
    public int Wait(Span<uint> tokens, int timeoutMilliseconds)
    {
        int max = Math.Min(tokens.Length, 1024);
        byte* evs = stackalloc byte[max * EventSize];
        int n = epoll_wait(_epfd, evs, max, timeoutMilliseconds);
        if (n < 0)
        {
            int e = Marshal.GetLastPInvokeError();
            if (e == Errno.EINTR) return 0;
            throw new SocketException(e);
        }
        int k = 0;
        for (int i = 0; i < n; i++)
        {
            byte* e = evs + i * EventSize;
            uint events = System.Runtime.CompilerServices.Unsafe.ReadUnaligned<uint>(e);
            ulong data = System.Runtime.CompilerServices.Unsafe.ReadUnaligned<ulong>(e + EventDataOffset);
            if (data == WakeToken)
            {
                _wake.Reset();
                continue;
            }
            tokens[k++] = (uint)data | ((events & (EpollErr | EpollHup)) != 0 ? ErrorFlag : 0);
        }
        return k;
    }

    /// <summary>
    /// The outcome of a connect <see cref="Wait"/> reported: 0 (connected) or its errno (SO_ERROR, read
    /// only when <paramref name="failed"/>: writable without an error means connected). Closes the socket.
    /// </summary>
    public static int Finish(int fd, bool failed)
    {
        int err = 0, len = sizeof(int);
        if (failed && getsockopt(fd, SolSocket, SoError, &err, &len) < 0) err = Marshal.GetLastPInvokeError();
        if (failed && err == 0) err = Errno.EIO; // an error was signalled but the socket holds none: still a failure
        close(fd);
        return err;
    }

    /// <summary>Gives up a connect under way (its timeout): closes the socket, which also leaves epoll.</summary>
    public static void Abort(int fd) => close(fd);

    /// <summary>Makes a <see cref="Wait"/> in progress (or the next one) return at once. Any thread.</summary>
    public void Wake() => _wake.Set();

    /// <summary>The SocketError name .NET would give for <paramref name="errno"/> ("ConnectionRefused", "TimedOut", ...).</summary>
    public static string ErrorName(int errno) => errno switch
    {
        Errno.ECONNREFUSED => nameof(SocketError.ConnectionRefused),
        Errno.ETIMEDOUT => nameof(SocketError.TimedOut),
        Errno.EHOSTUNREACH => nameof(SocketError.HostUnreachable),
        Errno.ENETUNREACH => nameof(SocketError.NetworkUnreachable),
        Errno.ENETDOWN => nameof(SocketError.NetworkDown),
        Errno.EADDRNOTAVAIL => nameof(SocketError.AddressNotAvailable),
        Errno.EADDRINUSE => nameof(SocketError.AddressAlreadyInUse),
        Errno.EACCES or Errno.EPERM => nameof(SocketError.AccessDenied),
        Errno.ECONNRESET => nameof(SocketError.ConnectionReset),
        Errno.ENOBUFS => nameof(SocketError.NoBufferSpaceAvailable),
        Errno.EMFILE => nameof(SocketError.TooManyOpenSockets),
        _ => Errno.Name(errno),
    };

    private static int CloseWith(int fd, int errno)
    {
        close(fd);
        return errno;
    }

    public void Dispose()
    {
        _wake.Dispose();
        if (_epfd >= 0) { close(_epfd); _epfd = -1; }
    }
}
