using System.Net.Sockets;

namespace HaPowerShell.Core.Keepalived;

/// <summary>What glob(3) (GLOB_BRACE | GLOB_MARK) found for an include pattern or the main file.</summary>
public sealed class KeepalivedGlobResult
{
    /// <summary>Matches in glob's order (each brace alternative sorted, alternatives in the order written); directories end in '/'.</summary>
    public IReadOnlyList<string> Matches { get; init; } = Array.Empty<string>();

    /// <summary>Directories that could not be opened or paths that could not be stat'ed while matching (keepalived's missing_directories + missing_files).</summary>
    public int Missing { get; init; }

    /// <summary>True when the pattern had wildcards (glob opened a directory).</summary>
    public bool HadWildcards { get; init; }

    /// <summary>Set when the expansion was cut short (too many matches); the parser reports it.</summary>
    public bool Truncated { get; init; }
}

/// <summary>The kind of file a path names, as check_glob_file() sees it.</summary>
public enum KeepalivedFileKind
{
    Missing,
    RegularFile,
    ExecutableFile,
    Directory,
    Other,
}

/// <summary>A failure to read a configuration file, with the system's words (strerror).</summary>
public sealed class KeepalivedSourceException : Exception
{
    public KeepalivedSourceException(string message) : base(message) { }
}

/// <summary>
/// Where the configuration text comes from. The parser never touches the disk itself: the cmdlets and
/// the daemon give it a reader of the real file system, tests give it files in memory.
/// </summary>
public interface IKeepalivedConfigSource
{
    /// <summary>Expands an absolute pattern with glob(3)'s rules (GLOB_BRACE | GLOB_MARK), at most <paramref name="maxMatches"/> matches.</summary>
    KeepalivedGlobResult Glob(string pattern, int maxMatches);

    /// <summary>What <paramref name="path"/> is (stat(2), following symbolic links).</summary>
    KeepalivedFileKind GetKind(string path);

    /// <summary>
    /// Reads at most <paramref name="maxBytes"/> + 1 bytes of <paramref name="path"/> (one more than allowed, so a
    /// file over the limit is recognised without reading all of it). Throws <see cref="KeepalivedSourceException"/>.
    /// </summary>
    byte[] Read(string path, long maxBytes, CancellationToken cancel);
}

/// <summary>An interface as the checks need it (keepalived's interface_t).</summary>
public sealed class KeepalivedInterfaceInfo
{
    public string Name { get; init; } = "";
    public bool IsLoopback { get; init; }
    public bool IsEthernet { get; init; } = true;
    public bool SupportsMulticast { get; init; } = true;
    public int Mtu { get; init; } = 1500;
    /// <summary>True for a macvlan in private mode (a VMAC keepalived may reuse).</summary>
    public bool IsPrivateMacvlan { get; init; }
    /// <summary>True for an ipvlan in L2 mode.</summary>
    public bool IsL2Ipvlan { get; init; }

    /// <summary>True for an interface that does not exist yet (dynamic_interfaces): keepalived waits for it.</summary>
    public bool IsPlaceholder { get; init; }
}

/// <summary>stat(2)/lstat(2) of a path, as the script security checks need it.</summary>
public sealed class KeepalivedFileStatus
{
    public bool IsDirectory { get; init; }
    public bool IsRegularFile { get; init; }
    public bool IsSymbolicLink { get; init; }
    public uint OwnerId { get; init; }
    public uint GroupId { get; init; }
    /// <summary>st_mode permission and special bits (07777).</summary>
    public uint Mode { get; init; }
}

/// <summary>
/// The host keepalived would run on: its interfaces, users, files and name resolution. Findings that come
/// from here are environment findings (warnings unless -CheckEnvironment).
/// </summary>
public interface IKeepalivedEnvironment
{
    /// <summary>The interface named <paramref name="name"/>, or null when there is none.</summary>
    KeepalivedInterfaceInfo? GetInterface(string name);

    /// <summary>getpwnam(): the user's uid and primary gid, or false.</summary>
    bool TryGetUser(string name, out uint uid, out uint gid);

    /// <summary>getgrnam(): the group's gid, or false.</summary>
    bool TryGetGroup(string name, out uint gid);

    /// <summary>stat(2) (<paramref name="followLinks"/>) or lstat(2); null when the path does not exist or cannot be reached.</summary>
    KeepalivedFileStatus? Stat(string path, bool followLinks);

    /// <summary>realpath(3); null when it cannot be resolved.</summary>
    string? RealPath(string path);

    /// <summary>The directories of $PATH keepalived searches for a bare script name.</summary>
    IReadOnlyList<string> SearchPath { get; }

    /// <summary>getaddrinfo(): whether the host name resolves, and to which family.</summary>
    bool TryResolve(string host, out AddressFamily family);

    /// <summary>The uid and gid keepalived runs with (root on a real director).</summary>
    uint EffectiveUserId { get; }
    uint EffectiveGroupId { get; }

    /// <summary>sysconf(_SC_NPROCESSORS_ONLN).</summary>
    int ProcessorCount { get; }

    /// <summary>Whether /proc/sys/net/ipv4/igmp_link_local_mcast_reports is writable (disable_local_igmp).</summary>
    bool IgmpLinkLocalReportsWritable { get; }

    /// <summary>Whether the named network namespace (net_namespace) exists (/run/netns/NAME).</summary>
    bool NetworkNamespaceExists(string name);
}
