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
        return r.State ?? throw new HaException("HapdBadAnswer", HaErrorCategory.ProtocolError, $"hapd on {socketPath} answered without its state.", socketPath);
    }
}
