using System.Runtime.InteropServices;

namespace HaPowerShell.Native.Processes;

/// <summary>The nice value of the calling thread (Linux schedules threads, so setpriority on a thread id affects that thread only).</summary>
public static class ThreadNice
{
    private const int PrioProcess = 0;

    [DllImport("libc", SetLastError = true)] private static extern int setpriority(int which, uint who, int prio);
    [DllImport("libc")] private static extern int gettid();

    /// <summary>Sets the calling thread's nice value (-20..19); returns 0 or the errno (EACCES/EPERM: lowering it needs root or CAP_SYS_NICE).</summary>
    public static int SetCurrentThread(int nice)
    {
        if (nice is < -20 or > 19) throw new ArgumentOutOfRangeException(nameof(nice));
        return setpriority(PrioProcess, (uint)gettid(), nice) == 0 ? 0 : Marshal.GetLastPInvokeError();
    }
}
