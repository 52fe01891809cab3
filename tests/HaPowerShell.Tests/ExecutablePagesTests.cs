using HaPowerShell.Native.Proc;
using Xunit;

namespace HaPowerShell.Tests;

/// <summary>
/// hapd's page-out of its executable's start-up pages (ExecutablePages): which mappings, and the call. HugePages is
/// checked on a running hapd (Hapd.Tests.ps1): turning THP off here would change the shared test host.
/// </summary>
public class ExecutablePagesTests
{
    private const string Maps = """
        55d0c0a00000-55d0c0a4b000 r--p 00000000 08:01 123 /usr/sbin/hapd
        55d0c0a4b000-55d0c0f1c000 r-xp 0004b000 08:01 123 /usr/sbin/hapd
        55d0c0f1c000-55d0c1000000 r--p 0051c000 08:01 123 /usr/sbin/hapd
        55d0c1000000-55d0c1014000 rw-p 00600000 08:01 123 /usr/sbin/hapd
        55d0c1014000-55d0c1020000 rw-p 00000000 00:00 0
        7f1e2c000000-7f1e2c028000 r--p 00000000 08:01 456 /usr/lib/x86_64-linux-gnu/libc.so.6
        7f1e2c028000-7f1e2c19d000 r-xp 00028000 08:01 456 /usr/lib/x86_64-linux-gnu/libc.so.6
        7f1e2c200000-7f1e2c201000 r-xp 00000000 08:01 789 /usr/sbin/hapd (deleted)
        7ffd1a000000-7ffd1a021000 rw-p 00000000 00:00 0                          [stack]
        garbage line
        """;

    [Fact]
    public void TakesTheExecutablesMappingsThatAreNotWritable()
    {
        var maps = ProcMaps.Parse(Maps);
        Assert.Equal(9, maps.Count);
        Assert.Equal(new[] { (0x55d0c0a00000UL, 0x55d0c0a4b000UL), (0x55d0c0a4b000UL, 0x55d0c0f1c000UL), (0x55d0c0f1c000UL, 0x55d0c1000000UL) },
            ExecutablePages.Of(maps, "/usr/sbin/hapd").Select(m => (m.Start, m.End)));
        Assert.Empty(ExecutablePages.Of(maps, "/usr/sbin/other"));
    }

    [Fact]
    public void PagesOutThisProcesssExecutable()
    {
        // The test host's own executable (dotnet): its read-only pages are given back and come back on use.
        var r = ExecutablePages.PageOut();
        Assert.True(r.Mappings > 0, $"{r}");
        Assert.True(r.Bytes > 0, $"{r}");
        Assert.True(r.Errno is 0 or HaPowerShell.Native.Errno.EINVAL, $"{r}");
    }
}
