namespace HaPowerShell.Native.Ipvs;

/// <summary>The running kernel has no IPVS: the generic netlink family is absent even after modprobe (<c>IpvsNotAvailable</c>).</summary>
public sealed class IpvsUnavailableException : HaException
{
    public IpvsUnavailableException(string modprobeOutcome)
        : base("IpvsNotAvailable", HaErrorCategory.NotInstalled,
            "This kernel has no IPVS support: the 'IPVS' generic netlink family is not registered and " +
            $"loading the module failed ({modprobeOutcome}). Load it with 'modprobe ip_vs', or run on a kernel " +
            "built with CONFIG_IP_VS (on a machine without it, use the project's kernel lab).")
    {
        ModprobeOutcome = modprobeOutcome;
    }

    public string ModprobeOutcome { get; }
}
