using HaPowerShell.Core.Health;
using HaPowerShell.Core.Keepalived;
using HaPowerShell.Core.Vrrp;
using Xunit;
using static HaPowerShell.Tests.KeepalivedTestKit;

namespace HaPowerShell.Tests;

/// <summary>
/// The model as the engines take it (VrrpInstanceConfig through Core's text forms, HealthCheckDefinition), the
/// findings Core's VRRP forms and limits add at their lines, keepalived's route and rule checks, and the writer's
/// round trip over the generated corpus.
/// </summary>
public class KeepalivedConversionTests
{
    private const string Pair = """
        global_defs {
            enable_script_security
            script_user root
        }
        vrrp_script chk {
            script "/usr/bin/true"
            interval 2
            weight -10
            rise 2
            fall 3
        }
        vrrp_instance VI_1 {
            interface eth0
            virtual_router_id 51
            priority 150
            advert_int 1
            virtual_ipaddress {
                192.0.2.10/24 dev eth0 label eth0:1
                192.0.2.11
            }
            track_interface {
                eth1 weight -20
            }
            track_script {
                chk weight -30
            }
            authentication {
                auth_type PASS
                auth_pass secret
            }
        }
        """;

    [Fact]
    public void VrrpInstance_BecomesTheEnginesConfig_ThroughCoresTextForms()
    {
        var r = Parse(Pair);
        Valid(r);
        var v = Assert.Single(r.Configuration.VrrpInstances);
        var errors = new List<VrrpConfigError>();
        var c = v.ToVrrpInstanceConfig(r.Configuration, errors);
        Assert.Empty(errors);
        Assert.Empty(c.Validate());
        Assert.Equal("VI_1", c.Name);
        Assert.Equal(51, c.VirtualRouterId);
        Assert.Equal(150, c.Priority);
        Assert.Equal(new[] { "192.0.2.10/24 dev eth0 label eth0:1", "192.0.2.11/32" }, c.VirtualAddresses.Select(a => a.ToString()));
        Assert.Equal(new VrrpTrackInterface("eth1", -20), Assert.Single(c.TrackInterfaces));
        var s = Assert.Single(c.TrackScripts);
        Assert.Equal(("chk", "/usr/bin/true", -30, 2, 3), (s.Name, s.Command, s.Weight, s.Rise, s.Fall));
        Assert.Equal(TimeSpan.FromSeconds(2), s.Interval);
        Assert.Equal("secret", c.AuthenticationPassword);
    }

    [Fact]
    public void CoreFormErrors_AreKeepalivedErrorsAtTheLine_NotSupportedFormsAreWarnings()
    {
        var r = Parse(Instance(extra: "    track_interface {\n        eth1 weight 254\n        eth2 weight 5 reverse\n    }\n",
            vip: "192.0.2.10/24 scope bogus\n        192.0.2.11/24 use_vmac"));
        var weight = Has(r, 6, "'eth1 weight 254': weight 254 is outside -253..253 (track_interface)");
        Assert.Equal(KeepalivedSeverity.Error, weight.Severity);
        Assert.Equal("track_interface", weight.Keyword);
        var reverse = Has(r, 7, "'eth2 weight 5 reverse': keepalived's 'reverse'");
        Assert.Equal((KeepalivedSeverity.Warning, KeepalivedFindingCategory.NotSupported), (reverse.Severity, reverse.Category));
        Assert.Equal(KeepalivedSeverity.Error, Has(r, 10, "'192.0.2.10/24 scope bogus': scope 'bogus'").Severity);
        var vmac = Has(r, 11, "'192.0.2.11/24 use_vmac': keepalived's 'use_vmac' is not supported here");
        Assert.Equal("virtual_ipaddress", vmac.Keyword);
        Assert.False(vmac.ReportedByKeepalived);
    }

    [Fact]
    public void KeepalivedsOwnAddressNotes_AreErrorsAtTheLine()
    {
        var r = Parse(Instance(vip: "2001:db8::10/64 scope link\n        2001:db8::11/64 label eth0:6\n        192.0.2.12/24 peer 192.0.2.99\n        192.0.2.13 peer 192.0.2.999"));
        Has(r, 6, "Cannot specify scope for IPv6 addresses (2001:db8::10/64) - ignoring scope");
        Has(r, 7, "Cannot specify label for IPv6 addresses (2001:db8::11/64) - ignoring label");
        Has(r, 8, "Cannot specify address prefix when specifying peer address - ignoring");
        Has(r, 9, "Invalid peer address 192.0.2.999");
        Assert.All(r.Findings.Where(f => f.Line is >= 6 and <= 9 && f.ReportedByKeepalived), f => Assert.Equal(KeepalivedSeverity.Error, f.Severity));
    }

    [Fact]
    public void ValidateErrors_OnlyTheModuleHas_AreWarningsAtTheSettingsLine()
    {
        // keepalived runs a label that is not the device's and 300 gratuitous ARPs a burst; the engine refuses both.
        var r = Parse(Instance(extra: "    garp_master_repeat 300\n", vip: "192.0.2.10/24 label other:1"));
        Valid(r);
        var label = Has(r, 7, "(VI_1) The label of virtual address 192.0.2.10");
        Assert.Equal((KeepalivedSeverity.Warning, KeepalivedFindingCategory.NotSupported, "virtual_ipaddress"), (label.Severity, label.Category, label.Keyword));
        var garp = Has(r, 5, "(VI_1) garp_master_repeat 300 is outside 1-255");
        Assert.Equal((KeepalivedSeverity.Warning, "garp_master_repeat"), (garp.Severity, garp.Keyword));
    }

    [Fact]
    public void RealServer_BecomesAHealthCheckDefinition_WithKeepalivedsPrecedence()
    {
        var r = Parse("""
            virtual_server 192.0.2.1 80 {
                delay_loop 6
                lb_kind DR
                protocol TCP
                connect_timeout 4
                real_server 198.51.100.1 8080 {
                    weight 3
                    retry 2
                    TCP_CHECK {
                        connect_port 90
                    }
                    MISC_CHECK {
                        misc_path "/usr/bin/test -e /run/up"
                        misc_timeout 3
                    }
                }
                real_server 198.51.100.2 8080 {
                    DNS_CHECK {
                        name example.com
                    }
                }
            }
            """);
        var vs = Assert.Single(r.Configuration.VirtualServers);
        var d = vs.RealServers[0].ToHealthCheckDefinition()!;
        Assert.Equal(new[] { HealthCheckType.Tcp, HealthCheckType.Misc }, d.CheckTypes);
        Assert.Equal(90, d.Port);
        Assert.Equal(4, d.ConnectTimeoutSeconds);
        Assert.Equal(6, d.Policy.DelayLoopSeconds);
        Assert.Equal(2, d.Policy.Retry);
        Assert.Equal("/usr/bin/test", d.MiscPath);
        Assert.Equal(new[] { "-e", "/run/up" }, d.ArgumentList);
        Assert.Equal(3, d.MiscTimeoutSeconds);
        Assert.Equal(3, d.Weight);
        Assert.Equal("TCP 192.0.2.1:80", d.Service.ToString());
        Assert.Equal("198.51.100.1", Assert.Single(d.RealServers).Address.ToString());
        Assert.Null(vs.RealServers[1].HealthCheck);   // DNS_CHECK only: kept, listed, not run
        Assert.Contains("DNS_CHECK", vs.RealServers[1].Checkers[0].NotActedOn);
    }

    [Fact]
    public void Routes_AndRules_AreCheckedAsKeepalivedChecksThem()
    {
        var r = Parse("""
            static_routes {
                192.0.2.0/24 via 198.51.100.1 dev eth0
                192.0.2.0/25 gw 198.51.100.1 dev eth0
                192.0.2.128/25 via 198.51.100.1
                bogus via 198.51.100.1 dev eth0
                via 198.51.100.1 dev eth0
            }
            static_rules {
                from 192.0.2.0/24 table 100 priority 10
                from 192.0.2.0/24 table 100
                to 192.0.2.0/24
                from 192.0.2.0/24 table 100 frobnicate
            }
            """);
        Assert.DoesNotContain(r.Findings, f => f.Line == 2);
        Has(r, 3, "\"gw\" for routes is deprecated");
        Has(r, 4, "Warning - cannot track route 192.0.2.128/25 with no interface specified");
        Has(r, 5, "unknown route keyword bogus");
        Has(r, 6, "Route must have a destination");
        Assert.DoesNotContain(r.Findings, f => f.Line == 9);
        Has(r, 10, "Rule has no preference specified - setting to 16384");
        Has(r, 11, "No action specified for rule - ignoring");
        Has(r, 12, "Unknown rule option frobnicate");
        Assert.All(r.Findings.Where(f => f.Line is >= 3 and <= 12), f => Assert.Equal(KeepalivedSeverity.Error, f.Severity));
    }

    [Fact]
    public void Writer_RoundTripsTheGeneratedCorpus()
    {
        for (int seed = 1; seed <= 12; seed++)
        {
            var first = Parse(KeepalivedCorpusGenerator.Valid(seed));
            Valid(first);
            string text = KeepalivedWriter.Write(first.Configuration);
            var second = Parse(text);
            Valid(second);
            Assert.Equal(text, KeepalivedWriter.Write(second.Configuration));
            Assert.Equal(first.Configuration.ToIpvsServices().Select(s => s.ToString()), second.Configuration.ToIpvsServices().Select(s => s.ToString()));
            Assert.Equal(first.Configuration.VrrpInstances.Select(v => (v.Name, v.VirtualRouterId, v.Priority, string.Join("|", v.VirtualIPAddress))),
                second.Configuration.VrrpInstances.Select(v => (v.Name, v.VirtualRouterId, v.Priority, string.Join("|", v.VirtualIPAddress))));
        }
    }
}
