using HaPowerShell.Core.Keepalived;
using Xunit;
using static HaPowerShell.Tests.KeepalivedTestKit;

namespace HaPowerShell.Tests;

/// <summary>
/// The reader: how keepalived 2.2.7 turns the file into lines (comments, quotes, braces, includes, @id
/// conditionals, $NAME parameters, ~SEQ/~LST, 1023-byte reads). Where a test states what keepalived
/// reports, that was observed with Debian's keepalived 2.2.7 running <c>keepalived -t</c> on the same text.
/// </summary>
public class KeepalivedReaderTests
{
    [Fact]
    public void Comments_StartAtHashOrBang_ButNotInsideQuotes()
    {
        var r = Parse("! a comment\nglobal_defs {   # trailing\n    router_id \"r1 # not a comment\"\n    smtp_helo_name h ! comment\n}\n");
        Valid(r);
        Assert.Equal("r1 # not a comment", r.Configuration.Global.RouterId);
        Assert.Equal("h", r.Configuration.Global.SmtpHeloName);
    }

    [Fact]
    public void QuotedString_IsOneWord()
    {
        var r = Parse("global_defs {\n    router_id \"a b\" extra\n    notification_email {\n        \"x y\"\n    }\n}\n");
        Valid(r);
        Assert.Equal("a b", r.Configuration.Global.RouterId);
        Assert.Equal(new[] { "x y" }, r.Configuration.Global.NotificationEmail);
    }

    [Fact]
    public void UnterminatedQuote_ReportedAsKeepalivedDoes()
    {
        var r = Parse("global_defs {\n    router_id \"unterminated\n}\n");
        Has(r, 2, "Unterminated quote 'router_id \"unterminated'");
        Has(r, 2, "Unmatched quote: 'router_id \"unterminated'");
        Has(r, 2, "routerid name missing - ignoring");
        Assert.False(r.IsValid);
    }

    [Fact]
    public void Braces_AreSplitFromWords()
    {
        var r = Parse("vrrp_instance VI_1{\n    interface eth0\n    virtual_router_id 1\n    virtual_ipaddress{192.0.2.1}\n}\n");
        Valid(r);
        Assert.Equal(new[] { "192.0.2.1" }, r.Configuration.VrrpInstances.Single().VirtualIPAddress);
    }

    [Fact]
    public void MissingClosingBrace_CountedAtTheEnd()
    {
        var r = Parse(Instance().TrimEnd('\n').TrimEnd('}'));
        Has(r, null, "There are 1 missing '}'s or extra '{'s");
        Assert.False(r.IsValid);
    }

    [Fact]
    public void ExtraClosingBrace_OnItsLine()
    {
        var r = Parse("global_defs {\n    router_id r1\n}\n}\n");
        Has(r, 4, "Extra '}' found");
        Has(r, 4, "Unknown keyword '}'");
        Assert.Equal(new[] { 4 }, ErrorLines(r));
    }

    [Fact]
    public void UnbalancedBlock_SwallowsWhatFollows_AsKeepalivedReadsIt()
    {
        // global_defs is never closed: the instance's lines are read inside global_defs, where keepalived does not know them.
        var r = Parse("global_defs {\n    router_id r\n\nvrrp_instance A {\n  interface eth0\n  virtual_router_id 1\n  virtual_ipaddress {\n 192.0.2.1\n  }\n}\n}\n}\n");
        Assert.Equal(new[] { 4, 5, 6, 7, 8, 10, 11, 12 }, ErrorLines(r));
        Has(r, 4, "Unknown keyword 'vrrp_instance'");
        Has(r, 4, "Unexpected '{' - ignoring");
        Has(r, 12, "Extra '}' found");
        Assert.Empty(r.Configuration.VrrpInstances);
    }

    [Fact]
    public void LongLine_ReadIn1023ByteChunks()
    {
        // keepalived reads at most 1023 bytes at a time: the rest of the line becomes a line of its own (same number).
        var r = Parse("global_defs {\n    router_id " + new string('a', 1100) + "\n}\n");
        Assert.Equal(new string('a', 1023 - "    router_id ".Length), r.Configuration.Global.RouterId);
        Has(r, 2, "Unknown keyword '" + new string('a', 1100 - (1023 - "    router_id ".Length)) + "'");
    }

    [Fact]
    public void NulByte_EndsTheLineThere()
    {
        var src = new KeepalivedMemorySource().Add(MainFile, "global_defs {\n    router_id ab\0cd\n    bogus\0more\n}\n"u8.ToArray());
        var r = Parse(src);
        Assert.Equal("ab", r.Configuration.Global.RouterId);
        Has(r, 1, "Unknown keyword 'bogus'");   // keepalived 2.2.7 numbers it line 1
    }

    [Fact]
    public void KeywordsAreCaseSensitive_WithSuggestion()
    {
        var r = Parse("Global_Defs {\n    router_id r\n}\n");
        var f = Has(r, 1, "Unknown keyword 'Global_Defs'");
        Assert.Equal("global_defs", f.Suggestion);
        Has(r, 1, "Unexpected '{' - ignoring");
        Has(r, 2, "Unknown keyword 'router_id'");
        Has(r, 3, "Unknown keyword '}'");
    }

    // ------------------------------------------------------------------ includes

    [Fact]
    public void Include_GlobRelativeToTheIncludingFile()
    {
        var src = new KeepalivedMemorySource()
            .Add(MainFile, "include conf.d/*.conf\n" + Instance("VI_1", 1))
            .Add("/etc/keepalived/conf.d/b.conf", Instance("VI_3", 3, vip: "192.0.2.3"))
            .Add("/etc/keepalived/conf.d/a.conf", Instance("VI_2", 2, vip: "192.0.2.2"))
            .Add("/etc/keepalived/conf.d/a.txt", "bogus\n");
        var r = Parse(src);
        Valid(r);
        // glob(3) sorts its matches
        Assert.Equal(new[] { "VI_2", "VI_3", "VI_1" }, r.Configuration.VrrpInstances.Select(v => v.Name));
        Assert.Equal("/etc/keepalived/conf.d/a.conf", r.Configuration.VrrpInstances[0].File);
        Assert.Equal(1, r.Configuration.VrrpInstances[0].Line);
    }

    [Fact]
    public void Include_BraceAlternatives()
    {
        var src = new KeepalivedMemorySource()
            .Add(MainFile, "include /etc/keepalived/{vrrp,lvs}.conf\n")
            .Add("/etc/keepalived/vrrp.conf", Instance())
            .Add("/etc/keepalived/lvs.conf", "virtual_server 192.0.2.10 80 {\n    lb_algo rr\n    lb_kind NAT\n    protocol TCP\n    real_server 192.0.2.11 80 {\n    }\n}\n");
        var r = Parse(src);
        Valid(r);
        Assert.Single(r.Configuration.VrrpInstances);
        Assert.Single(r.Configuration.VirtualServers);
    }

    [Fact]
    public void Include_MissingFile_IsReportedButDoesNotFail()
    {
        var r = Parse("include /etc/keepalived/nosuch.conf\ninclude /etc/keepalived/nosuch*.conf\n" + Instance());
        Has(r, 1, "Config files missing '/etc/keepalived/nosuch.conf'.");
        Assert.True(r.IsValid);   // keepalived -t exits 0
    }

    [Fact]
    public void Include_ErrorsNameTheIncludedFile()
    {
        var src = new KeepalivedMemorySource()
            .Add(MainFile, "global_defs {\n    router_id r\n}\ninclude /etc/keepalived/bad.conf\n")
            .Add("/etc/keepalived/bad.conf", "\nvirtaul_server 192.0.2.1 80 {\n}\n");
        var r = Parse(src);
        var f = Has(r, 2, "Unknown keyword 'virtaul_server'");
        Assert.Equal("/etc/keepalived/bad.conf", f.File);
        Assert.Equal("virtual_server", f.Suggestion);
    }

    [Fact]
    public void Include_Loop_EndsAndReportsWhatKeepalivedReports()
    {
        // keepalived recurses until it runs out of file descriptors, then reads on: the instance is defined again.
        var src = new KeepalivedMemorySource()
            .Add(MainFile, "include /etc/keepalived/b.inc\n" + Instance())
            .Add("/etc/keepalived/b.inc", "include /etc/keepalived/keepalived.conf\n");
        var r = Parse(src);
        Has(r, 2, "vrrp instance VI_1 already defined");
        Assert.Contains(r.Findings, f => f.Message.Contains("open problem (Too many open files)"));
        Assert.Equal(new[] { 2 }, ErrorLines(r));
    }

    [Fact]
    public void Include_OfItsOwnDirectory_ReadsEachFileAgain()
    {
        // The common mistake "include /etc/keepalived/*.conf" inside /etc/keepalived/keepalived.conf.
        var src = new KeepalivedMemorySource()
            .Add(MainFile, "include /etc/keepalived/*.conf\n" + Instance("A", 1))
            .Add("/etc/keepalived/b.conf", Instance("B", 2, vip: "192.0.2.2"));
        var r = Parse(src);
        Has(r, 1, "vrrp instance B already defined");
        Has(r, 2, "vrrp instance A already defined");
        Assert.Equal(new[] { 1, 2 }, ErrorLines(r));
    }

    [Fact]
    public void Include_Bomb_FanOutIsBounded()
    {
        // Ten files, each including all ten: without a bound, 10^depth files.
        var src = new KeepalivedMemorySource();
        src.Add(MainFile, "include /etc/keepalived/bomb/*.conf\n");
        for (int i = 0; i < 10; i++) src.Add($"/etc/keepalived/bomb/f{i}.conf", "include /etc/keepalived/bomb/*.conf\n");
        var r = Parse(src, new KeepalivedParseOptions { ConfigId = "node1", MaxIncludedFiles = 200 });
        Assert.Contains(r.Findings, f => f.Category == KeepalivedFindingCategory.Limit);
        Assert.False(r.IsValid);
        Assert.True(src.Reads <= 4 * 200, $"read {src.Reads} files");   // four passes (parent, checker, VRRP, BFD) at most
    }

    [Fact]
    public void Include_DepthIsBounded()
    {
        var src = new KeepalivedMemorySource();
        src.Add(MainFile, "include /d/f0.conf\n");
        for (int i = 0; i < 100; i++) src.Add($"/d/f{i}.conf", $"include /d/f{i + 1}.conf\n");
        var r = Parse(src, new KeepalivedParseOptions { ConfigId = "node1", MaxIncludeDepth = 16 });
        var f = Assert.Single(r.Findings, x => x.Category == KeepalivedFindingCategory.Limit);
        Assert.Contains("nests deeper than 16", f.Message);
        Assert.Equal(KeepalivedSeverity.Error, f.Severity);
    }

    // ------------------------------------------------------------------ conditionals, parameters, sequences

    [Theory]
    [InlineData("node1", "150", false)]
    [InlineData("node2", null, true)]
    public void Conditionals_FollowTheConfigId(string id, string? routerId, bool bogusSeen)
    {
        const string text = "@node1 $P=150\n@^node1 $P=50\n@node2 bogus1\n@^node2 global_defs {\n@^node2     router_id $P\n@^node2 }\n";
        var r = Parse(text, id);
        Assert.Equal(routerId, r.Configuration.Global.RouterId);
        Assert.Equal(bogusSeen, r.Findings.Any(f => f.Line == 3 && f.Message.StartsWith("Unknown keyword 'bogus1'")));
    }

    [Fact]
    public void Parameters_SimpleBracedAndMultiline()
    {
        var r = Parse("$IF=eth0\n$VIPS=virtual_ipaddress { \\\n        192.0.2.9 \\\n    }\n$ID=51\nvrrp_instance VI_1 {\n    interface $IF\n    virtual_router_id ${ID}\n    $VIPS\n}\n");
        Valid(r);
        var v = r.Configuration.VrrpInstances.Single();
        Assert.Equal("eth0", v.InterfaceName);
        Assert.Equal(51, v.VirtualRouterId);
        Assert.Equal(new[] { "192.0.2.9" }, v.VirtualIPAddress);
    }

    [Fact]
    public void Parameter_BuiltIns()
    {
        var r = Parse("global_defs {\n    router_id ${_INSTANCE}_x\n    smtp_helo_name a${_HASH}b\n}\n", "lb1");
        Assert.Equal("lb1_x", r.Configuration.Global.RouterId);
        // keepalived takes comments out again after substituting: the '#' of ${_HASH} starts one (keepalived -t: "bogus${_HASH}x" is unknown keyword 'bogus').
        Assert.Equal("a", r.Configuration.Global.SmtpHeloName);
    }

    [Fact]
    public void Parameter_ThatGrowsItself_StopsAtTheLineLength_AsKeepalivedDoes()
    {
        var r = Parse("$A=$A x\nglobal_defs {\n    router_id $A\n}\n");
        Assert.True(r.IsValid);   // keepalived logs it and reads on
        Assert.Contains(r.Findings, f => f.Message.StartsWith("Parameter substitution on line") && f.Level == KeepalivedErrorLevel.None);
    }

    [Fact]
    public void Parameter_ThatRefersToItself_IsCut()
    {
        // keepalived never returns from this one; we stop and say so.
        var r = Parse("$A=$A\nglobal_defs {\n    router_id $A\n}\n");
        var f = Assert.Single(r.Findings, x => x.Category == KeepalivedFindingCategory.Limit);
        Assert.Equal(3, f.Line);
        Assert.False(r.IsValid);
    }

    [Fact]
    public void Sequences_SeqAndLst()
    {
        var r = Parse("vrrp_instance VI_1 {\n    interface eth0\n    virtual_router_id 51\n    virtual_ipaddress {\n~SEQ(i,1,5)        192.0.2.$i\n~LST(a,20,30)      192.0.2.$a\n    }\n}\n");
        Valid(r);
        Assert.Equal(new[] { "192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4", "192.0.2.5", "192.0.2.20", "192.0.2.30" },
            r.Configuration.VrrpInstances.Single().VirtualIPAddress);
    }

    [Fact]
    public void Sequence_Forms()
    {
        // ~SEQ(var, end), ~SEQ(var, start, end), ~SEQ(var, start, step, end); each line an unknown keyword naming its value.
        var r = Parse("~SEQ(i,10,-3,1) bogus$i\n~SEQ(i,3) seq3_$i\n~SEQ(i,2,4) seq24_$i\n");
        Assert.Equal(new[]
        {
            "1: Unknown keyword 'bogus10'", "1: Unknown keyword 'bogus7'", "1: Unknown keyword 'bogus4'", "1: Unknown keyword 'bogus1'",
            "2: Unknown keyword 'seq3_1'", "2: Unknown keyword 'seq3_2'", "2: Unknown keyword 'seq3_3'",
            "3: Unknown keyword 'seq24_2'", "3: Unknown keyword 'seq24_3'", "3: Unknown keyword 'seq24_4'",
        }, Reported(r));
    }

    [Fact]
    public void Sequence_TooLong_IsBounded()
    {
        var r = KeepalivedParser.ParseText("~SEQ(i,1,1000000000) bogus$i\n", MainFile, new KeepalivedParseOptions { MaxSequenceLines = 1000, MaxFindings = 5000 });
        Assert.Contains(r.Findings, f => f.Category == KeepalivedFindingCategory.Limit);
        Assert.True(r.Findings.Count < 5000);
    }

    [Fact]
    public void MissingParameter_StopsKeepalivedAtOnce()
    {
        // The parent pass (global keywords only) reads to the end; the VRRP pass stops at line 5, never reaching the instance's checks.
        var r = Parse("global_defs {\n    router_id\n}\nvrrp_instance A {\n    interface\n}\nbogus_after\n");
        Assert.Equal(new[]
        {
            "2: routerid name missing - ignoring",
            "7: Unknown keyword 'bogus_after'",
            "5: *** Configuration line starting `interface` is missing a parameter after keyword `interface` at word position 2",
        }, Reported(r));
        Assert.True(r.StoppedAtFatal);
    }
}
