using System.Text.Json;
using HaPowerShell.Core.Keepalived.Runtime;
using HaPowerShell.Native;
using HaPowerShell.Native.Daemon;

namespace HaPowerShell.Hosting.Keepalived;

/// <summary>
/// The module's side of hapd's control socket: sends one <see cref="HapdRequest"/> and returns the daemon's state
/// after it, or throws the daemon's refusal as an <see cref="HaException"/> with its id and category.
/// </summary>
public static class HapdControlClient
{
    /// <summary>hapd's default control socket (next to its default pid file /run/keepalived.pid).</summary>
    public const string DefaultSocketPath = "/run/hapd.sock";

    public static HapdState Send(string socketPath, HapdRequest request, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(request);
        string line = UnixStreamClient.Exchange(socketPath, JsonSerializer.Serialize(request, HapdControlJsonContext.Default.HapdRequest), timeout);
        var r = Accepted(socketPath, request, line);
        return r.State ?? throw new HaException("HapdBadAnswer", HaErrorCategory.ProtocolError, $"hapd on {socketPath} answered without its state.", socketPath);
    }

    /// <summary>
    /// Opens hapd's event stream (request "events"; root or the control group): <see cref="HapdEventStream.Next"/>
    /// returns each event as hapd sends it. A refusal (too many readers, not allowed) is thrown as Send does.
    /// </summary>
    public static HapdEventStream OpenEvents(string socketPath, TimeSpan timeout)
    {
        var request = new HapdRequest { Command = HapdCommands.Events };
        var sub = UnixStreamClient.Subscribe(socketPath, JsonSerializer.Serialize(request, HapdControlJsonContext.Default.HapdRequest), timeout, out string line);
        try
        {
            Accepted(socketPath, request, line);
            return new HapdEventStream(socketPath, sub);
        }
        catch
        {
            sub.Dispose();
            throw;
        }
    }

    private static HapdResponse Accepted(string socketPath, HapdRequest request, string line)
    {
        HapdResponse? r;
        try { r = JsonSerializer.Deserialize(line, HapdControlJsonContext.Default.HapdResponse); }
        catch (JsonException e)
        {
            throw new HaException("HapdBadAnswer", HaErrorCategory.ProtocolError, $"The answer on {socketPath} is not hapd's: {e.Message}", socketPath, e);
        }
        if (r is null) throw new HaException("HapdBadAnswer", HaErrorCategory.ProtocolError, $"The answer on {socketPath} is empty.", socketPath);
        if (!r.Ok)
            throw new HaException(r.ErrorId ?? "HapdRequestFailed",
                Enum.TryParse<HaErrorCategory>(r.Category, out var c) ? c : HaErrorCategory.InvalidOperation,
                r.Message ?? "hapd refused the request.", request.Instance ?? request.Service ?? (object)socketPath);
        return r;
    }
}

/// <summary>hapd's events as it sends them (<see cref="HapdControlClient.OpenEvents"/>).</summary>
public sealed class HapdEventStream : IDisposable
{
    private readonly UnixStreamSubscription _subscription;

    internal HapdEventStream(string socketPath, UnixStreamSubscription subscription)
    {
        SocketPath = socketPath;
        _subscription = subscription;
    }

    public string SocketPath { get; }

    /// <summary>Lines that were not one of hapd's events (skipped).</summary>
    public long Unreadable { get; private set; }

    /// <summary>Waits for the next event; null when hapd closed the stream (it stopped) or <see cref="Dispose"/> was called.</summary>
    public HapdEvent? Next()
    {
        while (_subscription.ReadLine() is { } line)
        {
            try
            {
                if (JsonSerializer.Deserialize(line, HapdControlJsonContext.Default.HapdEvent) is { } e) return e;
            }
            catch (JsonException) { }
            Unreadable++;
        }
        return null;
    }

    public void Dispose() => _subscription.Dispose();
}
