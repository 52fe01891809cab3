using System.Net;

namespace HaPowerShell.Core.Vrrp;

/// <summary>
/// One virtual router: the RFC 3768 §6.3-6.4 / RFC 5798 §6.4 state machine plus keepalived's Fault
/// state, tracking, GARP schedule and preempt delay. It has no timers or threads of its own: timers are
/// absolute deadlines (microseconds on the engine's clock) that <see cref="VrrpEngine.RunDueTimers"/>
/// fires. Create instances with <see cref="VrrpEngine.Add"/>; every call goes through the engine, from
/// one thread at a time.
/// </summary>
public sealed class VrrpInstance
{
    private readonly VrrpEngine _engine;

    internal VrrpInstance(VrrpEngine engine, VrrpInstanceConfig config, IPAddress primaryAddress)
    {
        _engine = engine;
        Config = config;
        PrimaryAddress = primaryAddress;
        BasePriority = config.Priority;
        EffectivePriority = config.Priority;
        MasterAdverIntervalMicroseconds = config.AdvertisementIntervalMicroseconds;
        AuthData = VrrpCodec.PasswordToAuthData(config.AuthenticationPassword);
    }

    public VrrpInstanceConfig Config { get; private set; }
    public string Name => Config.EffectiveName;
    public VrrpState State { get; private set; } = VrrpState.Initialize;
    public bool IsStarted { get; private set; }

    /// <summary>The configured priority (changed by <see cref="VrrpEngine.SetPriority"/>).</summary>
    public int BasePriority { get; internal set; }

    /// <summary>The priority in use: base plus tracker weights, clamped to 1-254; 255 for the owner.</summary>
    public int EffectivePriority { get; private set; }

    /// <summary>The address this router advertises from and compares on equal priority.</summary>
    public IPAddress PrimaryAddress { get; }

    public bool IsAddressOwner => EffectivePriority == 255;

    public long AdvertisementIntervalMicroseconds => Config.AdvertisementIntervalMicroseconds;

    /// <summary>v3: the interval learned from the current master (RFC 5798 §6.1); v2: the configured interval.</summary>
    public long MasterAdverIntervalMicroseconds { get; private set; }

    public long SkewTimeMicroseconds => VrrpTiming.SkewTime(Config.Version, EffectivePriority, MasterAdverIntervalMicroseconds);

    public long MasterDownIntervalMicroseconds => VrrpTiming.MasterDownInterval(Config.Version, EffectivePriority, MasterAdverIntervalMicroseconds);

    /// <summary>When the next advert is due (Master), else null.</summary>
    public long? AdverTimerDue { get; private set; }

    /// <summary>When this backup declares the master dead (Backup), else null.</summary>
    public long? MasterDownTimerDue { get; private set; }

    public long? GarpDelayedDue { get; private set; }
    public long? GarpRefreshDue { get; private set; }

    /// <summary>Preempt delay running: lower-priority adverts are accepted until this time.</summary>
    public long? PreemptDelayUntil { get; private set; }

    /// <summary>The last master heard (or ourselves when Master).</summary>
    public IPAddress? MasterAddress { get; private set; }
    public int? MasterPriority { get; private set; }

    /// <summary>keepalived's wantstate == MASTER, used by sync groups: this member's down timer expired.</summary>
    public bool WantsMaster { get; internal set; }

    /// <summary>Why this instance is (or would be) in Fault; empty when healthy.</summary>
    public IReadOnlyList<string> FaultReasons { get; internal set; } = Array.Empty<string>();

    /// <summary>True while Master with every virtual address in place (false when the kernel refused one: the host reports why).</summary>
    public bool VirtualAddressesInstalled { get; private set; }

    // Addresses were added (some may have failed): they are removed when the instance leaves Master.
    private bool _addressesAdded;

    public VrrpCounters Counters { get; } = new();

    internal byte[] AuthData { get; private set; }
    internal long? LastTransitionAt { get; private set; }

    private long Now => _engine.Clock.NowMicroseconds;
    private IVrrpActions Actions => _engine.Actions;

    // ---- priority ------------------------------------------------------------------------

    /// <summary>Sets the effective priority; a running Master_Down_Timer moves by the change of Master_Down_Interval (as keepalived does).</summary>
    internal void SetEffectivePriority(int priority)
    {
        if (priority == EffectivePriority) return;
        long oldDown = MasterDownIntervalMicroseconds;
        EffectivePriority = priority;
        if (State == VrrpState.Backup && MasterDownTimerDue is { } due)
            MasterDownTimerDue = due + (MasterDownIntervalMicroseconds - oldDown);
    }

    // ---- transitions ---------------------------------------------------------------------

    internal void MarkStarted() { IsStarted = true; State = VrrpState.Initialize; }

    internal void EnterBackup(VrrpTransitionReason reason)
    {
        var from = State;
        State = VrrpState.Backup;
        WantsMaster = false;
        AdverTimerDue = null;
        MasterDownTimerDue = Now + MasterDownIntervalMicroseconds;
        Raise(from, reason);
    }

    /// <summary>Backup (or Initialize) → Master: advert, VIPs, GARP burst and its schedule.</summary>
    internal void BecomeMaster(VrrpTransitionReason reason)
    {
        var from = State;
        long now = Now;
        State = VrrpState.Master;
        WantsMaster = true;
        MasterAdverIntervalMicroseconds = AdvertisementIntervalMicroseconds;
        MasterDownTimerDue = null;
        PreemptDelayUntil = null;
        MasterAddress = PrimaryAddress;
        MasterPriority = EffectivePriority;
        Counters.BecameMaster++;
        SendAdvertisement(EffectivePriority);
        AdverTimerDue = now + AdvertisementIntervalMicroseconds;
        VirtualAddressesInstalled = Actions.AddVirtualAddresses(this, Config.VirtualAddresses);
        _addressesAdded = true;
        SendGarp(Config.Garp.Repeat, VrrpGarpKind.BecameMaster);
        long delay = Config.Garp.Delay.Ticks / 10;
        long refresh = Config.Garp.Refresh.Ticks / 10;
        GarpDelayedDue = delay > 0 ? now + delay : null;
        GarpRefreshDue = refresh > 0 ? now + delay + refresh : null;
        Raise(from, reason);
    }

    /// <summary>Master → Backup on a better advert (or with its sync group).</summary>
    internal void LeaveMasterToBackup(VrrpTransitionReason reason, long? learnedIntervalMicroseconds)
    {
        ReleaseMaster(sendPriorityZero: false);
        MasterAdverIntervalMicroseconds = learnedIntervalMicroseconds ?? AdvertisementIntervalMicroseconds;
        EnterBackup(reason);
    }

    internal void EnterFault(VrrpTransitionReason reason)
    {
        var from = State;
        if (State == VrrpState.Master) ReleaseMaster(sendPriorityZero: true);
        State = VrrpState.Fault;
        WantsMaster = false;
        AdverTimerDue = null;
        MasterDownTimerDue = null;
        PreemptDelayUntil = null;
        Raise(from, reason);
    }

    internal void Stop()
    {
        var from = State;
        if (State == VrrpState.Master) ReleaseMaster(sendPriorityZero: true);
        AdverTimerDue = MasterDownTimerDue = GarpDelayedDue = GarpRefreshDue = PreemptDelayUntil = null;
        WantsMaster = false;
        State = VrrpState.Initialize;
        IsStarted = false;
        MasterAdverIntervalMicroseconds = AdvertisementIntervalMicroseconds;
        Raise(from, VrrpTransitionReason.Stop);
    }

    internal void ResetMasterAdverInterval() => MasterAdverIntervalMicroseconds = AdvertisementIntervalMicroseconds;

    /// <summary>
    /// Takes <paramref name="config"/> in place (<see cref="VrrpReconfigurePlan.InPlaceFields"/> only: the engine
    /// checked that nothing else differs) and keeps the state: a Master stays Master with no advert missed, keeps
    /// the virtual addresses both configurations have, adds the new ones (announcing them once) and removes the
    /// dropped ones; its next advert carries the new priority and address list. Priorities and faults are then
    /// re-evaluated by the engine.
    /// </summary>
    internal void Reconfigure(VrrpInstanceConfig config)
    {
        var old = Config;
        Config = config;
        BasePriority = config.Priority;
        AuthData = VrrpCodec.PasswordToAuthData(config.AuthenticationPassword);
        if (State != VrrpState.Master) return;
        long now = Now;
        var removed = old.VirtualAddresses.Where(v => !config.VirtualAddresses.Contains(v)).ToList();
        var added = config.VirtualAddresses.Where(v => !old.VirtualAddresses.Contains(v)).ToList();
        if (removed.Count > 0 && _addressesAdded) Actions.RemoveVirtualAddresses(this, removed);
        if (added.Count > 0)
        {
            bool all = Actions.AddVirtualAddresses(this, added);
            VirtualAddressesInstalled = all && (VirtualAddressesInstalled || !_addressesAdded);
            _addressesAdded = true;
            SendGarp(1, VrrpGarpKind.Refresh);
        }
        if (old.Garp != config.Garp)
        {
            if (config.Garp.Delay <= TimeSpan.Zero) GarpDelayedDue = null;
            long refresh = config.Garp.Refresh.Ticks / 10;
            GarpRefreshDue = refresh > 0 ? now + refresh : null;
        }
    }

    internal void RearmMasterDown() => MasterDownTimerDue = Now + MasterDownIntervalMicroseconds;

    /// <summary>Makes the Master_Down_Timer expire now (a Backup started with <see cref="VrrpInstanceConfig.StartAsMaster"/>).</summary>
    internal void ExpireMasterDown() => MasterDownTimerDue = Now;

    private void ReleaseMaster(bool sendPriorityZero)
    {
        if (sendPriorityZero) SendAdvertisement(0);
        AdverTimerDue = null;
        GarpDelayedDue = GarpRefreshDue = null;
        if (_addressesAdded)
        {
            IsLeavingMaster = true;
            try { Actions.RemoveVirtualAddresses(this, Config.VirtualAddresses); }
            finally { IsLeavingMaster = false; }
            VirtualAddressesInstalled = false;
            _addressesAdded = false;
        }
        Counters.ReleasedMaster++;
    }

    /// <summary>True while a Master that is leaving removes its addresses (a reconfiguration that drops some of them is not leaving).</summary>
    public bool IsLeavingMaster { get; private set; }

    // ---- received adverts (RFC 5798 §6.4.2 / §6.4.3) --------------------------------------

    /// <summary>A validated advert from <paramref name="source"/>. Returns true when this instance left Master because of it.</summary>
    internal bool OnAdvertisement(VrrpAdvertisement adv, IPAddress source, long? arrivedAt = null)
    {
        // The advert's own time: its arrival when the host knows it (never later than now), else now.
        long now = Now;
        if (arrivedAt is { } t && t <= now) now = t;
        if (adv.Priority == 0) Counters.PriorityZeroReceived++;
        switch (State)
        {
            case VrrpState.Backup:
                if (adv.Priority == 0)
                {
                    // The master is stopping: take over after Skew_Time.
                    MasterDownTimerDue = now + SkewTimeMicroseconds;
                }
                else if (Config.NoPreempt || adv.Priority >= EffectivePriority ||
                         (Config.PreemptDelay > TimeSpan.Zero && (PreemptDelayUntil is null || PreemptDelayUntil > now)))
                {
                    if (Config.Version == VrrpVersion.V3) MasterAdverIntervalMicroseconds = adv.IntervalMicroseconds;
                    MasterDownTimerDue = now + MasterDownIntervalMicroseconds;
                    MasterAddress = source;
                    MasterPriority = adv.Priority;
                    WantsMaster = false;
                    if (Config.PreemptDelay > TimeSpan.Zero)
                    {
                        if (adv.Priority >= EffectivePriority) PreemptDelayUntil = null;
                        else PreemptDelayUntil ??= now + Config.PreemptDelay.Ticks / 10;
                    }
                }
                // else: preempting — discard, and let the Master_Down_Timer run out.
                return false;

            case VrrpState.Master:
                if (adv.Priority == 0)
                {
                    // RFC 5798 §6.4.3: answer at once with an advert (and restart the Adver_Timer) — but at most
                    // once per advertisement interval per sender, so forged priority-0 adverts cannot make us flood.
                    // Judged on the clock as it is now, not on the advert's arrival: a queue of adverts that arrived
                    // before our last send must not each look unanswered.
                    if (MayAnswerPriorityZero(source, Now))
                    {
                        Counters.PriorityZeroAnswered++;
                        SendAdvertisement(EffectivePriority);
                        AdverTimerDue = now + AdvertisementIntervalMicroseconds;
                    }
                    else Counters.PriorityZeroIgnored++;
                    return false;
                }
                if (adv.Priority > EffectivePriority ||
                    (adv.Priority == EffectivePriority && VrrpPacketValidator.CompareAddresses(source, PrimaryAddress) > 0))
                {
                    MasterAddress = source;
                    MasterPriority = adv.Priority;
                    LeaveMasterToBackup(VrrpTransitionReason.HigherPriorityAdvertisement,
                        Config.Version == VrrpVersion.V3 ? adv.IntervalMicroseconds : null);
                    return true;
                }
                return false; // lower priority: discard

            default:
                return false; // Initialize / Fault: ignored
        }
    }

    /// <summary>Senders of priority-0 adverts remembered at once (the last time each was heard and answered).</summary>
    internal const int PriorityZeroSendersRemembered = 8;
    private readonly Dictionary<IPAddress, (long Heard, long Answered)> _priorityZeroSenders = new();
    private long? _lastAdvertSentAt;

    /// <summary>
    /// A priority-0 advert is answered at once when its sender has had no advert from us (an answer, or a
    /// regular advert) within the last advertisement interval; so a flood from one sender leaves the advert
    /// rate at one per interval. At most <see cref="PriorityZeroSendersRemembered"/> senders heard within the
    /// last interval are tracked; while they are all recent, a new sender is not answered either, so forged
    /// adverts from ever-new addresses get at most that many answers per interval.
    /// </summary>
    private bool MayAnswerPriorityZero(IPAddress source, long now)
    {
        long interval = AdvertisementIntervalMicroseconds;
        if (_priorityZeroSenders.TryGetValue(source, out var known))
        {
            long last = Math.Max(known.Answered, _lastAdvertSentAt ?? long.MinValue);
            bool recent = now - last < interval;
            _priorityZeroSenders[source] = (now, recent ? known.Answered : now);
            return !recent;
        }
        if (_priorityZeroSenders.Count >= PriorityZeroSendersRemembered)
        {
            foreach (var (sender, seen) in _priorityZeroSenders.ToList())
                if (now - seen.Heard >= interval) _priorityZeroSenders.Remove(sender);
            if (_priorityZeroSenders.Count >= PriorityZeroSendersRemembered) return false;
        }
        _priorityZeroSenders[source] = (now, now);
        return true;
    }

    // ---- timers ---------------------------------------------------------------------------

    /// <summary>
    /// This instance's earliest pending timer (kind 0 advert, 1 Master_Down, 2 delayed GARP, 3 GARP refresh; on equal
    /// deadlines the lower kind); false when none is pending. No allocation: the engine asks every instance on every turn.
    /// </summary>
    internal bool TryGetEarliestTimer(out long due, out int kind)
    {
        due = long.MaxValue;
        kind = -1;
        if (AdverTimerDue is { } a) { due = a; kind = 0; }
        if (MasterDownTimerDue is { } m && (kind < 0 || m < due)) { due = m; kind = 1; }
        if (GarpDelayedDue is { } g && (kind < 0 || g < due)) { due = g; kind = 2; }
        if (GarpRefreshDue is { } r && (kind < 0 || r < due)) { due = r; kind = 3; }
        return kind >= 0;
    }

    /// <summary>Fires one timer. Master_Down is handled by the engine (sync groups).</summary>
    internal void FireTimer(int kind)
    {
        long now = Now;
        switch (kind)
        {
            case 0:
                SendAdvertisement(EffectivePriority);
                AdverTimerDue = now + AdvertisementIntervalMicroseconds;
                break;
            case 2:
                GarpDelayedDue = null;
                SendGarp(Config.Garp.Repeat, VrrpGarpKind.Delayed);
                break;
            case 3:
                SendGarp(Config.Garp.RefreshRepeat, VrrpGarpKind.Refresh);
                GarpRefreshDue = now + Config.Garp.Refresh.Ticks / 10;
                break;
        }
    }

    internal void ClearMasterDown() => MasterDownTimerDue = null;

    // ---- output ----------------------------------------------------------------------------

    /// <summary>The advert this instance sends at <paramref name="priority"/> (checksum not yet filled in).</summary>
    public VrrpAdvertisement BuildAdvertisement(int priority) => new()
    {
        Version = Config.Version,
        AddressFamily = Config.AddressFamily,
        VirtualRouterId = (byte)Config.VirtualRouterId,
        Priority = (byte)priority,
        IntervalUnits = Config.AdvertisementIntervalUnits,
        AuthType = Config.Version == VrrpVersion.V2 && Config.AuthenticationPassword is not null ? VrrpAuthType.SimpleText : VrrpAuthType.None,
        AuthData = Config.Version == VrrpVersion.V2 ? AuthData : new byte[VrrpCodec.AuthDataLength],
        Addresses = Config.VirtualAddresses.Select(v => v.Address).ToArray(),
    };

    private IReadOnlyList<VrrpOutboundAdvertisement>? _encoded;
    private int _encodedPriority = -1;
    private VrrpInstanceConfig? _encodedFor;

    /// <summary>The adverts this instance sends at <paramref name="priority"/>: one per destination (the
    /// multicast group, or each unicast peer), encoded with their checksums. Nothing is sent. The last encoding is
    /// kept (the same configuration and priority give the same bytes), so a Master's adverts allocate nothing.</summary>
    internal IReadOnlyList<VrrpOutboundAdvertisement> EncodeAdvertisements(int priority)
    {
        if (_encoded is not null && _encodedPriority == priority && ReferenceEquals(_encodedFor, Config)) return _encoded;
        var adv = BuildAdvertisement(priority);
        IEnumerable<IPAddress> destinations = Config.IsUnicast ? Config.UnicastPeers : new[] { VrrpCodec.MulticastGroup(Config.AddressFamily) };
        var list = new List<VrrpOutboundAdvertisement>();
        foreach (var d in destinations)
        {
            var msg = VrrpCodec.Encode(adv, PrimaryAddress, d, Config.ChecksumMode);
            var withSum = adv with { Checksum = (ushort)(msg[6] << 8 | msg[7]) };
            list.Add(new VrrpOutboundAdvertisement(PrimaryAddress, d, !Config.IsUnicast, withSum, msg));
        }
        _encoded = list.ToArray();
        _encodedPriority = priority;
        _encodedFor = Config;
        return _encoded;
    }

    private void SendAdvertisement(int priority)
    {
        if (priority != 0) _lastAdvertSentAt = Now;
        var adverts = EncodeAdvertisements(priority);
        for (int k = 0; k < adverts.Count; k++)
        {
            Actions.SendAdvertisement(this, adverts[k]);
            Counters.AdvertisementsSent++;
            if (priority == 0) Counters.PriorityZeroSent++;
        }
    }

    private void SendGarp(int count, VrrpGarpKind kind)
    {
        Counters.GratuitousArpBursts++;
        Actions.SendGratuitousArp(this, count, kind);
    }

    private void Raise(VrrpState from, VrrpTransitionReason reason)
    {
        long now = Now;
        LastTransitionAt = now;
        if (from == State && reason != VrrpTransitionReason.Stop) return;
        var change = new VrrpStateChange(this, from, State, reason, now);
        string stateName = reason == VrrpTransitionReason.Stop ? "STOP" : State switch
        {
            VrrpState.Master => "MASTER",
            VrrpState.Backup => "BACKUP",
            VrrpState.Fault => "FAULT",
            _ => "",
        };
        if (stateName.Length > 0)
        {
            string? specific = stateName switch
            {
                "MASTER" => Config.NotifyMaster,
                "BACKUP" => Config.NotifyBackup,
                "FAULT" => Config.NotifyFault,
                _ => Config.NotifyStop,
            };
            var commands = new List<VrrpNotifyCommand>();
            var n = new VrrpNotification(Name, stateName, EffectivePriority, commands);
            if (!string.IsNullOrWhiteSpace(specific)) commands.Add(new VrrpNotifyCommand(specific!, Array.Empty<string>()));
            if (!string.IsNullOrWhiteSpace(Config.NotifyScript)) commands.Add(new VrrpNotifyCommand(Config.NotifyScript!, n.Arguments));
            Actions.RunNotify(this, n);
        }
        _engine.OnStateChanged(change);
    }

    public override string ToString() => $"{Name} VRID {Config.VirtualRouterId} on {Config.InterfaceName}: {State} (priority {EffectivePriority})";
}
