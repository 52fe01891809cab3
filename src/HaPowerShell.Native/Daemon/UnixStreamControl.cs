using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace HaPowerShell.Native.Daemon;

/// <summary>Who is at the other end of a local stream socket, as the kernel says (SO_PEERCRED) plus the process's supplementary groups.</summary>
public sealed record PeerCredentials(int Pid, uint Uid, uint Gid, IReadOnlyList<uint> Groups)
{
    public bool IsRoot => Uid == 0;

    /// <summary>True when the peer's primary or a supplementary group is <paramref name="gid"/>.</summary>
    public bool InGroup(uint gid) => Gid == gid || Groups.Contains(gid);

    public override string ToString() => $"pid {Pid}, uid {Uid}, gid {Gid}";
}

/// <summary>
/// A line-based request/response server on an AF_UNIX stream socket: the socket file is created mode 0660 (owner
/// root, group <c>group</c> when given), every accepted connection carries its peer's credentials (SO_PEERCRED), and
/// one line in gets one line out. The caller decides what a peer may do.
/// </summary>
public sealed class UnixStreamServer : IDisposable
{
    private const int SolSocket = 1, SoPeerCred = 17;
    private readonly Socket _listener;
    private bool _disposed;

    /// <summary>
    /// Binds <paramref name="path"/> (a stale socket file left by a dead daemon is replaced; a live one is an error)
    /// and listens. <paramref name="groupId"/>: the group that may connect (the file's group, mode 0660); null: 0600.
    /// </summary>
    public UnixStreamServer(string path, uint? groupId)
    {
        Path = path;
        if (File.Exists(path))
        {
            using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            bool live;
            try { probe.Connect(new UnixDomainSocketEndPoint(path)); live = true; }
            catch (SocketException) { live = false; }
            if (live)
                throw new HaException("ControlSocketInUse", HaErrorCategory.ResourceExists,
                    $"The control socket {path} is in use by a running daemon; stop it or give another path.", path);
            File.Delete(path);
        }
        _listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            _listener.Bind(new UnixDomainSocketEndPoint(path));
            if (!OperatingSystem.IsWindows())
                File.SetUnixFileMode(path, groupId is null ? UnixFileMode.UserRead | UnixFileMode.UserWrite
                : UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite);
            if (groupId is uint g && Tmds.Linux.LibC.geteuid() == 0)
            {
                int rc;
                unsafe
                {
                    var bytes = Encoding.UTF8.GetBytes(path + "\0");
                    fixed (byte* p = bytes) rc = Tmds.Linux.LibC.chown(p, 0, g);
                }
                if (rc != 0)
                    throw new HaException("ControlSocketFailed", HaErrorCategory.PermissionDenied, $"Giving the control socket {path} to group {g} failed ({Errno.Name(Tmds.Linux.LibC.errno)}).", path);
            }
            _listener.Listen(16);
        }
        catch
        {
            _listener.Dispose();
            throw;
        }
    }

    public string Path { get; }

    /// <summary>Waits for the next connection; null once disposed.</summary>
    public UnixStreamConnection? Accept()
    {
        try
        {
            var s = _listener.Accept();
            s.ReceiveTimeout = 10_000;
            s.SendTimeout = 10_000;
            return new UnixStreamConnection(s, Credentials(s));
        }
        catch (SocketException) when (_disposed) { return null; }
        catch (ObjectDisposedException) { return null; }
    }

    private static PeerCredentials Credentials(Socket s)
    {
        Span<byte> cred = stackalloc byte[12];
        int n = s.GetRawSocketOption(SolSocket, SoPeerCred, cred);
        if (n < 12) throw new HaException("ControlSocketFailed", HaErrorCategory.InvalidResult, "The kernel gave no peer credentials (SO_PEERCRED).", s);
        int pid = BitConverter.ToInt32(cred[..4]);
        uint uid = BitConverter.ToUInt32(cred.Slice(4, 4));
        uint gid = BitConverter.ToUInt32(cred.Slice(8, 4));
        return new PeerCredentials(pid, uid, gid, SupplementaryGroups(pid));
    }

    /// <summary>The "Groups:" line of /proc/PID/status (empty when the process is gone).</summary>
    private static IReadOnlyList<uint> SupplementaryGroups(int pid)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
                if (line.StartsWith("Groups:", StringComparison.Ordinal))
                    return line.Substring(7).Split(new[] { ' ', '\t' }, StringSplitOptions.RemoveEmptyEntries)
                        .Select(x => uint.Parse(x, CultureInfo.InvariantCulture)).ToList();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException) { }
        return Array.Empty<uint>();
    }

    /// <summary>The gid of group <paramref name="nameOrGid"/> from /etc/group (a number is taken as it is); null when there is none.</summary>
    public static uint? FindGroup(string nameOrGid)
    {
        if (uint.TryParse(nameOrGid, NumberStyles.None, CultureInfo.InvariantCulture, out uint gid)) return gid;
        try
        {
            foreach (var line in File.ReadLines("/etc/group"))
            {
                var f = line.Split(':');
                if (f.Length >= 3 && f[0] == nameOrGid && uint.TryParse(f[2], NumberStyles.None, CultureInfo.InvariantCulture, out gid)) return gid;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        return null;
    }

    /// <summary>Stops listening and removes the socket file.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        try { _listener.Shutdown(SocketShutdown.Both); } catch (SocketException) { }
        _listener.Dispose();
        try { File.Delete(Path); } catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }
}

/// <summary>One accepted connection: one line read, one line written.</summary>
public sealed class UnixStreamConnection : IDisposable
{
    private readonly Socket _socket;
    private readonly NetworkStream _stream;

    internal UnixStreamConnection(Socket socket, PeerCredentials peer)
    {
        _socket = socket;
        _stream = new NetworkStream(socket, ownsSocket: true);
        Peer = peer;
    }

    public PeerCredentials Peer { get; }

    /// <summary>Reads one line (at most <paramref name="maxBytes"/>); null at end of stream, on a timeout or a longer line.</summary>
    public string? ReadLine(int maxBytes = 64 * 1024) => UnixStreamLines.ReadLine(_stream, maxBytes);

    public void WriteLine(string line) => UnixStreamLines.WriteLine(_stream, line);

    public void Dispose() => _stream.Dispose();
}

/// <summary>A client of a <see cref="UnixStreamServer"/>: connects, sends one line, reads one line.</summary>
public static class UnixStreamClient
{
    /// <summary>Sends <paramref name="request"/> to the socket at <paramref name="path"/> and returns the answer line.</summary>
    /// <exception cref="HaException">ControlSocketNotFound, ControlSocketDenied, ControlSocketFailed.</exception>
    public static string Exchange(string path, string request, TimeSpan timeout)
    {
        using var s = Connect(path, timeout);
        using var stream = new NetworkStream(s, ownsSocket: false);
        return Ask(stream, path, request, timeout);
    }

    /// <summary>
    /// Sends <paramref name="request"/> and reads the answer line like <see cref="Exchange"/>, then keeps the connection
    /// for the lines the server goes on writing (hapd's event stream): read them with
    /// <see cref="UnixStreamSubscription.ReadLine"/>, which waits without a timeout until a line comes or either side closes.
    /// </summary>
    public static UnixStreamSubscription Subscribe(string path, string request, TimeSpan timeout, out string answer)
    {
        var s = Connect(path, timeout);
        var stream = new NetworkStream(s, ownsSocket: true);
        var subscription = new UnixStreamSubscription(s, stream);
        try
        {
            // The answer through the subscription's own reader: lines that follow it in the same read are kept.
            try { UnixStreamLines.WriteLine(stream, request); }
            catch (IOException e) { throw new HaException("HapdNoAnswer", HaErrorCategory.OperationTimeout, $"hapd on {path} did not take the request ({e.Message}).", path, e); }
            answer = subscription.ReadLine()
                ?? throw new HaException("HapdNoAnswer", HaErrorCategory.ProtocolError, $"hapd on {path} gave no answer within {timeout.TotalSeconds:0} s, or closed the connection.", path);
            s.ReceiveTimeout = 0;
            return subscription;
        }
        catch
        {
            subscription.Dispose();
            throw;
        }
    }

    private static Socket Connect(string path, TimeSpan timeout)
    {
        var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        s.ReceiveTimeout = s.SendTimeout = (int)Math.Clamp(timeout.TotalMilliseconds, 1, int.MaxValue);
        try { s.Connect(new UnixDomainSocketEndPoint(path)); return s; }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.AddressNotAvailable or SocketError.ConnectionRefused || !File.Exists(path))
        {
            s.Dispose();
            throw new HaException("HapdNotRunning", HaErrorCategory.ObjectNotFound,
                $"No hapd answers on {path} ({e.Message}): start hapd (systemctl start hapd), or give the path it was started with (--control-socket) as -SocketPath.", path, e);
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.AccessDenied)
        {
            s.Dispose();
            throw new HaException("HapdAccessDenied", HaErrorCategory.PermissionDenied,
                $"Permission denied on {path}: run as root, or as a member of the group hapd was started with (--control-group).", path, e);
        }
        catch
        {
            s.Dispose();
            throw;
        }
    }

    private static string Ask(NetworkStream stream, string path, string request, TimeSpan timeout)
    {
        try
        {
            UnixStreamLines.WriteLine(stream, request);
            return UnixStreamLines.ReadLine(stream, 64 * 1024 * 1024)
                ?? throw new HaException("HapdNoAnswer", HaErrorCategory.ProtocolError, $"hapd on {path} closed the connection without an answer.", path);
        }
        catch (IOException e)
        {
            throw new HaException("HapdNoAnswer", HaErrorCategory.OperationTimeout, $"hapd on {path} did not answer within {timeout.TotalSeconds:0} s ({e.Message}).", path, e);
        }
    }
}

/// <summary>A kept client connection (<see cref="UnixStreamClient.Subscribe"/>): lines as the server writes them.</summary>
public sealed class UnixStreamSubscription : IDisposable
{
    private readonly Socket _socket;
    private readonly NetworkStream _stream;
    private readonly UnixStreamLineReader _reader;

    internal UnixStreamSubscription(Socket socket, NetworkStream stream)
    {
        _socket = socket;
        _stream = stream;
        _reader = new UnixStreamLineReader(stream, 1024 * 1024, partialLineAtEnd: false);
    }

    /// <summary>The next line (at most 1 MiB); null when either side closed the connection (<see cref="Dispose"/> from another thread ends a waiting read).</summary>
    public string? ReadLine()
    {
        try { return _reader.ReadLine(); }
        catch (Exception e) when (e is ObjectDisposedException or SocketException) { return null; }
    }

    public void Dispose()
    {
        try { _socket.Shutdown(SocketShutdown.Both); } catch (Exception e) when (e is SocketException or ObjectDisposedException) { }
        _stream.Dispose();
    }
}

/// <summary>
/// Lines from a stream, buffered: bytes read past a line's end are kept for the next line (a server that writes more
/// lines after an answer loses none). Null on an I/O error, a line over the limit, or the end (where
/// <c>partialLineAtEnd</c> returns a last line that has no newline).
/// </summary>
internal sealed class UnixStreamLineReader
{
    private readonly Stream _stream;
    private readonly int _maxBytes;
    private readonly bool _partialLineAtEnd;
    private readonly byte[] _buffer = new byte[4096];
    private readonly MemoryStream _line = new();
    private int _start, _end;

    public UnixStreamLineReader(Stream stream, int maxBytes, bool partialLineAtEnd)
    {
        _stream = stream;
        _maxBytes = maxBytes;
        _partialLineAtEnd = partialLineAtEnd;
    }

    public string? ReadLine()
    {
        _line.SetLength(0);
        while (true)
        {
            if (_start == _end)
            {
                try { _end = _stream.Read(_buffer, 0, _buffer.Length); }
                catch (IOException) { return null; }
                _start = 0;
                if (_end == 0) return _partialLineAtEnd && _line.Length > 0 ? Text() : null;
            }
            int nl = Array.IndexOf(_buffer, (byte)'\n', _start, _end - _start);
            if (nl >= 0)
            {
                _line.Write(_buffer, _start, nl - _start);
                _start = nl + 1;
                return Text();
            }
            _line.Write(_buffer, _start, _end - _start);
            _start = _end;
            if (_line.Length > _maxBytes) return null;
        }
    }

    private string Text() => Encoding.UTF8.GetString(_line.GetBuffer(), 0, (int)_line.Length);
}

internal static class UnixStreamLines
{
    /// <summary>One line (the connection carries one each way).</summary>
    public static string? ReadLine(Stream stream, int maxBytes) => new UnixStreamLineReader(stream, maxBytes, partialLineAtEnd: true).ReadLine();

    public static void WriteLine(Stream stream, string line)
    {
        var bytes = Encoding.UTF8.GetBytes(line + "\n");
        stream.Write(bytes);
        stream.Flush();
    }
}
