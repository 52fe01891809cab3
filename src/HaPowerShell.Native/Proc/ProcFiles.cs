namespace HaPowerShell.Native.Proc;

/// <summary>Reads kernel tables exposed under /proc.</summary>
public static class ProcFiles
{
    public const string IpvsConnections = "/proc/net/ip_vs_conn";

    /// <summary>The connection table text, or null when the file does not exist (no IPVS).</summary>
    public static string? ReadIpvsConnections(string path = IpvsConnections)
        => File.Exists(path) ? File.ReadAllText(path) : null;
}
