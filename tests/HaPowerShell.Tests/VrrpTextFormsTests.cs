using System.Net;
using System.Text.RegularExpressions;
using HaPowerShell.Core;
using HaPowerShell.Core.Vrrp;
using Xunit;

namespace HaPowerShell.Tests;

/// <summary>keepalived's text forms, the limits and the field keys of VRRP configuration errors.</summary>
public class VrrpTextFormsTests
{
    private sealed class Interfaces : IVrrpInterfaceLookup
    {
        public VrrpInterfaceInfo? Find(string name) => name is "eth0" or "eth1" or "lo" ? new VrrpInterfaceInfo(name, name == "lo" ? 1 : name == "eth0" ? 2 : 3, true, IPAddress.Parse("192.0.2.1")) : null;
        public IReadOnlyList<string> Names => new[] { "lo", "eth0", "eth1" };
    }

    private static VrrpVirtualAddress? Vip(string text, out List<VrrpConfigError> errors)
    {
        errors = new List<VrrpConfigError>();
        return VrrpTextForms.ParseVirtualAddress(text, 3, errors);
    }

    [Fact]
    public void VirtualAddressWithEveryOptionKeepalivedAccepts()
    {
        var v = Vip("192.0.2.1/24 brd 192.0.2.127 dev eth1 scope link label eth1:1 noprefixroute -nodad", out var errors);
        Assert.Empty(errors);
        Assert.Equal(IPAddress.Parse("192.0.2.1"), v!.Address);
        Assert.Equal(24, v.PrefixLength);
        Assert.Equal(IPAddress.Parse("192.0.2.127"), v.Broadcast);
        Assert.Equal("eth1", v.Device);
        Assert.Equal(253, v.Scope);
        Assert.Equal("eth1:1", v.Label);
        Assert.True(v.NoPrefixRoute);
        Assert.Equal("192.0.2.1/24 brd 192.0.2.127 dev eth1 scope link label eth1:1 noprefixroute", v.ToString());

        var plain = Vip("192.0.2.1", out errors);
        Assert.Empty(errors);
        Assert.Equal(new VrrpVirtualAddress(IPAddress.Parse("192.0.2.1"), 32), plain);
        Assert.Equal(128, Vip("2001:db8::1 home", out _)!.PrefixLength);
        Assert.True(Vip("2001:db8::1/64 home", out _)!.HomeAddress);
        Assert.Equal(200, Vip("192.0.2.1/24 scope site", out _)!.Scope);
        Assert.Equal(7, Vip("192.0.2.1/24 broadcast 192.0.2.255 scope 7", out _)!.Scope);
    }

    [Theory]
    [InlineData("10.1", "VrrpVirtualAddressInvalid")]                  // no inet_pton shorthand
    [InlineData("192.0.2.1/33", "VrrpVirtualAddressInvalid")]
    [InlineData("192.0.2.1/24 dev", "VrrpVirtualAddressInvalid")]
    [InlineData("192.0.2.1/24 scope galaxy", "VrrpVirtualAddressInvalid")]
    [InlineData("192.0.2.1/24 brd 192.0.2", "VrrpVirtualAddressInvalid")]
    [InlineData("192.0.2.1/24 labels eth0:1", "VrrpVirtualAddressInvalid")]
    [InlineData("192.0.2.1/24 peer 192.0.2.2", "VrrpVirtualAddressOptionNotSupported")]
    [InlineData("192.0.2.1/24 use_vmac", "VrrpVirtualAddressOptionNotSupported")]
    [InlineData("2001:db8::1%eth0", "VrrpVirtualAddressInvalid")]
    [InlineData("", "VrrpVirtualAddressInvalid")]
    public void BadVirtualAddressesCarryTheFieldTheTextAndTheIndex(string text, string id)
    {
        Assert.Null(Vip(text, out var errors));
        var e = Assert.Single(errors);
        Assert.Equal(id, e.ErrorId);
        Assert.Equal(VrrpField.VirtualAddress, e.Field);
        Assert.Equal(text, e.Value);
        Assert.Equal(3, e.Index);
    }

    private static string[] Ids(VrrpInstanceConfig c) => c.Validate(new Interfaces()).Select(e => e.ErrorId).ToArray();

    private static VrrpInstanceConfig With(params string[] vips)
    {
        var errors = new List<VrrpConfigError>();
        var list = vips.Select((t, i) => VrrpTextForms.ParseVirtualAddress(t, i, errors)!).ToList();
        Assert.Empty(errors);
        return Vrrp.V2(100) with { VirtualAddresses = list };
    }

    [Theory]
    [InlineData("192.0.2.1/24 label eth0:1", null)]
    [InlineData("192.0.2.1/24 label eth0", null)]
    [InlineData("192.0.2.1/24 dev eth1 label eth1:vip", null)]
    [InlineData("192.0.2.1/24 label eth1:1", "VrrpVirtualAddressLabelInvalid")]           // another device's label
    [InlineData("192.0.2.1/24 dev eth1 label eth0:1", "VrrpVirtualAddressLabelInvalid")]
    [InlineData("192.0.2.1/24 label eth0:", "VrrpVirtualAddressLabelInvalid")]
    [InlineData("192.0.2.1/24 label eth0:01234567890", "VrrpVirtualAddressLabelInvalid")] // 16 bytes
    [InlineData("192.0.2.1/24 label eth0:0123456789", null)]                             // 15 bytes
    [InlineData("192.0.2.1/24 label eth0:éééé", null)]                                   // 13 bytes, 9 characters
    [InlineData("192.0.2.1/24 label eth0:éééééé", "VrrpVirtualAddressLabelInvalid")]     // 17 bytes, 11 characters
    [InlineData("192.0.2.1/24 dev eth9", "VrrpInterfaceNotFound")]
    [InlineData("192.0.2.1/24 dev eth0/1", "VrrpVirtualAddressDeviceInvalid")]
    [InlineData("192.0.2.1/24 home", "VrrpVirtualAddressHomeInvalid")]
    public void LabelsDevicesAndFamilyRules(string vip, string? id)
    {
        var ids = Ids(With(vip));
        if (id is null) Assert.Empty(ids);
        else Assert.Equal(new[] { id }, ids);
    }

    [Fact]
    public void IPv6AddressesTakeNoLabelScopeOrBroadcast()
    {
        var c = Vrrp.V3(100) with { VirtualAddresses = new[] { new VrrpVirtualAddress(IPAddress.Parse("2001:db8::1"), 64, "eth0:1") { Scope = 253, Broadcast = IPAddress.Parse("192.0.2.255") } } };
        Assert.Equal(new[] { "VrrpVirtualAddressLabelInvalid", "VrrpVirtualAddressBroadcastInvalid", "VrrpVirtualAddressScopeInvalid" }, Ids(c));
    }

    [Fact]
    public void InterfaceNamesAreCountedInBytes()
    {
        Assert.Null(LinuxNames.InterfaceNameProblem("eth0"));
        Assert.Null(LinuxNames.InterfaceNameProblem("a23456789012345"));
        Assert.NotNull(LinuxNames.InterfaceNameProblem("a234567890123456"));
        Assert.NotNull(LinuxNames.InterfaceNameProblem("éééééééé"));     // 8 characters, 16 bytes
        Assert.Equal(new[] { "VrrpInterfaceNameInvalid" }, Ids(Vrrp.V2(100) with { InterfaceName = "eth:0" }));
    }

    [Theory]
    [InlineData("eth1", "eth1", 0)]
    [InlineData("eth1 weight -20", "eth1", -20)]
    [InlineData("eth1   weight 253", "eth1", 253)]
    [InlineData("eth1 weight -20 noreverse", "eth1", -20)]
    public void TrackInterfaceForms(string text, string name, int weight)
    {
        var errors = new List<VrrpConfigError>();
        Assert.Equal(new VrrpTrackInterface(name, weight), VrrpTextForms.ParseTrackInterface(text, 0, errors));
        Assert.Empty(errors);
    }

    [Theory]
    [InlineData("eth1 weight 254", "VrrpTrackWeightOutOfRange")]
    [InlineData("eth1 weight x", "VrrpTrackInterfaceInvalid")]
    [InlineData("eth1 weigh 2", "VrrpTrackInterfaceInvalid")]
    [InlineData("eth1 weight -20 reverse", "VrrpTrackReverseNotSupported")]
    [InlineData("eth1 reverse", "VrrpTrackInterfaceInvalid")]   // keepalived: reverse only after a weight
    [InlineData("", "VrrpTrackInterfaceInvalid")]
    [InlineData("e:th1", "VrrpTrackInterfaceInvalid")]
    public void BadTrackInterfaces(string text, string id)
    {
        var errors = new List<VrrpConfigError>();
        Assert.Null(VrrpTextForms.ParseTrackInterface(text, 2, errors));
        var e = Assert.Single(errors);
        Assert.Equal(id, e.ErrorId);
        Assert.Equal(VrrpField.TrackInterface, e.Field);
        Assert.Equal(2, e.Index);
    }

    [Fact]
    public void TrackScriptsByNameWithAPerInstanceWeight()
    {
        var errors = new List<VrrpConfigError>();
        var refs = new[] { "chk_haproxy weight -20", "chk_disk", "chk_none" }.Select((t, i) => VrrpTextForms.ParseTrackScriptReference(t, i, errors)!).ToList();
        Assert.Empty(errors);
        var defined = new Dictionary<string, VrrpTrackScript>
        {
            ["chk_haproxy"] = new("chk_haproxy", "pidof haproxy") { Weight = -2, Fall = 2 },
            ["chk_disk"] = new("chk_disk", "test -w /var") { Weight = 10 },
        };
        var scripts = VrrpTextForms.ResolveTrackScripts(refs, defined, errors);
        Assert.Equal(new[] { ("chk_haproxy", -20, 2), ("chk_disk", 10, 1) }, scripts.Select(s => (s.Name, s.Weight, s.Fall)));
        var e = Assert.Single(errors);
        Assert.Equal("VrrpTrackScriptNotFound", e.ErrorId);
        Assert.Equal(2, e.Index);
        Assert.Contains("chk_disk, chk_haproxy", e.Message);
        Assert.Equal(-2, defined["chk_haproxy"].Weight); // the definition is not changed

        // two instances share a script with their own weights; the engine runs it once and applies each weight
        var clock = new FakeVrrpClock();
        var engine = new VrrpEngine(new RecordingVrrpActions(clock), clock);
        var a = engine.Add(Vrrp.V2(100, "A", 1) with { SourceAddress = IPAddress.Parse("192.0.2.2"), TrackScripts = new[] { defined["chk_disk"] with { Weight = -30 } } });
        var b = engine.Add(Vrrp.V2(100, "B", 2) with { SourceAddress = IPAddress.Parse("192.0.2.2"), TrackScripts = new[] { defined["chk_disk"] with { Weight = -5 } } });
        engine.Start();
        engine.ReportTrackScriptResult("chk_disk", false);
        Assert.Equal((70, 95), (a.EffectivePriority, b.EffectivePriority));
    }

    [Theory]
    [InlineData(VrrpField.AdvertisementInterval, 0.0, "VrrpAdvertisementIntervalInvalid")]
    [InlineData(VrrpField.AdvertisementInterval, 256.0, "VrrpAdvertisementIntervalInvalid")]
    [InlineData(VrrpField.PreemptDelay, 1001.0, "VrrpPreemptDelayOutOfRange")]
    [InlineData(VrrpField.GarpDelay, -1.0, "VrrpGarpSettingInvalid")]
    [InlineData(VrrpField.GarpRefresh, 86401.0, "VrrpGarpSettingInvalid")]
    [InlineData(VrrpField.GarpInterval, 1.5, "VrrpGarpSettingInvalid")]
    [InlineData(VrrpField.GarpInterval, double.NaN, "VrrpGarpSettingInvalid")]
    public void SecondsOutsideTheirLimits(VrrpField field, double seconds, string id)
    {
        var errors = new List<VrrpConfigError>();
        VrrpTextForms.Seconds(field, seconds, errors);
        var e = Assert.Single(errors);
        Assert.Equal((id, field), (e.ErrorId, e.Field));
    }

    [Fact]
    public void SecondsAndIntegersFromText()
    {
        var errors = new List<VrrpConfigError>();
        Assert.Equal(TimeSpan.FromMilliseconds(100), VrrpTextForms.ParseSeconds(VrrpField.AdvertisementInterval, "0.1", errors));
        Assert.Equal(TimeSpan.FromSeconds(5), VrrpTextForms.Seconds(VrrpField.GarpDelay, 5, errors));
        Assert.Equal(51, VrrpTextForms.ParseInteger(VrrpField.VirtualRouterId, "51", errors));
        Assert.Empty(errors);
        Assert.Null(VrrpTextForms.ParseSeconds(VrrpField.AdvertisementInterval, "fast", errors));
        Assert.Null(VrrpTextForms.ParseInteger(VrrpField.VirtualRouterId, "256", errors));
        Assert.Null(VrrpTextForms.ParseInteger(VrrpField.EngineRealtimePriority, "0", errors));
        Assert.Equal(new[] { "VrrpAdvertisementIntervalInvalid", "VrrpVirtualRouterIdOutOfRange", "VrrpEngineSchedulingInvalid" }, errors.Select(e => e.ErrorId));
    }

    [Fact]
    public void MessagesNameFieldsOnlyThroughKeysSoEachFrontEndRendersThem()
    {
        var bad = new VrrpInstanceConfig
        {
            InterfaceName = "eth9", VirtualRouterId = 300, Priority = 255, Version = VrrpVersion.V3, NoPreempt = true,
            AdvertisementInterval = TimeSpan.FromMilliseconds(5), AuthenticationPassword = "x", PreemptDelay = TimeSpan.FromSeconds(2000),
            VirtualAddresses = new[] { VrrpVirtualAddress.Parse("192.0.2.1/24", "eth1:1"), VrrpVirtualAddress.Parse("2001:db8::1") },
            UnicastPeers = new[] { IPAddress.Parse("2001:db8::2"), IPAddress.Parse("2001:db8::2") },
            Garp = new VrrpGarpSettings { Repeat = 0, Interval = TimeSpan.FromSeconds(2) },
            TrackInterfaces = new[] { new VrrpTrackInterface("eth1", 300) },
            TrackScripts = new[] { new VrrpTrackScript("s", "true") { Rise = 0 } },
        };
        var errors = bad.Validate(new Interfaces());
        Assert.True(errors.Count >= 15, string.Join("\n", errors));
        foreach (var e in errors)
        {
            // no cmdlet parameter or keepalived keyword is written into Core's text
            Assert.DoesNotMatch(new Regex(@"(^|[\s(])-[A-Z]"), e.Template);
            Assert.DoesNotContain("virtual_router_id", e.Template);
            var cmdlet = e.Render(f => "-" + f);
            var conf = e.Render(VrrpFields.KeepalivedKeyword);
            Assert.DoesNotContain("{", cmdlet);
            Assert.DoesNotContain("{", conf);
        }
        var vrid = errors.Single(e => e.ErrorId == "VrrpVirtualRouterIdOutOfRange");
        Assert.Equal(VrrpField.VirtualRouterId, vrid.Field);
        Assert.Equal("300", vrid.Value);
        Assert.Equal("-VirtualRouterId 300 is outside 1-255.", vrid.Render(f => "-" + f));
        Assert.Equal("virtual_router_id 300 is outside 1-255.", vrid.Render(VrrpFields.KeepalivedKeyword));
        Assert.Equal("VirtualRouterId 300 is outside 1-255.", vrid.Message);
        var np = errors.Single(e => e.ErrorId == "VrrpPreemptDelayWithNoPreempt");
        Assert.Equal("preempt_delay has no meaning with nopreempt; use one or the other.", np.Render(VrrpFields.KeepalivedKeyword));
        var label = errors.Single(e => e.ErrorId == "VrrpVirtualAddressLabelInvalid");
        Assert.Equal(0, label.Index);
        Assert.Contains(errors, e => e.ErrorId == "VrrpUnicastPeerDuplicate" && e.Index == 1);
    }

    [Fact]
    public void EveryFieldHasAKeepalivedKeywordAndEveryErrorIdIsStable()
    {
        foreach (var f in Enum.GetValues<VrrpField>())
            Assert.Matches("^[a-z_/]+$", VrrpFields.KeepalivedKeyword(f));
        Assert.Equal("{x} stays", new VrrpConfigError("Id", VrrpField.Name, "{x} stays").Message);
        Assert.Equal("{1} stays", new VrrpConfigError("Id", VrrpField.Name, "{1} stays").Message);
    }
}
