using System.Globalization;
using System.Net;

namespace HaPowerShell.Core;

/// <summary>
/// The text and number forms of the objects' public (JSON) faces: addresses as their canonical text, enums as their
/// names, durations as seconds. Every output type's public members have JSON's types, so PowerShell's ConvertTo-Json
/// (which reflects public properties) writes clean JSON; the typed values are internal twins (docs/architecture.md,
/// "Objects and JSON"). The parsers are what a face's setter uses, so ConvertFrom-Json output and hashtables cast to
/// a type convert back.
/// </summary>
public static class JsonShape
{
    public static string? Text(IPAddress? address) => address?.ToString();

    public static IPAddress? Address(string? text)
        => string.IsNullOrEmpty(text) ? null
           : IPAddress.TryParse(text, out var a) ? a
           : throw new FormatException($"'{text}' is not an IPv4 or IPv6 address.");

    public static IPAddress AddressOrNone(string? text) => Address(text) ?? IPAddress.None;

    public static string[] Texts(IEnumerable<IPAddress>? addresses) => addresses?.Select(a => a.ToString()).ToArray() ?? [];

    public static string? Name<T>(T? value) where T : struct, Enum => value?.ToString();

    public static string Name<T>(T value) where T : struct, Enum => value.ToString();

    public static T Enum<T>(string? text) where T : struct, Enum
        => System.Enum.TryParse<T>(text, ignoreCase: true, out var v) && System.Enum.IsDefined(v) ? v
           : throw new FormatException($"'{text}' is not one of {string.Join(", ", System.Enum.GetNames<T>())}.");

    public static T? EnumOrNull<T>(string? text) where T : struct, Enum => string.IsNullOrEmpty(text) ? null : Enum<T>(text);

    /// <summary>A duration in seconds (microsecond precision: what the kernel and the protocols use).</summary>
    public static double Seconds(TimeSpan t) => Math.Round(t.TotalSeconds, 6);

    public static double? Seconds(TimeSpan? t) => t is { } v ? Seconds(v) : null;

    public static TimeSpan Duration(double seconds) => TimeSpan.FromTicks((long)Math.Round(seconds * TimeSpan.TicksPerSecond));

    public static string Invariant(IFormattable value) => value.ToString(null, CultureInfo.InvariantCulture);
}
