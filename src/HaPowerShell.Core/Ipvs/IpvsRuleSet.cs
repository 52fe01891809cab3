using HaPowerShell.Native;

namespace HaPowerShell.Core.Ipvs;

/// <summary>The ipvsadm commands a rule file may contain.</summary>
public enum IpvsRuleCommandKind
{
    /// <summary>-A / --add-service</summary>
    AddService,
    /// <summary>-E / --edit-service</summary>
    EditService,
    /// <summary>-D / --delete-service</summary>
    DeleteService,
    /// <summary>-a / --add-server</summary>
    AddServer,
    /// <summary>-e / --edit-server</summary>
    EditServer,
    /// <summary>-d / --delete-server</summary>
    DeleteServer,
    /// <summary>-C / --clear</summary>
    Clear,
    /// <summary>-Z / --zero (all services, or the one given)</summary>
    Zero,
    /// <summary>--set tcp tcpfin udp</summary>
    SetTimeout,
}

/// <summary>One parsed line of an ipvsadm rule file (what `ipvsadm -S` writes and `ipvsadm -R` reads).</summary>
public sealed class IpvsRuleCommand
{
    public IpvsRuleCommand(IpvsRuleCommandKind kind, int lineNumber, string text)
    {
        Kind = kind;
        LineNumber = lineNumber;
        Text = text;
    }

    public IpvsRuleCommandKind Kind { get; }

    /// <summary>1-based line number in the parsed text.</summary>
    public int LineNumber { get; }

    /// <summary>The line as written (without its line break).</summary>
    public string Text { get; }

    /// <summary>
    /// The service the command is about, with the settings the command carries (for -A/-E every setting,
    /// with ipvsadm's defaults filled in: scheduler wlc, not persistent, ...). Null for -C, --set and a -Z
    /// without a service.
    /// </summary>
    public IpvsService? Service { get; init; }

    /// <summary>The real server of -a/-e/-d (with ipvsadm's defaults: -g, weight 1), else null.</summary>
    public IpvsRealServer? RealServer { get; init; }

    /// <summary>The timeouts of --set (0 = leave unchanged, as the kernel treats it), else null.</summary>
    public IpvsTimeout? Timeout { get; init; }

    public override string ToString() => $"{LineNumber}: {Text}";
}

/// <summary>The commands of an ipvsadm rule file, in order.</summary>
public sealed class IpvsRuleSet
{
    public IpvsRuleSet() { }

    public IpvsRuleSet(IEnumerable<IpvsRuleCommand> commands) => Commands.AddRange(commands);

    public List<IpvsRuleCommand> Commands { get; } = new();

    public override string ToString() => $"{Commands.Count} ipvsadm command(s)";
}

/// <summary>
/// A rule file line that ipvsadm would refuse, or a command that cannot apply to the table built so far
/// (adding what exists, deleting what does not). The message starts with "line N: ". Error id <c>InvalidConfig</c>.
/// </summary>
public sealed class IpvsRuleParseException : HaException
{
    public IpvsRuleParseException(int lineNumber, string problem, string? lineText = null)
        : base("InvalidConfig", HaErrorCategory.InvalidArgument, $"line {lineNumber}: {problem}")
    {
        LineNumber = lineNumber;
        Problem = problem;
        LineText = lineText;
    }

    /// <summary>1-based line number of the offending line.</summary>
    public int LineNumber { get; }

    /// <summary>What is wrong, without the "line N: " prefix.</summary>
    public string Problem { get; }

    /// <summary>The offending line, when known.</summary>
    public string? LineText { get; }
}
