using System.Net;
using System.Text;
using HaPowerShell.Core.Health;
using HaPowerShell.Core.Ipvs;
using HaPowerShell.Hosting.Health;
using HaPowerShell.Native.Processes;
using Xunit;

namespace HaPowerShell.Tests;

public class HealthExitCodeTests
{
    [Theory]
    [InlineData(0, false, true, null)]
    [InlineData(0, true, true, null)]
    [InlineData(1, false, false, null)]
    [InlineData(1, true, false, null)]
    [InlineData(2, false, false, null)]
    [InlineData(2, true, true, 0)]
    [InlineData(3, true, true, 1)]
    [InlineData(100, true, true, 98)]
    [InlineData(254, true, true, 252)]
    [InlineData(255, true, true, 253)]
    [InlineData(255, false, false, null)]
    [InlineData(143, false, false, null)]
    public void Interprets_exit_status_as_keepalived(int code, bool dynamic, bool success, int? weight)
    {
        var (ok, w) = MiscExitCode.Interpret(code, dynamic, timedOut: false);
        Assert.Equal(success, ok);
        Assert.Equal(weight, w);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(255)]
    public void A_timeout_is_a_failure_whatever_the_status(int code)
    {
        Assert.Equal((false, (int?)null), MiscExitCode.Interpret(code, dynamic: true, timedOut: true));
    }

    [Fact]
    public void Describes_a_non_dynamic_weight_status()
        => Assert.Contains("-Dynamic", MiscExitCode.Describe(7, false, false, 0));
}

public class HealthStatusCodeTests
{
    [Fact]
    public void Parses_ranges_and_single_codes()
    {
        var s = StatusCodeSet.Parse("200-299,301");
        Assert.True(s.Contains(200));
        Assert.True(s.Contains(299));
        Assert.True(s.Contains(301));
        Assert.False(s.Contains(300));
        Assert.False(s.Contains(302));
        Assert.False(s.Contains(199));
        Assert.Equal("200-299,301", s.ToString());
    }

    [Fact]
    public void Empty_means_2xx() => Assert.Equal("200-299", StatusCodeSet.Parse().ToString());

    [Fact]
    public void Merges_and_sorts_several_specs()
        => Assert.Equal("200-302,404", StatusCodeSet.Parse("404", "300-302 200-299", "201").ToString());

    [Theory]
    [InlineData("abc")]
    [InlineData("299-200")]
    [InlineData("99")]
    [InlineData("600")]
    [InlineData("200-")]
    [InlineData("-200")]
    [InlineData("2OO")]
    public void Rejects_bad_specs(string spec)
    {
        var e = Assert.Throws<HealthCheckException>(() => StatusCodeSet.Parse(spec));
        Assert.Equal("InvalidStatusCode", e.ErrorId);
    }
}

public class HealthDigestTests
{
    [Fact]
    public void Md5_of_empty_and_known_bodies_as_genhash_prints()
    {
        Assert.Equal("d41d8cd98f00b204e9800998ecf8427e", HealthDigest.Md5Hex(Array.Empty<byte>()));
        Assert.Equal("9e107d9d372bb6826bd81d3542a419d6", HealthDigest.Md5Hex(Encoding.ASCII.GetBytes("The quick brown fox jumps over the lazy dog")));
    }

    [Theory]
    [InlineData("D41D8CD98F00B204E9800998ECF8427E")]
    [InlineData("d4:1d:8c:d9:8f:00:b2:04:e9:80:09:98:ec:f8:42:7e")]
    public void Normalizes_user_digests(string text)
        => Assert.Equal("d41d8cd98f00b204e9800998ecf8427e", HealthDigest.Normalize(text));

    [Fact]
    public void Rejects_a_short_digest()
        => Assert.Equal("InvalidDigest", Assert.Throws<HealthCheckException>(() => HealthDigest.Normalize("abc")).ErrorId);

    private static HttpResponseSummary Read(string raw)
        => HttpResponseReader.ReadAsync(new MemoryStream(Encoding.Latin1.GetBytes(raw)), false, default).GetAwaiter().GetResult();

    [Fact]
    public void Reads_a_content_length_body()
    {
        var r = Read("HTTP/1.0 200 OK\r\nContent-Length: 5\r\nX-A: b\r\n\r\nhelloEXTRA");
        Assert.Equal(200, r.StatusCode);
        Assert.Equal("OK", r.ReasonPhrase);
        Assert.Equal(5, r.ContentLength);
        Assert.Equal(HealthDigest.Md5Hex("hello"u8), r.Digest);
        Assert.True(r.Complete);
        Assert.Equal("b", r.Header("x-a"));
    }

    [Fact]
    public void Digests_a_chunked_body_after_decoding()
    {
        var r = Read("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nTrailer: x\r\n\r\n");
        Assert.Equal(HealthDigest.Md5Hex("hello world"u8), r.Digest);
        Assert.Equal(11, r.ContentLength);
        Assert.Equal("hello world", Encoding.ASCII.GetString(r.BodyPreview));
    }

    [Fact]
    public void Reads_to_the_end_without_length()
    {
        var r = Read("HTTP/1.0 404 Not Found\nServer: x\n\nbody\nmore");
        Assert.Equal(404, r.StatusCode);
        Assert.Equal(HealthDigest.Md5Hex("body\nmore"u8), r.Digest);
    }

    [Fact]
    public void Notices_a_short_body()
        => Assert.False(Read("HTTP/1.0 200 OK\r\nContent-Length: 10\r\n\r\nabc").Complete);

    [Theory]
    [InlineData("")]
    [InlineData("SSH-2.0-OpenSSH\r\n")]
    [InlineData("HTTP/1.0 2000 OK\r\n\r\n")]
    [InlineData("HTTP/1.0 200 OK\r\nno colon here\r\n\r\n")]
    [InlineData("HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")]
    [InlineData("HTTP/1.0 200 OK\r\nContent-Length: -1\r\n\r\n")]
    [InlineData("HTTP/1.0 200 OK\r\nA: b\r\n")]
    public void Rejects_hostile_responses(string raw)
        => Assert.Throws<HttpResponseFormatException>(() => Read(raw));

    [Fact]
    public void Limits_the_header_size()
        => Assert.Throws<HttpResponseFormatException>(() => Read("HTTP/1.0 200 OK\r\n" + string.Concat(Enumerable.Repeat("X-Pad: " + new string('a', 1000) + "\r\n", 80)) + "\r\n"));
}

public class HealthRequestTests
{
    private static HttpCheckOptions Opt(string address = "192.0.2.10", int port = 80) => new() { Address = IPAddress.Parse(address), Port = port };

    [Fact]
    public void Host_header_defaults_to_the_address()
    {
        Assert.Equal("192.0.2.10", Opt().HostHeader());
        Assert.Equal("192.0.2.10:8080", Opt(port: 8080).HostHeader());
        Assert.Equal("[2001:db8::1]:8080", Opt("2001:db8::1", 8080).HostHeader());
        var o = Opt(); o.VirtualHost = "www.example.com";
        Assert.Equal("GET / HTTP/1.0\r\nHost: www.example.com\r\n", Encoding.ASCII.GetString(o.Request())[..39]);
    }

    [Fact]
    public void Sni_comes_from_the_server_name_or_the_virtual_host_never_an_address()
    {
        var o = Opt(port: 443); o.UseTls = true;
        Assert.Null(o.SniName());
        o.VirtualHost = "www.example.com:8443";
        Assert.Equal("www.example.com", o.SniName());
        o.VirtualHost = "192.0.2.1";
        Assert.Null(o.SniName());
        o.ServerName = "api.example.com";
        Assert.Equal("api.example.com", o.SniName());
    }

    [Theory]
    [InlineData(0, 5, 0, "InvalidPort")]
    [InlineData(65536, 5, 0, "InvalidPort")]
    [InlineData(80, 0, 0, "InvalidTimeout")]
    [InlineData(80, -1, 0, "InvalidTimeout")]
    [InlineData(80, 5, -1, "InvalidRetry")]
    public void Validates_before_connecting(int port, double timeout, int retry, string id)
    {
        var o = Opt(port: port); o.ConnectTimeoutSeconds = timeout; o.Retry = retry;
        Assert.Equal(id, Assert.Throws<HealthCheckException>(() => o.Validate()).ErrorId);
    }

    [Fact]
    public void Rejects_a_path_with_spaces_and_sni_without_tls()
    {
        var o = Opt(); o.Path = "/a b";
        Assert.Equal("InvalidUrlPath", Assert.Throws<HealthCheckException>(() => o.Validate()).ErrorId);
        o = Opt(); o.ServerName = "x";
        Assert.Equal("ServerNameWithoutTls", Assert.Throws<HealthCheckException>(() => o.Validate()).ErrorId);
    }

    [Fact]
    public void Real_server_port_falls_back_to_the_service_and_connect_port_wins()
    {
        var svc = new IpvsService { Port = 80 };
        var r = new IpvsRealServer { Service = svc, Address = IPAddress.Parse("192.0.2.10"), Port = 0 };
        Assert.Equal(80, TcpCheckOptions.PortFor(r, null));
        r.Port = 8080;
        Assert.Equal(8080, TcpCheckOptions.PortFor(r, null));
        Assert.Equal(9000, TcpCheckOptions.PortFor(r, 9000));
    }

    [Fact]
    public async Task Retries_with_the_delay_until_success()
    {
        var delays = new List<TimeSpan>();
        var (last, attempts) = await HealthRetry.RunAsync(3, TimeSpan.FromSeconds(2),
            (i, _) => Task.FromResult(i), i => i == 3, (d, _) => { delays.Add(d); return Task.CompletedTask; }, default);
        Assert.Equal(3, last);
        Assert.Equal(3, attempts);
        Assert.Equal(new[] { TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(2) }, delays);
    }

    [Fact]
    public async Task Gives_up_after_one_plus_retry_attempts()
    {
        int calls = 0;
        var (_, attempts) = await HealthRetry.RunAsync(2, TimeSpan.Zero, (_, _) => Task.FromResult(++calls), _ => false,
            (_, _) => Task.CompletedTask, default);
        Assert.Equal(3, attempts);
        Assert.Equal(3, calls);
    }
}

/// <summary>Path-safety decisions on a fake file system.</summary>
public class HealthScriptSecurityTests
{
    private sealed class FakeFs : IFileStatSource
    {
        public readonly Dictionary<string, FileStatus> Entries = new();

        public FakeFs Dir(string p, uint perm = 0x1ED /*755*/, uint uid = 0, uint gid = 0) { Entries[p] = new(p, FileStatus.Directory | perm, uid, gid, null); return this; }
        public FakeFs File(string p, uint perm = 0x1ED, uint uid = 0, uint gid = 0) { Entries[p] = new(p, FileStatus.Regular | perm, uid, gid, null); return this; }
        public FakeFs Link(string p, string target, uint uid = 0) { Entries[p] = new(p, FileStatus.SymbolicLink | 0x1FF, uid, 0, target); return this; }

        public FileStatus? Stat(string path, bool follow)
        {
            if (!follow) return Entries.GetValueOrDefault(path);
            var v = new ScriptSecurity(this).Evaluate(path);
            return v.ResolvedPath is { } r ? Entries.GetValueOrDefault(r) : Entries.GetValueOrDefault(path);
        }
    }

    private static FakeFs Base() => new FakeFs().Dir("/").Dir("/usr").Dir("/usr/local").Dir("/usr/local/bin").Dir("/tmp", 0x3FF /*1777*/);

    private static ScriptSecurityVerdict Eval(FakeFs fs, string path) => new ScriptSecurity(fs).Evaluate(path);

    [Fact]
    public void Root_owned_path_is_safe()
    {
        var v = Eval(Base().File("/usr/local/bin/check"), "/usr/local/bin/check");
        Assert.True(v.IsSafe);
        Assert.Equal("/usr/local/bin/check", v.ResolvedPath);
    }

    [Fact]
    public void A_file_owned_by_another_user_is_refused()
    {
        var v = Eval(Base().File("/usr/local/bin/check", uid: 1000), "/usr/local/bin/check");
        Assert.False(v.IsSafe);
        Assert.Equal("/usr/local/bin/check", v.OffendingPath);
        Assert.Contains("uid 1000", v.Reason);
    }

    [Theory]
    [InlineData(0x1FD /*775*/, "group-writable")]
    [InlineData(0x1EF /*757*/, "world-writable")]
    public void A_writable_file_is_refused(uint perm, string word)
    {
        var v = Eval(Base().File("/usr/local/bin/check", perm), "/usr/local/bin/check");
        Assert.False(v.IsSafe);
        Assert.Contains(word, v.Reason);
    }

    [Fact]
    public void A_group_writable_directory_on_the_path_is_named()
    {
        var fs = Base().Dir("/usr/local", 0x3FD /*1775 without other w*/ & 0x1FD, gid: 50).File("/usr/local/bin/check");
        var v = Eval(fs, "/usr/local/bin/check");
        Assert.False(v.IsSafe);
        Assert.Equal("/usr/local", v.OffendingPath);
        Assert.Contains("gid 50", v.Reason);
    }

    [Fact]
    public void A_directory_owned_by_a_user_is_refused()
    {
        var fs = Base().Dir("/home").Dir("/home/alice", uid: 1000).File("/home/alice/check");
        var v = Eval(fs, "/home/alice/check");
        Assert.False(v.IsSafe);
        Assert.Equal("/home/alice", v.OffendingPath);
    }

    [Fact]
    public void Sticky_tmp_is_fine_for_a_root_owned_entry_but_not_for_a_user_one()
    {
        Assert.True(Eval(Base().Dir("/tmp/checks").File("/tmp/checks/c"), "/tmp/checks/c").IsSafe);
        var v = Eval(Base().File("/tmp/c", uid: 1000), "/tmp/c");
        Assert.False(v.IsSafe);
        var v2 = Eval(Base().Dir("/tmp/checks", uid: 1000).File("/tmp/checks/c"), "/tmp/checks/c");
        Assert.False(v2.IsSafe);
        Assert.Equal("/tmp", v2.OffendingPath); // /tmp lets the user own (and so replace) "checks"
    }

    [Fact]
    public void A_world_writable_directory_without_sticky_bit_is_refused()
    {
        var v = Eval(Base().Dir("/srv", 0x1FF).File("/srv/c"), "/srv/c");
        Assert.False(v.IsSafe);
        Assert.Equal("/srv", v.OffendingPath);
    }

    [Fact]
    public void Symbolic_links_are_followed_and_their_targets_checked()
    {
        var fs = Base().Dir("/home").Dir("/home/alice", uid: 1000).File("/home/alice/real")
            .Link("/usr/local/bin/check", "/home/alice/real");
        var v = Eval(fs, "/usr/local/bin/check");
        Assert.False(v.IsSafe);
        Assert.Equal("/home/alice", v.OffendingPath);

        var ok = Base().Dir("/opt").Dir("/opt/app").File("/opt/app/check").Link("/usr/local/bin/check", "../../../opt/app/check");
        var good = Eval(ok, "/usr/local/bin/check");
        Assert.True(good.IsSafe);
        Assert.Equal("/opt/app/check", good.ResolvedPath);
    }

    [Fact]
    public void A_link_loop_is_refused()
    {
        var fs = Base().Link("/usr/local/bin/a", "b").Link("/usr/local/bin/b", "a");
        var v = Eval(fs, "/usr/local/bin/a");
        Assert.False(v.IsSafe);
        Assert.Contains("symbolic links", v.Reason);
    }

    [Fact]
    public void A_relative_or_missing_path_is_refused()
    {
        Assert.False(Eval(Base(), "check").IsSafe);
        Assert.Contains("does not exist", Eval(Base(), "/usr/local/bin/nope").Reason);
    }
}

/// <summary>MiscCheck's preparation and result, with a fake process runner and file system.</summary>
public class HealthMiscCheckTests
{
    private sealed class FakeRunner : IProcessGroupRunner
    {
        public ProcessRunRequest? Last;
        public int ExitCode;
        public bool TimedOut;

        public ProcessRunOutcome Run(ProcessRunRequest request, CancellationToken cancellation = default)
        {
            Last = request;
            return new ProcessRunOutcome { ProcessId = 4242, ExitCode = ExitCode, TimedOut = TimedOut, StandardOutput = "out" };
        }
    }

    private sealed class Fs : IFileStatSource
    {
        public readonly Dictionary<string, FileStatus> E = new()
        {
            ["/"] = new("/", FileStatus.Directory | 0x1ED, 0, 0, null),
            ["/bin"] = new("/bin", FileStatus.Directory | 0x1ED, 0, 0, null),
            ["/bin/sh"] = new("/bin/sh", FileStatus.Regular | 0x1ED, 0, 0, null),
            ["/etc"] = new("/etc", FileStatus.Directory | 0x1ED, 0, 0, null),
            ["/etc/check"] = new("/etc/check", FileStatus.Regular | 0x1ED, 0, 0, null),
            ["/etc/noexec"] = new("/etc/noexec", FileStatus.Regular | 0x1A4, 0, 0, null),
            ["/etc/mine"] = new("/etc/mine", FileStatus.Regular | 0x1ED, 1000, 1000, null),
        };

        public FileStatus? Stat(string path, bool follow) => E.GetValueOrDefault(path);
    }

    private static readonly UserAccount Nobody = new("nobody", 65534, 65534, "/nonexistent", "/usr/sbin/nologin");
    private static UserAccount? Users(string n) => n switch { "nobody" => Nobody, "0" or "root" => new("root", 0, 0, "/root", "/bin/sh"), _ => null };

    [Fact]
    public void Root_runs_as_nobody_by_default_and_reads_255_as_253()
    {
        var runner = new FakeRunner { ExitCode = 255 };
        var r = new MiscCheck(runner, new Fs(), Users, 0).Run(new MiscCheckOptions { Path = "/etc/check", Dynamic = true, TimeoutSeconds = 3 });
        Assert.True(r.Success);
        Assert.Equal(253, r.Weight);
        Assert.Equal("nobody", r.User);
        Assert.Equal(Nobody, runner.Last!.User);
        Assert.Equal(TimeSpan.FromSeconds(3), runner.Last.Timeout);
        Assert.Equal("/etc/check", runner.Last.FileName);
    }

    [Fact]
    public void A_timeout_fails_even_with_status_0()
    {
        var r = new MiscCheck(new FakeRunner { ExitCode = 0, TimedOut = true }, new Fs(), Users, 0).Run(new MiscCheckOptions { Path = "/etc/check" });
        Assert.False(r.Success);
        Assert.True(r.TimedOut);
        Assert.Contains("timed out", r.Message);
    }

    [Theory]
    [InlineData("/etc/none", 0u, "ScriptNotFound")]
    [InlineData("/etc/noexec", 0u, "ScriptNotExecutable")]
    [InlineData("/etc", 0u, "ScriptNotExecutable")]
    [InlineData("/etc/mine", 0u, "InsecureScript")]
    [InlineData("etc/check", 0u, "ScriptNotFound")]
    public void Refuses_to_run(string path, uint uid, string id)
    {
        var e = Assert.Throws<HealthCheckException>(() => new MiscCheck(new FakeRunner(), new Fs(), Users, uid).Prepare(new MiscCheckOptions { Path = path }));
        Assert.Equal(id, e.ErrorId);
    }

    [Theory]
    [InlineData("/nonexistent", "ScriptNotFound")]
    [InlineData("/etc/noexec arg", "ScriptNotExecutable")]
    [InlineData("no-such-program-in-path x", "ScriptNotFound")]
    [InlineData("   ", "ScriptNotFound")]
    public void A_notify_command_whose_program_cannot_run_is_refused(string command, string id)
    {
        var e = Assert.Throws<HealthCheckException>(() => new MiscCheck(new FakeRunner(), new Fs(), Users, 0).CheckCommandProgram(command, "-NotifyUp"));
        Assert.Equal(id, e.ErrorId);
        Assert.StartsWith("-NotifyUp", e.Message);
    }

    [Theory]
    [InlineData("/etc/check UP", "/etc/check")]
    [InlineData("exit 3", "exit")]
    [InlineData("echo down >> /tmp/log", "echo")]
    public void A_notify_command_that_can_run_is_accepted(string command, string program)
        => Assert.Equal(program, new MiscCheck(new FakeRunner(), new Fs(), Users, 0).CheckCommandProgram(command, "-NotifyUp"));

    [Fact]
    public void The_insecure_error_names_the_path()
    {
        var e = Assert.Throws<HealthCheckException>(() => new MiscCheck(new FakeRunner(), new Fs(), Users, 0).Prepare(new MiscCheckOptions { Path = "/etc/mine" }));
        Assert.Contains("'/etc/mine'", e.Message);
        Assert.Equal(HealthCheckFailureKind.Insecure, e.Kind);
    }

    [Fact]
    public void A_non_root_caller_runs_its_own_script_and_cannot_switch_user()
    {
        var mc = new MiscCheck(new FakeRunner(), new Fs(), Users, 1000);
        Assert.Null(mc.Prepare(new MiscCheckOptions { Path = "/etc/mine" }).User); // no safety rule when not root
        Assert.Equal("UserSwitchNeedsRoot", Assert.Throws<HealthCheckException>(() => mc.Prepare(new MiscCheckOptions { Path = "/etc/mine", User = "nobody" })).ErrorId);
        Assert.Equal("UserNotFound", Assert.Throws<HealthCheckException>(() => mc.Prepare(new MiscCheckOptions { Path = "/etc/mine", User = "nosuchuser" })).ErrorId);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-2)]
    public void Rejects_non_positive_timeouts(double t)
        => Assert.Equal("InvalidTimeout", Assert.Throws<HealthCheckException>(() =>
            new MiscCheck(new FakeRunner(), new Fs(), Users, 0).Prepare(new MiscCheckOptions { Path = "/etc/check", TimeoutSeconds = t })).ErrorId);

    [Fact]
    public void UseShell_passes_the_line_to_sh_with_arguments_as_positional_parameters()
    {
        var (file, args, _) = new MiscCheck(new FakeRunner(), new Fs(), Users, 0)
            .Prepare(new MiscCheckOptions { Path = "test \"$1\" = x", UseShell = true, ArgumentList = new[] { "x" } });
        Assert.Equal("/bin/sh", file);
        Assert.Equal(new[] { "-c", "test \"$1\" = x", "misc-check", "x" }, args);
    }
}

public class HealthProcStatTests
{
    [Fact]
    public void Parses_stat_lines_with_awkward_names()
    {
        var s = ProcessStat.Parse("123 (a) b (c)) Z 1 120 119 0 -1 4227084")!.Value;
        Assert.Equal(123, s.ProcessId);
        Assert.Equal("a) b (c)", s.Command);
        Assert.True(s.IsZombie);
        Assert.Equal(1, s.ParentProcessId);
        Assert.Equal(120, s.ProcessGroupId);
        Assert.Equal(119, s.SessionId);
        Assert.Null(ProcessStat.Parse("garbage"));
        Assert.Null(ProcessStat.Parse("12 (x)"));
    }
}
