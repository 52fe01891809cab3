using System.Runtime.InteropServices;

namespace HaPowerShell.Native.Processes;

/// <summary>A local group as getgrnam(3) reports it.</summary>
public sealed record GroupAccount(string Name, uint Gid)
{
    [StructLayout(LayoutKind.Sequential)]
    private struct Group
    {
        public IntPtr gr_name, gr_passwd;
        public uint gr_gid;
        public IntPtr gr_mem;
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int getgrnam_r(string name, out Group grp, byte[] buf, nuint buflen, out IntPtr result);

    /// <summary>Looks a group up by name; null when it does not exist.</summary>
    public static GroupAccount? Find(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        for (int size = 4096; size <= 1 << 20; size *= 4)
        {
            var buf = new byte[size];
            int rc = getgrnam_r(name, out var grp, buf, (nuint)buf.Length, out var result);
            if (rc == 34 /* ERANGE */) continue;
            if (rc != 0 || result == IntPtr.Zero) return null;
            return new GroupAccount(Marshal.PtrToStringUTF8(grp.gr_name) ?? name, grp.gr_gid);
        }
        return null;
    }

    /// <summary>The effective group of this process.</summary>
    public static uint EffectiveGid => Tmds.Linux.LibC.getegid();
}
