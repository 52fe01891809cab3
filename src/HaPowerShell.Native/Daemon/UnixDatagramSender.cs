using System.Net.Sockets;

namespace HaPowerShell.Native.Daemon;

/// <summary>
/// A connectionless AF_UNIX datagram socket that sends to one path: syslog's /dev/log, the journal's
/// /run/systemd/journal/socket, systemd's NOTIFY_SOCKET (a path, or '@name' for an abstract socket). A send that
/// fails (the receiver restarted, a full queue) returns false and the socket reconnects on the next send, so a
/// daemon's logging survives a restart of rsyslog or journald. One instance is safe from several threads.
/// </summary>
public sealed class UnixDatagramSender : IDisposable
{
    private readonly object _sync = new();
    private readonly UnixDomainSocketEndPoint _endPoint;
    private Socket? _socket;
    private bool _disposed;

    public UnixDatagramSender(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        Path = path;
        // systemd writes an abstract socket's name with a leading '@'; the kernel wants a leading NUL.
        _endPoint = new UnixDomainSocketEndPoint(path[0] == '@' ? "\0" + path.Substring(1) : path);
    }

    /// <summary>Where it sends (as given).</summary>
    public string Path { get; }

    /// <summary>The errno of the last failed send (0 after a successful one).</summary>
    public int LastError { get; private set; }

    /// <summary>True when <paramref name="path"/> names an existing socket file (abstract names are taken as present).</summary>
    public static bool Exists(string path) => path.StartsWith('@') || File.Exists(path);

    /// <summary>Sends one datagram; false when it could not (the socket is reopened on the next call).</summary>
    public bool Send(ReadOnlySpan<byte> datagram)
    {
        lock (_sync)
        {
            if (_disposed) return false;
            for (int attempt = 0; attempt < 2; attempt++)
            {
                try
                {
                    _socket ??= Open();
                    _socket.Send(datagram, SocketFlags.None);
                    LastError = 0;
                    return true;
                }
                catch (SocketException e)
                {
                    LastError = e.ErrorCode;
                    _socket?.Dispose();
                    _socket = null;
                    // A datagram too large for the receiver does not get better by reconnecting.
                    if (e.SocketErrorCode == SocketError.MessageSize) return false;
                }
            }
            return false;
        }
    }

    private Socket Open()
    {
        var s = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        try
        {
            s.Connect(_endPoint);
            return s;
        }
        catch
        {
            s.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        lock (_sync)
        {
            _disposed = true;
            _socket?.Dispose();
            _socket = null;
        }
    }
}
