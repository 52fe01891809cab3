using System.Text.Json;
using HaPowerShell.Core.Keepalived.Runtime;
using HaPowerShell.Native;
using HaPowerShell.Native.Daemon;

namespace HaPowerShell.Daemon;

/// <summary>
/// hapd's control socket: one request a connection, one JSON line each way (<see cref="HapdRequest"/>,
/// <see cref="HapdResponse"/>, source-generated System.Text.Json). Root may do everything; members of the control
/// group (when one is given) may read the status and the events. The peer is known from SO_PEERCRED. Requests run on
/// the daemon's main thread, between signals. The "events" request keeps its connection: after the answer line,
/// every <see cref="Publish"/>ed <see cref="HapdEvent"/> is written to it as a line by a dispatcher thread, so a slow
/// or stuck reader never holds up an engine (the queue is bounded; what a full queue drops is counted and reported
/// in the stream as a Hapd event).
/// </summary>
public sealed class ControlServer : IDisposable
{
    private readonly UnixStreamServer _server;
    private readonly uint? _group;
    private readonly Func<HapdRequest, HapdResponse> _handle;
    private readonly DaemonLog _log;
    private readonly Thread _thread;
    private readonly object _eventSync = new();
    private readonly List<UnixStreamConnection> _subscribers = new();
    private readonly Queue<HapdEvent> _pending = new();
    private Thread? _dispatcher;
    private long _lost;
    private bool _disposed;

    /// <summary>At most this many event readers at once; at most this many events wait for a slow one.</summary>
    public const int MaxSubscribers = 16, MaxPendingEvents = 4096;

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
            bool kept = false;
            try { kept = Serve(c); }
            catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or ObjectDisposedException)
            {
                _log.Warning($"Control socket: the client ({c.Peer}) went away: {e.Message}");
            }
            finally { if (!kept) c.Dispose(); }
        }
    }

    /// <summary>Answers one request; true when the connection became an event reader (kept open).</summary>
    private bool Serve(UnixStreamConnection c)
    {
        string? line = c.ReadLine();
        if (line is null) return false;
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
        else if (request.Command == HapdCommands.Events)
            return Subscribe(c);
        else
        {
            if (HapdCommands.Changes(request.Command)) _log.Info($"Control socket: {request.Command} from {c.Peer}");
            answer = _handle(request);
        }
        c.WriteLine(JsonSerializer.Serialize(answer, HapdControlJsonContext.Default.HapdResponse));
        return false;
    }

    private bool Subscribe(UnixStreamConnection c)
    {
        lock (_eventSync)
        {
            if (_subscribers.Count >= MaxSubscribers)
            {
                c.WriteLine(JsonSerializer.Serialize(Error("HapdTooManyEventReaders", "LimitsExceeded",
                    $"hapd already sends its events to {MaxSubscribers} readers; end one (Unregister-HapdEvent) and try again."), HapdControlJsonContext.Default.HapdResponse));
                return false;
            }
            c.WriteLine(JsonSerializer.Serialize(new HapdResponse { Ok = true }, HapdControlJsonContext.Default.HapdResponse));
            _subscribers.Add(c);
            if (_dispatcher is null)
            {
                _dispatcher = new Thread(Dispatch) { IsBackground = true, Name = "hapd events" };
                _dispatcher.Start();
            }
        }
        _log.Info($"Control socket: events to {c.Peer}");
        return true;
    }

    /// <summary>Queues an event for the readers (any thread; never blocks on a reader). Without readers it is dropped at once.</summary>
    public void Publish(HapdEvent e)
    {
        lock (_eventSync)
        {
            if (_subscribers.Count == 0 || _disposed) return;
            if (_pending.Count >= MaxPendingEvents) { _pending.Dequeue(); _lost++; }
            _pending.Enqueue(e);
            Monitor.Pulse(_eventSync);
        }
    }

    private void Dispatch()
    {
        var batch = new List<HapdEvent>();
        while (true)
        {
            List<UnixStreamConnection> readers;
            long lost;
            lock (_eventSync)
            {
                while (_pending.Count == 0 && !_disposed) Monitor.Wait(_eventSync);
                if (_disposed) return;
                batch.Clear();
                batch.AddRange(_pending);
                _pending.Clear();
                lost = _lost;
                _lost = 0;
                readers = _subscribers.ToList();
            }
            if (lost > 0)
                batch.Insert(0, new HapdEvent { Time = DateTime.UtcNow, Source = "Hapd", Kind = "EventsLost", Message = $"{lost} event(s) dropped: a reader was too slow" });
            var text = string.Join("\n", batch.Select(x => JsonSerializer.Serialize(x, HapdControlJsonContext.Default.HapdEvent)));
            foreach (var r in readers)
            {
                try { r.WriteLine(text); }
                catch (Exception ex) when (ex is IOException or System.Net.Sockets.SocketException or ObjectDisposedException)
                {
                    lock (_eventSync) _subscribers.Remove(r);
                    r.Dispose();
                    _log.Info($"Control socket: the event reader {r.Peer} went away");
                }
            }
        }
    }

    public static HapdResponse Error(string id, string category, string message) => new() { Ok = false, ErrorId = id, Category = category, Message = message };

    /// <summary>Closes the socket and ends every event reader's stream.</summary>
    public void Dispose()
    {
        _server.Dispose();
        lock (_eventSync)
        {
            _disposed = true;
            foreach (var r in _subscribers) r.Dispose();
            _subscribers.Clear();
            Monitor.PulseAll(_eventSync);
        }
    }
}
