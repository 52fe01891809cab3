using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using HaPowerShell.Core.Health;
using HaPowerShell.Core.Ipvs;
using HaPowerShell.Core.Keepalived.Runtime;
using HaPowerShell.Core.Vrrp;
using HaPowerShell.Hosting.Keepalived;
using HaPowerShell.Hosting.Vrrp;
using HaPowerShell.Native.Daemon;

namespace HaPowerShell.Daemon;

/// <summary>
/// The daemon: owns the process (pid files, signals, logging, systemd notification) and runs the configuration's
/// VRRP instances on a <see cref="VrrpHost"/>. Signals are taken by PosixSignalRegistration and handled one at a
/// time on the main thread: HUP reloads (the new configuration is validated whole before anything changes; a bad
/// one leaves the running one as it is), TERM/INT stop gracefully, USR1/USR2/36 write the data, stats and JSON dumps.
/// </summary>
public sealed class Daemon
{
    private readonly HapdOptions _o;
    private readonly BlockingCollection<int> _signals = new(new ConcurrentQueue<int>());
    private readonly DateTime _started = DateTime.Now;
    private DaemonLog _log = null!;
    private SystemdNotifier _notify = null!;
    private VrrpHost? _vrrp;
    private KeepalivedIpvsHost? _ipvs;
    private DaemonSink _sink = null!;
    private readonly ConcurrentQueue<Action> _work = new();
    private ControlServer? _control;
    private IReadOnlyList<VrrpInstanceConfig> _vrrpRunning = Array.Empty<VrrpInstanceConfig>();
    private HaPowerShell.Native.Processes.UserAccount? _scriptUser;

    /// <summary>A queue item that is not a signal: work posted by a host's thread (<see cref="Post"/>), run on the main thread.</summary>
    private const int WorkItem = -1;
    private RunningConfig? _config;
    private long _reloads, _failedReloads;
    private string? _lastReloadError;
    private readonly List<string> _pidFiles = new();

    public Daemon(HapdOptions options) => _o = options;

    public int Run()
    {
        if (!_o.DontFork && !_o.Detached) return Detach();
        if (_o.Detached) StandardStreams.RedirectToDevNull();
        int noHugePages = HaPowerShell.Native.Proc.HugePages.DisableForProcess();

        _log = new DaemonLog(_o.Facility, _o.LogConsole, !_o.NoSyslog, _o.LogDetail);
        _notify = new SystemdNotifier();
        try
        {
            _log.Info($"Starting hapd v{Program.Version} (keepalived.conf compatible), pid {Environment.ProcessId}, logging to {_log.Destinations}");
            if (noHugePages != 0) _log.Debug($"prctl(PR_SET_THP_DISABLE) refused ({HaPowerShell.Native.Errno.Name(noHugePages)}): transparent huge pages stay as the system sets them");
            if (!WritePidFiles()) return Program.ExitFailure;
            int rc = Start();
            if (rc != Program.ExitOk) return rc;
            Loop();
            Stop();
            return Program.ExitOk;
        }
        catch (Exception e)
        {
            _log.Error($"Stopping after an unexpected failure: {e}");
            try { _vrrp?.Dispose(); } catch (Exception) { }
            try { _ipvs?.Dispose(); } catch (Exception) { }
            try { _control?.Dispose(); } catch (Exception) { }
            return Program.ExitFailure;
        }
        finally
        {
            RemovePidFiles();
            _notify.Dispose();
            _log.Dispose();
        }
    }

    /// <summary>
    /// keepalived forks into the background unless -n. A .NET process cannot fork safely (its runtime threads do not
    /// follow), so hapd starts itself again in a new session (setsid) with the same arguments and returns; the child
    /// points its standard streams at /dev/null.
    /// </summary>
    private int Detach()
    {
        string self = Environment.ProcessPath ?? "/proc/self/exe";
        var psi = new ProcessStartInfo(File.Exists("/usr/bin/setsid") ? "/usr/bin/setsid" : "setsid") { UseShellExecute = false };
        psi.ArgumentList.Add(self);
        foreach (var a in _o.Arguments) psi.ArgumentList.Add(a);
        psi.ArgumentList.Add(HapdOptions.DetachedFlag);
        try
        {
            using var p = Process.Start(psi);
            return p is null ? Program.ExitFailure : Program.ExitOk;
        }
        catch (Exception e)
        {
            Console.Error.WriteLine($"hapd: cannot start in the background ({e.Message}); run with -n under a supervisor");
            return Program.ExitFailure;
        }
    }

    private int Start()
    {
        var loaded = Load();
        if (!loaded.CanRun)
        {
            foreach (var e in loaded.Errors) _log.Error(e);
            _log.Error($"The configuration {loaded.Path} has {loaded.Errors.Count} error(s); not starting (hapd -t -f {loaded.Path} lists them).");
            return Program.ExitConfig;
        }
        ReportFindings(loaded);
        ReportIgnored(loaded);
        if (_o.DumpConfig) DumpConfig(loaded);
        _sink = new DaemonSink(_log) { VrrpState = c => Post(() => { _ipvs?.VrrpStateChanged(c.Name, c.State == VrrpState.Master); AskTrim(); }) };
        if (!ResolveScriptUser(loaded.Plan!, out _scriptUser, out string? noUser))
        {
            _log.Error(noUser!);
            return Program.ExitConfig;
        }
        ApplyStatic(loaded.Plan!.StaticAddresses, add: true);
        if (!StartIpvs(loaded.Plan!.Ipvs))
        {
            TakeBack(loaded.Plan.StaticAddresses);
            return Program.ExitConfig;
        }
        if (!_o.CheckersOnly)
        {
            _vrrp = new VrrpHost(_sink) { ScriptUser = _scriptUser };
            try
            {
                var result = _vrrp.Reconfigure(loaded.Plan!.VrrpInstances);
                _vrrpRunning = loaded.Plan.VrrpInstances;
                foreach (var f in result.Failures) _log.Error($"({f.Name}) could not start: {f.Error.Message}");
            }
            catch (VrrpConfigurationException e)
            {
                foreach (var p in e.NamedBy(VrrpFields.KeepalivedKeyword).Problems) _log.Error(p.Message);
                _log.Error("The VRRP configuration was refused; not starting.");
                TakeBack(loaded.Plan.StaticAddresses); // as a stop would: the IPVS half (its services unless -I) too
                return Program.ExitConfig;
            }
        }
        _config = loaded.Running;
        string status = Status(_config);
        _log.Info($"Running {status}");
        if (_o.ControlSocketPath is { } sock)
        {
            _control = ControlServer.Open(sock, _o.ControlGroup, Control, _log);
            if (_control is not null)
            {
                _sink.Publish = _control.Publish;
                _log.Info($"Control socket {sock} (root may change{(_o.ControlGroup is null ? "" : $", group {_o.ControlGroup} may read")})");
            }
        }
        _notify.Ready(status);
        AskTrim(pageOut: true);
        return Program.ExitOk;
    }

    // ---- giving back the heap of a burst ----------------------------------------------------
    // Start, a reload and a round of VRRP transitions (address changes, netlink dumps, notify scripts, log lines)
    // allocate megabytes that are garbage a moment later, while the steady state allocates nearly nothing; the GC
    // keeps the pages of such a burst committed, so they would stay in the resident set for the daemon's life (50
    // instances at start: 3-4 MiB, a quarter of keepalived's whole footprint). So once things have been quiet for
    // TrimQuietMs after a burst (at the latest TrimLatestMs after its start), the main thread runs one aggressive
    // collection, which compacts the small live heap and decommits the rest. Never on an engine's thread.
    // After a start or a reload the trim also gives back the executable's pages that ran once (ExecutablePages: the
    // parser, the planner, one-time set-up: 3-5 MiB of file pages, which stayed resident for the daemon's life); the
    // code the steady state runs comes back on its next access. Not after a VRRP transition (the next takeover's code
    // would have to be read back from the disk when it matters), nor after control requests and dumps, which come
    // often and run little code of their own; never when vrrp_no_swap or checker_no_swap asks to keep code resident.
    private const long TrimQuietMs = 2_000, TrimLatestMs = 10_000;
    private long _trimDue = long.MaxValue, _trimFirstAsked = long.MaxValue;
    private bool _pageOutDue;

    private void AskTrim(bool pageOut = false)
    {
        _pageOutDue |= pageOut;
        long now = Environment.TickCount64;
        if (_trimFirstAsked == long.MaxValue) _trimFirstAsked = now;
        _trimDue = Math.Min(now + TrimQuietMs, _trimFirstAsked + TrimLatestMs);
    }

    /// <summary>How long the main loop may wait for a signal before the pending trim is due (-1: none pending).</summary>
    private int TrimWaitMs() => _trimDue == long.MaxValue ? Timeout.Infinite : (int)Math.Clamp(_trimDue - Environment.TickCount64, 0, int.MaxValue);

    private void Trim()
    {
        _trimDue = _trimFirstAsked = long.MaxValue;
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        if (!_pageOutDue) return;
        _pageOutDue = false;
        if (_config?.Plan.AsksNoSwap == true) return;
        try
        {
            var r = HaPowerShell.Native.Proc.ExecutablePages.PageOut();
            _log.Debug(r.Mappings == 0 ? $"No mapping of the executable ({Environment.ProcessPath}) to give back"
                : r.Errno == 0 ? $"Gave back the executable's pages that ran once ({r.Mappings} mapping(s), {r.Bytes / 1024} KiB asked)"
                : $"The kernel did not take the executable's unused pages back ({HaPowerShell.Native.Errno.Name(r.Errno)}"
                  + (r.Errno == HaPowerShell.Native.Errno.EINVAL ? ": MADV_PAGEOUT needs Linux 5.4)" : ")"));
        }
        catch (IOException e) { _log.Debug($"Reading /proc/self/maps failed: {e.Message}"); }
    }

    private string Status(RunningConfig c)
        => $"{c.Plan.VrrpInstances.Count} VRRP instance(s), {c.Plan.Ipvs.Services.Count} virtual service(s) with {c.Plan.Ipvs.RealServerCount} real server(s) and {c.Plan.Ipvs.HealthChecks.Count} checker(s) from {c.Path}";

    /// <summary>
    /// The account notify, track and quorum scripts run as: script_user (and its group) when given, else keepalived's
    /// default, the user keepalived_script when it exists on this host, else this process's (root). False with the
    /// reason when script_user names no account or group here.
    /// </summary>
    private static bool ResolveScriptUser(KeepalivedRuntimePlan plan, out HaPowerShell.Native.Processes.UserAccount? user, out string? why)
    {
        why = null;
        if (plan.ScriptUser is not { } name)
        {
            user = HaPowerShell.Native.Processes.UserAccount.Find("keepalived_script");
            return true;
        }
        user = HaPowerShell.Native.Processes.UserAccount.Find(name);
        if (user is null)
        {
            why = $"script_user {name}: there is no such user on this host; create it or name another (scripts are not run as root instead).";
            return false;
        }
        if (plan.ScriptGroup is { } group)
        {
            if (UnixStreamServer.FindGroup(group) is not uint gid)
            {
                why = $"script_user {name} {group}: there is no group '{group}' on this host.";
                return false;
            }
            user = user with { Gid = gid };
        }
        return true;
    }

    /// <summary>static_ipaddress: added at start and on reload (new ones), removed at stop and on reload (dropped ones).</summary>
    private void ApplyStatic(IEnumerable<VrrpVirtualAddress> addresses, bool add)
    {
        var list = addresses.ToList();
        if (list.Count == 0) return;
        IReadOnlyList<string> problems;
        try { problems = StaticAddresses.Apply(list, add); }
        catch (HaPowerShell.Native.HaException e) { problems = new[] { e.Message }; }
        foreach (var p in problems) _log.Error(p);
        _log.Info($"static_ipaddress: {list.Count - problems.Count} address(es) {(add ? "added" : "removed")}");
    }

    /// <summary>Runs <paramref name="action"/> on the main thread (between signals): hosts' threads post here.</summary>
    private void Post(Action action)
    {
        _work.Enqueue(action);
        _signals.Add(WorkItem);
    }

    /// <summary>Programs IPVS and starts the checkers (not with -P, nor when the configuration has no virtual server or sync daemon).</summary>
    private bool StartIpvs(KeepalivedIpvsPlan plan)
    {
        if (_o.VrrpOnly || (plan.Services.Count == 0 && plan.SyncDaemon is null)) return true;
        _ipvs = new KeepalivedIpvsHost(_sink, TimeSpan.FromSeconds(_o.DrainTimeoutSeconds));
        _ipvs.Checks.ScriptUser = _scriptUser;
        _ipvs.Checks.KeepStartState = false; // nothing here reads it
        _ipvs.ReleaseOnStop = !_o.DontReleaseIpvs; // keepalived's -I
        try
        {
            var r = _ipvs.Start(plan, _o.Reconcile);
            _log.Info($"IPVS programmed in {r.Elapsed.TotalMilliseconds.ToString("0.0", CultureInfo.InvariantCulture)} ms: {r.Sent} change(s) sent{(_o.Reconcile ? " (reconciled with the kernel's table)" : "")}, {r.Failed} refused; {plan.HealthChecks.Count} checker(s) started ({r.NetlinkElapsed.TotalMilliseconds.ToString("0.0", CultureInfo.InvariantCulture)} ms of it building and exchanging netlink messages)");
            return true;
        }
        catch (Exception e) when (e is HealthCheckException or IpvsOperationException or HaPowerShell.Native.HaException)
        {
            _log.Error($"The IPVS and checker configuration cannot run: {e.Message}; not starting.");
            _ipvs.Dispose();
            _ipvs = null;
            return false;
        }
    }

    private LoadedConfig Load()
    {
        try { return ConfigLoader.Load(_o); }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new InvalidOperationException($"Reading {_o.ConfigFile} failed: {e.Message}", e);
        }
    }

    private void ReportFindings(LoadedConfig c)
    {
        foreach (var f in c.Parse.Findings) _log.Warning(f.ToString());
    }

    /// <summary>What the configuration says that hapd does not act on: said at every start and reload, never dropped silently.</summary>
    private void ReportIgnored(LoadedConfig c)
    {
        var ignored = c.Plan!.Ignored;
        if (ignored.Count == 0) return;
        _log.Warning($"Not acted on by hapd ({ignored.Count}): {string.Join("; ", ignored.Select(i => i.ToString()).Take(20))}{(ignored.Count > 20 ? $"; and {ignored.Count - 20} more (hapd -d lists them all)" : "")}");
        if (_o.DumpConfig || _o.LogDetail)
            foreach (var i in ignored.Skip(20)) _log.Warning($"Not acted on: {i}");
    }

    private void DumpConfig(LoadedConfig c)
    {
        _log.Info($"------< Configuration {c.Path} >------");
        foreach (var f in c.Parse.Configuration.Files) _log.Info($" File = {f}");
        foreach (var v in c.Plan!.VrrpInstances)
        {
            _log.Info($" VRRP Instance = {v.EffectiveName}: interface {v.InterfaceName}, virtual_router_id {v.VirtualRouterId}, version {(int)v.Version}, priority {v.Priority}, advert_int {v.AdvertisementInterval.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s{(v.NoPreempt ? ", nopreempt" : "")}{(v.SyncGroup is null ? "" : ", sync group " + v.SyncGroup)}");
            foreach (var a in v.VirtualAddresses) _log.Info($"   virtual_ipaddress {a}");
            foreach (var p in v.UnicastPeers) _log.Info($"   unicast_peer {p}");
            foreach (var t in v.TrackInterfaces) _log.Info($"   track_interface {t.InterfaceName} weight {t.Weight}");
            foreach (var t in v.TrackScripts) _log.Info($"   track_script {t.Name} ({t.Command}) weight {t.Weight}");
        }
        foreach (var i in c.Plan.Ignored) _log.Info($" Not acted on: {i}");
    }

    private void Loop()
    {
        using var regs = new DisposableList();
        void On(PosixSignal signal, int number) => regs.Add(PosixSignalRegistration.Create(signal, ctx =>
        {
            ctx.Cancel = true;
            _signals.Add(number);
        }));
        On(PosixSignal.SIGHUP, Signals.Hup);
        On(PosixSignal.SIGTERM, Signals.Term);
        On(PosixSignal.SIGINT, Signals.Int);
        // Linux: raw signal numbers are accepted (PosixSignal has no names for these).
        On((PosixSignal)Signals.Usr1, Signals.Usr1);
        On((PosixSignal)Signals.Usr2, Signals.Usr2);
        On((PosixSignal)Signals.Json, Signals.Json);
        On((PosixSignal)Signals.StatsClear, Signals.StatsClear);

        while (true)
        {
            if (!_signals.TryTake(out int s, TrimWaitMs()))
            {
                Trim();
                continue;
            }
            switch (s)
            {
                case WorkItem:
                    while (_work.TryDequeue(out var work))
                    {
                        try { work(); }
                        catch (Exception e) { _log.Error($"A host's request failed: {e.Message}"); }
                    }
                    AskTrim(); // a control request's status snapshot is a burst too
                    break;
                case Signals.Term:
                case Signals.Int:
                    _log.Info($"Received {(s == Signals.Term ? "SIGTERM" : "SIGINT")}: stopping");
                    return;
                case Signals.Hup:
                    // A storm of HUPs is one reload of the newest file: those queued behind it change nothing more.
                    int coalesced = DrainQueued(Signals.Hup);
                    Reload(coalesced);
                    break;
                case Signals.Usr1:
                    Dump(StateDump.DataFile, StateDump.Data);
                    break;
                case Signals.Usr2:
                    Dump(StateDump.StatsFile, StateDump.Stats);
                    break;
                case Signals.Json:
                    Dump(StateDump.JsonFile, StateDump.Json);
                    break;
                case Signals.StatsClear:
                    _log.Warning("Clearing statistics (signal 63) is not supported by hapd: its counters only grow; take differences of two USR2 dumps.");
                    break;
            }
        }
    }

    /// <summary>Removes queued copies of <paramref name="signal"/> (keeping others in order); returns how many.</summary>
    private int DrainQueued(int signal)
    {
        var keep = new List<int>();
        int n = 0;
        while (_signals.TryTake(out int s))
        {
            if (s == signal) n++;
            else keep.Add(s);
        }
        foreach (var s in keep) _signals.Add(s);
        return n;
    }

    /// <summary>
    /// SIGHUP: reads the configuration again and validates all of it (parse, mapping, the engines' checks) before
    /// anything changes; a bad one keeps the running configuration and says why. Then the VRRP host applies only the
    /// difference: instances that stay keep their state and addresses, adverts never pause.
    /// </summary>
    private void Reload(int coalesced)
    {
        var sw = Stopwatch.StartNew();
        _notify.Reloading();
        _log.Info(coalesced > 0 ? $"Reloading the configuration (SIGHUP; {coalesced} more queued were folded in)" : "Reloading the configuration (SIGHUP)");
        try
        {
            LoadedConfig loaded;
            try { loaded = Load(); }
            catch (Exception e) { Refuse(e.Message, Array.Empty<string>()); return; }
            if (!loaded.CanRun)
            {
                Refuse($"{loaded.Errors.Count} error(s) in {loaded.Path}", loaded.Errors);
                return;
            }
            ReportIgnored(loaded);
            if (_o.DumpConfig) DumpConfig(loaded);
            if (!ResolveScriptUser(loaded.Plan!, out var scriptUser, out string? noUser))
            {
                Refuse(noUser!, Array.Empty<string>());
                return;
            }
            _scriptUser = scriptUser;
            if (_vrrp is not null) _vrrp.ScriptUser = scriptUser;
            if (_ipvs is not null) _ipvs.Checks.ScriptUser = scriptUser;
            // The checkers of the new configuration are validated before anything changes.
            if (_ipvs is not null)
            {
                try { _ipvs.Validate(loaded.Plan!.Ipvs); }
                catch (HealthCheckException e) { Refuse("a checker was refused", new[] { e.Message }); return; }
            }
            if (_vrrp is not null)
            {
                VrrpReconfigureResult result;
                try { result = _vrrp.Reconfigure(loaded.Plan!.VrrpInstances); _vrrpRunning = loaded.Plan.VrrpInstances; }
                catch (VrrpConfigurationException e)
                {
                    Refuse("the VRRP engine refused it", e.NamedBy(VrrpFields.KeepalivedKeyword).Problems.Select(p => p.Message).ToList());
                    return;
                }
                var counts = result.Plan.Items.GroupBy(i => i.Change).ToDictionary(g => g.Key, g => g.Count());
                int Count(VrrpInstanceChange c) => counts.TryGetValue(c, out int n) ? n : 0;
                foreach (var f in result.Failures) _log.Error($"({f.Name}) reload step {f.Change} failed: {f.Error.Message}");
                foreach (var item in result.Plan.Items.Where(i => i.Change != VrrpInstanceChange.Unchanged))
                    _log.Info($"({item.Name}) {item.Change}{(item.ChangedFields.Count > 0 ? ": " + string.Join(", ", item.ChangedFields.Select(VrrpFields.KeepalivedKeyword)) : "")}");
                _log.Info($"Reloaded in {sw.Elapsed.TotalMilliseconds.ToString("0.0", CultureInfo.InvariantCulture)} ms: VRRP {Count(VrrpInstanceChange.Unchanged)} unchanged, {Count(VrrpInstanceChange.Updated)} updated in place, {Count(VrrpInstanceChange.Replaced)} replaced, {Count(VrrpInstanceChange.Added)} added, {Count(VrrpInstanceChange.Removed)} removed");
            }
            var oldStatic = _config?.Plan.StaticAddresses ?? Array.Empty<VrrpVirtualAddress>();
            ApplyStatic(oldStatic.Where(a => !loaded.Plan!.StaticAddresses.Contains(a)), add: false);
            ApplyStatic(loaded.Plan!.StaticAddresses.Where(a => !oldStatic.Contains(a)), add: true);
            if (_ipvs is not null)
            {
                try
                {
                    var (diff, r) = _ipvs.Reload(loaded.Plan!.Ipvs, _o.Reconcile);
                    foreach (var op in diff.Operations.Take(_o.LogDetail ? int.MaxValue : 20)) _log.Info($"IPVS: {op.Description}");
                    _log.Info($"Reloaded IPVS in {r.Elapsed.TotalMilliseconds.ToString("0.0", CultureInfo.InvariantCulture)} ms: {r.Sent} change(s) sent, {r.Failed} refused; {diff.Summary()} ({r.NetlinkElapsed.TotalMilliseconds.ToString("0.0", CultureInfo.InvariantCulture)} ms of it building and exchanging netlink messages)");
                }
                catch (Exception e) when (e is HealthCheckException or IpvsOperationException or HaPowerShell.Native.HaException)
                {
                    _log.Error($"The IPVS reload failed part way: {e.Message}");
                }
            }
            else if (!StartIpvs(loaded.Plan!.Ipvs))
            {
                Refuse("the IPVS and checker configuration cannot run", Array.Empty<string>());
                return;
            }
            _config = loaded.Running;
            _reloads++;
        }
        finally
        {
            AskTrim(pageOut: true);
            _notify.Ready(_config is null ? "" : Status(_config));
        }
    }

    private void Refuse(string why, IReadOnlyList<string> errors)
    {
        _failedReloads++;
        _lastReloadError = why;
        foreach (var e in errors) _log.Error(e);
        _log.Error($"Reload refused: {why}; the running configuration stays as it was.");
    }

    /// <summary>A control socket request: run on the main thread (between signals), answered within 60 s.</summary>
    private HapdResponse Control(HapdRequest r)
    {
        var done = new TaskCompletionSource<HapdResponse>(TaskCreationOptions.RunContinuationsAsynchronously);
        Post(() =>
        {
            try { done.SetResult(ControlOnMain(r)); }
            catch (Exception e) { done.SetResult(ControlServer.Error("HapdRequestFailed", "InvalidOperation", e.Message)); }
        });
        return done.Task.Wait(TimeSpan.FromSeconds(60)) ? done.Task.Result
            : ControlServer.Error("HapdBusy", "OperationTimeout", "hapd did not get to the request within 60 s (a reload may be running); try again.");
    }

    private HapdResponse ControlOnMain(HapdRequest r)
    {
        switch (r.Command)
        {
            case HapdCommands.Reload:
            {
                long refused = _failedReloads;
                Reload(0);
                return _failedReloads == refused ? Ok()
                    : ControlServer.Error("HapdReloadRefused", "InvalidOperation", $"The reload was refused: {_lastReloadError}; the running configuration stays (the log has the errors; hapd -t -f {_config?.Path} lists them).");
            }
            case HapdCommands.SetPriority:
            {
                if (_vrrp is null) return ControlServer.Error("HapdNoVrrp", "InvalidOperation", "hapd runs no VRRP instance (-C).");
                var i = _vrrpRunning.FirstOrDefault(x => x.Name == r.Instance);
                if (i is null)
                    return ControlServer.Error("HapdInstanceNotFound", "ObjectNotFound", $"No vrrp_instance '{r.Instance}'; hapd runs {string.Join(", ", _vrrpRunning.Select(x => x.Name))}.");
                if (r.Priority is not (>= 1 and <= 254))
                    return ControlServer.Error("HapdInvalidPriority", "InvalidArgument", $"Priority {r.Priority} is outside 1-254 (255 is the address owner's, set in the configuration).");
                var list = _vrrpRunning.Select(x => x.Name == i.Name ? x with { Priority = r.Priority.Value } : x).ToList();
                try { _vrrp.Reconfigure(list); }
                catch (VrrpConfigurationException e)
                {
                    return ControlServer.Error("HapdInvalidPriority", "InvalidArgument", string.Join("; ", e.NamedBy(VrrpFields.KeepalivedKeyword).Problems.Select(p => p.Message)));
                }
                _vrrpRunning = list;
                _log.Info($"({i.Name}) priority set to {r.Priority} over the control socket (until the next reload)");
                return Ok();
            }
            case HapdCommands.SuspendRealServer:
            case HapdCommands.ResumeRealServer:
            {
                if (_ipvs is null) return ControlServer.Error("HapdNoIpvs", "InvalidOperation", "hapd runs no virtual server (-P, or none in the configuration).");
                var s = _ipvs.Plan.Services.FirstOrDefault(x => string.Equals(x.ToString(), r.Service, StringComparison.OrdinalIgnoreCase));
                if (s is null)
                    return ControlServer.Error("HapdServiceNotFound", "ObjectNotFound", $"No virtual service '{r.Service}'; hapd runs {string.Join(", ", _ipvs.Plan.Services.Select(x => x.ToString()).Take(10))}.");
                var rs = s.RealServers?.FirstOrDefault(x => x.Address.ToString() == r.Address && (r.Port is null || (x.Port == 0 ? s.Port : x.Port) == r.Port));
                if (rs is null)
                    return ControlServer.Error("HapdRealServerNotFound", "ObjectNotFound", $"Service {s} has no real server {r.Address}{(r.Port is null ? "" : ":" + r.Port)} in the configuration.");
                bool suspend = r.Command == HapdCommands.SuspendRealServer;
                try { _ipvs.SetWeight(s, rs, suspend ? 0 : rs.Weight); }
                catch (Exception e) when (e is IpvsOperationException or HaPowerShell.Native.HaException)
                {
                    return ControlServer.Error("HapdIpvsFailed", "InvalidOperation", e.Message);
                }
                _log.Info($"{s} -> {rs.Endpoint}: {(suspend ? "suspended (weight 0: new connections go elsewhere, live ones go on)" : $"resumed (weight {rs.Weight})")} over the control socket");
                return Ok();
            }
            default:
                return Ok();
        }
    }

    private HapdResponse Ok() => new() { Ok = true, State = Snapshot() };

    private void Stop()
    {
        _notify.Stopping();
        _control?.Dispose();
        // Said per state: a Master sends priority 0 and removes its addresses, a Backup or Fault instance just stops.
        var stopped = _vrrp is null ? null : VrrpRunningInstance.DescribeStop(VrrpRunningInstance.Running(_vrrp.Instances));
        TakeBack(_config?.Plan.StaticAddresses);
        _log.Info(stopped is null ? "Stopped" : $"Stopped {stopped}");
    }

    /// <summary>Stops what runs (VRRP, then the IPVS half: its services unless -I) and removes the static addresses.</summary>
    private void TakeBack(IReadOnlyList<VrrpVirtualAddress>? statics)
    {
        _vrrp?.Dispose();
        _vrrp = null;
        _ipvs?.Dispose();
        _ipvs = null;
        if (statics is not null) ApplyStatic(statics, add: false);
    }

    private HapdState Snapshot() => new()
    {
        Version = Program.Version,
        Pid = Environment.ProcessId,
        ConfigFile = _config?.Path ?? _o.ConfigFile,
        Started = _started,
        Written = DateTime.Now,
        Reloads = _reloads,
        FailedReloads = _failedReloads,
        LastReloadError = _lastReloadError,
        LostLogLines = _log.Lost,
        ResidentBytes = Environment.WorkingSet,
        Gc = GC.GetConfigurationVariables().ToDictionary(kv => kv.Key, kv => Convert.ToString(kv.Value, CultureInfo.InvariantCulture) ?? ""),
        VrrpInstances = _vrrp?.Instances.Select(StateDump.Instance).ToList() ?? new List<HapdInstanceState>(),
        Ipvs = _ipvs is null ? null : IpvsState(_ipvs),
        NotActedOn = _config?.Plan.Ignored.Select(i => i.ToString()).ToList() ?? new List<string>(),
    };

    private static HapdIpvsState IpvsState(KeepalivedIpvsHost h)
    {
        var st = h.Status();
        return new HapdIpvsState
        {
            Services = st.Services,
            RealServers = st.RealServers,
            Draining = st.Draining.ToList(),
            SyncDaemon = st.SyncDaemon,
            OperationsSent = st.OperationsSent,
            OperationsFailed = st.OperationsFailed,
            Reconciled = st.Reconciled,
            Checkers = h.Checks.Checks.Select(c =>
            {
                var i = c.Info();
                var servers = i.RealServers.Where(r => r.CheckIndex == 0).ToList();
                return new HapdCheckerState
                {
                    Name = c.Name,
                    Service = i.Service.ToString(),
                    Status = i.Status.ToString(),
                    QuorumUp = i.QuorumUp,
                    SorryServerActive = i.SorryServerActive,
                    Checks = i.Checks,
                    Failures = i.Failures,
                    Up = servers.Where(r => r.State == RealServerHealthState.Up).Select(r => r.Endpoint).ToList(),
                    Down = servers.Where(r => r.State != RealServerHealthState.Up).Select(r => r.Endpoint).ToList(),
                };
            }).ToList(),
        };
    }

    /// <summary>
    /// Writes a dump of the state now. Its snapshot is a burst (a copy of every checker's real servers: 5.5 MB with 500
    /// checked real servers), given back by the trim it asks for, as a control request's is.
    /// </summary>
    private void Dump(string path, Func<HapdState, string> format)
    {
        WriteDump(path, format(Snapshot()));
        AskTrim();
    }

    private void WriteDump(string path, string text)
    {
        try
        {
            // Written next to the target and renamed, so a reader never sees half a dump.
            string tmp = path + ".tmp";
            File.WriteAllText(tmp, text, new UTF8Encoding(false));
            File.Move(tmp, path, overwrite: true);
            _log.Info($"Wrote {path}");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _log.Error($"Cannot write {path}: {e.Message}");
        }
    }

    /// <summary>
    /// Writes the pid files (-p; -r as VRRP runs in this process; -c only with -C). A pid file that names a live
    /// process other than this one means a daemon already runs: refuse, as keepalived does.
    /// </summary>
    private bool WritePidFiles()
    {
        var files = new List<string> { _o.PidFile };
        if (!_o.CheckersOnly) files.Add(_o.VrrpPidFile);
        else files.Add(_o.CheckersPidFile);
        foreach (var f in files)
        {
            try
            {
                if (File.Exists(f) && int.TryParse(File.ReadAllText(f).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out int pid)
                    && pid != Environment.ProcessId && Directory.Exists($"/proc/{pid}"))
                {
                    _log.Error($"A daemon is already running (pid {pid} in {f}); not starting.");
                    return false;
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        }
        foreach (var f in files)
        {
            try
            {
                File.WriteAllText(f, Environment.ProcessId.ToString(CultureInfo.InvariantCulture) + "\n");
                _pidFiles.Add(f);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                _log.Error($"Cannot write the pid file {f}: {e.Message}");
                return false;
            }
        }
        return true;
    }

    private void RemovePidFiles()
    {
        foreach (var f in _pidFiles)
        {
            try { File.Delete(f); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        }
        _pidFiles.Clear();
    }

    private sealed class DisposableList : List<IDisposable>, IDisposable
    {
        public void Dispose()
        {
            foreach (var d in this) d.Dispose();
        }
    }
}
