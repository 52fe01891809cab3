namespace HaPowerShell.Core.Keepalived;

/// <summary>How to read a configuration, and the bounds that keep hostile input from hanging or exhausting the reader.</summary>
public sealed class KeepalivedParseOptions
{
    /// <summary>The id '@id' and '@^id' lines are matched against (keepalived -i); null = none (every '@id' line is left out).</summary>
    public string? ConfigId { get; init; }

    /// <summary>The directory relative paths are taken from (keepalived's working directory).</summary>
    public string? WorkingDirectory { get; init; }

    /// <summary>The host the configuration is checked against; null = assume a host that has every interface, user and file named.</summary>
    public IKeepalivedEnvironment? Environment { get; init; }

    /// <summary>When true, findings about this host (missing interfaces, scripts, users) are errors, as keepalived -t counts them on the target host.</summary>
    public bool CheckEnvironment { get; init; }

    /// <summary>Largest file read (bytes).</summary>
    public long MaxFileSize { get; init; } = 64L * 1024 * 1024;

    /// <summary>Largest configuration read in all, includes together (bytes).</summary>
    public long MaxTotalSize { get; init; } = 256L * 1024 * 1024;

    /// <summary>How deep includes may nest (keepalived itself goes until it runs out of file descriptors).</summary>
    public int MaxIncludeDepth { get; init; } = 32;

    /// <summary>How many files may be opened in all (include fan-out).</summary>
    public int MaxIncludedFiles { get; init; } = 4096;

    /// <summary>How many logical lines are read in all (after parameters, ~SEQ and brace splitting).</summary>
    public int MaxLines { get; init; } = 20_000_000;

    /// <summary>How many lines ~SEQ and ~LST may produce in all.</summary>
    public long MaxSequenceLines { get; init; } = 1_000_000;

    /// <summary>
    /// How many parameter expansions one line may take. A line cannot grow past 1023 bytes, so more than that many
    /// means a parameter that refers to itself without growing ($A=$A), on which keepalived would loop for ever.
    /// </summary>
    public int MaxParameterExpansions { get; init; } = 2048;

    /// <summary>How many findings are kept; the rest are counted in one last finding.</summary>
    public int MaxFindings { get; init; } = 100_000;

    /// <summary>Seed for ${_RANDOM} (keepalived's global random_seed overrides it).</summary>
    public int? RandomSeed { get; init; }
}
