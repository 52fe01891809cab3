namespace HaPowerShell.Core.Ipvs;

/// <summary>
/// The order in which a start adds its services' real servers so that IPVS finds each one at once in its trash list.
/// </summary>
/// <remarks>
/// <para>
/// IPVS does not free a real server that is deleted (with its service, by a flush, or alone): it moves it to the
/// head of a per-namespace trash list, where it stays for two to three minutes (longer while connections use it),
/// and every real-server addition walks that list from its head until it finds the same real server of the same
/// service (which it takes back). After a flush of 20,000 real servers every addition walks thousands of entries:
/// re-adding them in the file's order takes the kernel seconds (the restart case of docs/benchmarks.md).
/// </para>
/// <para>
/// A flush deletes services in the kernel's own order (the order a service dump lists them) and a service's real
/// servers newest first, each pushed onto the head; so the list's head holds the last service of the dump, its real
/// servers in the order they were added. Adding the services' real servers in the reverse of the dump's service order,
/// each service's real servers in the configuration's order, takes every one from the head of the list. The kernel
/// orders services by a hash of their identity and, within a hash chain, newest first; a start adds its services in
/// the file's order first, so when the flushed table was made from the same file (a restart) the dump of the new
/// services has the old table's order. For any other table the order costs nothing more than the file's: the
/// addition order does not change the resulting table (a service's real servers keep their order).
/// </para>
/// <para>
/// <see cref="ServiceOrderForRemoval"/> is the other half: a daemon that removes its services one by one on stop
/// removes them in the dump's order, leaving the trash list as a flush would, so its next start finds every real
/// server at once.
/// </para>
/// </remarks>
internal static class IpvsTrashOrder
{
    /// <summary>
    /// The indices of <paramref name="services"/> in the order their real servers should be added:
    /// those in <paramref name="kernelOrder"/> (a service dump, any services) in its reverse order, then the ones the
    /// dump does not list in their own order. Each index appears once.
    /// </summary>
    public static int[] ServiceOrderForAdding(IReadOnlyList<IpvsService> services, IEnumerable<IpvsRules.ServiceKey> kernelOrder)
    {
        var listed = ListedIndices(services, kernelOrder);
        listed.Reverse();
        return Complete(services.Count, listed);
    }

    /// <summary>
    /// The indices of <paramref name="services"/> in the order a stop should delete them: those in
    /// <paramref name="kernelOrder"/> in its order, then the ones it does not list in their own order.
    /// </summary>
    public static int[] ServiceOrderForRemoval(IReadOnlyList<IpvsService> services, IEnumerable<IpvsRules.ServiceKey> kernelOrder)
        => Complete(services.Count, ListedIndices(services, kernelOrder));

    private static List<int> ListedIndices(IReadOnlyList<IpvsService> services, IEnumerable<IpvsRules.ServiceKey> kernelOrder)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(kernelOrder);
        var index = new Dictionary<IpvsRules.ServiceKey, int>(services.Count);
        for (int i = 0; i < services.Count; i++) index.TryAdd(IpvsRules.ServiceKey.Of(services[i]), i);
        var listed = new List<int>(services.Count);
        foreach (var k in kernelOrder)
            if (index.Remove(k, out int i)) listed.Add(i);
        return listed;
    }

    private static int[] Complete(int count, List<int> listed)
    {
        var order = new int[count];
        var seen = new bool[count];
        int n = 0;
        foreach (int i in listed) { order[n++] = i; seen[i] = true; }
        for (int i = 0; i < count; i++)
            if (!seen[i]) order[n++] = i;
        return order;
    }
}
