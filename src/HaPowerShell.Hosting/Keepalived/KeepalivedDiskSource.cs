using HaPowerShell.Core.Keepalived;

namespace HaPowerShell.Hosting.Keepalived;

/// <summary>
/// The real file system for the keepalived.conf parser: glob(3)'s matching for includes, what a path is,
/// and reads bounded to the size limit (so /dev/zero or a huge file costs at most the limit).
/// </summary>
public sealed class KeepalivedDiskSource : IKeepalivedConfigSource
{
    public static KeepalivedDiskSource Instance { get; } = new();

    public KeepalivedGlobResult Glob(string pattern, int maxMatches)
        => KeepalivedGlob.Run(pattern, maxMatches, File.Exists, Directory.Exists, List);

    private static IEnumerable<string>? List(string dir)
    {
        try { return Directory.EnumerateFileSystemEntries(dir).Select(System.IO.Path.GetFileName).Select(n => n!).ToList(); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
    }

    public KeepalivedFileKind GetKind(string path)
    {
        var st = HaPowerShell.Native.Processes.FileStatus.Stat(path);
        if (st is null) return KeepalivedFileKind.Missing;
        if (st.IsDirectory) return KeepalivedFileKind.Directory;
        if (!st.IsRegularFile) return KeepalivedFileKind.Other;
        return (st.Permissions & 0x49) != 0 ? KeepalivedFileKind.ExecutableFile : KeepalivedFileKind.RegularFile;
    }

    public byte[] Read(string path, long maxBytes, CancellationToken cancel)
    {
        try
        {
            using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1 << 16);
            long want = maxBytes + 1;
            long length = fs.CanSeek ? fs.Length : want;
            var buf = new byte[(int)Math.Min(Math.Min(want, length + 1), int.MaxValue - 64)];
            int n = 0, r;
            while (n < buf.Length && (r = fs.Read(buf, n, Math.Min(buf.Length - n, 1 << 20))) > 0)
            {
                n += r;
                cancel.ThrowIfCancellationRequested();
            }
            return n == buf.Length ? buf : buf.AsSpan(0, n).ToArray();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new KeepalivedSourceException(e is UnauthorizedAccessException ? "Permission denied" : e.Message);
        }
    }
}
