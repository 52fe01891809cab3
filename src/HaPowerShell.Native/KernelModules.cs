namespace HaPowerShell.Native;

/// <summary>Which kernel modules this kernel has: loaded, built in, or installed for it.</summary>
public interface IKernelModuleCatalog
{
    /// <summary>
    /// True when the module is loaded, built in or installed for the running kernel (so the kernel's own
    /// request_module can load it); false when it is none of these; null when this cannot be told
    /// (no module index for the running kernel, as in some containers).
    /// </summary>
    bool? IsAvailable(string module);

    /// <summary>Names of the available modules that start with <paramref name="prefix"/>, sorted; empty when unknown.</summary>
    IReadOnlyList<string> Available(string prefix);
}

/// <summary>
/// Reads /proc/modules, /sys/module and the running kernel's modules.dep and modules.builtin (what
/// modprobe reads). Read afresh on every question: the answer must be the kernel's as it is now.
/// Paths are a test seam.
/// </summary>
public sealed class KernelModuleCatalog : IKernelModuleCatalog
{
    public static KernelModuleCatalog Instance { get; } = new();

    private readonly string _procModules, _sysModule, _modulesRoot, _release;

    public KernelModuleCatalog(string procModules = "/proc/modules", string sysModule = "/sys/module",
        string modulesRoot = "/lib/modules", string? release = null)
    {
        _procModules = procModules;
        _sysModule = sysModule;
        _modulesRoot = modulesRoot;
        _release = release ?? ReadRelease();
    }

    public bool? IsAvailable(string module)
    {
        string name = Normalize(module);
        if (name.Length == 0 || name.Contains('/')) return false;
        if (Directory.Exists(Path.Combine(_sysModule, name))) return true;
        if (Loaded().Contains(name)) return true;
        return Index() is { } index ? index.Contains(name) : null;
    }

    public IReadOnlyList<string> Available(string prefix)
    {
        var names = new SortedSet<string>(StringComparer.Ordinal);
        string p = Normalize(prefix);
        foreach (var n in Loaded()) if (n.StartsWith(p, StringComparison.Ordinal)) names.Add(n);
        try
        {
            foreach (var d in Directory.EnumerateDirectories(_sysModule, p + "*")) names.Add(Path.GetFileName(d));
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        foreach (var n in Index() ?? new HashSet<string>()) if (n.StartsWith(p, StringComparison.Ordinal)) names.Add(n);
        return names.ToList();
    }

    /// <summary>Module names as the kernel spells them: '-' and '_' are the same to modprobe.</summary>
    private static string Normalize(string module) => module.Trim().Replace('-', '_');

    private HashSet<string> Loaded()
    {
        var set = new HashSet<string>(StringComparer.Ordinal);
        try
        {
            foreach (var line in File.ReadLines(_procModules))
            {
                int sp = line.IndexOf(' ');
                if (sp > 0) set.Add(line[..sp]);
            }
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return set;
    }

    /// <summary>Installed and built-in modules of the running kernel; null when it has no index here.</summary>
    private HashSet<string>? Index()
    {
        string dir = Path.Combine(_modulesRoot, _release);
        string dep = Path.Combine(dir, "modules.dep"), builtin = Path.Combine(dir, "modules.builtin");
        if (!File.Exists(dep) && !File.Exists(builtin)) return null;
        var set = new HashSet<string>(StringComparer.Ordinal);
        try
        {
            if (File.Exists(dep))
                foreach (var line in File.ReadLines(dep))
                {
                    int colon = line.IndexOf(':');
                    if (colon > 0) set.Add(ModuleName(line.AsSpan(0, colon)));
                }
            if (File.Exists(builtin))
                foreach (var line in File.ReadLines(builtin))
                    if (line.Length > 0) set.Add(ModuleName(line));
        }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
        return set;
    }

    /// <summary>"kernel/net/netfilter/ipvs/ip_vs_rr.ko.xz" -> "ip_vs_rr".</summary>
    private static string ModuleName(ReadOnlySpan<char> path)
    {
        int slash = path.LastIndexOf('/');
        var file = slash >= 0 ? path[(slash + 1)..] : path;
        int ko = file.IndexOf(".ko", StringComparison.Ordinal);
        if (ko > 0) file = file[..ko];
        return Normalize(file.ToString());
    }

    private static string ReadRelease()
    {
        try { return File.ReadAllText("/proc/sys/kernel/osrelease").Trim(); }
        catch (IOException) { return ""; }
    }
}
