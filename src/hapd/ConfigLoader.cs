using HaPowerShell.Core.Keepalived;
using HaPowerShell.Core.Keepalived.Runtime;
using HaPowerShell.Hosting;
using HaPowerShell.Hosting.Keepalived;

namespace HaPowerShell.Daemon;

/// <summary>A configuration read and mapped: the parse (findings), and what the daemon runs from it.</summary>
public sealed record LoadedConfig(string Path, KeepalivedParseResult Parse, KeepalivedRuntimePlan? Plan)
{
    /// <summary>Every reason it cannot run, in keepalived's form "(file: Line n) message".</summary>
    public IReadOnlyList<string> Errors =>
        Parse.Errors.Select(f => f.ToString()).Concat(Plan?.Errors.Select(e => e.ToString()) ?? Enumerable.Empty<string>()).ToList();

    public bool CanRun => Parse.IsValid && Plan is { CanRun: true };

    /// <summary>What the daemon keeps once it runs this configuration (call only when <see cref="CanRun"/>).</summary>
    public RunningConfig Running => new(Path, Plan!);
}

/// <summary>
/// The configuration the daemon runs: its path and plan. Not the parse: its syntax tree (every block, setting and
/// argument, about 2 KB a checked real server) is needed only while loading, and kept it stayed on the heap for good.
/// </summary>
public sealed record RunningConfig(string Path, KeepalivedRuntimePlan Plan);

/// <summary>Reads keepalived.conf the way Test-KeepalivedConfig does (the same parser, disk source and host view).</summary>
public static class ConfigLoader
{
    /// <summary>keepalived's default config id: the host name up to its first '.'.</summary>
    public static string DefaultConfigId()
    {
        string host = System.Net.Dns.GetHostName();
        int dot = host.IndexOf('.');
        return dot >= 0 ? host.Substring(0, dot) : host;
    }

    public static KeepalivedParseResult Parse(HapdOptions o, bool checkEnvironment)
    {
        string path = System.IO.Path.GetFullPath(o.ConfigFile);
        var options = new KeepalivedParseOptions
        {
            ConfigId = o.ConfigId ?? DefaultConfigId(),
            WorkingDirectory = System.IO.Path.GetDirectoryName(path),
            Environment = new KeepalivedHostEnvironment(() => KernelSession.Rtnl),
            CheckEnvironment = checkEnvironment,
        };
        return KeepalivedParser.Parse(path, KeepalivedDiskSource.Instance, options);
    }

    /// <summary>Parses and maps; the plan is null when the parse has errors.</summary>
    public static LoadedConfig Load(HapdOptions o)
    {
        string path = System.IO.Path.GetFullPath(o.ConfigFile);
        var parse = Parse(o, checkEnvironment: false);
        var plan = parse.IsValid ? KeepalivedRuntimePlan.From(parse.Configuration, vrrp: !o.CheckersOnly, checkers: !o.VrrpOnly) : null;
        return new LoadedConfig(path, parse, plan);
    }
}
