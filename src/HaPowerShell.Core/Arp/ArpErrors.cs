using System.Net;

namespace HaPowerShell.Core.Arp;

/// <summary>An argument was rejected before anything was touched. <see cref="ErrorId"/> is the stable id users see.</summary>
public sealed class ArpArgumentException : ArgumentException
{
    public ArpArgumentException(string errorId, string message, string? parameterName) : base(message, parameterName)
    {
        ErrorId = errorId;
    }

    public string ErrorId { get; }

    // ArgumentException appends " (Parameter 'x')"; our messages already name the parameter.
    public override string Message => base.Message.Replace($" (Parameter '{ParamName}')", "");
}

/// <summary>No interface of that name exists in this network namespace.</summary>
public sealed class InterfaceNotFoundException : Exception
{
    public InterfaceNotFoundException(string interfaceName, IEnumerable<string> existing)
        : base(Format(interfaceName, existing.ToArray()))
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

/// <summary>The interface has no ARP (loopback, NOARP, tunnels, non-Ethernet links).</summary>
public sealed class InterfaceCannotArpException : Exception
{
    public InterfaceCannotArpException(string interfaceName, string reason, IEnumerable<string> candidates)
        : base($"Interface '{interfaceName}' cannot send ARP or neighbour discovery frames: {reason}. " +
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

/// <summary>The interface is administratively down, so nothing can be sent on it.</summary>
public sealed class InterfaceDownException : Exception
{
    public InterfaceDownException(string interfaceName)
        : base($"Interface '{interfaceName}' is down; bring it up first (Set-NetLink is not part of this module: 'ip link set {interfaceName} up').")
    {
        InterfaceName = interfaceName;
    }

    public string InterfaceName { get; }
}

/// <summary>Nothing answered an ARP request / neighbour solicitation.</summary>
public sealed class ArpNoReplyException : TimeoutException
{
    public ArpNoReplyException(string interfaceName, IPAddress target, int requests, TimeSpan timeout)
        : base($"No reply from {target} on {interfaceName} to {requests} request{(requests == 1 ? "" : "s")} (waited {timeout.TotalSeconds:0.###} s after the last). " +
               "Nothing on this link holds the address, or the host that does ignores ARP for it (arp_ignore, as an LVS-DR real server should).")
    {
        InterfaceName = interfaceName;
        Target = target;
        Requests = requests;
    }

    public string InterfaceName { get; }
    public IPAddress Target { get; }
    public int Requests { get; }
}

/// <summary>The address exists on the interface with a different prefix length or label.</summary>
public sealed class VirtualIPAddressConflictException : Exception
{
    public VirtualIPAddressConflictException(VirtualIPAddress existing, string wanted)
        : base($"{existing.IPAddress} is already on {existing.InterfaceName} as {existing.Cidr}" +
               (existing.Label is null ? "" : $" (label {existing.Label})") +
               $", not as {wanted}. Nothing was changed; remove it first (Remove-VirtualIPAddress) to re-add it differently.")
    {
        Existing = existing;
    }

    public VirtualIPAddress Existing { get; }
}
