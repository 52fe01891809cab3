using System.Management.Automation;
using HaPowerShell.Core.Keepalived.Runtime;
using HaPowerShell.Hosting.Keepalived;

namespace HaPowerShell.Commands.Hapd;

/// <summary>What the hapd cmdlets share: the control socket's path and the exchange with the daemon.</summary>
public abstract class HapdCmdlet : HaCmdlet
{
    /// <summary>hapd's control socket (hapd --control-socket); default /run/hapd.sock.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string SocketPath { get; set; } = HapdControlClient.DefaultSocketPath;

    /// <summary>How long to wait for hapd's answer (a reload of a large configuration takes longer).</summary>
    [Parameter]
    [ValidateRange(1, 3600)]
    public int TimeoutSeconds { get; set; } = 70;

    protected string ResolvedSocketPath => SessionState.Path.GetUnresolvedProviderPathFromPSPath(SocketPath);

    /// <summary>Sends <paramref name="request"/>; a refusal or an unreachable daemon becomes a terminating ErrorRecord.</summary>
    protected HapdState Send(HapdRequest request)
    {
        try { return HapdControlClient.Send(ResolvedSocketPath, request, TimeSpan.FromSeconds(TimeoutSeconds)); }
        catch (HaPowerShell.Native.HaException e)
        {
            ThrowFailure(e, request.Instance ?? request.Service ?? (object)SocketPath);
            throw; // not reached
        }
    }
}

/// <summary>Get-HapdStatus: the running hapd's state (instances, checkers, counters) over its control socket.</summary>
[Cmdlet(VerbsCommon.Get, "HapdStatus")]
[OutputType(typeof(HapdState))]
public sealed class GetHapdStatusCommand : HapdCmdlet
{
    protected override void EndProcessing() => WriteObject(Send(new HapdRequest { Command = HapdCommands.Status }));
}

/// <summary>Invoke-HapdReload: makes hapd reload its configuration (as SIGHUP) and says whether it was taken.</summary>
[Cmdlet(VerbsLifecycle.Invoke, "HapdReload", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(HapdState))]
public sealed class InvokeHapdReloadCommand : HapdCmdlet
{
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void EndProcessing()
    {
        if (!ShouldProcess(ResolvedSocketPath, "Reload hapd's configuration")) return;
        var state = Send(new HapdRequest { Command = HapdCommands.Reload });
        if (PassThru) WriteObject(state);
    }
}

/// <summary>Set-HapdPriority: changes a running vrrp_instance's priority in hapd until its next reload.</summary>
[Cmdlet(VerbsCommon.Set, "HapdPriority", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(HapdInstanceState))]
public sealed class SetHapdPriorityCommand : HapdCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string Name { get; set; } = "";

    [Parameter(Mandatory = true, Position = 1)]
    [ValidateRange(1, 254)]
    public int Priority { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        if (!ShouldProcess(Name, $"Set hapd's VRRP priority to {Priority}")) return;
        var state = Send(new HapdRequest { Command = HapdCommands.SetPriority, Instance = Name, Priority = Priority });
        if (PassThru) WriteObject(state.VrrpInstances.FirstOrDefault(i => i.Name == Name));
    }
}

/// <summary>What Suspend-/Resume-HapdRealServer share: the service and real server as hapd names them.</summary>
public abstract class HapdRealServerCmdlet : HapdCmdlet
{
    /// <summary>The virtual service as hapd names it: "TCP 192.0.2.10:80", "UDP [2001:db8::1]:53", "FWM 7".</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string Service { get; set; } = "";

    [Parameter(Mandatory = true, Position = 1, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNull]
    [IPAddressTransformation]
    [Alias("IPAddress")]
    public System.Net.IPAddress Address { get; set; } = System.Net.IPAddress.None;

    /// <summary>The real server's port (needed when the service has the address on several ports).</summary>
    [Parameter(Position = 2, ValueFromPipelineByPropertyName = true)]
    [ValidateRange(0, 65535)]
    public int? Port { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected void Run(string command, string action)
    {
        string target = $"{Service} -> {Address}{(Port is null ? "" : ":" + Port)}";
        if (!ShouldProcess(target, action)) return;
        var state = Send(new HapdRequest { Command = command, Service = Service, Address = Address.ToString(), Port = Port });
        if (PassThru) WriteObject(state);
    }
}

/// <summary>Suspend-HapdRealServer: drains a configured real server in hapd (weight 0: new connections go elsewhere, live ones go on).</summary>
[Cmdlet(VerbsLifecycle.Suspend, "HapdRealServer", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(HapdState))]
public sealed class SuspendHapdRealServerCommand : HapdRealServerCmdlet
{
    protected override void ProcessRecord() => Run(HapdCommands.SuspendRealServer, "Set the weight to 0 (drain)");
}

/// <summary>Resume-HapdRealServer: gives a suspended real server its configured weight again.</summary>
[Cmdlet(VerbsLifecycle.Resume, "HapdRealServer", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(HapdState))]
public sealed class ResumeHapdRealServerCommand : HapdRealServerCmdlet
{
    protected override void ProcessRecord() => Run(HapdCommands.ResumeRealServer, "Restore the configured weight");
}

/// <summary>
/// A running forward of hapd's events into a PowerShell session (Register-HapdEvent): each event hapd sends is
/// raised as an engine event with <see cref="SourceIdentifier"/> (SourceArgs[0] and MessageData: the
/// <see cref="HapdEvent"/>; sender: this object). <see cref="State"/> is Running, Closed (hapd ended the stream:
/// it stopped) or Stopped (Unregister-HapdEvent).
/// </summary>
public sealed class HapdEventSubscription
{
    private static int _lastId;
    private readonly HapdEventStream _stream;
    private long _received;

    internal HapdEventSubscription(HapdEventStream stream, string sourceIdentifier)
    {
        _stream = stream;
        Id = Interlocked.Increment(ref _lastId);
        SourceIdentifier = sourceIdentifier;
        Started = DateTime.Now;
    }

    public int Id { get; }
    public string SocketPath => _stream.SocketPath;
    public string SourceIdentifier { get; }
    public string State { get; private set; } = "Running";
    public long EventsReceived => Interlocked.Read(ref _received);
    public DateTime Started { get; }
    public DateTime? LastEvent { get; private set; }

    internal static readonly List<HapdEventSubscription> Active = new();

    /// <summary>Reads the stream on a background thread and raises each event in <paramref name="events"/>.</summary>
    internal void Start(PSEventManager events)
    {
        lock (Active) Active.Add(this);
        var thread = new Thread(() =>
        {
            while (_stream.Next() is { } e)
            {
                Interlocked.Increment(ref _received);
                LastEvent = DateTime.Now;
                try { events.GenerateEvent(SourceIdentifier, this, new object[] { e }, new PSObject(e)); }
                catch (Exception) { break; } // the runspace is gone
            }
            lock (Active) Active.Remove(this);
            if (State == "Running") State = "Closed";
            _stream.Dispose();
        })
        { IsBackground = true, Name = $"hapd events {Id}" };
        thread.Start();
    }

    internal void Stop()
    {
        State = "Stopped";
        _stream.Dispose();
    }

    public override string ToString() => $"{Id} {SourceIdentifier} {SocketPath} {State}";
}

/// <summary>Register-HapdEvent: raises hapd's events (VRRP state changes, checker events, engine log entries) as PowerShell engine events.</summary>
[Cmdlet(VerbsLifecycle.Register, "HapdEvent")]
[OutputType(typeof(HapdEventSubscription))]
public sealed class RegisterHapdEventCommand : HapdCmdlet
{
    public const string DefaultSourceIdentifier = "HaPowerShell.Hapd";

    /// <summary>The engine events' source identifier (Register-EngineEvent, Wait-Event and Get-Event select by it).</summary>
    [Parameter(Position = 0)]
    [ValidateNotNullOrEmpty]
    public string SourceIdentifier { get; set; } = DefaultSourceIdentifier;

    protected override void EndProcessing()
    {
        HapdEventStream stream;
        try { stream = HapdControlClient.OpenEvents(ResolvedSocketPath, TimeSpan.FromSeconds(TimeoutSeconds)); }
        catch (HaPowerShell.Native.HaException e)
        {
            ThrowFailure(e, SocketPath);
            throw; // not reached
        }
        var subscription = new HapdEventSubscription(stream, SourceIdentifier);
        subscription.Start(Events);
        WriteObject(subscription);
    }
}

/// <summary>Unregister-HapdEvent: ends forwards started by Register-HapdEvent (its objects from the pipeline, or -All).</summary>
[Cmdlet(VerbsLifecycle.Unregister, "HapdEvent", DefaultParameterSetName = "Object")]
[OutputType(typeof(void))]
public sealed class UnregisterHapdEventCommand : HaCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ParameterSetName = "Object")]
    public HapdEventSubscription[] InputObject { get; set; } = Array.Empty<HapdEventSubscription>();

    [Parameter(Mandatory = true, ParameterSetName = "All")]
    public SwitchParameter All { get; set; }

    protected override void ProcessRecord()
    {
        IEnumerable<HapdEventSubscription> which;
        if (All) { lock (HapdEventSubscription.Active) which = HapdEventSubscription.Active.ToList(); }
        else which = InputObject;
        foreach (var s in which) s.Stop();
    }
}
