namespace HaPowerShell.Core.Vrrp;

/// <summary>
/// The VRRPv2 PASS password (keepalived's auth_pass). It travels in clear in every advert (that is the protocol),
/// but nothing that shows or serialises objects gets it: it has no public property (ConvertTo-Json writes <c>{}</c>),
/// <see cref="ToString"/> gives asterisks (Format-List * shows those), and only this assembly and the hosts read the
/// text (<see cref="Reveal"/>) to build and check the adverts. Compares by value (a reconfiguration that keeps the
/// password is no change).
/// </summary>
public sealed class VrrpPassword : IEquatable<VrrpPassword>
{
    private readonly string _text;

    public VrrpPassword(string text) => _text = text ?? throw new ArgumentNullException(nameof(text));

    /// <summary>keepalived's text forms and tests give the password as a string.</summary>
    public static implicit operator VrrpPassword?(string? text) => text is null ? null : new VrrpPassword(text);

    internal string Reveal() => _text;

    public bool Equals(VrrpPassword? other) => other is not null && string.Equals(_text, other._text, StringComparison.Ordinal);
    public override bool Equals(object? obj) => obj is VrrpPassword p && Equals(p);
    public override int GetHashCode() => StringComparer.Ordinal.GetHashCode(_text);
    public static bool operator ==(VrrpPassword? a, VrrpPassword? b) => a is null ? b is null : a.Equals(b);
    public static bool operator !=(VrrpPassword? a, VrrpPassword? b) => !(a == b);

    public override string ToString() => "********";
}
