using System.Text;
using HaPowerShell.Core.Keepalived;
using Xunit;
using static HaPowerShell.Tests.KeepalivedTestKit;

namespace HaPowerShell.Tests;

/// <summary>
/// Input meant to hurt: the parser ends with findings, within its bounds, whatever it is given.
/// (No timing asserts: the bounds are counts and sizes, which these tests check.)
/// </summary>
public class KeepalivedHostileInputTests
{
    /// <summary>A file that never ends (/dev/zero, /dev/urandom): it gives whatever is asked for, one byte pattern or another.</summary>
    private sealed class EndlessSource : IKeepalivedConfigSource
    {
        private readonly Func<long, byte> _byte;
        public long BytesGiven { get; private set; }

        public EndlessSource(Func<long, byte> b) => _byte = b;

        public KeepalivedGlobResult Glob(string pattern, int maxMatches)
            => new() { Matches = new[] { pattern } };

        public KeepalivedFileKind GetKind(string path) => KeepalivedFileKind.RegularFile;

        public byte[] Read(string path, long maxBytes, CancellationToken cancel)
        {
            var buf = new byte[maxBytes + 1];
            for (long i = 0; i < buf.LongLength; i++) buf[i] = _byte(i);
            BytesGiven += buf.LongLength;
            return buf;
        }
    }

    [Fact]
    public void DevZero_IsNotReadPastTheLimit()
    {
        var src = new EndlessSource(_ => 0);
        var r = KeepalivedParser.Parse("/dev/zero", src, new KeepalivedParseOptions { MaxFileSize = 1 << 20 });
        var f = Assert.Single(r.Findings, x => x.Category == KeepalivedFindingCategory.Limit);
        Assert.Contains("larger than 1048576 bytes", f.Message);
        Assert.False(r.IsValid);
        Assert.True(src.BytesGiven <= 4L * ((1 << 20) + 1), $"{src.BytesGiven} bytes read");
    }

    [Fact]
    public void RandomBytes_WithinTheLimit_GiveBoundedFindings()
    {
        var rng = new Random(42);
        var bytes = new byte[2 << 20];
        rng.NextBytes(bytes);
        var src = new KeepalivedMemorySource().Add(MainFile, bytes);
        var r = Parse(src, new KeepalivedParseOptions { MaxFindings = 1000 });
        Assert.False(r.IsValid);
        Assert.True(r.Findings.Count <= 1001);
        Assert.Contains(r.Findings, f => f.Message.Contains("more findings not shown"));
    }

    [Fact]
    public void BinaryJunk_BetweenGoodLines_IsReportedAndTheRestRead()
    {
        var junk = new byte[] { 0xff, 0xfe, 0x01, 0x02, 0x7f, 0x1b, (byte)'{', 0x80, (byte)'\n' };
        var text = Encoding.UTF8.GetBytes(Instance());
        var src = new KeepalivedMemorySource().Add(MainFile, junk.Concat(text).ToArray());
        var r = Parse(src);
        Assert.Single(r.Configuration.VrrpInstances);
        Assert.Contains(r.Findings, f => f.Line == 1 && f.Category == KeepalivedFindingCategory.UnknownKeyword);
    }

    [Fact]
    public void UnbalancedBraces_ManyOpeners()
    {
        var r = Parse(string.Concat(Enumerable.Repeat("global_defs {\n", 50_000)));
        Assert.False(r.IsValid);
        Assert.Contains(r.Findings, f => f.Message.Contains("missing '}'s or extra '{'s"));
    }

    [Fact]
    public void UnbalancedBraces_ManyClosers()
    {
        var r = KeepalivedParser.ParseText(new string('}', 200_000) + "\n", MainFile, new KeepalivedParseOptions { MaxFindings = 500 });
        Assert.False(r.IsValid);
        Assert.True(r.Findings.Count <= 501);
    }

    [Fact]
    public void AbsurdNumbers_AreReportedAsKeepalivedReportsThem()
    {
        var r = Parse("vrrp_instance VI_1 {\n    interface eth0\n    virtual_router_id 99999999999999999999999999\n    priority -0\n    advert_int 0.0000001\n"
            + "    preempt_delay 1e308\n    garp_master_delay 18446744073709551616\n    virtual_ipaddress {\n        192.0.2.1/999999999999999999999\n    }\n}\n"
            + "virtual_server 192.0.2.1 99999999 {\n    delay_loop 1e308\n    lb_algo rr\n    lb_kind NAT\n    protocol TCP\n    real_server 192.0.2.2 -1 {\n        weight -99999999999999999999\n    }\n}\n");
        Assert.Equal(new[]
        {
            "12: number '99999999' outside range [1, 65535]",
            "12: Invalid virtual server IP address/port 192.0.2.1/99999999 - skipping",
            "3: number '99999999999999999999999999' outside unsigned integer range",
            "3: (VI_1): VRID '99999999999999999999999999' not valid - must be between 1 & 255",
            "4: negative number '-0'",
            "4: (VI_1) Priority not valid! must be between 1 & 255. Using default 100",
            "5: number '0.0000001' has too many decimal places",
            "5: number '0.0000001' outside range [0.010000, 255.000000]",
            "5: (VI_1) Advert interval (0.0000001) not valid! Must be > 0 - ignoring",
            "6: invalid number '1e308'",   // keepalived then takes the 1 it could read
            "7: number '18446744073709551616' outside unsigned integer range",
            "7: (VI_1): garp_master_delay '18446744073709551616' invalid - ignoring",
            "9: number '999999999999999999999' outside unsigned integer range",
            "9: Invalid address prefix len 999999999999999999999 for address 192.0.2.1/999999999999999999999 - using 32",
            "-: (VI_1) the virtual router id must be set",
        }, Reported(r));
    }

    [Fact]
    public void TenMegabytes_ParseToTheEnd()
    {
        var text = KeepalivedCorpusGenerator.Large(10 << 20, seed: 1);
        Assert.True(text.Length >= 10 << 20);
        var r = Parse(text);
        Valid(r);
        Assert.True(r.Configuration.VirtualServers.Count > 1000);
    }

    [Fact]
    public void SizeLimit_CanBeRaised()
    {
        var text = KeepalivedCorpusGenerator.Large(3 << 20, seed: 2);
        var small = KeepalivedParser.ParseText(text, MainFile, new KeepalivedParseOptions { MaxFileSize = 1 << 20, MaxTotalSize = 1 << 20 });
        Assert.Contains(small.Findings, f => f.Category == KeepalivedFindingCategory.Limit);
        var big = KeepalivedParser.ParseText(text, MainFile, new KeepalivedParseOptions { MaxFileSize = 4 << 20, MaxTotalSize = 4 << 20 });
        Valid(big);
    }

    [Fact]
    public void Cancellation_IsHonouredWhileReading()
    {
        var text = KeepalivedCorpusGenerator.Large(4 << 20, seed: 3);
        using var cts = new CancellationTokenSource();
        var src = new CancellingSource(MainFile, text, cts);
        Assert.ThrowsAny<OperationCanceledException>(() => KeepalivedParser.Parse(MainFile, src, Options(), cts.Token));
        Assert.Equal(1, src.Reads);   // stopped in the first pass
    }

    [Fact]
    public void Cancellation_BeforeStart()
    {
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        Assert.ThrowsAny<OperationCanceledException>(() => KeepalivedParser.ParseText(Instance(), MainFile, Options(), cts.Token));
    }

    /// <summary>Gives the file, then cancels (as Ctrl+C would while the parser works through it).</summary>
    private sealed class CancellingSource : IKeepalivedConfigSource
    {
        private readonly KeepalivedMemorySource _inner = new();
        private readonly CancellationTokenSource _cts;
        public int Reads { get; private set; }

        public CancellingSource(string path, string text, CancellationTokenSource cts)
        {
            _inner.Add(path, text);
            _cts = cts;
        }

        public KeepalivedGlobResult Glob(string pattern, int maxMatches) => _inner.Glob(pattern, maxMatches);
        public KeepalivedFileKind GetKind(string path) => _inner.GetKind(path);

        public byte[] Read(string path, long maxBytes, CancellationToken cancel)
        {
            Reads++;
            var b = _inner.Read(path, maxBytes, cancel);
            _cts.Cancel();
            return b;
        }
    }
}
