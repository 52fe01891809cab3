using System.Management.Automation;
using HaPowerShell.Core.Keepalived;
using HaPowerShell.Hosting;
using HaPowerShell.Hosting.Keepalived;

namespace HaPowerShell.Commands.Keepalived;

/// <summary>
/// What the keepalived.conf cmdlets share: -Path/-LiteralPath from the pipeline (Get-ChildItem *.conf binds by
/// PSPath), -ConfigId, the size limit, and reading a configuration with Ctrl+C honoured.
/// </summary>
public abstract class KeepalivedCmdlet : HaCmdlet
{
    /// <summary>Paths (wildcards allowed) of keepalived configuration files.</summary>
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = "Path", ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[] Path { get; set; } = Array.Empty<string>();

    /// <summary>Paths taken as written (no wildcards); FileInfo objects from Get-ChildItem bind here by PSPath.</summary>
    [Parameter(Mandatory = true, ParameterSetName = "LiteralPath", ValueFromPipelineByPropertyName = true)]
    [Alias("PSPath", "FullName", "LP")]
    [ValidateNotNullOrEmpty]
    public string[] LiteralPath { get; set; } = Array.Empty<string>();

    /// <summary>The id '@id' lines are matched against (keepalived -i); default the host name up to its first '.'.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? ConfigId { get; set; }

    /// <summary>The largest configuration read (bytes, all files together); a larger one is refused with a finding, not read.</summary>
    [Parameter]
    [ValidateRange(1L, long.MaxValue)]
    public long MaxSize { get; set; } = 256L * 1024 * 1024;

    private readonly CancellationTokenSource _stop = new();

    protected override void StopProcessing() => _stop.Cancel();

    /// <summary>The default config id, as keepalived sets it: uname's node name up to the first '.'.</summary>
    public static string DefaultConfigId()
    {
        string host = System.Net.Dns.GetHostName();
        int dot = host.IndexOf('.');
        return dot >= 0 ? host.Substring(0, dot) : host;
    }

    /// <summary>Resolves -Path/-LiteralPath to file system paths; a path that matches nothing is an ObjectNotFound error.</summary>
    protected IEnumerable<string> ResolvedPaths()
    {
        bool literal = ParameterSetName == "LiteralPath";
        foreach (var p in literal ? LiteralPath : Path)
        {
            List<string> found = new();
            try
            {
                if (literal)
                {
                    string full = SessionState.Path.GetUnresolvedProviderPathFromPSPath(p);
                    if (File.Exists(full) || Directory.Exists(full) || IsDevice(full)) found.Add(full);
                }
                else if (WildcardPattern.ContainsWildcardCharacters(p))
                {
                    found.AddRange(GetResolvedProviderPathFromPSPath(p, out _));
                }
                else
                {
                    string full = SessionState.Path.GetUnresolvedProviderPathFromPSPath(p);
                    if (File.Exists(full) || Directory.Exists(full) || IsDevice(full)) found.Add(full);
                }
            }
            catch (Exception e) when (e is ItemNotFoundException or ArgumentException or NotSupportedException) { }
            if (found.Count == 0)
            {
                WriteError(new ErrorRecord(new FileNotFoundException(
                    $"Cannot find the keepalived configuration '{p}'; give the path of an existing file (keepalived's default is /etc/keepalived/keepalived.conf).", p),
                    "KeepalivedConfigNotFound", ErrorCategory.ObjectNotFound, p));
                continue;
            }
            foreach (var f in found) yield return f;
        }
    }

    private static bool IsDevice(string path) => HaPowerShell.Native.Processes.FileStatus.Stat(path) is { IsRegularFile: false, IsDirectory: false };

    /// <summary>Reads and checks one configuration; null (after an ErrorRecord) when it could not be read at all.</summary>
    protected KeepalivedParseResult? Parse(string path, bool checkEnvironment)
    {
        var options = new KeepalivedParseOptions
        {
            ConfigId = ConfigId ?? DefaultConfigId(),
            WorkingDirectory = System.IO.Path.GetDirectoryName(path),
            Environment = new KeepalivedHostEnvironment(() => KernelSession.Rtnl),
            CheckEnvironment = checkEnvironment,
            MaxFileSize = MaxSize,
            MaxTotalSize = MaxSize,
        };
        try
        {
            return KeepalivedParser.Parse(path, KeepalivedDiskSource.Instance, options, _stop.Token);
        }
        catch (OperationCanceledException)
        {
            throw new PipelineStoppedException();
        }
    }
}
