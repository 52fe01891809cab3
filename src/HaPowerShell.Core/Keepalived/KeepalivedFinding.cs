namespace HaPowerShell.Core.Keepalived;

/// <summary>Severity of a finding: an Error makes <c>keepalived -t</c> fail; a Warning does not (or is about this host only).</summary>
public enum KeepalivedSeverity
{
    Warning,
    Error,
}

/// <summary>What a finding is about.</summary>
public enum KeepalivedFindingCategory
{
    /// <summary>A keyword keepalived does not know where it stands.</summary>
    UnknownKeyword,
    /// <summary>Braces: a '{' or '}' where none belongs, or one missing.</summary>
    Syntax,
    /// <summary>A keyword without the value it needs.</summary>
    MissingValue,
    /// <summary>A value keepalived cannot read or does not accept (numbers out of range, addresses, names).</summary>
    InvalidValue,
    /// <summary>A name that refers to nothing defined (scripts, instances, groups, files).</summary>
    UndefinedReference,
    /// <summary>Something defined twice (instances, VRIDs on one interface, ...).</summary>
    Duplicate,
    /// <summary>Settings that contradict each other or are ignored by keepalived.</summary>
    Semantic,
    /// <summary>A form keepalived still reads but has deprecated (and fails the test on).</summary>
    Deprecated,
    /// <summary>Script security (enable_script_security, unsafe permissions).</summary>
    Security,
    /// <summary>The parameter, ~SEQ and conditional preprocessor.</summary>
    Preprocessor,
    /// <summary>include files.</summary>
    Include,
    /// <summary>Something about this host rather than the file: interfaces, script files, users, DNS.</summary>
    Environment,
    /// <summary>A bound the parser keeps (size, depth, count, time) so hostile input cannot hang or exhaust it.</summary>
    Limit,
    /// <summary>
    /// keepalived accepts it, but this module's VRRP engine (Start-VrrpInstance, hapd) does not act on it or would
    /// refuse it (Core's VRRP text forms and limits: VrrpTextForms, VrrpInstanceConfig.Validate); a warning.
    /// </summary>
    NotSupported,
}

/// <summary>keepalived's config_err_t: the level a finding is reported with (it decides the exit code of <c>keepalived -t</c>).</summary>
public enum KeepalivedErrorLevel
{
    /// <summary>Printed, but keepalived -t still exits 0 (e.g. a plain include that matched nothing).</summary>
    None = 0,
    FileNotFound,
    BadInterface,
    Fatal,
    MultipleFiles,
    UnknownKeyword,
    UnexpectedBlockStart,
    MissingBlockStart,
    UnexpectedBlockEnd,
    MissingBlockEnd,
    UnmatchedQuote,
    MissingParameter,
    InvalidNumber,
    General,
    Warning,
    Deprecated,
    Security,
}

/// <summary>One finding about a keepalived configuration: where, how bad, what, and what to do (the JSON face: severity, category and level by name).</summary>
public abstract class KeepalivedFindingJson
{
    private protected KeepalivedSeverity severity;
    private protected KeepalivedFindingCategory category;
    private protected KeepalivedErrorLevel level;

    /// <summary>The file keepalived names (full path); null when keepalived reports it without a place (checks after the whole file is read).</summary>
    public string? File { get; init; }

    /// <summary>The line keepalived names; null when it names none.</summary>
    public int? Line { get; init; }

    /// <summary>The severity's name (<see cref="KeepalivedSeverity"/>).</summary>
    public string Severity { get => severity.ToString(); set => severity = JsonShape.Enum<KeepalivedSeverity>(value); }

    /// <summary>The category's name (<see cref="KeepalivedFindingCategory"/>).</summary>
    public string Category { get => category.ToString(); init => category = JsonShape.Enum<KeepalivedFindingCategory>(value); }

    /// <summary>The keyword the finding is about (the first word of the line, or the block's keyword).</summary>
    public string? Keyword { get; init; }

    /// <summary>keepalived's own words (so they can be searched for), with our explanation where it helps.</summary>
    public string Message { get; init; } = "";

    /// <summary>What to write instead ("did you mean virtual_server?"), when there is a likely fix.</summary>
    public string? Suggestion { get; init; }

    /// <summary>The level keepalived reports it with; <see cref="KeepalivedErrorLevel.None"/> = it does not fail the test.</summary>
    public string Level { get => level.ToString(); init => level = JsonShape.Enum<KeepalivedErrorLevel>(value); }

    /// <summary>True when the finding depends on this host (interfaces, files, users, DNS) rather than on the text.</summary>
    public bool IsEnvironment { get; init; }

    /// <summary>Where the block it concerns was declared, for findings keepalived reports without a line ("vrrp_instance VI_1 (/etc/keepalived/keepalived.conf:12)").</summary>
    public string? Context { get; init; }

    /// <summary>True when keepalived itself prints this finding (false for notes of ours that keepalived only logs, or does not say).</summary>
    public bool ReportedByKeepalived { get; init; } = true;

    public override string ToString()
    {
        string where = File is null ? "" : Line is null ? $"({File}) " : $"({File}: Line {Line}) ";
        return $"{Severity}: {where}{Message}" + (Suggestion is null ? "" : $" (did you mean {Suggestion}?)");
    }
}

/// <summary>One finding about a keepalived configuration; typed internal twins of the face.</summary>
public sealed class KeepalivedFinding : KeepalivedFindingJson
{
    internal new KeepalivedSeverity Severity { get => severity; set => severity = value; }
    internal new KeepalivedFindingCategory Category { get => category; init => category = value; }
    internal new KeepalivedErrorLevel Level { get => level; init => level = value; }
}
