namespace HaPowerShell.Core.Keepalived;

/// <summary>Which keepalived process a root keyword belongs to (its keywords are active only in that process's read).</summary>
internal enum KeywordOwner
{
    Global,
    Vrrp,
    Check,
    Bfd,
    TrackFile,
}

/// <summary>The pass of keepalived -t: the parent reads global_defs, then the checker, VRRP and BFD processes read the file again.</summary>
internal enum KeepalivedPass
{
    Parent,
    Checker,
    Vrrp,
    Bfd,
}

internal delegate void KeywordHandler(KeepalivedParseContext ctx, string[]? words);

/// <summary>One keyword of keepalived's keyword tree (lib/parser.h keyword_t).</summary>
internal sealed class Keyword
{
    public Keyword(string name, KeywordHandler? handler, KeywordOwner owner)
    {
        Name = name;
        Handler = handler;
        Owner = owner;
    }

    public string Name { get; }
    public KeywordHandler? Handler { get; }
    public KeywordOwner Owner { get; }
    public KeywordTable? Sub { get; set; }
    public Action<KeepalivedParseContext>? CloseHandler { get; set; }
}

/// <summary>The keywords of one block, in install order (keepalived searches them in order; the first match wins).</summary>
internal sealed class KeywordTable
{
    private readonly List<Keyword> _list = new();
    private readonly Dictionary<string, Keyword> _byName = new(StringComparer.Ordinal);

    public IReadOnlyList<Keyword> All => _list;

    public void Add(Keyword k)
    {
        _list.Add(k);
        _byName.TryAdd(k.Name, k);
    }

    public Keyword? Find(string name) => _byName.TryGetValue(name, out var k) ? k : null;

    public Keyword Last => _list[^1];
}

/// <summary>
/// Builds the keyword tree with the calls keepalived makes (install_keyword_root, install_keyword,
/// install_sublevel, install_sublevel_end, install_sublevel_end_handler, install_root_end_handler), so the
/// tables can be transcribed one for one and their nesting comes out the same.
/// </summary>
internal sealed class KeywordTreeBuilder
{
    private readonly KeywordTable _roots = new();
    private int _sublevel;
    private KeywordOwner _owner;

    public KeywordTable Build() => _roots;

    public void Root(string name, KeywordHandler? handler, KeywordOwner owner)
    {
        _owner = owner;
        _sublevel = 0;
        _roots.Add(new Keyword(name, handler, owner));
    }

    public void RootEnd(Action<KeepalivedParseContext> handler) => _roots.Last.CloseHandler = handler;

    private Keyword AtSublevel()
    {
        var k = _roots.Last;
        for (int i = 0; i < _sublevel; i++) k = k.Sub!.Last;
        return k;
    }

    public void Kw(string name, KeywordHandler? handler)
    {
        var parent = AtSublevel();
        parent.Sub ??= new KeywordTable();
        parent.Sub.Add(new Keyword(name, handler, _owner));
    }

    public void Sub() => _sublevel++;

    public void SubEnd() => _sublevel--;

    public void SubEndHandler(Action<KeepalivedParseContext> handler) => AtSublevel().CloseHandler = handler;
}
