using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace HaPowerShell.Native.Proc;

/// <summary>What <see cref="ExecutablePages.PageOut"/> did: the mappings and bytes it asked about, and the first refusal.</summary>
public readonly record struct PageOutResult(int Mappings, long Bytes, int Errno);

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
    public static unsafe PageOutResult PageOut(IReadOnlyList<ProcMapping>? mappings = null)
    {
        string? exe = Environment.ProcessPath;
        if (exe is null) return new PageOutResult(0, 0, 0);
        var mine = Of(mappings ?? ProcMaps.Self(), exe);
        int error = 0;
        long bytes = 0;
        foreach (var m in mine)
        {
            bytes += (long)(m.End - m.Start);
            if (madvise((void*)m.Start, (size_t)(m.End - m.Start), MadvPageOut) != 0 && error == 0) error = errno;
        }
        return new PageOutResult(mine.Count, bytes, error);
    }

    /// <summary>The mappings of <paramref name="path"/> that are not writable.</summary>
    public static List<ProcMapping> Of(IReadOnlyList<ProcMapping> mappings, string path)
        => mappings.Where(m => m.Path == path && !m.IsWritable).ToList();
}
