using System.Net;
using HaPowerShell.Core.Health;
using HaPowerShell.Core.Ipvs;
using HaPowerShell.Core.Vrrp;
using Xunit;

namespace HaPowerShell.Tests;

/// <summary>Issue 17's second part: what is knowable is refused before anything starts, and nothing claims what did not happen.</summary>
public class HostileValidationTests
{
    private static HealthCheckDefinition Def(string name = "web") => new()
    {
        Name = name,
        Service = new IpvsService { Address = IPAddress.Parse("192.0.2.30"), Port = 80 },
        RealServers = new[] { new IpvsRealServer { Address = IPAddress.Parse("192.0.2.11"), Port = 80, Weight = 1 } },
        Policy = new CheckerPolicy { MonitorOnly = true },
    };

    private static string IdOf(Action a) => Assert.Throws<HealthCheckException>(a).ErrorId;

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("a\nb")]
    public void ACheckerNameMustBeUsable(string name)
    {
        var d = Def(name);
        Assert.Equal("InvalidName", IdOf(() => d.Validate(isRoot: true, d.RealServers)));
    }

    [Fact]
    public void BothCheckerSchedulingSwitchesAtOnceAreRefused()
        => Assert.Equal("InvalidCheckerPriority", IdOf(() => (Def() with { CheckerPriority = 5, CheckerRealtimePriority = 10 }).ValidateSettings(isRoot: true)));

    [Theory]
    [InlineData("2001:db8::9", "SorryServerFamilyMismatch")]
    [InlineData("255.255.255.255", "InvalidAddress")]
    [InlineData("224.0.0.1", "InvalidAddress")]
    public void ASorryServerThatCouldNeverBeAddedIsRefused(string sorry, string id)
    {
        var d = Def() with { SorryServer = IPAddress.Parse(sorry) };
        Assert.Equal(id, IdOf(() => d.Validate(isRoot: true, d.RealServers)));
    }

    [Fact]
    public void ASorryServerOfTheServicesFamilyIsAccepted()
    {
        var d = Def() with { SorryServer = IPAddress.Parse("192.0.2.99"), SorryServerPort = 8080 };
        d.Validate(isRoot: true, d.RealServers);
    }

    [Fact]
    public void ASecondInstanceOwningTheSameAddressIsRefused()
    {
        var lan = new VrrpLan();
        var a = lan.AddRouter("A", "192.0.2.1");
        a.Add(Vrrp.V2(100, "VI_1", 1) with { VirtualAddresses = new[] { VrrpVirtualAddress.Parse("192.0.2.30/24") } });
        var e = Assert.Throws<VrrpConfigurationException>(() =>
            a.Add(Vrrp.V2(100, "VI_2", 2) with { VirtualAddresses = new[] { VrrpVirtualAddress.Parse("192.0.2.31/24"), VrrpVirtualAddress.Parse("192.0.2.30/32") } }));
        var err = Assert.Single(e.Errors);
        Assert.Equal(("VrrpVirtualAddressShared", VrrpField.VirtualAddress, 1), (err.ErrorId, err.Field, err.Index));
        Assert.Contains("'VI_1'", err.Message);
    }

    [Fact]
    public void AReconfigurationGivingOneAddressToTwoInstancesIsRefused()
    {
        var vip = new[] { VrrpVirtualAddress.Parse("192.0.2.30/24") };
        var e = Assert.Throws<VrrpConfigurationException>(() => VrrpReconfigurePlan.Compute(Array.Empty<VrrpInstanceConfig>(),
            new[] { Vrrp.V2(100, "a", 1) with { VirtualAddresses = vip }, Vrrp.V2(100, "b", 2) with { VirtualAddresses = vip } }));
        Assert.Equal("VrrpVirtualAddressShared", Assert.Single(e.Errors).ErrorId);
    }

    [Fact]
    public void AMasterWhoseAddressWasRefusedDoesNotClaimIt_AndStillRemovesWhatItAdded()
    {
        var lan = new VrrpLan();
        var a = lan.AddRouter("A", "192.0.2.1");
        a.Actions.AddSucceeds = false;
        var i = a.Add(Vrrp.V2(255));
        a.Engine.Start();
        lan.RunFor(1_000_000);
        Assert.Equal(VrrpState.Master, i.State);
        Assert.False(i.VirtualAddressesInstalled);
        a.Engine.Stop(i.Name);
        Assert.Contains(a.Actions.Log, l => l.StartsWith("del VI_1", StringComparison.Ordinal));
    }

    [Fact]
    public void AMasterWithEveryAddressInPlaceSaysSo()
    {
        var lan = new VrrpLan();
        var a = lan.AddRouter("A", "192.0.2.1");
        var i = a.Add(Vrrp.V2(255));
        a.Engine.Start();
        lan.RunFor(1_000_000);
        Assert.True(i.VirtualAddressesInstalled);
    }

    [Theory]
    [InlineData("/usr/local/bin/notify.sh up", "/usr/local/bin/notify.sh")]
    [InlineData("'/opt/my scripts/n' a b", "/opt/my scripts/n")]
    [InlineData("  \"x\"y z", "xy")]
    [InlineData("", "")]
    public void TheProgramOfACommandLineIsItsFirstWord(string line, string word)
        => Assert.Equal(word, MiscCheck.FirstWord(line));
}
