using System.Text.Json;
using HaPowerShell.Core.Keepalived.Runtime;
using HaPowerShell.Native;
using HaPowerShell.Native.Daemon;

namespace HaPowerShell.Daemon;

/// <summary>
/// hapd's control socket: one request a connection, one JSON line each way (<see cref="HapdRequest"/>,
/// <see cref="HapdResponse"/>, source-generated System.Text.Json). Root may do everything; members of the control
/// group (when one is given) may read the status. The peer is known from SO_PEERCRED. Requests run on the daemon's
/// main thread, between signals, through <see cref="Handle"/>.
/// </summary>
public sealed class ControlServer : IDisposable
{
    private readonly UnixStreamServer _server;
    private readonly uint? _group;
    private readonly Func<HapdRequest, HapdResponse> _handle;
    private readonly DaemonLog _log;
    private readonly Thread _thread;

    private ControlServer(UnixStreamServer server, uint? group, Func<HapdRequest, HapdResponse> handle, DaemonLog log)
    {
        _server = server;
        _group = group;
        _handle = handle;
        _log = log;
        _thread = new Thread(Loop) { IsBackground = true, Name = "hapd control" };
        _thread.Start();
    }

    public string Path => _server.Path;

    /// <summary>Opens the socket; null (with the reason logged) when it cannot: the daemon runs without it.</summary>
    public static ControlServer? Open(string path, string? group, Func<HapdRequest, HapdResponse> handle, DaemonLog log)
    {
        uint? gid = null;
        if (group is not null)
        {
            gid = UnixStreamServer.FindGroup(group);
            if (gid is null)
            {
                log.Error($"Control socket: no group '{group}' in /etc/group; the socket is not opened (give an existing group to --control-group).");
                return null;
            }
        }
        try { return new ControlServer(new UnixStreamServer(path, gid), gid, handle, log); }
        catch (Exception e) when (e is HaException or IOException or UnauthorizedAccessException or System.Net.Sockets.SocketException)
        {
            log.Error($"Control socket {path} cannot be opened: {e.Message}; running without it.");
            return null;
        }
    }

    private void Loop()
    {
        while (true)
        {
            UnixStreamConnection? c;
            try { c = _server.Accept(); }
            catch (Exception e) when (e is HaException or System.Net.Sockets.SocketException)
            {
                _log.Warning($"Control socket: a connection failed: {e.Message}");
                continue;
            }
            if (c is null) return;
            using (c)
            {
                try { Serve(c); }
                catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or ObjectDisposedException)
                {
                    _log.Warning($"Control socket: the client ({c.Peer}) went away: {e.Message}");
                }
            }
        }
    }

    private void Serve(UnixStreamConnection c)
    {
        string? line = c.ReadLine();
        if (line is null) return;
        HapdResponse answer;
        HapdRequest? request = null;
        try { request = JsonSerializer.Deserialize(line, HapdControlJsonContext.Default.HapdRequest); }
        catch (JsonException) { }
        if (request is null || !HapdCommands.IsKnown(request.Command))
            answer = Error("HapdUnknownRequest", "InvalidArgument", $"Not a hapd request: give one JSON object with command {HapdCommands.Status}, {HapdCommands.Reload}, {HapdCommands.SetPriority}, {HapdCommands.SuspendRealServer} or {HapdCommands.ResumeRealServer}.");
        else if (HapdCommands.Changes(request.Command) ? !c.Peer.IsRoot : !(c.Peer.IsRoot || (_group is uint g && c.Peer.InGroup(g))))
        {
            _log.Warning($"Control socket: {request.Command} refused to {c.Peer}");
            answer = Error("HapdAccessDenied", "PermissionDenied", HapdCommands.Changes(request.Command)
                ? $"Only root may {request.Command} (the peer is uid {c.Peer.Uid})."
                : $"Only root{(_group is null ? "" : " and the control group")} may read hapd's status (the peer is uid {c.Peer.Uid}, gid {c.Peer.Gid}).");
        }
        else
        {
            if (HapdCommands.Changes(request.Command)) _log.Info($"Control socket: {request.Command} from {c.Peer}");
            answer = _handle(request);
        }
        c.WriteLine(JsonSerializer.Serialize(answer, HapdControlJsonContext.Default.HapdResponse));
    }

    public static HapdResponse Error(string id, string category, string message) => new() { Ok = false, ErrorId = id, Category = category, Message = message };

    public void Dispose() => _server.Dispose();
}
