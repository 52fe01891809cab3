using HaPowerShell.Native;
using Xunit;

namespace HaPowerShell.Tests;

public class CodeWarmUpTests
{
    private static class Sample
    {
        public static int Twice(int x) => 2 * x;
        public static long Twice(long x) => 2 * x;
        public static T Same<T>(T x) => x;
        public static int Other() => 1;
    }

    [Fact]
    public void PreparesEveryOverloadOnceAndSkipsGenericMethods()
    {
        Assert.Equal(2, CodeWarmUp.Prepare(typeof(Sample), nameof(Sample.Twice), nameof(Sample.Same)));
        Assert.Equal(0, CodeWarmUp.Prepare(typeof(Sample), nameof(Sample.Twice)));
        Assert.Equal(1, CodeWarmUp.Prepare(typeof(Sample), nameof(Sample.Other), "NoSuchMethod"));
        Assert.Equal(4, Sample.Twice(2));
    }

    [Fact]
    public void PreparesTheStubOfANativeCall()
    {
        // getppid from libc (no other code prepares it): its marshalling stub is built (Marshal.Prelink), nothing is called.
        Assert.Equal(1, CodeWarmUp.Prepare(typeof(Tmds.Linux.LibC), "getppid"));
        Assert.Equal(0, CodeWarmUp.Prepare(typeof(Tmds.Linux.LibC), "getppid"));
    }
}
