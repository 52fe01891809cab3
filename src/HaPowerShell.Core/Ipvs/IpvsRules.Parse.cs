using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace HaPowerShell.Core.Ipvs;

public static partial class IpvsRules
{
    // ---- facts from ipvsadm.c / libipvs.h (1.31) ----
    private const int MaxTimeout = 86400 * 31;            // MAX_TIMEOUT: 31 days
    private const uint DefaultPersistentTimeout = 6 * 60; // IPVS_SVC_PERSISTENT_TIMEOUT: "-p" alone = 360 s
                                                          // (the man page says 300; the code, and Debian's binary, use 360)
    private const int SchedNameMax = 15;                  // strncpy(sched_name, optarg, IP_VS_SCHEDNAME_MAXLEN - 1)
    private const int PeNameMax = 16;                     // strncpy(pe_name, optarg, IP_VS_PENAME_MAXLEN)
    private const int ConnFMasq = 0, ConnFTunnel = 2, ConnFDroute = 3; // IP_VS_CONN_F_*

    private enum ArgKind { None, Required, Optional }

    private enum Opt
    {
        // commands
        AddService, EditService, DeleteService, Clear, List, Zero, AddServer, EditServer, DeleteServer, Set,
        Help, Version, Restore, Save, StartDaemon, StopDaemon,
        // options (the names are ipvsadm's optnames[])
        TcpService, UdpService, SctpService, FwmarkService, Scheduler, Persistent, Netmask, RealServer,
        Masquerading, Ipip, Gatewaying, Weight, UThreshold, LThreshold, Numeric, Connection, McastInterface,
        SyncId, Timeout, Daemon, Stats, Rate, Thresholds, PersistentConn, NoSort, Sort, Exact, Ipv6, Ops, Pe,
        SchedFlags, McastGroup, McastPort, McastTtl, SyncMaxlen, TunInfo, TunType, TunPort, TunNoCsum, TunCsum,
        TunRemCsum,
    }

    private sealed record OptDef(string Long, char Short, ArgKind Arg, Opt Id, string Name)
    {
        public string LongShown { get; } = "--" + Long;
        public string ShortShown { get; } = Short == '\0' ? "" : "-" + Short;
        /// <summary>ipvsadm's set_option() tracks options by name; each name gets one bit.</summary>
        public ulong NameBit => NameBits[Name];
    }

    // ipvsadm 1.31's popt table (mainline). Name = what ipvsadm calls the option in its messages.
    private static readonly OptDef[] Options =
    {
        new("add-service", 'A', ArgKind.None, Opt.AddService, "add-service"),
        new("edit-service", 'E', ArgKind.None, Opt.EditService, "edit-service"),
        new("delete-service", 'D', ArgKind.None, Opt.DeleteService, "delete-service"),
        new("clear", 'C', ArgKind.None, Opt.Clear, "clear"),
        new("list", 'L', ArgKind.None, Opt.List, "list"),
        new("list", 'l', ArgKind.None, Opt.List, "list"),
        new("zero", 'Z', ArgKind.None, Opt.Zero, "zero"),
        new("add-server", 'a', ArgKind.None, Opt.AddServer, "add-server"),
        new("edit-server", 'e', ArgKind.None, Opt.EditServer, "edit-server"),
        new("delete-server", 'd', ArgKind.None, Opt.DeleteServer, "delete-server"),
        new("set", '\0', ArgKind.None, Opt.Set, "set"),
        new("help", 'h', ArgKind.None, Opt.Help, "help"),
        new("version", 'v', ArgKind.None, Opt.Version, "version"),
        new("restore", 'R', ArgKind.None, Opt.Restore, "restore"),
        new("save", 'S', ArgKind.None, Opt.Save, "save"),
        new("start-daemon", '\0', ArgKind.Required, Opt.StartDaemon, "start-daemon"),
        new("stop-daemon", '\0', ArgKind.Required, Opt.StopDaemon, "stop-daemon"),
        new("tcp-service", 't', ArgKind.Required, Opt.TcpService, "service-address"),
        new("udp-service", 'u', ArgKind.Required, Opt.UdpService, "service-address"),
        new("sctp-service", '\0', ArgKind.Required, Opt.SctpService, "service-address"),
        new("fwmark-service", 'f', ArgKind.Required, Opt.FwmarkService, "service-address"),
        new("scheduler", 's', ArgKind.Required, Opt.Scheduler, "scheduler"),
        new("persistent", 'p', ArgKind.Optional, Opt.Persistent, "persistent"),
        new("netmask", 'M', ArgKind.Required, Opt.Netmask, "netmask"),
        new("real-server", 'r', ArgKind.Required, Opt.RealServer, "real-server"),
        new("masquerading", 'm', ArgKind.None, Opt.Masquerading, "forwarding-method"),
        new("ipip", 'i', ArgKind.None, Opt.Ipip, "forwarding-method"),
        new("gatewaying", 'g', ArgKind.None, Opt.Gatewaying, "forwarding-method"),
        new("weight", 'w', ArgKind.Required, Opt.Weight, "weight"),
        new("u-threshold", 'x', ArgKind.Required, Opt.UThreshold, "u-threshold"),
        new("l-threshold", 'y', ArgKind.Required, Opt.LThreshold, "l-threshold"),
        new("numeric", 'n', ArgKind.None, Opt.Numeric, "numeric"),
        new("connection", 'c', ArgKind.None, Opt.Connection, "connection"),
        new("mcast-interface", '\0', ArgKind.Required, Opt.McastInterface, "mcast-interface"),
        new("syncid", '\0', ArgKind.Required, Opt.SyncId, "syncid"),
        new("timeout", '\0', ArgKind.None, Opt.Timeout, "timeout"),
        new("daemon", '\0', ArgKind.None, Opt.Daemon, "daemon"),
        new("stats", '\0', ArgKind.None, Opt.Stats, "stats"),
        new("rate", '\0', ArgKind.None, Opt.Rate, "rate"),
        new("thresholds", '\0', ArgKind.None, Opt.Thresholds, "thresholds"),
        new("persistent-conn", '\0', ArgKind.None, Opt.PersistentConn, "persistent-conn"),
        new("nosort", '\0', ArgKind.None, Opt.NoSort, "nosort"),
        new("sort", '\0', ArgKind.None, Opt.Sort, "sort"),
        new("exact", 'X', ArgKind.None, Opt.Exact, "exact"),
        new("ipv6", '6', ArgKind.None, Opt.Ipv6, "ipv6"),
        new("ops", 'o', ArgKind.None, Opt.Ops, "ops"),
        new("pe", '\0', ArgKind.Required, Opt.Pe, "pe"),
        new("sched-flags", 'b', ArgKind.Required, Opt.SchedFlags, "sched-flags"),
        new("mcast-group", '\0', ArgKind.Required, Opt.McastGroup, "mcast-group"),
        new("mcast-port", '\0', ArgKind.Required, Opt.McastPort, "mcast-port"),
        new("mcast-ttl", '\0', ArgKind.Required, Opt.McastTtl, "mcast-ttl"),
        new("sync-maxlen", '\0', ArgKind.Required, Opt.SyncMaxlen, "sync-maxlen"),
        new("tun-info", '\0', ArgKind.None, Opt.TunInfo, "tun-info"),
        new("tun-type", '\0', ArgKind.Required, Opt.TunType, "tun-type"),
        new("tun-port", '\0', ArgKind.Required, Opt.TunPort, "tun-port"),
        new("tun-nocsum", '\0', ArgKind.None, Opt.TunNoCsum, "tun-nocsum"),
        new("tun-csum", '\0', ArgKind.None, Opt.TunCsum, "tun-csum"),
        new("tun-remcsum", '\0', ArgKind.None, Opt.TunRemCsum, "tun-remcsum"),
    };

    private static readonly Dictionary<string, OptDef> LongOptions = Options.GroupBy(o => o.Long).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
    private static readonly Dictionary<char, OptDef> ShortOptions = Options.Where(o => o.Short != '\0').ToDictionary(o => o.Short);
    private static readonly Dictionary<string, ulong> NameBits = Options.Select(o => o.Name).Distinct(StringComparer.Ordinal)
        .Select((name, i) => (name, bit: i < 64 ? 1UL << i : throw new InvalidOperationException("more than 64 option names")))
        .ToDictionary(x => x.name, x => x.bit, StringComparer.Ordinal);
    private static readonly ulong ServiceAddressBit = NameBits["service-address"], RealServerBit = NameBits["real-server"];
    private static readonly ulong TunPortBit = NameBits["tun-port"];
    private static readonly (string Name, ulong Bit)[] ChecksumOptions = new[] { "tun-nocsum", "tun-csum", "tun-remcsum" }.Select(n => (n, NameBits[n])).ToArray();
    private static readonly ulong TunnelOptionBits = NameBits["tun-type"] | TunPortBit | ChecksumOptions.Aggregate(0UL, (m, c) => m | c.Bit);

    // commands_v_options: which options each rule command accepts ('+' ones are checked separately).
    private static readonly HashSet<Opt> ServiceSettingOptions = new()
        { Opt.TcpService, Opt.UdpService, Opt.SctpService, Opt.FwmarkService, Opt.Scheduler, Opt.Persistent, Opt.Netmask, Opt.Ops, Opt.Pe, Opt.SchedFlags };
    private static readonly HashSet<Opt> ServiceOnlyOptions = new() { Opt.TcpService, Opt.UdpService, Opt.SctpService, Opt.FwmarkService };
    private static readonly HashSet<Opt> ServerSettingOptions = new()
    {
        Opt.TcpService, Opt.UdpService, Opt.SctpService, Opt.FwmarkService, Opt.RealServer, Opt.Masquerading, Opt.Ipip,
        Opt.Gatewaying, Opt.Weight, Opt.UThreshold, Opt.LThreshold, Opt.TunType, Opt.TunPort, Opt.TunNoCsum, Opt.TunCsum, Opt.TunRemCsum,
    };
    private static readonly HashSet<Opt> ServerIdentityOptions = new() { Opt.TcpService, Opt.UdpService, Opt.SctpService, Opt.FwmarkService, Opt.RealServer };

    private const string FullNatNote =
        "FULLNAT is not in mainline Linux: it exists only in out-of-tree forks such as Alibaba's LVS (for kernel 2.6.32) " +
        "and its successors (e.g. iQIYI's DPVS), whose ipvsadm adds --fullnat (-b), --laddr (-z), --synproxy (-j) and " +
        "--add-laddr/--del-laddr/--get-laddr (-P/-Q/-G). Mainline IPVS forwards with -g (direct routing), -i (tunnelling) or -m (NAT)";

    // Options that only FULLNAT forks know; mentioned so the error explains itself.
    private static readonly Dictionary<string, string> ForkLongOptions = new(StringComparer.Ordinal)
    {
        ["fullnat"] = "FULLNAT forwarding", ["laddr"] = "a FULLNAT local address", ["synproxy"] = "the FULLNAT forks' SYN proxy",
        ["add-laddr"] = "a FULLNAT local-address command", ["del-laddr"] = "a FULLNAT local-address command",
        ["get-laddr"] = "a FULLNAT local-address command",
    };
    private static readonly Dictionary<char, string> ForkShortOptions = new()
    {
        ['z'] = "--laddr", ['j'] = "--synproxy", ['P'] = "--add-laddr", ['Q'] = "--del-laddr", ['G'] = "--get-laddr",
    };

    /// <summary>
    /// Reads an ipvsadm rule file: one ipvsadm command per line, as `ipvsadm -R` and ipvsadm-restore accept it
    /// (an optional leading "ipvsadm" word; blank lines and "#" comments are skipped). Every check ipvsadm makes
    /// before talking to the kernel is made here, with ipvsadm's defaults (scheduler wlc, weight 1, -g, "-p" = 360 s,
    /// a real server without a port gets the service's port, -g/-i real servers of non-fwmark services always get
    /// the service's port). Lines are at most <see cref="MaxLineLength"/> characters, as in ipvsadm.
    /// </summary>
    /// <param name="text">The rule file.</param>
    /// <param name="parallel">Where large inputs may be parsed on several cores (a host's <see cref="IParallelFor"/>); null: on this thread.</param>
    /// <exception cref="ArgumentNullException">text is null.</exception>
    /// <exception cref="IpvsRuleParseException">A line ipvsadm would refuse; the message names the line.</exception>
    public static IpvsRuleSet Parse(string text, IParallelFor? parallel = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        var reader = new LineReader(default, parallel);
        var span = text.AsSpan();
        while (true)
        {
            int nl = span.IndexOf('\n');
            if (nl < 0) { reader.Add(span); break; }
            reader.Add(span[..nl]);
            span = span[(nl + 1)..];
        }
        return reader.Finish();
    }

    /// <summary>The longest line ipvsadm's config_stream reads (MAX_LINE_LENGTH); a longer one is refused
    /// before it is split into words, so a file that is not a rule file costs no more than one line of memory.</summary>
    public const int MaxLineLength = 4096;

    /// <summary>
    /// Parses ipvsadm rule lines as they arrive, in batches: memory is the parsed commands plus one batch of
    /// lines, never the whole text. Large inputs (ipvsadm -S of tens of thousands of services) are parsed on all
    /// cores, a batch at a time; lines are independent, so the first bad line by number is the one reported,
    /// and nothing after it is read.
    /// </summary>
    public sealed class LineReader
    {
        // Batches start small, so that a file that is not a rule file fails at its first lines, and grow to
        // where parsing on all cores pays.
        private const int FirstBatchSize = 64, BatchSize = 8192, ParallelFrom = 2000;
        private int _batchSize = FirstBatchSize;
        private readonly IpvsRuleSet _set = new();
        private readonly List<string?> _lines = new();
        private int _firstLineNumber = 1;
        private readonly CancellationToken _cancellation;

        private readonly IParallelFor? _parallel;

        /// <param name="cancellation">Checked before each batch.</param>
        /// <param name="parallel">Where large batches may be parsed on several cores (a host's <see cref="IParallelFor"/>); null: on this thread.</param>
        public LineReader(CancellationToken cancellation = default, IParallelFor? parallel = null)
        {
            _cancellation = cancellation;
            _parallel = parallel;
        }

        /// <summary>Lines added so far.</summary>
        public int LineCount => _firstLineNumber - 1 + _lines.Count;

        /// <summary>One line, without its '\n' (a trailing '\r' is dropped).</summary>
        /// <exception cref="IpvsRuleParseException">The line is longer than <see cref="MaxLineLength"/>, or a line of a finished batch is bad.</exception>
        public void Add(ReadOnlySpan<char> line)
        {
            if (line.Length > 0 && line[^1] == '\r') line = line[..^1];
            if (line.Length > MaxLineLength) throw LineTooLong(LineCount + 1);
            // Blank and comment lines are counted, not kept: no string is made of them.
            var start = line.TrimStart(" \t\r");
            _lines.Add(start.IsEmpty || start[0] == '#' ? null : line.ToString());
            if (_lines.Count >= _batchSize)
            {
                ParseBatch();
                _batchSize = Math.Min(BatchSize, _batchSize * 2);
            }
        }

        public static IpvsRuleParseException LineTooLong(int lineNumber)
            => new(lineNumber, $"the line is longer than {MaxLineLength} characters, the most ipvsadm reads; this is not an ipvsadm rule file (ipvsadm -S -n writes one short command per line)");

        /// <summary>Parses what is left and returns every command, in order.</summary>
        public IpvsRuleSet Finish()
        {
            ParseBatch();
            return _set;
        }

        private void ParseBatch()
        {
            _cancellation.ThrowIfCancellationRequested();
            int n = _lines.Count;
            if (n == 0) return;
            var commands = new IpvsRuleCommand?[n];
            var failures = new System.Collections.Concurrent.ConcurrentBag<(int Line, Exception Error)>();
            int first = _firstLineNumber;
            void ParseLine(int i)
            {
                if (_lines[i] is not { } line) return;
                var tokens = Tokenize(line);
                if (tokens.Count == 0) return;
                try { commands[i] = new LineParser(first + i, line, tokens).Parse(); }
                catch (Exception e) { failures.Add((i, e)); }
            }
            if (n < ParallelFrom || _parallel is null) for (int i = 0; i < n; i++) ParseLine(i);
            else _parallel.For(0, n, ParseLine);
            if (!failures.IsEmpty) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failures.MinBy(f => f.Line).Error);
            foreach (var cmd in commands) if (cmd is not null) _set.Commands.Add(cmd);
            _firstLineNumber += n;
            _lines.Clear();
        }
    }

    /// <summary>
    /// ipvsadm's config_stream: tokens separated by space, tab or CR. Every token that is exactly "ipvsadm" is
    /// dropped (so "ipvsadm -A ..." works); we also drop a leading path ending in "/ipvsadm". A token starting
    /// with '#' begins a comment (ipvsadm-restore drops lines starting with '#'; we allow trailing comments too).
    /// </summary>
    private static List<string> Tokenize(string line)
    {
        // A scan rather than string.Split: no intermediate array (this runs once per line of inputs of tens of thousands).
        var tokens = new List<string>(8);
        var span = line.AsSpan();
        int k = 0;
        while (true)
        {
            while (k < span.Length && span[k] is ' ' or '\t' or '\r') k++;
            if (k >= span.Length) break;
            int start = k;
            while (k < span.Length && span[k] is not (' ' or '\t' or '\r')) k++;
            var t = span[start..k];
            if (t[0] == '#') break;
            if (t.SequenceEqual("ipvsadm") || (tokens.Count == 0 && t.EndsWith("/ipvsadm", StringComparison.Ordinal))) continue;
            tokens.Add(t.ToString());
        }
        return tokens;
    }

    /// <summary>The state ipvsadm's parse_options/process_options keep for one command line.</summary>
    private sealed class LineParser
    {
        private readonly int _line;
        private readonly string _text;
        private readonly List<string> _tokens;

        private Opt? _cmd;
        private string _cmdShown = "";
        private ulong _seen; // ipvsadm's set_option() by optname: one bit per name (NameBits)
        private readonly List<string> _positional = new();

        // ce.svc
        private ushort _protocol;
        private bool _v6;
        private IPAddress? _addr;
        private ushort _port;
        private uint _fwmark;
        private string _sched = "";
        private bool _persistent, _onePacket;
        private uint _timeout;
        private uint _netmask = 0xffffffff; // "default persistent granularity to /32 mask"
        private string _pe = "";
        private string? _schedFlagsArg;

        // ce.dest
        private bool _destV6;
        private IPAddress? _destAddr;
        private ushort _destPort;
        private int _connFlags = ConnFDroute; // "direct routing as default forwarding method"
        private int _weight = 1;              // "default weight 1"
        private uint _uThreshold, _lThreshold;
        private int _tunType;                 // 0 = ipip
        private ushort _tunPort;
        private int _tunFlags;

        public LineParser(int line, string text, List<string> tokens)
        {
            _line = line;
            _text = text;
            _tokens = tokens;
        }

        private IpvsRuleParseException Fail(string problem) => new(_line, problem, _text);

        public IpvsRuleCommand? Parse()
        {
            int i = 0;
            bool endOfOptions = false;
            while (i < _tokens.Count)
            {
                string tok = _tokens[i++];
                if (endOfOptions || tok == "-" || !tok.StartsWith('-')) { _positional.Add(tok); continue; }
                if (tok == "--") { endOfOptions = true; continue; }
                if (tok.StartsWith("--", StringComparison.Ordinal))
                {
                    int eq = tok.IndexOf('=');
                    string name = eq < 0 ? tok[2..] : tok[2..eq];
                    string? attached = eq < 0 ? null : tok[(eq + 1)..];
                    if (!LongOptions.TryGetValue(name, out var def))
                    {
                        if (ForkLongOptions.TryGetValue(name, out var what))
                            throw Fail($"option '--{name}' is {what}. {FullNatNote}.");
                        throw Fail($"unknown option '--{name}'");
                    }
                    string shown = def.LongShown;
                    if (def.Arg == ArgKind.None && attached is not null) throw Fail($"option '{shown}' does not take a value");
                    string? value = attached;
                    if (value is null && def.Arg == ArgKind.Required)
                    {
                        if (i >= _tokens.Count) throw Fail($"option '{shown}' needs a value");
                        value = _tokens[i++];
                    }
                    else if (value is null && def.Arg == ArgKind.Optional && i < _tokens.Count && !_tokens[i].StartsWith('-'))
                        value = _tokens[i++];
                    Handle(def, value, shown);
                    continue;
                }
                // A cluster of short options: "-At", "-w5", "-p=100".
                for (int j = 1; j < tok.Length; j++)
                {
                    char c = tok[j];
                    if (!ShortOptions.TryGetValue(c, out var def))
                    {
                        if (ForkShortOptions.TryGetValue(c, out var forkName))
                            throw Fail($"unknown option '-{c}' (in FULLNAT forks it is {forkName}). {FullNatNote}.");
                        throw Fail($"unknown option '-{c}'");
                    }
                    string shown = def.ShortShown;
                    if (def.Id == Opt.SchedFlags) CheckNotFullNatB(shown);
                    if (def.Arg == ArgKind.None)
                    {
                        if (j + 1 < tok.Length && tok[j + 1] == '=') throw Fail($"option '{shown}' does not take a value");
                        Handle(def, null, shown);
                        continue;
                    }
                    string rest = tok[(j + 1)..];
                    if (rest.StartsWith('=')) rest = rest[1..];
                    string? value = rest.Length > 0 ? rest : null;
                    if (value is null && def.Arg == ArgKind.Required)
                    {
                        if (i >= _tokens.Count) throw Fail($"option '{shown}' needs a value");
                        value = _tokens[i++];
                    }
                    else if (value is null && def.Arg == ArgKind.Optional && i < _tokens.Count && !_tokens[i].StartsWith('-'))
                        value = _tokens[i++];
                    Handle(def, value, shown);
                    break;
                }
            }
            if (_cmd is null)
                throw Fail($"no command: a rule line starts with -A, -E, -D, -a, -e, -d, -C, -Z or --set (found '{_positional.FirstOrDefault()}')");
            return Finish();
        }

        private static bool IsCommand(Opt id) => id <= Opt.StopDaemon;

        private void Handle(OptDef def, string? value, string shown)
        {
            if (IsCommand(def.Id))
            {
                if (_cmd is not null) throw Fail($"more than one command ('{shown}' after '{_cmdShown}')");
                switch (def.Id)
                {
                    case Opt.List: case Opt.Help: case Opt.Version: case Opt.Restore: case Opt.Save:
                    case Opt.StartDaemon: case Opt.StopDaemon:
                        throw Fail($"'{shown}' ({def.Name}) is not a rule command: a rule file holds -A, -E, -D, -a, -e, -d, -C, -Z and --set lines");
                }
                _cmd = def.Id;
                _cmdShown = shown;
                return;
            }
            if (_cmd is null)
                throw Fail($"the first option must be a command (-A, -E, -D, -a, -e, -d, -C, -Z or --set), not '{shown}'");
            if (def.Id == Opt.SchedFlags) CheckNotFullNatB(shown);
            if (def.Id != Opt.Ipv6 && !Allowed(_cmd.Value, def.Id))
                throw Fail($"option '{shown}' ({def.Name}) is not allowed with the {CommandName(_cmd.Value)} command");
            if (def.Id != Opt.Ipv6)
            {
                ulong bit = def.NameBit;
                if ((_seen & bit) != 0) throw Fail($"more than one '{def.Name}' option ('{shown}')");
                _seen |= bit;
            }

            switch (def.Id)
            {
                case Opt.TcpService: case Opt.UdpService: case Opt.SctpService:
                    _protocol = def.Id switch { Opt.TcpService => 6, Opt.UdpService => 17, _ => 132 };
                    if (!TryParseAddrPort(value!, "virtual server", out var v6, out var a, out var p, out var why))
                        throw Fail(why);
                    _v6 = v6;
                    _addr = a;
                    if (v6) _netmask = 128; // parse_service: an IPv6 service's default granularity is /128
                    if (p is not null) _port = p.Value;
                    break;
                case Opt.FwmarkService:
                    _v6 = false;       // -f sets af = AF_INET (and protocol TCP, "even though it is not used")
                    _protocol = 6;
                    _fwmark = ParseFwmark(value!);
                    break;
                case Opt.Ipv6:
                    if (_fwmark == 0) throw Fail("-6 (--ipv6) is only valid after -f: IPv6 virtual services are written as -t/-u [address]:port");
                    _v6 = true;
                    _netmask = 128;
                    break;
                case Opt.Scheduler:
                    if (value!.Length > SchedNameMax)
                        throw Fail($"scheduler name '{value}' is longer than {SchedNameMax} characters (ipvsadm would silently cut it to '{value[..SchedNameMax]}')");
                    _sched = KnownSchedulers.TryGetValue(value, out var shared) ? shared : value; // one string per scheduler, not per line
                    break;
                case Opt.Persistent:
                    _persistent = true;
                    _timeout = value is null ? DefaultPersistentTimeout : (uint)ParseNumber(value, 1, MaxTimeout, "invalid persistence timeout '{0}' (1 to {1} seconds)", MaxTimeout);
                    break;
                case Opt.Netmask:
                    _netmask = _v6 ? ParseIpv6Netmask(value!) : ParseIpv4Netmask(value!);
                    break;
                case Opt.RealServer:
                {
                    if (!TryParseAddrPort(value!, "real server", out var dv6, out var da, out var dp, out var dwhy))
                        throw Fail(dwhy);
                    _destV6 = dv6;
                    _destAddr = da;
                    _destPort = dp ?? _port; // "copy vport to dport if not specified" (the port known so far)
                    break;
                }
                case Opt.Masquerading: _connFlags = ConnFMasq; break;
                case Opt.Ipip: _connFlags = ConnFTunnel; break;
                case Opt.Gatewaying: _connFlags = ConnFDroute; break;
                case Opt.Weight:
                    _weight = (int)ParseNumber(value!, 0, 65535, "illegal weight '{0}' (0 to 65535)");
                    break;
                case Opt.UThreshold:
                    _uThreshold = (uint)ParseNumber(value!, 0, int.MaxValue, "illegal upper threshold '{0}' (0 to {1})", int.MaxValue);
                    break;
                case Opt.LThreshold:
                    _lThreshold = (uint)ParseNumber(value!, 0, int.MaxValue, "illegal lower threshold '{0}' (0 to {1})", int.MaxValue);
                    break;
                case Opt.Ops: _onePacket = true; break;
                case Opt.Pe:
                    if (value!.Length > PeNameMax)
                        throw Fail($"persistence engine name '{value}' is longer than {PeNameMax} characters (ipvsadm would silently cut it)");
                    _pe = value;
                    break;
                case Opt.SchedFlags: _schedFlagsArg = value; break;
                case Opt.TunType:
                    _tunType = value switch
                    {
                        "ipip" => 0, "gue" => 1, "gre" => 2,
                        _ => throw Fail($"illegal tunnel type '{value}' (ipip, gue or gre)"),
                    };
                    break;
                case Opt.TunPort:
                    _tunPort = (ushort)ParseNumber(value!, 1, 65535, "illegal tunnel port '{0}' (1 to 65535)");
                    break;
                case Opt.TunNoCsum: break;               // IP_VS_TUNNEL_ENCAP_FLAG_NOCSUM is 0
                case Opt.TunCsum: _tunFlags |= 1; break;  // IP_VS_TUNNEL_ENCAP_FLAG_CSUM
                case Opt.TunRemCsum: _tunFlags |= 2; break; // IP_VS_TUNNEL_ENCAP_FLAG_REMCSUM
            }
        }

        /// <summary>FULLNAT forks use -b (--fullnat, no value) on real-server lines; mainline -b is --sched-flags.</summary>
        private void CheckNotFullNatB(string shown)
        {
            if (_cmd is Opt.AddServer or Opt.EditServer or Opt.DeleteServer)
                throw Fail($"option '{shown}' is --sched-flags in mainline ipvsadm and belongs to -A/-E, not to {CommandName(_cmd.Value)}. " +
                           $"If this file comes from a FULLNAT fork, where -b means --fullnat: {FullNatNote}.");
        }

        private static bool Allowed(Opt cmd, Opt opt) => cmd switch
        {
            Opt.AddService or Opt.EditService => ServiceSettingOptions.Contains(opt),
            Opt.DeleteService or Opt.Zero => ServiceOnlyOptions.Contains(opt),
            Opt.AddServer or Opt.EditServer => ServerSettingOptions.Contains(opt),
            Opt.DeleteServer => ServerIdentityOptions.Contains(opt),
            _ => false, // -C and --set take no options
        };

        private static string CommandName(Opt cmd) => cmd switch
        {
            Opt.AddService => "add-service (-A)", Opt.EditService => "edit-service (-E)", Opt.DeleteService => "delete-service (-D)",
            Opt.AddServer => "add-server (-a)", Opt.EditServer => "edit-server (-e)", Opt.DeleteServer => "delete-server (-d)",
            Opt.Clear => "clear (-C)", Opt.Zero => "zero (-Z)", Opt.Set => "--set", _ => cmd.ToString(),
        };

        private IpvsRuleCommand Finish()
        {
            var cmd = _cmd!.Value;
            bool hasService = (_seen & ServiceAddressBit) != 0;
            if (cmd is not (Opt.Clear or Opt.Zero or Opt.Set) && !hasService)
                throw Fail($"the {CommandName(cmd)} command needs a virtual service (-t, -u, --sctp-service or -f)");
            if (cmd is Opt.AddServer or Opt.EditServer or Opt.DeleteServer && (_seen & RealServerBit) == 0)
                throw Fail($"the {CommandName(cmd)} command needs a real server (-r address[:port])");

            IpvsTimeout? timeout = null;
            if (cmd == Opt.Set)
            {
                if (_positional.Count < 3) throw Fail("--set needs 3 timeout values: tcp tcpfin udp");
                timeout = new IpvsTimeout
                {
                    Tcp = (uint)ParseNumber(_positional[0], 0, MaxTimeout, "invalid tcp timeout '{0}' (0 to {1})", MaxTimeout),
                    TcpFin = (uint)ParseNumber(_positional[1], 0, MaxTimeout, "invalid tcpfin timeout '{0}' (0 to {1})", MaxTimeout),
                    Udp = (uint)ParseNumber(_positional[2], 0, MaxTimeout, "invalid udp timeout '{0}' (0 to {1})", MaxTimeout),
                };
                _positional.RemoveRange(0, 3);
            }
            if (_positional.Count > 0) throw Fail($"unexpected argument '{_positional[0]}'");

            uint flagBits = 0;
            if (_schedFlagsArg is not null) flagBits = ParseSchedFlags(_schedFlagsArg);

            if (cmd is Opt.AddService or Opt.EditService)
            {
                if (_fwmark == 0 && _port == 0 && !_persistent)
                    throw Fail("Zero port specified for non-persistent service (port 0 means \"all ports\" and needs -p)");
                if (_onePacket && _fwmark == 0 && _protocol != 17)
                    throw Fail("One-Packet Scheduling (-o) is only for UDP virtual services");
                if (_sched.Length == 0) _sched = IpvsService.DefaultScheduler;
            }

            IpvsService? service = hasService ? BuildService(cmd, flagBits) : null;
            IpvsRealServer? real = null;
            if (cmd is Opt.AddServer or Opt.EditServer or Opt.DeleteServer)
            {
                if (cmd is Opt.AddServer or Opt.EditServer)
                {
                    // "The destination port must be equal to the service port if tunnelling or direct routing"
                    // (not for fwmark services): ipvsadm silently replaces it.
                    if (_fwmark == 0 && _connFlags is ConnFTunnel or ConnFDroute) _destPort = _port;
                    if (_destV6 != _v6 && _connFlags != ConnFTunnel)
                        throw Fail("Different address family is allowed only for tunneling servers (-i)");
                    bool tunOpts = (_seen & TunnelOptionBits) != 0;
                    if (tunOpts && _connFlags != ConnFTunnel)
                        throw Fail("Tunnel options conflict with forward method (--tun-* options need -i)");
                    CheckTunnelOptions();
                }
                real = BuildRealServer(service!);
            }
            var kind = cmd switch
            {
                Opt.AddService => IpvsRuleCommandKind.AddService,
                Opt.EditService => IpvsRuleCommandKind.EditService,
                Opt.DeleteService => IpvsRuleCommandKind.DeleteService,
                Opt.AddServer => IpvsRuleCommandKind.AddServer,
                Opt.EditServer => IpvsRuleCommandKind.EditServer,
                Opt.DeleteServer => IpvsRuleCommandKind.DeleteServer,
                Opt.Clear => IpvsRuleCommandKind.Clear,
                Opt.Zero => IpvsRuleCommandKind.Zero,
                _ => IpvsRuleCommandKind.SetTimeout,
            };
            return new IpvsRuleCommand(kind, _line, _text) { Service = service, RealServer = real, Timeout = timeout };
        }

        /// <summary>tunnel_types_v_options: gue needs --tun-port and takes one checksum option; gre takes
        /// --tun-nocsum or --tun-csum; ipip takes none.</summary>
        private void CheckTunnelOptions()
        {
            string type = _tunType switch { 1 => "gue", 2 => "gre", _ => "ipip" };
            if ((_seen & TunnelOptionBits) == 0) return; // no tunnel option: nothing to check (and _tunType is ipip)
            bool port = (_seen & TunPortBit) != 0;
            var csums = ChecksumOptions.Where(c => (_seen & c.Bit) != 0).Select(c => c.Name).ToList();
            if (_tunType == 1 && !port) throw Fail("the gue tunnel type needs --tun-port");
            if (_tunType != 1 && port) throw Fail($"option '--tun-port' is not allowed with the {type} tunnel type (only gue)");
            if (_tunType == 0 && csums.Count > 0) throw Fail($"option '--{csums[0]}' is not allowed with the ipip tunnel type (only gue and gre)");
            if (_tunType == 2 && csums.Contains("tun-remcsum")) throw Fail("option '--tun-remcsum' is not allowed with the gre tunnel type");
            if (csums.Count > 1) throw Fail($"options '--{csums[0]}' and '--{csums[1]}' conflict: give one checksum option");
        }

        private IpvsService BuildService(Opt cmd, uint flagBits)
        {
            var family = _v6 ? AddressFamily.InterNetworkV6 : AddressFamily.InterNetwork;
            string? mask = _v6
                ? (_netmask == 128 ? null : _netmask.ToString(CultureInfo.InvariantCulture))
                : (_netmask == 0xffffffff ? null : IpvsInet.DottedMask(_netmask));
            var s = new IpvsService
            {
                Protocol = _fwmark != 0 ? null : (IpvsProtocol)_protocol,
                Address = _fwmark != 0 ? null : _addr,
                Port = _fwmark != 0 ? (ushort)0 : _port,
                FirewallMark = _fwmark,
                AddressFamily = family,
            };
            if (cmd is Opt.AddService or Opt.EditService)
            {
                s.Scheduler = _sched;
                s.PersistenceTimeout = _persistent ? _timeout : 0;
                s.PersistenceNetmask = mask;
                s.PersistenceEngine = _pe.Length == 0 ? null : _pe;
                s.OnePacket = _onePacket;
                s.SchedulerFlag = flagBits == 0 ? Array.Empty<string>() : IpvsSchedulerFlags.Words(_sched, flagBits).ToArray();
            }
            return s;
        }

        private IpvsRealServer BuildRealServer(IpvsService service)
        {
            bool tunnel = _connFlags == ConnFTunnel;
            return new IpvsRealServer
            {
                Service = service,
                Address = _destAddr!,
                Port = _destPort,
                ForwardingMethod = _connFlags switch
                {
                    ConnFMasq => IpvsForwardingMethod.Masquerade,
                    ConnFTunnel => IpvsForwardingMethod.Tunnel,
                    _ => IpvsForwardingMethod.DirectRouting,
                },
                Weight = _weight,
                UpperThreshold = _uThreshold,
                LowerThreshold = _lThreshold,
                TunnelType = tunnel ? (IpvsTunnelType)_tunType : null,
                TunnelPort = tunnel ? _tunPort : (ushort)0,
                TunnelChecksum = tunnel ? (IpvsTunnelChecksum)_tunFlags : IpvsTunnelChecksum.NoChecksum,
            };
        }

        /// <summary>parse_sched_flags: comma-separated; sh-* only with sh, mh-* only with mh (case-sensitive).</summary>
        private uint ParseSchedFlags(string arg)
        {
            string sched = _sched.Length > 0 ? _sched : IpvsService.DefaultScheduler;
            var words = arg.Split(',', StringSplitOptions.RemoveEmptyEntries); // strtok skips empty fields
            if (words.Length == 0) throw Fail($"empty scheduler flags '{arg}' (ipvsadm crashes on this)");
            uint bits = 0;
            foreach (var w in words)
            {
                switch (w)
                {
                    case "flag-1": bits |= IpvsSchedulerFlags.Sched1; break;
                    case "flag-2": bits |= IpvsSchedulerFlags.Sched2; break;
                    case "flag-3": bits |= IpvsSchedulerFlags.Sched3; break;
                    case "sh-fallback": case "sh-port":
                        if (sched != "sh") throw Fail($"incompatible scheduler flag '{w}': it needs -s sh (scheduler is {sched})");
                        bits |= w == "sh-port" ? IpvsSchedulerFlags.Sched2 : IpvsSchedulerFlags.Sched1;
                        break;
                    case "mh-fallback": case "mh-port":
                        if (sched != "mh") throw Fail($"incompatible scheduler flag '{w}': it needs -s mh (scheduler is {sched})");
                        bits |= w == "mh-port" ? IpvsSchedulerFlags.Sched2 : IpvsSchedulerFlags.Sched1;
                        break;
                    default:
                        throw Fail($"invalid scheduler flag '{w}' (flag-1, flag-2, flag-3, sh-fallback, sh-port, mh-fallback, mh-port)");
                }
            }
            // ipvsadm accepts flag-3 with sh/mh but then saves it as an empty "-b " it cannot read back.
            if ((bits & IpvsSchedulerFlags.Sched3) != 0 && sched is "sh" or "mh")
                throw Fail($"scheduler flag 'flag-3' has no meaning for the {sched} scheduler (ipvsadm would accept it but cannot save it)");
            return bits;
        }

        /// <summary>parse_fwmark: 1..4294967295. We also read -2147483648..-1 as the mark it stands for, because
        /// ipvsadm -S prints marks >= 2^31 with "%d" (negative), and we want to read ipvsadm's own output.</summary>
        private uint ParseFwmark(string s)
        {
            if (TryStrtol(s, out long l))
            {
                if (l >= 1 && l <= uint.MaxValue) return (uint)l;
                if (l >= int.MinValue && l <= -1) return unchecked((uint)(int)l);
            }
            throw Fail($"invalid fwmark value '{s}' (an integer from 1 to 4294967295)");
        }

        private uint ParseIpv4Netmask(string s)
        {
            if (IpvsInet.TryInetAton(s, out uint v)) return v;
            throw Fail($"illegal virtual server persistent mask '{s}' (an IPv4 netmask such as 255.255.255.0; host names are not resolved)");
        }

        /// <summary>ipvsadm reads an IPv6 granularity with atoi(): leading digits count, the rest is ignored.</summary>
        private uint ParseIpv6Netmask(string s)
        {
            int k = 0;
            while (k < s.Length && s[k] is ' ' or '\t' or '\n' or '\v' or '\f' or '\r') k++;
            bool neg = false;
            if (k < s.Length && s[k] is '+' or '-') { neg = s[k] == '-'; k++; }
            long v = 0;
            while (k < s.Length && s[k] >= '0' && s[k] <= '9' && v <= 1000) v = v * 10 + (s[k++] - '0');
            if (neg) v = -v;
            if (v < 1 || v > 128) throw Fail($"illegal ipv6 netmask '{s}' (a prefix length from 1 to 128)");
            return (uint)v;
        }

        /// <summary>A number in [min, max]; otherwise the problem, formatted only then ({0} = the text, {1} = <paramref name="extra"/>).</summary>
        private long ParseNumber(string s, long min, long max, string problemFormat, long extra = 0)
        {
            if (TryStrtol(s, out long v) && v >= min && v <= max) return v;
            throw Fail(string.Format(CultureInfo.InvariantCulture, problemFormat, s, extra));
        }

        /// <summary>
        /// parse_service: "[v6]:port", a bare IPv6 address (no port), or "v4[:port]" where v4 is anything
        /// inet_aton reads. Host and port names are not resolved (HaPowerShell.Core does no I/O).
        /// </summary>
        private static bool TryParseAddrPort(string buf, string what, out bool v6, out IPAddress? addr, out ushort? port, out string why)
        {
            v6 = false;
            addr = null;
            port = null;
            why = "";
            if (buf.Length == 0 || !buf.AsSpan().ContainsAnyExcept(AsciiDigits))
            {
                why = $"illegal {what} address[:port] '{buf}'";
                return false;
            }
            string? portText = null;
            string host = buf;
            if (buf[0] == '[')
            {
                int close = buf.IndexOf(']');
                if (close < 0 || close + 1 >= buf.Length || buf[close + 1] != ':')
                {
                    why = $"illegal {what} address[:port] '{buf}' (write IPv6 as [address]:port)";
                    return false;
                }
                host = buf[1..close];
                portText = buf[(close + 2)..];
                addr = IpvsInet.ParseIPv6(host);
                if (addr is null)
                {
                    // ipvsadm would take "[192.0.2.1]:80" as 192.0.2.1 and silently drop the port.
                    why = $"illegal {what} address[:port] '{buf}' ('{host}' is not an IPv6 address; brackets are for IPv6 only)";
                    return false;
                }
                v6 = true;
            }
            else if (CanBeIPv6(buf) && IpvsInet.ParseIPv6(buf) is { } bare)
            {
                addr = bare; // a bare IPv6 address has no port: "2001:db8::1:80" is one address
                v6 = true;
                return true;
            }
            else
            {
                int colon = buf.LastIndexOf(':');
                if (colon >= 0) { host = buf[..colon]; portText = buf[(colon + 1)..]; }
                if (!IpvsInet.TryInetAton(host, out uint v4))
                {
                    why = $"illegal {what} address[:port] '{buf}' ('{host}' is not a numeric address; host names are not resolved, save rules with ipvsadm -S -n)";
                    return false;
                }
                addr = IpvsInet.FromUInt32(v4);
            }
            if (portText is not null)
            {
                if (TryStrtol(portText, out long p) && p >= 0 && p <= 65535) port = (ushort)p;
                else
                {
                    why = portText.Length > 0 && portText.Any(char.IsAsciiLetter)
                        ? $"illegal {what} port '{portText}' in '{buf}': service names are not resolved, save rules with ipvsadm -S -n"
                        : $"illegal {what} address[:port] '{buf}' (port must be 0 to 65535)";
                    return false;
                }
            }
            return true;
        }
    }

    private static readonly Dictionary<string, string> KnownSchedulers =
        new[] { "rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "fo", "ovf", "mh", "twos" }.ToDictionary(s => s, StringComparer.Ordinal);

    private static readonly System.Buffers.SearchValues<char> AsciiDigits = System.Buffers.SearchValues.Create("0123456789");

    /// <summary>inet_pton(AF_INET6) needs a ':' with only hex digits before the first one (a dotted IPv4 tail
    /// can only follow a ':'), so "192.0.2.1:80" need not be tried as IPv6.</summary>
    private static bool CanBeIPv6(string s)
    {
        int colon = s.IndexOf(':');
        return colon >= 0 && s.AsSpan(0, colon).IndexOf('.') < 0;
    }

    /// <summary>strtol(s, &amp;end, 10) with *end == '\0' and end != s: optional space and sign, then digits.</summary>
    private static bool TryStrtol(string s, out long value)
    {
        value = 0;
        int k = 0;
        while (k < s.Length && s[k] is ' ' or '\t' or '\n' or '\v' or '\f' or '\r') k++;
        bool neg = false;
        if (k < s.Length && s[k] is '+' or '-') { neg = s[k] == '-'; k++; }
        int digitsStart = k;
        long v = 0;
        while (k < s.Length && s[k] >= '0' && s[k] <= '9')
        {
            int d = s[k++] - '0';
            if (v > (long.MaxValue - d) / 10) return false; // ERANGE
            v = v * 10 + d;
        }
        if (k == digitsStart || k != s.Length) return false;
        value = neg ? -v : v;
        return true;
    }
}
