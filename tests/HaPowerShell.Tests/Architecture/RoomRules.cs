namespace HaPowerShell.Tests.Architecture;

/// <summary>A reference that breaks a room's rule, and the rule it breaks.</summary>
internal sealed record Violation(string Rule, string Where)
{
    public override string ToString() => $"{Rule}: {Where}";
}

/// <summary>
/// The rules of the rooms (docs/architecture.md), as checks over the IL of their assemblies:
/// Core is pure (no thread, timer, socket, file, process, signal or exit handler, P/Invoke, and no call into
/// a Native method that reaches a system call: Native's ports — interfaces — and data are fine); Hosting runs
/// engines but registers no signal or exit handler; the cmdlets reach the system only through Hosting where it has
/// a host (addresses, frames, adverts, check connections, packet filters, processes, thread scheduling, sysctls), and only
/// the module front end registers process handlers.
/// </summary>
internal static class RoomRules
{
    /// <summary>Types whose every member is I/O, threads, timers or process control (any use breaks purity).</summary>
    public static readonly string[] ImpureTypes =
    {
        "System.Threading.Thread", "System.Threading.ThreadPool", "System.Threading.Timer", "System.Timers.Timer",
        "System.Threading.PeriodicTimer", "System.Threading.Tasks.Parallel", "System.Threading.Tasks.TaskFactory",
        "System.Net.Sockets.Socket", "System.Net.Sockets.TcpClient", "System.Net.Sockets.UdpClient", "System.Net.Sockets.TcpListener",
        "System.Net.Sockets.NetworkStream", "System.Net.Security.SslStream", "System.Net.Dns", "System.Net.Http.HttpClient",
        "System.IO.File", "System.IO.Directory", "System.IO.FileStream", "System.IO.FileInfo", "System.IO.DirectoryInfo",
        "System.IO.FileSystemWatcher", "System.IO.RandomAccess", "System.IO.Pipes.NamedPipeClientStream",
        "System.Diagnostics.Process", "System.Runtime.InteropServices.PosixSignalRegistration", "System.Runtime.InteropServices.NativeLibrary",
    };

    /// <summary>Single members that start work in the background, wait on a timer, or act on the process.</summary>
    public static readonly string[] ImpureMembers =
    {
        "System.Threading.Tasks.Task::Run", "System.Threading.Tasks.Task::Delay", "System.Threading.Tasks.Task::get_Factory",
        "System.Threading.Tasks.Task::Start", "System.Threading.CancellationTokenSource::CancelAfter",
        "System.AppDomain::add_ProcessExit", "System.AppDomain::add_DomainUnload", "System.Runtime.Loader.AssemblyLoadContext::add_Unloading",
        "System.Console::add_CancelKeyPress", "System.Environment::Exit", "System.Environment::FailFast",
    };

    /// <summary>Registering for the process's end: signals, ProcessExit, Ctrl+C, unload.</summary>
    public static readonly string[] ProcessHandlers =
    {
        "System.Runtime.InteropServices.PosixSignalRegistration::Create", "System.AppDomain::add_ProcessExit",
        "System.AppDomain::add_DomainUnload", "System.Runtime.Loader.AssemblyLoadContext::add_Unloading", "System.Console::add_CancelKeyPress",
    };

    /// <summary>The operations Hosting owns for the cmdlets: where a host exists, the cmdlets go through it.</summary>
    public static readonly string[] HostedNativeTypes =
    {
        "HaPowerShell.Native.Packet.PacketSocket", "HaPowerShell.Native.Vrrp.VrrpSocket", "HaPowerShell.Native.Netfilter.VipInputFilter",
        "HaPowerShell.Native.Net.EpollConnector", "HaPowerShell.Native.Net.TcpConnector", "HaPowerShell.Native.Processes.ProcessGroupRunner",
        "HaPowerShell.Native.Processes.ThreadNice", "HaPowerShell.Native.SysctlStore",
    };

    public static readonly string[] HostedNativeMembers =
    {
        "HaPowerShell.Native.Rtnl.RtnlClient::AddAddress", "HaPowerShell.Native.Rtnl.RtnlClient::DeleteAddress",
    };

    private static bool IsImpure(IlReference r)
        => ImpureTypes.Contains(r.TargetType) || ImpureMembers.Contains(r.Target);

    /// <summary>
    /// The methods of Native (by "Type::Name") that reach a system call: a P/Invoke (Tmds.LibC's or their own), an
    /// impure framework API, or another such method of Native. Getters, codecs, builders and other pure code of Native
    /// are not in it, nor are interface methods (the ports: they have no body here).
    /// </summary>
    public static HashSet<string> SystemCallingMethods(IlScanner native)
    {
        var io = new HashSet<string>(StringComparer.Ordinal);
        foreach (var m in native.Methods)
            if (m.IsPInvoke || m.References.Any(r => r.TargetAssembly == "Tmds.LibC" || IsImpure(r)))
                io.Add($"{m.Type}::{m.Name}");
        for (bool grew = true; grew;)
        {
            grew = false;
            foreach (var m in native.Methods)
                if (!io.Contains($"{m.Type}::{m.Name}") && m.References.Any(r => r.TargetAssembly == native.AssemblyName && io.Contains(r.Target)))
                    grew |= io.Add($"{m.Type}::{m.Name}");
        }
        return io;
    }

    /// <summary>Core's rules (or any assembly that must be as pure), over the types <paramref name="scope"/> selects.</summary>
    public static List<Violation> CheckPure(IlScanner assembly, HashSet<string> nativeSystemCalls, Func<string, bool>? scope = null)
    {
        var v = new List<Violation>();
        if (scope is null && assembly.AssemblyReferences.Contains("Tmds.LibC"))
            v.Add(new("references Tmds.LibC (system calls belong to Native)", assembly.AssemblyName));
        foreach (var m in assembly.Methods.Where(m => !m.IsHelper && (scope is null || scope(m.Type))))
        {
            if (m.IsPInvoke) v.Add(new("declares a P/Invoke", $"{m.Type}.{m.Name}"));
            foreach (var r in m.References)
            {
                if (r.TargetAssembly == "Tmds.LibC") v.Add(new("calls libc (Tmds.LibC)", r.ToString()));
                else if (ImpureTypes.Contains(r.TargetType)) v.Add(new($"uses {r.TargetType} (threads, timers, sockets, files, processes or signals)", r.ToString()));
                else if (ImpureMembers.Contains(r.Target)) v.Add(new($"calls {r.Target} (background work, timers or process handlers)", r.ToString()));
                else if (r.TargetAssembly == "HaPowerShell.Native" && nativeSystemCalls.Contains(r.Target)) v.Add(new("calls a Native method that makes system calls", r.ToString()));
            }
        }
        return v;
    }

    /// <summary>Hosting's rule: it runs engines, but the front end owns the process (no signal, exit or unload handler).</summary>
    public static List<Violation> CheckNoProcessHandlers(IlScanner assembly, Func<string, bool>? allowedIn = null)
        => assembly.Methods.Where(m => !m.IsHelper && (allowedIn is null || !allowedIn(m.Type)))
            .SelectMany(m => m.References.Where(r => ProcessHandlers.Contains(r.Target))
                .Select(r => new Violation("registers a process handler (the front end owns the process)", r.ToString())))
            .ToList();

    /// <summary>The cmdlets' rule: what Hosting hosts, they reach through Hosting, not Native.</summary>
    public static List<Violation> CheckThroughHosting(IlScanner assembly, Func<string, bool>? scope = null)
        => assembly.Methods.Where(m => !m.IsHelper && (scope is null || scope(m.Type)))
            .SelectMany(m => m.References.Where(r => HostedNativeTypes.Contains(r.TargetType) && r.TargetMember.Length > 0 || HostedNativeMembers.Contains(r.Target))
                .Select(r => new Violation("calls Native directly where Hosting has a host", r.ToString())))
            .ToList();

    /// <summary>No PowerShell type below the front end.</summary>
    public static List<Violation> CheckNoPowerShell(IlScanner assembly)
        => assembly.AssemblyReferences.Contains("System.Management.Automation")
            ? new List<Violation> { new("references System.Management.Automation (PowerShell stays in the front end)", assembly.AssemblyName) }
            : new List<Violation>();
}
