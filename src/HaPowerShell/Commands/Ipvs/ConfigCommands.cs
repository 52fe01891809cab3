using System.Management.Automation;
using System.Text;
using HaPowerShell.Core.Ipvs;
using HaPowerShell.Hosting;
using HaPowerShell.Native;

namespace HaPowerShell.Commands.Ipvs;

public enum IpvsConfigFormat { Auto, Ipvsadm, Json }

/// <summary>Export-IpvsConfig: the live table as `ipvsadm -S -n` text (byte-identical) or JSON.</summary>
[Cmdlet(VerbsData.Export, "IpvsConfig", SupportsShouldProcess = true)]
[OutputType(typeof(string), typeof(FileInfo))]
public sealed class ExportIpvsConfigCommand : IpvsCmdlet
{
    /// <summary>File to write; without it the text is written to the pipeline.</summary>
    [Parameter(Position = 0)]
    public string? Path { get; set; }

    [Parameter]
    [ValidateSet("Ipvsadm", "Json")]
    public string Format { get; set; } = "Ipvsadm";

    /// <summary>JSON only: include the tcp/tcpfin/udp timeouts.</summary>
    [Parameter]
    public SwitchParameter IncludeTimeout { get; set; }

    [Parameter]
    public SwitchParameter NoClobber { get; set; }

    protected override void EndProcessing()
    {
        PerItem(Path ?? "IPVS", () =>
        {
            if (IncludeTimeout && Format != "Json")
                throw new ArgumentException("-IncludeTimeout applies to -Format Json only: the ipvsadm save format has no timeouts (ipvsadm -S does not write them).");
            var table = Admin.Snapshot(kernelOrder: Format != "Json"); // IpvsRules.Format sorts once, as ipvsadm does
            string text = Format == "Json"
                ? IpvsJson.Serialize(table, IncludeTimeout ? Admin.GetTimeout() : null)
                : IpvsRules.Format(table);
            if (Path is null)
            {
                WriteObject(text);
                return;
            }
            string full = GetUnresolvedProviderPathFromPSPath(Path);
            if (NoClobber && File.Exists(full))
                throw new HaException("NoClobber", HaErrorCategory.ResourceExists, $"{full} exists; remove -NoClobber to overwrite it.", full);
            if (!ShouldProcess(full, $"Write {table.Count} services ({Format})")) return;
            File.WriteAllText(full, text, new UTF8Encoding(false));
            WriteObject(new FileInfo(full));
        });
    }
}

/// <summary>Shared input handling for Import- and Sync-IpvsConfig: a file, text, or (Sync) objects.</summary>
public abstract class IpvsConfigInputCmdlet : IpvsCmdlet
{
    [Parameter(ParameterSetName = "Path", Mandatory = true, Position = 0)]
    public string Path { get; set; } = "";

    [Parameter(ParameterSetName = "Text", Mandatory = true, ValueFromPipeline = true)]
    [AllowEmptyString]
    public string Text { get; set; } = "";

    [Parameter(ParameterSetName = "Path")]
    [Parameter(ParameterSetName = "Text")]
    public IpvsConfigFormat Format { get; set; } = IpvsConfigFormat.Auto;

    private readonly StringBuilder _text = new();

    protected void CollectText()
    {
        if (ParameterSetName == "Text") _text.AppendLine(Text);
    }

    /// <summary>The whole input text (file contents or the piped lines).</summary>
    protected string ReadInput()
        => ParameterSetName == "Path" ? File.ReadAllText(GetUnresolvedProviderPathFromPSPath(Path)) : _text.ToString();

    protected bool IsJson(string text)
        => Format == IpvsConfigFormat.Json || (Format == IpvsConfigFormat.Auto && text.TrimStart().StartsWith('{'));

    /// <summary>Parse failures are input errors: reported with the line, nothing changed.</summary>
    protected static IpvsOperationException InputError(Exception e)
        => new("InvalidConfig", IpvsFailureKind.InvalidArgument, e.Message, null, e);
}

/// <summary>Import-IpvsConfig: replays `ipvsadm -S` rules (as ipvsadm -R does) or applies a JSON table.</summary>
[Cmdlet(VerbsData.Import, "IpvsConfig", SupportsShouldProcess = true, DefaultParameterSetName = "Path")]
[OutputType(typeof(IpvsImportResult))]
public sealed class ImportIpvsConfigCommand : IpvsConfigInputCmdlet
{
    /// <summary>Remove every service first (ipvsadm -C), so the table is exactly the input.</summary>
    [Parameter]
    public SwitchParameter Replace { get; set; }

    protected override void ProcessRecord() => CollectText();

    protected override void EndProcessing()
    {
        PerItem(Path, () =>
        {
            string text = ReadInput();
            IpvsImportResult result;
            if (IsJson(text))
            {
                List<IpvsService> table;
                IpvsTimeout? timeout;
                try { (table, timeout) = IpvsJson.Deserialize(text); }
                catch (FormatException e) { throw InputError(e); }
                IpvsAdmin.ValidateTable(table);
                if (!ShouldProcess("IPVS table", $"{(Replace ? "Replace with" : "Add")} {table.Count} services from JSON")) return;
                result = Admin.ImportTable(table, timeout, Replace, validated: true);
            }
            else
            {
                IpvsRuleSet rules;
                try { rules = IpvsRules.Parse(text, ThreadPoolParallelFor.Instance); }
                catch (IpvsRuleParseException e) { throw InputError(e); }
                IpvsAdmin.ValidateRules(rules);
                if (!ShouldProcess("IPVS table", $"{(Replace ? "Replace with" : "Apply")} {rules.Commands.Count} ipvsadm rules")) return;
                result = Admin.Import(rules, Replace, validated: true);
            }
            foreach (var e in result.Errors)
                WriteFailure(new HaException(e.ErrorId, HaErrorCategory.InvalidOperation, $"line {e.LineNumber} ({e.Text.Trim()}): {e.Message}", e.Text), null);
            WriteObject(result);
        });
    }
}

/// <summary>
/// Sync-IpvsConfig: makes the live table equal a desired state by sending only the differences.
/// -WhatIf prints the plan and changes nothing.
/// </summary>
[Cmdlet(VerbsData.Sync, "IpvsConfig", SupportsShouldProcess = true, DefaultParameterSetName = "Path")]
[OutputType(typeof(IpvsSyncResult))]
public sealed class SyncIpvsConfigCommand : IpvsConfigInputCmdlet
{
    /// <summary>Desired services (with RealServers; a service whose RealServers is null keeps its current ones).</summary>
    [Parameter(ParameterSetName = "Object", Mandatory = true, ValueFromPipeline = true)]
    public IpvsService[] InputObject { get; set; } = Array.Empty<IpvsService>();

    private readonly List<IpvsService> _objects = new();

    /// <summary>True when ShouldProcess can show or ask something: -WhatIf, -Confirm, -Verbose, or
    /// the preference variables that stand for them when they are not given.</summary>
    private bool PerOperationShouldProcess()
    {
        var bound = MyInvocation.BoundParameters;
        bool Switch(string name, Func<bool> otherwise) => bound.TryGetValue(name, out var v) ? LanguagePrimitives.IsTrue(v) : otherwise();
        bool whatIf = Switch("WhatIf", () => LanguagePrimitives.IsTrue(GetVariableValue("WhatIfPreference")));
        bool verbose = Switch("Verbose", () => GetVariableValue("VerbosePreference") is ActionPreference v
            && v != ActionPreference.SilentlyContinue && v != ActionPreference.Ignore);
        // Sync-IpvsConfig's ConfirmImpact is Medium: a preference of Medium or Low prompts for each change.
        bool confirm = Switch("Confirm", () => GetVariableValue("ConfirmPreference") is ConfirmImpact c
            && c != ConfirmImpact.None && c <= ConfirmImpact.Medium);
        return whatIf || verbose || confirm;
    }

    protected override void ProcessRecord()
    {
        if (ParameterSetName == "Object") _objects.AddRange(InputObject);
        else CollectText();
    }

    protected override void EndProcessing()
    {
        PerItem(Path, () =>
        {
            List<IpvsService> desired;
            IpvsTimeout? timeout = null;
            if (ParameterSetName == "Object")
            {
                desired = _objects;
            }
            else
            {
                string text = ReadInput();
                try
                {
                    if (IsJson(text)) (desired, timeout) = IpvsJson.Deserialize(text);
                    else desired = IpvsRules.ToTable(IpvsRules.Parse(text, ThreadPoolParallelFor.Instance));
                }
                catch (Exception e) when (e is FormatException or IpvsRuleParseException) { throw InputError(e); }
            }
            var plan = Admin.PlanSync(desired);
            // Asked one by one only when someone can see or answer the question (-WhatIf, -Confirm,
            // -Verbose or a $ConfirmPreference that prompts); otherwise one call approves the plan,
            // which saves tens of thousands of ShouldProcess calls on a full sync.
            IReadOnlyList<IpvsOperation> approved = plan.Operations.Count > 0 && !PerOperationShouldProcess()
                ? (ShouldProcess("IPVS table", $"Apply {plan.Operations.Count} changes ({plan})") ? plan.Operations : Array.Empty<IpvsOperation>())
                : plan.Operations.Where(op => ShouldProcess(op.Service.ToString(), op.Description)).ToList();
            bool timeoutChange = timeout != null && ShouldProcess("IPVS timeouts", $"Set {timeout}");
            if (approved.Count == 0 && !timeoutChange && plan.Operations.Count > 0)
            {
                // -WhatIf (or every change declined at -Confirm): the plan, and nothing sent.
                WriteObject(new IpvsSyncResult
                {
                    WhatIf = true, Operations = plan.Operations, Changed = false,
                    Added = plan.Added, Updated = plan.Updated, Removed = plan.Removed,
                });
                return;
            }
            // Everything approved, or the part approved at -Confirm: the result of what was sent.
            var result = Admin.ApplyOperations(approved);
            if (timeoutChange) { Admin.SetTimeout(timeout!); result.Changed = true; }
            foreach (var e in result.Errors)
                WriteFailure(new HaException("SyncOperationFailed", HaErrorCategory.InvalidOperation, e), null);
            WriteObject(result);
        });
    }
}
