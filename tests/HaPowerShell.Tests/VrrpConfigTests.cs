using System.Net;
using HaPowerShell.Core.Vrrp;
using Xunit;

namespace HaPowerShell.Tests;

public class VrrpConfigTests
{
    private sealed class Interfaces : IVrrpInterfaceLookup
    {
        private readonly Dictionary<string, VrrpInterfaceInfo> _all = new()
        {
            ["lo"] = new("lo", 1, true, IPAddress.Loopback),
            ["eth0"] = new("eth0", 2, true, IPAddress.Parse("192.0.2.1"), IPAddress.Parse("fe80::1")),
            ["eth1"] = new("eth1", 3, true),
        };
        public VrrpInterfaceInfo? Find(string name) => _all.GetValueOrDefault(name);
        public IReadOnlyList<string> Names => _all.Keys.ToList();
    }

    private static VrrpInstanceConfig Good => Vrrp.V2(100);

    private static string[] Ids(VrrpInstanceConfig c) => c.Validate(new Interfaces()).Select(e => e.ErrorId).ToArray();

    [Fact]
    public void Valid_configurations_have_no_errors()
    {
        Assert.Empty(Ids(Good));
        Assert.Empty(Ids(Vrrp.V3(100, 10)));
        Assert.Empty(Ids(Vrrp.V3(255, 40950)));
        Assert.Empty(Ids(Good with { AuthenticationPassword = "secret12", Priority = 255, AdvertisementInterval = TimeSpan.FromSeconds(255) }));
        Assert.Empty(Ids(Vrrp.V3(100) with { VirtualAddresses = new[] { VrrpVirtualAddress.Parse("2001:db8::1/64") } }));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(256)]
    [InlineData(-1)]
    public void Vrid_outside_1_255(int vrid)
        => Assert.Equal(new[] { "VrrpVirtualRouterIdOutOfRange" }, Ids(Good with { VirtualRouterId = vrid }));

    [Theory]
    [InlineData(0)]
    [InlineData(256)]
    public void Priority_outside_1_255(int p)
        => Assert.Equal(new[] { "VrrpPriorityOutOfRange" }, Ids(Good with { Priority = p }));

    [Theory]
    [InlineData(VrrpVersion.V2, 0)]
    [InlineData(VrrpVersion.V2, 500)]
    [InlineData(VrrpVersion.V2, 1500)]
    [InlineData(VrrpVersion.V2, 256_000)]
    [InlineData(VrrpVersion.V3, 0)]
    [InlineData(VrrpVersion.V3, 5)]
    [InlineData(VrrpVersion.V3, 15)]
    [InlineData(VrrpVersion.V3, 40960)]
    public void Interval_invalid_for_version(VrrpVersion v, int ms)
        => Assert.Equal(new[] { "VrrpAdvertisementIntervalInvalid" }, Ids(Good with { Version = v, AdvertisementInterval = TimeSpan.FromMilliseconds(ms) }));

    [Fact]
    public void Interval_units_per_version()
    {
        Assert.Equal(3, (Good with { AdvertisementInterval = TimeSpan.FromSeconds(3) }).AdvertisementIntervalUnits);
        Assert.Equal(1, Vrrp.V3(100, 10).AdvertisementIntervalUnits);
        Assert.Equal(4095, Vrrp.V3(100, 40950).AdvertisementIntervalUnits);
        Assert.Equal(10_000, Vrrp.V3(100, 10).AdvertisementIntervalMicroseconds);
    }

    [Fact]
    public void Authentication_only_with_v2()
    {
        Assert.Equal(new[] { "VrrpAuthenticationWithVersion3" }, Ids(Vrrp.V3(100) with { AuthenticationPassword = "x" }));
        Assert.Equal(new[] { "VrrpAuthenticationPasswordInvalid" }, Ids(Good with { AuthenticationPassword = "123456789" }));
        Assert.Equal(new[] { "VrrpAuthenticationPasswordInvalid" }, Ids(Good with { AuthenticationPassword = "" }));
    }

    [Fact]
    public void Unknown_interface_lists_the_ones_that_exist()
    {
        var errors = (Good with { InterfaceName = "eth9" }).Validate(new Interfaces());
        var e = Assert.Single(errors);
        Assert.Equal("InterfaceNotFound", e.ErrorId);
        Assert.Equal(VrrpField.InterfaceName, e.Field);
        Assert.Contains("lo, eth0, eth1", e.Message);
        Assert.Equal(new[] { "InterfaceNotFound" }, Ids(Good with { TrackInterfaces = new[] { new VrrpTrackInterface("eth7") } }));
        Assert.Equal(new[] { "VrrpInterfaceRequired" }, Ids(Good with { InterfaceName = "" }));
    }

    [Fact]
    public void Virtual_address_rules()
    {
        Assert.Equal(new[] { "VrrpVirtualAddressRequired" }, Ids(Good with { VirtualAddresses = Array.Empty<VrrpVirtualAddress>() }));
        Assert.Equal(new[] { "VrrpVirtualAddressFamilyMixed" }, Ids(Vrrp.V3(100) with
        {
            VirtualAddresses = new[] { VrrpVirtualAddress.Parse("192.0.2.1"), VrrpVirtualAddress.Parse("2001:db8::1") },
        }));
        Assert.Equal(new[] { "VrrpIPv6RequiresVersion3" }, Ids(Good with { VirtualAddresses = new[] { VrrpVirtualAddress.Parse("2001:db8::1") } }));
        Assert.Equal(new[] { "VrrpVirtualAddressDuplicate" }, Ids(Good with
        {
            VirtualAddresses = new[] { VrrpVirtualAddress.Parse("192.0.2.1/24"), VrrpVirtualAddress.Parse("192.0.2.1/32") },
        }));
        Assert.Equal(new[] { "VrrpVirtualAddressPrefixInvalid" }, Ids(Good with { VirtualAddresses = new[] { new VrrpVirtualAddress(IPAddress.Parse("192.0.2.1"), 0) } }));
        Assert.Equal(new[] { "VrrpVirtualAddressInvalid" }, Ids(Good with { VirtualAddresses = new[] { VrrpVirtualAddress.Parse("224.0.0.18") } }));
        Assert.Equal(new[] { "VrrpVirtualAddressLabelInvalid" }, Ids(Good with { VirtualAddresses = new[] { VrrpVirtualAddress.Parse("192.0.2.1", "a-label-that-is-too-long") } }));
        Assert.Equal(new[] { "VrrpTooManyVirtualAddresses" }, Ids(Good with
        {
            VirtualAddresses = Enumerable.Range(1, 256).Select(i => new VrrpVirtualAddress(new IPAddress(new byte[] { 10, 0, (byte)(i >> 8), (byte)i }))).ToArray(),
        }));
    }

    [Fact]
    public void Virtual_address_parse()
    {
        var v = VrrpVirtualAddress.Parse("192.0.2.10/24", "eth0:1");
        Assert.Equal(IPAddress.Parse("192.0.2.10"), v.Address);
        Assert.Equal(24, v.PrefixLength);
        Assert.Equal("eth0:1", v.Label);
        Assert.Equal(128, VrrpVirtualAddress.Parse("2001:db8::1").PrefixLength);
        Assert.False(VrrpVirtualAddress.TryParse("192.0.2.1/33", out _));
        Assert.False(VrrpVirtualAddress.TryParse("nonsense", out _));
        Assert.False(VrrpVirtualAddress.TryParse("192.0.2.1/-1", out _));
        // The module's strict parser: inet_aton shorthand is not an address ('1' is not 0.0.0.1).
        Assert.False(VrrpVirtualAddress.TryParse("1", out _));
        Assert.False(VrrpVirtualAddress.TryParse("192.0.2/24", out _));
        Assert.False(VrrpVirtualAddress.TryParse("fe80::1%eth0", out _));
    }

    [Fact]
    public void Preempt_rules()
    {
        Assert.Equal(new[] { "VrrpPreemptDelayWithNoPreempt" }, Ids(Good with { NoPreempt = true, PreemptDelay = TimeSpan.FromSeconds(5) }));
        Assert.Equal(new[] { "VrrpPreemptDelayOutOfRange" }, Ids(Good with { PreemptDelay = TimeSpan.FromSeconds(1001) }));
        Assert.Equal(new[] { "VrrpNoPreemptWithOwner" }, Ids(Good with { NoPreempt = true, Priority = 255 }));
    }

    [Fact]
    public void Unicast_peer_rules()
    {
        Assert.Empty(Ids(Good with { UnicastPeers = new[] { IPAddress.Parse("192.0.2.2") } }));
        Assert.Equal(new[] { "VrrpUnicastPeerFamilyMismatch" }, Ids(Good with { UnicastPeers = new[] { IPAddress.Parse("2001:db8::2") } }));
        Assert.Equal(new[] { "VrrpUnicastPeerDuplicate" }, Ids(Good with { UnicastPeers = new[] { IPAddress.Parse("192.0.2.2"), IPAddress.Parse("192.0.2.2") } }));
    }

    [Fact]
    public void Tracker_rules()
    {
        Assert.Equal(new[] { "VrrpTrackWeightOutOfRange" }, Ids(Good with { TrackInterfaces = new[] { new VrrpTrackInterface("eth1", 254) } }));
        Assert.Equal(new[] { "VrrpTrackDuplicate" }, Ids(Good with { TrackInterfaces = new[] { new VrrpTrackInterface("eth1"), new VrrpTrackInterface("eth1", 5) } }));
        Assert.Equal(new[] { "VrrpTrackScriptInvalid" }, Ids(Good with { TrackScripts = new[] { new VrrpTrackScript("s", "/bin/true") { Rise = 0 } } }));
        Assert.Equal(new[] { "VrrpTrackScriptInvalid" }, Ids(Good with { TrackScripts = new[] { new VrrpTrackScript("s", "/bin/true") { Interval = TimeSpan.Zero } } }));
        Assert.Equal(new[] { "VrrpTrackScriptInvalid" }, Ids(Good with { TrackScripts = new[] { new VrrpTrackScript("s", "") } }));
        Assert.Equal(new[] { "VrrpGarpSettingInvalid" }, Ids(Good with { Garp = new VrrpGarpSettings { Repeat = 0 } }));
    }

    [Fact]
    public void Every_problem_is_reported_and_the_exception_carries_the_first_id()
    {
        var bad = Good with { VirtualRouterId = 0, Priority = 300, Version = VrrpVersion.V3, AuthenticationPassword = "x", AdvertisementInterval = TimeSpan.FromMilliseconds(1) };
        var ex = Assert.Throws<VrrpConfigurationException>(() => bad.ThrowIfInvalid());
        Assert.Equal("VrrpVirtualRouterIdOutOfRange", ex.ErrorId);
        Assert.Equal(new[] { "VrrpVirtualRouterIdOutOfRange", "VrrpPriorityOutOfRange", "VrrpAdvertisementIntervalInvalid", "VrrpAuthenticationWithVersion3" },
            ex.Errors.Select(e => e.ErrorId));
        Assert.Equal("VirtualRouterId", ex.ParamName);
        Assert.DoesNotContain("(Parameter", ex.Message);
    }

    [Fact]
    public void Engine_resolves_the_primary_address_from_the_interface()
    {
        var engine = new VrrpEngine(new RecordingVrrpActions(new FakeVrrpClock()), new FakeVrrpClock(), new Interfaces());
        Assert.Equal(IPAddress.Parse("192.0.2.1"), engine.Add(Good).PrimaryAddress);
        var six = engine.Add(Vrrp.V3(100, 100, "six") with { VirtualAddresses = new[] { VrrpVirtualAddress.Parse("2001:db8::1") } });
        Assert.Equal(IPAddress.Parse("fe80::1"), six.PrimaryAddress);
        var ex = Assert.Throws<VrrpConfigurationException>(() => engine.Add(Vrrp.V2(100, "x", 9) with { InterfaceName = "eth1" }));
        Assert.Equal("VrrpSourceAddressMissing", ex.ErrorId);
        Assert.Equal("InterfaceNotFound", Assert.Throws<VrrpConfigurationException>(() => engine.Add(Vrrp.V2(100, "y", 10) with { InterfaceName = "nope" })).ErrorId);
        Assert.Equal(2, engine.Instances.Count);
    }

    [Fact]
    public void Default_name_follows_interface_and_vrid()
        => Assert.Equal("VI_eth0_51", (Good with { Name = null }).EffectiveName);
}
