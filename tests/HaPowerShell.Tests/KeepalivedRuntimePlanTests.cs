using System.Net;
using HaPowerShell.Core.Keepalived;
using HaPowerShell.Core.Keepalived.Runtime;
using HaPowerShell.Core.Vrrp;
using Xunit;

namespace HaPowerShell.Tests;

/// <summary>What hapd runs from a parsed keepalived.conf: the VRRP instances, what it does not act on, the errors.</summary>
public class KeepalivedRuntimePlanTests
{
    private static KeepalivedRuntimePlan Plan(string text, bool vrrp = true)
    {
        // The mapping takes what the parser read; the daemon maps only configurations whose verdict allows running
        // (script security findings of the in-memory host aside, these are).
        var parse = KeepalivedParser.ParseText(text, "/k.conf");
        Assert.DoesNotContain(parse.Errors, f => f.Category != KeepalivedFindingCategory.Security);
        return KeepalivedRuntimePlan.From(parse.Configuration, vrrp);
    }

    private const string Instance = """
        vrrp_script chk {
            script "/bin/true"
            interval 2
            weight -20
            fall 3
        }
        vrrp_instance VI_1 {
            state BACKUP
            interface eth0
            version 3
            virtual_router_id 51
            priority 150
            advert_int 0.1
            nopreempt
            unicast_src_ip 192.0.2.1
            unicast_peer {
                192.0.2.2
            }
            virtual_ipaddress {
                192.0.2.100/24 dev eth0 label eth0:1
                198.51.100.1/32
            }
            track_interface {
                eth1 weight -30
            }
            track_script {
                chk weight -10
            }
            notify_master "/usr/local/bin/m.sh"
            garp_master_delay 2
        }
        """;

    [Fact]
    public void MapsAnInstanceWithItsTextForms()
    {
        var plan = Plan(Instance);
        Assert.True(plan.CanRun);
        var c = Assert.Single(plan.VrrpInstances);
        Assert.Equal("VI_1", c.Name);
        Assert.Equal("eth0", c.InterfaceName);
        Assert.Equal(51, c.VirtualRouterId);
        Assert.Equal(150, c.Priority);
        Assert.Equal(VrrpVersion.V3, c.Version);
        Assert.Equal(TimeSpan.FromMilliseconds(100), c.AdvertisementInterval);
        Assert.True(c.NoPreempt);
        Assert.Equal(IPAddress.Parse("192.0.2.1"), c.SourceAddress);
        Assert.Equal(new[] { IPAddress.Parse("192.0.2.2") }, c.UnicastPeers);
        Assert.Equal(2, c.VirtualAddresses.Count);
        Assert.Equal(24, c.VirtualAddresses[0].PrefixLength);
        Assert.Equal("eth0:1", c.VirtualAddresses[0].Label);
        Assert.Equal(new VrrpTrackInterface("eth1", -30), Assert.Single(c.TrackInterfaces));
        var s = Assert.Single(c.TrackScripts);
        Assert.Equal(("chk", "/bin/true", -10, 3, TimeSpan.FromSeconds(2)), (s.Name, s.Command, s.Weight, s.Fall, s.Interval));
        Assert.Equal("/usr/local/bin/m.sh", c.NotifyMaster);
        Assert.Equal(TimeSpan.FromSeconds(2), c.Garp.Delay);
    }

    [Fact]
    public void ListsWhatItDoesNotActOnWithFileAndLine()
    {
        var plan = Plan("""
            global_defs {
                router_id a
                notification_email {
                    root
                }
            }
            vrrp_instance VI_1 {
                state MASTER
                interface eth0
                virtual_router_id 1
                priority 100
                use_vmac
                virtual_ipaddress {
                    192.0.2.1/24
                }
            }
            virtual_server 192.0.2.10 80 {
                protocol TCP
                lb_algo wrr
                lb_kind DR
                real_server 192.0.2.20 80 {
                    TCP_CHECK {
                        connect_timeout 3
                    }
                }
            }
            """);
        Assert.True(plan.CanRun);
        Assert.Contains(plan.Ignored, i => i.Block == "global_defs" && i.Keyword == "notification_email" && i.Line == 3 && i.File == "/k.conf");
        Assert.Contains(plan.Ignored, i => i.Block == "vrrp_instance VI_1" && i.Keyword == "use_vmac" && i.Line == 12);
        // state MASTER is acted on: the instance starts with its Master_Down_Timer expired, as keepalived.
        Assert.DoesNotContain(plan.Ignored, i => i.Keyword.StartsWith("state", StringComparison.Ordinal));
        Assert.True(Assert.Single(plan.VrrpInstances).StartAsMaster);
        // The virtual server is run (IPVS and its checker), not listed.
        Assert.DoesNotContain(plan.Ignored, i => i.Block.StartsWith("virtual_server", StringComparison.Ordinal) && i.Line == 17);
        Assert.Single(plan.Ipvs.Services);
        Assert.DoesNotContain(plan.Ignored, i => i.Keyword == "router_id");
    }

    [Fact]
    public void ChecksOnlyLeavesTheInstancesOutAndSaysSo()
    {
        var plan = Plan(Instance, vrrp: false);
        Assert.Empty(plan.VrrpInstances);
        Assert.Contains(plan.Ignored, i => i.Block == "vrrp_instance VI_1");
    }

    [Fact]
    public void AnEngineLimitIsAnErrorNamedByKeywordAndLine()
    {
        // keepalived reads any label; the kernel (and the engine) take only the device's name or 'eth0:...'.
        var parse = KeepalivedParser.ParseText("vrrp_instance VI_1 {\n    interface eth0\n    virtual_router_id 1\n    virtual_ipaddress {\n        192.0.2.1/24 label wrong:1\n    }\n}\n", "/k.conf");
        Assert.True(parse.IsValid, string.Join("\n", parse.Findings));
        var plan = KeepalivedRuntimePlan.From(parse.Configuration);
        Assert.False(plan.CanRun);
        var e = Assert.Single(plan.Errors);
        Assert.Equal(("/k.conf", 4), (e.File, e.Line));
        Assert.StartsWith("(VI_1) The label of virtual address 192.0.2.1 is not usable on eth0", e.Message);
        Assert.Empty(plan.VrrpInstances);
    }

    [Fact]
    public void ASyncGroupsTrackedInterfaceFaultsEveryMember()
    {
        var plan = Plan("""
            vrrp_sync_group G {
                group {
                    VI_1
                    VI_2
                }
                track_interface {
                    eth9
                }
            }
            vrrp_instance VI_1 {
                interface eth0
                virtual_router_id 1
                virtual_ipaddress {
                    192.0.2.1/24
                }
            }
            vrrp_instance VI_2 {
                interface eth0
                virtual_router_id 2
                virtual_ipaddress {
                    192.0.2.2/24
                }
            }
            """);
        Assert.All(plan.VrrpInstances, c =>
        {
            Assert.Equal("G", c.SyncGroup);
            Assert.Equal(new VrrpTrackInterface("eth9", 0), Assert.Single(c.TrackInterfaces));
        });
    }

    [Fact]
    public void StaticAddressesAreMappedWithTheirDeviceAndOneWithoutIsAnError()
    {
        var plan = Plan("""
            static_ipaddress {
                198.51.100.7/32 dev eth0 label eth0:st
                2001:db8::7/64 dev eth1
            }
            """);
        Assert.True(plan.CanRun, string.Join("; ", plan.Errors));
        Assert.Equal(2, plan.StaticAddresses.Count);
        Assert.Equal("eth0", plan.StaticAddresses[0].Device);
        Assert.Equal("eth0:st", plan.StaticAddresses[0].Label);
        Assert.Equal(64, plan.StaticAddresses[1].PrefixLength);
        Assert.DoesNotContain(plan.Ignored, i => i.Block.StartsWith("static_ipaddress", StringComparison.Ordinal));

        var parse = KeepalivedParser.ParseText("static_ipaddress {\n    198.51.100.8/32\n}\n", "/k.conf");
        var bad = KeepalivedRuntimePlan.From(parse.Configuration);
        Assert.Contains(bad.Errors, e => e.ErrorId == "StaticAddressWithoutDevice" && e.Line == 2);
    }

    [Fact]
    public void ScriptUserIsCarriedAndNotListedAsIgnored()
    {
        var parse = KeepalivedParser.ParseText("""
            global_defs {
                script_user nobody nogroup
                enable_script_security
            }
            """, "/k.conf");
        var plan = KeepalivedRuntimePlan.From(parse.Configuration);
        Assert.Equal("nobody", plan.ScriptUser);
        Assert.Equal("nogroup", plan.ScriptGroup);
        Assert.DoesNotContain(plan.Ignored, i => i.Keyword is "script_user" or "enable_script_security");
    }
}
