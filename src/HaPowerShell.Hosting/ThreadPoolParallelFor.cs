using HaPowerShell.Core;

namespace HaPowerShell.Hosting;

/// <summary><see cref="IParallelFor"/> on the thread pool (Parallel.For): for Core's work on large inputs, such as an ipvsadm rule file of tens of thousands of lines.</summary>
public sealed class ThreadPoolParallelFor : IParallelFor
{
    public static readonly ThreadPoolParallelFor Instance = new();

    public void For(int fromInclusive, int toExclusive, Action<int> body) => Parallel.For(fromInclusive, toExclusive, body);
}
