namespace HaPowerShell.Native.Packet;

/// <summary>How a received frame reached the interface (the kernel's PACKET_* types).</summary>
public enum FrameDirection : byte
{
    /// <summary>Addressed to this host's MAC (PACKET_HOST).</summary>
    Host = 0,
    /// <summary>Link-layer broadcast (PACKET_BROADCAST).</summary>
    Broadcast = 1,
    /// <summary>Link-layer multicast (PACKET_MULTICAST).</summary>
    Multicast = 2,
    /// <summary>Addressed to another host, seen in promiscuous mode (PACKET_OTHERHOST).</summary>
    OtherHost = 3,
    /// <summary>Sent by this host (PACKET_OUTGOING).</summary>
    Outgoing = 4,
}

/// <summary>A frame read from a packet socket, with the kernel's receive time.</summary>
/// <param name="Data">The whole link-layer frame (Ethernet header included).</param>
/// <param name="Direction">Host, broadcast, multicast, other host or outgoing.</param>
/// <param name="KernelTimestamp">When the kernel received it (SO_TIMESTAMPNS, UTC), or the time
/// the read returned when the kernel attached no timestamp.</param>
/// <param name="MonotonicTimestamp">Stopwatch ticks when the read returned (for clock-jump-proof intervals).</param>
public sealed record ReceivedFrame(byte[] Data, FrameDirection Direction, DateTime KernelTimestamp, long MonotonicTimestamp);

/// <summary>
/// Sends and receives whole link-layer frames on one interface. <see cref="PacketSocket"/> is the
/// real one; tests use fakes so the ARP/NDP exchanges in HaPowerShell.Core can run without a kernel.
/// </summary>
public interface IFrameChannel : IDisposable
{
    /// <summary>Sends one frame; returns the UTC time taken just before it was handed to the kernel.</summary>
    DateTime Send(ReadOnlySpan<byte> frame);

    /// <summary>Waits up to <paramref name="timeout"/> for one frame; null when none arrived.</summary>
    ReceivedFrame? Receive(TimeSpan timeout);
}
