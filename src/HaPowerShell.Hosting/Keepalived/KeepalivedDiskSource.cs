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
            int size = (int)Math.Min(Math.Min(want, length + 1), int.MaxValue - 64);
            // A file of known size within the limit is read into an array of that size (no copy of a large file), then
            // one more byte is asked for: a file that grew meanwhile reads on as any other, up to one byte past its size.
            bool exact = fs.CanSeek && length < size;
            var buf = new byte[exact ? (int)length : size];
            int n = ReadInto(fs, buf, 0, cancel);
            if (exact && n == buf.Length)
            {
                Span<byte> probe = stackalloc byte[1];
                if (fs.Read(probe) == 0) return buf;
                var grown = new byte[size];
                buf.CopyTo(grown);
                grown[n++] = probe[0];
                buf = grown;
                n = ReadInto(fs, buf, n, cancel);
            }
            return n == buf.Length ? buf : buf.AsSpan(0, n).ToArray();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new KeepalivedSourceException(e is UnauthorizedAccessException ? "Permission denied" : e.Message);
        }
    }

    private static int ReadInto(FileStream fs, byte[] buf, int n, CancellationToken cancel)
    {
        int r;
        while (n < buf.Length && (r = fs.Read(buf, n, Math.Min(buf.Length - n, 1 << 20))) > 0)
        {
            n += r;
            cancel.ThrowIfCancellationRequested();
        }
        return n;
    }
}
