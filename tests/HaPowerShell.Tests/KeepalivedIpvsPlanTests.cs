using System.Net;
using HaPowerShell.Core.Health;
using HaPowerShell.Core.Ipvs;
using HaPowerShell.Core.Keepalived;
using HaPowerShell.Core.Keepalived.Runtime;
using Xunit;

namespace HaPowerShell.Tests;

/// <summary>hapd's IPVS and checker half from a parsed keepalived.conf (KeepalivedIpvsPlan) and a reload's difference (KeepalivedIpvsDiff).</summary>
public class KeepalivedIpvsPlanTests
{
    private static KeepalivedRuntimePlan Plan(string text, bool checkers = true)
    {
        var parse = KeepalivedParser.ParseText(text, "/k.conf");
        Assert.DoesNotContain(parse.Errors, f => f.Category != KeepalivedFindingCategory.Security);
        return KeepalivedRuntimePlan.From(parse.Configuration, vrrp: true, checkers: checkers);
    }

    private const string Web = """
        virtual_server 192.0.2.10 80 {
            delay_loop 3
            lb_algo wrr
            lb_kind DR
            protocol TCP
            real_server 192.0.2.20 80 {
                weight 5
                TCP_CHECK {
                    connect_timeout 2
                }
            }
            real_server 192.0.2.21 80 {
                weight 3
                HTTP_GET {
                    url {
                        path /health
                        status_code 200
                    }
                    url {
                        path /second
                    }
                }
            }
            real_server 192.0.2.22 80 {
                weight 1
            }
        }
        """;

    [Fact]
    public void NoSwapIsTakenAsAWishToKeepCodeResident()
    {
        Assert.False(Plan(Web).AsksNoSwap);
        Assert.True(Plan("global_defs {\n    vrrp_no_swap\n}\n" + Web).AsksNoSwap);
        Assert.True(Plan("global_defs {\n    checker_no_swap\n}\n" + Web, checkers: false).AsksNoSwap);
        Assert.Contains(Plan("global_defs {\n    checker_no_swap\n}\n" + Web).Ignored, i => i.Keyword == "checker_no_swap");
    }

    [Fact]
    public void MapsServicesRealServersAndOneCheckerPerCheckedRealServer()
    {
        var plan = Plan(Web);
        Assert.True(plan.CanRun, string.Join("; ", plan.Errors));
        var s = Assert.Single(plan.Ipvs.Services);
        Assert.Equal(IPAddress.Parse("192.0.2.10"), s.Address);
        Assert.Equal(80, s.Port);
        Assert.Equal("wrr", s.Scheduler);
        Assert.Equal(3, s.RealServers!.Count);
        Assert.All(s.RealServers, r => Assert.Equal(IpvsForwardingMethod.DirectRouting, r.ForwardingMethod));
        Assert.Equal(new[] { 5, 3, 1 }, s.RealServers.Select(r => r.Weight));
        Assert.Equal(3, plan.Ipvs.RealServerCount);

        // The unchecked real server has no checker; each checked one has its own, named service + real server.
        Assert.Equal(2, plan.Ipvs.HealthChecks.Count);
        var tcp = plan.Ipvs.HealthChecks.Single(c => c.Name == "TCP 192.0.2.10:80 192.0.2.20:80");
        Assert.Equal(new[] { HealthCheckType.Tcp }, tcp.CheckTypes);
        Assert.Equal(2, tcp.ConnectTimeoutSeconds);
        Assert.Equal(3, tcp.Policy.DelayLoopSeconds); // from the virtual server
        Assert.Equal(IPAddress.Parse("192.0.2.20"), Assert.Single(tcp.RealServers).Address);
        var http = plan.Ipvs.HealthChecks.Single(c => c.Name == "TCP 192.0.2.10:80 192.0.2.21:80");
        Assert.Equal(new[] { HealthCheckType.Http }, http.CheckTypes);
        Assert.Equal("/health", http.Path);
        // Only the first url is fetched: the second is listed, with its line.
        Assert.Contains(plan.Ignored, i => i.Keyword.StartsWith("url", StringComparison.Ordinal) && i.Line == 19);
    }

    [Fact]
    public void QuorumAndSorryServerMakeOneCheckerForTheService()
    {
        var plan = Plan("""
            virtual_server 192.0.2.10 443 {
                delay_loop 5
                protocol TCP
                lb_algo rr
                lb_kind NAT
                quorum 2
                hysteresis 1
                quorum_down "/bin/true down"
                sorry_server 198.51.100.9 8443
                real_server 192.0.2.20 443 {
                    TCP_CHECK {
                        connect_timeout 3
                    }
                }
                real_server 192.0.2.21 443 {
                    TCP_CHECK {
                        connect_timeout 3
                    }
                }
            }
            """);
        Assert.True(plan.CanRun, string.Join("; ", plan.Errors));
        var c = Assert.Single(plan.Ipvs.HealthChecks);
        Assert.Equal("TCP 192.0.2.10:443", c.Name);
        Assert.Equal(2, c.RealServers.Count);
        Assert.Equal(2, c.Policy.Quorum);
        Assert.Equal(1, c.Policy.Hysteresis);
        Assert.Equal("/bin/true down", c.Policy.NotifyQuorumDown);
        Assert.Equal(IPAddress.Parse("198.51.100.9"), c.SorryServer);
        Assert.Equal(8443, c.SorryServerPort);
        Assert.Null(c.Weight);
    }

    [Fact]
    public void QuorumOverDifferentCheckersIsListedAndEachRealServerIsCheckedAlone()
    {
        var plan = Plan("""
            virtual_server 192.0.2.10 80 {
                quorum 2
                protocol TCP
                lb_algo rr
                lb_kind NAT
                real_server 192.0.2.20 80 {
                    TCP_CHECK {
                    }
                }
                real_server 192.0.2.21 80 {
                    HTTP_GET {
                        url {
                            path /
                        }
                    }
                }
            }
            """);
        Assert.True(plan.CanRun);
        Assert.Equal(2, plan.Ipvs.HealthChecks.Count);
        Assert.All(plan.Ipvs.HealthChecks, c => Assert.Equal(1, c.Policy.Quorum));
        Assert.Contains(plan.Ignored, i => i.Keyword.StartsWith("quorum", StringComparison.Ordinal) && i.Line == 2);
    }

    [Fact]
    public void AGroupMakesOneServiceAndCheckerPerMember()
    {
        var plan = Plan("""
            virtual_server_group WEB {
                192.0.2.10-11 80
                192.0.2.30 80
            }
            virtual_server group WEB {
                protocol TCP
                lb_algo rr
                lb_kind DR
                real_server 192.0.2.20 80 {
                    MISC_CHECK {
                        misc_path "/bin/true"
                    }
                }
            }
            """);
        Assert.True(plan.CanRun, string.Join("; ", plan.Errors));
        Assert.Equal(3, plan.Ipvs.Services.Count);
        Assert.Contains(plan.Ipvs.Services, s => IPAddress.Parse("192.0.2.30").Equals(s.Address) && s.Port == 80);
        Assert.Contains(plan.Ipvs.Services, s => IPAddress.Parse("192.0.2.11").Equals(s.Address) && s.Port == 80);
        Assert.Equal(3, plan.Ipvs.HealthChecks.Count);
        Assert.Equal(3, plan.Ipvs.HealthChecks.Select(c => c.Name).Distinct().Count());
        Assert.All(plan.Ipvs.HealthChecks, c => Assert.Equal(HealthCheckType.Misc, Assert.Single(c.CheckTypes)));
    }

    [Fact]
    public void CheckersItDoesNotRunAreListedWithTheirLine()
    {
        var plan = Plan("""
            virtual_server 192.0.2.10 53 {
                protocol UDP
                lb_algo rr
                lb_kind NAT
                real_server 192.0.2.20 53 {
                    DNS_CHECK {
                        type A
                        name example.org
                    }
                }
            }
            """);
        Assert.True(plan.CanRun);
        Assert.Empty(plan.Ipvs.HealthChecks);
        Assert.Contains(plan.Ignored, i => i.Keyword.StartsWith("DNS_CHECK", StringComparison.Ordinal) && i.Line == 6);
        Assert.Equal(IpvsProtocol.Udp, Assert.Single(plan.Ipvs.Services).Protocol);
    }

    [Fact]
    public void TheSameServiceTwiceIsAnErrorAtItsLine()
    {
        var parse = KeepalivedParser.ParseText("""
            virtual_server 192.0.2.10 80 {
                real_server 192.0.2.20 80 {
                }
            }
            virtual_server 192.0.2.10 80 {
                real_server 192.0.2.21 80 {
                }
            }
            """, "/k.conf");
        var plan = KeepalivedRuntimePlan.From(parse.Configuration);
        Assert.False(plan.CanRun);
        Assert.Contains(plan.Errors, e => e.ErrorId == "VirtualServerDuplicate" && e.Line == 5 && e.Message.Contains("Line 1", StringComparison.Ordinal));
    }

    [Fact]
    public void TimeoutsFlushAndTheSyncDaemonFollowingAnInstance()
    {
        var plan = Plan("""
            global_defs {
                lvs_timeouts tcp 7200 tcpfin 120 udp 300
                lvs_flush
                lvs_sync_daemon eth0 VI_1 id 5
            }
            vrrp_instance VI_1 {
                interface eth0
                virtual_router_id 1
                priority 100
                virtual_ipaddress {
                    192.0.2.1/24
                }
            }
            virtual_server 192.0.2.10 80 {
                protocol TCP
                lb_algo rr
                lb_kind NAT
                real_server 192.0.2.20 80 {
                }
            }
            """);
        Assert.True(plan.CanRun, string.Join("; ", plan.Errors));
        Assert.Equal(7200u, plan.Ipvs.Timeout!.Tcp);
        Assert.Equal(120u, plan.Ipvs.Timeout.TcpFin);
        Assert.Equal(300u, plan.Ipvs.Timeout.Udp);
        Assert.True(plan.Ipvs.Flush);
        var d = plan.Ipvs.SyncDaemon!;
        Assert.Equal("eth0", d.InterfaceName);
        Assert.Equal("VI_1", d.VrrpInstance);
        Assert.Equal(5u, d.SyncId);
        Assert.Equal(IpvsSyncDaemonState.Master, KeepalivedSyncDaemonPlan.StateFor(vrrpMaster: true));
        Assert.Equal(IpvsSyncDaemonState.Backup, KeepalivedSyncDaemonPlan.StateFor(vrrpMaster: false));
        Assert.Equal(IpvsSyncDaemonState.Backup, d.ToSyncDaemon(IpvsSyncDaemonState.Backup).State);
        Assert.DoesNotContain(plan.Ignored, i => i.Keyword is "lvs_sync_daemon" or "lvs_timeouts" or "lvs_flush");
    }

    [Fact]
    public void VrrpOnlyLeavesTheIpvsHalfOutAndSaysSo()
    {
        var plan = Plan(Web, checkers: false);
        Assert.Empty(plan.Ipvs.Services);
        Assert.Empty(plan.Ipvs.HealthChecks);
        Assert.Contains(plan.Ignored, i => i.Keyword.Contains("-P", StringComparison.Ordinal) && i.Line == 1);
    }

    private static string Replace(string text, string from, string to)
    {
        Assert.Contains(from, text, StringComparison.Ordinal);
        return text.Replace(from, to, StringComparison.Ordinal);
    }

    [Fact]
    public void AReloadSendsOnlyTheDifferenceAndKeepsTheCheckersThatStay()
    {
        var old = Plan(Web).Ipvs;
        // 192.0.2.21 gets another weight, 192.0.2.23 is added with a checker, the rest stays.
        string text = Replace(Web, "weight 3", "weight 4");
        text = Replace(text, "    real_server 192.0.2.22 80 {",
            "    real_server 192.0.2.23 80 {\n        TCP_CHECK {\n        }\n    }\n    real_server 192.0.2.22 80 {");
        var now = Plan(text).Ipvs;
        var diff = KeepalivedIpvsDiff.Compute(old, now, drain: false);
        Assert.Equal(2, diff.Operations.Count);
        Assert.Contains(diff.Operations, o => o.Kind == IpvsOperationKind.AddRealServer && o.RealServer!.Address.Equals(IPAddress.Parse("192.0.2.23")));
        Assert.Contains(diff.Operations, o => o.Kind == IpvsOperationKind.UpdateRealServer && o.RealServer!.Weight == 4);
        Assert.Empty(diff.Drains);
        var byName = diff.Checkers.Items.ToDictionary(i => i.Name, i => i.Change);
        Assert.Equal(HealthCheckChange.Unchanged, byName["TCP 192.0.2.10:80 192.0.2.20:80"]);
        Assert.Equal(HealthCheckChange.Replaced, byName["TCP 192.0.2.10:80 192.0.2.21:80"]); // its weight is the one restored
        Assert.Equal(HealthCheckChange.Added, byName["TCP 192.0.2.10:80 192.0.2.23:80"]);
        Assert.False(diff.TimeoutChanged);
        Assert.False(diff.SyncDaemonChanged);
        Assert.Contains("1 real server(s) added", diff.Summary(), StringComparison.Ordinal);

        // The same configuration again changes nothing.
        var none = KeepalivedIpvsDiff.Compute(now, Plan(text).Ipvs, drain: true);
        Assert.Empty(none.Operations);
        Assert.All(none.Checkers.Items, i => Assert.Equal(HealthCheckChange.Unchanged, i.Change));
    }

    [Fact]
    public void ARemovedRealServerIsDrainedWhenAskedAndRemovedOtherwise()
    {
        var old = Plan(Web).Ipvs;
        string text = Replace(Web, "    real_server 192.0.2.22 80 {\n        weight 1\n    }\n", "");
        var now = Plan(text).Ipvs;
        Assert.Equal(2, now.RealServerCount);

        var cut = KeepalivedIpvsDiff.Compute(old, now, drain: false);
        var op = Assert.Single(cut.Operations);
        Assert.Equal(IpvsOperationKind.RemoveRealServer, op.Kind);
        Assert.Empty(cut.Drains);

        var drained = KeepalivedIpvsDiff.Compute(old, now, drain: true);
        op = Assert.Single(drained.Operations);
        Assert.Equal(IpvsOperationKind.UpdateRealServer, op.Kind);
        Assert.Equal(0, op.RealServer!.Weight);
        Assert.Equal(1, op.PreviousRealServer!.Weight);
        var d = Assert.Single(drained.Drains);
        Assert.Equal(IPAddress.Parse("192.0.2.22"), d.RealServer.Address);

        // A removed service goes with its real servers, drain or not.
        var gone = KeepalivedIpvsDiff.Compute(old, KeepalivedIpvsPlan.Empty, drain: true);
        Assert.Equal(IpvsOperationKind.RemoveService, Assert.Single(gone.Operations).Kind);
        Assert.Empty(gone.Drains);
        Assert.Equal(2, gone.Checkers.Items.Count(i => i.Change == HealthCheckChange.Removed));
    }

    /// <summary>
    /// A reload's difference pairs services by place and skips those written alike (the plan's image, made with its
    /// services: a virtual_server_group makes several in a row): it equals the planner's difference of the two tables
    /// for a change in a group member's real server, a weight, a service moved in the file and a service removed.
    /// </summary>
    [Fact]
    public void AReloadsDifferenceEqualsThePlannersOverManyServicesAndGroups()
    {
        static string Config(Func<int, int> weight, IEnumerable<int> order)
        {
            var sb = new System.Text.StringBuilder("""
                virtual_server_group WEB {
                    198.51.100.1 80
                    198.51.100.2 80
                    198.51.100.3 80
                }
                virtual_server group WEB {
                    lb_algo rr
                    lb_kind NAT
                    protocol TCP
                    real_server 203.0.113.1 8080 {
                        weight 1
                    }
                }

                """);
            foreach (int i in order)
                sb.Append($"virtual_server 192.0.2.{i} 80 {{\n    lb_algo wlc\n    lb_kind NAT\n    protocol TCP\n" +
                          $"    real_server 203.0.113.{i} 8080 {{\n        weight {weight(i)}\n    }}\n    real_server 203.0.113.{i + 100} 8080 {{\n        weight 1\n    }}\n}}\n");
            return sb.ToString();
        }
        var old = Plan(Config(_ => 1, Enumerable.Range(1, 40))).Ipvs;
        Assert.Equal(43, old.Services.Count);
        var order = Enumerable.Range(1, 40).Where(i => i != 7).ToList(); // 7 removed
        order.Remove(30);
        order.Insert(3, 30);                                             // 30 moved up
        var now = Plan(Config(i => i == 12 ? 5 : 1, order).Replace("203.0.113.1 8080", "203.0.113.99 8080", StringComparison.Ordinal)).Ipvs;

        static string Text(IEnumerable<IpvsOperation> ops) => string.Join("\n", ops.Select(o => $"{o.Kind}: {o.Description}"));
        var diff = KeepalivedIpvsDiff.Compute(old, now, drain: false);
        Assert.Equal(Text(IpvsPlanner.Plan(now.Services, old.Services).Operations), Text(diff.Operations));
        // The group's three services each swap their real server (3 + 3), 7 goes, 12's weight and the first server of
        // virtual server 1 (203.0.113.1, renamed by the same replace) change.
        Assert.Equal(1, diff.Operations.Count(o => o.Kind == IpvsOperationKind.RemoveService));
        Assert.Contains(diff.Operations, o => o.Kind == IpvsOperationKind.UpdateRealServer && o.RealServer!.Weight == 5);
        Assert.Empty(KeepalivedIpvsDiff.Compute(now, Plan(Config(i => i == 12 ? 5 : 1, order).Replace("203.0.113.1 8080", "203.0.113.99 8080", StringComparison.Ordinal)).Ipvs, drain: false).Operations);
    }
}
