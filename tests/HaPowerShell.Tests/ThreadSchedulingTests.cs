using HaPowerShell.Core.Vrrp;
using HaPowerShell.Native.Processes;
using Xunit;

namespace HaPowerShell.Tests;

public class ThreadSchedulingTests
{
    /// <summary>Runs <paramref name="body"/> on a thread of its own (so the test runner's threads keep their scheduling).</summary>
    private static void OnOwnThread(Action body)
    {
        Exception? failure = null;
        var t = new Thread(() => { try { body(); } catch (Exception e) { failure = e; } });
        t.Start();
        t.Join();
        if (failure is not null) throw new Xunit.Sdk.XunitException(failure.ToString());
    }

    private static bool IsRoot => Tmds.Linux.LibC.geteuid() == 0;

    [Fact]
    public void ReadsTheCallingThreadAsTheKernelSeesIt()
    {
        OnOwnThread(() =>
        {
            var s = ThreadNice.GetCurrentThread();
            Assert.Equal(ThreadScheduling.SchedOther, s.Policy);
            Assert.Equal(0, s.RealtimePriority);
            // A raised nice value needs no privilege, and reads back.
            Assert.Equal(0, ThreadNice.SetCurrentThread(s.Nice + 2 > 19 ? 19 : s.Nice + 2));
            var after = ThreadNice.GetCurrentThread();
            Assert.Equal(Math.Min(s.Nice + 2, 19), after.Nice);
            Assert.Equal(after, ThreadNice.Get(ThreadNice.CurrentThreadId));
            Assert.Equal($"nice {after.Nice}", after.ToString());
        });
    }

    [Fact]
    public void GoesRealtimeAndBackToWhatItWas()
    {
        if (!IsRoot) return; // SCHED_RR needs root or CAP_SYS_NICE; the Pester Root tests cover the refusal path's wording
        OnOwnThread(() =>
        {
            Assert.Equal(0, ThreadNice.SetCurrentThread(3));
            var before = ThreadNice.GetCurrentThread();
            Assert.Equal(0, ThreadNice.SetCurrentThreadRealtime(4));
            var rt = ThreadNice.GetCurrentThread();
            Assert.Equal(new ThreadScheduling(ThreadScheduling.SchedRr, 4, rt.Nice), rt);
            Assert.True(rt.IsRealtime);
            Assert.Equal("SCHED_RR 4", rt.ToString());
            Assert.Equal(0, ThreadNice.SetCurrentThread(before));
            Assert.Equal(before, ThreadNice.GetCurrentThread());
        });
    }

    /// <summary>Policy, real-time priority and nice of a process started from the calling thread (fork inherits them unless reset on fork).</summary>
    private static (int Policy, int Rt, int Nice) ChildProcessScheduling()
    {
        using var p = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("/bin/cat", "/proc/self/stat") { RedirectStandardOutput = true })!;
        string stat = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        var f = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return (int.Parse(f[38]), int.Parse(f[37]), int.Parse(f[16]));   // fields 41, 40, 19 of /proc/PID/stat
    }

    [Fact]
    public void WhatARealtimeOrFavouredThreadStartsRunsNormal()
    {
        if (!IsRoot) return; // needs root or CAP_SYS_NICE
        OnOwnThread(() =>
        {
            Assert.Equal(0, ThreadNice.SetCurrentThreadRealtime(6));
            Assert.Equal((ThreadScheduling.SchedOther, 0, 0), ChildProcessScheduling());
            Assert.Equal(0, ThreadNice.SetCurrentThread(new ThreadScheduling(ThreadScheduling.SchedOther, 0, -4)));
            Assert.Equal(-4, ThreadNice.GetCurrentThread().Nice);
            Assert.Equal((ThreadScheduling.SchedOther, 0, 0), ChildProcessScheduling());
        });
    }

    [Fact]
    public void RefusesPrioritiesOutsideTheKernelsRanges()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => ThreadNice.SetCurrentThreadRealtime(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => ThreadNice.SetCurrentThreadRealtime(100));
        Assert.Throws<ArgumentOutOfRangeException>(() => ThreadNice.SetCurrentThread(20));
    }

    [Theory]
    [InlineData(null, 10, null)]
    [InlineData(-20, null, null)]
    [InlineData(19, null, null)]
    [InlineData(null, 99, null)]
    [InlineData(null, null, "EnginePriority")]
    [InlineData(0, 10, "EngineRealtimePriority")]
    [InlineData(-21, null, "EnginePriority")]
    [InlineData(20, null, "EnginePriority")]
    [InlineData(null, 0, "EngineRealtimePriority")]
    [InlineData(null, 100, "EngineRealtimePriority")]
    public void EngineSchedulingRequestsAreCheckedBeforeAnythingRuns(int? nice, int? rt, string? badParameter)
    {
        var e = new VrrpEngineScheduling { Nice = nice, RealtimePriority = rt }.Validate();
        if (badParameter is null) Assert.Null(e);
        else
        {
            Assert.NotNull(e);
            Assert.Equal("VrrpEngineSchedulingInvalid", e!.ErrorId);
            Assert.Equal(badParameter, e.Field.ToString());
        }
    }
}
