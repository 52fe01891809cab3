namespace HaPowerShell.Core.Vrrp;

/// <summary>The protocol version: 2 (RFC 3768, IPv4, whole seconds, optional PASS auth) or 3 (RFC 5798, IPv4/IPv6, centiseconds).</summary>
public enum VrrpVersion
{
    V2 = 2,
    V3 = 3,
}

/// <summary>The states of RFC 3768 §6.4 / RFC 5798 §6.4, plus keepalived's Fault (a tracked resource failed).</summary>
public enum VrrpState
{
    Initialize,
    Backup,
    Master,
    Fault,
}

/// <summary>VRRPv2 authentication type (RFC 3768 §5.3.6). Only None and SimpleText are sent; IP AH is recognised and rejected.</summary>
public enum VrrpAuthType : byte
{
    None = 0,
    SimpleText = 1,
    IpAuthenticationHeader = 2,
}

/// <summary>How the VRRPv3 IPv4 checksum is computed.</summary>
public enum VrrpChecksumMode
{
    /// <summary>RFC 5798 §5.2.8 and keepalived's default: the IPv4 (or IPv6) pseudo-header is included.</summary>
    PseudoHeader,

    /// <summary>The VRRPv2 form (the VRRP message only), which some other vendors send for VRRPv3 over IPv4 (keepalived's <c>v3_checksum_as_v2</c>).</summary>
    V2Style,
}

/// <summary>Why a received packet was dropped. Each has its own counter (<see cref="VrrpCounters"/>).</summary>
public enum VrrpRejectReason
{
    /// <summary>Not rejected.</summary>
    None = 0,
    /// <summary>Shorter than a VRRP header (8 bytes) or than the IPv4 header it claims.</summary>
    Truncated,
    /// <summary>The IPv4 header is malformed (version, header length, total length, fragment).</summary>
    IpHeaderInvalid,
    /// <summary>The IP protocol is not 112 (or AH, which we do not support).</summary>
    NotVrrp,
    /// <summary>An IPv4 packet reached an IPv6 instance or the reverse.</summary>
    AddressFamilyMismatch,
    /// <summary>TTL / hop limit is not 255 on a multicast advert (RFC 3768 §7.1, RFC 5798 §7.1).</summary>
    TtlInvalid,
    /// <summary>The version field is not the one configured.</summary>
    VersionMismatch,
    /// <summary>The type field is not 1 (ADVERTISEMENT).</summary>
    TypeInvalid,
    /// <summary>No instance here has this VRID (counted by the engine, not by an instance).</summary>
    VridUnknown,
    /// <summary>The message length disagrees with the address count (and the auth data in v2).</summary>
    LengthMismatch,
    /// <summary>The VRRP checksum is wrong.</summary>
    ChecksumInvalid,
    /// <summary>v2: the auth type is not 0, 1 or 2.</summary>
    AuthTypeInvalid,
    /// <summary>v2: the auth type differs from ours (includes IP AH, which we do not implement).</summary>
    AuthTypeMismatch,
    /// <summary>v2 PASS: the password differs.</summary>
    AuthFailure,
    /// <summary>v2: the advert interval differs from ours (RFC 3768 §7.1 MUST drop).</summary>
    IntervalMismatch,
    /// <summary>v3: Max Adver Int is 0.</summary>
    IntervalInvalid,
    /// <summary>The address list differs from ours and the sender is not the owner (priority 255).</summary>
    AddressListMismatch,
    /// <summary>Multicast arrived on a unicast instance or unicast on a multicast one.</summary>
    UnicastMulticastMismatch,
    /// <summary>Unicast instance: the source is not one of the configured peers.</summary>
    UnknownUnicastSource,
    /// <summary>Our own advert came back (multicast loop); dropped silently.</summary>
    OwnAdvertisement,
}
