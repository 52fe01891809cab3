using HaPowerShell.Native.Netlink;

namespace HaPowerShell.Native.Ipvs;

/// <summary>Raw answer of IPVS_CMD_GET_INFO.</summary>
public readonly record struct IpvsKernelInfo(uint VersionCode, uint ConnectionTableSize);

/// <summary>
/// The IPVS generic netlink client (family "IPVS", linux/ip_vs.h). One instance owns one socket
/// and is safe to share between threads.
/// </summary>
public sealed partial class IpvsClient : IIpvsKernel, IDisposable
{
    public const string FamilyName = "IPVS";

    private readonly GenericNetlinkClient _genl;
    private readonly GenericNetlinkFamily _family;
    private readonly object _dumpSocketLock = new();
    private NetlinkSocket? _dumpSocket;

    private IpvsClient(GenericNetlinkClient genl, GenericNetlinkFamily family)
    {
        _genl = genl;
        _family = family;
    }

    public GenericNetlinkFamily Family => _family;
    public NetlinkSocket Socket => _genl.Socket;

    /// <summary>
    /// Opens a client. When the family is missing, tries 'modprobe ip_vs' once per process, then
    /// throws <see cref="IpvsUnavailableException"/> if it is still missing.
    /// </summary>
    public static IpvsClient Open()
    {
        var genl = new GenericNetlinkClient();
        try
        {
            var family = genl.TryGetFamily(FamilyName);
            if (family is null)
            {
                var (_, detail) = ModuleLoader.TryLoadOnce("ip_vs");
                genl.ClearCache();
                family = genl.TryGetFamily(FamilyName) ?? throw new IpvsUnavailableException(detail);
            }
            return new IpvsClient(genl, family);
        }
        catch
        {
            genl.Dispose();
            throw;
        }
    }

    public static byte[] BuildGetInfo(GenericNetlinkFamily family)
        => GenericNetlinkClient.NewRequest(family, IpvsCommand.GetInfo).ToArray();

    public static IpvsKernelInfo ParseInfo(ReadOnlyMemory<byte> payload, string operation)
    {
        if (payload.Length < 4) throw new NetlinkProtocolException(operation, "reply shorter than the generic netlink header");
        var a = NetlinkAttributes.Parse(payload[4..], operation);
        return new IpvsKernelInfo(a.GetU32(IpvsInfoAttr.Version), a.GetU32(IpvsInfoAttr.ConnTabSize));
    }

    public IpvsKernelInfo GetInfo()
    {
        const string op = "IPVS get info";
        var reply = Socket.Execute(BuildGetInfo(_family), op);
        if (reply.Count == 0) throw new NetlinkProtocolException(op, "the kernel acknowledged without sending the information");
        return ParseInfo(reply[0].Payload, op);
    }

    public IReadOnlyList<IpvsServiceEntry> GetServices()
    {
        const string op = "IPVS list services";
        return Socket.Execute(BuildGetServices(_family), op).Select(m => ParseService(m.Payload, op)).ToList();
    }

    /// <summary>One service by identity; null when it does not exist.</summary>
    public IpvsServiceEntry? GetService(IpvsServiceEntry id)
    {
        const string op = "IPVS get service";
        try
        {
            var reply = Socket.Execute(BuildGetService(_family, id), op);
            return reply.Count == 0 ? null : ParseService(reply[0].Payload, op);
        }
        catch (NetlinkException e) when (e.Errno is Errno.ESRCH or Errno.ENOENT)
        {
            return null;
        }
    }

    public IReadOnlyList<IpvsDestEntry> GetDestinations(IpvsServiceEntry service)
    {
        const string op = "IPVS list real servers";
        return DumpSocket.Execute(BuildGetDests(_family, service), op).Select(m => ParseDest(m.Payload, service.Family, op)).ToList();
    }

    /// <summary>
    /// The second socket of the session, for the per-service real-server dumps (see
    /// <see cref="NetlinkSocket.ForSmallDumps"/>); opened on first use.
    /// </summary>
    private NetlinkSocket DumpSocket
    {
        get
        {
            lock (_dumpSocketLock) return _dumpSocket ??= NetlinkSocket.ForSmallDumps(NetlinkProtocol.Generic);
        }
    }

    /// <summary>
    /// The real servers of many services at once: one dump per service, back to back on a socket
    /// that reads a page at a time. A service that vanished meanwhile (ESRCH) yields null; other
    /// refusals throw.
    /// </summary>
    public IReadOnlyList<IpvsDestEntry>?[] GetDestinations(IReadOnlyList<IpvsServiceEntry> services)
    {
        const string op = "IPVS list real servers";
        var requests = new byte[services.Count][];
        for (int i = 0; i < services.Count; i++) requests[i] = BuildGetDests(_family, services[i]);
        var replies = DumpSocket.ExecuteDumpBatch(requests, op, out var errors);
        var result = new IReadOnlyList<IpvsDestEntry>?[services.Count];
        for (int i = 0; i < services.Count; i++)
        {
            if (errors[i] is { } e)
            {
                if (e.Errno is Errno.ESRCH or Errno.ENOENT) continue;
                throw e;
            }
            var list = new List<IpvsDestEntry>(replies[i].Count);
            foreach (var m in replies[i]) list.Add(ParseDest(m.Payload, services[i].Family, op));
            result[i] = list;
        }
        return result;
    }

    public void NewService(IpvsServiceEntry s) => Run(BuildServiceCommand(_family, IpvsCommand.NewService, s), "IPVS add service");
    public void SetService(IpvsServiceEntry s) => Run(BuildServiceCommand(_family, IpvsCommand.SetService, s), "IPVS edit service");
    public void DeleteService(IpvsServiceEntry s) => Run(BuildServiceCommand(_family, IpvsCommand.DelService, s), "IPVS delete service");
    public void NewDestination(IpvsServiceEntry s, IpvsDestEntry d) => Run(BuildDestCommand(_family, IpvsCommand.NewDest, s, d), "IPVS add real server");
    public void SetDestination(IpvsServiceEntry s, IpvsDestEntry d) => Run(BuildDestCommand(_family, IpvsCommand.SetDest, s, d), "IPVS edit real server");
    public void DeleteDestination(IpvsServiceEntry s, IpvsDestEntry d) => Run(BuildDestCommand(_family, IpvsCommand.DelDest, s, d), "IPVS delete real server");
    public void Flush() => Run(GenericNetlinkClient.NewRequest(_family, IpvsCommand.Flush).ToArray(), "IPVS flush");
    public void Zero(IpvsServiceEntry? service) => Run(BuildZero(_family, service), "IPVS zero counters");

    public IpvsTimeouts GetTimeouts()
    {
        const string op = "IPVS get timeouts";
        var reply = Socket.Execute(GenericNetlinkClient.NewRequest(_family, IpvsCommand.GetConfig).ToArray(), op);
        if (reply.Count == 0) throw new NetlinkProtocolException(op, "the kernel acknowledged without sending the timeouts");
        return ParseTimeouts(reply[0].Payload, op);
    }

    public void SetTimeouts(IpvsTimeouts t) => Run(BuildSetTimeouts(_family, t), "IPVS set timeouts");

    public IReadOnlyList<IpvsDaemonEntry> GetDaemons()
    {
        const string op = "IPVS list sync daemons";
        var req = GenericNetlinkClient.NewRequest(_family, IpvsCommand.GetDaemon, NetlinkFlags.Dump).ToArray();
        return Socket.Execute(req, op).Select(m => ParseDaemon(m.Payload, op)).ToList();
    }

    public void NewDaemon(IpvsDaemonEntry d) => Run(BuildNewDaemon(_family, d), "IPVS start sync daemon");
    public void DeleteDaemon(uint state) => Run(BuildDelDaemon(_family, state), "IPVS stop sync daemon");

    public NetlinkException?[] Apply(IReadOnlyList<IpvsChange> changes)
    {
        // One builder for every message, each copied into one batch buffer the socket sends from.
        var batch = new NetlinkRequestBatch(changes.Count * 128, changes.Count);
        var builder = new NetlinkMessageBuilder(_family.Id, NetlinkFlags.Request);
        for (int i = 0; i < changes.Count; i++) batch.Add(WriteChange(builder, _family, changes[i]));
        return Socket.ExecuteBatch(batch, "IPVS apply changes");
    }

    public static byte[] BuildChange(GenericNetlinkFamily f, IpvsChange c)
        => WriteChange(new NetlinkMessageBuilder(f.Id, NetlinkFlags.Request), f, c).ToArray();

    /// <summary>Builds <paramref name="c"/>'s message in <paramref name="b"/> (started afresh); the bytes stay valid until <paramref name="b"/> changes.</summary>
    public static ReadOnlySpan<byte> WriteChange(NetlinkMessageBuilder b, GenericNetlinkFamily f, IpvsChange c)
    {
        var (command, dest) = c.Kind switch
        {
            IpvsChangeKind.NewService => (IpvsCommand.NewService, false),
            IpvsChangeKind.SetService => (IpvsCommand.SetService, false),
            IpvsChangeKind.DeleteService => (IpvsCommand.DelService, false),
            IpvsChangeKind.NewDest => (IpvsCommand.NewDest, true),
            IpvsChangeKind.SetDest => (IpvsCommand.SetDest, true),
            IpvsChangeKind.DeleteDest => (IpvsCommand.DelDest, true),
            _ => throw new ArgumentOutOfRangeException(nameof(c)),
        };
        GenericNetlinkClient.StartRequest(b, f, command);
        if (dest) WriteDestCommand(b, command, c.Service, c.Dest!);
        else WriteServiceCommand(b, command, c.Service);
        return b.Finish();
    }

    private void Run(byte[] request, string operation) => Socket.Execute(request, operation);

    public void Dispose()
    {
        _genl.Dispose();
        lock (_dumpSocketLock) _dumpSocket?.Dispose();
    }
}
