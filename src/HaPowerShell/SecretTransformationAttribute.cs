using System.Management.Automation;
using System.Security;
using HaPowerShell.Core.Vrrp;

namespace HaPowerShell;

/// <summary>
/// Lets a masked password object (<see cref="VrrpPassword"/>: what ConvertFrom-KeepalivedConfig's vrrp_instance
/// objects carry as <c>AuthenticationPassword</c>, shown as asterisks and written to JSON as <c>{}</c>) bind to a
/// SecureString parameter by property name. Anything else passes unchanged, so a plain string is still refused.
/// </summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
public sealed class SecretTransformationAttribute : ArgumentTransformationAttribute
{
    public override object? Transform(EngineIntrinsics engineIntrinsics, object? inputData)
    {
        object? value = inputData is PSObject p ? p.BaseObject : inputData;
        if (value is not VrrpPassword password) return inputData;
        var secure = new SecureString();
        foreach (char c in password.Reveal()) secure.AppendChar(c);
        secure.MakeReadOnly();
        return secure;
    }
}
