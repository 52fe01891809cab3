using System.Net;
using System.Net.Sockets;
using HaPowerShell.Native;

namespace HaPowerShell.Core.Ipvs;

/// <summary>An IPVS service or real server that the kernel (or ipvsadm) would refuse, found before touching
/// the kernel. <see cref="HaException.ErrorId"/> is stable (e.g. "ZeroPortNotPersistent"; see <see cref="IpvsValidation"/>
/// for the list); <see cref="HaException.Target"/> is the service or real server; the message says what to do.</summary>
public sealed class IpvsValidationException : HaException
{
    public IpvsValidationException(string errorId, string message, string? paramName = null, object? target = null)
        : base(errorId, HaErrorCategory.InvalidArgument, message, target)
    {
        ParamName = paramName;
    }

    /// <summary>The argument that holds the refused object ("service" or "realServer").</summary>
    public string? ParamName { get; }
}

/// <summary>
/// Checks an <see cref="IpvsService"/> / <see cref="IpvsRealServer"/> against the rules of ipvsadm 1.31 and the
/// kernel, so a refused call changes nothing. Property names in messages are the cmdlet parameter names.
/// </summary>
/// <remarks>
/// Error ids: ServiceIdentityIncomplete, FirewallMarkWithAddress, ProtocolInvalid, AddressFamilyInvalid,
/// AddressFamilyMismatch, ZeroPortNotPersistent, OnePacketNotUdp, SchedulerNameInvalid,
/// PersistenceTimeoutOutOfRange, PersistenceNetmaskInvalid, PersistenceNetmaskWithoutPersistence,
/// PersistenceEngineInvalid, PersistenceEngineWithoutPersistence, SchedulerFlagInvalid;
/// RealServerAddressInvalid, RealServerAddressFamilyMismatch, RealServerPortMismatch, FullNatNotSupported, ForwardingMethodInvalid,
/// WeightOutOfRange, ThresholdOutOfRange, LowerThresholdAboveUpper, TunnelOptionWithoutTunnel, TunnelTypeInvalid,
/// TunnelPortRequired, TunnelPortWithoutGue, TunnelChecksumInvalid.
/// </remarks>
public static class IpvsValidation
{
    /// <summary>ipvsadm's MAX_TIMEOUT (31 days) bounds -p.</summary>
    public const uint MaxPersistenceTimeout = 86400 * 31;

    /// <summary>IP_VS_SCHEDNAME_MAXLEN is 16 with the NUL; ipvsadm keeps at most 15 characters.</summary>
    public const int MaxSchedulerNameLength = 15;

    /// <summary>IP_VS_PENAME_MAXLEN: ipvsadm and the netlink policy allow 16 characters.</summary>
    public const int MaxPersistenceEngineLength = 16;

    /// <summary>ipvsadm's -w range (the kernel would take up to INT_MAX; we follow ipvsadm).</summary>
    public const int MaxWeight = 65535;

    /// <exception cref="ArgumentNullException">s is null.</exception>
    /// <exception cref="IpvsValidationException">The service would be refused; ErrorId says why.</exception>
    public static void ValidateService(IpvsService s)
    {
        ArgumentNullException.ThrowIfNull(s);

        if (s.AddressFamily is not (AddressFamily.InterNetwork or AddressFamily.InterNetworkV6))
            throw Error("AddressFamilyInvalid", $"Service {Describe(s)}: AddressFamily '{s.AddressFamily}' is not supported; IPVS serves InterNetwork (IPv4) or InterNetworkV6 (IPv6).", s);

        if (s.IsFirewallMark)
        {
            // -f services are identified by mark and family only; the kernel ignores protocol/address/port.
            if (s.Protocol is not null || s.Address is not null || s.Port != 0)
                throw Error("FirewallMarkWithAddress", $"Service {Describe(s)}: a firewall-mark service is identified by FirewallMark and AddressFamily only. Remove Protocol, Address and Port, or set FirewallMark to 0 for a protocol/address/port service.", s);
        }
        else
        {
            if (s.Protocol is null || s.Address is null)
                throw Error("ServiceIdentityIncomplete", $"Service {Describe(s)}: give either a FirewallMark, or a Protocol (Tcp, Udp or Sctp), an Address and a Port.", s);
            if (s.Protocol is not (IpvsProtocol.Tcp or IpvsProtocol.Udp or IpvsProtocol.Sctp))
                throw Error("ProtocolInvalid", $"Service {Describe(s)}: protocol {(int)s.Protocol} is not one IPVS serves; use Tcp, Udp or Sctp.", s);
            if (s.Address.AddressFamily != s.AddressFamily)
                throw Error("AddressFamilyMismatch", $"Service {Describe(s)}: Address {s.Address} is {FamilyWord(s.Address.AddressFamily)} but AddressFamily is {s.AddressFamily}. Set AddressFamily to {s.Address.AddressFamily} (or leave it out so it follows the address).", s);
            if (s.Port == 0 && !s.IsPersistent)
                throw Error("ZeroPortNotPersistent", $"Service {Describe(s)}: Zero port specified for non-persistent service (ipvsadm). Port 0 means \"all ports\" and needs persistence: give a Port, or a PersistenceTimeout.", s);
            if (s.OnePacket && s.Protocol != IpvsProtocol.Udp)
                throw Error("OnePacketNotUdp", $"Service {Describe(s)}: One-Packet Scheduling is only for UDP virtual services (and firewall-mark services). Remove OnePacket.", s);
        }

        string sched = s.Scheduler ?? "";
        if (sched.Length == 0 || sched.Length > MaxSchedulerNameLength || !sched.All(IsNameChar))
            throw Error("SchedulerNameInvalid", $"Service {Describe(s)}: scheduler '{sched}' is not a valid name: 1 to {MaxSchedulerNameLength} characters of letters, digits, '_' or '-' (e.g. rr, wrr, lc, wlc, lblc, lblcr, dh, sh, sed, nq, fo, ovf, mh, twos).", s);

        if (s.PersistenceTimeout > MaxPersistenceTimeout)
            throw Error("PersistenceTimeoutOutOfRange", $"Service {Describe(s)}: PersistenceTimeout {s.PersistenceTimeout} is above ipvsadm's limit of {MaxPersistenceTimeout} seconds (31 days).", s);

        bool v6 = s.AddressFamily == AddressFamily.InterNetworkV6;
        if (!string.IsNullOrEmpty(s.PersistenceNetmask))
        {
            if (!IpvsInet.TryNetmaskValue(v6, s.PersistenceNetmask, out uint mask) || (!v6 && !IpvsInet.IsContiguousMask(mask)))
                throw Error("PersistenceNetmaskInvalid", v6
                    ? $"Service {Describe(s)}: PersistenceNetmask '{s.PersistenceNetmask}' is not an IPv6 prefix length; use a number from 1 to 128 (e.g. 64)."
                    : $"Service {Describe(s)}: PersistenceNetmask '{s.PersistenceNetmask}' is not a contiguous IPv4 netmask; use a mask such as 255.255.255.0 (or a prefix length 1-32).", s);
            bool isDefault = v6 ? mask == 128 : mask == 0xffffffffu;
            if (!s.IsPersistent && !isDefault)
                throw Error("PersistenceNetmaskWithoutPersistence", $"Service {Describe(s)}: PersistenceNetmask only groups clients of a persistent service; set PersistenceTimeout too, or remove PersistenceNetmask.", s);
        }

        if (!string.IsNullOrEmpty(s.PersistenceEngine))
        {
            if (s.PersistenceEngine.Length > MaxPersistenceEngineLength || !s.PersistenceEngine.All(IsNameChar))
                throw Error("PersistenceEngineInvalid", $"Service {Describe(s)}: persistence engine '{s.PersistenceEngine}' is not a valid name (1 to {MaxPersistenceEngineLength} letters, digits, '_' or '-'); mainline Linux has only 'sip'.", s);
            // ipvsadm does not check this and the kernel stores it, but the engine is only consulted when a
            // persistent service picks a server (ip_vs_sched_persist), so on its own it does nothing.
            if (!s.IsPersistent)
                throw Error("PersistenceEngineWithoutPersistence", $"Service {Describe(s)}: a persistence engine only acts on a persistent service; set PersistenceTimeout too, or remove PersistenceEngine.", s);
        }

        var valid = IpvsSchedulerFlags.NamesFor(sched);
        foreach (var flag in s.SchedulerFlag ?? Array.Empty<string>())
        {
            if (flag is null || !valid.Contains(flag, StringComparer.OrdinalIgnoreCase))
            {
                string why = IpvsSchedulerFlags.TryBit(flag, out _)
                    ? $"scheduler flag '{flag}' does not belong to the '{sched}' scheduler"
                    : $"'{flag}' is not a scheduler flag";
                throw Error("SchedulerFlagInvalid", $"Service {Describe(s)}: {why}. Valid for '{sched}': {string.Join(", ", valid)}.", s);
            }
        }
    }

    /// <summary>Checks a real server about to be added to (or changed in) service <paramref name="s"/>.
    /// The service itself is not re-validated (call <see cref="ValidateService"/> for that).</summary>
    /// <remarks>
    /// Port rule: with DirectRouting and Tunnel the packet reaches the real server unchanged, so ipvsadm replaces
    /// the port of a -g/-i real server of a non-fwmark service with the service port (the kernel itself would
    /// store any port). Rather than change it silently we refuse a different port: Port must be 0 (= the service
    /// port) or the service port. Firewall-mark services take any port (0 = the port the client asked for).
    /// </remarks>
    /// <exception cref="ArgumentNullException">s or r is null.</exception>
    /// <exception cref="IpvsValidationException">The real server would be refused; ErrorId says why.</exception>
    public static void ValidateRealServer(IpvsService s, IpvsRealServer r)
    {
        ArgumentNullException.ThrowIfNull(s);
        ArgumentNullException.ThrowIfNull(r);
        string where() => $"Real server {DescribeReal(s, r)} of {Describe(s)}"; // built only for an error

        if (r.Address is null || r.Address.AddressFamily is not (AddressFamily.InterNetwork or AddressFamily.InterNetworkV6))
            throw Error("RealServerAddressInvalid", $"{where()}: give the real server's IPv4 or IPv6 Address.", r);
        if (!IsUnicast(r.Address))
            throw Error("RealServerAddressInvalid", $"{where()}: {r.Address} is not a unicast address; the kernel only forwards to unicast (or local) addresses.", r);

        if (r.ForwardingMethod == IpvsForwardingMethod.FullNat)
            throw Error("FullNatNotSupported", $"{where()}: FULLNAT is not in mainline Linux: it exists only in out-of-tree forks such as Alibaba's LVS (for kernel 2.6.32) and its successors (e.g. iQIYI's DPVS), so this kernel cannot do it. Use Masquerade (NAT; replies must route back through this director), DirectRouting or Tunnel.", r);
        if (r.ForwardingMethod is not (IpvsForwardingMethod.DirectRouting or IpvsForwardingMethod.Tunnel or IpvsForwardingMethod.Masquerade or IpvsForwardingMethod.Local))
            throw Error("ForwardingMethodInvalid", $"{where()}: forwarding method {(int)r.ForwardingMethod} does not exist; use DirectRouting, Tunnel or Masquerade. (FULLNAT is not in mainline Linux: it exists only in out-of-tree forks such as Alibaba's LVS for kernel 2.6.32 and its successors.)", r);

        bool tunnel = r.ForwardingMethod == IpvsForwardingMethod.Tunnel;
        // The kernel accepts a real server of the other family only for tunnelling (IPv6-in-IPv4 or the reverse).
        if (r.Address.AddressFamily != s.AddressFamily && !tunnel)
            throw Error("RealServerAddressFamilyMismatch", $"{where()}: the real server is {FamilyWord(r.Address.AddressFamily)} but the service is {FamilyWord(s.AddressFamily)}; a different address family is allowed only with ForwardingMethod Tunnel.", r);

        if (!s.IsFirewallMark && r.Port != 0 && r.Port != s.Port
            && r.ForwardingMethod is IpvsForwardingMethod.DirectRouting or IpvsForwardingMethod.Tunnel or IpvsForwardingMethod.Local)
            throw Error("RealServerPortMismatch", $"{where()}: with {r.ForwardingMethod} packets reach the real server unchanged, so its port must be the service port {s.Port} (ipvsadm would silently replace {r.Port}). Leave Port out (0), set it to {s.Port}, or use Masquerade to map ports.", r);

        if (r.Weight < 0 || r.Weight > MaxWeight)
            throw Error("WeightOutOfRange", $"{where()}: Weight {r.Weight} is outside 0..{MaxWeight} (ipvsadm's range; 0 drains the server).", r);
        if (r.UpperThreshold > int.MaxValue || r.LowerThreshold > int.MaxValue)
            throw Error("ThresholdOutOfRange", $"{where()}: thresholds must be 0..{int.MaxValue} (UpperThreshold {r.UpperThreshold}, LowerThreshold {r.LowerThreshold}).", r);
        // ip_vs_add_dest/ip_vs_edit_dest refuse l_threshold > u_threshold with ERANGE, also when u_threshold is 0.
        if (r.LowerThreshold > r.UpperThreshold)
            throw Error("LowerThresholdAboveUpper", $"{where()}: LowerThreshold {r.LowerThreshold} is above UpperThreshold {r.UpperThreshold}; the kernel refuses that (even when UpperThreshold is 0, i.e. unlimited). Set UpperThreshold at or above LowerThreshold, or LowerThreshold to 0.", r);

        if (!tunnel)
        {
            if (r.TunnelType is not null || r.TunnelPort != 0 || r.TunnelChecksum != IpvsTunnelChecksum.NoChecksum)
                throw Error("TunnelOptionWithoutTunnel", $"{where()}: TunnelType, TunnelPort and TunnelChecksum apply only with ForwardingMethod Tunnel (ipvsadm: \"Tunnel options conflict with forward method\").", r);
            return;
        }
        var type = r.TunnelType ?? IpvsTunnelType.IpIp;
        if (type is not (IpvsTunnelType.IpIp or IpvsTunnelType.Gue or IpvsTunnelType.Gre))
            throw Error("TunnelTypeInvalid", $"{where()}: tunnel type {(int)type} does not exist; use IpIp, Gue or Gre.", r);
        if (type == IpvsTunnelType.Gue && r.TunnelPort == 0)
            throw Error("TunnelPortRequired", $"{where()}: a Gue tunnel needs TunnelPort, the UDP port the real server decapsulates on (e.g. 6080).", r);
        if (type != IpvsTunnelType.Gue && r.TunnelPort != 0)
            throw Error("TunnelPortWithoutGue", $"{where()}: TunnelPort applies only to TunnelType Gue; remove it for {type}.", r);
        if (r.TunnelChecksum is not (IpvsTunnelChecksum.NoChecksum or IpvsTunnelChecksum.Checksum or IpvsTunnelChecksum.RemoteChecksum))
            throw Error("TunnelChecksumInvalid", $"{where()}: tunnel checksum value {(int)r.TunnelChecksum} does not exist; use NoChecksum, Checksum or RemoteChecksum.", r);
        if (type == IpvsTunnelType.IpIp && r.TunnelChecksum != IpvsTunnelChecksum.NoChecksum)
            throw Error("TunnelChecksumInvalid", $"{where()}: IpIp tunnels have no checksum option; use TunnelType Gue or Gre for {r.TunnelChecksum}.", r);
        if (type == IpvsTunnelType.Gre && r.TunnelChecksum == IpvsTunnelChecksum.RemoteChecksum)
            throw Error("TunnelChecksumInvalid", $"{where()}: RemoteChecksum (remote checksum offload) exists only for Gue tunnels; use NoChecksum or Checksum with Gre.", r);
    }

    private static IpvsValidationException Error(string id, string message, object target)
        => new(id, message, target is IpvsRealServer ? "realServer" : "service", target);

    private static bool IsNameChar(char c) => char.IsAsciiLetterOrDigit(c) || c is '_' or '-';

    /// <summary>ip_vs_new_dest: IPv4 must be RTN_UNICAST/RTN_LOCAL (so not 0.0.0.0/8, 255.255.255.255 or
    /// 224.0.0.0/4); IPv6 must be a unicast address (so not :: or ff00::/8).</summary>
    private static bool IsUnicast(IPAddress a)
    {
        if (a.AddressFamily == AddressFamily.InterNetworkV6) return !a.Equals(IPAddress.IPv6Any) && !a.IsIPv6Multicast;
        uint v = IpvsInet.ToUInt32(a);
        return (v >> 24) != 0 && v != 0xffffffffu && (v >> 28) != 0xE;
    }

    private static string FamilyWord(AddressFamily f) => f == AddressFamily.InterNetworkV6 ? "IPv6" : f == AddressFamily.InterNetwork ? "IPv4" : f.ToString();

    private static string Describe(IpvsService s)
    {
        try { return s.ToString(); }
        catch (Exception) { return "(service)"; }
    }

    private static string DescribeReal(IpvsService s, IpvsRealServer r)
        => r.Address is null ? "(no address)" : IpvsInet.Endpoint(r.Address, IpvsSort.EffectivePort(s, r), r.Address.AddressFamily == AddressFamily.InterNetworkV6);
}
