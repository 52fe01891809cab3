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
    private byte[] _sendBuffer = new byte[4096];

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
    /// (NLM_F_DUMP_INTR) is restarted, up to three times. The caller's bytes are not changed.
    /// </summary>
    public List<NetlinkMessage> Execute(byte[] request, string operation)
    {
        var flags = NetlinkHeader.Read(request).Flags;
        bool dump = (flags & NetlinkFlags.Dump) == NetlinkFlags.Dump && (flags & NetlinkFlags.Request) != 0;
        lock (_sync)
        {
            ObjectDisposedException.ThrowIf(_fd < 0, this);
            for (int attempt = 0; ; attempt++)
            {
                uint seq = ReserveSequences(1);
                Send(Append(0, request, seq, dump ? AckRequest.Unchanged : AckRequest.Set), operation);
                var reply = new SingleReply(operation);
                Exchange(seq, 1, operation, ref reply);
                if (reply.Interrupted && dump && attempt < 3) continue;
                if (reply.Interrupted && dump)
                    throw new NetlinkProtocolException(operation, "the table kept changing during the dump (NLM_F_DUMP_INTR four times); try again");
                return reply.Results;
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
        int bytes = 0;
        foreach (var r in requests) bytes += NetlinkLayout.Align(r.Length);
        var batch = new NetlinkRequestBatch(bytes, requests.Count);
        foreach (var r in requests) batch.Add(r);
        return ExecuteBatch(batch, operation, maxChunkBytes);
    }

    /// <summary>
    /// <see cref="ExecuteBatch(IReadOnlyList{byte[]}, string, int)"/> for requests already laid out in one buffer:
    /// each chunk's headers are stamped in place (the batch's bytes change) and the chunk is sent from there.
    /// </summary>
    public NetlinkException?[] ExecuteBatch(NetlinkRequestBatch batch, string operation, int maxChunkBytes = 256 * 1024)
    {
        var outcome = new NetlinkException?[batch.Count];
        lock (_sync)
        {
            ObjectDisposedException.ThrowIf(_fd < 0, this);
            int index = 0;
            while (index < batch.Count)
            {
                int first = index;
                while (index < batch.Count && (index == first || batch.Start(index + 1) - batch.Start(first) <= maxChunkBytes)) index++;
                int count = index - first;
                // The chunk's last message carries the ACK request that closes the chunk.
                uint firstSeq = ReserveSequences(count);
                for (int i = 0; i < count; i++)
                    Stamp(batch.Request(first + i), firstSeq + (uint)i, i == count - 1 ? AckRequest.Set : AckRequest.Clear);
                Send(batch.Span(first, index), operation);
                var replies = new BatchReplies(outcome, first, count, operation);
                Exchange(firstSeq, count, operation, ref replies);
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
        if (messages.Count < 3) throw new ArgumentException("A transaction needs a batch-begin, at least one message and a batch-end.", nameof(messages));
        lock (_sync)
        {
            ObjectDisposedException.ThrowIf(_fd < 0, this);
            int count = messages.Count, used = 0;
            uint firstSeq = ReserveSequences(count);
            for (int i = 0; i < count; i++)
                used = Append(used, messages[i], firstSeq + (uint)i, i == 0 || i == count - 1 ? AckRequest.Clear : AckRequest.Set);
            Send(used, operation);
            var replies = new TransactionReplies(count, operation);
            Exchange(firstSeq, count, operation, ref replies);
            if (replies.Failure is not null) throw replies.Failure;
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
        var results = new List<NetlinkMessage>[requests.Count];
        errors = new NetlinkException?[requests.Count];
        var retry = new List<int>();
        lock (_sync)
        {
            ObjectDisposedException.ThrowIf(_fd < 0, this);
            for (int first = 0; first < requests.Count; first += maxInFlight)
            {
                int count = Math.Min(maxInFlight, requests.Count - first), used = 0;
                uint firstSeq = ReserveSequences(count);
                for (int i = 0; i < count; i++)
                {
                    used = Append(used, requests[first + i], firstSeq + (uint)i, AckRequest.Unchanged);
                    results[first + i] = new List<NetlinkMessage>();
                }
                Send(used, operation);
                var replies = new DumpBatchReplies(results, errors, retry, first, count, operation);
                Exchange(firstSeq, count, operation, ref replies);
            }
        }
        foreach (int index in retry)
        {
            results[index].Clear();
            try { results[index] = Execute(requests[index], operation); }
            catch (NetlinkException e) when (e is not NetlinkTimeoutException and not NetlinkProtocolException) { errors[index] = e; }
        }
        return results;
    }

    /// <summary>Test seam: sends bytes as they are (sequence and port id untouched).</summary>
    internal void SendRaw(byte[] message)
    {
        lock (_sync)
        {
            EnsureSendCapacity(message.Length);
            message.CopyTo(_sendBuffer, 0);
            Send(message.Length, "raw send");
        }
    }

    /// <summary>Test seam: makes <paramref name="last"/> the last sequence number used (to run exchanges across the wrap).</summary>
    internal void SetLastSequence(uint last) { lock (_sync) _sequence = last; }

    /// <summary>Test seam: waits for one datagram under the receive timeout.</summary>
    internal List<NetlinkMessage> ReceiveRaw(string operation) { lock (_sync) return ReceiveDatagram(operation); }

    /// <summary>
    /// <paramref name="count"/> consecutive sequence numbers for one sendmsg (the first is returned). They never
    /// wrap through 0 inside a run, so a reply's position in the run is its sequence minus the first.
    /// </summary>
    private uint ReserveSequences(int count)
    {
        uint first = unchecked(_sequence + 1);
        if (first == 0 || first > uint.MaxValue - (uint)(count - 1)) first = 1;
        _sequence = first + (uint)(count - 1);
        return first;
    }

    /// <summary>What a request's NLM_F_ACK flag becomes when it is sent.</summary>
    private enum AckRequest { Unchanged, Set, Clear }

    /// <summary>
    /// Copies one request into the send buffer at <paramref name="offset"/> (padded to 4 bytes) and fills its
    /// header: the sequence number, this socket's port id, and the ACK flag as asked. The one place a request's
    /// header is written. Returns the offset after it.
    /// </summary>
    private int Append(int offset, ReadOnlySpan<byte> request, uint sequence, AckRequest ack)
    {
        NetlinkHeader.Read(request);
        int length = NetlinkLayout.Align(request.Length);
        EnsureSendCapacity(offset + length);
        Span<byte> target = _sendBuffer.AsSpan(offset, length);
        request.CopyTo(target);
        target[request.Length..].Clear();
        Stamp(target, sequence, ack);
        return offset + length;
    }

    /// <summary>Fills in the header of the request at the start of <paramref name="target"/>: sequence, port id, ACK flag.</summary>
    private void Stamp(Span<byte> target, uint sequence, AckRequest ack)
    {
        var header = NetlinkHeader.Read(target);
        var flags = ack switch
        {
            AckRequest.Set => header.Flags | NetlinkFlags.Ack,
            AckRequest.Clear => header.Flags & ~NetlinkFlags.Ack,
            _ => header.Flags,
        };
        (header with { Flags = flags, Sequence = sequence, PortId = PortId }).Write(target);
    }

    private void EnsureSendCapacity(int length)
    {
        if (length > _sendBuffer.Length) Array.Resize(ref _sendBuffer, Math.Max(length, _sendBuffer.Length * 2));
    }

    /// <summary>What a reply handler makes of one message of its exchange.</summary>
    private enum Reply { Continue, Complete, Stale }

    /// <summary>
    /// Takes the replies of one exchange. <paramref name="slot"/> is the request's position in the run it was sent
    /// in; <paramref name="errno"/> is the (positive) error of an NLMSG_ERROR or NLMSG_DONE, 0 for an ACK or data.
    /// A struct, so the receive loop is compiled for each kind of exchange without allocation or indirection.
    /// </summary>
    private interface IReplyHandler
    {
        Reply Take(int slot, in NetlinkMessage message, int errno, string? kernelMessage);
    }

    /// <summary>
    /// The one receive loop: reads datagrams (under the receive timeout) until the handler says the exchange is
    /// complete. Messages that are not from the kernel to this port, or whose sequence is outside the run sent,
    /// are stale and counted; NLMSG_NOOP is skipped; NLMSG_OVERRUN (data lost) fails the exchange.
    /// </summary>
    private void Exchange<THandler>(uint firstSequence, int count, string operation, ref THandler handler)
        where THandler : struct, IReplyHandler
    {
        while (true)
        {
            foreach (var m in ReceiveDatagram(operation))
            {
                uint slot = unchecked(m.Sequence - firstSequence);
                if (m.PortId != PortId || slot >= (uint)count) { StaleMessagesDropped++; continue; }
                int errno = 0;
                string? text = null;
                switch (m.Type)
                {
                    case NetlinkMessageType.Noop:
                        continue;
                    case NetlinkMessageType.Overrun:
                        throw new NetlinkProtocolException(operation, "the kernel reported a netlink overrun: data was lost");
                    case NetlinkMessageType.Error:
                        (errno, text) = NetlinkMessage.ParseError(m, operation);
                        break;
                    case NetlinkMessageType.Done:
                        if (m.Payload.Length >= 4 && BinaryPrimitives.ReadInt32LittleEndian(m.Payload.Span) is int done && done < 0) errno = -done;
                        break;
                }
                switch (handler.Take((int)slot, m, errno, text))
                {
                    case Reply.Complete: return;
                    case Reply.Stale: StaleMessagesDropped++; break;
                }
            }
        }
    }

    /// <summary><see cref="Execute"/>: data up to the ACK or NLMSG_DONE; a failure is thrown.</summary>
    private struct SingleReply : IReplyHandler
    {
        private readonly string _operation;
        public readonly List<NetlinkMessage> Results = new();
        public bool Interrupted;

        public SingleReply(string operation) => _operation = operation;

        public Reply Take(int slot, in NetlinkMessage m, int errno, string? kernelMessage)
        {
            if ((m.Flags & NetlinkFlags.DumpInterrupted) != 0) Interrupted = true;
            switch (m.Type)
            {
                case NetlinkMessageType.Error:
                    if (errno != 0) throw new NetlinkException(_operation, errno, kernelMessage);
                    return Reply.Complete; // ACK
                case NetlinkMessageType.Done:
                    if (errno != 0) throw new NetlinkException(_operation, errno);
                    return Reply.Complete;
                default:
                    Results.Add(m);
                    return Reply.Continue;
            }
        }
    }

    /// <summary><see cref="ExecuteBatch"/>: each request's failure in its slot; the chunk's last ACK closes it.</summary>
    private readonly struct BatchReplies : IReplyHandler
    {
        private readonly NetlinkException?[] _outcome;
        private readonly int _first, _count;
        private readonly string _operation;

        public BatchReplies(NetlinkException?[] outcome, int first, int count, string operation)
            => (_outcome, _first, _count, _operation) = (outcome, first, count, operation);

        public Reply Take(int slot, in NetlinkMessage m, int errno, string? kernelMessage)
        {
            if (m.Type != NetlinkMessageType.Error) return Reply.Continue;
            if (errno != 0) _outcome[_first + slot] = new NetlinkException(_operation, errno, kernelMessage);
            return slot == _count - 1 ? Reply.Complete : Reply.Continue;
        }
    }

    /// <summary><see cref="ExecuteTransaction"/>: the first failure; done at the last ACK, or when the begin or end message answers (the batch failed as a whole).</summary>
    private struct TransactionReplies : IReplyHandler
    {
        private readonly int _count;
        private readonly string _operation;
        public NetlinkException? Failure;

        public TransactionReplies(int count, string operation) => (_count, _operation, Failure) = (count, operation, null);

        public Reply Take(int slot, in NetlinkMessage m, int errno, string? kernelMessage)
        {
            if (m.Type != NetlinkMessageType.Error) return Reply.Continue;
            if (errno != 0) Failure ??= new NetlinkException(_operation, errno, kernelMessage);
            return slot == _count - 2 || slot == 0 || slot == _count - 1 ? Reply.Complete : Reply.Continue;
        }
    }

    /// <summary>
    /// <see cref="ExecuteDumpBatch"/>: each dump's data in its own list until its NLMSG_DONE (or error); a dump
    /// refused with EBUSY, or whose DONE says it was interrupted, is queued to run again on its own.
    /// </summary>
    private struct DumpBatchReplies : IReplyHandler
    {
        private readonly List<NetlinkMessage>[] _results;
        private readonly NetlinkException?[] _errors;
        private readonly List<int> _retry;
        private readonly bool[] _done;
        private readonly int _first;
        private readonly string _operation;
        private int _finished;

        public DumpBatchReplies(List<NetlinkMessage>[] results, NetlinkException?[] errors, List<int> retry, int first, int count, string operation)
        {
            (_results, _errors, _retry, _first, _operation) = (results, errors, retry, first, operation);
            _done = new bool[count];
            _finished = 0;
        }

        public Reply Take(int slot, in NetlinkMessage m, int errno, string? kernelMessage)
        {
            if (_done[slot]) return Reply.Stale;
            int index = _first + slot;
            switch (m.Type)
            {
                case NetlinkMessageType.Done:
                    if (errno != 0) _errors[index] = new NetlinkException(_operation, errno);
                    else if ((m.Flags & NetlinkFlags.DumpInterrupted) != 0) _retry.Add(index);
                    break;
                case NetlinkMessageType.Error:
                    if (errno == Errno.EBUSY) _retry.Add(index);
                    else if (errno != 0) _errors[index] = new NetlinkException(_operation, errno, kernelMessage);
                    break;
                default:
                    _results[index].Add(m);
                    return Reply.Continue;
            }
            _done[slot] = true;
            return ++_finished == _done.Length ? Reply.Complete : Reply.Continue;
        }
    }

    private void Send(int length, string operation) => Send(_sendBuffer.AsSpan(0, length), operation);

    private void Send(ReadOnlySpan<byte> data, string operation)
    {
        var addr = new SockaddrNl { Family = (ushort)AF_NETLINK };
        fixed (byte* p = data)
        {
            while (true)
            {
                long n = sendto(_fd, p, (size_t)(ulong)data.Length, 0, (sockaddr*)&addr, (uint)sizeof(SockaddrNl));
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
