using System.Net;
using HaPowerShell.Core.Arp;
using HaPowerShell.Core.Health;
using HaPowerShell.Core.Ipvs;
using HaPowerShell.Core.Vrrp;
using HaPowerShell.Native;
using HaPowerShell.Native.Ipvs;
using HaPowerShell.Native.Netlink;
using HaPowerShell.Native.Packet;
using Xunit;

namespace HaPowerShell.Tests;

/// <summary>Every exception we raise carries a stable id, a category and (when known) a target: the one error base.</summary>
public class ErrorBaseTests
{
    [Theory]
    [InlineData(Errno.EPERM, "PermissionDenied", HaErrorCategory.PermissionDenied)]
    [InlineData(Errno.EACCES, "PermissionDenied", HaErrorCategory.PermissionDenied)]
    [InlineData(Errno.ENODEV, "KernelENODEV", HaErrorCategory.NotSpecified)]
    [InlineData(Errno.EEXIST, "KernelEEXIST", HaErrorCategory.NotSpecified)]
    [InlineData(4095, "Kernelerrno4095", HaErrorCategory.NotSpecified)]
    public void NetlinkErrno_GivesIdAndCategory(int errno, string id, HaErrorCategory category)
    {
        var e = new NetlinkException("IPVS get info", errno);
        Assert.Equal(id, e.ErrorId);
        Assert.Equal(category, e.Category);
        Assert.Equal(errno, e.Errno);
        Assert.StartsWith("IPVS get info: ", e.Message);
        Assert.Equal(category == HaErrorCategory.PermissionDenied, e.Message.Contains("CAP_NET_ADMIN"));
    }

    [Fact]
    public void NetlinkTimeoutAndProtocol_HaveTheirOwnIds()
    {
        var t = new NetlinkTimeoutException("dump links", TimeSpan.FromMilliseconds(150));
        Assert.Equal(("KernelTimeout", HaErrorCategory.OperationTimeout, 0), (t.ErrorId, t.Category, t.Errno));
        Assert.Equal("dump links: no reply from the kernel within 150 ms", t.Message);
        var p = new NetlinkProtocolException("dump links", "truncated");
        Assert.Equal(("KernelProtocolError", HaErrorCategory.ProtocolError), (p.ErrorId, p.Category));
        Assert.IsAssignableFrom<NetlinkException>(p);
    }

    [Theory]
    [InlineData(Errno.EPERM, "PermissionDenied", HaErrorCategory.PermissionDenied)]
    [InlineData(Errno.ENETDOWN, "InterfaceDown", HaErrorCategory.ResourceUnavailable)]
    [InlineData(Errno.ENXIO, "KernelENXIO", HaErrorCategory.NotSpecified)]
    public void PacketSocketErrno_GivesIdAndCategory(int errno, string id, HaErrorCategory category)
    {
        var e = new PacketSocketException("open packet socket on eth0", errno);
        Assert.Equal((id, category), (e.ErrorId, e.Category));
        Assert.Equal(category == HaErrorCategory.PermissionDenied, e.Message.Contains("CAP_NET_RAW"));
    }

    [Theory]
    [InlineData(Errno.EACCES, "PermissionDenied", HaErrorCategory.PermissionDenied)]
    [InlineData(Errno.EROFS, "PermissionDenied", HaErrorCategory.PermissionDenied)]
    [InlineData(Errno.ENOENT, "SysctlNotFound", HaErrorCategory.ObjectNotFound)]
    [InlineData(Errno.EIO, "SysctlFailed", HaErrorCategory.WriteError)]
    public void SysctlErrno_GivesIdAndCategory(int errno, string id, HaErrorCategory category)
    {
        var e = new SysctlException("set net.ipv4.conf.lo.arp_ignore", "/proc/sys/net/ipv4/conf/lo/arp_ignore", errno);
        Assert.Equal((id, category), (e.ErrorId, e.Category));
        Assert.Equal(category == HaErrorCategory.PermissionDenied, e.Message.Contains("needs root"));
        var content = new SysctlException("read arp_ignore", "/proc/sys/x", "not a number");
        Assert.Equal(("SysctlFailed", 0), (content.ErrorId, content.Errno));
    }

    [Fact]
    public void DomainExceptions_CarryTheirIdsCategoriesAndTargets()
    {
        Assert.Equal(("IpvsNotAvailable", HaErrorCategory.NotInstalled),
            (new IpvsUnavailableException("modprobe: not found").ErrorId, new IpvsUnavailableException("x").Category));
        var a = new ArpArgumentException("InvalidLabel", "-Label 'x' is bad.", "Label");
        Assert.Equal(("InvalidLabel", HaErrorCategory.InvalidArgument, "Label", "-Label 'x' is bad."), (a.ErrorId, a.Category, a.ParamName, a.Message));
        Assert.Equal(("InterfaceNotFound", HaErrorCategory.ObjectNotFound), Of(new InterfaceNotFoundException("eth9", new[] { "lo" })));
        Assert.Equal(("InterfaceCannotArp", HaErrorCategory.InvalidOperation), Of(new InterfaceCannotArpException("lo", "loopback", Array.Empty<string>())));
        Assert.Equal(("InterfaceDown", HaErrorCategory.ResourceUnavailable), Of(new InterfaceDownException("eth0")));
        var target = IPAddress.Parse("192.0.2.99");
        var n = new ArpNoReplyException("eth0", target, 3, TimeSpan.FromSeconds(1));
        Assert.Equal(("NoArpReply", HaErrorCategory.OperationTimeout), Of(n));
        Assert.Same(target, n.Target);
        Assert.Equal(("InvalidConfig", HaErrorCategory.InvalidArgument), Of(new IpvsRuleParseException(3, "bad")));
        Assert.Equal(("InvalidHttpResponse", HaErrorCategory.ProtocolError), Of(new HttpResponseFormatException("bad")));
    }

    [Theory]
    [InlineData(IpvsFailureKind.InvalidArgument, HaErrorCategory.InvalidArgument)]
    [InlineData(IpvsFailureKind.AlreadyExists, HaErrorCategory.ResourceExists)]
    [InlineData(IpvsFailureKind.NotFound, HaErrorCategory.ObjectNotFound)]
    [InlineData(IpvsFailureKind.NotInstalled, HaErrorCategory.NotInstalled)]
    [InlineData(IpvsFailureKind.NotSupported, HaErrorCategory.NotImplemented)]
    [InlineData(IpvsFailureKind.KernelMismatch, HaErrorCategory.InvalidResult)]
    [InlineData(IpvsFailureKind.Failed, HaErrorCategory.NotSpecified)]
    public void IpvsKinds_MapToCategories(IpvsFailureKind kind, HaErrorCategory category)
    {
        var target = new object();
        var e = new IpvsOperationException("ServiceExists", kind, "m", target);
        Assert.Equal((category, kind), (e.Category, e.Kind));
        Assert.Same(target, e.Target);
    }

    [Theory]
    [InlineData(HealthCheckFailureKind.InvalidArgument, HaErrorCategory.InvalidArgument)]
    [InlineData(HealthCheckFailureKind.NotFound, HaErrorCategory.ObjectNotFound)]
    [InlineData(HealthCheckFailureKind.NotExecutable, HaErrorCategory.PermissionDenied)]
    [InlineData(HealthCheckFailureKind.Insecure, HaErrorCategory.SecurityError)]
    [InlineData(HealthCheckFailureKind.PermissionDenied, HaErrorCategory.PermissionDenied)]
    public void HealthKinds_MapToCategories(HealthCheckFailureKind kind, HaErrorCategory category)
        => Assert.Equal(category, new HealthCheckException("ScriptNotFound", kind, "m").Category);

    [Fact]
    public void VrrpConfiguration_ListsEveryProblemWithItsOwnIdAndCategory()
    {
        var e = new VrrpConfigurationException(new[]
        {
            new VrrpConfigError("InterfaceNotFound", VrrpField.InterfaceName, "No interface 'x' for {InterfaceName}."),
            new VrrpConfigError("VrrpPriorityOutOfRange", VrrpField.Priority, "{Priority} 0 is outside 1-255.", "0"),
            new VrrpConfigError("VrrpInstanceDuplicate", VrrpField.VirtualRouterId, "{VirtualRouterId} 5 runs."),
        });
        Assert.Equal(("InterfaceNotFound", HaErrorCategory.ObjectNotFound, "InterfaceName"), (e.ErrorId, e.Category, e.ParamName));
        Assert.Equal("No interface 'x' for InterfaceName. Priority 0 is outside 1-255. VirtualRouterId 5 runs.", e.Message);
        var p = e.Problems.Cast<VrrpConfigurationException>().ToList();
        Assert.Equal(new[] { "InterfaceNotFound", "VrrpPriorityOutOfRange", "VrrpInstanceDuplicate" }, p.Select(x => x.ErrorId));
        Assert.Equal(new[] { HaErrorCategory.ObjectNotFound, HaErrorCategory.InvalidArgument, HaErrorCategory.ResourceExists }, p.Select(x => x.Category));
        Assert.Equal(new[] { "InterfaceName", "Priority", "VirtualRouterId" }, p.Select(x => x.ParamName));
        Assert.Equal("Priority 0 is outside 1-255.", p[1].Message);
        var one = new VrrpConfigurationException(new[] { new VrrpConfigError("VrrpEngineSchedulingDenied", VrrpField.EngineRealtimePriority, "m") });
        Assert.Same(one, Assert.Single(one.Problems));
        Assert.Equal(HaErrorCategory.PermissionDenied, one.Category);
    }

    [Fact]
    public void VrrpConfiguration_NamedByAFrontEnd_RendersEveryProblemInItsWords()
    {
        var e = new VrrpConfigurationException(new[]
        {
            new VrrpConfigError("VrrpPriorityOutOfRange", VrrpField.Priority, "{Priority} 0 is outside 1-255.", "0"),
            new VrrpConfigError("VrrpVirtualRouterIdOutOfRange", VrrpField.VirtualRouterId, "{VirtualRouterId} 300 is outside 1-255.", "300"),
        }).NamedBy(f => "-" + f);
        Assert.Equal("-Priority 0 is outside 1-255. -VirtualRouterId 300 is outside 1-255.", e.Message);
        Assert.Equal("Priority", e.ParamName); // the bare name, as ArgumentException.ParamName; the messages say "-Priority"
        Assert.Equal(new[] { "-Priority 0 is outside 1-255.", "-VirtualRouterId 300 is outside 1-255." }, e.Problems.Select(x => x.Message));
    }

    [Fact]
    public void ErrorIds_AreNeverEmpty()
    {
        Assert.Throws<ArgumentException>(() => new HaException("", HaErrorCategory.NotSpecified, "m"));
    }

    private static (string, HaErrorCategory) Of(HaException e) => (e.ErrorId, e.Category);
}
