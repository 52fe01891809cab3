using System.Diagnostics;
using System.Globalization;
using System.Text;
using HaPowerShell.Native.Daemon;

namespace HaPowerShell.Daemon;

/// <summary>
/// sd_notify for Type=notify units: READY=1 once the configuration runs, RELOADING=1 (with MONOTONIC_USEC, as
/// systemd 253+ wants for Type=notify-reload) while a reload is applied, STOPPING=1 on the way out, STATUS= lines.
/// Does nothing when NOTIFY_SOCKET is not set (not started by systemd).
/// </summary>
public sealed class SystemdNotifier : IDisposable
{
    private readonly UnixDatagramSender? _socket;

    public SystemdNotifier()
    {
        if (Environment.GetEnvironmentVariable("NOTIFY_SOCKET") is { Length: > 0 } path)
            _socket = new UnixDatagramSender(path);
    }

    public bool Enabled => _socket is not null;

    public void Ready(string status) => Send($"READY=1\nSTATUS={status}\nMAINPID={Environment.ProcessId}");

    public void Reloading()
    {
        // CLOCK_MONOTONIC in microseconds: Stopwatch's timestamp is CLOCK_MONOTONIC on Linux.
        long usec = (long)(Stopwatch.GetTimestamp() * (1_000_000.0 / Stopwatch.Frequency));
        Send($"RELOADING=1\nMONOTONIC_USEC={usec.ToString(CultureInfo.InvariantCulture)}\nSTATUS=Reloading the configuration");
    }

    public void Stopping() => Send("STOPPING=1\nSTATUS=Stopping");

    public void Status(string status) => Send("STATUS=" + status);

    private void Send(string text) => _socket?.Send(Encoding.UTF8.GetBytes(text));

    public void Dispose() => _socket?.Dispose();
}
