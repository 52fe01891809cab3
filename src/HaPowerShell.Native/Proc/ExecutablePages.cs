using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace HaPowerShell.Native.Proc;

/// <summary>What a madvise over a set of mappings did: the mappings and bytes it asked about, and the first refusal.</summary>
public readonly record struct MadviseResult(int Mappings, long Bytes, int Errno);

/// <summary>
/// Gives back the pages of the running executable's own file that it touched and no longer uses: the code and read-only
/// data of its start (parsing, planning, one-time set-up), resident since they ran. <c>madvise(MADV_PAGEOUT)</c>
/// (Linux 5.4) on each mapping of the executable that is not writable asks the kernel to reclaim them now; the kernel
/// takes only pages no other process maps, writes nothing back for clean file pages (they are read from the file
/// again when the code runs next), and never discards data (a private page the process changed, such as relocated
/// read-only data, is skipped or swapped). Pages in use come back on their next access.
/// </summary>
public static class ExecutablePages
{
    /// <summary>MADV_PAGEOUT (include/uapi/asm-generic/mman-common.h); Tmds.LibC predates it.</summary>
    public const int MadvPageOut = 21;

    /// <summary>
    /// Asks the kernel to reclaim the executable's non-writable file mappings among <paramref name="mappings"/>
    /// (this process's now when null). Errno is 0, or the first refusal (EINVAL before Linux 5.4).
    /// </summary>
    public static MadviseResult PageOut(IReadOnlyList<ProcMapping>? mappings = null)
    {
        string? exe = Environment.ProcessPath;
        if (exe is null) return new MadviseResult(0, 0, 0);
        return Madvise.Each(Of(mappings ?? ProcMaps.Self(), exe), MadvPageOut);
    }

    /// <summary>The mappings of <paramref name="path"/> that are not writable.</summary>
    public static List<ProcMapping> Of(IReadOnlyList<ProcMapping> mappings, string path)
        => mappings.Where(m => m.Path == path && !m.IsWritable).ToList();
}

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
    private const int PR_SET_THP_DISABLE = 41, PR_GET_THP_DISABLE = 42;

    /// <summary>Turns transparent huge pages off for this process; 0, or the errno of a refusal.</summary>
    public static int DisableForProcess()
        => HaPowerShell.Native.Processes.Prctl.Call(PR_SET_THP_DISABLE, 1) == 0 ? 0 : System.Runtime.InteropServices.Marshal.GetLastPInvokeError();

    /// <summary>Whether transparent huge pages are off for this process (false when the kernel cannot say).</summary>
    public static bool IsDisabledForProcess => HaPowerShell.Native.Processes.Prctl.Call(PR_GET_THP_DISABLE, 0) == 1;
}

internal static class Madvise
{
    public static unsafe MadviseResult Each(IReadOnlyList<ProcMapping> mappings, int advice)
    {
        int error = 0;
        long bytes = 0;
        foreach (var m in mappings)
        {
            bytes += (long)(m.End - m.Start);
            if (madvise((void*)m.Start, (size_t)(m.End - m.Start), advice) != 0 && error == 0) error = errno;
        }
        return new MadviseResult(mappings.Count, bytes, error);
    }
}
