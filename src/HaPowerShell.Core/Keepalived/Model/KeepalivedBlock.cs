namespace HaPowerShell.Core.Keepalived;

/// <summary>One keyword line as written in a block: the keyword, its values, where it stands.</summary>
public abstract class KeepalivedSettingJson
{
    private protected string[] values = Array.Empty<string>();
    private protected string text = "";

    /// <summary>The keywords whose values are secrets (auth_pass, an SSL key's password): masked on the face.</summary>
    internal static bool IsSecret(string keyword) => keyword is "auth_pass" or "password";

    public string Keyword { get; init; } = "";

    /// <summary>The values; "********" for a secret (auth_pass, password).</summary>
    public string[] Values { get => IsSecret(Keyword) ? values.Select(_ => "********").ToArray() : values; init => values = value; }
    public string? File { get; init; }
    public int Line { get; init; }

    /// <summary>The line as keepalived read it (comments, conditionals and parameters already applied); a secret's value masked.</summary>
    public string Text { get => IsSecret(Keyword) && values.Length > 0 ? Keyword + " ********" : text; init => text = value; }

    public override string ToString() => Values.Length == 0 ? Keyword : Keyword + " " + string.Join(" ", Values);
}

/// <summary>One keyword line of a block; the clear values are the internal twins of the (masked) face.</summary>
public sealed class KeepalivedSetting : KeepalivedSettingJson
{
    internal new string[] Values { get => values; init => values = value; }
    internal new string Text { get => text; init => text = value; }
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
