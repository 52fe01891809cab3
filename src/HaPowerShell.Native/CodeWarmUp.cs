using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace HaPowerShell.Native;

/// <summary>
/// Compiles code before its first real use. .NET compiles a method the first time it runs, and builds
/// the marshalling stub of a native call the first time it is made; on a path that runs first at the
/// worst moment (a backup's takeover: it has never sent an advert) that costs about a millisecond on
/// the critical path. Preparing such a path when an engine starts moves that cost to start-up.
/// Each method is prepared once per process; failures are ignored (the method is then compiled at
/// first use, as without this). Where code is not compiled at run time (NativeAOT: everything was compiled
/// ahead of time) there is nothing to prepare, and <see cref="Prepare"/> does nothing.
/// </summary>
public static class CodeWarmUp
{
    private static readonly ConcurrentDictionary<MethodBase, bool> Prepared = new();

    private const BindingFlags Declared = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance
        | BindingFlags.Static | BindingFlags.DeclaredOnly;

    /// <summary>Whether this runtime compiles code at run time (a JIT), so that preparing code ahead of its use helps.</summary>
    public static bool IsUseful => System.Runtime.CompilerServices.RuntimeFeature.IsDynamicCodeCompiled;

    /// <summary>Compiles every overload of the named methods declared on <paramref name="type"/> (not generic ones).
    /// Native (P/Invoke) methods get their marshalling stub instead. Returns how many were prepared now (0 without a JIT).</summary>
    public static int Prepare([DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicMethods | DynamicallyAccessedMemberTypes.NonPublicMethods)] Type type,
        params string[] methodNames)
    {
        if (!IsUseful) return 0;
        int n = 0;
        foreach (var m in type.GetMethods(Declared))
        {
            if (Array.IndexOf(methodNames, m.Name) < 0) continue;
            if (PrepareOne(m)) n++;
        }
        return n;
    }

    private static bool PrepareOne(MethodInfo m)
    {
        if (m.IsAbstract || m.ContainsGenericParameters || !Prepared.TryAdd(m, true)) return false;
        try
        {
            if ((m.Attributes & MethodAttributes.PinvokeImpl) != 0) Marshal.Prelink(m);
            else RuntimeHelpers.PrepareMethod(m.MethodHandle);
            return true;
        }
        catch (Exception)
        {
            // Not preparable here (e.g. a missing native entry point): it is compiled at first use instead.
            return false;
        }
    }
}
