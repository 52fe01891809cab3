namespace HaPowerShell.Core;

/// <summary>
/// A port for work that may be spread over the cores: Core starts no thread, so a host that may passes one in
/// (Hosting's ThreadPoolParallelFor); without it Core runs the loop on the caller's thread.
/// </summary>
public interface IParallelFor
{
    /// <summary>Runs <paramref name="body"/> for every index from <paramref name="fromInclusive"/> to <paramref name="toExclusive"/>, in any order, and returns when all have run.</summary>
    void For(int fromInclusive, int toExclusive, Action<int> body);
}
