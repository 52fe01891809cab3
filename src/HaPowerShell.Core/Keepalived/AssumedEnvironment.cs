using System.Net.Sockets;

namespace HaPowerShell.Core.Keepalived;

/// <summary>
/// The host a configuration is written for, when none is given: every interface named exists (Ethernet,
/// multicast, MTU 1500), every user and group exists, every script exists, is owned by root, executable and
/// not writable by others, and every host name resolves. Checks against it are about the text alone.
/// </summary>
public sealed class AssumedEnvironment : IKeepalivedEnvironment
{
    public static readonly AssumedEnvironment Instance = new();

    public KeepalivedInterfaceInfo? GetInterface(string name) => new()
    {
        Name = name,
        IsLoopback = name == "lo",
        IsEthernet = name != "lo",
        SupportsMulticast = name != "lo",
    };

    public bool TryGetUser(string name, out uint uid, out uint gid)
    {
        uid = name == "root" ? 0u : 1000u;
        gid = uid;
        return true;
    }

    public bool TryGetGroup(string name, out uint gid)
    {
        gid = name == "root" ? 0u : 1000u;
        return true;
    }

    /// <summary>Every path exists, owned by root, mode 0755; it passes both as the directory and as the file a script path walks through.</summary>
    public KeepalivedFileStatus? Stat(string path, bool followLinks) => new()
    {
        IsDirectory = true,
        IsRegularFile = true,
        OwnerId = 0,
        GroupId = 0,
        Mode = 0x1ED,   // 0755
    };

    public string? RealPath(string path) => path;

    public IReadOnlyList<string> SearchPath { get; } = new[] { "/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin" };

    public bool TryResolve(string host, out AddressFamily family)
    {
        family = AddressFamily.InterNetwork;
        return true;
    }

    public uint EffectiveUserId => 0;
    public uint EffectiveGroupId => 0;
    public int ProcessorCount => Environment.ProcessorCount;
    public bool IgmpLinkLocalReportsWritable => true;
    public bool NetworkNamespaceExists(string name) => true;
}
