using System.Runtime.InteropServices;

namespace HaPowerShell.Native.Processes;

/// <summary>One line of /proc/[pid]/stat, the fields process-group handling needs.</summary>
public readonly record struct ProcessStat(int ProcessId, string Command, char State, int ParentProcessId, int ProcessGroupId, int SessionId)
{
    /// <summary>Exited but not yet reaped by its parent.</summary>
    public bool IsZombie => State is 'Z' or 'X' or 'x';

    /// <summary>Parses "pid (comm) S ppid pgrp session ..."; the command may itself contain ") ".</summary>
    public static ProcessStat? Parse(string line)
    {
        int open = line.IndexOf('('), close = line.LastIndexOf(')');
        if (open < 1 || close < open || close + 2 >= line.Length) return null;
        if (!int.TryParse(line.AsSpan(0, open).Trim(), out int pid)) return null;
        var rest = line[(close + 2)..].Split(' ', 5);
        if (rest.Length < 4 || rest[0].Length != 1) return null;
        if (!int.TryParse(rest[1], out int ppid) || !int.TryParse(rest[2], out int pgrp) || !int.TryParse(rest[3], out int sid)) return null;
        return new ProcessStat(pid, line[(open + 1)..close], rest[0][0], ppid, pgrp, sid);
    }
}

/// <summary>Reads the process table from /proc.</summary>
public static class ProcessTable
{
    /// <summary>Every process visible in /proc (zombies included).</summary>
    public static List<ProcessStat> All()
    {
        var list = new List<ProcessStat>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            var name = Path.GetFileName(dir);
            if (name.Length == 0 || !char.IsAsciiDigit(name[0])) continue;
            if (Read(int.Parse(name)) is { } s) list.Add(s);
        }
        return list;
    }

    public static ProcessStat? Read(int pid)
    {
        try { return ProcessStat.Parse(File.ReadAllText($"/proc/{pid}/stat")); }
        catch (IOException) { return null; }       // gone meanwhile
        catch (UnauthorizedAccessException) { return null; }
    }

    /// <summary>Processes of a session or process group that have not exited.</summary>
    public static List<ProcessStat> LiveInSession(int sid)
        => All().Where(p => (p.SessionId == sid || p.ProcessGroupId == sid) && !p.IsZombie).ToList();

    /// <summary>Processes of a session or process group, zombies included.</summary>
    public static List<ProcessStat> InSession(int sid)
        => All().Where(p => p.SessionId == sid || p.ProcessGroupId == sid).ToList();

    /// <summary>The pipe an open file descriptor of this process is ("pipe:[inode]"), or null.</summary>
    public static ulong? PipeInode(int fd)
    {
        try { return ParsePipe(new FileInfo($"/proc/self/fd/{fd}").LinkTarget); }
        catch (IOException) { return null; }
    }

    /// <summary>Other processes that hold one of these pipes open (a descendant that escaped its session and kept the output, say).</summary>
    public static List<int> HoldingPipes(IReadOnlyCollection<ulong> inodes)
    {
        var holders = new List<int>();
        int self = Environment.ProcessId;
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            var name = Path.GetFileName(dir);
            if (name.Length == 0 || !char.IsAsciiDigit(name[0]) || !int.TryParse(name, out int pid) || pid == self) continue;
            try
            {
                foreach (var fd in Directory.EnumerateFileSystemEntries(Path.Combine(dir, "fd")))
                {
                    if (ParsePipe(new FileInfo(fd).LinkTarget) is { } inode && inodes.Contains(inode)) { holders.Add(pid); break; }
                }
            }
            catch (IOException) { }                    // gone meanwhile
            catch (UnauthorizedAccessException) { }    // not ours to see (then not ours to signal either)
        }
        return holders;
    }

    private static ulong? ParsePipe(string? link)
        => link is not null && link.StartsWith("pipe:[", StringComparison.Ordinal) && link.EndsWith(']') &&
           ulong.TryParse(link.AsSpan(6, link.Length - 7), out ulong inode) ? inode : null;
}

/// <summary>
/// Makes this process a child subreaper and reaps the orphans of the programs we ran. Only pids of
/// a session we created are reaped, by pid, so children that .NET tracks itself are never touched.
/// </summary>
public static class ChildReaper
{
    private const int PR_SET_CHILD_SUBREAPER = 36;
    private const int WNOHANG = 1;
    private static int _done;

    [DllImport("libc", SetLastError = true)]
    private static extern int waitpid(int pid, out int status, int options);

    /// <summary>Whether this process is a subreaper (false when prctl was refused).</summary>
    public static bool IsSubreaper { get; private set; }

    public static void EnsureSubreaper()
    {
        if (Interlocked.Exchange(ref _done, 1) == 1) return;
        IsSubreaper = Prctl.Call(PR_SET_CHILD_SUBREAPER, 1) == 0;
    }

    /// <summary>Reaps those of these processes that are our zombie children (a process that is not our child is left alone).</summary>
    public static void Reap(IEnumerable<int> pids)
    {
        int self = Environment.ProcessId;
        foreach (var pid in pids)
            if (ProcessTable.Read(pid) is { IsZombie: true } z && z.ParentProcessId == self) waitpid(pid, out _, WNOHANG);
    }

    /// <summary>Reaps zombies of the session that became our children; waits up to <paramref name="wait"/> for the rest to turn up.</summary>
    /// <returns>How many were reaped.</returns>
    public static int ReapSession(int sid, TimeSpan wait)
    {
        int self = Environment.ProcessId, reaped = 0;
        var deadline = Deadline.After(wait);
        while (true)
        {
            var members = ProcessTable.InSession(sid);
            foreach (var z in members.Where(p => p.IsZombie && p.ParentProcessId == self && p.ProcessId != sid))
                if (waitpid(z.ProcessId, out _, WNOHANG) == z.ProcessId) reaped++;
            // done when nothing of the session is left that we could reap (zombies of other parents are theirs)
            if (!ProcessTable.InSession(sid).Any(p => p.ProcessId != sid && (p.ParentProcessId == self || !p.IsZombie))) break;
            if (deadline.HasPassed) break;
            Thread.Sleep(10);
        }
        return reaped;
    }
}

/// <summary>prctl(2), for this process's own settings (a child subreaper, transparent huge pages).</summary>
internal static class Prctl
{
    [DllImport("libc", SetLastError = true)]
    private static extern int prctl(int option, nuint arg2, nuint arg3, nuint arg4, nuint arg5);

    /// <summary>prctl(option, arg2, 0, 0, 0): its result (-1 on a refusal, the errno in Marshal.GetLastPInvokeError).</summary>
    public static int Call(int option, nuint arg2) => prctl(option, arg2, 0, 0, 0);
}
