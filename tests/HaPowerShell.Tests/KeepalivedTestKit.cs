using HaPowerShell.Core.Keepalived;
using Xunit;

namespace HaPowerShell.Tests;

/// <summary>Shared helpers of the keepalived.conf tests: parse text held in memory and look at the findings.</summary>
internal static class KeepalivedTestKit
{
    public const string MainFile = "/etc/keepalived/keepalived.conf";

    public static KeepalivedParseOptions Options(string? configId = "node1") => new() { ConfigId = configId };

    public static KeepalivedParseResult Parse(string text, string? configId = "node1")
        => KeepalivedParser.ParseText(text, MainFile, Options(configId));

    public static KeepalivedParseResult Parse(KeepalivedMemorySource source, KeepalivedParseOptions? options = null, string path = MainFile,
        CancellationToken cancel = default)
        => KeepalivedParser.Parse(path, source, options ?? Options(), cancel);

    /// <summary>The findings keepalived -t prints, as "line: message" ("-" when it names no line).</summary>
    public static List<string> Reported(KeepalivedParseResult r)
        => r.Findings.Where(f => f.ReportedByKeepalived).Select(f => $"{(f.Line is int l ? l.ToString() : "-")}: {f.Message}").ToList();

    public static List<KeepalivedFinding> Errors(KeepalivedParseResult r) => r.Errors.ToList();

    /// <summary>The lines of the error findings, as the corpus scoring compares them.</summary>
    public static int[] ErrorLines(KeepalivedParseResult r)
        => r.Errors.Where(f => f.Line is not null).Select(f => f.Line!.Value).Distinct().OrderBy(x => x).ToArray();

    /// <summary>Asserts that a finding on <paramref name="line"/> starts with keepalived's words <paramref name="message"/>.</summary>
    public static KeepalivedFinding Has(KeepalivedParseResult r, int? line, string message)
    {
        var f = r.Findings.FirstOrDefault(x => x.Line == line && x.Message.StartsWith(message, StringComparison.Ordinal));
        Assert.True(f is not null, $"no finding '{message}' on line {line}; found:\n  " + string.Join("\n  ", Reported(r)));
        return f!;
    }

    public static void Valid(KeepalivedParseResult r)
        => Assert.True(r.IsValid, "expected no errors; found:\n  " + string.Join("\n  ", r.Errors.Select(e => e.ToString())));

    /// <summary>One VRRP instance with the lines given inside it, the rest what keepalived needs to accept it.</summary>
    public static string Instance(string name = "VI_1", int vrid = 51, string extra = "", string iface = "eth0", string vip = "192.0.2.10/24")
        => $"vrrp_instance {name} {{\n    interface {iface}\n    virtual_router_id {vrid}\n    priority 100\n{extra}    virtual_ipaddress {{\n        {vip}\n    }}\n}}\n";
}
