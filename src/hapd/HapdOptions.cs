using System.Globalization;
namespace HaPowerShell.Daemon;

/// <summary>keepalived's command line, as hapd reads it (the same short and long options, the same defaults).</summary>
public sealed class HapdOptions
{
    public const string DefaultConfigFile = "/etc/keepalived/keepalived.conf";
    public const string DefaultPidFile = "/run/keepalived.pid";
    public const string DefaultVrrpPidFile = "/run/keepalived_vrrp.pid";
    public const string DefaultCheckersPidFile = "/run/keepalived_checkers.pid";

    public string ConfigFile { get; private set; } = DefaultConfigFile;
    public bool VrrpOnly { get; private set; }
    public bool CheckersOnly { get; private set; }
    public bool LogConsole { get; private set; }
    public bool LogDetail { get; private set; }
    public bool NoSyslog { get; private set; }

    /// <summary>The syslog facility number (LOG_DAEMON = 3 by default; -S 0-7 = LOG_LOCAL0-7 = 16-23; user = 1).</summary>
    public int Facility { get; private set; } = 3;

    public bool DontFork { get; private set; }
    public bool DumpConfig { get; private set; }
    public string PidFile { get; private set; } = DefaultPidFile;
    public string VrrpPidFile { get; private set; } = DefaultVrrpPidFile;
    public string CheckersPidFile { get; private set; } = DefaultCheckersPidFile;
    public string? ConfigId { get; private set; }

    /// <summary>-I, --dont-release-ipvs: leave the configuration's IPVS services in the table on stop (keepalived's -I).</summary>
    public bool DontReleaseIpvs { get; private set; }

    /// <summary>--drain-timeout=SECONDS: a real server removed on reload keeps weight 0 until its connections end, at most this long (0: removed at once, as keepalived).</summary>
    public double DrainTimeoutSeconds { get; private set; }

    /// <summary>--control-socket=PATH: the control socket (default: hapd.sock in the pid file's directory, /run/hapd.sock); "none": no socket.</summary>
    public string? ControlSocket { get; private set; }

    /// <summary>--control-group=GROUP: members may read the status over the control socket (root may do everything).</summary>
    public string? ControlGroup { get; private set; }

    /// <summary>The control socket's path, or null with --control-socket=none.</summary>
    public string? ControlSocketPath => ControlSocket == "none" ? null
        : ControlSocket ?? System.IO.Path.Combine(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(PidFile)) ?? "/run", "hapd.sock");

    /// <summary>--reconcile: at start and on every reload, read the kernel's IPVS table and repair the configuration's services in it.</summary>
    public bool Reconcile { get; private set; }
    public bool ConfigTest { get; private set; }

    /// <summary>-t=FILE: where the test writes its findings (stderr when null).</summary>
    public string? ConfigTestLog { get; private set; }

    public bool ShowVersion { get; private set; }
    public bool ShowHelp { get; private set; }

    /// <summary>--signum=NAME: print the signal number of a function and exit.</summary>
    public string? SignalNumberOf { get; private set; }

    /// <summary>Set on the re-executed child of a daemon that forks (internal).</summary>
    public bool Detached { get; private set; }

    /// <summary>The arguments as given (the detached child is started with them).</summary>
    public IReadOnlyList<string> Arguments { get; private set; } = Array.Empty<string>();

    internal const string DetachedFlag = "--hapd-detached";

    private static readonly Dictionary<string, char> LongNames = new(StringComparer.Ordinal)
    {
        ["use-file"] = 'f', ["vrrp"] = 'P', ["check"] = 'C', ["log-console"] = 'l', ["log-detail"] = 'D',
        ["log-facility"] = 'S', ["no-syslog"] = 'G', ["dont-fork"] = 'n', ["dump-conf"] = 'd', ["pid"] = 'p',
        ["vrrp_pid"] = 'r', ["checkers_pid"] = 'c', ["config-id"] = 'i', ["config-test"] = 't', ["version"] = 'v',
        ["help"] = 'h', ["dont-release-ipvs"] = 'I',
    };

    /// <summary>Options that take a value; 't' takes one only when attached (-tFILE, --config-test=FILE).</summary>
    private const string WithValue = "fSprci";

    /// <summary>Reads <paramref name="args"/>; a problem is returned as a message for stderr (and the usage).</summary>
    public static HapdOptions Parse(IReadOnlyList<string> args, out string? error)
    {
        var o = new HapdOptions { Arguments = args.Where(a => a != DetachedFlag).ToArray() };
        error = null;
        for (int i = 0; i < args.Count && error is null; i++)
        {
            string a = args[i];
            if (a == DetachedFlag) { o.Detached = true; continue; }
            if (a.StartsWith("--", StringComparison.Ordinal) && a.Length > 2)
            {
                string name = a.Substring(2);
                string? value = null;
                int eq = name.IndexOf('=');
                if (eq >= 0) { value = name.Substring(eq + 1); name = name.Substring(0, eq); }
                if (name == "signum")
                {
                    if (value is null && i + 1 < args.Count) value = args[++i];
                    if (string.IsNullOrEmpty(value)) error = "option '--signum' requires an argument";
                    o.SignalNumberOf = value;
                    continue;
                }
                if (name == "reconcile")
                {
                    if (value is not null) error = "option '--reconcile' doesn't allow an argument";
                    o.Reconcile = true;
                    continue;
                }
                if (name is "control-socket" or "control-group")
                {
                    if (value is null && i + 1 < args.Count) value = args[++i];
                    if (string.IsNullOrEmpty(value)) { error = $"option '--{name}' requires an argument"; break; }
                    if (name == "control-socket") o.ControlSocket = value;
                    else o.ControlGroup = value;
                    continue;
                }
                if (name == "drain-timeout")
                {
                    if (value is null && i + 1 < args.Count) value = args[++i];
                    if (!double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double seconds) || seconds < 0 || seconds > 86400 || double.IsNaN(seconds))
                        error = $"invalid drain timeout '{value}': give seconds from 0 to 86400";
                    else o.DrainTimeoutSeconds = seconds;
                    continue;
                }
                if (!LongNames.TryGetValue(name, out char c)) { error = $"unrecognized option '--{name}'"; break; }
                if (WithValue.Contains(c) && value is null)
                {
                    if (i + 1 >= args.Count) { error = $"option '--{name}' requires an argument"; break; }
                    value = args[++i];
                }
                else if (!WithValue.Contains(c) && c != 't' && value is not null) { error = $"option '--{name}' doesn't allow an argument"; break; }
                error = o.Apply(c, value);
                continue;
            }
            if (a.Length > 1 && a[0] == '-')
            {
                for (int k = 1; k < a.Length && error is null; k++)
                {
                    char c = a[k];
                    if (!LongNames.ContainsValue(c)) { error = $"invalid option -- '{c}'"; break; }
                    string? value = null;
                    if (WithValue.Contains(c))
                    {
                        if (k + 1 < a.Length) value = a.Substring(k + 1);
                        else if (i + 1 < args.Count) value = args[++i];
                        else { error = $"option requires an argument -- '{c}'"; break; }
                        error = o.Apply(c, value);
                        break;
                    }
                    if (c == 't' && k + 1 < a.Length) { error = o.Apply(c, a.Substring(k + 1)); break; }
                    error = o.Apply(c, null);
                }
                continue;
            }
            error = $"unexpected argument '{a}' (options only; the configuration file is given with -f)";
        }
        if (error is null && o.VrrpOnly && o.CheckersOnly)
            error = "-P (VRRP only) and -C (checkers only) exclude each other";
        return o;
    }

    private string? Apply(char c, string? value)
    {
        switch (c)
        {
            case 'f': ConfigFile = value!; break;
            case 'P': VrrpOnly = true; break;
            case 'C': CheckersOnly = true; break;
            case 'l': LogConsole = true; break;
            case 'D': LogDetail = true; break;
            case 'G': NoSyslog = true; break;
            case 'n': DontFork = true; break;
            case 'd': DumpConfig = true; break;
            case 'p': PidFile = value!; break;
            case 'r': VrrpPidFile = value!; break;
            case 'c': CheckersPidFile = value!; break;
            case 'i': ConfigId = value; break;
            case 'I': DontReleaseIpvs = true; break;
            case 't': ConfigTest = true; ConfigTestLog = string.IsNullOrEmpty(value) ? null : value; break;
            case 'v': ShowVersion = true; break;
            case 'h': ShowHelp = true; break;
            case 'S':
                int? f = ParseFacility(value!);
                if (f is null) return $"invalid log facility '{value}': give 0-7, local0-local7, user or daemon";
                Facility = f.Value;
                break;
        }
        foreach (var (path, what) in new[] { (ConfigFile, "-f"), (PidFile, "-p"), (VrrpPidFile, "-r"), (CheckersPidFile, "-c") })
            if (string.IsNullOrEmpty(path)) return $"option {what} needs a file name";
        return null;
    }

    /// <summary>keepalived's -S: 0-7 or local0-local7 (LOG_LOCAL0-7), user, daemon. Null when not one of those.</summary>
    public static int? ParseFacility(string text) => text switch
    {
        "user" => 1,
        "daemon" => 3,
        _ when text.Length == 1 && text[0] is >= '0' and <= '7' => 16 + (text[0] - '0'),
        _ when text.Length == 6 && text.StartsWith("local", StringComparison.Ordinal) && text[5] is >= '0' and <= '7' => 16 + (text[5] - '0'),
        _ => null,
    };

    /// <summary>keepalived's --signum names and the signals hapd takes for them.</summary>
    public static int? SignalNumber(string function) => function.ToUpperInvariant() switch
    {
        "STOP" => Signals.Term,
        "RELOAD" => Signals.Hup,
        "DATA" => Signals.Usr1,
        "STATS" => Signals.Usr2,
        "STATS_CLEAR" => Signals.StatsClear,
        "JSON" => Signals.Json,
        _ => null,
    };

    public const string Usage = """
        Usage: hapd [OPTION...]
          -f, --use-file=FILE          Use the specified configuration file
                                        default '/etc/keepalived/keepalived.conf'
          -P, --vrrp                   Only run with VRRP subsystem
          -C, --check                  Only run with Health-checker subsystem
          -l, --log-console            Log messages to local console
          -D, --log-detail             Detailed log messages
          -S, --log-facility=([0-7]|local[0-7]|user|daemon)
                                       Set syslog facility to LOG_LOCAL[0-7], user or daemon (default)
          -G, --no-syslog              Don't log via syslog
          -I, --dont-release-ipvs      Don't remove IPVS topology on daemon stop
          -n, --dont-fork              Don't fork the daemon process
          -d, --dump-conf              Dump the configuration data
          -p, --pid=FILE               Use specified pidfile for parent process
          -r, --vrrp_pid=FILE          Use specified pidfile for VRRP child process
          -c, --checkers_pid=FILE      Use specified pidfile for checkers child process
          -i, --config-id id           Skip any configuration lines beginning '@' that don't match id
                                        or any lines beginning @^ that do match.
                                        The config-id defaults to the node name if option not used
              --signum=SIGFUNC         Return signal number for STOP, RELOAD, DATA, STATS, STATS_CLEAR, JSON
          -t, --config-test[=LOG_FILE] Check the configuration for obvious errors, output to
                                        stderr by default
              --drain-timeout=SECONDS  hapd: a real server removed on reload keeps weight 0 until its
                                        active connections end, at most SECONDS (default 0: removed at once)
              --control-socket=PATH    hapd: the control socket for the module's Hapd cmdlets (default
                                        hapd.sock next to the pid file: /run/hapd.sock; 'none': no socket)
              --control-group=GROUP    hapd: members of GROUP may read the status over it (root may change)
              --reconcile              hapd: read the kernel's IPVS table at start and on reload and repair
                                        the configuration's services (manual ipvsadm changes are undone)
          -v, --version                Display the version number
          -h, --help                   Display this help message

        Signals: HUP reloads the configuration (validated whole first: a bad one keeps the running one),
        TERM and INT stop (a Master sends priority 0 and removes its addresses), USR1 writes
        keepalived.data, USR2 keepalived.stats, signal 36 (SIGRTMIN+2) keepalived.json, in $TMPDIR
        (default /tmp).
        """;
}

/// <summary>The signal numbers hapd handles (Linux; PosixSignalRegistration takes raw numbers there).</summary>
public static class Signals
{
    public const int Hup = 1, Int = 2, Usr1 = 10, Usr2 = 12, Term = 15;

    /// <summary>SIGRTMIN+2 under glibc: keepalived's JSON dump.</summary>
    public const int Json = 36;

    /// <summary>SIGRTMAX-1 under glibc: keepalived's "clear statistics".</summary>
    public const int StatsClear = 63;
}
