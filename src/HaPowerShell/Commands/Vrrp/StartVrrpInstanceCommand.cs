using System.Collections;
using System.Globalization;
using System.Management.Automation;
using System.Net;
using System.Net.Sockets;
using HaPowerShell.Completers;
using HaPowerShell.Core.Vrrp;
using HaPowerShell.Core.Vrrp.Hosting;

namespace HaPowerShell.Commands.Vrrp;

/// <summary>
/// Start-VrrpInstance: runs one VRRP instance (keepalived's vrrp_instance) in this process, on the
/// shared engine thread, and returns its live view.
/// </summary>
[Cmdlet(VerbsLifecycle.Start, "VrrpInstance", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(VrrpRunningInstance))]
public sealed class StartVrrpInstanceCommand : VrrpCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(InterfaceNameCompleter))]
    [ValidateNotNullOrEmpty]
    public string InterfaceName { get; set; } = "";

    [Parameter(Mandatory = true, Position = 1, ValueFromPipelineByPropertyName = true)]
    [Alias("VRID")]
    [StrictNumber(typeof(int))]
    public int VirtualRouterId { get; set; }

    [Parameter(Mandatory = true, Position = 2, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string[] VirtualIPAddress { get; set; } = Array.Empty<string>();

    [Parameter(ValueFromPipelineByPropertyName = true)]
    public string? Name { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true)]
    [StrictNumber(typeof(int))]
    public int Priority { get; set; } = 100;

    [Parameter(ValueFromPipelineByPropertyName = true)]
    [StrictNumber(typeof(double))]
    public double AdvertisementInterval { get; set; } = 1;

    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateSet("2", "3")]
    [StrictNumber(typeof(int))]
    public int Version { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true)]
    public SwitchParameter NoPreempt { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true)]
    [StrictNumber(typeof(double))]
    public double PreemptDelay { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true)]
    public string? AuthenticationPassword { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true)]
    [IPAddressTransformation]
    public string[]? UnicastPeer { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true)]
    [IPAddressTransformation]
    public string? SourceAddress { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true)]
    public string[]? TrackInterface { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true)]
    public object[]? TrackScript { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true)]
    public string? NotifyScript { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true)]
    public string? NotifyMaster { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true)]
    public string? NotifyBackup { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true)]
    public string? NotifyFault { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true)]
    public string? NotifyStop { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true)]
    [StrictNumber(typeof(double))]
    public double GarpMasterDelay { get; set; } = 5;

    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateRange(1, 255)]
    [StrictNumber(typeof(int))]
    public int GarpMasterRepeat { get; set; } = 5;

    [Parameter(ValueFromPipelineByPropertyName = true)]
    [StrictNumber(typeof(double))]
    public double GarpMasterRefresh { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateRange(1, 255)]
    [StrictNumber(typeof(int))]
    public int GarpMasterRefreshRepeat { get; set; } = 1;

    [Parameter(ValueFromPipelineByPropertyName = true)]
    [StrictNumber(typeof(double))]
    public double GarpInterval { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string? SyncGroup { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true)]
    public SwitchParameter NoAccept { get; set; }

    /// <summary>Nice value of the engine thread (keepalived's vrrp_priority); it runs every instance of the session.</summary>
    [Parameter]
    public int? EnginePriority { get; set; }

    /// <summary>SCHED_RR priority of the engine thread (keepalived's vrrp_rt_priority); it runs every instance of the session.</summary>
    [Parameter]
    public int? EngineRealtimePriority { get; set; }

    protected override void ProcessRecord()
    {
        VrrpInstanceConfig config;
        try
        {
            config = BuildConfig();
        }
        catch (VrrpConfigurationException e)
        {
            WriteVrrpFailure(e, InterfaceName);
            return;
        }

        // Validate everything (interface names included) before anything starts.
        var lookup = new RtnlVrrpInterfaceLookup(KernelSession.Rtnl);
        IReadOnlyList<VrrpConfigError> errors;
        try { errors = config.Validate(lookup); }
        catch (Exception e) { WriteFailure(e, config); return; }
        VrrpEngineScheduling? scheduling = null;
        if (EnginePriority is not null || EngineRealtimePriority is not null)
        {
            scheduling = new VrrpEngineScheduling { Nice = EnginePriority, RealtimePriority = EngineRealtimePriority };
            if (scheduling.Validate() is { } bad) errors = errors.Append(bad).ToList();
        }
        if (errors.Count > 0)
        {
            WriteVrrpFailure(new VrrpConfigurationException(errors), config);
            return;
        }
        string target = $"VRRP instance '{config.EffectiveName}' (VRID {config.VirtualRouterId} on {config.InterfaceName}, " +
                        $"priority {config.Priority}, {string.Join(", ", config.VirtualAddresses.Select(v => v.ToString()))})" +
                        (scheduling is null ? "" : $", engine thread {scheduling}");
        if (!ShouldProcess(target, "Start")) return;
        try
        {
            var host = VrrpHost.Shared;
            ForwardEvents(host);
            WriteObject(host.Start(config, scheduling));
        }
        catch (Exception e)
        {
            WriteVrrpFailure(e, config);
        }
    }

    private VrrpInstanceConfig BuildConfig()
    {
        var errors = new List<VrrpConfigError>();
        var vips = new List<VrrpVirtualAddress>();
        foreach (var text in VirtualIPAddress)
        {
            // keepalived's form: "192.0.2.10/24" or "192.0.2.10/24 label eth0:1".
            var parts = (text ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries);
            string? label = parts.Length == 3 && parts[1] == "label" ? parts[2] : null;
            if ((parts.Length != 1 && label is null) || !VrrpVirtualAddress.TryParse(parts.FirstOrDefault(), out var v, label))
                errors.Add(new("VrrpVirtualAddressInvalid", $"'{text}' is not an address, address/prefix or 'address/prefix label name'.", "VirtualIPAddress"));
            else vips.Add(v!);
        }
        var peers = new List<IPAddress>();
        foreach (var p in UnicastPeer ?? Array.Empty<string>())
        {
            if (IPAddress.TryParse(p, out var a)) peers.Add(a);
            else errors.Add(new("VrrpUnicastPeerInvalid", $"Unicast peer '{p}' is not an IP address.", "UnicastPeer"));
        }
        IPAddress? source = null;
        if (!string.IsNullOrEmpty(SourceAddress) && !IPAddress.TryParse(SourceAddress, out source))
            errors.Add(new("VrrpSourceAddressInvalid", $"Source address '{SourceAddress}' is not an IP address.", "SourceAddress"));

        var tracks = new List<VrrpTrackInterface>();
        foreach (var t in TrackInterface ?? Array.Empty<string>())
        {
            // keepalived's form: "eth1" or "eth1 weight -20".
            var parts = (t ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length == 1) tracks.Add(new VrrpTrackInterface(parts[0]));
            else if (parts.Length == 3 && parts[1] == "weight" && int.TryParse(parts[2], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int w))
                tracks.Add(new VrrpTrackInterface(parts[0], w));
            else errors.Add(new("VrrpTrackInterfaceInvalid", $"Tracked interface '{t}' must be 'name' or 'name weight N'.", "TrackInterface"));
        }
        var scripts = new List<VrrpTrackScript>();
        int n = 0;
        foreach (var o in TrackScript ?? Array.Empty<object>())
        {
            n++;
            var value = o is PSObject pso ? pso.BaseObject : o;
            try
            {
                scripts.Add(value switch
                {
                    VrrpTrackScript s => s,
                    string s => new VrrpTrackScript($"script{n}", s),
                    IDictionary d => FromDictionary(d, n),
                    _ => throw new FormatException($"a {value?.GetType().Name ?? "null"}"),
                });
            }
            catch (Exception e) when (e is FormatException or InvalidCastException or OverflowException)
            {
                errors.Add(new("VrrpTrackScriptInvalid",
                    $"Tracked script {n} is not usable ({e.Message}); give a command line or @{{ Name = 'chk'; Script = '...'; Interval = 2; Timeout = 1; Weight = -20; Rise = 1; Fall = 2 }}.",
                    "TrackScript"));
            }
        }

        bool v6 = vips.Count > 0 && vips[0].Address.AddressFamily == AddressFamily.InterNetworkV6;
        var version = Version == 0 ? (v6 ? VrrpVersion.V3 : VrrpVersion.V2) : (VrrpVersion)Version;
        if (double.IsNaN(AdvertisementInterval) || AdvertisementInterval <= 0 || AdvertisementInterval > 255)
            errors.Add(new("VrrpAdvertisementIntervalInvalid", $"AdvertisementInterval {AdvertisementInterval} s is outside 0.01-255 seconds.", "AdvertisementInterval"));
        if (double.IsNaN(PreemptDelay) || PreemptDelay < 0 || PreemptDelay > 1000)
            errors.Add(new("VrrpPreemptDelayOutOfRange", "PreemptDelay must be between 0 and 1000 seconds.", "PreemptDelay"));
        if (double.IsNaN(GarpMasterDelay) || GarpMasterDelay < 0 || GarpMasterDelay > 3600)
            errors.Add(new("VrrpGarpSettingInvalid", "GarpMasterDelay must be between 0 and 3600 seconds.", "GarpMasterDelay"));
        if (double.IsNaN(GarpMasterRefresh) || GarpMasterRefresh < 0 || GarpMasterRefresh > 86400)
            errors.Add(new("VrrpGarpSettingInvalid", "GarpMasterRefresh must be between 0 (no refresh) and 86400 seconds.", "GarpMasterRefresh"));
        if (double.IsNaN(GarpInterval) || GarpInterval < 0 || GarpInterval > 1)
            errors.Add(new("VrrpGarpSettingInvalid", "GarpInterval must be between 0 and 1 second (the pause between gratuitous ARPs of one burst).", "GarpInterval"));
        if (errors.Count > 0) throw new VrrpConfigurationException(errors);

        return new VrrpInstanceConfig
        {
            Name = string.IsNullOrEmpty(Name) ? null : Name,
            InterfaceName = InterfaceName,
            VirtualRouterId = VirtualRouterId,
            Priority = Priority,
            Version = version,
            AdvertisementInterval = TimeSpan.FromTicks((long)Math.Round(AdvertisementInterval * 1000) * TimeSpan.TicksPerMillisecond),
            AuthenticationPassword = string.IsNullOrEmpty(AuthenticationPassword) ? null : AuthenticationPassword,
            VirtualAddresses = vips,
            UnicastPeers = peers,
            SourceAddress = source,
            NoPreempt = NoPreempt,
            PreemptDelay = Seconds(PreemptDelay),
            TrackInterfaces = tracks,
            TrackScripts = scripts,
            NotifyScript = NullIfEmpty(NotifyScript),
            NotifyMaster = NullIfEmpty(NotifyMaster),
            NotifyBackup = NullIfEmpty(NotifyBackup),
            NotifyFault = NullIfEmpty(NotifyFault),
            NotifyStop = NullIfEmpty(NotifyStop),
            Garp = new VrrpGarpSettings
            {
                Delay = Seconds(GarpMasterDelay),
                Repeat = GarpMasterRepeat,
                Refresh = Seconds(GarpMasterRefresh),
                RefreshRepeat = GarpMasterRefreshRepeat,
                Interval = Seconds(GarpInterval),
            },
            SyncGroup = SyncGroup,
            AcceptMode = !NoAccept,
        };
    }

    private static string? NullIfEmpty(string? s) => string.IsNullOrWhiteSpace(s) ? null : s;

    private static TimeSpan Seconds(double s) => TimeSpan.FromMilliseconds(Math.Round(s * 1000));

    private static VrrpTrackScript FromDictionary(IDictionary d, int n)
    {
        object? Get(string key)
        {
            foreach (DictionaryEntry e in d)
                if (string.Equals(e.Key?.ToString(), key, StringComparison.OrdinalIgnoreCase))
                    return e.Value is PSObject p ? p.BaseObject : e.Value;
            return null;
        }
        string command = Get("Script")?.ToString() ?? Get("Command")?.ToString() ?? throw new FormatException("no Script");
        string name = Get("Name")?.ToString() ?? $"script{n}";
        TimeSpan Seconds(string key, double dflt) => TimeSpan.FromMilliseconds(Math.Round(Convert.ToDouble(Get(key) ?? dflt, CultureInfo.InvariantCulture) * 1000));
        int Int(string key, int dflt) => Convert.ToInt32(Get(key) ?? dflt, CultureInfo.InvariantCulture);
        return new VrrpTrackScript(name, command)
        {
            Interval = Seconds("Interval", 1),
            Timeout = Seconds("Timeout", 1),
            Weight = Int("Weight", 0),
            Rise = Int("Rise", 1),
            Fall = Int("Fall", 1),
        };
    }
}
