namespace HaPowerShell.Native.Proc;

/// <summary>
/// Keeps transparent huge pages out of this process: <c>prctl(PR_SET_THP_DISABLE)</c> (Linux 3.15). With THP set to
/// "always" (Debian's default) the kernel backs an aligned 2 MiB range of a small daemon's memory with one huge page
/// as soon as it is touched, 2 MiB resident for a few KB in use: a thread's 8 MiB stack (threads made by native
/// code get the default size) or two adjacent GC regions. A mark on each mapping (MADV_NOHUGEPAGE) does not reach a
/// thread's stack, which is touched the moment the thread starts; the process-wide flag does. It applies to pages
/// touched afterwards, and is inherited by the processes this one starts (scripts), as the man page says.
/// </summary>
public static class HugePages
{
    private const int PR_SET_THP_DISABLE = 41;

    /// <summary>Turns transparent huge pages off for this process; 0, or the errno of a refusal.</summary>
    public static int DisableForProcess()
        => Processes.Prctl.Call(PR_SET_THP_DISABLE, 1) == 0 ? 0 : System.Runtime.InteropServices.Marshal.GetLastPInvokeError();
}
