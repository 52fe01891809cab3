namespace HaPowerShell.Core.Vrrp;

/// <summary>
/// The RFC timer formulas, in whole microseconds (truncated, as keepalived computes them).
/// <list type="bullet">
/// <item>v2 (RFC 3768 §6.1): Skew_Time = (256 − Priority) / 256 s; Master_Down_Interval = 3 × Advertisement_Interval + Skew_Time.</item>
/// <item>v3 (RFC 5798 §6.1): Skew_Time = ((256 − Priority) × Master_Adver_Interval) / 256; Master_Down_Interval = 3 × Master_Adver_Interval + Skew_Time.</item>
/// </list>
/// </summary>
public static class VrrpTiming
{
    public const long MicrosecondsPerSecond = 1_000_000;
    public const long MicrosecondsPerCentisecond = 10_000;

    /// <summary>Seconds (v2) or centiseconds (v3) to microseconds.</summary>
    public static long UnitsToMicroseconds(VrrpVersion version, int units)
        => units * (version == VrrpVersion.V2 ? MicrosecondsPerSecond : MicrosecondsPerCentisecond);

    /// <summary>Skew_Time in microseconds. <paramref name="masterAdverIntervalMicroseconds"/> only matters for v3.</summary>
    public static long SkewTime(VrrpVersion version, int priority, long masterAdverIntervalMicroseconds)
    {
        long factor = 256 - Math.Clamp(priority, 0, 255);
        return version == VrrpVersion.V2
            ? factor * MicrosecondsPerSecond / 256
            : factor * masterAdverIntervalMicroseconds / 256;
    }

    /// <summary>Master_Down_Interval in microseconds: 3 × (Master_)Adver_Interval + Skew_Time.</summary>
    public static long MasterDownInterval(VrrpVersion version, int priority, long masterAdverIntervalMicroseconds)
        => 3 * masterAdverIntervalMicroseconds + SkewTime(version, priority, masterAdverIntervalMicroseconds);
}
