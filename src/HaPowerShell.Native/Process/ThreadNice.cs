using System.Runtime.InteropServices;

namespace HaPowerShell.Native.Processes;

/// <summary>How a thread is scheduled: a real-time policy and priority, or the normal policy and a nice value.</summary>
/// <param name="Policy">SCHED_OTHER (0), SCHED_FIFO (1), SCHED_RR (2), SCHED_BATCH (3), SCHED_IDLE (5).</param>
/// <param name="RealtimePriority">1..99 for SCHED_FIFO/SCHED_RR, else 0.</param>
/// <param name="Nice">The nice value (-20..19); it only matters for the normal policies.</param>
public readonly record struct ThreadScheduling(int Policy, int RealtimePriority, int Nice)
{
    public const int SchedOther = 0, SchedFifo = 1, SchedRr = 2;

    public bool IsRealtime => Policy is SchedFifo or SchedRr;

    /// <summary>"SCHED_RR 10", "SCHED_FIFO 5" or "nice 0" (the form keepalived users know from chrt and ps).</summary>
    public override string ToString() => Policy switch
    {
        SchedFifo => $"SCHED_FIFO {RealtimePriority}",
        SchedRr => $"SCHED_RR {RealtimePriority}",
        3 => $"SCHED_BATCH nice {Nice}",
        5 => "SCHED_IDLE",
        _ => $"nice {Nice}",
    };
}

/// <summary>The scheduling of the calling thread: its nice value or a real-time priority (Linux schedules threads, so these affect that thread only).</summary>
public static class ThreadNice
{
    private const int PrioProcess = 0;
    private const int SchedResetOnFork = 0x40000000;

    [DllImport("libc", SetLastError = true)] private static extern int setpriority(int which, uint who, int prio);
    [DllImport("libc", SetLastError = true)] private static extern int getpriority(int which, uint who);
    [DllImport("libc")] private static extern int gettid();
    [DllImport("libc", SetLastError = true)] private static extern int sched_setscheduler(int pid, int policy, ref int param);
    [DllImport("libc", SetLastError = true)] private static extern int sched_getscheduler(int pid);
    [DllImport("libc", SetLastError = true)] private static extern int sched_getparam(int pid, out int param);

    /// <summary>Sets the calling thread's nice value (-20..19); returns 0 or the errno (EACCES/EPERM: lowering it needs root or CAP_SYS_NICE).</summary>
    public static int SetCurrentThread(int nice)
    {
        if (nice is < -20 or > 19) throw new ArgumentOutOfRangeException(nameof(nice));
        return setpriority(PrioProcess, (uint)gettid(), nice) == 0 ? 0 : Marshal.GetLastPInvokeError();
    }

    /// <summary>
    /// Makes the calling thread real-time, SCHED_RR at <paramref name="priority"/> (1..99), with SCHED_RESET_ON_FORK so that
    /// what it creates does not inherit it; returns 0 or the errno (EPERM: needs root or CAP_SYS_NICE).
    /// </summary>
    public static int SetCurrentThreadRealtime(int priority)
    {
        if (priority is < 1 or > 99) throw new ArgumentOutOfRangeException(nameof(priority));
        int p = priority;
        // SCHED_RESET_ON_FORK: threads and processes this thread creates (thread-pool workers, scripts) start normal.
        return sched_setscheduler(gettid(), ThreadScheduling.SchedRr | SchedResetOnFork, ref p) == 0 ? 0 : Marshal.GetLastPInvokeError();
    }

    /// <summary>The calling thread's policy, real-time priority and nice value.</summary>
    public static ThreadScheduling GetCurrentThread() => Get(gettid());

    /// <summary>The scheduling of thread <paramref name="tid"/> of this process (for diagnostics and tests).</summary>
    public static ThreadScheduling Get(int tid)
    {
        int policy = sched_getscheduler(tid);
        if (policy < 0) throw new InvalidOperationException($"sched_getscheduler({tid}): {Errno.Describe(Marshal.GetLastPInvokeError())}");
        policy &= ~SchedResetOnFork;
        int rt = sched_getparam(tid, out int p) == 0 ? p : 0;
        // getpriority returns the nice value, and -1 both for nice -1 and for an error: errno tells them apart.
        Marshal.SetLastSystemError(0);
        int nice = getpriority(PrioProcess, (uint)tid);
        if (nice == -1 && Marshal.GetLastPInvokeError() != 0) nice = 0;
        return new ThreadScheduling(policy, rt, nice);
    }

    /// <summary>
    /// Puts the calling thread back to <paramref name="s"/> as <see cref="GetCurrentThread"/> returned it
    /// (policy and priority, then the nice value; SCHED_RESET_ON_FORK set, so threads and processes it creates
    /// start at the normal policy and nice 0 or above); returns 0 or the first errno.
    /// </summary>
    public static int SetCurrentThread(ThreadScheduling s)
    {
        int tid = gettid();
        int p = s.IsRealtime ? s.RealtimePriority : 0;
        if (sched_setscheduler(tid, s.Policy | SchedResetOnFork, ref p) != 0) return Marshal.GetLastPInvokeError();
        if (!s.IsRealtime && setpriority(PrioProcess, (uint)tid, s.Nice) != 0) return Marshal.GetLastPInvokeError();
        return 0;
    }

    /// <summary>The kernel id of the calling thread.</summary>
    public static int CurrentThreadId => gettid();
}
