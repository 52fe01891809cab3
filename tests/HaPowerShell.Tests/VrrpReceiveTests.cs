using System.Net;
using System.Net.Sockets;
using HaPowerShell.Core.Vrrp;
using Xunit;

namespace HaPowerShell.Tests;

public class VrrpReceiveTests
{
    private static (VrrpEngine Engine, VrrpInstance Instance, FakeVrrpClock Clock) Started(VrrpInstanceConfig c)
    {
        var clock = new FakeVrrpClock();
        var engine = new VrrpEngine(new RecordingVrrpActions(clock), clock);
        var i = engine.Add(c with { SourceAddress = c.SourceAddress ?? (c.AddressFamily == AddressFamily.InterNetworkV6 ? IPAddress.Parse("fe80::1") : IPAddress.Parse("192.0.2.1")) });
        engine.Start();
        return (engine, i, clock);
    }

    private static VrrpReceivedPacket WithMessage(VrrpReceivedPacket p, Action<byte[]> edit, bool fixChecksum, VrrpInstanceConfig c)
    {
        var m = p.Message.ToArray();
        edit(m);
        if (fixChecksum)
        {
            m[6] = m[7] = 0;
            ushort sum = VrrpCodec.ComputeChecksum(m, c.Version, c.AddressFamily, p.Source, p.Destination, c.ChecksumMode);
            m[6] = (byte)(sum >> 8);
            m[7] = (byte)sum;
        }
        return p with { Message = m };
    }

    [Fact]
    public void Each_rejection_reason_is_counted()
    {
        var cfg = Vrrp.V2(100) with { AuthenticationPassword = "secret" };
        var (e, i, _) = Started(cfg);
        var good = Vrrp.AdvertFrom(cfg, "192.0.2.2", 100);
        Assert.Equal(VrrpRejectReason.None, e.Receive("eth0", good));

        void Expect(VrrpRejectReason r, VrrpReceivedPacket p)
        {
            long before = i.Counters.Rejected(r) + e.Counters.Rejected(r);
            Assert.Equal(r, e.Receive("eth0", p));
            Assert.Equal(before + 1, i.Counters.Rejected(r) + e.Counters.Rejected(r));
        }

        Expect(VrrpRejectReason.TtlInvalid, good with { HopLimit = 254 });
        Expect(VrrpRejectReason.VersionMismatch, WithMessage(good, m => m[0] = 0x31, true, cfg));
        Expect(VrrpRejectReason.TypeInvalid, WithMessage(good, m => m[0] = 0x22, true, cfg));
        Expect(VrrpRejectReason.VridUnknown, WithMessage(good, m => m[1] = 52, true, cfg));
        Expect(VrrpRejectReason.LengthMismatch, good with { Message = good.Message.ToArray().Concat(new byte[4]).ToArray() });
        Expect(VrrpRejectReason.LengthMismatch, WithMessage(good, m => m[3] = 2, true, cfg));
        Expect(VrrpRejectReason.ChecksumInvalid, WithMessage(good, m => m[7] ^= 1, false, cfg));
        Expect(VrrpRejectReason.AuthTypeInvalid, WithMessage(good, m => m[4] = 7, true, cfg));
        Expect(VrrpRejectReason.AuthTypeMismatch, WithMessage(good, m => m[4] = 0, true, cfg));
        Expect(VrrpRejectReason.AuthTypeMismatch, WithMessage(good, m => m[4] = 2, true, cfg));
        Expect(VrrpRejectReason.AuthFailure, WithMessage(good, m => m[12] = (byte)'S', true, cfg));
        Expect(VrrpRejectReason.IntervalMismatch, WithMessage(good, m => m[5] = 2, true, cfg));
        Expect(VrrpRejectReason.AddressListMismatch, WithMessage(good, m => m[11] = 99, true, cfg));
        Expect(VrrpRejectReason.OwnAdvertisement, good with { Source = IPAddress.Parse("192.0.2.1") });
        Expect(VrrpRejectReason.UnicastMulticastMismatch, Vrrp.AdvertFrom(cfg with { UnicastPeers = new[] { IPAddress.Parse("192.0.2.2") } }, "192.0.2.2", 100));
        Expect(VrrpRejectReason.AddressFamilyMismatch, good with { Source = IPAddress.Parse("2001:db8::2") });
        Expect(VrrpRejectReason.Truncated, good with { Message = new byte[] { 0x21 } });
        Expect(VrrpRejectReason.Truncated, good with { Message = good.Message[..5] });

        Assert.Equal(1, i.Counters.AdvertisementsReceived);
    }

    [Fact]
    public void Address_owner_advert_with_a_different_list_is_still_accepted()
    {
        var cfg = Vrrp.V2(100);
        var (e, i, _) = Started(cfg);
        var p = WithMessage(Vrrp.AdvertFrom(cfg, "192.0.2.2", 255), m => m[11] = 99, true, cfg);
        Assert.Equal(VrrpRejectReason.None, e.Receive("eth0", p));
        Assert.Equal(255, i.MasterPriority);
    }

    [Fact]
    public void Unicast_source_must_be_a_peer_unless_disabled()
    {
        var cfg = Vrrp.V3(100) with { UnicastPeers = new[] { IPAddress.Parse("192.0.2.2") } };
        var (e, _, _) = Started(cfg);
        Assert.Equal(VrrpRejectReason.None, e.Receive("eth0", Vrrp.AdvertFrom(cfg, "192.0.2.2", 100)));
        Assert.Equal(VrrpRejectReason.UnknownUnicastSource, e.Receive("eth0", Vrrp.AdvertFrom(cfg, "192.0.2.3", 100)));
        var (e2, _, _) = Started(cfg with { CheckUnicastSource = false });
        Assert.Equal(VrrpRejectReason.None, e2.Receive("eth0", Vrrp.AdvertFrom(cfg, "192.0.2.3", 100)));
        // Unicast adverts need not carry TTL 255 (they may be routed).
        Assert.Equal(VrrpRejectReason.None, e.Receive("eth0", Vrrp.AdvertFrom(cfg, "192.0.2.2", 100, ttl: 64)));
    }

    [Fact]
    public void V3_checksum_modes()
    {
        var cfg = Vrrp.V3(100);
        var v2style = cfg with { ChecksumMode = VrrpChecksumMode.V2Style };
        var (e, _, _) = Started(cfg);
        var (e2, _, _) = Started(v2style);
        Assert.Equal(VrrpRejectReason.None, e.Receive("eth0", Vrrp.AdvertFrom(cfg, "192.0.2.2", 100)));
        Assert.Equal(VrrpRejectReason.ChecksumInvalid, e.Receive("eth0", Vrrp.AdvertFrom(v2style, "192.0.2.2", 100)));
        Assert.Equal(VrrpRejectReason.None, e2.Receive("eth0", Vrrp.AdvertFrom(v2style, "192.0.2.2", 100)));
        Assert.Equal(VrrpRejectReason.ChecksumInvalid, e2.Receive("eth0", Vrrp.AdvertFrom(cfg, "192.0.2.2", 100)));
    }

    [Fact]
    public void V3_interval_zero_is_rejected_and_a_different_interval_is_accepted()
    {
        var cfg = Vrrp.V3(100);
        var (e, i, _) = Started(cfg);
        Assert.Equal(VrrpRejectReason.IntervalInvalid, e.Receive("eth0", Vrrp.AdvertFrom(cfg, "192.0.2.2", 100, intervalUnits: 0)));
        Assert.Equal(VrrpRejectReason.None, e.Receive("eth0", Vrrp.AdvertFrom(cfg, "192.0.2.2", 100, intervalUnits: 25)));
        Assert.Equal(250_000, i.MasterAdverIntervalMicroseconds);
    }

    [Fact]
    public void IPv6_advert_is_validated_with_its_pseudo_header()
    {
        var cfg = Vrrp.V3(100) with { VirtualAddresses = new[] { VrrpVirtualAddress.Parse("2001:db8::100") } };
        var (e, i, _) = Started(cfg);
        var p = Vrrp.AdvertFrom(cfg, "fe80::2", 200);
        Assert.Equal(VrrpCodec.MulticastIPv6, p.Destination);
        Assert.Equal(VrrpRejectReason.None, e.Receive("eth0", p));
        Assert.Equal(VrrpRejectReason.ChecksumInvalid, e.Receive("eth0", p with { Source = IPAddress.Parse("fe80::3") }));
        Assert.Equal(VrrpRejectReason.TtlInvalid, e.Receive("eth0", p with { HopLimit = 1 }));
        Assert.Equal(1, i.Counters.AdvertisementsReceived);
    }

    [Fact]
    public void IPv4_datagram_path_counts_header_errors_against_the_instance()
    {
        var cfg = Vrrp.V2(100);
        var (e, i, _) = Started(cfg);
        var good = Vrrp.AdvertFrom(cfg, "192.0.2.2", 100);
        var dg = VrrpCodec.BuildIPv4Datagram(good.Source, good.Destination, good.Message.Span);
        Assert.Equal(VrrpRejectReason.None, e.ReceiveIPv4Datagram("eth0", dg));
        var frag = (byte[])dg.Clone();
        frag[6] = 0x20;
        Assert.Equal(VrrpRejectReason.IpHeaderInvalid, e.ReceiveIPv4Datagram("eth0", frag));
        Assert.Equal(1, i.Counters.Rejected(VrrpRejectReason.IpHeaderInvalid));
        var ttl = VrrpCodec.BuildIPv4Datagram(good.Source, good.Destination, good.Message.Span, ttl: 1);
        Assert.Equal(VrrpRejectReason.TtlInvalid, e.ReceiveIPv4Datagram("eth0", ttl));
        Assert.Equal(VrrpRejectReason.Truncated, e.ReceiveIPv4Datagram("eth0", new byte[3]));
        Assert.Equal(1, e.Counters.Rejected(VrrpRejectReason.Truncated));
        Assert.Equal(VrrpRejectReason.VridUnknown, e.ReceiveIPv4Datagram("eth1", dg));
    }

    [Fact]
    public void Fuzz_100000_random_and_mutated_packets_never_throw()
    {
        var rng = new Random(5798);
        var v2 = Vrrp.V2(100) with { AuthenticationPassword = "secret" };
        var v3 = Vrrp.V3(100, 100, "VI_3", 52);
        var v6 = Vrrp.V3(100, 100, "VI_6", 53) with { VirtualAddresses = new[] { VrrpVirtualAddress.Parse("2001:db8::100"), VrrpVirtualAddress.Parse("2001:db8::101") }, SourceAddress = IPAddress.Parse("fe80::1") };
        var clock = new FakeVrrpClock();
        var engine = new VrrpEngine(new RecordingVrrpActions(clock), clock);
        engine.Add(v2 with { SourceAddress = IPAddress.Parse("192.0.2.1") });
        engine.Add(v3 with { SourceAddress = IPAddress.Parse("192.0.2.1") });
        engine.Add(v6);
        engine.Start();
        var seeds4 = new[]
        {
            Vrrp.AdvertFrom(v2, "192.0.2.2", 100), Vrrp.AdvertFrom(v2, "192.0.2.2", 0), Vrrp.AdvertFrom(v3, "192.0.2.2", 200),
            Vrrp.AdvertFrom(v3, "192.0.2.3", 50),
        };
        var seeds6 = new[] { Vrrp.AdvertFrom(v6, "fe80::2", 100), Vrrp.AdvertFrom(v6, "fe80::3", 254) };
        var results = new Dictionary<VrrpRejectReason, int>();
        const int N = 100_000;
        for (int n = 0; n < N; n++)
        {
            VrrpRejectReason r;
            int mode = n % 5;
            bool six = n % 7 == 0;
            var seed = six ? seeds6[rng.Next(seeds6.Length)] : seeds4[rng.Next(seeds4.Length)];
            if (mode == 0)
            {
                // Entirely random bytes as a raw IPv4 datagram.
                var b = new byte[rng.Next(0, 120)];
                rng.NextBytes(b);
                if (b.Length > 0 && rng.Next(2) == 0) b[0] = 0x45;
                if (b.Length > 9 && rng.Next(2) == 0) b[9] = 112;
                r = engine.ReceiveIPv4Datagram("eth0", b);
            }
            else if (mode == 1)
            {
                // Random VRRP message with a plausible header.
                var b = new byte[rng.Next(0, 80)];
                rng.NextBytes(b);
                if (b.Length > 1) { b[0] = (byte)(rng.Next(2) == 0 ? 0x21 : 0x31); b[1] = (byte)rng.Next(50, 55); }
                r = engine.Receive("eth0", seed with { Message = b });
            }
            else
            {
                // Mutations of a good advert: bit flips, byte sets, truncation, extension, header fields.
                var m = seed.Message.ToArray();
                int edits = rng.Next(1, 4);
                for (int k = 0; k < edits; k++)
                {
                    switch (rng.Next(6))
                    {
                        case 0: if (m.Length > 0) m[rng.Next(m.Length)] ^= (byte)(1 << rng.Next(8)); break;
                        case 1: if (m.Length > 0) m[rng.Next(m.Length)] = (byte)rng.Next(256); break;
                        case 2: m = m[..rng.Next(m.Length + 1)]; break;
                        case 3: m = m.Concat(Enumerable.Range(0, rng.Next(1, 20)).Select(_ => (byte)rng.Next(256))).ToArray(); break;
                        case 4: if (m.Length > 3) m[3] = (byte)rng.Next(256); break;
                        case 5: if (m.Length > 0) m[0] = (byte)rng.Next(256); break;
                    }
                }
                var p = seed with { Message = m, HopLimit = rng.Next(10) == 0 ? rng.Next(256) : 255 };
                if (mode == 4 && !six)
                {
                    var dg = VrrpCodec.BuildIPv4Datagram(p.Source, p.Destination, m, (byte)p.HopLimit);
                    if (rng.Next(3) == 0) dg[rng.Next(20)] = (byte)rng.Next(256);
                    r = engine.ReceiveIPv4Datagram("eth0", dg);
                }
                else r = engine.Receive("eth0", p);
            }
            results[r] = results.GetValueOrDefault(r) + 1;
            if (n % 1000 == 0) { clock.NowMicroseconds += 10_000; engine.RunDueTimers(); }
        }

        Assert.Equal(N, results.Values.Sum());
        long rejected = engine.Counters.TotalRejected + engine.Instances.Sum(i => i.Counters.TotalRejected);
        long accepted = engine.Instances.Sum(i => i.Counters.AdvertisementsReceived);
        Assert.Equal(N, rejected + accepted);
        Assert.Equal(results.GetValueOrDefault(VrrpRejectReason.None), accepted);
        Assert.True(accepted > 0);
        foreach (var expected in new[] { VrrpRejectReason.Truncated, VrrpRejectReason.LengthMismatch, VrrpRejectReason.ChecksumInvalid,
                                         VrrpRejectReason.IpHeaderInvalid, VrrpRejectReason.VersionMismatch, VrrpRejectReason.VridUnknown,
                                         VrrpRejectReason.TtlInvalid, VrrpRejectReason.TypeInvalid, VrrpRejectReason.NotVrrp })
            Assert.Contains(expected, results.Keys);
        Assert.True(results.Count > 8, string.Join(", ", results.Select(kv => $"{kv.Key}={kv.Value}")));
    }
}
