using System.Net;
using HaPowerShell.Core.Ipvs;
using HaPowerShell.Core.Keepalived;
using Xunit;
using static HaPowerShell.Tests.KeepalivedTestKit;

namespace HaPowerShell.Tests;

/// <summary>
/// The keyword tables, value checks and the checks after the read, against what keepalived 2.2.7 reports
/// (each expected message was observed with Debian's keepalived 2.2.7, <c>keepalived -t</c>, on the same text
/// with its interfaces present); and the model the parse gives.
/// </summary>
public class KeepalivedParserTests
{
    // The snippet of the project's seed: a virtual server for ipvsadm's DR service, with a typo on line 1.
    private const string SeedSnippet = """
        virtaul_server 10.0.0.10 80 {
          delay_loop 6
          lb_algo wrr
          lb_kind DR
          net_mask 255.255.255.0
          persistence_timeout 300
          protocol TCP
        #ipvsadm -A -t 10.0.0.10:80 -s wrr -p 300
          real_server 10.0.0.20 80 {
            weight 1
            TCP_CHECK {
              connect_timeout 8
              nb_get_retry 3
              delay_before_retry 3
              connect_port 90
            }
          }
          real_server 10.0.0.21 80 {
            weight 1
            TCP_CHECK {
              connect_timeout 8
              nb_get_retry 3
              delay_before_retry 3
              connect_port 90
            }
          }
        #ipvsadm -a -t 10.0.0.10:80 -r 10.0.0.20:80 -g -w 1
        #ipvsadm -a -t 10.0.0.10:80 -r 10.0.0.21:80 -g -w 1
        }
        """;

    [Fact]
    public void Seed_TypoReportedOnLine1_WithTheSuggestion()
    {
        var r = Parse(SeedSnippet);
        Assert.False(r.IsValid);
        var first = r.Findings.First();
        Assert.Equal(1, first.Line);
        Assert.Equal(KeepalivedSeverity.Error, first.Severity);
        Assert.Equal(KeepalivedFindingCategory.UnknownKeyword, first.Category);
        Assert.Equal("virtaul_server", first.Keyword);
        Assert.StartsWith("Unknown keyword 'virtaul_server'", first.Message);
        Assert.Equal("virtual_server", first.Suggestion);
        Assert.Contains("did you mean virtual_server?", first.ToString());
        Assert.Empty(r.Configuration.VirtualServers);
    }

    [Fact]
    public void Seed_Fixed_ConvertsToTheServiceTheIpvsadmCommentsDescribe()
    {
        var r = Parse(SeedSnippet.Replace("virtaul_server", "virtual_server"));
        // keepalived 2.2.7 still has two complaints: net_mask is not a virtual_server keyword, nb_get_retry is not one of TCP_CHECK.
        Assert.Equal(new[] { 5, 13, 22 }, ErrorLines(r));
        Has(r, 5, "Unknown keyword 'net_mask'");
        Has(r, 13, "Unknown keyword 'nb_get_retry'");

        // ipvsadm -A -t 10.0.0.10:80 -s wrr -p 300
        var service = Assert.Single(r.Configuration.ToIpvsServices());
        Assert.Equal(IpvsProtocol.Tcp, service.Protocol);
        Assert.Equal(IPAddress.Parse("10.0.0.10"), service.Address);
        Assert.Equal(80, service.Port);
        Assert.Equal("wrr", service.Scheduler);
        Assert.Equal(300u, service.PersistenceTimeout);
        // ipvsadm -a -t 10.0.0.10:80 -r 10.0.0.2x:80 -g -w 1
        Assert.Equal(new[] { "10.0.0.20:80", "10.0.0.21:80" }, service.RealServers!.Select(x => x.Endpoint));
        Assert.All(service.RealServers!, x =>
        {
            Assert.Equal(IpvsForwardingMethod.DirectRouting, x.ForwardingMethod);
            Assert.Equal(1, x.Weight);
        });

        var vs = r.Configuration.VirtualServers.Single();
        Assert.Equal(1, vs.Line);
        Assert.Equal(6, vs.DelayLoop);
        var rs = vs.RealServers[0];
        Assert.Equal(9, rs.Line);
        var check = Assert.Single(rs.Checkers);
        Assert.Equal("TCP_CHECK", check.Type);
        Assert.Equal(8, check.ConnectTimeout);
        Assert.Equal(90, check.ConnectPort);
        Assert.Equal(3, check.DelayBeforeRetry);
    }

    [Fact]
    public void UnknownKeywords_SuggestFromTheBlocksKeywords()
    {
        var r = Parse("global_defs {\n    router_idd r1\n}\nvrrp_instnace VI_1 {\n    state MASTER\n}\n");
        Assert.Equal("router_id", Has(r, 2, "Unknown keyword 'router_idd'").Suggestion);
        Assert.Equal("vrrp_instance", Has(r, 4, "Unknown keyword 'vrrp_instnace'").Suggestion);
        Has(r, 4, "Unexpected '{' - ignoring");
        // keepalived skips the unknown block's '{' only: its lines are read at the top level.
        Has(r, 5, "Unknown keyword 'state'");
        Has(r, 6, "Unknown keyword '}'");
        Assert.Equal(new[] { 2, 4, 5, 6 }, ErrorLines(r));
    }

    [Fact]
    public void RenamedKeyword_SuggestsTheNewName()
    {
        var r = Parse("virtual_server 192.0.2.1 80 {\n    lb_algo rr\n    lb_kind NAT\n    protocol TCP\n    real_server 192.0.2.2 80 {\n        TCP_CHECK {\n            nb_get_retry 3\n        }\n    }\n}\n");
        Assert.Equal("retry", Has(r, 7, "Unknown keyword 'nb_get_retry'").Suggestion);
    }

    [Fact]
    public void Numbers_OutOfRangeAndInvalid()
    {
        var r = Parse("vrrp_instance VI_1 {\n    interface eth0\n    virtual_router_id 300\n    priority 0x10\n    advert_int abc\n    virtual_ipaddress {\n        192.0.2.1\n    }\n}\n");
        Assert.Equal(new[]
        {
            "3: number '300' outside range [1, 255]",
            "3: (VI_1): VRID '300' not valid - must be between 1 & 255",
            "4: invalid number '0x10'",
            "4: (VI_1) Priority not valid! must be between 1 & 255. Using default 100",
            "5: invalid number 'abc'",
            "5: (VI_1) Advert interval (abc) not valid! Must be > 0 - ignoring",
            "-: (VI_1) the virtual router id must be set",
        }, Reported(r));
    }

    [Fact]
    public void VirtualServer_ValueChecks()
    {
        var r = Parse("virtual_server 192.0.2.10 80 {\n    delay_loop 0\n    lb_algo nosuch\n    lb_kind DRR\n    protocol TCPP\n    persistence_timeout 99999999999\n    real_server 192.0.2.20 80 {\n        weight -5\n        TCP_CHECK {\n            connect_timeout 3\n            connect_port 70000\n        }\n    }\n}\n");
        Assert.Equal(new[]
        {
            "2: number '0' outside range [0.000001, 18446744073709.551614]",
            "2: virtual server delay loop '0' invalid - ignoring",
            "3: Invalid lvs_scheduler 'nosuch' - ignoring",
            "4: PARSER : unknown [DRR] routing method for virtual server.",
            "5: Unknown protocol TCPP - ignoring",
            "6: number '99999999999' outside unsigned integer range",
            "6: persistence_timeout invalid",
            "8: negative number '-5'",
            "8: Real server weight -5 is outside range 0-2147483647",
            "11: number '70000' outside range [1, 65535]",
            "11: Invalid checker connect_port '70000'",
            "-: Virtual server [192.0.2.10]:none:80: no protocol set - defaulting to UDP",
            "-: Virtual server [192.0.2.10]:udp:80: no scheduler set, setting default 'wlc'",
            "-: Virtual server [192.0.2.10]:udp:80: no forwarding method set, setting default NAT",
        }, Reported(r));
    }

    [Fact]
    public void DuplicateVrid_OnOneInterface()
    {
        var r = Parse(Instance("A", 5) + Instance("B", 5, vip: "192.0.2.2"));
        Assert.Equal(new[] { "-: A and B both use VRID 5 with IPv4 on interface eth0" }, Reported(r));
        Assert.False(r.IsValid);
    }

    [Fact]
    public void UnicastSourceWithoutPeers_IsDeprecated()
    {
        var r = Parse(Instance("A", 5, "    unicast_src_ip 192.0.2.5\n"));
        var f = Has(r, null, "(A) A unicast keyword has been specified without any unicast peers. Defaulting to multicast.");
        Assert.Equal(KeepalivedSeverity.Error, f.Severity);   // keepalived -t fails on it
    }

    [Fact]
    public void UndefinedReferences()
    {
        var r = Parse(Instance("A", 5, "    track_script {\n        nosuch\n    }\n"));
        Has(r, 6, "(A) track script nosuch not found, ignoring...");

        r = Parse("vrrp_sync_group G {\n    group {\n        A\n        NOSUCH\n    }\n}\n" + Instance("A", 5));
        Assert.Equal(new[]
        {
            "-: Virtual router NOSUCH specified in sync group G doesn't exist - ignoring",
            "-: Sync group G has only 1 virtual router(s) - this probably isn't what you want",
        }, Reported(r));
    }

    [Fact]
    public void VirtualAddresses_LexicalChecks()
    {
        var r = Parse(Instance("A", 5, vip: "192.0.2.300/24\n        192.0.2.1/33"));
        Has(r, 6, "VRRP parsed invalid IP 192.0.2.300/24. skipping IP...");
        Has(r, 7, "number '33' outside range [0, 32]");
        Has(r, 7, "Invalid address prefix len 33 for address 192.0.2.1/33 - using 32");
    }

    [Fact]
    public void Authentication()
    {
        var r = Parse(Instance("A", 5, "    authentication {\n        auth_type PAS\n        auth_pass 123456789\n    }\n"));
        Has(r, 6, "(A) unknown authentication type 'PAS'");
        Has(r, 7, "Truncating auth_pass to 8 characters");
        Assert.Equal("None", r.Configuration.VrrpInstances[0].AuthenticationType);

        r = Parse(Instance("A", 5, "    authentication {\n        auth_type PASS\n        auth_pass 123456789\n    }\n"));
        Assert.Equal("12345678", r.Configuration.VrrpInstances[0].AuthenticationPassword);

        // AH: kept for the configuration, but not bound to Start-VrrpInstance's -AuthenticationPassword (simple password only).
        r = Parse(Instance("A", 5, "    authentication {\n        auth_type AH\n        auth_pass secret\n    }\n"));
        var v = r.Configuration.VrrpInstances[0];
        Assert.Equal(("AH", "secret", (string?)null), (v.AuthenticationType, v.AuthenticationData, v.AuthenticationPassword));
        Assert.Contains("auth_type AH", v.NotActedOn);
    }

    [Fact]
    public void EnvironmentFindings_AreWarnings_AndDoNotFailTheVerdict()
    {
        var env = new FakeEnvironment { Interfaces = { "eth1" } };
        var r = KeepalivedParser.ParseText(Instance(), MainFile, new KeepalivedParseOptions { Environment = env });
        var f = Has(r, 2, "WARNING - interface eth0 for vrrp_instance VI_1 doesn't exist");
        Assert.True(f.IsEnvironment);
        Assert.Equal(KeepalivedSeverity.Warning, f.Severity);
        Assert.True(r.IsValid);
    }

    [Fact]
    public void Defaults_AreApplied()
    {
        var r = Parse("vrrp_instance VI_1 {\n    state MASTER\n    interface eth0\n    virtual_router_id 1\n    virtual_ipaddress {\n        192.0.2.1\n    }\n}\nvirtual_server 192.0.2.1 80 {\n    lb_kind DR\n    protocol TCP\n    real_server 192.0.2.2 80 {\n    }\n}\n");
        var v = r.Configuration.VrrpInstances.Single();
        Assert.Equal(255, v.Priority);   // state MASTER without a priority
        Assert.Equal(1, v.AdvertisementInterval);
        Assert.Equal(2, v.Version);
        var vs = r.Configuration.VirtualServers.Single();
        Assert.Equal(60, vs.DelayLoop);
        Assert.Equal("wlc", vs.Scheduler);
        Assert.Equal(5, vs.ConnectTimeout);
    }

    [Fact]
    public void EveryKeywordLine_IsKept_AndUnactedOnesAreListed()
    {
        var r = Parse(Instance(extra: "    garp_lower_prio_repeat 2\n    lvs_sync_daemon_interface eth0\n"));
        var v = r.Configuration.VrrpInstances.Single();
        Assert.Equal(new[] { "interface", "virtual_router_id", "priority", "garp_lower_prio_repeat", "lvs_sync_daemon_interface", "virtual_ipaddress" },
            v.Settings.Select(s => s.Keyword));
        Assert.Equal(5, v.Setting("garp_lower_prio_repeat")!.Line);
        Assert.Contains("garp_lower_prio_repeat", v.NotActedOn);
        Assert.DoesNotContain("priority", v.NotActedOn);
    }

    [Fact]
    public void VrrpScript_BindsAsStartVrrpInstanceTakesIt()
    {
        // Without enable_script_security keepalived -t fails any configuration that runs a script (SECURITY VIOLATION).
        var r = Parse("global_defs {\n    enable_script_security\n}\nvrrp_script chk {\n    script \"/usr/bin/pgrep -x haproxy\"\n    interval 2\n    weight -20\n    fall 3\n}\n"
            + Instance(extra: "    track_script {\n        chk weight -30\n    }\n"));
        Valid(r);
        var s = r.Configuration.VrrpScripts.Single();
        Assert.Equal("/usr/bin/pgrep -x haproxy", s.Script);
        Assert.Equal(new[] { "/usr/bin/pgrep", "-x", "haproxy" }, s.Arguments);
        var t = Assert.Single(r.Configuration.VrrpInstances[0].TrackScript);
        Assert.Equal("chk", t["Name"]);
        Assert.Equal(-30, t["Weight"]);   // the instance's weight overrides the script's
    }

    [Fact]
    public void SmtpCheckHosts_AreKeptApart()
    {
        var r = Parse("virtual_server 192.0.2.1 25 {\n    lb_algo rr\n    lb_kind NAT\n    protocol TCP\n    real_server 192.0.2.2 25 {\n        SMTP_CHECK {\n            connect_timeout 9\n            host {\n                connect_ip 192.0.2.3\n                connect_port 2525\n            }\n        }\n    }\n}\n");
        var c = r.Configuration.VirtualServers[0].RealServers[0].Checkers.Single();
        Assert.Null(c.ConnectIp);
        Assert.Equal(9, c.ConnectTimeout);
        var h = Assert.Single(c.Hosts);
        Assert.Equal("192.0.2.3", h.ConnectIp);
        Assert.Equal(2525, h.ConnectPort);
        Assert.Equal(8, h.Line);
    }

    [Fact]
    public void KeywordsByBlock_ListsEverySection()
    {
        var k = KeepalivedParser.KeywordsByBlock();
        Assert.Contains("virtual_server", k[""]);
        Assert.Contains("vrrp_instance", k[""]);
        Assert.Contains("real_server", k["virtual_server"]);
        Assert.Contains("TCP_CHECK", k["virtual_server/real_server"]);
        Assert.Contains("retry", k["virtual_server/real_server/TCP_CHECK"]);
        Assert.Contains("auth_pass", k["vrrp_instance/authentication"]);
    }
}

/// <summary>A host for tests: only the interfaces listed exist; users and scripts as <see cref="AssumedEnvironment"/> has them.</summary>
internal sealed class FakeEnvironment : IKeepalivedEnvironment
{
    public HashSet<string> Interfaces { get; } = new();

    public KeepalivedInterfaceInfo? GetInterface(string name)
        => Interfaces.Contains(name) ? AssumedEnvironment.Instance.GetInterface(name) : null;

    public bool TryGetUser(string name, out uint uid, out uint gid) => AssumedEnvironment.Instance.TryGetUser(name, out uid, out gid);
    public bool TryGetGroup(string name, out uint gid) => AssumedEnvironment.Instance.TryGetGroup(name, out gid);
    public KeepalivedFileStatus? Stat(string path, bool followLinks) => AssumedEnvironment.Instance.Stat(path, followLinks);
    public string? RealPath(string path) => path;
    public IReadOnlyList<string> SearchPath => AssumedEnvironment.Instance.SearchPath;
    public bool TryResolve(string host, out System.Net.Sockets.AddressFamily family) => AssumedEnvironment.Instance.TryResolve(host, out family);
    public uint EffectiveUserId => 0;
    public uint EffectiveGroupId => 0;
    public int ProcessorCount => 2;
    public bool IgmpLinkLocalReportsWritable => true;
    public bool NetworkNamespaceExists(string name) => true;
}
