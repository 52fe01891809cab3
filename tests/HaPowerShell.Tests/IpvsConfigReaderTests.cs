using System.Text;
using HaPowerShell.Core.Ipvs;
using Xunit;

namespace HaPowerShell.Tests;

/// <summary>Import-/Sync-IpvsConfig input on good and hostile streams: bounded bytes, bounded memory, stops.</summary>
public class IpvsConfigReaderTests
{
    /// <summary>An endless stream (like /dev/zero) that counts what was read from it.</summary>
    private sealed class EndlessStream : Stream
    {
        private readonly byte[] _pattern;
        private long _position;
        public EndlessStream(string pattern) => _pattern = Encoding.UTF8.GetBytes(pattern);
        public long BytesRead => _position;
        public override int Read(byte[] buffer, int offset, int count)
        {
            for (int i = 0; i < count; i++) buffer[offset + i] = _pattern[(int)(_position++ % _pattern.Length)];
            return count;
        }
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => _position; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    private static MemoryStream Utf8(string s) => new(Encoding.UTF8.GetBytes(s));

    [Fact]
    public void Reads_rules_line_by_line_with_their_numbers()
    {
        var r = new IpvsConfigReader(1 << 20);
        r.Read(Utf8("\uFEFF\n  \n# saved\r\n-A -t 192.0.2.1:80 -s rr\r\n\n-a -t 192.0.2.1:80 -r 192.0.2.10:80 -m"));
        var doc = r.Finish();
        Assert.False(doc.IsJson);
        Assert.Equal(new[] { 4, 6 }, doc.Rules!.Commands.Select(c => c.LineNumber));
        Assert.Equal("-A -t 192.0.2.1:80 -s rr", doc.Rules.Commands[0].Text);
    }

    [Fact]
    public void A_bad_line_is_named_by_its_number()
    {
        var r = new IpvsConfigReader(1 << 20);
        r.Read(Utf8("\n\n-A -t 192.0.2.1:80 -s rr\n-A -t 192.0.2:80 --bogus\n"));
        var e = Assert.Throws<IpvsRuleParseException>(() => r.Finish());
        Assert.StartsWith("line 4:", e.Message);
    }

    [Fact]
    public void Json_is_recognised_after_white_space_and_keeps_line_numbers_in_errors()
    {
        var ok = new IpvsConfigReader(1 << 20);
        ok.Read(Utf8("\n \n{ \"services\": [ { \"protocol\": \"tcp\", \"address\": \"192.0.2.1\", \"port\": 80 } ] }"));
        var doc = ok.Finish();
        Assert.True(doc.IsJson);
        Assert.Single(doc.Table!);

        var bad = new IpvsConfigReader(1 << 20);
        bad.Read(Utf8("\n\n{ \"services\": [ } "));
        var e = Assert.Throws<FormatException>(() => bad.Finish());
        Assert.Contains("line 3", e.Message);
    }

    [Fact]
    public void Piped_strings_are_lines()
    {
        var r = new IpvsConfigReader(1 << 20);
        r.AddText("-A -t 192.0.2.1:80 -s rr");
        r.AddText("");
        r.AddText("-a -t 192.0.2.1:80 -r 192.0.2.10:80\n-D -t 192.0.2.1:80"); // -Raw text holds its own breaks
        var doc = r.Finish();
        Assert.Equal(new[] { 1, 3, 4 }, doc.Rules!.Commands.Select(c => c.LineNumber));
    }

    [Fact]
    public void An_endless_zero_stream_fails_at_the_first_long_line_after_reading_little()
    {
        // /dev/zero: NUL is not white space, so this is read as ipvsadm text, and line 1 never ends.
        var zero = new EndlessStream("\0");
        var r = new IpvsConfigReader(IpvsConfigReader.DefaultMaximumSize);
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<IpvsRuleParseException>(() => r.Read(zero));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.StartsWith("line 1:", e.Message);
        Assert.Contains("longer than 4096", e.Message);
        Assert.True(zero.BytesRead <= 64 * 1024, $"read {zero.BytesRead} bytes of an endless stream");
        Assert.True(allocated < 1 << 20, $"allocated {allocated} bytes");
    }

    [Theory]
    [InlineData("a ")]           // a 52 MB one-line file of words: 1.59 GB before
    [InlineData("# comment\n")]  // endless valid-looking lines: stopped by the size limit
    [InlineData("\n")]           // endless blank lines, before the format is even known
    [InlineData(" ")]
    public void Endless_input_stops_at_the_limit_or_the_first_long_line_with_bounded_memory(string pattern)
    {
        const long limit = 4 << 20;
        var endless = new EndlessStream(pattern);
        var r = new IpvsConfigReader(limit, parameterName: "MaximumInputSize");
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.ThrowsAny<Exception>(() => r.Read(endless));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        if (e is IpvsOperationException o)
        {
            Assert.Equal("InputTooLarge", o.ErrorId);
            Assert.Contains("-MaximumInputSize", o.Message);
        }
        else Assert.IsType<IpvsRuleParseException>(e);
        Assert.True(endless.BytesRead <= limit + 64 * 1024, $"read {endless.BytesRead} bytes");
        // Blank and comment lines are kept as strings until their batch is parsed: a few MB at most.
        Assert.True(allocated < 16L << 20, $"allocated {allocated} bytes for {endless.BytesRead} read");
    }

    [Fact]
    public void Json_is_bounded_too()
    {
        var r = new IpvsConfigReader(1 << 20);
        var e = Assert.Throws<IpvsOperationException>(() => r.Read(new EndlessStream("{\"services\":[")));
        Assert.Equal("InputTooLarge", e.ErrorId);
    }

    [Fact]
    public void Piped_text_is_bounded()
    {
        var r = new IpvsConfigReader(1000);
        var e = Assert.Throws<IpvsOperationException>(() => { for (int i = 0; i < 1000; i++) r.AddText("# a comment line"); });
        Assert.Equal("InputTooLarge", e.ErrorId);
        Assert.True(r.Size <= 1000 + 20);
    }

    [Fact]
    public void A_stop_ends_the_read()
    {
        using var stop = new CancellationTokenSource();
        var r = new IpvsConfigReader(long.MaxValue, cancellation: stop.Token);
        var endless = new EndlessStream("# comment\n");
        stop.Cancel();
        Assert.ThrowsAny<OperationCanceledException>(() => r.Read(endless));
        Assert.True(endless.BytesRead <= 64 * 1024);
    }

    [Fact]
    public void The_streamed_parse_equals_the_whole_text_parse()
    {
        var sb = new StringBuilder();
        for (int i = 0; i < 20000; i++)
            sb.Append($"-A -t 10.{i >> 8 & 255}.{i & 255}.1:80 -s rr\n-a -t 10.{i >> 8 & 255}.{i & 255}.1:80 -r 192.0.2.{1 + i % 250}:80 -m -w {i % 9}\n");
        string text = sb.ToString();
        var r = new IpvsConfigReader(1L << 30);
        r.Read(Utf8(text));
        var streamed = r.Finish().Rules!;
        var whole = IpvsRules.Parse(text);
        Assert.Equal(whole.Commands.Count, streamed.Commands.Count);
        Assert.Equal(IpvsRules.Format(IpvsRules.ToTable(whole)), IpvsRules.Format(IpvsRules.ToTable(streamed)));
    }
}
