using System.Net;
using HaPowerShell.Core.Vrrp;
using Xunit;

namespace HaPowerShell.Tests;

/// <summary>The pure diff of two sets of VRRP instances, and the engine taking a configuration in place.</summary>
public class VrrpReconfigureTests
{
    private static VrrpInstanceConfig C(string name, int vrid, int priority = 100) => Vrrp.V2(priority, name, vrid);

    [Fact]
    public void MatchesByNameAndClassifiesEveryInstance()
    {
        var running = new[] { C("same", 1), C("prio", 2), C("iface", 3), C("gone", 4), C("vips", 5) };
        var wanted = new[]
        {
            C("same", 1), C("prio", 2, 150), C("iface", 3) with { InterfaceName = "eth1" }, C("new", 6),
            C("vips", 5) with { VirtualAddresses = new[] { VrrpVirtualAddress.Parse("192.0.2.100/24"), VrrpVirtualAddress.Parse("192.0.2.101/24") } },
        };
        var plan = VrrpReconfigurePlan.Compute(running, wanted);
        Assert.Equal(new[]
        {
            ("gone", VrrpInstanceChange.Removed), ("iface", VrrpInstanceChange.Replaced), ("prio", VrrpInstanceChange.Updated),
            ("vips", VrrpInstanceChange.Updated), ("same", VrrpInstanceChange.Unchanged), ("new", VrrpInstanceChange.Added),
        }, plan.Items.Select(i => (i.Name, i.Change)));
        Assert.Equal(new[] { VrrpField.Priority }, plan.Items.Single(i => i.Name == "prio").ChangedFields);
        Assert.Equal(new[] { VrrpField.InterfaceName }, plan.Items.Single(i => i.Name == "iface").ChangedFields);
    }

    [Fact]
    public void EqualContentInNewListsIsUnchanged()
    {
        var a = C("a", 1) with
        {
            TrackInterfaces = new[] { new VrrpTrackInterface("eth1", -20) },
            TrackScripts = new[] { new VrrpTrackScript("chk", "true") { Weight = 5 } },
            UnicastPeers = new[] { IPAddress.Parse("192.0.2.2") },
        };
        var b = C("a", 1) with
        {
            TrackInterfaces = new List<VrrpTrackInterface> { new("eth1", -20) },
            TrackScripts = new List<VrrpTrackScript> { new("chk", "true") { Weight = 5 } },
            UnicastPeers = new List<IPAddress> { IPAddress.Parse("192.0.2.2") },
            VirtualAddresses = new List<VrrpVirtualAddress> { VrrpVirtualAddress.Parse("198.51.100.1/24") }, // C(_, 1)'s own address, in a list
        };
        Assert.Empty(a.Differences(b));
        Assert.Equal(VrrpInstanceChange.Unchanged, VrrpReconfigurePlan.Compute(new[] { a }, new[] { b }).Items.Single().Change);
    }

    [Theory]
    [InlineData("VirtualRouterId")]
    [InlineData("Version")]
    [InlineData("AdvertisementInterval")]
    [InlineData("SourceAddress")]
    [InlineData("AcceptMode")]
    [InlineData("SyncGroup")]
    [InlineData("Family")]
    public void WhatCannotChangeWhileRunningReplacesTheInstance(string what)
    {
        var a = C("a", 1);
        var b = what switch
        {
            "VirtualRouterId" => a with { VirtualRouterId = 2 },
            "Version" => a with { Version = VrrpVersion.V3, AdvertisementInterval = TimeSpan.FromSeconds(1) },
            "AdvertisementInterval" => a with { AdvertisementInterval = TimeSpan.FromSeconds(2) },
            "SourceAddress" => a with { SourceAddress = IPAddress.Parse("192.0.2.9") },
            "AcceptMode" => a with { AcceptMode = false },
            "SyncGroup" => a with { SyncGroup = "G" },
            _ => a with { Version = VrrpVersion.V3, VirtualAddresses = new[] { VrrpVirtualAddress.Parse("2001:db8::1") } },
        };
        Assert.Equal(VrrpInstanceChange.Replaced, VrrpReconfigurePlan.Compute(new[] { a }, new[] { b }).Items.Single().Change);
    }

    [Fact]
    public void ANameOrAVridGivenTwiceIsRefused()
    {
        var e = Assert.Throws<VrrpConfigurationException>(() => VrrpReconfigurePlan.Compute(Array.Empty<VrrpInstanceConfig>(), new[] { C("a", 1), C("a", 2), C("b", 1) }));
        // b repeats a's VRID and so its address too
        Assert.Equal(new[] { "VrrpInstanceNameDuplicate", "VrrpInstanceDuplicate", "VrrpVirtualAddressShared" }, e.Errors.Select(x => x.ErrorId));
        // a VRID that moves from one name to another is fine: the old instance is removed first
        var plan = VrrpReconfigurePlan.Compute(new[] { C("old", 1) }, new[] { C("new", 1) });
        Assert.Equal(new[] { VrrpInstanceChange.Removed, VrrpInstanceChange.Added }, plan.Items.Select(i => i.Change));
    }

    /// <summary>Ours (priority 150) Master, a peer (100) Backup, one simulated link.</summary>
    private static (VrrpLan Lan, VrrpRouter Ours, VrrpRouter Peer) MasterAndBackup(VrrpInstanceConfig ours)
    {
        var lan = new VrrpLan();
        var r1 = lan.AddRouter("r1", "192.0.2.1");
        var r2 = lan.AddRouter("r2", "192.0.2.2");
        r1.Add(ours);
        r2.Add(ours with { Priority = 100 });
        r1.Engine.Start();
        r2.Engine.Start();
        lan.RunFor(5 * Vrrp.S);
        Assert.Equal(VrrpState.Master, r1[ours.EffectiveName].State);
        Assert.Equal(VrrpState.Backup, r2[ours.EffectiveName].State);
        return (lan, r1, r2);
    }

    [Fact]
    public void AMasterTakesANewConfigurationInPlaceKeepingItsStateAndAdverts()
    {
        var cfg = C("VI_1", 51, 150) with { VirtualAddresses = new[] { VrrpVirtualAddress.Parse("192.0.2.100/24"), VrrpVirtualAddress.Parse("192.0.2.101/24") } };
        var (lan, ours, peer) = MasterAndBackup(cfg);
        var inst = ours["VI_1"];
        long becameMaster = inst.Counters.BecameMaster;
        int changes = ours.Actions.Changes.Count;
        ours.Actions.Log.Clear();
        int sentBefore = ours.Actions.Sent.Count;

        var updated = inst.Config with
        {
            Priority = 160,
            VirtualAddresses = new[] { VrrpVirtualAddress.Parse("192.0.2.100/24"), VrrpVirtualAddress.Parse("192.0.2.102/24") },
            TrackScripts = new[] { new VrrpTrackScript("chk", "true") { Weight = 10 } },
            NotifyMaster = "/bin/true",
        };
        ours.Engine.Reconfigure("VI_1", updated);
        // the peer gets the same addresses (both routers are reloaded: a backup drops adverts whose list differs from its own)
        peer.Engine.Reconfigure("VI_1", peer["VI_1"].Config with { VirtualAddresses = updated.VirtualAddresses });
        lan.RunFor(5 * Vrrp.S);

        Assert.Same(inst, ours["VI_1"]);
        Assert.Equal(VrrpState.Master, inst.State);
        Assert.Equal(becameMaster, inst.Counters.BecameMaster);
        Assert.Equal(changes, ours.Actions.Changes.Count);               // no state change at all
        Assert.Equal(VrrpState.Backup, peer["VI_1"].State);
        Assert.Equal(0, inst.Counters.PriorityZeroSent);
        // only the difference: 192.0.2.101 removed, 192.0.2.102 added and announced; 192.0.2.100 untouched
        Assert.Equal(new[] { "del VI_1 192.0.2.101/24", "add VI_1 192.0.2.102/24", "garp VI_1 1 Refresh" },
            ours.Actions.Log.Where(l => !l.EndsWith(" Delayed", StringComparison.Ordinal))); // the second burst after becoming Master is its own schedule
        Assert.Equal(170, inst.EffectivePriority);                       // 160 + the script's weight (up)
        Assert.Equal(updated, inst.Config);
        // adverts went on at the interval, and now carry the new priority and addresses
        var adverts = ours.Actions.Sent.Skip(sentBefore).ToList();
        Assert.InRange(adverts.Count, 4, 6);
        Assert.All(adverts.Zip(adverts.Skip(1)), p => Assert.Equal(Vrrp.S, p.Second.At - p.First.At));
        var last = adverts[^1].Advert.Advertisement;
        Assert.Equal(170, last.Priority);
        Assert.Equal(new[] { IPAddress.Parse("192.0.2.100"), IPAddress.Parse("192.0.2.102") }, last.Addresses);
        // the new script is run and its result counts
        Assert.Contains(ours.Actions.ScriptRuns, r => r.Script == "chk");
    }

    [Fact]
    public void ABackupThatLosesPriorityInPlaceStaysBackupAndANewHigherPriorityPreempts()
    {
        var cfg = C("VI_1", 51, 150);
        var (lan, ours, peer) = MasterAndBackup(cfg);
        peer.Engine.Reconfigure("VI_1", peer["VI_1"].Config with { Priority = 200 });   // the backup now outranks: it preempts
        lan.RunFor(5 * Vrrp.S);
        Assert.Equal(VrrpState.Master, peer["VI_1"].State);
        Assert.Equal(VrrpState.Backup, ours["VI_1"].State);
    }

    [Fact]
    public void WhatCannotChangeInPlaceIsRefusedAndNothingChanges()
    {
        var cfg = C("VI_1", 51, 150);
        var (_, ours, _) = MasterAndBackup(cfg);
        var running = ours["VI_1"].Config;
        var e = Assert.Throws<VrrpConfigurationException>(() => ours.Engine.Reconfigure("VI_1", running with { VirtualRouterId = 52, Priority = 10 }));
        Assert.Equal("VrrpReconfigureNotInPlace", e.ErrorId);
        Assert.Equal(VrrpField.VirtualRouterId, e.Errors[0].Field);
        Assert.Equal(150, ours["VI_1"].BasePriority);
        Assert.Throws<VrrpConfigurationException>(() => ours.Engine.Reconfigure("VI_1", running with { Priority = 0 }));
        Assert.Equal(VrrpState.Master, ours["VI_1"].State);
    }
}
