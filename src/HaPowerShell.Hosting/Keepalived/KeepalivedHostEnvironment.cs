using System.Net;
using System.Net.Sockets;
using HaPowerShell.Core.Keepalived;
using HaPowerShell.Native.Processes;
using HaPowerShell.Native.Rtnl;

namespace HaPowerShell.Hosting.Keepalived;

/// <summary>
/// This host, as keepalived -t sees it: the interfaces of this network namespace (rtnetlink), users and
/// groups, files (stat/lstat), $PATH and name resolution. Read once per configuration checked.
/// </summary>
public sealed class KeepalivedHostEnvironment : IKeepalivedEnvironment
{
    private const uint IffMulticast = 0x1000;
    private readonly Dictionary<string, KeepalivedInterfaceInfo> _interfaces = new(StringComparer.Ordinal);
    private readonly Dictionary<string, bool> _resolved = new(StringComparer.Ordinal);

    public KeepalivedHostEnvironment(Func<RtnlClient> rtnl)
    {
        IReadOnlyList<LinkInfo> links;
        try { links = rtnl().GetLinks(); }
        catch (Exception) { links = Array.Empty<LinkInfo>(); }
        foreach (var l in links)
            _interfaces[l.Name] = new KeepalivedInterfaceInfo
            {
                Name = l.Name,
                IsLoopback = l.IsLoopback || l.HardwareType == LinkInfo.ArphrdLoopback,
                IsEthernet = l.HardwareType == LinkInfo.ArphrdEther,
                SupportsMulticast = (l.Flags & IffMulticast) != 0,
                Mtu = (int)l.Mtu,
                IsPrivateMacvlan = l.Kind == "macvlan",
                IsL2Ipvlan = l.Kind == "ipvlan",
            };
        SearchPath = (Environment.GetEnvironmentVariable("PATH") ?? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
            .Split(':');
    }

    public KeepalivedInterfaceInfo? GetInterface(string name) => _interfaces.GetValueOrDefault(name);

    public bool TryGetUser(string name, out uint uid, out uint gid)
    {
        uid = gid = 0;
        if (string.IsNullOrEmpty(name)) return false;
        var u = UserAccount.Find(name);
        if (u is null || uint.TryParse(name, out _) && u.Name != name) return false;
        uid = u.Uid;
        gid = u.Gid;
        return true;
    }

    public bool TryGetGroup(string name, out uint gid)
    {
        gid = 0;
        if (string.IsNullOrEmpty(name)) return false;
        var g = GroupAccount.Find(name);
        if (g is null) return false;
        gid = g.Gid;
        return true;
    }

    public KeepalivedFileStatus? Stat(string path, bool followLinks)
    {
        FileStatus? st;
        try { st = followLinks ? FileStatus.Stat(path) : FileStatus.Lstat(path); }
        catch (IOException) { return null; }
        return st is null ? null : new KeepalivedFileStatus
        {
            IsDirectory = st.IsDirectory,
            IsRegularFile = st.IsRegularFile,
            IsSymbolicLink = st.IsSymbolicLink,
            OwnerId = st.Uid,
            GroupId = st.Gid,
            Mode = st.Permissions,
        };
    }

    public string? RealPath(string path)
    {
        try
        {
            string full = Path.GetFullPath(path);
            for (int i = 0; i < 40; i++)
            {
                var info = new FileInfo(full);
                if (!info.Exists && !Directory.Exists(full)) return null;
                // Resolve the directory part, then the last component.
                string dir = Path.GetDirectoryName(full) ?? "/";
                string? realDir = dir == "/" ? "/" : new DirectoryInfo(dir).ResolveLinkTarget(true)?.FullName ?? ResolveDirectory(dir);
                string candidate = Path.Combine(realDir ?? dir, Path.GetFileName(full));
                var target = new FileInfo(candidate).LinkTarget;
                if (target is null) return candidate;
                full = Path.GetFullPath(target, realDir ?? dir);
            }
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException) { return null; }
    }

    private static string ResolveDirectory(string dir)
    {
        string parent = Path.GetDirectoryName(dir) ?? "/";
        string realParent = parent == "/" ? "/" : ResolveDirectory(parent);
        string candidate = Path.Combine(realParent, Path.GetFileName(dir));
        var target = new DirectoryInfo(candidate).LinkTarget;
        return target is null ? candidate : Path.GetFullPath(target, realParent);
    }

    public IReadOnlyList<string> SearchPath { get; }

    public bool TryResolve(string host, out AddressFamily family)
    {
        family = AddressFamily.InterNetwork;
        if (IPAddress.TryParse(host, out var literal)) { family = literal.AddressFamily; return true; }
        if (_resolved.TryGetValue(host, out bool ok)) return ok;
        try
        {
            var task = Dns.GetHostAddressesAsync(host);
            ok = task.Wait(TimeSpan.FromSeconds(3)) && task.Result.Length > 0;
            if (ok) family = task.Result[0].AddressFamily;
        }
        catch (Exception) { ok = false; }
        _resolved[host] = ok;
        return ok;
    }

    public uint EffectiveUserId => UserAccount.EffectiveUid;
    public uint EffectiveGroupId => GroupAccount.EffectiveGid;
    public int ProcessorCount => Environment.ProcessorCount;
    public bool IgmpLinkLocalReportsWritable => File.Exists("/proc/sys/net/ipv4/igmp_link_local_mcast_reports");
    public bool NetworkNamespaceExists(string name) => File.Exists("/run/netns/" + name) || File.Exists("/var/run/netns/" + name);
}
