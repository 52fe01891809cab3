using System.Runtime.InteropServices;

namespace HaPowerShell.Native.Processes;

/// <summary>A local account as getpwnam(3) reports it.</summary>
public sealed record UserAccount(string Name, uint Uid, uint Gid, string HomeDirectory, string Shell)
{
    [StructLayout(LayoutKind.Sequential)]
    private struct Passwd
    {
        public IntPtr pw_name, pw_passwd;
        public uint pw_uid, pw_gid;
        public IntPtr pw_gecos, pw_dir, pw_shell;
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int getpwnam_r(string name, out Passwd pwd, byte[] buf, nuint buflen, out IntPtr result);

    [DllImport("libc", SetLastError = true)]
    private static extern int getpwuid_r(uint uid, out Passwd pwd, byte[] buf, nuint buflen, out IntPtr result);

    /// <summary>Looks an account up by name (or by a numeric uid); null when it does not exist.</summary>
    public static UserAccount? Find(string nameOrUid)
    {
        ArgumentException.ThrowIfNullOrEmpty(nameOrUid);
        for (int size = 4096; size <= 1 << 20; size *= 4)
        {
            var buf = new byte[size];
            int rc = uint.TryParse(nameOrUid, out uint uid)
                ? getpwuid_r(uid, out var pwd, buf, (nuint)buf.Length, out var result)
                : getpwnam_r(nameOrUid, out pwd, buf, (nuint)buf.Length, out result);
            if (rc == Errno.ERANGE) continue; // the buffer was too small
            if (rc != 0 || result == IntPtr.Zero) return null;
            return new UserAccount(Marshal.PtrToStringUTF8(pwd.pw_name) ?? nameOrUid, pwd.pw_uid, pwd.pw_gid,
                Marshal.PtrToStringUTF8(pwd.pw_dir) ?? "/", Marshal.PtrToStringUTF8(pwd.pw_shell) ?? "");
        }
        return null;
    }

    /// <summary>The effective user of this process.</summary>
    public static uint EffectiveUid => Tmds.Linux.LibC.geteuid();

    public static bool IsRoot => EffectiveUid == 0;
}
