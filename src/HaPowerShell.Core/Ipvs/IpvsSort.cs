using System.Net.Sockets;

namespace HaPowerShell.Core.Ipvs;

/// <summary>
/// The order in which ipvsadm lists services and real servers (`ipvsadm -L`, `ipvsadm -S`).
/// </summary>
/// <remarks>
/// ipvsadm 1.31 sorts with glibc qsort() and libipvs' ipvs_cmp_services / ipvs_cmp_dests. Those comparators
/// subtract unsigned 32-bit values (fwmark, ntohl(address words)) and return the difference as an int, so the
/// difference wraps: 192.0.2.1 - 10.0.0.1 = 0xB6000200, a negative int, and 192.0.2.1 sorts BEFORE 10.0.0.1.
/// The comparison is not even transitive (10.0.0.1 &lt; 100.64.0.1 &lt; 192.0.2.1 &lt; 10.0.0.1), so the result
/// depends on the sorting algorithm and on the input order. glibc (2.36, Debian bookworm) implements qsort()
/// as a top-down merge sort (msort.c: n1 = n/2, n2 = n - n1, sort both halves, merge taking from the left
/// run while cmp(left, right) &lt;= 0); MergeSort below is that algorithm, so given the kernel's order we
/// reproduce ipvsadm's order exactly, wrap-around cases included. (glibc falls back to quicksort only when
/// the temporary buffer would exceed a quarter of physical memory — not a concern for IPVS tables.)
/// </remarks>
public static class IpvsSort
{
    /// <summary>ipvs_cmp_services: fwmark, address family, protocol, address words, port — as C computes it.</summary>
    public static int CompareServices(IpvsService s1, IpvsService s2)
    {
        ArgumentNullException.ThrowIfNull(s1);
        ArgumentNullException.ThrowIfNull(s2);
        // u_int32_t - u_int32_t, returned as int: wraps.
        int r = unchecked((int)(s1.FirewallMark - s2.FirewallMark));
        if (r != 0) return r;
        // u_int16_t operands are promoted to int: an exact difference (AF_INET 2 before AF_INET6 10).
        int af1 = ServiceFamily(s1), af2 = ServiceFamily(s2);
        r = af1 - af2;
        if (r != 0) return r;
        // For firewall-mark services the kernel reports no protocol, address or port: all zero.
        r = ServiceProtocol(s1) - ServiceProtocol(s2);
        if (r != 0) return r;
        Span<uint> w1 = stackalloc uint[4], w2 = stackalloc uint[4];
        IpvsInet.Words(s1.IsFirewallMark ? null : s1.Address, w1);
        IpvsInet.Words(s2.IsFirewallMark ? null : s2.Address, w2);
        r = CompareWords(af1 == IpvsInet.LinuxAfInet6, w1, w2);
        if (r != 0) return r;
        // ntohs() yields an unsigned short, promoted to int: exact.
        return (s1.IsFirewallMark ? 0 : s1.Port) - (s2.IsFirewallMark ? 0 : s2.Port);
    }

    /// <summary>
    /// ipvs_cmp_dests for two real servers of <paramref name="service"/>: address words (the FIRST server's
    /// family decides whether 1 or 4 words are compared — mixed families occur only with tunnelling), then port.
    /// </summary>
    public static int CompareRealServers(IpvsService? service, IpvsRealServer d1, IpvsRealServer d2)
    {
        ArgumentNullException.ThrowIfNull(d1);
        ArgumentNullException.ThrowIfNull(d2);
        Span<uint> w1 = stackalloc uint[4], w2 = stackalloc uint[4];
        IpvsInet.Words(d1.Address, w1);
        IpvsInet.Words(d2.Address, w2);
        int r = CompareWords(IsV6(d1), w1, w2);
        if (r != 0) return r;
        return EffectivePort(service, d1) - EffectivePort(service, d2);
    }

    /// <summary>Services in ipvsadm's listing order (a new list; the input is not modified).</summary>
    public static List<IpvsService> SortServices(IEnumerable<IpvsService> services)
    {
        ArgumentNullException.ThrowIfNull(services);
        var a = services.ToArray();
        if (Array.IndexOf(a, null) >= 0) throw new ArgumentException("The service list contains a null entry.", nameof(services));
        MergeSort(a, CompareServices);
        return a.ToList();
    }

    /// <summary>Real servers of a service in ipvsadm's listing order (a new list).</summary>
    public static List<IpvsRealServer> SortRealServers(IpvsService? service, IEnumerable<IpvsRealServer> realServers)
    {
        ArgumentNullException.ThrowIfNull(realServers);
        var a = realServers.ToArray();
        if (Array.IndexOf(a, null) >= 0) throw new ArgumentException("The real server list contains a null entry.", nameof(realServers));
        MergeSort(a, (x, y) => CompareRealServers(service, x, y));
        return a.ToList();
    }

    /// <summary>glibc msort_with_tmp: stable top-down merge sort, left run wins ties (cmp &lt;= 0).</summary>
    internal static void MergeSort<T>(T[] items, Comparison<T> cmp)
    {
        if (items.Length <= 1) return;
        var tmp = new T[items.Length];
        Sort(items, tmp, 0, items.Length, cmp);
    }

    private static void Sort<T>(T[] b, T[] tmp, int start, int n, Comparison<T> cmp)
    {
        if (n <= 1) return;
        int n1 = n / 2, n2 = n - n1;
        int b1 = start, b2 = start + n1;
        Sort(b, tmp, b1, n1, cmp);
        Sort(b, tmp, b2, n2, cmp);
        int t = 0;
        while (n1 > 0 && n2 > 0)
        {
            if (cmp(b[b1], b[b2]) <= 0) { tmp[t++] = b[b1++]; n1--; }
            else { tmp[t++] = b[b2++]; n2--; }
        }
        while (n1 > 0) { tmp[t++] = b[b1++]; n1--; }
        // Whatever remains of the right run is already in place.
        Array.Copy(tmp, 0, b, start, t);
    }

    private static int CompareWords(bool ipv6, ReadOnlySpan<uint> w1, ReadOnlySpan<uint> w2)
    {
        int r = 0;
        if (ipv6)
        {
            for (int i = 0; r == 0 && i < 4; i++) r = unchecked((int)(w1[i] - w2[i]));
            return r;
        }
        return unchecked((int)(w1[0] - w2[0]));
    }

    /// <summary>The kernel's af for a service: the firewall-mark family, or the family of its address.</summary>
    internal static int ServiceFamily(IpvsService s)
        => !s.IsFirewallMark && s.Address is not null
            ? IpvsInet.LinuxFamily(s.Address.AddressFamily)
            : IpvsInet.LinuxFamily(s.AddressFamily);

    internal static int ServiceProtocol(IpvsService s) => s.IsFirewallMark ? 0 : (ushort)(s.Protocol ?? 0);

    internal static bool IsV6(IpvsRealServer r) => r.Address is not null && r.Address.AddressFamily == AddressFamily.InterNetworkV6;

    /// <summary>
    /// The port a real server really has: port 0 on a real server of a non-firewall-mark service means "the
    /// service's port" (ipvsadm -r without a port; IpvsMapping.ToDestEntry applies the same rule).
    /// </summary>
    public static ushort EffectivePort(IpvsService? service, IpvsRealServer r)
        => r.Port == 0 && service is { IsFirewallMark: false } ? service.Port : r.Port;
}
