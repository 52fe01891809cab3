using System.Diagnostics;
using System.Text;

// The folder is Process/; the namespace is Processes so that "Process" keeps meaning
// System.Diagnostics.Process everywhere in HaPowerShell.Native.
namespace HaPowerShell.Native.Processes;

/// <summary>What to run: a program with its arguments, never through a shell unless the caller puts one there.</summary>
public sealed class ProcessRunRequest
{
    /// <summary>Absolute path of the program.</summary>
    public required string FileName { get; init; }

    public IReadOnlyList<string> Arguments { get; init; } = Array.Empty<string>();

    /// <summary>Run as this account (needs root); null = as the caller.</summary>
    public UserAccount? User { get; init; }

    /// <summary>Time the program may run before its process group gets SIGTERM.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Time between SIGTERM and SIGKILL (keepalived: 2 s).</summary>
    public TimeSpan KillGrace { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Working directory; null = the root directory (a check must not depend on where it was started).</summary>
    public string? WorkingDirectory { get; init; }

    /// <summary>Extra environment variables for the program.</summary>
    public IReadOnlyDictionary<string, string>? Environment { get; init; }

    /// <summary>At most this many bytes of stdout and of stderr are kept (the rest is read and dropped).</summary>
    public int MaxOutputBytes { get; init; } = 64 * 1024;

    /// <summary>
    /// Make this process a child subreaper so that the run's orphans can be reaped here. Off by
    /// default: a subreaper inherits every orphan of the session, and orphans of programs we did
    /// not start (and .NET does not wait for) would stay zombies.
    /// </summary>
    public bool ReapOrphans { get; init; }
}

/// <summary>How a run ended. Every process of the run's session is gone and reaped when this is returned.</summary>
public sealed class ProcessRunOutcome
{
    /// <summary>Process id of the program; also its process group and session id.</summary>
    public int ProcessId { get; init; }

    /// <summary>Exit status 0-255; for a program killed by a signal, 128 + the signal (as a shell reports it).</summary>
    public int ExitCode { get; init; }

    /// <summary>The signal that ended the program, or 0.</summary>
    public int Signal { get; init; }

    /// <summary>The program outlived its timeout and its process group was terminated.</summary>
    public bool TimedOut { get; init; }

    /// <summary>SIGKILL was needed: something in the group ignored SIGTERM for the whole grace time.</summary>
    public bool Killed { get; init; }

    /// <summary>Processes the program left in its group after it ended, which were terminated.</summary>
    public int LeftoverProcesses { get; init; }

    public TimeSpan Duration { get; init; }
    public DateTimeOffset StartTime { get; init; }
    public string StandardOutput { get; init; } = "";
    public string StandardError { get; init; } = "";
}

/// <summary>Runs programs in process groups of their own; the seam the health-check logic is tested through.</summary>
public interface IProcessGroupRunner
{
    ProcessRunOutcome Run(ProcessRunRequest request, CancellationToken cancellation = default);
}

/// <summary>
/// Starts a program as the leader of a new session (and so of a new process group) through
/// <c>setsid</c>, optionally as another user through <c>setpriv</c>; both exec in place, so the
/// program keeps the pid .NET started, and pid = process group id = session id.
/// On timeout (or cancellation) the whole group gets SIGTERM, then SIGKILL after the grace time.
/// When the program ends, whatever it left in its session is terminated the same way.
/// This process is made a child subreaper (PR_SET_CHILD_SUBREAPER) so that processes orphaned by
/// the program come to us and are reaped here, not left as zombies under an init that may not reap.
/// </summary>
public sealed class ProcessGroupRunner : IProcessGroupRunner
{
    public static ProcessGroupRunner Instance { get; } = new();

    public const string SetsidPath = "/usr/bin/setsid";
    public const string SetprivPath = "/usr/bin/setpriv";

    public ProcessRunOutcome Run(ProcessRunRequest request, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Timeout <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(request), "The timeout must be positive.");
        if (request.ReapOrphans) ChildReaper.EnsureSubreaper();

        var psi = new ProcessStartInfo(Tool(SetsidPath, "setsid"))
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = request.WorkingDirectory ?? "/",
        };
        psi.ArgumentList.Add("--");
        if (request.User is { } user)
        {
            psi.ArgumentList.Add(Tool(SetprivPath, "setpriv"));
            psi.ArgumentList.Add($"--reuid={user.Uid}");
            psi.ArgumentList.Add($"--regid={user.Gid}");
            psi.ArgumentList.Add("--init-groups");
            psi.ArgumentList.Add("--");
            psi.Environment["HOME"] = user.HomeDirectory;
            psi.Environment["USER"] = user.Name;
            psi.Environment["LOGNAME"] = user.Name;
        }
        psi.ArgumentList.Add(request.FileName);
        foreach (var a in request.Arguments) psi.ArgumentList.Add(a);
        if (request.Environment is not null)
            foreach (var (k, v) in request.Environment) psi.Environment[k] = v;

        var start = DateTimeOffset.Now;
        var clock = Stopwatch.StartNew();
        using var process = Process.Start(psi) ?? throw new InvalidOperationException($"Could not start {request.FileName}.");
        int pid = process.Id;
        process.StandardInput.Close();
        var stdout = ReadCapped(process.StandardOutput.BaseStream, request.MaxOutputBytes);
        var stderr = ReadCapped(process.StandardError.BaseStream, request.MaxOutputBytes);

        bool timedOut = false, killed = false;
        int leftovers = 0;
        var deadline = Deadline.After(request.Timeout);
        while (!process.WaitForExit(50))
        {
            if (deadline.HasPassed || cancellation.IsCancellationRequested)
            {
                timedOut = !cancellation.IsCancellationRequested;
                killed = TerminateSession(pid, request.KillGrace, process);
                break;
            }
        }
        process.WaitForExit();
        var duration = clock.Elapsed;

        // The leader is gone; anything it left behind in its session is stopped too.
        var rest = ProcessTable.LiveInSession(pid);
        if (rest.Count > 0)
        {
            leftovers = rest.Count;
            killed |= TerminateSession(pid, request.KillGrace, null);
        }
        if (ChildReaper.IsSubreaper) ChildReaper.ReapSession(pid, TimeSpan.FromSeconds(1));

        // Everything of the session is gone; a descendant that left the session (setsid -f, a double fork)
        // can still hold the output open. The run is not over until the output is: wait for it up to the
        // timeout, then stop whatever holds it. Duration and TimedOut say what really happened.
        var pipes = new[] { PipeInode(process.StandardOutput.BaseStream), PipeInode(process.StandardError.BaseStream) }
            .OfType<ulong>().ToArray();
        var outputDone = Task.WhenAll(stdout, stderr);
        long leftMs = Math.Min(int.MaxValue, deadline.RemainingNanoseconds / 1_000_000);
        bool closed;
        try { closed = outputDone.Wait((int)leftMs, cancellation); }
        catch (OperationCanceledException) { closed = false; }
        if (!closed)
        {
            var holders = pipes.Length == 0 ? new List<int>() : ProcessTable.HoldingPipes(pipes);
            if (holders.Count > 0)
            {
                timedOut |= !cancellation.IsCancellationRequested;
                leftovers += holders.Count;
                killed |= TerminateProcesses(holders, request.KillGrace);
                if (ChildReaper.IsSubreaper) ChildReaper.Reap(holders); // orphans come to us, the subreaper
            }
        }
        duration = clock.Elapsed;

        // Everything holding the pipes is dead now, so the readers see end of file.
        string outText = WaitText(stdout), errText = WaitText(stderr);

        int raw = process.ExitCode; // .NET: exit status, or 128 + signal for a signalled child
        // .NET folds "killed by signal N" into 128 + N; a program may exit with 128 + N itself, so the
        // signal is only reported when we sent one. Both mean the same to a health check: failure.
        int signal = (timedOut || cancellation.IsCancellationRequested) && raw - 128 is 9 or 15 ? raw - 128 : 0;
        return new ProcessRunOutcome
        {
            ProcessId = pid,
            ExitCode = raw,
            Signal = signal,
            TimedOut = timedOut,
            Killed = killed,
            LeftoverProcesses = leftovers,
            Duration = duration,
            StartTime = start,
            StandardOutput = outText,
            StandardError = errText,
        };
    }

    /// <summary>SIGTERM to the group (and any member that moved to another group of the session), SIGKILL after the grace time.</summary>
    /// <returns>True when SIGKILL was needed.</returns>
    private static bool TerminateSession(int sid, TimeSpan grace, Process? leader)
    {
        SignalSession(sid, Tmds.Linux.LibC.SIGTERM);
        var graceEnds = Deadline.After(grace);
        while (!graceEnds.HasPassed)
        {
            leader?.WaitForExit(0);
            if (ProcessTable.LiveInSession(sid).Count == 0) return false;
            Thread.Sleep(20);
        }
        SignalSession(sid, Tmds.Linux.LibC.SIGKILL);
        var killWait = Deadline.After(TimeSpan.FromSeconds(5));
        while (ProcessTable.LiveInSession(sid).Count > 0 && !killWait.HasPassed) Thread.Sleep(10);
        return true;
    }

    /// <summary>SIGTERM to each process, SIGKILL to those still there after the grace time. True when SIGKILL was needed.</summary>
    private static bool TerminateProcesses(IReadOnlyList<int> pids, TimeSpan grace)
    {
        foreach (var p in pids) Tmds.Linux.LibC.kill(p, Tmds.Linux.LibC.SIGTERM);
        var clock = Stopwatch.StartNew();
        List<int> alive;
        do
        {
            alive = pids.Where(p => ProcessTable.Read(p) is { IsZombie: false }).ToList();
            if (alive.Count == 0) return false;
            Thread.Sleep(20);
        } while (clock.Elapsed < grace);
        foreach (var p in alive) Tmds.Linux.LibC.kill(p, Tmds.Linux.LibC.SIGKILL);
        return true;
    }

    /// <summary>The pipe behind one of the child's redirected streams (our read end).</summary>
    private static ulong? PipeInode(Stream s)
    {
        System.Runtime.InteropServices.SafeHandle? h = s switch
        {
            System.IO.Pipes.PipeStream p => p.SafePipeHandle,
            FileStream f => f.SafeFileHandle,
            _ => null,
        };
        return h is null || h.IsInvalid ? null : ProcessTable.PipeInode((int)h.DangerousGetHandle());
    }

    private static void SignalSession(int sid, int signal)
    {
        Tmds.Linux.LibC.kill(-sid, signal); // the process group (ESRCH when it is already empty)
        foreach (var p in ProcessTable.LiveInSession(sid)) Tmds.Linux.LibC.kill(p.ProcessId, signal);
    }

    private static string Tool(string path, string name)
    {
        if (File.Exists(path)) return path;
        foreach (var dir in (System.Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin").Split(':'))
        {
            var p = Path.Combine(dir, name);
            if (dir.Length > 0 && File.Exists(p)) return p;
        }
        throw new FileNotFoundException($"'{name}' (util-linux) is needed to run checks in their own process group; install util-linux.", name);
    }

    private static Task<string> ReadCapped(Stream stream, int max) => Task.Run(async () =>
    {
        var kept = new MemoryStream();
        var buffer = new byte[8192];
        int n;
        while ((n = await stream.ReadAsync(buffer).ConfigureAwait(false)) > 0)
        {
            int room = max - (int)kept.Length;
            if (room > 0) kept.Write(buffer, 0, Math.Min(room, n));
        }
        return Encoding.UTF8.GetString(kept.GetBuffer(), 0, (int)kept.Length);
    });

    private static string WaitText(Task<string> t)
    {
        // Something outside the session (setsid'd away) could still hold a pipe: do not wait forever.
        return t.Wait(TimeSpan.FromSeconds(2)) ? t.Result : "";
    }
}
