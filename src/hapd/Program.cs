using System.Reflection;
using HaPowerShell.Core.Keepalived;

namespace HaPowerShell.Daemon;

public static class Program
{
    public const int ExitOk = 0, ExitFailure = 1, ExitConfig = 5;

    public static string Version =>
        typeof(Program).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0";

    public static int Main(string[] args)
    {
        var o = HapdOptions.Parse(args, out string? error);
        if (error is not null)
        {
            Console.Error.WriteLine($"hapd: {error}");
            Console.Error.WriteLine(HapdOptions.Usage);
            return ExitFailure;
        }
        if (o.ShowHelp)
        {
            Console.WriteLine(HapdOptions.Usage);
            return ExitOk;
        }
        if (o.ShowVersion)
        {
            Console.WriteLine($"hapd v{Version} (HaPowerShell), runs keepalived 2.2 configurations");
            return ExitOk;
        }
        if (o.SignalNumberOf is { } fn)
        {
            if (HapdOptions.SignalNumber(fn) is int n) { Console.WriteLine(n); return ExitOk; }
            Console.Error.WriteLine($"hapd: unknown signal function '{fn}' (STOP, RELOAD, DATA, STATS, STATS_CLEAR, JSON)");
            return ExitFailure;
        }
        if (o.ConfigTest) return ConfigTest(o);
        return new Daemon(o).Run();
    }

    /// <summary>
    /// -t: the findings Test-KeepalivedConfig -Detailed -CheckEnvironment gives (this host's interfaces, files and
    /// users count, as keepalived -t counts them on the target host), one a line, to stderr or the -t file; exit 0
    /// when the configuration would run, 5 (keepalived's code) when not.
    /// </summary>
    private static int ConfigTest(HapdOptions o)
    {
        KeepalivedParseResult result;
        try { result = ConfigLoader.Parse(o, checkEnvironment: true); }
        catch (Exception e)
        {
            Console.Error.WriteLine($"hapd: cannot read {o.ConfigFile}: {e.Message}");
            return ExitConfig;
        }
        TextWriter output = Console.Error;
        StreamWriter? file = null;
        if (o.ConfigTestLog is { } log)
        {
            try { output = file = new StreamWriter(log, append: false); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                Console.Error.WriteLine($"hapd: cannot write {log}: {e.Message}");
                return ExitFailure;
            }
        }
        using (file)
        {
            foreach (var f in result.Findings) output.WriteLine(f.ToString());
            bool ok = result.IsValid;
            if (ok)
            {
                // What the engines' own checks refuse (the daemon would refuse to start on it) fails the test too.
                var plan = Core.Keepalived.Runtime.KeepalivedRuntimePlan.From(result.Configuration, vrrp: !o.CheckersOnly, checkers: !o.VrrpOnly);
                foreach (var e in plan.Errors) output.WriteLine("Error: " + e);
                ok = plan.CanRun;
            }
            return ok ? ExitOk : ExitConfig;
        }
    }
}
