using System.Management.Automation;
using HaPowerShell.Core.Health;
using HaPowerShell.Hosting.Health;

namespace HaPowerShell.Commands.Health;

/// <summary>Invoke-MiscCheck: runs a check program the way keepalived's MISC_CHECK does and reads its exit status.</summary>
[Cmdlet(VerbsLifecycle.Invoke, "MiscCheck")]
[OutputType(typeof(MiscCheckResult))]
public sealed class InvokeMiscCheckCommand : HealthCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("FilePath", "MiscPath")]
    public string Path { get; set; } = null!;

    [Parameter(Position = 1, ValueFromPipelineByPropertyName = true)]
    [Alias("Args")]
    public string[]? ArgumentList { get; set; }

    /// <summary>misc_timeout in seconds.</summary>
    [Parameter]
    public double Timeout { get; set; } = 10;

    /// <summary>misc_dynamic.</summary>
    [Parameter]
    public SwitchParameter Dynamic { get; set; }

    [Parameter]
    public string? User { get; set; }

    [Parameter]
    public SwitchParameter UseShell { get; set; }

    protected override void ProcessRecord()
    {
        PerItem(Path, () =>
        {
            string path = Path;
            // a path with a slash is taken relative to the PowerShell location, as other cmdlets do
            if (!UseShell && path.Contains('/') && !System.IO.Path.IsPathRooted(path))
                path = SessionState.Path.GetUnresolvedProviderPathFromPSPath(path);
            var result = LocalMiscCheck.Create().Run(new MiscCheckOptions
            {
                Path = path,
                ArgumentList = ArgumentList ?? Array.Empty<string>(),
                TimeoutSeconds = Timeout,
                Dynamic = Dynamic,
                User = User,
                UseShell = UseShell,
            }, Cancellation);
            if (Cancellation.IsCancellationRequested) throw new PipelineStoppedException();
            WriteObject(result);
        });
    }
}
