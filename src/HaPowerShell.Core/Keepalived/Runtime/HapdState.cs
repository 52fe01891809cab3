using System.Text.Json.Serialization;

namespace HaPowerShell.Core.Keepalived.Runtime;

/// <summary>hapd's state: what its JSON dump (SIGRTMIN+2 → /tmp/keepalived.json) writes and Get-HapdStatus returns.</summary>
public sealed class HapdState
{
    public string Version { get; init; } = "";
    public int Pid { get; init; }
    public string ConfigFile { get; init; } = "";
    public DateTime Started { get; init; }
    public DateTime Written { get; init; }
    public long Reloads { get; init; }
    public long FailedReloads { get; init; }
    public string? LastReloadError { get; init; }
    public long LostLogLines { get; init; }
    public long ResidentBytes { get; init; }

    /// <summary>The GC's settings as the runtime took them (GC.GetConfigurationVariables: the gen0 cap among them).</summary>
    public Dictionary<string, string> Gc { get; init; } = new();
    public List<HapdInstanceState> VrrpInstances { get; init; } = new();

    /// <summary>The IPVS and checker half (null with -P or when the configuration has no virtual server).</summary>
    public HapdIpvsState? Ipvs { get; init; }
    public List<string> NotActedOn { get; init; } = new();
}

public sealed class HapdIpvsState
{
    public int Services { get; init; }
    public int RealServers { get; init; }
    public List<string> Draining { get; init; } = new();
    public string? SyncDaemon { get; init; }
    public long OperationsSent { get; init; }
    public long OperationsFailed { get; init; }
    public long Reconciled { get; init; }
    public List<HapdCheckerState> Checkers { get; init; } = new();
}

public sealed class HapdCheckerState
{
    public string Name { get; init; } = "";
    public string Service { get; init; } = "";
    public string Status { get; init; } = "";
    public bool QuorumUp { get; init; }
    public bool SorryServerActive { get; init; }
    public long Checks { get; init; }
    public long Failures { get; init; }
    public List<string> Up { get; init; } = new();
    public List<string> Down { get; init; } = new();
}

public sealed class HapdInstanceState
{
    public string Name { get; init; } = "";
    public string Interface { get; init; } = "";
    public int VirtualRouterId { get; init; }
    public int Version { get; init; }
    public string State { get; init; } = "";
    public int Priority { get; init; }
    public int EffectivePriority { get; init; }
    public string? MasterAddress { get; init; }
    public int? MasterPriority { get; init; }
    public double AdvertisementIntervalSeconds { get; init; }
    public List<string> VirtualAddresses { get; init; } = new();
    public List<string> UnicastPeers { get; init; } = new();
    public string? SyncGroup { get; init; }
    public bool NoPreempt { get; init; }
    public bool VirtualAddressesInstalled { get; init; }
    public List<string> FaultReasons { get; init; } = new();
    public DateTime? LastTransition { get; init; }
    public long Transitions { get; init; }
    public HapdInstanceCounters Counters { get; init; } = new();
}

public sealed class HapdInstanceCounters
{
    public long AdvertisementsSent { get; init; }
    public long AdvertisementsReceived { get; init; }
    public long PriorityZeroSent { get; init; }
    public long PriorityZeroReceived { get; init; }
    public long BecameMaster { get; init; }
    public long ReleasedMaster { get; init; }
    public long GratuitousArpBursts { get; init; }
    public long Rejected { get; init; }
    public Dictionary<string, long> RejectedByReason { get; init; } = new();
    public long SendErrors { get; init; }
    public long ActionErrors { get; init; }
}

/// <summary>A request on hapd's control socket (one JSON line).</summary>
public sealed class HapdRequest
{
    /// <summary>status, reload, set-priority, suspend-real-server, resume-real-server.</summary>
    public string Command { get; init; } = "";

    /// <summary>set-priority: the vrrp_instance.</summary>
    public string? Instance { get; init; }

    /// <summary>set-priority: 1-254.</summary>
    public int? Priority { get; init; }

    /// <summary>suspend/resume: the IPVS service as hapd names it ("TCP 192.0.2.10:80", "FWM 7").</summary>
    public string? Service { get; init; }

    /// <summary>suspend/resume: the real server's address and port.</summary>
    public string? Address { get; init; }
    public int? Port { get; init; }
}

/// <summary>hapd's answer (one JSON line): the state after the request, or an error with a stable id.</summary>
public sealed class HapdResponse
{
    public bool Ok { get; init; }
    public string? ErrorId { get; init; }

    /// <summary>InvalidArgument, ObjectNotFound, PermissionDenied, InvalidOperation.</summary>
    public string? Category { get; init; }
    public string? Message { get; init; }
    public HapdState? State { get; init; }
}

/// <summary>The control socket's requests: what each needs (read: root or the control group; change: root).</summary>
public static class HapdCommands
{
    public const string Status = "status", Reload = "reload", SetPriority = "set-priority",
        SuspendRealServer = "suspend-real-server", ResumeRealServer = "resume-real-server", Events = "events";

    /// <summary>True for a request that changes the daemon (root only); status and events only read.</summary>
    public static bool Changes(string command) => command is not (Status or Events);

    public static bool IsKnown(string command) => command is Status or Reload or SetPriority or SuspendRealServer or ResumeRealServer or Events;
}

/// <summary>
/// One of hapd's events on its control socket's event stream (request "events": an answer line, then one line per
/// event until either side closes): a VRRP state change, a checker event, or a log entry of the engines or the daemon.
/// Register-HapdEvent raises them as PowerShell engine events.
/// </summary>
public sealed class HapdEvent
{
    /// <summary>When hapd saw it (UTC).</summary>
    public DateTime Time { get; init; }

    /// <summary>Vrrp, HealthCheck, Log, or Hapd (the stream itself: events lost to a slow reader).</summary>
    public string Source { get; init; } = "";

    /// <summary>The vrrp_instance or checker it is about ("" for the daemon).</summary>
    public string Subject { get; init; } = "";

    /// <summary>Vrrp: the new state (MASTER, BACKUP, FAULT, INIT, STOPPED); HealthCheck: the event kind (RealServerUp, QuorumDown, ...); Log: the level.</summary>
    public string Kind { get; init; } = "";

    /// <summary>Vrrp: the state before.</summary>
    public string? PreviousState { get; init; }

    /// <summary>Vrrp: why (MasterDown, PreemptedBy, ...).</summary>
    public string? Reason { get; init; }

    /// <summary>Vrrp: the priority it had then.</summary>
    public int? Priority { get; init; }

    /// <summary>HealthCheck: the real server (address:port).</summary>
    public string? RealServer { get; init; }

    /// <summary>What hapd logged for it.</summary>
    public string Message { get; init; } = "";

    public override string ToString() => $"{Time:HH:mm:ss.fff} {Source} {Subject} {Kind}: {Message}";
}

[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(HapdState))]
public sealed partial class HapdJsonContext : JsonSerializerContext
{
}

/// <summary>The control protocol's serializer: one object a line (not indented).</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(HapdRequest))]
[JsonSerializable(typeof(HapdResponse))]
[JsonSerializable(typeof(HapdEvent))]
public sealed partial class HapdControlJsonContext : JsonSerializerContext
{
}
