using System.Globalization;

namespace HaPowerShell.Core.Health;

/// <summary>
/// Expected HTTP status codes: single codes and inclusive ranges, separated by commas or spaces,
/// such as "200-299,301" (keepalived's status_code accepts the same). Empty means 200-299,
/// keepalived's default.
/// </summary>
public sealed class StatusCodeSet
{
    private readonly List<(int From, int To)> _ranges;

    private StatusCodeSet(List<(int, int)> ranges) => _ranges = ranges;

    public static StatusCodeSet Default { get; } = new(new() { (200, 299) });

    /// <summary>The codes and ranges, merged and sorted ("200-299", "301").</summary>
    public string[] Ranges => _ranges.Select(r => r.From == r.To ? r.From.ToString(CultureInfo.InvariantCulture) : $"{r.From}-{r.To}").ToArray();

    public bool Contains(int code) => _ranges.Any(r => code >= r.From && code <= r.To);

    /// <summary>Parses one or more specifications ("200-299,301", "404"); throws <see cref="HealthCheckException"/> (InvalidStatusCode).</summary>
    public static StatusCodeSet Parse(params string[]? specs)
    {
        var ranges = new List<(int, int)>();
        foreach (var spec in specs ?? Array.Empty<string>())
        {
            if (spec is null) continue;
            foreach (var raw in spec.Split(new[] { ',', ' ', ';' }, StringSplitOptions.RemoveEmptyEntries))
            {
                var item = raw.Trim();
                int dash = item.IndexOf('-', 1);
                (int from, int to) = dash < 0 ? (Code(item, spec), Code(item, spec)) : (Code(item[..dash], spec), Code(item[(dash + 1)..], spec));
                if (from > to) throw Bad(spec, $"the range {item} runs backwards");
                ranges.Add((from, to));
            }
        }
        if (ranges.Count == 0) return Default;
        ranges.Sort();
        var merged = new List<(int, int)>();
        foreach (var r in ranges)
        {
            if (merged.Count > 0 && r.Item1 <= merged[^1].Item2 + 1)
                merged[^1] = (merged[^1].Item1, Math.Max(merged[^1].Item2, r.Item2));
            else merged.Add(r);
        }
        return new StatusCodeSet(merged);
    }

    private static int Code(string text, string spec)
    {
        if (!int.TryParse(text.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out int c) || c < 100 || c > 599)
            throw Bad(spec, $"'{text.Trim()}' is not an HTTP status code (100-599)");
        return c;
    }

    private static HealthCheckException Bad(string spec, string why)
        => HealthCheckException.Argument("InvalidStatusCode", $"-StatusCode '{spec}': {why}. Write codes and ranges such as '200-299,301'.", spec);

    public override string ToString() => string.Join(",", _ranges.Select(r => r.From == r.To ? r.From.ToString(CultureInfo.InvariantCulture) : $"{r.From}-{r.To}"));
}
