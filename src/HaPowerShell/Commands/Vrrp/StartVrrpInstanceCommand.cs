using System.Collections;
using System.Globalization;
using System.Management.Automation;
using System.Net;
using System.Net.Sockets;
using System.Security;
using HaPowerShell.Completers;
using HaPowerShell.Core.Vrrp;
using HaPowerShell.Hosting;
using HaPowerShell.Hosting.Vrrp;

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
    [Alias("InterfaceAlias")]
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

    /// <summary>The VRRPv2 PASS password (auth_pass), as a SecureString so it never sits in history or logs in clear.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [SecretTransformation]
    public SecureString? AuthenticationPassword { get; set; }

    /// <summary>The password as a credential (Get-Credential, SecretManagement's Get-Secret); the user name is not used.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [Credential]
    public PSCredential? AuthenticationCredential { get; set; }

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

    /// <summary>The sync group; null (an instance in none, as ConvertFrom-KeepalivedConfig's objects bind it) is none; an empty name is refused at binding.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [AllowNull]
    [NotEmptyWhenGiven]
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
            var host = ModuleHosts.Vrrp;
            ForwardEvents();
            WriteObject(host.Start(config, scheduling));
        }
        catch (Exception e)
        {
            WriteVrrpFailure(e, config);
        }
    }

    /// <summary>The configuration from the parameters, through Core's text forms and limits; every problem is collected before it throws.</summary>
    /// <summary>The password from -AuthenticationPassword or -AuthenticationCredential (both: an error); null for none or an empty one.</summary>
    private VrrpPassword? Password(List<VrrpConfigError> errors)
    {
        if (AuthenticationPassword is not null && AuthenticationCredential is not null)
        {
            errors.Add(new VrrpConfigError("VrrpAuthenticationGivenTwice", VrrpField.AuthenticationPassword,
                "Give the password once: {AuthenticationPassword} or -AuthenticationCredential, not both."));
            return null;
        }
        var secure = AuthenticationPassword ?? AuthenticationCredential?.Password;
        if (secure is null || secure.Length == 0) return null;
        return new VrrpPassword(new NetworkCredential(string.Empty, secure).Password);
    }

    private VrrpInstanceConfig BuildConfig()
    {
        var errors = new List<VrrpConfigError>();
        var password = Password(errors);
        var vips = VirtualIPAddress.Select((t, i) => VrrpTextForms.ParseVirtualAddress(t, i, errors)).OfType<VrrpVirtualAddress>().ToList();
        var peers = (UnicastPeer ?? Array.Empty<string>()).Select((p, i) => VrrpTextForms.ParseAddress(VrrpField.UnicastPeer, p, i, errors)).OfType<IPAddress>().ToList();
        var source = string.IsNullOrEmpty(SourceAddress) ? null : VrrpTextForms.ParseAddress(VrrpField.SourceAddress, SourceAddress, null, errors);
        var tracks = (TrackInterface ?? Array.Empty<string>()).Select((t, i) => VrrpTextForms.ParseTrackInterface(t, i, errors)).OfType<VrrpTrackInterface>().ToList();
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
                errors.Add(new VrrpConfigError("VrrpTrackScriptInvalid", VrrpField.TrackScript,
                    $"Tracked script {n} is not usable ({e.Message}); give a command line or @{{ Name = 'chk'; Script = '...'; Interval = 2; Timeout = 1; Weight = -20; Rise = 1; Fall = 2 }}.",
                    value?.ToString(), n - 1));
            }
        }
        var interval = VrrpTextForms.Seconds(VrrpField.AdvertisementInterval, AdvertisementInterval, errors);
        var preemptDelay = VrrpTextForms.Seconds(VrrpField.PreemptDelay, PreemptDelay, errors);
        var garpDelay = VrrpTextForms.Seconds(VrrpField.GarpDelay, GarpMasterDelay, errors);
        var garpRefresh = VrrpTextForms.Seconds(VrrpField.GarpRefresh, GarpMasterRefresh, errors);
        var garpInterval = VrrpTextForms.Seconds(VrrpField.GarpInterval, GarpInterval, errors);
        if (errors.Count > 0) throw new VrrpConfigurationException(errors);

        return new VrrpInstanceConfig
        {
            Name = string.IsNullOrEmpty(Name) ? null : Name,
            InterfaceName = InterfaceName,
            VirtualRouterId = VirtualRouterId,
            Priority = Priority,
            Version = Version == 0 ? VrrpTextForms.DefaultVersion(vips) : (VrrpVersion)Version,
            AdvertisementInterval = interval,
            AuthenticationPassword = password,
            VirtualAddresses = vips,
            UnicastPeers = peers,
            SourceAddress = source,
            NoPreempt = NoPreempt,
            PreemptDelay = preemptDelay,
            TrackInterfaces = tracks,
            TrackScripts = scripts,
            NotifyScript = NullIfEmpty(NotifyScript),
            NotifyMaster = NullIfEmpty(NotifyMaster),
            NotifyBackup = NullIfEmpty(NotifyBackup),
            NotifyFault = NullIfEmpty(NotifyFault),
            NotifyStop = NullIfEmpty(NotifyStop),
            Garp = new VrrpGarpSettings
            {
                Delay = garpDelay,
                Repeat = GarpMasterRepeat,
                Refresh = garpRefresh,
                RefreshRepeat = GarpMasterRefreshRepeat,
                Interval = garpInterval,
            },
            SyncGroup = SyncGroup,
            AcceptMode = !NoAccept,
        };
    }

    private static string? NullIfEmpty(string? s) => string.IsNullOrWhiteSpace(s) ? null : s;

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
        TimeSpan Seconds(string key, double dflt)
        {
            double v = Convert.ToDouble(Get(key) ?? dflt, CultureInfo.InvariantCulture);
            if (double.IsNaN(v) || v < 0 || v > 86400) throw new FormatException($"{key} {v} is not 0 to 86400 seconds");
            return TimeSpan.FromMilliseconds(Math.Round(v * 1000));
        }
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
