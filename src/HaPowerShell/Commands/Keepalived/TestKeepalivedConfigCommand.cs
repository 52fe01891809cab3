using System.Management.Automation;
using HaPowerShell.Core.Keepalived;

namespace HaPowerShell.Commands.Keepalived;

/// <summary>
/// Test-KeepalivedConfig: checks keepalived.conf files as <c>keepalived -t</c> does (keepalived 2.2's grammar,
/// value checks and the checks it makes after reading), and says whether each is valid, or with -Detailed
/// every finding with its file, line, severity and a suggestion.
/// </summary>
[Cmdlet(VerbsDiagnostic.Test, "KeepalivedConfig", DefaultParameterSetName = "Path")]
[OutputType(typeof(bool), typeof(KeepalivedFinding))]
public sealed class TestKeepalivedConfigCommand : KeepalivedCmdlet
{
    /// <summary>One object per finding (errors and warnings) instead of $true/$false.</summary>
    [Parameter]
    public SwitchParameter Detailed { get; set; }

    /// <summary>Count findings about this host (missing interfaces, script files, users, include files) as errors, as keepalived -t does on the target host.</summary>
    [Parameter]
    public SwitchParameter CheckEnvironment { get; set; }

    protected override void ProcessRecord()
    {
        foreach (var path in ResolvedPaths())
        {
            var result = Parse(path, CheckEnvironment);
            if (result is null) continue;
            if (Detailed)
            {
                foreach (var f in result.Findings) WriteObject(f);
            }
            else
            {
                foreach (var f in result.Errors.Take(50))
                    WriteVerbose(f.ToString());
                WriteObject(result.IsValid);
            }
        }
    }
}
