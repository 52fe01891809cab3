using System.Management.Automation;
using HaPowerShell.Core.Ipvs;
using HaPowerShell.Core.Keepalived;

namespace HaPowerShell.Commands.Keepalived;

/// <summary>What ConvertFrom-KeepalivedConfig writes.</summary>
public enum KeepalivedSection
{
    /// <summary>The whole configuration, one object.</summary>
    Configuration,
    /// <summary>global_defs.</summary>
    Global,
    /// <summary>vrrp_instance objects (pipe into Start-VrrpInstance).</summary>
    VrrpInstance,
    /// <summary>vrrp_sync_group objects.</summary>
    VrrpSyncGroup,
    /// <summary>vrrp_script objects.</summary>
    VrrpScript,
    /// <summary>virtual_server objects (pipe into New-IpvsService).</summary>
    VirtualServer,
    /// <summary>virtual_server_group objects.</summary>
    VirtualServerGroup,
    /// <summary>real_server objects with their checkers (pipe into Add-IpvsRealServer, Start-IpvsHealthCheck).</summary>
    RealServer,
    /// <summary>The IPVS services the virtual servers make, with their real servers (pipe into Sync-IpvsConfig).</summary>
    IpvsService,
    /// <summary>track_file objects.</summary>
    TrackFile,
    /// <summary>vrrp_track_process objects.</summary>
    TrackProcess,
    /// <summary>bfd_instance objects.</summary>
    BfdInstance,
    /// <summary>static_ipaddress, static_routes and static_rules lines.</summary>
    Static,
}

/// <summary>
/// ConvertFrom-KeepalivedConfig: reads keepalived.conf into objects (every section, keepalived's defaults
/// applied, each object with its file and line) that pipe into the module's cmdlets.
/// </summary>
[Cmdlet(VerbsData.ConvertFrom, "KeepalivedConfig", DefaultParameterSetName = "Path")]
[OutputType(typeof(KeepalivedConfiguration), typeof(KeepalivedGlobalSettings), typeof(KeepalivedVrrpInstance), typeof(KeepalivedVrrpSyncGroup),
    typeof(KeepalivedVrrpScript), typeof(KeepalivedVirtualServer), typeof(KeepalivedVirtualServerGroup), typeof(KeepalivedRealServer),
    typeof(IpvsService), typeof(KeepalivedTrackFile), typeof(KeepalivedTrackProcess), typeof(KeepalivedBfdInstance), typeof(KeepalivedTextLine))]
public sealed class ConvertFromKeepalivedConfigCommand : KeepalivedCmdlet
{
    /// <summary>Which objects to write; default the configuration.</summary>
    [Parameter(Position = 1)]
    public KeepalivedSection Section { get; set; } = KeepalivedSection.Configuration;

    protected override void ProcessRecord()
    {
        foreach (var path in ResolvedPaths())
        {
            var result = Parse(path, checkEnvironment: false);
            if (result is null) continue;
            foreach (var f in result.Findings.Where(f => f.Severity == KeepalivedSeverity.Error))
                WriteWarning($"keepalived -t reports {f}");
            var c = result.Configuration;
            c.Findings = result.Findings;
            switch (Section)
            {
                case KeepalivedSection.Configuration: WriteObject(c); break;
                case KeepalivedSection.Global: WriteObject(c.Global); break;
                case KeepalivedSection.VrrpInstance: WriteObject(c.VrrpInstances, true); break;
                case KeepalivedSection.VrrpSyncGroup: WriteObject(c.VrrpSyncGroups, true); break;
                case KeepalivedSection.VrrpScript: WriteObject(c.VrrpScripts, true); break;
                case KeepalivedSection.VirtualServer: WriteObject(c.VirtualServers, true); break;
                case KeepalivedSection.VirtualServerGroup: WriteObject(c.VirtualServerGroups, true); break;
                case KeepalivedSection.RealServer: WriteObject(c.RealServers, true); break;
                case KeepalivedSection.IpvsService: WriteObject(c.ToIpvsServices(), true); break;
                case KeepalivedSection.TrackFile: WriteObject(c.TrackFiles, true); break;
                case KeepalivedSection.TrackProcess: WriteObject(c.TrackProcesses, true); break;
                case KeepalivedSection.BfdInstance: WriteObject(c.BfdInstances, true); break;
                case KeepalivedSection.Static:
                    WriteObject(c.StaticAddresses.Concat(c.StaticRoutes).Concat(c.StaticRules), true);
                    break;
            }
        }
    }
}
