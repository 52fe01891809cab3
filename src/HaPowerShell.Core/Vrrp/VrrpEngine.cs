using System.Net;
using System.Net.Sockets;

namespace HaPowerShell.Core.Vrrp;

/// <summary>
/// All VRRP instances of this process: configuration checks (including one instance per
/// interface + family + VRID), packet demultiplexing, tracking (interfaces and scripts with rise/fall),
/// sync groups and the timer wheel. Event driven and single threaded: the driver (Native sockets,
/// cmdlets) calls <see cref="Receive"/>, <see cref="SetInterfaceState"/>, <see cref="ReportTrackScriptResult"/>
/// and, at <see cref="NextDueMicroseconds"/>, <see cref="RunDueTimers"/> — one call at a time.
/// </summary>
public sealed class VrrpEngine
{
    private readonly List<VrrpInstance> _instances = new();
    private readonly Dictionary<string, bool> _interfaceUp = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ScriptState> _scripts = new(StringComparer.Ordinal);
    private readonly IVrrpInterfaceLookup? _interfaces;

    public VrrpEngine(IVrrpActions actions, IVrrpClock? clock = null, IVrrpInterfaceLookup? interfaces = null)
    {
        Actions = actions ?? throw new ArgumentNullException(nameof(actions));
        Clock = clock ?? SystemVrrpClock.Instance;
        _interfaces = interfaces;
    }

    public IVrrpActions Actions { get; }
    public IVrrpClock Clock { get; }

    /// <summary>Raised after every state transition (also passed to <see cref="IVrrpActions.StateChanged"/>).</summary>
    public event EventHandler<VrrpStateChange>? StateChanged;

    public IReadOnlyList<VrrpInstance> Instances => _instances;

    /// <summary>Packets no instance claimed (unknown VRID, undecodable IP header).</summary>
    public VrrpCounters Counters { get; } = new();

    public VrrpInstance? Find(string name) => _instances.FirstOrDefault(i => i.Name == name);

    // ---- configuration -------------------------------------------------------------------

    /// <summary>
    /// Validates and adds an instance (not started). Throws <see cref="VrrpConfigurationException"/>
    /// listing every problem, including <c>VrrpInstanceDuplicate</c> for a second instance on the same
    /// interface, address family and VRID, and <c>VrrpSourceAddressMissing</c> when no primary address is known.
    /// </summary>
    public VrrpInstance Add(VrrpInstanceConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var errors = config.Validate(_interfaces).ToList();
        if (_instances.Any(i => i.Config.InterfaceName == config.InterfaceName && i.Config.VirtualRouterId == config.VirtualRouterId &&
                                i.Config.AddressFamily == config.AddressFamily))
            errors.Add(new VrrpConfigError("VrrpInstanceDuplicate", VrrpField.VirtualRouterId,
                $"VRID {config.VirtualRouterId} ({(config.AddressFamily == AddressFamily.InterNetworkV6 ? "IPv6" : "IPv4")}) on '{config.InterfaceName}' is already run by instance " +
                $"'{_instances.First(i => i.Config.InterfaceName == config.InterfaceName && i.Config.VirtualRouterId == config.VirtualRouterId && i.Config.AddressFamily == config.AddressFamily).Name}' in this process; use another {{VirtualRouterId}} or stop that instance.",
                config.VirtualRouterId.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        if (_instances.Any(i => i.Name == config.EffectiveName))
            errors.Add(new VrrpConfigError("VrrpInstanceNameDuplicate", VrrpField.Name, $"An instance named '{config.EffectiveName}' already exists.", config.EffectiveName));
        errors.AddRange(VrrpInstanceConfig.SharedVirtualAddresses(_instances.Where(i => i.Name != config.EffectiveName).Select(i => i.Config), config));

        IPAddress? primary = config.SourceAddress;
        if (primary is null && errors.Count == 0)
        {
            var itf = _interfaces?.Find(config.InterfaceName);
            primary = config.AddressFamily == AddressFamily.InterNetworkV6 ? itf?.LinkLocalIPv6 : itf?.PrimaryIPv4;
            if (primary is null)
                errors.Add(new VrrpConfigError("VrrpSourceAddressMissing", VrrpField.InterfaceName,
                    $"Interface '{config.InterfaceName}' has no {(config.AddressFamily == AddressFamily.InterNetworkV6 ? "link-local IPv6" : "IPv4")} address to advertise from; add one or give {{SourceAddress}}.",
                    config.InterfaceName));
        }
        if (errors.Count > 0) throw new VrrpConfigurationException(errors);

        var inst = new VrrpInstance(this, config, primary!);
        _instances.Add(inst);
        foreach (var s in config.TrackScripts)
            if (!_scripts.ContainsKey(s.Name)) _scripts[s.Name] = new ScriptState(s);
        return inst;
    }

    /// <summary>Removes a stopped instance.</summary>
    public bool Remove(string name)
    {
        var inst = Find(name);
        if (inst is null) return false;
        if (inst.IsStarted) Stop(name);
        _instances.Remove(inst);
        foreach (var s in inst.Config.TrackScripts)
            if (!_instances.Any(i => i.Config.TrackScripts.Any(t => t.Name == s.Name))) _scripts.Remove(s.Name);
        return true;
    }

    /// <summary>
    /// Gives a running (or added) instance a new configuration in place, keeping its state (see
    /// <see cref="VrrpReconfigurePlan"/>: only <see cref="VrrpReconfigurePlan.InPlaceFields"/> may differ; anything
    /// else needs the instance replaced). Validates first; throws <see cref="VrrpConfigurationException"/> and
    /// changes nothing when the configuration is invalid or differs in a field that cannot change in place.
    /// </summary>
    public void Reconfigure(string name, VrrpInstanceConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var inst = Find(name) ?? throw new ArgumentException($"No VRRP instance named '{name}'.", nameof(name));
        var errors = config.Validate(_interfaces).ToList();
        if (config.EffectiveName != name)
            errors.Add(new VrrpConfigError("VrrpReconfigureNotInPlace", VrrpField.Name, $"Instance '{name}' cannot take the configuration of '{config.EffectiveName}'.", config.EffectiveName));
        foreach (var f in inst.Config.Differences(config).Where(f => !VrrpReconfigurePlan.InPlaceFields.Contains(f)))
            errors.Add(new VrrpConfigError("VrrpReconfigureNotInPlace", f, $"{{{f}}} of instance '{name}' cannot change while it runs; the instance has to be replaced (stopped and started).", null));
        if (errors.Count > 0) throw new VrrpConfigurationException(errors);
        inst.Reconfigure(config);
        long now = Clock.NowMicroseconds;
        foreach (var s in config.TrackScripts)
            if (!_scripts.ContainsKey(s.Name)) _scripts[s.Name] = new ScriptState(s) { NextDue = inst.IsStarted ? now : null };
        foreach (var n in _scripts.Keys.ToList())
            if (!_instances.Any(i => i.Config.TrackScripts.Any(t => t.Name == n))) _scripts.Remove(n);
        Reevaluate();
    }

    /// <summary>Changes the configured priority (1-255) of an instance, keeping its state.</summary>
    public void SetPriority(string name, int priority)
    {
        var inst = Find(name) ?? throw new ArgumentException($"No VRRP instance named '{name}'.", nameof(name));
        if (priority is < 1 or > 255)
            throw new VrrpConfigurationException(new[] { new VrrpConfigError("VrrpPriorityOutOfRange", VrrpField.Priority, $"{{Priority}} {priority} is outside 1-255.",
                priority.ToString(System.Globalization.CultureInfo.InvariantCulture)) });
        inst.BasePriority = priority;
        Reevaluate();
    }

    // ---- lifecycle -----------------------------------------------------------------------

    /// <summary>Starts every instance not yet started.</summary>
    public void Start()
    {
        foreach (var i in _instances.ToList()) Start(i.Name);
    }

    /// <summary>RFC Startup event: the owner becomes Master at once, others become Backup with Master_Down_Timer = Master_Down_Interval (expired at once with <see cref="VrrpInstanceConfig.StartAsMaster"/>); Fault when a tracker says so.</summary>
    public void Start(string name)
    {
        var inst = Find(name) ?? throw new ArgumentException($"No VRRP instance named '{name}'.", nameof(name));
        if (inst.IsStarted) return;
        long now = Clock.NowMicroseconds;
        foreach (var s in inst.Config.TrackScripts)
            if (_scripts.TryGetValue(s.Name, out var st) && st.NextDue is null) st.NextDue = now;
        inst.MarkStarted();
        inst.ResetMasterAdverInterval();
        UpdateTracking(inst);
        if (GroupOf(inst).Any(m => m.IsStarted && m.FaultReasons.Count > 0))
        {
            inst.EnterFault(VrrpTransitionReason.Fault);
            Reevaluate();
            return;
        }
        if (inst.IsAddressOwner) TryBecomeMaster(inst, VrrpTransitionReason.AddressOwner);
        else
        {
            inst.EnterBackup(VrrpTransitionReason.Startup);
            // keepalived's "state MASTER": Backup with the timer expired, so the next timer pass makes it Master.
            if (inst.Config.StartAsMaster) inst.ExpireMasterDown();
        }
    }

    /// <summary>Stops every instance (Shutdown event): a Master sends a priority-0 advert and removes its VIPs.</summary>
    public void Stop()
    {
        foreach (var i in _instances) if (i.IsStarted) i.Stop();
        foreach (var s in _scripts.Values) { s.NextDue = null; s.Running = false; }
    }

    public void Stop(string name)
    {
        var inst = Find(name) ?? throw new ArgumentException($"No VRRP instance named '{name}'.", nameof(name));
        if (!inst.IsStarted) return;
        inst.Stop();
        foreach (var s in _scripts.Values)
            if (!_instances.Any(i => i.IsStarted && i.Config.TrackScripts.Any(t => t.Name == s.Script.Name))) { s.NextDue = null; s.Running = false; }
        Reevaluate();
    }

    // ---- input ---------------------------------------------------------------------------

    /// <summary>A raw IPv4 datagram (IP header included) received on <paramref name="interfaceName"/>.</summary>
    public VrrpRejectReason ReceiveIPv4Datagram(string interfaceName, ReadOnlyMemory<byte> datagram, long? arrivedAtMicroseconds = null)
    {
        var reason = VrrpReceivedPacket.FromIPv4Datagram(datagram, out var packet);
        if (reason != VrrpRejectReason.None)
        {
            // Attribute to an instance when the VRID byte is readable, else to the engine.
            var owner = ClaimFromDatagram(interfaceName, datagram.Span);
            (owner?.Counters ?? Counters).Reject(reason);
            return reason;
        }
        return Receive(interfaceName, arrivedAtMicroseconds is null ? packet! : packet! with { ArrivedAtMicroseconds = arrivedAtMicroseconds });
    }

    /// <summary>
    /// A VRRP message received on <paramref name="interfaceName"/>. Every packet is either accepted
    /// (<see cref="VrrpRejectReason.None"/>, counted in AdvertisementsReceived) or rejected with a reason and
    /// counted — by the instance with that interface/family/VRID, else by <see cref="Counters"/>.
    /// </summary>
    public VrrpRejectReason Receive(string interfaceName, VrrpReceivedPacket packet)
    {
        ArgumentNullException.ThrowIfNull(packet);
        var msg = packet.Message.Span;
        if (msg.Length < 2)
        {
            Counters.Reject(VrrpRejectReason.Truncated);
            return VrrpRejectReason.Truncated;
        }
        byte vrid = msg[1];
        var inst = _instances.FirstOrDefault(i => i.IsStarted && i.Config.InterfaceName == interfaceName &&
                                                  i.Config.AddressFamily == packet.AddressFamily && i.Config.VirtualRouterId == vrid);
        if (inst is null)
        {
            var r = msg.Length < VrrpCodec.HeaderLength ? VrrpRejectReason.Truncated : VrrpRejectReason.VridUnknown;
            Counters.Reject(r);
            return r;
        }
        var reason = VrrpPacketValidator.Validate(inst.Config, inst.PrimaryAddress, packet, out var adv);
        if (reason != VrrpRejectReason.None)
        {
            inst.Counters.Reject(reason);
            return reason;
        }
        inst.Counters.AdvertisementsReceived++;
        if (inst.OnAdvertisement(adv!, packet.Source, packet.ArrivedAtMicroseconds))
        {
            // Left Master for a better router: the sync group follows to Backup.
            foreach (var m in GroupOf(inst))
                if (m != inst && m.IsStarted && m.State == VrrpState.Master) m.LeaveMasterToBackup(VrrpTransitionReason.SyncGroup, null);
            foreach (var m in GroupOf(inst)) if (m.State == VrrpState.Backup) m.WantsMaster = false;
        }
        return VrrpRejectReason.None;
    }

    /// <summary>A link went up or down (rtnetlink). Affects the instances on it and those tracking it.</summary>
    public void SetInterfaceState(string interfaceName, bool up)
    {
        _interfaceUp[interfaceName] = up;
        Reevaluate();
    }

    /// <summary>The outcome of one run of a tracked script (a timeout is a failure). Applies rise/fall.</summary>
    public void ReportTrackScriptResult(string scriptName, bool success)
    {
        if (!_scripts.TryGetValue(scriptName, out var s)) return;
        s.Running = false;
        if (s.Record(success)) Reevaluate();
    }

    /// <summary>Whether a tracked script is currently considered good (after rise/fall).</summary>
    public bool? GetTrackScriptState(string scriptName) => _scripts.TryGetValue(scriptName, out var s) ? s.Up : null;

    // ---- timers --------------------------------------------------------------------------

    /// <summary>The earliest pending deadline, in <see cref="Clock"/> microseconds; null when nothing is pending.</summary>
    public long? NextDueMicroseconds
    {
        get
        {
            long? best = null;
            foreach (var i in _instances)
                if (i.TryGetEarliestTimer(out long due, out _) && (best is null || due < best)) best = due;
            foreach (var s in _scripts.Values)
                if (s.NextDue is { } d && (best is null || d < best)) best = d;
            return best;
        }
    }

    /// <summary>The started Backup whose Master_Down timer runs out first, and when; null when none is running.</summary>
    public (VrrpInstance Instance, long Due)? NextMasterDown
    {
        get
        {
            (VrrpInstance, long)? best = null;
            foreach (var i in _instances)
                if (i.IsStarted && i.MasterDownTimerDue is { } d && (best is null || d < best.Value.Item2)) best = (i, d);
            return best;
        }
    }

    /// <summary>Fires every deadline that is due now, earliest first.</summary>
    public void RunDueTimers()
    {
        for (int guard = 0; guard < 100_000; guard++)
        {
            long now = Clock.NowMicroseconds;
            long bestDue = long.MaxValue;
            VrrpInstance? bestInst = null;
            int bestKind = -1;
            ScriptState? bestScript = null;
            foreach (var i in _instances)
                if (i.TryGetEarliestTimer(out long due, out int kind) && due < bestDue) { bestDue = due; bestInst = i; bestKind = kind; bestScript = null; }
            foreach (var s in _scripts.Values)
                if (s.NextDue is { } d && d < bestDue) { bestDue = d; bestScript = s; bestInst = null; }
            if (bestDue > now) return;

            if (bestScript is not null)
            {
                bestScript.NextDue = now + Math.Max(1, bestScript.Script.Interval.Ticks / 10);
                if (!bestScript.Running)
                {
                    bestScript.Running = true;
                    Actions.RunTrackScript(bestScript.Script);
                }
            }
            else if (bestKind == 1)
            {
                bestInst!.ClearMasterDown();
                TryBecomeMaster(bestInst, VrrpTransitionReason.MasterDown);
            }
            else
            {
                bestInst!.FireTimer(bestKind);
            }
        }
    }

    // ---- internals -----------------------------------------------------------------------

    internal void OnStateChanged(VrrpStateChange change)
    {
        Actions.StateChanged(change);
        StateChanged?.Invoke(this, change);
    }

    private IEnumerable<VrrpInstance> GroupOf(VrrpInstance inst)
        => inst.Config.SyncGroup is { } g ? _instances.Where(i => i.Config.SyncGroup == g) : new[] { inst };

    /// <summary>
    /// keepalived's sync-group rule: a member goes to Master only when the group is already Master or every
    /// other member wants Master too (their down timers ran out); then the whole group goes. Otherwise the
    /// member waits another Master_Down_Interval in Backup.
    /// </summary>
    private void TryBecomeMaster(VrrpInstance inst, VrrpTransitionReason reason)
    {
        inst.WantsMaster = true;
        var others = GroupOf(inst).Where(m => m != inst && m.IsStarted).ToList();
        bool groupMaster = others.Any(m => m.State == VrrpState.Master);
        if (others.Count > 0 && !groupMaster && !others.All(m => m.WantsMaster))
        {
            if (inst.State != VrrpState.Backup) inst.EnterBackup(reason);
            inst.WantsMaster = true;
            inst.RearmMasterDown();
            return;
        }
        inst.BecomeMaster(reason);
        foreach (var m in others)
            if (m.State == VrrpState.Backup) m.BecomeMaster(VrrpTransitionReason.SyncGroup);
    }

    private void UpdateTracking(VrrpInstance inst)
    {
        var faults = new List<string>();
        if (!IsUp(inst.Config.InterfaceName)) faults.Add($"interface {inst.Config.InterfaceName} is down");
        int total = inst.BasePriority;
        foreach (var t in inst.Config.TrackInterfaces)
        {
            bool up = IsUp(t.InterfaceName);
            if (t.Weight == 0) { if (!up) faults.Add($"tracked interface {t.InterfaceName} is down"); }
            else if (t.Weight > 0 && up) total += t.Weight;
            else if (t.Weight < 0 && !up) total += t.Weight;
        }
        foreach (var t in inst.Config.TrackScripts)
        {
            bool up = _scripts.TryGetValue(t.Name, out var s) && s.Up;
            if (t.Weight == 0) { if (!up) faults.Add($"tracked script {t.Name} failed"); }
            else if (t.Weight > 0 && up) total += t.Weight;
            else if (t.Weight < 0 && !up) total += t.Weight;
        }
        // A new list each time, never changed after: readers on other threads may keep the reference.
        inst.FaultReasons = faults.Count == 0 ? Array.Empty<string>() : faults.ToArray();
        inst.SetEffectivePriority(inst.BasePriority == 255 ? 255 : Math.Clamp(total, 1, 254));
    }

    /// <summary>Recomputes priorities and faults; moves instances (and their sync groups) into and out of Fault.</summary>
    private void Reevaluate()
    {
        foreach (var i in _instances) UpdateTracking(i);
        var done = new HashSet<VrrpInstance>();
        foreach (var i in _instances.ToList())
        {
            if (!done.Add(i)) continue;
            var group = GroupOf(i).Where(m => m.IsStarted).ToList();
            foreach (var m in group) done.Add(m);
            bool fault = group.Any(m => m.FaultReasons.Count > 0);
            if (fault)
            {
                foreach (var m in group)
                    if (m.State != VrrpState.Fault)
                        m.EnterFault(m.FaultReasons.Count > 0 ? VrrpTransitionReason.Fault : VrrpTransitionReason.SyncGroup);
            }
            else
            {
                var leaving = group.Where(m => m.State == VrrpState.Fault).ToList();
                foreach (var m in leaving)
                {
                    m.ResetMasterAdverInterval();
                    m.EnterBackup(VrrpTransitionReason.FaultCleared);
                }
                foreach (var m in leaving)
                    if (m.State == VrrpState.Backup && m.IsAddressOwner) TryBecomeMaster(m, VrrpTransitionReason.AddressOwner);
            }
        }
    }

    private bool IsUp(string interfaceName)
    {
        if (_interfaceUp.TryGetValue(interfaceName, out var up)) return up;
        return _interfaces?.Find(interfaceName)?.IsUp ?? true;
    }

    private VrrpInstance? ClaimFromDatagram(string interfaceName, ReadOnlySpan<byte> datagram)
    {
        if (datagram.Length < 20 || datagram[0] >> 4 != 4) return null;
        int ihl = (datagram[0] & 0x0f) * 4;
        if (ihl < 20 || datagram.Length < ihl + 2 || datagram[9] != VrrpCodec.ProtocolNumber) return null;
        byte vrid = datagram[ihl + 1];
        return _instances.FirstOrDefault(i => i.IsStarted && i.Config.InterfaceName == interfaceName &&
                                              i.Config.AddressFamily == AddressFamily.InterNetwork && i.Config.VirtualRouterId == vrid);
    }

    private sealed class ScriptState
    {
        public ScriptState(VrrpTrackScript script)
        {
            Script = script;
            Up = !script.InitiallyFailed;
        }

        public VrrpTrackScript Script { get; }
        public bool Up { get; private set; }
        public int Count { get; private set; }
        public long? NextDue { get; set; }
        public bool Running { get; set; }

        /// <summary>Rise/fall: <c>Fall</c> consecutive failures take it down, <c>Rise</c> consecutive successes bring it up. True when the state changed.</summary>
        public bool Record(bool success)
        {
            if (success == Up) { Count = 0; return false; }
            Count++;
            if (Count < (success ? Script.Rise : Script.Fall)) return false;
            Up = success;
            Count = 0;
            return true;
        }
    }
}
