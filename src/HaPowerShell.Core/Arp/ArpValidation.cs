using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;

namespace HaPowerShell.Core.Arp;

/// <summary>An address as a user typed it: "192.0.2.30" or "192.0.2.30/24".</summary>
public readonly record struct AddressSpec(IPAddress Address, int? PrefixLength)
{
    public IPAddressFamily Family => Address.AddressFamily == AddressFamily.InterNetworkV6 ? IPAddressFamily.IPv6 : IPAddressFamily.IPv4;
    public int MaxPrefix => Family == IPAddressFamily.IPv6 ? 128 : 32;
}

/// <summary>Argument checks shared by the ARP and address cmdlets; all run before the kernel is touched.</summary>
public static partial class ArpValidation
{
    /// <summary>Linux IFNAMSIZ - 1, in bytes.</summary>
    public const int MaxInterfaceName = LinuxNames.MaxNameBytes;

    [GeneratedRegex(@"^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$")]
    private static partial Regex DottedQuad();

    /// <summary>
    /// Parses "address" or "address/prefix": the one strict address parser of the module (the ARP and
    /// address cmdlets call it, and so does <c>[IPAddressTransformation]</c> behind every address
    /// parameter). IPv4 must be a full dotted quad (no "192.0.2" or "1" shorthand, no octal, hex or
    /// leading zeros); IPv6 zone ids ("%eth0") are refused because -InterfaceName says where.
    /// An empty <paramref name="parameterName"/> leaves the "-Name: " lead out of the messages.
    /// </summary>
    public static AddressSpec ParseAddress(string? text, string parameterName = "IPAddress", bool allowPrefix = true)
    {
        string lead = Lead(parameterName);
        if (string.IsNullOrWhiteSpace(text))
            throw new ArpArgumentException("InvalidIPAddress", $"{lead}an IP address is required.", parameterName);
        string s = text.Trim();
        int? prefix = null;
        int slash = s.IndexOf('/');
        if (slash >= 0)
        {
            if (!allowPrefix)
                throw new ArpArgumentException("InvalidIPAddress", $"{lead}'{text}' must be a single address, without a /prefix.", parameterName);
            string p = s[(slash + 1)..];
            if (!int.TryParse(p, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int pl))
                throw new ArpArgumentException("InvalidPrefixLength", $"{lead}'{p}' in '{text}' is not a prefix length.", parameterName);
            prefix = pl;
            s = s[..slash];
        }
        if (s.Contains('%'))
            throw new ArpArgumentException("InvalidIPAddress", $"{lead}'{text}' has a zone id; give the interface with -InterfaceName instead.", parameterName);
        bool v6 = s.Contains(':');
        if (!IPAddress.TryParse(s, out var address) || (!v6 && !DottedQuad().IsMatch(s)) ||
            (v6 && address.AddressFamily != AddressFamily.InterNetworkV6))
            throw new ArpArgumentException("InvalidIPAddress",
                v6 || s.Any(c => !char.IsAsciiDigit(c) && c != '.')
                    ? $"{lead}'{text}' is not an IPv4 or IPv6 address."
                    : $"{lead}'{text}' is not a full IPv4 address: write all four numbers (0-255, no leading zeros), such as 192.0.2.1.",
                parameterName);
        if (address.IsIPv4MappedToIPv6)
            throw new ArpArgumentException("InvalidIPAddress", $"{lead}'{text}' is an IPv4-mapped IPv6 address; give the IPv4 address {address.MapToIPv4()} instead.", parameterName);
        var spec = new AddressSpec(address, prefix);
        if (prefix is { } x) CheckPrefixLength(spec.Family, x, parameterName);
        return spec;
    }

    public static void CheckPrefixLength(IPAddressFamily family, int prefixLength, string parameterName = "PrefixLength")
    {
        int max = family == IPAddressFamily.IPv6 ? 128 : 32;
        if (prefixLength < 0 || prefixLength > max)
            throw new ArpArgumentException("InvalidPrefixLength", $"{Lead(parameterName)}prefix length {prefixLength} is outside 0..{max} for {family}.", parameterName);
    }

    private static string Lead(string? parameterName) => string.IsNullOrEmpty(parameterName) ? "" : $"-{parameterName}: ";

    /// <summary>Rejects addresses that are never announced or resolved on a link: unspecified, broadcast, multicast, loopback.</summary>
    public static void CheckUnicast(IPAddress address, string parameterName = "IPAddress")
    {
        string? why = null;
        if (address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any)) why = "the unspecified address";
        else if (address.Equals(IPAddress.Broadcast)) why = "the broadcast address";
        else if (address.AddressFamily == AddressFamily.InterNetwork && (address.GetAddressBytes()[0] & 0xf0) == 0xe0) why = "a multicast address";
        else if (address.IsIPv6Multicast) why = "a multicast address";
        else if (IPAddress.IsLoopback(address)) why = "a loopback address";
        if (why is not null)
            throw new ArpArgumentException("InvalidIPAddress", $"-{parameterName}: {address} is {why}; ARP and neighbour discovery deal in unicast addresses on a link.", parameterName);
    }

    /// <summary>Valid Linux interface name: 1..15 bytes, no '/', ':', whitespace, not '.' or '..' (<see cref="LinuxNames.InterfaceNameProblem"/>).</summary>
    public static void CheckInterfaceName(string? name, string parameterName = "InterfaceName")
    {
        if (LinuxNames.InterfaceNameProblem(name) is not null)
            throw new ArpArgumentException("InvalidInterfaceName",
                $"-{parameterName}: '{name}' is not a valid interface name (1 to {MaxInterfaceName} bytes, no '/', ':' or spaces).", parameterName);
    }

    /// <summary>
    /// Splits an ifconfig-style alias: "eth0:0" is device "eth0" with label "eth0:0"; "eth0" has no label.
    /// </summary>
    public static (string Device, string? Label) SplitAlias(string name, string parameterName = "InterfaceName")
    {
        int colon = name?.IndexOf(':') ?? -1;
        if (colon < 0) { CheckInterfaceName(name, parameterName); return (name!, null); }
        string device = name![..colon];
        CheckInterfaceName(device, parameterName);
        CheckLabel(name, device, parameterName);
        return (device, name);
    }

    /// <summary>An IPv4 label must be the device name or "device:suffix", at most 15 bytes, as the kernel stores it (<see cref="LinuxNames.LabelProblem"/>).</summary>
    public static void CheckLabel(string label, string device, string parameterName = "Label")
    {
        if (LinuxNames.LabelProblem(label, device) is not null)
            throw new ArpArgumentException("InvalidLabel",
                $"-{parameterName}: label '{label}' must be '{device}' or '{device}:<suffix>' (such as '{device}:0'), at most {MaxInterfaceName} bytes.", parameterName);
    }

    /// <summary>True when <paramref name="address"/> lies in <paramref name="network"/>/<paramref name="prefix"/> (host bits of the network ignored).</summary>
    public static bool InSubnet(IPAddress address, IPAddress network, int prefix)
    {
        if (address.AddressFamily != network.AddressFamily) return false;
        byte[] a = address.GetAddressBytes(), n = network.GetAddressBytes();
        for (int bit = 0; bit < prefix; bit++)
        {
            int mask = 0x80 >> (bit % 8);
            if ((a[bit / 8] & mask) != (n[bit / 8] & mask)) return false;
        }
        return true;
    }

    public static void CheckRange(string parameterName, double value, double min, double max, string unit = "")
    {
        if (double.IsNaN(value) || value < min || value > max)
            throw new ArpArgumentException("InvalidArgument", $"-{parameterName}: {value}{unit} is outside {min}..{max}{unit}.", parameterName);
    }
}
