using System.Collections;
using System.Net;
using System.Net.Sockets;
using HaPowerShell.Core.Ipvs;

using HaPowerShell.Core.Vrrp;

namespace HaPowerShell.Core.Keepalived;

/// <summary>
/// A keepalived configuration as keepalived 2.2 reads it: every section, typed, with keepalived's defaults
/// applied; the model a keepalived-compatible daemon runs and the cmdlets pipe into Start-VrrpInstance,
/// New-IpvsService, Sync-IpvsConfig and Start-IpvsHealthCheck.
/// </summary>
public sealed class KeepalivedConfiguration
{
    /// <summary>The main file.</summary>
    public string? Path { get; set; }

    /// <summary>Every file read (the main file and its includes), in the order they were read.</summary>
    public List<string> Files { get; } = new();

    /// <summary>The config id '@id' lines are matched against (keepalived -i; default the host name up to its first '.').</summary>
    public string? ConfigId { get; set; }

    public KeepalivedGlobalSettings Global { get; set; } = new();
    public List<KeepalivedVrrpScript> VrrpScripts { get; } = new();
    public List<KeepalivedVrrpInstance> VrrpInstances { get; } = new();
    public List<KeepalivedVrrpSyncGroup> VrrpSyncGroups { get; } = new();
    public List<KeepalivedTrackFile> TrackFiles { get; } = new();
    public List<KeepalivedTrackProcess> TrackProcesses { get; } = new();
    public List<KeepalivedTrackGroup> TrackGroups { get; } = new();
    public List<KeepalivedGarpGroup> GarpGroups { get; } = new();
    public List<KeepalivedTextLine> StaticAddresses { get; } = new();
    public List<KeepalivedTextLine> StaticRoutes { get; } = new();
    public List<KeepalivedTextLine> StaticRules { get; } = new();
    public List<KeepalivedTextLine> LinkbeatInterfaces { get; } = new();
    public List<KeepalivedTextLine> InterfaceUpDownDelays { get; } = new();
    public List<KeepalivedVirtualServerGroup> VirtualServerGroups { get; } = new();
    public List<KeepalivedVirtualServer> VirtualServers { get; } = new();
    public List<KeepalivedBfdInstance> BfdInstances { get; } = new();
    public KeepalivedSsl? Ssl { get; set; }

    /// <summary>What keepalived -t reports about the configuration (set by ConvertFrom-KeepalivedConfig).</summary>
    public IReadOnlyList<KeepalivedFinding> Findings { get; set; } = Array.Empty<KeepalivedFinding>();

    /// <summary>Root-level keyword lines that are not blocks (net_namespace, instance, use_pid_dir, ...).</summary>
    public List<KeepalivedSetting> RootSettings { get; } = new();

    /// <summary>The real servers of all virtual servers, each knowing its virtual server.</summary>
    public IEnumerable<KeepalivedRealServer> RealServers => VirtualServers.SelectMany(v => v.RealServers);

    /// <summary>The IPVS services the virtual servers make (a virtual_server group makes one per member), with their real servers.</summary>
    public List<IpvsService> ToIpvsServices()
        => VirtualServers.SelectMany(v => v.ToIpvsServices(this)).ToList();
}

/// <summary>global_defs and the root keywords next to it.</summary>
public sealed class KeepalivedGlobalSettings : KeepalivedBlock
{
    public string? RouterId { get; set; }
    public List<string> NotificationEmail { get; } = new();
    public string? NotificationEmailFrom { get; set; }
    public string? SmtpServer { get; set; }
    public int SmtpServerPort { get; set; } = 25;
    public string? SmtpHeloName { get; set; }
    public double SmtpConnectTimeout { get; set; } = 30;
    public bool? SmtpAlert { get; set; }
    public bool? SmtpAlertVrrp { get; set; }
    public bool? SmtpAlertChecker { get; set; }
    public bool EnableScriptSecurity { get; set; }
    public string? ScriptUser { get; set; }
    public string? ScriptGroup { get; set; }
    public string? StartupScript { get; set; }
    public int StartupScriptTimeout { get; set; } = 10;
    public string? ShutdownScript { get; set; }
    public int ShutdownScriptTimeout { get; set; } = 10;
    public bool DynamicInterfaces { get; set; }
    public bool AllowInterfaceChanges { get; set; }
    public string? DefaultInterface { get; set; }
    public int? LvsTimeoutTcp { get; set; }
    public int? LvsTimeoutTcpFin { get; set; }
    public int? LvsTimeoutUdp { get; set; }
    public bool LvsFlush { get; set; }
    /// <summary>lvs_flush_on_stop: null (not set), "Full" or "VS".</summary>
    public string? LvsFlushOnStop { get; set; }
    public KeepalivedLvsSyncDaemon? LvsSyncDaemon { get; set; }
    public string VrrpMcastGroup4 { get; set; } = "224.0.0.18";
    public string VrrpMcastGroup6 { get; set; } = "ff02::12";
    public double VrrpGarpMasterDelay { get; set; } = 5;
    public int VrrpGarpMasterRepeat { get; set; } = 5;
    public double VrrpGarpMasterRefresh { get; set; }
    public int VrrpGarpMasterRefreshRepeat { get; set; } = 1;
    public double? VrrpGarpLowerPriorityDelay { get; set; }
    public int? VrrpGarpLowerPriorityRepeat { get; set; }
    public int VrrpDownTimerAdverts { get; set; } = 3;
    public double VrrpGarpInterval { get; set; }
    public double VrrpGnaInterval { get; set; }
    public bool VrrpMinGarp { get; set; }
    public bool VrrpLowerPriorityNoAdvert { get; set; }
    public bool VrrpHigherPrioritySendAdvert { get; set; }
    public int VrrpVersion { get; set; } = 2;
    public bool VrrpCheckUnicastSource { get; set; }
    public bool VrrpSkipCheckAdvertAddress { get; set; }
    public bool VrrpStrict { get; set; }
    public int? VrrpPriority { get; set; }
    public int? VrrpRealtimePriority { get; set; }
    public bool VrrpNoSwap { get; set; }
    public int? CheckerPriority { get; set; }
    public int? CheckerRealtimePriority { get; set; }
    public bool CheckerNoSwap { get; set; }
    public int? BfdPriority { get; set; }
    public int? BfdRealtimePriority { get; set; }
    public string? NftablesTable { get; set; }
    public int? NftablesPriority { get; set; }
    public string? NftablesIpvsTable { get; set; }
    public string? NotifyFifo { get; set; }
    public string? NotifyFifoScript { get; set; }
    public string? VrrpNotifyFifo { get; set; }
    public string? VrrpNotifyFifoScript { get; set; }
    public string? LvsNotifyFifo { get; set; }
    public string? LvsNotifyFifoScript { get; set; }
    public double VrrpStartupDelay { get; set; }
    public string? NetworkNamespace { get; set; }
    public string? InstanceName { get; set; }
    public int MaxAutoPriority { get; set; }
    public bool EnableSnmpVrrp { get; set; }
    public bool EnableSnmpChecker { get; set; }
    public bool EnableDbus { get; set; }
    public string? VmacPrefix { get; set; }
}

/// <summary>global lvs_sync_daemon (IPVS connection synchronisation).</summary>
public sealed class KeepalivedLvsSyncDaemon
{
    public string InterfaceName { get; set; } = "";
    public string? VrrpInstance { get; set; }
    public int? SyncId { get; set; }
    public int? MaxLength { get; set; }
    public int? Port { get; set; }
    public int? Ttl { get; set; }
    public string? Group { get; set; }
}

/// <summary>vrrp_script: a command run periodically whose result changes the priority of the instances tracking it.</summary>
public sealed partial class KeepalivedVrrpScript : KeepalivedBlock
{
    public string Name { get; set; } = "";
    /// <summary>The command line as written (the script and its arguments).</summary>
    public string? Script { get; set; }
    /// <summary>The command line split as keepalived runs it (quotes and escapes applied).</summary>
    public string[] Arguments { get; set; } = Array.Empty<string>();
    public double Interval { get; set; } = 1;
    /// <summary>Seconds; 0 = keepalived's default (the interval).</summary>
    public double Timeout { get; set; }
    public int Weight { get; set; }
    public bool WeightReverse { get; set; }
    public int Rise { get; set; } = 1;
    public int Fall { get; set; } = 1;
    public string? User { get; set; }
    public string? Group { get; set; }
    public bool InitFail { get; set; }

    internal VrrpScriptState St { get; } = new();
}

/// <summary>A reference from an instance or sync group to a tracked script/file/process/BFD, with its own weight.</summary>
public sealed class KeepalivedTrackReference
{
    public string Name { get; set; } = "";
    /// <summary>The weight for this tracker (the tracked object's own weight when none is given).</summary>
    public int Weight { get; set; }
    public bool WeightReverse { get; set; }
    /// <summary>The line as written ("chk_haproxy weight -20").</summary>
    public string Text { get; set; } = "";
    public string? File { get; set; }
    public int Line { get; set; }
    public override string ToString() => Text;
}

/// <summary>The JSON face of a vrrp_instance: its auth_pass masked (a <see cref="VrrpPassword"/>: "********" as text, {} in JSON).</summary>
public abstract class KeepalivedVrrpInstanceJson : KeepalivedBlock
{
    private protected string? authenticationPassword, authenticationData;

    /// <summary>auth_pass (PASS only: Start-VrrpInstance does simple password authentication; AH is listed in NotActedOn). Binds to Start-VrrpInstance -AuthenticationPassword.</summary>
    public VrrpPassword? AuthenticationPassword { get => authenticationPassword; set => authenticationPassword = value?.Reveal(); }

    /// <summary>auth_pass whatever the auth_type (the AH key too, which <see cref="AuthenticationPassword"/> leaves out as Start-VrrpInstance speaks PASS only).</summary>
    public VrrpPassword? AuthenticationData { get => authenticationData; set => authenticationData = value?.Reveal(); }
}

/// <summary>vrrp_instance: one VRRP router. Its properties are named after Start-VrrpInstance's parameters.</summary>
public sealed partial class KeepalivedVrrpInstance : KeepalivedVrrpInstanceJson
{
    public string Name { get; set; } = "";
    /// <summary>MASTER or BACKUP (keepalived derives it from the priority when not given).</summary>
    public string State { get; set; } = "BACKUP";
    public bool StateGiven { get; set; }
    public string? InterfaceName { get; set; }
    public int VirtualRouterId { get; set; }
    public int Priority { get; set; } = 100;
    public bool PriorityGiven { get; set; }
    /// <summary>Seconds.</summary>
    public double AdvertisementInterval { get; set; } = 1;
    /// <summary>2 or 3 (keepalived's default: global vrrp_version, 3 for IPv6).</summary>
    public int Version { get; set; } = 2;
    public bool VersionGiven { get; set; }
    public bool NoPreempt { get; set; }
    /// <summary>Seconds.</summary>
    public double PreemptDelay { get; set; }
    /// <summary>None, PASS or AH.</summary>
    public string AuthenticationType { get; set; } = "None";
    /// <summary>auth_pass (PASS only), in clear for the code that writes keepalived.conf; users see the masked face.</summary>
    internal new string? AuthenticationPassword { get => authenticationPassword; set => authenticationPassword = value; }
    /// <summary>auth_pass whatever the auth_type, in clear (internal twin).</summary>
    internal new string? AuthenticationData { get => authenticationData; set => authenticationData = value; }
    /// <summary>virtual_ipaddress lines as written ("192.0.2.1/24 dev eth0 label eth0:1").</summary>
    public string[] VirtualIPAddress { get; set; } = Array.Empty<string>();
    public List<KeepalivedTextLine> VirtualIPAddressLines { get; } = new();
    public List<KeepalivedTextLine> VirtualIPAddressExcluded { get; } = new();
    public List<KeepalivedTextLine> VirtualRoutes { get; } = new();
    public List<KeepalivedTextLine> VirtualRules { get; } = new();
    public string[] UnicastPeer { get; set; } = Array.Empty<string>();
    public List<KeepalivedTextLine> UnicastPeerLines { get; } = new();
    /// <summary>unicast_src_ip or mcast_src_ip.</summary>
    public string? SourceAddress { get; set; }
    public string? MulticastDestination { get; set; }
    /// <summary>track_interface lines as written ("eth1 weight -20").</summary>
    public string[] TrackInterface { get; set; } = Array.Empty<string>();
    public List<KeepalivedTextLine> TrackInterfaceLines { get; } = new();
    public List<KeepalivedTrackReference> TrackedScripts { get; } = new();
    /// <summary>The tracked scripts in the form Start-VrrpInstance -TrackScript takes (Name, Script, Interval, Timeout, Weight, Rise, Fall).</summary>
    public Hashtable[] TrackScript { get; set; } = Array.Empty<Hashtable>();
    public List<KeepalivedTrackReference> TrackedFiles { get; } = new();
    public List<KeepalivedTrackReference> TrackedProcesses { get; } = new();
    public List<KeepalivedTrackReference> TrackedBfds { get; } = new();
    public string? NotifyScript { get; set; }
    public string? NotifyMaster { get; set; }
    public string? NotifyBackup { get; set; }
    public string? NotifyFault { get; set; }
    public string? NotifyStop { get; set; }
    public string? NotifyDeleted { get; set; }
    public string? NotifyMasterRxLowerPriority { get; set; }
    /// <summary>Seconds.</summary>
    public double GarpMasterDelay { get; set; } = 5;
    public int GarpMasterRepeat { get; set; } = 5;
    /// <summary>Seconds (0 = no refresh).</summary>
    public double GarpMasterRefresh { get; set; }
    public int GarpMasterRefreshRepeat { get; set; } = 1;
    /// <summary>Seconds between the gratuitous ARPs of one burst (global vrrp_garp_interval).</summary>
    public double GarpInterval { get; set; }
    /// <summary>The vrrp_sync_group this instance belongs to.</summary>
    public string? SyncGroup { get; set; }
    /// <summary>no_accept (or strict mode without accept): VIPs answer ARP but packets to them are dropped.</summary>
    public bool NoAccept { get; set; }
    public bool StrictMode { get; set; }
    public bool UseVmac { get; set; }
    public string? VmacInterfaceName { get; set; }
    public bool UseIpvlan { get; set; }
    public bool DontTrackPrimary { get; set; }
    public bool SkipCheckAdvertAddress { get; set; }
    public bool? SmtpAlert { get; set; }
    public int DownTimerAdverts { get; set; } = 3;
    public bool LowerPriorityNoAdvert { get; set; }
    public bool HigherPrioritySendAdvert { get; set; }
    public int? UnicastTtl { get; set; }
    public string? LvsSyncDaemonInterface { get; set; }
    public string AddressFamily { get; set; } = "IPv4";

    internal VrrpInstanceState St { get; } = new();
}

/// <summary>vrrp_sync_group: instances that change state together.</summary>
public sealed class KeepalivedVrrpSyncGroup : KeepalivedBlock
{
    public string Name { get; set; } = "";
    public string[] Group { get; set; } = Array.Empty<string>();
    public List<KeepalivedTextLine> TrackInterfaceLines { get; } = new();
    public List<KeepalivedTrackReference> TrackedScripts { get; } = new();
    public List<KeepalivedTrackReference> TrackedFiles { get; } = new();
    public List<KeepalivedTrackReference> TrackedProcesses { get; } = new();
    public List<KeepalivedTrackReference> TrackedBfds { get; } = new();
    public string? NotifyScript { get; set; }
    public string? NotifyMaster { get; set; }
    public string? NotifyBackup { get; set; }
    public string? NotifyFault { get; set; }
    public string? NotifyStop { get; set; }
    public bool? SmtpAlert { get; set; }
    public bool SyncGroupTrackingWeight { get; set; }

    internal SyncGroupState St { get; } = new();
}

/// <summary>track_file (or vrrp_track_file): a file whose number changes priorities or weights.</summary>
public sealed class KeepalivedTrackFile : KeepalivedBlock
{
    public string Name { get; set; } = "";
    public string? FilePath { get; set; }
    public int Weight { get; set; } = 1;
    public bool WeightReverse { get; set; }
    public bool InitFile { get; set; }
    public int InitValue { get; set; }
    public bool InitOverwrite { get; set; }
}

/// <summary>vrrp_track_process: a process whose presence changes priorities.</summary>
public sealed class KeepalivedTrackProcess : KeepalivedBlock
{
    public string Name { get; set; } = "";
    public string? Process { get; set; }
    public string[] Parameters { get; set; } = Array.Empty<string>();
    public string? ParamMatch { get; set; }
    public int Weight { get; set; }
    public bool WeightReverse { get; set; }
    public int Quorum { get; set; } = 1;
    public int? QuorumMax { get; set; }
    public double? Delay { get; set; }
    public double? TerminateDelay { get; set; }
    public double? ForkDelay { get; set; }
    public bool FullCommand { get; set; }
}

/// <summary>track_group: groups for static addresses/routes/rules tracking.</summary>
public sealed class KeepalivedTrackGroup : KeepalivedBlock
{
    public string Name { get; set; } = "";
    public string[] Group { get; set; } = Array.Empty<string>();
}

/// <summary>garp_group: gratuitous ARP / NA pacing for interfaces.</summary>
public sealed class KeepalivedGarpGroup : KeepalivedBlock
{
    public double? GarpInterval { get; set; }
    public double? GnaInterval { get; set; }
    public List<string> Interfaces { get; } = new();
}

/// <summary>virtual_server_group: addresses, ranges and fwmarks that share virtual_server blocks.</summary>
public sealed class KeepalivedVirtualServerGroup : KeepalivedBlock
{
    public string Name { get; set; } = "";
    public List<KeepalivedTextLine> Entries { get; } = new();
    /// <summary>The members keepalived accepted (address or range, port, or fwmark).</summary>
    public List<KeepalivedVirtualServerGroupEntry> Members { get; } = new();

    internal bool Have4, Have6, FwmarkNoFamily;
}

/// <summary>A member of a virtual_server_group: the JSON face (addresses and family as text).</summary>
public abstract class KeepalivedVirtualServerGroupEntryJson
{
    private protected IPAddress? address, addressEnd;
    private protected AddressFamily? family;

    public string? Address { get => address?.ToString(); set => address = JsonShape.Address(value); }
    public string? AddressEnd { get => addressEnd?.ToString(); set => addressEnd = JsonShape.Address(value); }
    public int Port { get; set; }
    public uint FirewallMark { get; set; }
    public bool IsFirewallMark { get; set; }

    /// <summary>InterNetwork or InterNetworkV6; null for a firewall mark without a family.</summary>
    public string? Family { get => family?.ToString(); set => family = JsonShape.EnumOrNull<System.Net.Sockets.AddressFamily>(value); }
    public string Text { get; set; } = "";
}

/// <summary>A member of a virtual_server_group; typed internal twins.</summary>
public sealed class KeepalivedVirtualServerGroupEntry : KeepalivedVirtualServerGroupEntryJson
{
    internal new IPAddress? Address { get => address; set => address = value; }
    internal new IPAddress? AddressEnd { get => addressEnd; set => addressEnd = value; }
    internal new AddressFamily? Family { get => family; set => family = value; }
}

/// <summary>The forwarding methods keepalived's lb_kind/lvs_method name.</summary>
public enum KeepalivedForwardingMethod
{
    NAT,
    DR,
    TUN,
}

/// <summary>The JSON face of a virtual_server: its address, protocol, family and lb_kind as text.</summary>
public abstract class KeepalivedVirtualServerJson : KeepalivedBlock
{
    private protected IPAddress? address;
    private protected IpvsProtocol protocol = IpvsProtocol.Tcp;
    private protected System.Net.Sockets.AddressFamily addressFamily = System.Net.Sockets.AddressFamily.InterNetwork;
    private protected KeepalivedForwardingMethod forwardingMethod = KeepalivedForwardingMethod.NAT;

    /// <summary>The address (null for fwmark and group services).</summary>
    public string? Address { get => address?.ToString(); set => address = JsonShape.Address(value); }

    /// <summary>Tcp, Udp or Sctp.</summary>
    public string Protocol { get => protocol.ToString(); set => protocol = JsonShape.Enum<IpvsProtocol>(value); }

    /// <summary>InterNetwork or InterNetworkV6.</summary>
    public string AddressFamily { get => addressFamily.ToString(); set => addressFamily = JsonShape.Enum<System.Net.Sockets.AddressFamily>(value); }

    /// <summary>lb_kind: NAT (when not given, as keepalived), DR or TUN.</summary>
    public string ForwardingMethod { get => forwardingMethod.ToString(); set => forwardingMethod = JsonShape.Enum<KeepalivedForwardingMethod>(value); }
}

/// <summary>virtual_server: an IPVS service with its real servers and checkers. Properties are named after New-IpvsService's parameters; typed internal twins of the face.</summary>
public sealed class KeepalivedVirtualServer : KeepalivedVirtualServerJson
{
    internal new IPAddress? Address { get => address; set => address = value; }
    internal new IpvsProtocol Protocol { get => protocol; set => protocol = value; }
    internal new AddressFamily AddressFamily { get => addressFamily; set => addressFamily = value; }
    internal new KeepalivedForwardingMethod ForwardingMethod { get => forwardingMethod; set => forwardingMethod = value; }

    public ushort Port { get; set; }
    public uint FirewallMark { get; set; }
    public bool IsFirewallMark { get; set; }
    /// <summary>The virtual_server_group the block applies to ("virtual_server group NAME").</summary>
    public string? Group { get; set; }
    public string Scheduler { get; set; } = "wlc";
    public uint PersistenceTimeout { get; set; }
    public string? PersistenceNetmask { get; set; }
    public string? PersistenceEngine { get; set; }
    public bool OnePacket { get; set; }
    public string[] SchedulerFlag { get; set; } = Array.Empty<string>();
    public string? TunnelType { get; set; }
    public int TunnelPort { get; set; }
    public string? TunnelChecksum { get; set; }
    /// <summary>Seconds between checks (delay_loop; keepalived's default 60).</summary>
    public double DelayLoop { get; set; } = 60;
    public double ConnectTimeout { get; set; } = 5;
    public int? Retry { get; set; }
    public double? DelayBeforeRetry { get; set; }
    public double? Warmup { get; set; }
    public bool InhibitOnFailure { get; set; }
    public bool Alpha { get; set; }
    public bool Omega { get; set; }
    public int Quorum { get; set; } = 1;
    public int Hysteresis { get; set; }
    public string? QuorumUp { get; set; }
    public string? QuorumDown { get; set; }
    public int Weight { get; set; } = 1;
    public bool HaSuspend { get; set; }
    public string? VirtualHost { get; set; }
    public bool? SmtpAlert { get; set; }
    public KeepalivedRealServer? SorryServer { get; set; }
    public bool SorryServerInhibit { get; set; }
    public List<KeepalivedRealServer> RealServers { get; } = new();

    internal VirtualServerState St { get; } = new();

    /// <summary>"TCP 192.0.2.1:80", "FWM 5" or "group NAME", as ipvsadm and the cmdlets name services.</summary>
    public override string ToString()
    {
        if (Group is not null) return "group " + Group;
        if (IsFirewallMark) return "FWM " + FirewallMark;
        string addr = Address is null ? "?" : Address.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{Address}]" : Address.ToString();
        return $"{Protocol.ToString().ToUpperInvariant()} {addr}:{Port}";
    }

    /// <summary>The IPVS service (no group): what New-IpvsService would create.</summary>
    public static implicit operator IpvsService(KeepalivedVirtualServer vs)
    {
        if (vs.Group is not null)
            throw new InvalidCastException($"virtual_server group {vs.Group} makes one IPVS service per group member; use ToIpvsServices() or ConvertFrom-KeepalivedConfig -Section IpvsService.");
        return vs.MakeService(vs.Address, vs.Port, vs.FirewallMark, vs.AddressFamily, withRealServers: true);
    }

    internal IpvsService MakeService(IPAddress? address, int port, uint fwmark, AddressFamily family, bool withRealServers)
    {
        var s = new IpvsService
        {
            Protocol = fwmark != 0 ? null : Protocol,
            Address = fwmark != 0 ? null : address,
            Port = fwmark != 0 ? (ushort)0 : (ushort)port,
            FirewallMark = fwmark,
            AddressFamily = family,
            Scheduler = Scheduler,
            PersistenceTimeout = PersistenceTimeout,
            PersistenceNetmask = PersistenceNetmask,
            PersistenceEngine = PersistenceEngine,
            OnePacket = OnePacket,
            SchedulerFlag = SchedulerFlag,
        };
        if (withRealServers)
            s.RealServers = RealServers.Select(r => r.ToIpvsRealServer(s)).ToList();
        return s;
    }

    /// <summary>The IPVS services this block makes: one, or one per member of its virtual_server_group.</summary>
    public IEnumerable<IpvsService> ToIpvsServices(KeepalivedConfiguration config)
    {
        if (Group is null)
        {
            yield return (IpvsService)this;
            yield break;
        }
        var g = config.VirtualServerGroups.FirstOrDefault(x => x.Name == Group);
        if (g is null) yield break;
        foreach (var m in g.Members)
        {
            if (m.IsFirewallMark)
            {
                yield return MakeService(null, 0, m.FirewallMark, m.Family ?? AddressFamily, true);
                continue;
            }
            if (m.Address is null) continue;
            foreach (var a in Expand(m.Address, m.AddressEnd))
                yield return MakeService(a, m.Port != 0 ? m.Port : Port, 0, a.AddressFamily, true);
        }
    }

    private static IEnumerable<IPAddress> Expand(IPAddress start, IPAddress? end)
    {
        if (end is null || end.Equals(start)) { yield return start; yield break; }
        var s = new System.Numerics.BigInteger(start.GetAddressBytes(), isUnsigned: true, isBigEndian: true);
        var e = new System.Numerics.BigInteger(end.GetAddressBytes(), isUnsigned: true, isBigEndian: true);
        int len = start.GetAddressBytes().Length;
        for (var i = s; i <= e && i - s < 65536; i++)
        {
            var bytes = i.ToByteArray(isUnsigned: true, isBigEndian: true);
            var full = new byte[len];
            Array.Copy(bytes, 0, full, len - bytes.Length, bytes.Length);
            yield return new IPAddress(full);
        }
    }
}

/// <summary>The JSON face of a real_server (or sorry_server): its address and lb_kind as text.</summary>
public abstract class KeepalivedRealServerJson : KeepalivedBlock
{
    private protected IPAddress address = IPAddress.Any;
    private protected KeepalivedForwardingMethod forwardingMethod = KeepalivedForwardingMethod.NAT;

    public string Address { get => address.ToString(); set => address = JsonShape.Address(value) ?? IPAddress.Any; }

    /// <summary>NAT, DR or TUN (the virtual server's unless given).</summary>
    public string ForwardingMethod { get => forwardingMethod.ToString(); set => forwardingMethod = JsonShape.Enum<KeepalivedForwardingMethod>(value); }
}

/// <summary>real_server (or sorry_server): a server behind a virtual server, with its checkers; typed internal twins of the face.</summary>
public sealed partial class KeepalivedRealServer : KeepalivedRealServerJson
{
    internal new IPAddress Address { get => address; set => address = value; }
    internal new KeepalivedForwardingMethod ForwardingMethod { get => forwardingMethod; set => forwardingMethod = value; }

    public ushort Port { get; set; }
    public int Weight { get; set; } = 1;
    public string? TunnelType { get; set; }
    public int TunnelPort { get; set; }
    public string? TunnelChecksum { get; set; }
    public uint UpperThreshold { get; set; }
    public uint LowerThreshold { get; set; }
    public bool? InhibitOnFailure { get; set; }
    public string? NotifyUp { get; set; }
    public string? NotifyDown { get; set; }
    public bool? Alpha { get; set; }
    public int? Retry { get; set; }
    public double? DelayBeforeRetry { get; set; }
    public double? Warmup { get; set; }
    public double? ConnectTimeout { get; set; }
    public double? DelayLoop { get; set; }
    public bool? SmtpAlert { get; set; }
    public string? VirtualHost { get; set; }
    public List<KeepalivedChecker> Checkers { get; } = new();

    internal RealServerState St { get; } = new();

    /// <summary>The virtual server it belongs to.</summary>
    public KeepalivedVirtualServer? VirtualServer { get; set; }

    internal IpvsRealServer ToIpvsRealServer(IpvsService? service) => new()
    {
        Service = service,
        Address = Address,
        Port = Port,
        ForwardingMethod = ForwardingMethod switch
        {
            KeepalivedForwardingMethod.DR => IpvsForwardingMethod.DirectRouting,
            KeepalivedForwardingMethod.TUN => IpvsForwardingMethod.Tunnel,
            _ => IpvsForwardingMethod.Masquerade,
        },
        Weight = Weight,
        UpperThreshold = UpperThreshold,
        LowerThreshold = LowerThreshold,
    };

    /// <summary>The IPVS real server (with its service), what Add-IpvsRealServer and Start-IpvsHealthCheck take.</summary>
    public static implicit operator IpvsRealServer(KeepalivedRealServer rs)
        => rs.ToIpvsRealServer(rs.VirtualServer is { Group: null } vs ? vs.MakeService(vs.Address, vs.Port, vs.FirewallMark, vs.AddressFamily, false) : null);

    public override string ToString()
        => Address.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{Address}]:{Port}" : $"{Address}:{Port}";
}

/// <summary>One checker of a real server (TCP_CHECK, HTTP_GET, SSL_GET, MISC_CHECK, SMTP_CHECK, DNS_CHECK, UDP_CHECK, PING_CHECK, FILE_CHECK, BFD_CHECK).</summary>
public sealed class KeepalivedChecker : KeepalivedBlock
{
    public string Type { get; set; } = "";
    public string? ConnectIp { get; set; }
    public int? ConnectPort { get; set; }
    public string? BindTo { get; set; }
    public int? BindPort { get; set; }
    public string? BindInterface { get; set; }
    /// <summary>Seconds (null = the real server's or virtual server's connect_timeout).</summary>
    public double? ConnectTimeout { get; set; }
    public uint? FirewallMark { get; set; }
    public int? Retry { get; set; }
    public double? DelayBeforeRetry { get; set; }
    public double? Warmup { get; set; }
    public double? DelayLoop { get; set; }
    public bool? Alpha { get; set; }
    public bool LogAllFailures { get; set; }
    // HTTP_GET / SSL_GET
    public List<KeepalivedUrl> Urls { get; } = new();
    public string? VirtualHost { get; set; }
    public string? HttpProtocol { get; set; }
    public bool EnableSni { get; set; }
    public bool FastRecovery { get; set; }
    // MISC_CHECK
    public string? MiscPath { get; set; }
    public string[] MiscArguments { get; set; } = Array.Empty<string>();
    public double? MiscTimeout { get; set; }
    public bool MiscDynamic { get; set; }
    public string? User { get; set; }
    public string? Group { get; set; }
    // SMTP_CHECK
    public string? HeloName { get; set; }
    /// <summary>SMTP_CHECK host blocks: further connections (Type "host"; their connection properties are set), each checked like the checker itself.</summary>
    public List<KeepalivedChecker> Hosts { get; } = new();
    // DNS_CHECK
    public string? DnsType { get; set; }
    public string? DnsName { get; set; }
    // UDP_CHECK
    public string? Payload { get; set; }
    public bool RequireReply { get; set; }
    public int? MinReplyLength { get; set; }
    public int? MaxReplyLength { get; set; }
    // FILE_CHECK / BFD_CHECK
    public string? TrackFile { get; set; }
    public int? Weight { get; set; }
    public bool WeightReverse { get; set; }
    public string? BfdName { get; set; }

    internal CheckerState St { get; } = new();
}

/// <summary>A url block of HTTP_GET/SSL_GET.</summary>
public sealed class KeepalivedUrl : KeepalivedBlock
{
    public string Path { get; set; } = "/";
    public string? Digest { get; set; }
    /// <summary>status_code values as written (200, 200-299, ...); empty = keepalived's default 200-299.</summary>
    public List<string> StatusCode { get; } = new();
    public string? VirtualHost { get; set; }
    public string? Regex { get; set; }
    public bool RegexNoMatch { get; set; }
}

/// <summary>bfd_instance.</summary>
public sealed class KeepalivedBfdInstance : KeepalivedBlock
{
    public string Name { get; set; } = "";
    public string? Neighbor { get; set; }
    public string? Source { get; set; }
    public int? MinRx { get; set; }
    public int? MinTx { get; set; }
    public int? IdleTx { get; set; }
    public int? Multiplier { get; set; }
    public bool Passive { get; set; }
    public int? Ttl { get; set; }
    public int? MaxHops { get; set; }
    public int? Weight { get; set; }

    internal BfdState St { get; } = new();
}

internal sealed class BfdState
{
    public IPAddress? Neighbor;
    public IPAddress? Source;
}

/// <summary>The SSL block (client certificate for SSL_GET).</summary>
public sealed class KeepalivedSsl : KeepalivedBlock
{
    /// <summary>The key file's password, masked ("********" as text, {} in JSON); <c>PasswordText</c> is the clear internal twin.</summary>
    public VrrpPassword? Password { get => PasswordText; set => PasswordText = value?.Reveal(); }
    internal string? PasswordText { get; set; }
    public string? CaFile { get; set; }
    public string? CertificateFile { get; set; }
    public string? KeyFile { get; set; }
}
