using System.Net;
using System.Net.Sockets;
using HaPowerShell.Native;

namespace HaPowerShell.Core.Arp;

/// <summary>An argument was rejected before anything was touched. <see cref="HaException.ErrorId"/> is the stable id users see.</summary>
public sealed class ArpArgumentException : HaException
{
    public ArpArgumentException(string errorId, string message, string? parameterName)
        : base(errorId, HaErrorCategory.InvalidArgument, message)
    {
        ParamName = parameterName;
    }

    /// <summary>The parameter that was rejected (the message names it too).</summary>
    public string? ParamName { get; }
}

/// <summary>No interface of that name exists in this network namespace (<c>InterfaceNotFound</c>).</summary>
public sealed class InterfaceNotFoundException : HaException
{
    public InterfaceNotFoundException(string interfaceName, IEnumerable<string> existing)
        : base("InterfaceNotFound", HaErrorCategory.ObjectNotFound, Format(interfaceName, existing.ToArray()))
    {
        InterfaceName = interfaceName;
        ExistingInterfaces = existing.ToArray();
    }

    public string InterfaceName { get; }
    public string[] ExistingInterfaces { get; }

    private static string Format(string name, string[] existing)
        => $"There is no network interface named '{name}' in this network namespace. " +
           (existing.Length == 0 ? "No interfaces exist here." : $"Interfaces here: {string.Join(", ", existing)}.");
}

/// <summary>The interface has no ARP (loopback, NOARP, tunnels, non-Ethernet links; <c>InterfaceCannotArp</c>).</summary>
public sealed class InterfaceCannotArpException : HaException
{
    public InterfaceCannotArpException(string interfaceName, string reason, IEnumerable<string> candidates)
        : base("InterfaceCannotArp", HaErrorCategory.InvalidOperation, $"Interface '{interfaceName}' cannot send ARP or neighbour discovery frames: {reason}. " +
               Suggest(candidates.ToArray()))
    {
        InterfaceName = interfaceName;
    }

    public string InterfaceName { get; }

    private static string Suggest(string[] candidates)
        => candidates.Length == 0
            ? "No interface here can; ARP needs an Ethernet-type link."
            : $"Use an Ethernet-type interface such as {string.Join(", ", candidates)} (a DR real server keeps the VIP on lo and announces nothing).";
}

/// <summary>The interface is administratively down, so nothing can be sent on it (<c>InterfaceDown</c>).</summary>
public sealed class InterfaceDownException : HaException
{
    public InterfaceDownException(string interfaceName)
        : base("InterfaceDown", HaErrorCategory.ResourceUnavailable, $"Interface '{interfaceName}' is down; bring it up first (Set-NetLink is not part of this module: 'ip link set {interfaceName} up').")
    {
        InterfaceName = interfaceName;
    }

    public string InterfaceName { get; }
}

/// <summary>Nothing answered an ARP request / neighbour solicitation (<c>NoArpReply</c>; the target is the address asked for).</summary>
public sealed class ArpNoReplyException : HaException
{
    public ArpNoReplyException(string interfaceName, IPAddress target, int requests, TimeSpan timeout)
        : base("NoArpReply", HaErrorCategory.OperationTimeout, $"No reply from {target} on {interfaceName} to {requests} request{(requests == 1 ? "" : "s")} (waited {timeout.TotalSeconds:0.###} s after the last). " +
               "Nothing on this link holds the address, or the host that does ignores ARP for it (arp_ignore, as an LVS-DR real server should).",
            target)
    {
        InterfaceName = interfaceName;
        Requests = requests;
    }

    public string InterfaceName { get; }
    public int Requests { get; }
}

/// <summary>The address exists on the interface with a different prefix length or label (<c>VirtualIPAddressConflict</c>).</summary>
public sealed class VirtualIPAddressConflictException : HaException
{
    public VirtualIPAddressConflictException(VirtualIPAddress existing, string wanted)
        : base("VirtualIPAddressConflict", HaErrorCategory.ResourceExists, $"{existing.IPAddress} is already on {existing.InterfaceName} as {existing.Cidr}" +
               (existing.Label is null ? "" : $" (label {existing.Label})") +
               $", not as {wanted}. Nothing was changed; remove it first (Remove-VirtualIPAddress) to re-add it differently.")
    {
        Existing = existing;
    }

    public VirtualIPAddress Existing { get; }
}

/// <summary>
/// Removing this address could cut the host off or break local services (a loopback or link-local address, or the
/// interface's primary IPv4 address), so it needs -Force (<c>AddressRemovalNeedsForce</c>; nothing was removed).
/// </summary>
public sealed class AddressRemovalNeedsForceException : HaException
{
    public AddressRemovalNeedsForceException(VirtualIPAddress address, string interfaceName, string why)
        : base("AddressRemovalNeedsForce", HaErrorCategory.InvalidOperation,
            $"{address.Cidr} on {interfaceName} is {why}; removing it can cut this host off or break local services, so it was left in place. " +
            "Give -Force to remove it anyway.", address.Cidr)
    {
    }
}

/// <summary>Which addresses Remove-VirtualIPAddress leaves alone unless forced.</summary>
public static class AddressRemovalGuard
{
    /// <summary>
    /// Why removing <paramref name="victim"/> needs -Force, or null when it does not: a loopback address (127.0.0.0/8,
    /// ::1), a link-local one (169.254.0.0/16, fe80::/10: IPv6 neighbour discovery and VRRPv3 need it), or the
    /// interface's primary IPv4 address (the first non-secondary one in <paramref name="onLink"/>, kernel order, as
    /// `ip addr` lists it first; the host's own address on that network).
    /// </summary>
    public static string? WhyProtected(VirtualIPAddress victim, IReadOnlyList<VirtualIPAddress> onLink)
    {
        var a = victim.IPAddress;
        if (IPAddress.IsLoopback(a)) return "a loopback address";
        if (a.IsIPv6LinkLocal) return "an IPv6 link-local address";
        if (a.AddressFamily == AddressFamily.InterNetwork)
        {
            var b = a.GetAddressBytes();
            if (b[0] == 169 && b[1] == 254) return "an IPv4 link-local address";
            var primary = onLink.FirstOrDefault(x => x.AddressFamily == IPAddressFamily.IPv4 && !x.IsSecondary);
            if (primary is not null && primary.IPAddress.Equals(a) && primary.PrefixLength == victim.PrefixLength)
                return "the interface's primary IPv4 address";
        }
        return null;
    }
}
