using System.Diagnostics;
using System.Net.Sockets;
using System.Reflection;
using System.Runtime.InteropServices;
using HaPowerShell.Native.Packet;
using HaPowerShell.Native.Rtnl;
using Xunit;

namespace HaPowerShell.Tests.Architecture;

/// <summary>
/// The rooms keep their rules (docs/architecture.md), checked on the built assemblies' IL: the build fails when
/// Core starts a thread or opens a socket, when Hosting registers a signal handler, when a cmdlet goes around
/// Hosting. <see cref="ScannerFindsEveryKindOfViolationInABadSample"/> proves the checks can fail.
/// </summary>
public class ArchitectureTests
{
    private static string Beside(string name) => Path.Combine(AppContext.BaseDirectory, name);

    private static readonly Lazy<IlScanner> Native = new(() => new IlScanner(Beside("HaPowerShell.Native.dll")));
    private static readonly Lazy<IlScanner> Core = new(() => new IlScanner(Beside("HaPowerShell.Core.dll")));
    private static readonly Lazy<IlScanner> Hosting = new(() => new IlScanner(Beside("HaPowerShell.Hosting.dll")));
    private static readonly Lazy<IlScanner> Tests = new(() => new IlScanner(Beside("HaPowerShell.Tests.dll")));

    /// <summary>The cmdlet assembly, built by the project reference (it is RID-specific, so it is not copied here).</summary>
    private static readonly Lazy<IlScanner> Cmdlets = new(() =>
    {
        string path = typeof(ArchitectureTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "CmdletAssembly").Value!;
        Assert.True(File.Exists(path), $"the cmdlet assembly was not built at {path}");
        return new IlScanner(path);
    });

    private static readonly Lazy<HashSet<string>> NativeSystemCalls = new(() => RoomRules.SystemCallingMethods(Native.Value));

    private static void None(IReadOnlyCollection<Violation> violations)
        => Assert.True(violations.Count == 0, $"{violations.Count} violation(s):\n" + string.Join("\n", violations.Distinct().Take(40)));

    [Fact]
    public void NativeSystemCallsAreFoundThroughTheCallGraph()
    {
        var io = NativeSystemCalls.Value;
        // reach libc directly or through NetlinkSocket / other Native code
        Assert.Contains("HaPowerShell.Native.Packet.PacketSocket::Open", io);
        Assert.Contains("HaPowerShell.Native.Rtnl.RtnlClient::AddAddress", io);
        Assert.Contains("HaPowerShell.Native.Netlink.NetlinkSocket::Execute", io);
        Assert.Contains("HaPowerShell.Native.Processes.ProcessGroupRunner::Run", io);
        // pure code of Native is not
        Assert.DoesNotContain("HaPowerShell.Native.Rtnl.RtnlClient::BuildAddressChange", io);
        Assert.DoesNotContain("HaPowerShell.Native.Rtnl.RtnlClient::ParseLink", io);
        Assert.DoesNotContain("HaPowerShell.Native.Errno::Name", io);
        Assert.DoesNotContain("HaPowerShell.Native.Netlink.NetlinkMessageBuilder::ToArray", io);
    }

    [Fact]
    public void CoreIsPure()
        => None(RoomRules.CheckPure(Core.Value, NativeSystemCalls.Value));

    [Fact]
    public void HostingRegistersNoSignalOrExitHandler()
        => None(RoomRules.CheckNoProcessHandlers(Hosting.Value));

    [Fact]
    public void OnlyTheModuleFrontEndRegistersProcessHandlers()
        => None(RoomRules.CheckNoProcessHandlers(Cmdlets.Value, allowedIn: t => t == "HaPowerShell.ModuleLifecycle"));

    [Fact]
    public void CmdletsGoThroughHostingWhereItHasAHost()
        => None(RoomRules.CheckThroughHosting(Cmdlets.Value));

    [Fact]
    public void NoPowerShellBelowTheFrontEnd()
        => None(new[] { Native.Value, Core.Value, Hosting.Value }.SelectMany(RoomRules.CheckNoPowerShell).ToList());

    [Fact]
    public void ScannerFindsEveryKindOfViolationInABadSample()
    {
        static bool InSample(string type) => type.StartsWith(typeof(ArchitectureBadSample).FullName!, StringComparison.Ordinal);
        var pure = RoomRules.CheckPure(Tests.Value, NativeSystemCalls.Value, InSample);
        string all = string.Join("\n", pure);
        foreach (var expected in new[]
        {
            "uses System.Threading.Thread", "uses System.Threading.ThreadPool", "uses System.Threading.Timer",
            "calls System.Threading.Tasks.Task::Run", "calls System.Threading.Tasks.Task::Delay",
            "uses System.Net.Sockets.Socket", "uses System.IO.File ", "uses System.IO.FileStream",
            "uses System.Runtime.InteropServices.PosixSignalRegistration", "calls System.AppDomain::add_ProcessExit",
            "uses System.Diagnostics.Process", "declares a P/Invoke",
            "calls a Native method that makes system calls: HaPowerShell.Tests.Architecture.ArchitectureBadSample.OpensAPacketSocket -> HaPowerShell.Native.Packet.PacketSocket::Open",
            "calls a Native method that makes system calls: HaPowerShell.Tests.Architecture.ArchitectureBadSample.AddsAnAddress -> HaPowerShell.Native.Rtnl.RtnlClient::AddAddress",
            // hidden in a lambda and in an async method: still found, and credited to the method that wrote them
            "ArchitectureBadSample.InALambda -> System.IO.File::ReadAllText",
            "ArchitectureBadSample.InAnAsyncMethod -> System.Threading.Tasks.Task::Delay",
        })
            Assert.True(all.Contains(expected, StringComparison.Ordinal), $"not found: {expected}\nfound:\n{all}");
        // pure code of the sample (and Native's pure code it calls) is not reported
        Assert.DoesNotContain("IsPure", all);

        var handlers = RoomRules.CheckNoProcessHandlers(Tests.Value, allowedIn: t => !InSample(t));
        Assert.Contains(handlers, h => h.Where.Contains("PosixSignalRegistration::Create"));
        Assert.Contains(handlers, h => h.Where.Contains("AppDomain::add_ProcessExit"));
        var around = RoomRules.CheckThroughHosting(Tests.Value, InSample);
        Assert.Contains(around, h => h.Where.EndsWith("PacketSocket::Open", StringComparison.Ordinal));
        Assert.Contains(around, h => h.Where.EndsWith("RtnlClient::AddAddress", StringComparison.Ordinal));
    }
}

/// <summary>Code that breaks every rule, for <see cref="ArchitectureTests.ScannerFindsEveryKindOfViolationInABadSample"/>. Never run.</summary>
internal static class ArchitectureBadSample
{
    public static void StartsAThread() => new Thread(() => { }).Start();
    public static void QueuesWork() => ThreadPool.QueueUserWorkItem(_ => { });
    public static Timer ArmsATimer() => new(_ => { });
    public static Task RunsATask() => Task.Run(() => { });
    public static Task Waits() => Task.Delay(1);
    public static Socket OpensASocket() => new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
    public static string ReadsAFile() => File.ReadAllText("/etc/hostname");
    public static FileStream WritesAFile() => new("/tmp/x", FileMode.Create);
    public static PosixSignalRegistration CatchesSigterm() => PosixSignalRegistration.Create(PosixSignal.SIGTERM, _ => { });
    public static void HooksExit() => AppDomain.CurrentDomain.ProcessExit += (_, _) => { };
    public static Process? RunsAProgram() => Process.Start("true");
    public static PacketSocket OpensAPacketSocket() => PacketSocket.Open(1, "eth0", 0);
    public static void AddsAnAddress(RtnlClient rtnl) => rtnl.AddAddress(1, System.Net.IPAddress.Loopback, 8);
    public static Func<string> InALambda() => () => File.ReadAllText("/etc/hostname");
    public static async Task InAnAsyncMethod() => await Task.Delay(1);
    public static byte[] IsPure() => RtnlClient.BuildAddressChange(true, 1, System.Net.IPAddress.Loopback, 8, null);

    [DllImport("libc", EntryPoint = "getpid")]
    public static extern int CallsLibc();
}
