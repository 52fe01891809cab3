namespace HaPowerShell.Core.Ipvs;

/// <summary>
/// Scheduler flags: the kernel stores three bits (IP_VS_SVC_F_SCHED1..3); ipvsadm names them per scheduler.
/// sh: sh-fallback = bit 1, sh-port = bit 2. mh: mh-fallback = bit 1, mh-port = bit 2. Any other scheduler:
/// flag-1, flag-2, flag-3. ipvsadm -b also accepts flag-N with sh/mh (same bits).
/// </summary>
internal static class IpvsSchedulerFlags
{
    public const uint Sched1 = 0x0008; // IP_VS_SVC_F_SCHED1
    public const uint Sched2 = 0x0010; // IP_VS_SVC_F_SCHED2
    public const uint Sched3 = 0x0020; // IP_VS_SVC_F_SCHED3
    public const uint Mask = Sched1 | Sched2 | Sched3;

    /// <summary>The bit a flag word stands for, whatever the scheduler (case-insensitive).</summary>
    public static bool TryBit(string? word, out uint bit)
    {
        bit = (word ?? "").ToLowerInvariant() switch
        {
            "flag-1" or "sh-fallback" or "mh-fallback" => Sched1,
            "flag-2" or "sh-port" or "mh-port" => Sched2,
            "flag-3" => Sched3,
            _ => 0,
        };
        return bit != 0;
    }

    /// <summary>The flag names that belong to a scheduler, in ipvsadm's printing order.</summary>
    public static string[] NamesFor(string? scheduler) => scheduler switch
    {
        "sh" => new[] { "sh-fallback", "sh-port" },
        "mh" => new[] { "mh-fallback", "mh-port" },
        _ => new[] { "flag-1", "flag-2", "flag-3" },
    };

    /// <summary>
    /// ipvsadm's print_sched_flags: the words for the bits, in its fixed order. Note that for sh and mh
    /// the third bit has no name and is silently not printed (ipvsadm then prints an empty "-b ").
    /// </summary>
    public static List<string> Words(string? scheduler, uint bits)
    {
        var list = new List<string>(3);
        if (scheduler == "sh")
        {
            if ((bits & Sched1) != 0) list.Add("sh-fallback");
            if ((bits & Sched2) != 0) list.Add("sh-port");
        }
        else if (scheduler == "mh")
        {
            if ((bits & Sched1) != 0) list.Add("mh-fallback");
            if ((bits & Sched2) != 0) list.Add("mh-port");
        }
        else
        {
            if ((bits & Sched1) != 0) list.Add("flag-1");
            if ((bits & Sched2) != 0) list.Add("flag-2");
            if ((bits & Sched3) != 0) list.Add("flag-3");
        }
        return list;
    }

    /// <summary>Bits for the words of a model; unknown words are returned separately (sorted, lower case).</summary>
    public static uint Bits(IEnumerable<string>? words, out List<string> unknown)
    {
        uint bits = 0;
        unknown = new List<string>();
        foreach (var w in words ?? Array.Empty<string>())
        {
            if (TryBit(w, out uint b)) bits |= b;
            else unknown.Add((w ?? "").ToLowerInvariant());
        }
        unknown.Sort(StringComparer.Ordinal);
        return bits;
    }
}
