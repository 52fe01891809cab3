using System.Globalization;
using System.Management.Automation;

namespace HaPowerShell;

/// <summary>
/// Makes a numeric parameter that binds from the pipeline by property name refuse text that is not a number.
/// Without it, PowerShell skips a compiled cmdlet's parameter whose piped value does not convert (a piped
/// <c>PrefixLength = 'abc'</c> left -PrefixLength unbound, and a /32 was added); with it the object fails
/// to bind with ParameterArgumentTransformationError, naming the parameter, and nothing runs for it.
/// Values that are not strings are left to PowerShell's own conversion.
/// </summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
public sealed class StrictNumberAttribute : ArgumentTransformationAttribute
{
    private readonly Type _type;

    /// <param name="type">The parameter's number type (int, ushort, double, ...; nullable types are fine).</param>
    public StrictNumberAttribute(Type type) => _type = Nullable.GetUnderlyingType(type) ?? type;

    public override object? Transform(EngineIntrinsics engineIntrinsics, object? inputData)
    {
        object? value = inputData is PSObject p ? p.BaseObject : inputData;
        if (value is not string text) return inputData;
        try
        {
            return LanguagePrimitives.ConvertTo(text, _type, CultureInfo.InvariantCulture);
        }
        catch (PSInvalidCastException)
        {
            throw new ArgumentTransformationMetadataException($"'{text}' is not {Describe()}. (InvalidNumber)");
        }
    }

    private string Describe() => Type.GetTypeCode(_type) switch
    {
        TypeCode.Byte => "a whole number from 0 to 255",
        TypeCode.UInt16 => "a whole number from 0 to 65535",
        TypeCode.UInt32 => "a whole number from 0 to 4294967295",
        TypeCode.Int32 => "a whole number",
        TypeCode.Int64 => "a whole number",
        TypeCode.Double => "a number",
        _ => $"a {_type.Name}",
    };
}
