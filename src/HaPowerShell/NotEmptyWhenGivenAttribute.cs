using System.Management.Automation;

namespace HaPowerShell;

/// <summary>
/// Refuses an empty or blank string at binding (ParameterArgumentValidationError) but lets null through: a
/// parameter bound by property name from an object whose property is null (ConvertFrom-KeepalivedConfig's instance
/// in no sync group) is simply not set, where ValidateNotNullOrEmpty would refuse the whole object.
/// </summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
public sealed class NotEmptyWhenGivenAttribute : ValidateArgumentsAttribute
{
    protected override void Validate(object arguments, EngineIntrinsics engineIntrinsics)
    {
        object? value = arguments is PSObject p ? p.BaseObject : arguments;
        if (value is string s && string.IsNullOrWhiteSpace(s))
            throw new ValidationMetadataException("The argument is empty. Give a name, or leave the parameter out.");
    }
}
