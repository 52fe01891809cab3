namespace HaPowerShell.Core.Keepalived;

/// <summary>One keyword line as written in a block: the keyword, its values, where it stands.</summary>
public sealed class KeepalivedSetting
{
    public string Keyword { get; init; } = "";
    public string[] Values { get; init; } = Array.Empty<string>();
    public string? File { get; init; }
    public int Line { get; init; }

    /// <summary>The line as keepalived read it (comments, conditionals and parameters already applied).</summary>
    public string Text { get; init; } = "";

    public override string ToString() => Values.Length == 0 ? Keyword : Keyword + " " + string.Join(" ", Values);
}

/// <summary>A line of a value block (virtual_ipaddress, track_interface, static_routes, ...), kept as text with its place.</summary>
public sealed class KeepalivedTextLine
{
    public string Text { get; init; } = "";
    public string[] Words { get; init; } = Array.Empty<string>();
    public string? File { get; init; }
    public int Line { get; init; }

    internal bool IgnoredWeight { get; set; }

    public override string ToString() => Text;
}

/// <summary>
/// What every object of a parsed configuration has: where it was declared, every keyword line it was given
/// (nothing is dropped), and which of those this module's cmdlets do not act on.
/// </summary>
public abstract class KeepalivedBlock
{
    /// <summary>The file the block starts in.</summary>
    public string? File { get; set; }

    /// <summary>The line of the block's keyword.</summary>
    public int Line { get; set; }

    /// <summary>Every keyword line of the block, in order, with its values and place.</summary>
    public List<KeepalivedSetting> Settings { get; } = new();

    /// <summary>Keywords given here that the cmdlets this object pipes into do not act on (kept in <see cref="Settings"/>).</summary>
    public string[] NotActedOn { get; set; } = Array.Empty<string>();

    /// <summary>The setting of <paramref name="keyword"/>, if given (the last one when given twice).</summary>
    public KeepalivedSetting? Setting(string keyword)
    {
        for (int i = Settings.Count - 1; i >= 0; i--)
            if (Settings[i].Keyword == keyword) return Settings[i];
        return null;
    }

    /// <summary>True when <paramref name="keyword"/> was given in this block.</summary>
    public bool Has(string keyword) => Setting(keyword) is not null;

    internal string Where => File is null ? "" : $"{File}:{Line}";
}
