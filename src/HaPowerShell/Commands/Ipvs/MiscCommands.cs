using System.Management.Automation;
using System.Net;
using HaPowerShell.Completers;
using HaPowerShell.Core.Ipvs;
using HaPowerShell.Native.Proc;

namespace HaPowerShell.Commands.Ipvs;

/// <summary>Get-IpvsTimeout: tcp, tcpfin and udp timeouts (ipvsadm -L --timeout).</summary>
[Cmdlet(VerbsCommon.Get, "IpvsTimeout")]
[OutputType(typeof(IpvsTimeout))]
public sealed class GetIpvsTimeoutCommand : IpvsCmdlet
{
    protected override void EndProcessing() => PerItem("IPVS", () => WriteObject(Admin.GetTimeout()));
}

/// <summary>Set-IpvsTimeout: sets the timeouts (ipvsadm --set tcp tcpfin udp); 0 or omitted leaves a value.</summary>
[Cmdlet(VerbsCommon.Set, "IpvsTimeout", SupportsShouldProcess = true)]
[OutputType(typeof(IpvsTimeout))]
public sealed class SetIpvsTimeoutCommand : IpvsCmdlet
{
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateRange(0, int.MaxValue)]
    [StrictNumber(typeof(uint))]
    public uint Tcp { get; set; }

    [Parameter(Position = 1, ValueFromPipelineByPropertyName = true)]
    [ValidateRange(0, int.MaxValue)]
    [StrictNumber(typeof(uint))]
    public uint TcpFin { get; set; }

    [Parameter(Position = 2, ValueFromPipelineByPropertyName = true)]
    [ValidateRange(0, int.MaxValue)]
    [StrictNumber(typeof(uint))]
    public uint Udp { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        var t = new IpvsTimeout { Tcp = Tcp, TcpFin = TcpFin, Udp = Udp };
        PerItem(t, () =>
        {
            if (Tcp == 0 && TcpFin == 0 && Udp == 0)
                throw new IpvsOperationException("TimeoutMissing", IpvsFailureKind.InvalidArgument,
                    "Give at least one of -Tcp, -TcpFin, -Udp (seconds; 0 leaves a value unchanged).", t);
            var before = Admin.GetTimeout();
            var wanted = new IpvsTimeout { Tcp = Tcp == 0 ? before.Tcp : Tcp, TcpFin = TcpFin == 0 ? before.TcpFin : TcpFin, Udp = Udp == 0 ? before.Udp : Udp };
            if (wanted.Tcp == before.Tcp && wanted.TcpFin == before.TcpFin && wanted.Udp == before.Udp)
            {
                WriteVerbose($"The timeouts are already {before.Tcp} {before.TcpFin} {before.Udp}; nothing to change.");
                if (PassThru) WriteChanged(before, false);
                return;
            }
            if (!ShouldProcess("IPVS timeouts", $"Set tcp={Tcp} tcpfin={TcpFin} udp={Udp} (0 = unchanged)", out bool whatIf))
            {
                if (whatIf && PassThru) WriteChanged(wanted, true); // the timeouts as they would be
                return;
            }
            var now = Admin.SetTimeout(t);
            if (PassThru) WriteChanged(now, true);
        });
    }
}

/// <summary>Get-IpvsConnection: the connection table (ipvsadm -L -n -c), filterable.</summary>
[Cmdlet(VerbsCommon.Get, "IpvsConnection", DefaultParameterSetName = "All")]
[OutputType(typeof(IpvsConnection))]
public sealed class GetIpvsConnectionCommand : IpvsCmdlet
{
    [Parameter(ParameterSetName = "Service", Mandatory = true, ValueFromPipeline = true, Position = 0)]
    [IpvsServiceTransformation]
    [ArgumentCompleter(typeof(IpvsServiceCompleter))]
    public IpvsService Service { get; set; } = null!;

    [Parameter(ParameterSetName = "RealServer", Mandatory = true, ValueFromPipeline = true)]
    public IpvsRealServer RealServer { get; set; } = null!;

    [Parameter]
    public string[]? State { get; set; }

    [Parameter]
    [IPAddressTransformation]
    public IPAddress? SourceAddress { get; set; }

    private List<IpvsConnection>? _table;

    protected override void ProcessRecord()
    {
        PerItem("IPVS", () =>
        {
            _table ??= Load();
            foreach (var c in _table)
            {
                if (ParameterSetName == "Service" && !Matches(Service, c)) continue;
                if (ParameterSetName == "RealServer")
                {
                    if (RealServer.Service != null && !Matches(RealServer.Service, c)) continue;
                    if (!c.DestinationAddress.Equals(RealServer.Address) || c.DestinationPort != RealServer.Port) continue;
                }
                if (State != null && !State.Any(s => string.Equals(s, c.State, StringComparison.OrdinalIgnoreCase))) continue;
                if (SourceAddress != null && !SourceAddress.Equals(c.SourceAddress)) continue;
                WriteObject(c);
            }
        });
    }

    private static bool Matches(IpvsService s, IpvsConnection c)
        => s.IsFirewallMark // a firewall-mark service has no address of its own: anything goes
           || (string.Equals(c.Protocol, s.Protocol?.ToString(), StringComparison.OrdinalIgnoreCase)
               && c.VirtualAddress.Equals(s.Address) && c.VirtualPort == s.Port);

    private static List<IpvsConnection> Load()
    {
        string text = ProcFiles.ReadIpvsConnections() ?? throw new IpvsOperationException("IpvsNotAvailable", IpvsFailureKind.NotInstalled,
            $"{ProcFiles.IpvsConnections} does not exist: this kernel has no IPVS loaded (modprobe ip_vs).", "IPVS");
        return IpvsConnectionParser.Parse(text);
    }
}

/// <summary>Get-IpvsSyncDaemon: running connection-sync daemons (ipvsadm -L --daemon).</summary>
[Cmdlet(VerbsCommon.Get, "IpvsSyncDaemon")]
[OutputType(typeof(IpvsSyncDaemon))]
public sealed class GetIpvsSyncDaemonCommand : IpvsCmdlet
{
    protected override void EndProcessing() => PerItem("IPVS", () => WriteObject(Admin.GetSyncDaemons(), true));
}

/// <summary>Start-IpvsSyncDaemon: starts a master or backup sync daemon (ipvsadm --start-daemon).</summary>
[Cmdlet(VerbsLifecycle.Start, "IpvsSyncDaemon", SupportsShouldProcess = true)]
[OutputType(typeof(IpvsSyncDaemon))]
public sealed class StartIpvsSyncDaemonCommand : IpvsCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    public IpvsSyncDaemonState State { get; set; }

    [Parameter(Mandatory = true, Position = 1, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(InterfaceNameCompleter))]
    [Alias("InterfaceAlias")]
    public string InterfaceName { get; set; } = "";

    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateRange(0, 255)]
    [StrictNumber(typeof(uint))]
    public uint SyncId { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true)]
    [StrictNumber(typeof(ushort))]
    public ushort MaxLength { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true)]
    [IPAddressTransformation]
    public IPAddress? Group { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true)]
    [StrictNumber(typeof(ushort))]
    public ushort Port { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateRange(1, 255)]
    [StrictNumber(typeof(byte))]
    public byte Ttl { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        var d = new IpvsSyncDaemon { State = State, InterfaceName = InterfaceName, SyncId = SyncId, MaxLength = MaxLength, Group = Group, Port = Port, Ttl = Ttl };
        PerItem(d, () =>
        {
            IpvsAdmin.ValidateSyncDaemon(d);
            if (!ShouldProcess(d.ToString(), "Start sync daemon", out bool whatIf))
            {
                if (whatIf && PassThru) WriteChanged(d, true);
                return;
            }
            var started = Admin.StartSyncDaemon(d);
            if (PassThru) WriteChanged(started, true);
        });
    }
}

/// <summary>Stop-IpvsSyncDaemon: stops the master or backup sync daemon (ipvsadm --stop-daemon).</summary>
[Cmdlet(VerbsLifecycle.Stop, "IpvsSyncDaemon", SupportsShouldProcess = true)]
[OutputType(typeof(void))]
public sealed class StopIpvsSyncDaemonCommand : IpvsCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    public IpvsSyncDaemonState State { get; set; }

    protected override void ProcessRecord()
    {
        PerItem(State, () =>
        {
            if (ShouldProcess($"{State} sync daemon", "Stop")) Admin.StopSyncDaemon(State);
        });
    }
}
