namespace HaPowerShell.Native.Ipvs;

/// <summary>The running kernel has no IPVS: the generic netlink family is absent even after modprobe (<c>IpvsNotAvailable</c>).</summary>
public sealed class IpvsUnavailableException : HaException
{
    public IpvsUnavailableException(string modprobeOutcome)
        : base("IpvsNotAvailable", HaErrorCategory.NotInstalled,
            "This kernel has no IPVS support: the 'IPVS' generic netlink family is not registered and " +
            $"loading the module failed ({modprobeOutcome}). Load it as root with 'modprobe ip_vs' (in a container: on the " +
            "host, since containers share its kernel), or boot a kernel built with CONFIG_IP_VS " +
            "('grep CONFIG_IP_VS /boot/config-$(uname -r)' shows whether this one has it). Test-IpvsAvailable checks quietly.")
    {
        ModprobeOutcome = modprobeOutcome;
    }

    public string ModprobeOutcome { get; }
}
