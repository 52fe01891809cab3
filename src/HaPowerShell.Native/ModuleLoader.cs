using System.Collections.Concurrent;
using System.Diagnostics;

namespace HaPowerShell.Native;

/// <summary>
/// Loads a kernel module with modprobe, at most once per module per process (as ipvsadm does
/// before giving up on IPVS). The outcome of the first attempt is remembered and reported again.
/// </summary>
public static class ModuleLoader
{
    private static readonly ConcurrentDictionary<string, Lazy<(bool Loaded, string Detail)>> Attempts = new();

    public static (bool Loaded, string Detail) TryLoadOnce(string module)
        => Attempts.GetOrAdd(module, m => new Lazy<(bool, string)>(() => Run(m))).Value;

    private static (bool, string) Run(string module)
    {
        string? modprobe = new[] { "/sbin/modprobe", "/usr/sbin/modprobe", "/bin/modprobe", "/usr/bin/modprobe" }.FirstOrDefault(File.Exists);
        if (modprobe is null) return (false, "modprobe is not installed (Debian package 'kmod')");
        try
        {
            var psi = new ProcessStartInfo(modprobe) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
            psi.ArgumentList.Add("--");
            psi.ArgumentList.Add(module);
            using var p = Process.Start(psi)!;
            var stderr = p.StandardError.ReadToEndAsync();
            if (!p.WaitForExit(15000))
            {
                try { p.Kill(true); } catch (InvalidOperationException) { }
                return (false, $"'{modprobe} {module}' did not finish within 15 s");
            }
            string err = stderr.Result.Trim();
            return p.ExitCode == 0
                ? (true, $"'{modprobe} {module}' succeeded")
                : (false, $"'{modprobe} {module}' exited with {p.ExitCode}{(err.Length > 0 ? ": " + err : "")}");
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or IOException)
        {
            return (false, $"could not run {modprobe}: {e.Message}");
        }
    }
}
