using System.Text;

namespace HaPowerShell.Core;

/// <summary>The kernel's rules for interface names and IPv4 address labels (one place for every room and front end).</summary>
public static class LinuxNames
{
    /// <summary>IFNAMSIZ - 1: the longest interface name or address label, in bytes (UTF-8), the kernel stores.</summary>
    public const int MaxNameBytes = 15;

    /// <summary>Why <paramref name="name"/> cannot be an interface name (1-15 bytes, no '/', ':' or white space, not "." or ".."), or null when it can.</summary>
    public static string? InterfaceNameProblem(string? name)
    {
        if (string.IsNullOrEmpty(name)) return "it is empty";
        if (name is "." or "..") return $"'{name}' is not a name";
        if (Encoding.UTF8.GetByteCount(name) > MaxNameBytes) return $"'{name}' is longer than {MaxNameBytes} bytes (IFNAMSIZ)";
        if (name.Any(c => c == '/' || c == ':' || char.IsWhiteSpace(c) || char.IsControl(c))) return $"'{name}' contains '/', ':', a space or a control character";
        return null;
    }

    /// <summary>
    /// Why <paramref name="label"/> cannot label an IPv4 address on <paramref name="device"/>, or null when it can: a
    /// label is the device name itself or the device name, ':' and a suffix ("eth0:1"), at most 15 bytes, without
    /// '/', white space or control characters (what ip(8) and ifconfig aliases expect).
    /// </summary>
    public static string? LabelProblem(string? label, string device)
    {
        if (string.IsNullOrEmpty(label)) return "it is empty";
        if (Encoding.UTF8.GetByteCount(label) > MaxNameBytes) return $"'{label}' is longer than {MaxNameBytes} bytes (IFNAMSIZ)";
        if (label.Any(c => c == '/' || char.IsWhiteSpace(c) || char.IsControl(c))) return $"'{label}' contains '/', a space or a control character";
        if (label != device && !(label.StartsWith(device + ":", StringComparison.Ordinal) && label.Length > device.Length + 1))
            return $"'{label}' must be '{device}' or start with '{device}:' (such as '{device}:1')";
        return null;
    }
}
