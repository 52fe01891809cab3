using HaPowerShell.Core.Vrrp;
using HaPowerShell.Hosting.Vrrp;
using Xunit;

namespace HaPowerShell.Tests;

/// <summary>
/// A Master's steady state (timer turns that send adverts) allocates nothing: hapd's resident memory at 50
/// instances at 100 ms depended on it (each turn built every instance's timer list and advert anew: 3.2 MB/s of
/// garbage that kept a 4 MB heap region touched). Counted on this thread, so the engine must run here.
/// </summary>
public class VrrpSteadyStateTests
{
    [Theory]
    [InlineData(VrrpVersion.V3)]
    [InlineData(VrrpVersion.V2)]
    public void Fifty_masters_send_adverts_without_allocating(VrrpVersion version)
    {
        var clock = new FakeVrrpClock();
        var engine = new VrrpEngine(VrrpNoActions.Instance, clock);
        for (int vrid = 1; vrid <= 50; vrid++)
            engine.Add((version == VrrpVersion.V3 ? Vrrp.V3(100, 100, $"VI_{vrid}", vrid) : Vrrp.V2(100, $"VI_{vrid}", vrid))
                with { SourceAddress = System.Net.IPAddress.Parse("192.0.2.1") });
        engine.Start();
        void Run(long until)
        {
            while (engine.NextDueMicroseconds is { } due && due <= until)
            {
                clock.NowMicroseconds = due;
                engine.RunDueTimers();
            }
        }
        Run(10 * Vrrp.S); // every instance Master, its GARP refreshes done, each code path run once
        Assert.All(engine.Instances, i => Assert.Equal(VrrpState.Master, i.State));
        long Sent() => engine.Instances.Sum(i => i.Counters.AdvertisementsSent);
        long sentBefore = Sent();
        long before = GC.GetAllocatedBytesForCurrentThread();
        Run(20 * Vrrp.S);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        long sent = Sent() - sentBefore;
        Assert.True(sent >= 50 * (version == VrrpVersion.V3 ? 90 : 9), $"sent {sent}");
        Assert.Equal(0, allocated);
    }
}
