using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace HaPowerShell.Core.Ipvs;

/// <summary>
/// The ipvsadm rule format: <see cref="Format"/> writes what `ipvsadm -S -n` prints, <see cref="Parse"/>
/// reads what `ipvsadm -R` / ipvsadm-restore accept, <see cref="ToTable(IpvsRuleSet)"/> replays the commands
/// on an empty table. Reference: ipvsadm 1.31 (Debian bookworm), ipvsadm.c and libipvs.
/// </summary>
public static partial class IpvsRules
{
    /// <summary>
    /// Exactly what `ipvsadm -S -n` prints for this table: services in ipvsadm's order (see <see cref="IpvsSort"/>),
    /// each "-A" line followed by the "-a" lines of its RealServers (also in ipvsadm's order); every line ends
    /// with "\n". Statistics, thresholds and connection counters are not part of the format.
    /// </summary>
    /// <exception cref="ArgumentNullException">services is null.</exception>
    /// <exception cref="ArgumentException">A null entry, or a value ipvsadm could not have printed: an unknown
    /// scheduler-flag word, an unreadable persistence netmask, an undefined forwarding method or tunnel checksum.</exception>
    public static string Format(IEnumerable<IpvsService> services) => Format(services, sort: true);

    /// <summary>
    /// As <see cref="Format(IEnumerable{IpvsService})"/>. With <paramref name="sort"/> false the services and real
    /// servers are printed in the order given: use that for a list that is ALREADY in ipvsadm's order (e.g. from
    /// <see cref="IpvsSort.SortServices"/> / <see cref="IpvsSort.SortRealServers"/> applied to the kernel's order).
    /// Sorting such a list a second time can change it, because ipvsadm's comparison wraps and is not transitive;
    /// to reproduce `ipvsadm -S` exactly, ipvsadm's sort must be applied exactly once, to the kernel's order.
    /// </summary>
    public static string Format(IEnumerable<IpvsService> services, bool sort)
    {
        ArgumentNullException.ThrowIfNull(services);
        var list = sort ? IpvsSort.SortServices(services) : services.ToList();
        var sb = new StringBuilder();
        foreach (var se in list)
        {
            if (se is null) throw new ArgumentException("The service list contains a null entry.", nameof(services));
            string svcName = RuleServiceName(se);
            FormatServiceLine(sb, se, svcName);
            if (se.RealServers is null) continue;
            var servers = sort ? IpvsSort.SortRealServers(se, se.RealServers) : se.RealServers;
            foreach (var e in servers)
            {
                if (e is null) throw new ArgumentException($"Service {se} has a null real server.", nameof(services));
                FormatRealServerLine(sb, se, svcName, e);
            }
        }
        return sb.ToString();
    }

    /// <summary>"-t 192.0.2.1:80", "-u [2001:db8::1]:53", "--sctp-service ...", "-f 5" or "-f 5 -6".</summary>
    internal static string RuleServiceName(IpvsService se)
    {
        if (se.IsFirewallMark)
        {
            // ipvsadm prints the u_int32_t mark with "%d": marks >= 2^31 come out negative ("-f -1").
            string mark = unchecked((int)se.FirewallMark).ToString(CultureInfo.InvariantCulture);
            return se.AddressFamily == AddressFamily.InterNetworkV6 ? $"-f {mark} -6" : $"-f {mark}";
        }
        string stype = se.Protocol switch
        {
            IpvsProtocol.Tcp => "-t",
            IpvsProtocol.Udp => "-u",
            IpvsProtocol.Sctp => "--sctp-service",
            _ => "--xxx-service", // what ipvsadm prints for a protocol it does not know
        };
        bool v6 = IpvsSort.ServiceFamily(se) == IpvsInet.LinuxAfInet6;
        return $"{stype} {IpvsInet.Endpoint(se.Address, se.Port, v6)}";
    }

    private static void FormatServiceLine(StringBuilder sb, IpvsService se, string svcName)
    {
        sb.Append("-A ").Append(svcName).Append(" -s ").Append(se.Scheduler ?? "");
        bool v6 = IpvsSort.ServiceFamily(se) == IpvsInet.LinuxAfInet6;
        if (se.PersistenceTimeout != 0)
        {
            sb.Append(" -p ").Append(se.PersistenceTimeout.ToString(CultureInfo.InvariantCulture));
            // The netmask is printed only inside the persistent branch, and only when not the default.
            if (!TryRuleNetmask(v6, se.PersistenceNetmask, out uint mask))
                throw new ArgumentException($"Service {se}: persistence netmask '{se.PersistenceNetmask}' is not " +
                    (v6 ? "an IPv6 prefix length (1-128)." : "an IPv4 netmask such as 255.255.255.0."), nameof(se));
            if (!v6 && mask != 0xffffffffu) sb.Append(" -M ").Append(IpvsInet.DottedMask(mask));
            if (v6 && mask != 128) sb.Append(" -M ").Append(mask.ToString(CultureInfo.InvariantCulture));
        }
        if (!string.IsNullOrEmpty(se.PersistenceEngine)) sb.Append(" --pe ").Append(se.PersistenceEngine);
        if (se.OnePacket) sb.Append(" -o");
        uint bits = IpvsSchedulerFlags.Bits(se.SchedulerFlag, out var unknown);
        if (unknown.Count > 0)
            throw new ArgumentException($"Service {se}: unknown scheduler flag '{unknown[0]}' (ipvsadm knows flag-1, flag-2, flag-3, sh-fallback, sh-port, mh-fallback, mh-port).", nameof(se));
        if ((bits & IpvsSchedulerFlags.Mask) != 0)
            sb.Append(" -b ").Append(string.Join(',', IpvsSchedulerFlags.Words(se.Scheduler, bits)));
        sb.Append('\n');
    }

    /// <summary>
    /// A netmask as the kernel would hold it. For printing we also accept what the kernel can hold but
    /// validation refuses (a non-contiguous IPv4 mask such as 0.0.0.24, which `ipvsadm -M 24` produces).
    /// </summary>
    private static bool TryRuleNetmask(bool v6, string? text, out uint value)
    {
        if (IpvsInet.TryNetmaskValue(v6, text, out value)) return true;
        if (!v6 && text is not null && IpvsInet.ParseIPv4Strict(text) is { } a) { value = IpvsInet.ToUInt32(a); return true; }
        return false;
    }

    private static void FormatRealServerLine(StringBuilder sb, IpvsService se, string svcName, IpvsRealServer e)
    {
        string fwd = e.ForwardingMethod switch
        {
            IpvsForwardingMethod.Masquerade => "-m",
            IpvsForwardingMethod.Tunnel => "-i",
            IpvsForwardingMethod.Local or IpvsForwardingMethod.DirectRouting => "-g", // Local prints as -g
            IpvsForwardingMethod.FullNat => throw new ArgumentException($"Real server {e.Endpoint} of {se}: FULLNAT is not in mainline Linux (only in out-of-tree forks such as Alibaba's LVS for kernel 2.6.32 and its successors), so mainline ipvsadm has no rule for it.", nameof(se)),
            _ => throw new ArgumentException($"Real server {e.Endpoint} of {se}: forwarding method {(int)e.ForwardingMethod} is not one ipvsadm can write.", nameof(se)),
        };
        string dname = IpvsInet.Endpoint(e.Address, IpvsSort.EffectivePort(se, e), IpvsSort.IsV6(e));
        sb.Append("-a ").Append(svcName).Append(" -r ").Append(dname).Append(' ').Append(fwd)
          .Append(" -w ").Append(e.Weight.ToString(CultureInfo.InvariantCulture));
        if (e.ForwardingMethod == IpvsForwardingMethod.Tunnel)
        {
            // print_tunnel_rule; a tunnel server without a type is IPIP (type 0), as the kernel reports it.
            switch (e.TunnelType ?? IpvsTunnelType.IpIp)
            {
                case IpvsTunnelType.IpIp:
                    sb.Append(" --tun-type ipip");
                    break;
                case IpvsTunnelType.Gue:
                    sb.Append(" --tun-type gue --tun-port ").Append(e.TunnelPort.ToString(CultureInfo.InvariantCulture))
                      .Append(' ').Append(ChecksumOption(se, e));
                    break;
                case IpvsTunnelType.Gre:
                    sb.Append(" --tun-type gre ").Append(ChecksumOption(se, e));
                    break;
                default:
                    break; // an unknown type: ipvsadm prints the plain line
            }
        }
        sb.Append('\n');
    }

    private static string ChecksumOption(IpvsService se, IpvsRealServer e) => e.TunnelChecksum switch
    {
        IpvsTunnelChecksum.NoChecksum => "--tun-nocsum",
        IpvsTunnelChecksum.Checksum => "--tun-csum",
        IpvsTunnelChecksum.RemoteChecksum => "--tun-remcsum",
        _ => throw new ArgumentException($"Real server {e.Endpoint} of {se}: tunnel checksum value {(int)e.TunnelChecksum} is not one ipvsadm can write.", nameof(se)),
    };
}
