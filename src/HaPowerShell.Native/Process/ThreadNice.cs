using System.Runtime.InteropServices;

namespace HaPowerShell.Native.Processes;

/// <summary>The scheduling of the calling thread: its nice value or a real-time priority (Linux schedules threads, so these affect that thread only).</summary>
public static class ThreadNice
{
    private const int PrioProcess = 0;

    [DllImport("libc", SetLastError = true)] private static extern int setpriority(int which, uint who, int prio);
    [DllImport("libc")] private static extern int gettid();
    [DllImport("libc", SetLastError = true)] private static extern int sched_setscheduler(int pid, int policy, ref int param);

    private const int SchedRr = 2;

    /// <summary>Sets the calling thread's nice value (-20..19); returns 0 or the errno (EACCES/EPERM: lowering it needs root or CAP_SYS_NICE).</summary>
    public static int SetCurrentThread(int nice)
    {
        if (nice is < -20 or > 19) throw new ArgumentOutOfRangeException(nameof(nice));
        return setpriority(PrioProcess, (uint)gettid(), nice) == 0 ? 0 : Marshal.GetLastPInvokeError();
    }

    /// <summary>Makes the calling thread real-time, SCHED_RR at <paramref name="priority"/> (1..99); returns 0 or the errno (EPERM: needs root or CAP_SYS_NICE).</summary>
    public static int SetCurrentThreadRealtime(int priority)
    {
        if (priority is < 1 or > 99) throw new ArgumentOutOfRangeException(nameof(priority));
        int p = priority;
        return sched_setscheduler(gettid(), SchedRr, ref p) == 0 ? 0 : Marshal.GetLastPInvokeError();
    }
}
