using System.Management.Automation;
using System.Net;
using System.Net.Sockets;
using HaPowerShell.Completers;
using HaPowerShell.Core.Ipvs;

namespace HaPowerShell.Commands.Ipvs;

/// <summary>Get-IpvsService: the virtual services (ipvsadm -L -n), optionally filtered.</summary>
[Cmdlet(VerbsCommon.Get, "IpvsService", DefaultParameterSetName = "Filter")]
[OutputType(typeof(IpvsService))]
public sealed class GetIpvsServiceCommand : IpvsCmdlet
{
    [Parameter(ParameterSetName = "Filter", ValueFromPipelineByPropertyName = true)]
    public IpvsProtocol? Protocol { get; set; }

    [Parameter(ParameterSetName = "Filter", ValueFromPipelineByPropertyName = true)]
    [IPAddressTransformation]
    [Alias("IPAddress")]
    public IPAddress? Address { get; set; }

    [Parameter(ParameterSetName = "Filter", ValueFromPipelineByPropertyName = true)]
    [StrictNumber(typeof(int))]
    public int? Port { get; set; }

    [Parameter(ParameterSetName = "Filter", ValueFromPipelineByPropertyName = true)]
    [StrictNumber(typeof(uint))]
    public uint? FirewallMark { get; set; }

    [Parameter(ParameterSetName = "Filter")]
    [IpvsAddressFamilyTransformation]
    [ValidateSet("InterNetwork", "InterNetworkV6")] // also what tab completion offers, instead of every socket family
    public AddressFamily? AddressFamily { get; set; }

    [Parameter(ParameterSetName = "Service", Position = 0, Mandatory = true, ValueFromPipeline = true)]
    [IpvsServiceTransformation]
    [ArgumentCompleter(typeof(IpvsServiceCompleter))]
    public IpvsService Service { get; set; } = null!;

    private List<IpvsService>? _all;

    protected override void ProcessRecord()
    {
        PerItem(Service, () =>
        {
            if (ParameterSetName == "Service")
            {
                WriteObject(Admin.GetService(Service));
                return;
            }
            _all ??= Admin.GetServices();
            foreach (var s in _all)
            {
                if (Protocol.HasValue && s.Protocol != Protocol) continue;
                if (Address != null && !Address.Equals(s.Address)) continue;
                if (Port.HasValue && s.Port != Port) continue;
                if (FirewallMark.HasValue && s.FirewallMark != FirewallMark) continue;
                if (AddressFamily.HasValue && s.AddressFamily != AddressFamily) continue;
                WriteObject(s);
            }
        });
    }
}

/// <summary>Settings shared by New- and Set-IpvsService.</summary>
public abstract class IpvsServiceSettingsCmdlet : IpvsCmdlet
{
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(SchedulerCompleter))]
    [ValidateNotNullOrEmpty]
    public string? Scheduler { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateRange(0, int.MaxValue)]
    [StrictNumber(typeof(uint))]
    public uint? PersistenceTimeout { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true)]
    public string? PersistenceNetmask { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true)]
    public string? PersistenceEngine { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true)]
    public SwitchParameter OnePacket { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateSet("sh-fallback", "sh-port", "mh-fallback", "mh-port", "flag-1", "flag-2", "flag-3", IgnoreCase = true)]
    public string[]? SchedulerFlag { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    /// <summary>Copies the parameters the user gave onto <paramref name="s"/>.</summary>
    protected void ApplySettings(IpvsService s)
    {
        if (Scheduler != null) s.Scheduler = Scheduler;
        if (PersistenceTimeout.HasValue) s.PersistenceTimeout = PersistenceTimeout.Value;
        if (MyInvocation.BoundParameters.ContainsKey(nameof(PersistenceNetmask))) s.PersistenceNetmask = PersistenceNetmask;
        if (MyInvocation.BoundParameters.ContainsKey(nameof(PersistenceEngine))) s.PersistenceEngine = string.IsNullOrEmpty(PersistenceEngine) ? null : PersistenceEngine;
        if (MyInvocation.BoundParameters.ContainsKey(nameof(OnePacket))) s.OnePacket = OnePacket.IsPresent;
        if (SchedulerFlag != null) s.SchedulerFlag = SchedulerFlag.Select(f => f.ToLowerInvariant()).ToArray();
    }
}

/// <summary>New-IpvsService: adds a virtual service (ipvsadm -A).</summary>
[Cmdlet(VerbsCommon.New, "IpvsService", SupportsShouldProcess = true, DefaultParameterSetName = "Address")]
[OutputType(typeof(IpvsService))]
public sealed class NewIpvsServiceCommand : IpvsServiceSettingsCmdlet
{
    [Parameter(ParameterSetName = "Address", Mandatory = true, ValueFromPipelineByPropertyName = true)]
    public IpvsProtocol Protocol { get; set; }

    [Parameter(ParameterSetName = "Address", Mandatory = true, ValueFromPipelineByPropertyName = true)]
    [IPAddressTransformation]
    [Alias("IPAddress")]
    public IPAddress Address { get; set; } = null!;

    [Parameter(ParameterSetName = "Address", Mandatory = true, ValueFromPipelineByPropertyName = true)]
    [StrictNumber(typeof(ushort))]
    public ushort Port { get; set; }

    [Parameter(ParameterSetName = "FirewallMark", Mandatory = true, ValueFromPipelineByPropertyName = true)]
    [ValidateRange(1, uint.MaxValue)]
    [StrictNumber(typeof(uint))]
    public uint FirewallMark { get; set; }

    [Parameter(ParameterSetName = "FirewallMark", ValueFromPipelineByPropertyName = true)]
    [IpvsAddressFamilyTransformation]
    [ValidateSet("InterNetwork", "InterNetworkV6")] // also what tab completion offers, instead of every socket family
    public AddressFamily AddressFamily { get; set; } = AddressFamily.InterNetwork;

    protected override void ProcessRecord()
    {
        var s = ParameterSetName == "FirewallMark"
            ? new IpvsService { FirewallMark = FirewallMark, AddressFamily = AddressFamily }
            : new IpvsService { Protocol = Protocol, Address = Address, Port = Port, AddressFamily = Address.AddressFamily };
        ApplySettings(s);
        PerItem(s, () =>
        {
            IpvsAdmin.Validate(s);
            if (!ShouldProcess(s.ToString(), $"Add virtual service (scheduler {s.Scheduler})", out bool whatIf))
            {
                if (whatIf && PassThru) WriteChanged(s, true); // the service as it would be added
                return;
            }
            var created = Admin.AddService(s);
            if (PassThru) WriteChanged(created, true);
        });
    }
}

/// <summary>Set-IpvsService: changes a virtual service's settings (ipvsadm -E).</summary>
[Cmdlet(VerbsCommon.Set, "IpvsService", SupportsShouldProcess = true)]
[OutputType(typeof(IpvsService))]
public sealed class SetIpvsServiceCommand : IpvsServiceSettingsCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
    [IpvsServiceTransformation]
    [ArgumentCompleter(typeof(IpvsServiceCompleter))]
    public IpvsService Service { get; set; } = null!;

    protected override void ProcessRecord()
    {
        PerItem(Service, () =>
        {
            var before = Admin.GetService(Service);
            var current = Admin.GetService(Service);
            ApplySettings(current);
            IpvsAdmin.Validate(current);
            var differences = IpvsPlanner.ServiceDifferences(current, before);
            if (differences.Count == 0)
            {
                WriteVerbose($"{before} already has these settings; nothing to change.");
                if (PassThru) WriteChanged(before, false);
                return;
            }
            if (!ShouldProcess(current.ToString(), $"Change virtual service settings ({string.Join(", ", differences)})", out bool whatIf))
            {
                if (whatIf && PassThru) WriteChanged(current, true); // the settings it would have
                return;
            }
            var updated = Admin.UpdateService(current);
            if (PassThru) WriteChanged(updated, true);
        });
    }
}

/// <summary>Remove-IpvsService: deletes virtual services and their real servers (ipvsadm -D).</summary>
[Cmdlet(VerbsCommon.Remove, "IpvsService", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(void))]
public sealed class RemoveIpvsServiceCommand : IpvsCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
    [IpvsServiceTransformation]
    [ArgumentCompleter(typeof(IpvsServiceCompleter))]
    public IpvsService Service { get; set; } = null!;

    protected override void ProcessRecord()
    {
        PerItem(Service, () =>
        {
            if (!ShouldProcess(Service.ToString(), "Remove virtual service and its real servers")) return;
            Admin.RemoveService(Service);
        });
    }
}

/// <summary>Clear-IpvsService: removes every virtual service (ipvsadm -C).</summary>
[Cmdlet(VerbsCommon.Clear, "IpvsService", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(void))]
public sealed class ClearIpvsServiceCommand : IpvsCmdlet
{
    protected override void EndProcessing()
    {
        PerItem("IPVS", () =>
        {
            if (!ShouldProcess("all IPVS virtual services and real servers", "Clear")) return;
            Admin.Clear();
        });
    }
}

/// <summary>Reset-IpvsStatistic: zeroes counters of one service or all (ipvsadm -Z).</summary>
[Cmdlet(VerbsCommon.Reset, "IpvsStatistic", SupportsShouldProcess = true)]
[OutputType(typeof(void))]
public sealed class ResetIpvsStatisticCommand : IpvsCmdlet
{
    [Parameter(Position = 0, ValueFromPipeline = true)]
    [IpvsServiceTransformation]
    [ArgumentCompleter(typeof(IpvsServiceCompleter))]
    public IpvsService? Service { get; set; }

    protected override void ProcessRecord()
    {
        if (Service is null) return;
        PerItem(Service, () =>
        {
            if (ShouldProcess(Service.ToString(), "Zero counters")) Admin.ResetStatistics(Service);
        });
    }

    protected override void EndProcessing()
    {
        // Only a call without any service (and without pipeline input) zeroes everything: an
        // empty pipeline, e.g. from a filter that matched nothing, must not.
        if (Service != null || MyInvocation.ExpectingInput) return;
        PerItem("IPVS", () =>
        {
            if (ShouldProcess("all IPVS services", "Zero counters")) Admin.ResetStatistics(null);
        });
    }
}
