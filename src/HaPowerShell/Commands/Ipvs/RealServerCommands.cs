using System.Management.Automation;
using System.Net;
using HaPowerShell.Completers;
using HaPowerShell.Core.Ipvs;

namespace HaPowerShell.Commands.Ipvs;

/// <summary>Get-IpvsRealServer: the real servers of one or all services (the "->" lines of ipvsadm -L -n).</summary>
[Cmdlet(VerbsCommon.Get, "IpvsRealServer")]
[OutputType(typeof(IpvsRealServer))]
public sealed class GetIpvsRealServerCommand : IpvsCmdlet
{
    [Parameter(Position = 0, ValueFromPipeline = true)]
    [IpvsServiceTransformation]
    [ArgumentCompleter(typeof(IpvsServiceCompleter))]
    public IpvsService? Service { get; set; }

    [Parameter]
    [IPAddressTransformation]
    [Alias("IPAddress")]
    public IPAddress? Address { get; set; }

    [Parameter]
    public int? Port { get; set; }

    // Piped services are fetched in groups: their dumps are pipelined in one round trip.
    private const int GroupSize = 64;
    private readonly List<IpvsService> _pending = new();
    private bool _any;

    protected override void ProcessRecord()
    {
        if (Service is null) return;
        _any = true;
        if (MyInvocation.ExpectingInput)
        {
            _pending.Add(Service);
            if (_pending.Count >= GroupSize) Flush();
        }
        else
        {
            PerItem(Service, () =>
            {
                var live = Admin.GetService(Service); // a service named by a string: show its real settings
                Emit(live, Admin.GetRealServers(live));
            });
        }
    }

    protected override void EndProcessing()
    {
        if (_pending.Count > 0) Flush();
        // Everything is listed only when no service was given at all; an empty pipeline lists nothing.
        if (_any || MyInvocation.ExpectingInput) return;
        PerItem("IPVS", () =>
        {
            var services = Admin.GetServices();
            for (int i = 0; i < services.Count; i += GroupSize)
                foreach (var (s, servers) in Admin.GetRealServers(services.Skip(i).Take(GroupSize).ToList())) Emit(s, servers);
        });
    }

    private void Flush()
    {
        var group = _pending.ToList();
        _pending.Clear();
        PerItem(group[0], () =>
        {
            var found = Admin.GetRealServers(group);
            foreach (var (s, servers) in found) Emit(s, servers);
            foreach (var missing in group.Where(g => !found.Any(f => ReferenceEquals(f.Service, g))))
                WriteFailure(new IpvsOperationException("ServiceNotFound", IpvsFailureKind.NotFound,
                    $"Service {missing} does not exist; list services with Get-IpvsService.", missing), missing);
        });
    }

    private void Emit(IpvsService service, List<IpvsRealServer> servers)
    {
        foreach (var r in servers)
        {
            if (Address != null && !Address.Equals(r.Address)) continue;
            if (Port.HasValue && r.Port != Port) continue;
            WriteObject(r);
        }
    }
}

/// <summary>Settings shared by Add- and Set-IpvsRealServer.</summary>
public abstract class IpvsRealServerSettingsCmdlet : IpvsCmdlet
{
    /// <summary>
    /// DirectRouting, Tunnel or Masquerade (case-insensitive). Text rather than the enum because PowerShell completes an
    /// enum parameter with all its names, and FullNat (kept to be refused with an explanation) and Local (the kernel's)
    /// never work; ForwardingMethodCompleter offers the three that do.
    /// </summary>
    [Parameter]
    [ArgumentCompleter(typeof(ForwardingMethodCompleter))]
    [ValidateNotNullOrEmpty]
    public string? ForwardingMethod { get; set; }

    [Parameter]
    [ValidateRange(0, 65535)]
    public int? Weight { get; set; }

    [Parameter]
    public uint? UpperThreshold { get; set; }

    [Parameter]
    public uint? LowerThreshold { get; set; }

    [Parameter]
    public IpvsTunnelType? TunnelType { get; set; }

    [Parameter]
    public ushort? TunnelPort { get; set; }

    [Parameter]
    public IpvsTunnelChecksum? TunnelChecksum { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    /// <summary>-ForwardingMethod as the enum; a word that is not one is InvalidForwardingMethod (FullNat and Local parse, and validation explains them).</summary>
    private IpvsForwardingMethod? Method()
    {
        if (ForwardingMethod is null) return null;
        string text = ForwardingMethod.Trim();
        if (text.Length > 0 && !char.IsDigit(text[0]) && text[0] != '-' && Enum.TryParse(text, ignoreCase: true, out IpvsForwardingMethod m) && Enum.IsDefined(m))
            return m;
        throw new IpvsValidationException("InvalidForwardingMethod",
            $"-ForwardingMethod '{ForwardingMethod}' is not a forwarding method: use DirectRouting (ipvsadm -g), Tunnel (-i) or Masquerade (-m).",
            nameof(ForwardingMethod));
    }

    protected void ApplySettings(IpvsRealServer r)
    {
        if (Method() is { } method) r.ForwardingMethod = method;
        if (Weight.HasValue) r.Weight = Weight.Value;
        if (UpperThreshold.HasValue) r.UpperThreshold = UpperThreshold.Value;
        if (LowerThreshold.HasValue) r.LowerThreshold = LowerThreshold.Value;
        if (TunnelType.HasValue) r.TunnelType = TunnelType.Value;
        if (TunnelPort.HasValue) r.TunnelPort = TunnelPort.Value;
        if (TunnelChecksum.HasValue) r.TunnelChecksum = TunnelChecksum.Value;
        if (r.ForwardingMethod != IpvsForwardingMethod.Tunnel && !TunnelType.HasValue && !TunnelPort.HasValue && !TunnelChecksum.HasValue)
        {
            r.TunnelType = null; r.TunnelPort = 0; r.TunnelChecksum = IpvsTunnelChecksum.NoChecksum;
        }
    }
}

/// <summary>Add-IpvsRealServer: adds a real server to a service (ipvsadm -a).</summary>
[Cmdlet(VerbsCommon.Add, "IpvsRealServer", SupportsShouldProcess = true)]
[OutputType(typeof(IpvsRealServer))]
public sealed class AddIpvsRealServerCommand : IpvsRealServerSettingsCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
    [IpvsServiceTransformation]
    [ArgumentCompleter(typeof(IpvsServiceCompleter))]
    public IpvsService Service { get; set; } = null!;

    [Parameter(Mandatory = true, Position = 1)]
    [IPAddressTransformation]
    [Alias("IPAddress")]
    public IPAddress Address { get; set; } = null!;

    /// <summary>Defaults to the service's port.</summary>
    [Parameter(Position = 2)]
    public ushort? Port { get; set; }

    protected override void ProcessRecord()
    {
        var r = new IpvsRealServer { Service = Service, Address = Address, Port = Port ?? Service.Port };
        PerItem(r, () =>
        {
            ApplySettings(r);
            IpvsAdmin.ValidateRealServer(Service, r); // before touching the kernel
            var service = Admin.GetService(Service);
            r.Service = service;
            if (!ShouldProcess($"{r.Endpoint} in {service}", $"Add real server ({r.ForwardingMethod}, weight {r.Weight})", out bool whatIf))
            {
                if (whatIf && PassThru) WriteChanged(r, true); // the real server as it would be added
                return;
            }
            var added = Admin.AddRealServer(service, r);
            if (PassThru) WriteChanged(added, true);
        });
    }
}

/// <summary>Set-IpvsRealServer: changes a real server (ipvsadm -e): weight, forwarding, thresholds, tunnel.</summary>
[Cmdlet(VerbsCommon.Set, "IpvsRealServer", SupportsShouldProcess = true, DefaultParameterSetName = "InputObject")]
[OutputType(typeof(IpvsRealServer))]
public sealed class SetIpvsRealServerCommand : IpvsRealServerSettingsCmdlet
{
    [Parameter(ParameterSetName = "InputObject", Mandatory = true, ValueFromPipeline = true)]
    public IpvsRealServer InputObject { get; set; } = null!;

    [Parameter(ParameterSetName = "Identity", Mandatory = true, Position = 0)]
    [IpvsServiceTransformation]
    [ArgumentCompleter(typeof(IpvsServiceCompleter))]
    public IpvsService Service { get; set; } = null!;

    [Parameter(ParameterSetName = "Identity", Mandatory = true, Position = 1)]
    [IPAddressTransformation]
    [Alias("IPAddress")]
    public IPAddress Address { get; set; } = null!;

    [Parameter(ParameterSetName = "Identity", Position = 2)]
    public ushort? Port { get; set; }

    protected override void ProcessRecord()
    {
        object target = ParameterSetName == "InputObject" ? InputObject : Address;
        PerItem(target, () =>
        {
            var service = ParameterSetName == "InputObject" ? InputObject.Service : Admin.GetService(Service);
            if (service is null) throw new ArgumentException("The real server object carries no Service; get it with Get-IpvsRealServer.");
            var address = ParameterSetName == "InputObject" ? InputObject.Address : Address;
            ushort port = ParameterSetName == "InputObject" ? InputObject.Port : Port ?? service.Port;
            var current = Admin.GetRealServers(service).FirstOrDefault(x => x.Address.Equals(address) && x.Port == port)
                ?? throw new IpvsOperationException("RealServerNotFound", IpvsFailureKind.NotFound,
                    $"Real server {IpvsText.Endpoint(address, port)} is not in service {service}; list them with Get-IpvsRealServer.", target);
            var before = Admin.GetRealServers(service).First(x => x.Address.Equals(address) && x.Port == port);
            ApplySettings(current);
            IpvsAdmin.ValidateRealServer(service, current);
            var differences = IpvsPlanner.RealServerDifferences(current, before);
            if (differences.Count == 0)
            {
                WriteVerbose($"{before.Endpoint} in {service} already has these settings; nothing to change.");
                if (PassThru) WriteChanged(before, false);
                return;
            }
            if (!ShouldProcess($"{current.Endpoint} in {service}", $"Set real server ({string.Join(", ", differences)})", out bool whatIf))
            {
                if (whatIf && PassThru) WriteChanged(current, true); // the settings it would have
                return;
            }
            var updated = Admin.UpdateRealServer(service, current);
            if (PassThru) WriteChanged(updated, true);
        });
    }
}

/// <summary>Remove-IpvsRealServer: removes a real server from its service (ipvsadm -d).</summary>
[Cmdlet(VerbsCommon.Remove, "IpvsRealServer", SupportsShouldProcess = true, DefaultParameterSetName = "InputObject")]
[OutputType(typeof(void))]
public sealed class RemoveIpvsRealServerCommand : IpvsCmdlet
{
    [Parameter(ParameterSetName = "InputObject", Mandatory = true, ValueFromPipeline = true)]
    public IpvsRealServer InputObject { get; set; } = null!;

    [Parameter(ParameterSetName = "Identity", Mandatory = true, Position = 0)]
    [IpvsServiceTransformation]
    [ArgumentCompleter(typeof(IpvsServiceCompleter))]
    public IpvsService Service { get; set; } = null!;

    [Parameter(ParameterSetName = "Identity", Mandatory = true, Position = 1)]
    [IPAddressTransformation]
    [Alias("IPAddress")]
    public IPAddress Address { get; set; } = null!;

    [Parameter(ParameterSetName = "Identity", Position = 2)]
    public ushort? Port { get; set; }

    protected override void ProcessRecord()
    {
        var service = ParameterSetName == "InputObject" ? InputObject.Service : Service;
        var r = ParameterSetName == "InputObject" ? InputObject
            : new IpvsRealServer { Service = Service, Address = Address, Port = Port ?? Service.Port };
        PerItem(r, () =>
        {
            if (service is null) throw new ArgumentException("The real server object carries no Service; get it with Get-IpvsRealServer.");
            if (!ShouldProcess($"{r.Endpoint} in {service}", "Remove real server")) return;
            Admin.RemoveRealServer(service, r);
        });
    }
}
