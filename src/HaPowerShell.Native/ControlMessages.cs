namespace HaPowerShell.Native;

/// <summary>
/// Walks the ancillary data (control messages) that recvmsg(2) returned: <c>struct cmsghdr { size_t len;
/// int level; int type; }</c> followed by its data, every header and data start aligned to
/// <c>sizeof(size_t)</c> (CMSG_ALIGN). A header whose length does not fit what arrived ends the walk, so a
/// malformed buffer is never read past its end.
/// </summary>
public static unsafe class ControlMessages
{
    /// <summary>SOL_SOCKET (asm-generic/socket.h).</summary>
    public const int SolSocket = 1;

    /// <summary>SO_TIMESTAMPNS (SO_TIMESTAMPNS_OLD); its control message, SCM_TIMESTAMPNS, has the same number.</summary>
    public const int SoTimestampNs = 35;

    private static readonly int HeaderSize = Align(sizeof(nuint) + 2 * sizeof(int));

    private static int Align(int length) => (length + sizeof(nuint) - 1) & ~(sizeof(nuint) - 1);

    /// <summary>
    /// Reads the control message at <paramref name="offset"/> of the <paramref name="length"/> bytes at
    /// <paramref name="control"/> and moves <paramref name="offset"/> to the next one. False when there is none.
    /// </summary>
    public static bool Next(byte* control, long length, ref long offset, out int level, out int type, out byte* data, out long dataLength)
    {
        level = type = 0;
        data = null;
        dataLength = 0;
        if (offset < 0 || offset + HeaderSize > length) return false;
        long len = (long)*(nuint*)(control + offset);
        if (len < HeaderSize || offset + len > length) return false;
        level = *(int*)(control + offset + sizeof(nuint));
        type = *(int*)(control + offset + sizeof(nuint) + sizeof(int));
        data = control + offset + HeaderSize;
        dataLength = len - HeaderSize;
        offset += (len + sizeof(nuint) - 1) & ~(long)(sizeof(nuint) - 1);
        return true;
    }

    /// <summary>
    /// The kernel's receive time carried by an SCM_TIMESTAMPNS message (a <c>struct timespec</c>), as
    /// nanoseconds since the Unix epoch (CLOCK_REALTIME); false when the data is too short or not a valid time.
    /// </summary>
    public static bool TryReadTimestamp(byte* data, long dataLength, out long unixNanoseconds)
    {
        unixNanoseconds = 0;
        if (dataLength < 2 * sizeof(nint)) return false;
        long sec = *(nint*)data, nsec = *(nint*)(data + sizeof(nint));
        if (sec <= 0 || nsec is < 0 or >= 1_000_000_000) return false;
        unixNanoseconds = sec * 1_000_000_000L + nsec;
        return true;
    }
}
