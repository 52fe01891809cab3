using System.Collections;
using System.Management.Automation;
using System.Net;
using HaPowerShell.Core.Arp;

namespace HaPowerShell;

/// <summary>
/// Binds an address parameter strictly. PowerShell on its own converts a string to
/// <see cref="IPAddress"/> with <c>IPAddress.Parse</c>, which reads '192.0.2' as 192.0.0.2 and '1' as
/// 0.0.0.1 (inet_aton's shorthand); this attribute sends every string through the module's one strict
/// parser (<see cref="ArpValidation.ParseAddress"/>, the ARP cmdlets' parser) instead, so a shorthand,
/// a zone id or an IPv4-mapped IPv6 address fails at binding, before anything runs.
/// Works on <see cref="IPAddress"/> and string parameters and on arrays of either: an address given
/// as an <see cref="IPAddress"/> object passes unchanged; a string comes back as the parsed
/// <see cref="IPAddress"/> (PowerShell turns it back into its canonical text for a string parameter),
/// or, with <see cref="AllowPrefix"/>, as the checked text itself ("192.0.2.1/24").
/// </summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
public sealed class IPAddressTransformationAttribute : ArgumentTransformationAttribute
{
    /// <summary>Also accept "address/prefix"; the text is returned unchanged after the check.</summary>
    public bool AllowPrefix { get; set; }

    /// <summary>Only the first word is an address (keepalived's "192.0.2.1/24 label eth0:1"); the rest is left to the cmdlet.</summary>
    public bool FirstWordOnly { get; set; }

    public override object? Transform(EngineIntrinsics engineIntrinsics, object? inputData)
    {
        object? value = inputData is PSObject p ? p.BaseObject : inputData;
        if (value is null or IPAddress) return value;
        if (value is string s) return One(s);
        if (value is IEnumerable list)
        {
            var result = new List<object?>();
            foreach (var item in list) result.Add(Transform(engineIntrinsics, item));
            return result.ToArray();
        }
        // A number or anything else: its text must be an address too ('-Address 1' is not 0.0.0.1).
        return One(LanguagePrimitives.ConvertTo<string>(value));
    }

    private object One(string text)
    {
        string address = text;
        if (FirstWordOnly)
        {
            var words = text.Split(' ', 2, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            address = words.Length == 0 ? "" : words[0];
        }
        AddressSpec spec;
        try
        {
            spec = ArpValidation.ParseAddress(address, parameterName: "", allowPrefix: AllowPrefix);
        }
        catch (ArpArgumentException e)
        {
            // PowerShell reports this as ParameterArgumentTransformationError and names the parameter;
            // the message says what is wrong and ends with the module's id for it.
            throw new ArgumentTransformationMetadataException($"{e.Message} ({e.ErrorId})", e);
        }
        return AllowPrefix || FirstWordOnly ? text : spec.Address;
    }
}
