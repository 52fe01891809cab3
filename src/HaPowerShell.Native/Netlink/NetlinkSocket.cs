using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace HaPowerShell.Native.Netlink;

/// <summary>
/// A bound netlink socket that runs request/response exchanges: it stamps sequence numbers,
/// checks that replies carry our sequence and port id, gathers multipart dumps until NLMSG_DONE,
/// turns NLMSG_ERROR into <see cref="NetlinkException"/>, detects truncated datagrams (MSG_TRUNC),
/// and bounds every wait by <see cref="ReceiveTimeout"/>. One exchange runs at a time; callers on
/// several threads are serialised by a lock, so an instance can be shared.
/// </summary>
public sealed unsafe class NetlinkSocket : IDisposable
{
    /// <summary>Smallest receive buffer we use: the kernel sends dump parts of up to 32 KiB.</summary>
    public const int MinimumReceiveBufferSize = 64 * 1024;

    private readonly object _sync = new();
    private readonly int _protocol;
    private int _fd;
    private uint _sequence;
    private byte[] _receiveBuffer;

    [StructLayout(LayoutKind.Sequential)]
    private struct SockaddrNl
    {
        public ushort Family;
        public ushort Pad;
        public uint PortId;
        public uint Groups;
    }

    public NetlinkSocket(int protocol, int receiveBufferSize = MinimumReceiveBufferSize, int kernelReceiveBuffer = 4 * 1024 * 1024)
        : this(protocol, Math.Max(receiveBufferSize, MinimumReceiveBufferSize), kernelReceiveBuffer, allowSmallBuffer: true) { }

    /// <summary>
    /// A socket for many small dumps (e.g. the real servers of each of 10,000 services): it reads
    /// with a page-sized buffer. The kernel sizes every dump reply buffer by the largest read seen
    /// on the socket (up to 32 KiB), so a socket that reads 64 KiB at a time makes each pass of
    /// each tiny dump allocate 32 KiB; reading a page at a time keeps those allocations to one
    /// page (NLMSG_GOODSIZE, which every dump reply fits). Measured in the kernel-lab VM on
    /// 10,000 per-service real-server dumps: 1.6-2.8 s instead of 2.8-4.5 s.
    /// </summary>
    public static NetlinkSocket ForSmallDumps(int protocol)
        => new(protocol, Math.Min(Environment.SystemPageSize, 8192), 1024 * 1024, allowSmallBuffer: true);

    /// <summary>Allows a receive buffer below the 64 KiB floor (small-dump sockets; tests provoke MSG_TRUNC with it).</summary>
    internal NetlinkSocket(int protocol, int receiveBufferSize, int kernelReceiveBuffer, bool allowSmallBuffer)
    {
        _protocol = protocol;
        _receiveBuffer = new byte[allowSmallBuffer ? receiveBufferSize : Math.Max(receiveBufferSize, MinimumReceiveBufferSize)];
        _fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, protocol);
        if (_fd < 0) throw new NetlinkException($"open netlink socket (protocol {protocol})", errno);
        try
        {
            var addr = new SockaddrNl { Family = (ushort)AF_NETLINK };
            if (bind(_fd, (sockaddr*)&addr, (uint)sizeof(SockaddrNl)) < 0)
                throw new NetlinkException("bind netlink socket", errno);
            socklen_t len = (uint)sizeof(SockaddrNl);
            if (getsockname(_fd, (sockaddr*)&addr, &len) < 0)
                throw new NetlinkException("read netlink port id", errno);
            PortId = addr.PortId;
            // Best effort: short ACKs, extended error messages, and a kernel-side buffer big
            // enough for the ACKs of a pipelined batch (FORCE needs CAP_NET_ADMIN).
            SetIntOption(NetlinkSocketOption.SolNetlink, NetlinkSocketOption.CapAck, 1);
            SetIntOption(NetlinkSocketOption.SolNetlink, NetlinkSocketOption.ExtAck, 1);
            if (!SetIntOption(SOL_SOCKET, SO_RCVBUFFORCE, kernelReceiveBuffer))
                SetIntOption(SOL_SOCKET, SO_RCVBUF, kernelReceiveBuffer);
            SetIntOption(SOL_SOCKET, SO_SNDBUF, 1024 * 1024);
            _sequence = (uint)Environment.TickCount;
        }
        catch
        {
            close(_fd);
            _fd = -1;
            throw;
        }
    }

    /// <summary>The port id the kernel gave this socket.</summary>
    public uint PortId { get; }

    public int Protocol => _protocol;

    /// <summary>How long to wait for each reply datagram.</summary>
    public TimeSpan ReceiveTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Replies dropped because their sequence or port id did not match (stale replies).</summary>
    public long StaleMessagesDropped { get; private set; }

    /// <summary>How many datagrams were received (for tests and diagnostics).</summary>
    public long DatagramsReceived { get; private set; }

    /// <summary>
    /// Sends one request and returns the data messages of its reply. A dump request
    /// (NLM_F_DUMP) returns every part up to NLMSG_DONE; any other request gets NLM_F_ACK and
    /// returns the messages that came before the ACK. A dump the kernel marks interrupted
    /// (NLM_F_DUMP_INTR) is restarted, up to three times.
    /// </summary>
    public List<NetlinkMessage> Execute(byte[] request, string operation)
    {
        ObjectDisposedException.ThrowIf(_fd < 0, this);
        var flags = (NetlinkFlags)BinaryPrimitives.ReadUInt16LittleEndian(request.AsSpan(6));
        bool dump = (flags & NetlinkFlags.Dump) == NetlinkFlags.Dump && (flags & NetlinkFlags.Request) != 0;
        if (!dump)
        {
            flags |= NetlinkFlags.Ack;
            BinaryPrimitives.WriteUInt16LittleEndian(request.AsSpan(6), (ushort)flags);
        }
        lock (_sync)
        {
            for (int attempt = 0; ; attempt++)
            {
                uint seq = NextSequence();
                BinaryPrimitives.WriteUInt32LittleEndian(request.AsSpan(8), seq);
                BinaryPrimitives.WriteUInt32LittleEndian(request.AsSpan(12), PortId);
                Send(request, request.Length, operation);
                var results = new List<NetlinkMessage>();
                bool interrupted = false;
                bool finished = false;
                while (!finished)
                {
                    foreach (var m in ReceiveDatagram(operation))
                    {
                        if (m.Sequence != seq || m.PortId != PortId) { StaleMessagesDropped++; continue; }
                        if ((m.Flags & NetlinkFlags.DumpInterrupted) != 0) interrupted = true;
                        switch (m.Type)
                        {
                            case NetlinkMessageType.Noop:
                                continue;
                            case NetlinkMessageType.Error:
                                var (err, text) = NetlinkMessage.ParseError(m, operation);
                                if (err != 0) throw new NetlinkException(operation, err, text);
                                finished = true; // ACK
                                break;
                            case NetlinkMessageType.Done:
                                if (m.Payload.Length >= 4)
                                {
                                    int derr = BinaryPrimitives.ReadInt32LittleEndian(m.Payload.Span);
                                    if (derr < 0) throw new NetlinkException(operation, -derr);
                                }
                                finished = true;
                                break;
                            case NetlinkMessageType.Overrun:
                                throw new NetlinkProtocolException(operation, "the kernel reported a netlink overrun: data was lost");
                            default:
                                results.Add(m);
                                break;
                        }
                        if (finished) break;
                    }
                }
                if (interrupted && dump && attempt < 3) continue;
                if (interrupted && dump)
                    throw new NetlinkProtocolException(operation, "the table kept changing during the dump (NLM_F_DUMP_INTR four times); try again");
                return results;
            }
        }
    }

    /// <summary>
    /// Pipelines many non-dump requests: they are written in chunks of many messages per sendmsg.
    /// Only the last message of a chunk asks for an ACK: the kernel runs the messages of one
    /// sendmsg in order and always reports a failure (NLMSG_ERROR) even without NLM_F_ACK, so when
    /// the last ACK arrives every earlier failure has arrived before it. That saves one reply
    /// datagram (and its receive) per request. Returns one entry per request: null on success, or
    /// the exception for that request. Replies carrying data are ignored (use <see cref="Execute"/>
    /// for requests whose answer you need).
    /// </summary>
    public NetlinkException?[] ExecuteBatch(IReadOnlyList<byte[]> requests, string operation, int maxChunkBytes = 256 * 1024)
    {
        ObjectDisposedException.ThrowIf(_fd < 0, this);
        var outcome = new NetlinkException?[requests.Count];
        lock (_sync)
        {
            byte[] chunk = new byte[maxChunkBytes];
            int index = 0;
            while (index < requests.Count)
            {
                int first = index, used = 0, lastOffset = 0;
                uint firstSeq = 0;
                while (index < requests.Count)
                {
                    byte[] r = requests[index];
                    int len = NetlinkLayout.Align(r.Length);
                    if (len > chunk.Length) chunk = new byte[len];
                    if (used > 0 && used + len > chunk.Length) break;
                    uint seq = NextSequence();
                    if (index == first) firstSeq = seq;
                    r.CopyTo(chunk, used);
                    Span<byte> h = chunk.AsSpan(used);
                    var flags = (NetlinkFlags)BinaryPrimitives.ReadUInt16LittleEndian(h[6..]) & ~NetlinkFlags.Ack;
                    BinaryPrimitives.WriteUInt16LittleEndian(h[6..], (ushort)flags);
                    BinaryPrimitives.WriteUInt32LittleEndian(h[8..], seq);
                    BinaryPrimitives.WriteUInt32LittleEndian(h[12..], PortId);
                    chunk.AsSpan(used + r.Length, len - r.Length).Clear();
                    lastOffset = used;
                    used += len;
                    index++;
                }
                // The chunk's last message carries the ACK request that closes the chunk.
                var lastFlags = (NetlinkFlags)BinaryPrimitives.ReadUInt16LittleEndian(chunk.AsSpan(lastOffset + 6)) | NetlinkFlags.Ack;
                BinaryPrimitives.WriteUInt16LittleEndian(chunk.AsSpan(lastOffset + 6), (ushort)lastFlags);
                Send(chunk, used, operation);
                int count = index - first;
                bool closed = false;
                while (!closed)
                {
                    foreach (var m in ReceiveDatagram(operation))
                    {
                        long slot = (long)m.Sequence - firstSeq;
                        if (m.PortId != PortId || slot < 0 || slot >= count) { StaleMessagesDropped++; continue; }
                        if (m.Type != NetlinkMessageType.Error) continue;
                        var (err, text) = NetlinkMessage.ParseError(m, operation);
                        if (err != 0) outcome[first + slot] = new NetlinkException(operation, err, text);
                        if (slot == count - 1) closed = true;
                    }
                }
            }
        }
        return outcome;
    }

    /// <summary>
    /// Sends a netfilter transaction in one sendmsg: <paramref name="messages"/> starts with a batch-begin and
    /// ends with a batch-end message (nfnetlink), and every message between them asks for an ACK. The kernel
    /// applies the whole batch or nothing; the first failure it reports (for any message of the batch,
    /// including a failed commit reported against the batch-begin) is thrown, after all replies are read.
    /// </summary>
    public void ExecuteTransaction(IReadOnlyList<byte[]> messages, string operation)
    {
        ObjectDisposedException.ThrowIf(_fd < 0, this);
        if (messages.Count < 3) throw new ArgumentException("A transaction needs a batch-begin, at least one message and a batch-end.", nameof(messages));
        lock (_sync)
        {
            int total = 0;
            foreach (var m in messages) total += NetlinkLayout.Align(m.Length);
            byte[] buffer = new byte[total];
            int used = 0;
            uint firstSeq = 0;
            for (int i = 0; i < messages.Count; i++)
            {
                uint seq = NextSequence();
                if (i == 0) firstSeq = seq;
                messages[i].CopyTo(buffer, used);
                Span<byte> h = buffer.AsSpan(used);
                var flags = (NetlinkFlags)BinaryPrimitives.ReadUInt16LittleEndian(h[6..]);
                flags = i == 0 || i == messages.Count - 1 ? flags & ~NetlinkFlags.Ack : flags | NetlinkFlags.Ack;
                BinaryPrimitives.WriteUInt16LittleEndian(h[6..], (ushort)flags);
                BinaryPrimitives.WriteUInt32LittleEndian(h[8..], seq);
                BinaryPrimitives.WriteUInt32LittleEndian(h[12..], PortId);
                used += NetlinkLayout.Align(messages[i].Length);
            }
            Send(buffer, used, operation);
            long lastAcked = messages.Count - 2;
            NetlinkException? failure = null;
            bool done = false;
            while (!done)
            {
                foreach (var m in ReceiveDatagram(operation))
                {
                    long slot = (long)m.Sequence - firstSeq;
                    if (m.PortId != PortId || slot < 0 || slot >= messages.Count) { StaleMessagesDropped++; continue; }
                    if (m.Type != NetlinkMessageType.Error) continue;
                    var (err, text) = NetlinkMessage.ParseError(m, operation);
                    if (err != 0) failure ??= new NetlinkException(operation, err, text);
                    // The begin or end message only answers when the batch as a whole failed.
                    if (slot == lastAcked || slot == 0 || slot == messages.Count - 1) done = true;
                }
            }
            if (failure is not null) throw failure;
        }
    }

    /// <summary>
    /// Runs many small dump requests, up to <paramref name="maxInFlight"/> written in one sendmsg.
    /// A socket runs one dump at a time: a dump request that arrives while the previous dump has
    /// not sent its NLMSG_DONE (which needs another read) is refused with EBUSY, and such requests
    /// are run again on their own. Most dumps need that second read, so the default is one dump
    /// at a time: in the kernel-lab VM, 10,000 per-service real-server dumps took 2.8-4.5 s one at
    /// a time and 3.3-8.6 s with 64 in flight. Returns the data messages of each request, in
    /// request order; a request the kernel refused has its error in <paramref name="errors"/> and
    /// an empty result.
    /// </summary>
    public List<NetlinkMessage>[] ExecuteDumpBatch(IReadOnlyList<byte[]> requests, string operation, out NetlinkException?[] errors, int maxInFlight = 1)
    {
        ObjectDisposedException.ThrowIf(_fd < 0, this);
        var results = new List<NetlinkMessage>[requests.Count];
        errors = new NetlinkException?[requests.Count];
        var retry = new List<int>();
        lock (_sync)
        {
            for (int first = 0; first < requests.Count; first += maxInFlight)
            {
                int count = Math.Min(maxInFlight, requests.Count - first);
                int total = 0;
                for (int i = 0; i < count; i++) total += NetlinkLayout.Align(requests[first + i].Length);
                var chunk = new byte[total];
                uint firstSeq = 0;
                int used = 0;
                for (int i = 0; i < count; i++)
                {
                    byte[] r = requests[first + i];
                    uint seq = NextSequence();
                    if (i == 0) firstSeq = seq;
                    r.CopyTo(chunk, used);
                    BinaryPrimitives.WriteUInt32LittleEndian(chunk.AsSpan(used + 8), seq);
                    BinaryPrimitives.WriteUInt32LittleEndian(chunk.AsSpan(used + 12), PortId);
                    used += NetlinkLayout.Align(r.Length);
                    results[first + i] = new List<NetlinkMessage>();
                }
                Send(chunk, used, operation);
                var done = new bool[count];
                int finished = 0;
                while (finished < count)
                {
                    foreach (var m in ReceiveDatagram(operation))
                    {
                        long slot = (long)m.Sequence - firstSeq;
                        if (m.PortId != PortId || slot < 0 || slot >= count || done[slot]) { StaleMessagesDropped++; continue; }
                        int index = first + (int)slot;
                        switch (m.Type)
                        {
                            case NetlinkMessageType.Noop:
                                break;
                            case NetlinkMessageType.Done:
                                if (m.Payload.Length >= 4 && BinaryPrimitives.ReadInt32LittleEndian(m.Payload.Span) is int derr && derr < 0)
                                    errors[index] = new NetlinkException(operation, -derr);
                                else if ((m.Flags & NetlinkFlags.DumpInterrupted) != 0) retry.Add(index);
                                done[slot] = true; finished++;
                                break;
                            case NetlinkMessageType.Error:
                                var (err, text) = NetlinkMessage.ParseError(m, operation);
                                if (err == Errno.EBUSY) retry.Add(index);
                                else if (err != 0) errors[index] = new NetlinkException(operation, err, text);
                                done[slot] = true; finished++;
                                break;
                            case NetlinkMessageType.Overrun:
                                throw new NetlinkProtocolException(operation, "the kernel reported a netlink overrun: data was lost");
                            default:
                                results[index].Add(m);
                                break;
                        }
                    }
                }
            }
        }
        foreach (int index in retry)
        {
            results[index].Clear();
            try { results[index] = Execute((byte[])requests[index].Clone(), operation); }
            catch (NetlinkException e) when (e is not NetlinkTimeoutException and not NetlinkProtocolException) { errors[index] = e; }
        }
        return results;
    }

    /// <summary>Test seam: sends bytes as they are (sequence and port id untouched).</summary>
    internal void SendRaw(byte[] message) { lock (_sync) Send(message, message.Length, "raw send"); }

    /// <summary>Test seam: waits for one datagram under the receive timeout.</summary>
    internal List<NetlinkMessage> ReceiveRaw(string operation) { lock (_sync) return ReceiveDatagram(operation); }

    private uint NextSequence()
    {
        unchecked { _sequence++; if (_sequence == 0) _sequence = 1; }
        return _sequence;
    }

    private void Send(byte[] buffer, int length, string operation)
    {
        var addr = new SockaddrNl { Family = (ushort)AF_NETLINK };
        fixed (byte* p = buffer)
        {
            while (true)
            {
                long n = sendto(_fd, p, (size_t)(ulong)length, 0, (sockaddr*)&addr, (uint)sizeof(SockaddrNl));
                if (n >= 0) return;
                int e = errno;
                if (e == Errno.EINTR) continue;
                throw new NetlinkException(operation, e);
            }
        }
    }

    /// <summary>Waits for one datagram (bounded by the timeout) and splits it into messages.</summary>
    private List<NetlinkMessage> ReceiveDatagram(string operation)
    {
        var deadline = Deadline.After(ReceiveTimeout);
        bool polled = false;
        while (true)
        {
            // Read first and poll only when nothing is queued: replies are usually there already,
            // and this halves the system calls of a long dump.
            if (polled)
            {
                int ready = Poll.Wait(_fd, deadline);
                if (ready < 0) throw new NetlinkException(operation, -ready);
                if (ready == 0) throw new NetlinkTimeoutException(operation, ReceiveTimeout);
            }

            var from = new SockaddrNl();
            socklen_t fromLen = (uint)sizeof(SockaddrNl);
            long n;
            fixed (byte* p = _receiveBuffer)
                n = recvfrom(_fd, p, (size_t)(ulong)_receiveBuffer.Length, MSG_TRUNC | MSG_DONTWAIT, (sockaddr*)&from, &fromLen);
            if (n < 0)
            {
                int e = errno;
                if (e == Errno.EINTR) continue;
                if (e == Errno.EAGAIN) { polled = true; continue; }
                if (e == Errno.ENOBUFS)
                    throw new NetlinkException(operation + " (the socket receive buffer overflowed and replies were lost)", e);
                throw new NetlinkException(operation, e);
            }
            if (n > _receiveBuffer.Length)
                throw new NetlinkProtocolException(operation,
                    $"reply datagram of {n} bytes was truncated to the {_receiveBuffer.Length}-byte receive buffer (MSG_TRUNC)");
            if (from.PortId != 0) continue; // only the kernel may talk to us
            DatagramsReceived++;
            // Copy so that returned payloads stay valid after the buffer is reused.
            var copy = _receiveBuffer.AsSpan(0, (int)n).ToArray();
            return NetlinkMessage.ParseAll(copy, operation);
        }
    }

    private bool SetIntOption(int level, int name, int value)
        => setsockopt(_fd, level, name, &value, (uint)sizeof(int)) == 0;

    public void Dispose()
    {
        lock (_sync)
        {
            if (_fd >= 0) { close(_fd); _fd = -1; }
        }
    }
}
