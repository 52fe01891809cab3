namespace HaPowerShell.Core.Ipvs;

/// <summary>What `ipvsadm --version` and the header of `ipvsadm -L` report about the kernel's IPVS: the JSON face.</summary>
public abstract class IpvsInfoJson
{
    private protected readonly Version version;

    private protected IpvsInfoJson(uint versionCode, uint connectionTableSize)
    {
        VersionCode = versionCode;
        version = new Version((int)(versionCode >> 16) & 0xff, (int)(versionCode >> 8) & 0xff, (int)versionCode & 0xff);
        ConnectionTableSize = connectionTableSize;
    }

    /// <summary>IPVS version, e.g. "1.2.1".</summary>
    public string Version => version.ToString();

    /// <summary>The raw IP_VS_VERSION_CODE (0x010201 for 1.2.1).</summary>
    public uint VersionCode { get; }

    /// <summary>Size of the connection hash table (ip_vs_conn_tab_bits, default 4096).</summary>
    public uint ConnectionTableSize { get; }

    /// <summary>The line ipvsadm prints: "IP Virtual Server version 1.2.1 (size=4096)".</summary>
    public override string ToString() => $"IP Virtual Server version {Version} (size={ConnectionTableSize})";
}

/// <summary>What the kernel's IPVS reports; the typed version is the internal twin of the JSON face.</summary>
public sealed class IpvsInfo : IpvsInfoJson
{
    public IpvsInfo(uint versionCode, uint connectionTableSize) : base(versionCode, connectionTableSize) { }

    internal new Version Version => version;
}
