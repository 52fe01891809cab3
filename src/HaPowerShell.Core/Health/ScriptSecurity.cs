using HaPowerShell.Native.Processes;

namespace HaPowerShell.Core.Health;

/// <summary>File metadata for the safety rules; faked in tests.</summary>
public interface IFileStatSource
{
    /// <summary>stat (<paramref name="follow"/>) or lstat of a path; null when it does not exist.</summary>
    FileStatus? Stat(string path, bool follow);
}

/// <summary>The answer of <see cref="ScriptSecurity.Evaluate"/>.</summary>
public sealed record ScriptSecurityVerdict(bool IsSafe, string? OffendingPath, string? Reason, string? ResolvedPath)
{
    public static ScriptSecurityVerdict Safe(string resolved) => new(true, null, null, resolved);
    public static ScriptSecurityVerdict Unsafe(string path, string reason) => new(false, path, reason, null);
}

/// <summary>
/// Decides whether a program may be run by root: no one but root may be able to change the file,
/// or swap it (or any directory or symbolic link on its path, followed to the end) for another.
/// Rules, applied to every component as the path is walked (links resolved as the kernel would):
/// the final file is owned by root and not group- or world-writable; every directory that holds
/// a component is owned by root and either not group- or world-writable, or sticky (like /tmp)
/// with the component owned by root, since then only root can rename or delete it.
/// Group write counts even for group 0: we cannot tell who is in a group, so we do not guess.
/// </summary>
public sealed class ScriptSecurity
{
    private const uint GroupWrite = 0x10, OtherWrite = 0x02, Sticky = 0x200;
    private const int MaxLinks = 40;
    private readonly IFileStatSource _files;

    public ScriptSecurity(IFileStatSource files) => _files = files;

    public ScriptSecurityVerdict Evaluate(string path)
    {
        if (!path.StartsWith('/')) return ScriptSecurityVerdict.Unsafe(path, "the path is not absolute");
        var pending = new LinkedList<string>(Split(path));
        string current = "/";
        int links = 0;
        var dirCache = new Dictionary<string, FileStatus?>();
        FileStatus? last = _files.Stat("/", follow: false);
        if (last is null) return ScriptSecurityVerdict.Unsafe("/", "the root directory cannot be read");

        while (pending.First is { } node)
        {
            pending.RemoveFirst();
            string name = node.Value;
            if (name is "" or ".") continue;
            if (name == "..")
            {
                current = Parent(current);
                last = Get(current, dirCache);
                continue;
            }
            var dir = Get(current, dirCache);
            if (dir is null || !dir.IsDirectory) return ScriptSecurityVerdict.Unsafe(current, "it is not a directory");
            string candidate = current == "/" ? "/" + name : current + "/" + name;
            var st = _files.Stat(candidate, follow: false);
            if (st is null) return ScriptSecurityVerdict.Unsafe(candidate, "it does not exist");

            if (DirectoryFlaw(dir, st) is { } flaw) return ScriptSecurityVerdict.Unsafe(current, flaw);

            if (st.IsSymbolicLink)
            {
                if (++links > MaxLinks) return ScriptSecurityVerdict.Unsafe(candidate, "too many levels of symbolic links");
                string target = st.LinkTarget ?? "";
                if (target.Length == 0) return ScriptSecurityVerdict.Unsafe(candidate, "the symbolic link cannot be read");
                var parts = Split(target);
                for (int i = parts.Count - 1; i >= 0; i--) pending.AddFirst(parts[i]);
                if (target.StartsWith('/')) current = "/";
                continue;
            }
            current = candidate;
            last = st;
            dirCache[candidate] = st;
        }

        if (last is null) return ScriptSecurityVerdict.Unsafe(current, "it does not exist");
        if (last.Uid != 0) return ScriptSecurityVerdict.Unsafe(current, $"the file is owned by uid {last.Uid}, not root");
        if ((last.Permissions & (GroupWrite | OtherWrite)) != 0)
            return ScriptSecurityVerdict.Unsafe(current, $"the file is {Writable(last)} (mode {Convert.ToString(last.Permissions, 8)})");
        return ScriptSecurityVerdict.Safe(current);
    }

    /// <summary>Why <paramref name="dir"/> lets a non-root user replace <paramref name="entry"/>, or null when it does not.</summary>
    public static string? DirectoryFlaw(FileStatus dir, FileStatus entry)
    {
        if (dir.Uid != 0) return $"the directory is owned by uid {dir.Uid}, not root";
        if ((dir.Permissions & (GroupWrite | OtherWrite)) == 0) return null;
        if ((dir.Permissions & Sticky) != 0 && entry.Uid == 0) return null;
        return $"the directory is {Writable(dir)} (mode {Convert.ToString(dir.Permissions, 8)})" +
               ((dir.Permissions & Sticky) != 0 ? $" and the entry in it is owned by uid {entry.Uid}" : "");
    }

    private static string Writable(FileStatus st) => (st.Permissions & (GroupWrite | OtherWrite)) switch
    {
        GroupWrite | OtherWrite => "group- and world-writable",
        GroupWrite => $"group-writable (gid {st.Gid})",
        _ => "world-writable",
    };

    private FileStatus? Get(string path, Dictionary<string, FileStatus?> cache)
    {
        if (!cache.TryGetValue(path, out var st)) cache[path] = st = _files.Stat(path, follow: false);
        return st;
    }

    private static List<string> Split(string path) => path.Split('/', StringSplitOptions.RemoveEmptyEntries).ToList();

    private static string Parent(string dir)
    {
        if (dir == "/") return "/";
        int i = dir.LastIndexOf('/');
        return i <= 0 ? "/" : dir[..i];
    }
}
