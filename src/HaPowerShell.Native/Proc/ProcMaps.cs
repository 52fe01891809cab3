using System.Globalization;

namespace HaPowerShell.Native.Proc;

/// <summary>One line of /proc/PID/maps: the address range, the permissions (rwxp/s) and the path (empty for anonymous memory).</summary>
public readonly record struct ProcMapping(ulong Start, ulong End, string Permissions, string Path)
{
    public bool IsWritable => Permissions.Length > 1 && Permissions[1] == 'w';
}

/// <summary>Reads /proc/PID/maps.</summary>
public static class ProcMaps
{
    /// <summary>This process's mappings now.</summary>
    public static List<ProcMapping> Self() => Parse(File.ReadAllText("/proc/self/maps"));

    /// <summary>The mappings of a maps text; a line that is not one is skipped.</summary>
    public static List<ProcMapping> Parse(string mapsText)
    {
        ArgumentNullException.ThrowIfNull(mapsText);
        var found = new List<ProcMapping>();
        foreach (var line in mapsText.Split('\n'))
        {
            // start-end perms offset dev inode [path]; the path is the rest of the line after the inode's spaces.
            var fields = line.Split(' ', 6, StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length < 5) continue;
            int dash = fields[0].IndexOf('-');
            if (dash <= 0
                || !ulong.TryParse(fields[0].AsSpan(0, dash), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out ulong start)
                || !ulong.TryParse(fields[0].AsSpan(dash + 1), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out ulong end)
                || end <= start || fields[1].Length != 4) continue;
            found.Add(new ProcMapping(start, end, fields[1], fields.Length > 5 ? fields[5].Trim() : ""));
        }
        return found;
    }
}
