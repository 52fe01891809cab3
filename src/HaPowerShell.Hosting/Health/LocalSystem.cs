using HaPowerShell.Core.Health;
using HaPowerShell.Native.Processes;

namespace HaPowerShell.Hosting.Health;

/// <summary>This machine's file system.</summary>
public sealed class LocalFileStatSource : IFileStatSource
{
    public static LocalFileStatSource Instance { get; } = new();

    public FileStatus? Stat(string path, bool follow) => follow ? FileStatus.Stat(path) : FileStatus.Lstat(path);
}

/// <summary>MISC_CHECK on this machine: its processes, files and accounts.</summary>
public static class LocalMiscCheck
{
    /// <summary>A <see cref="MiscCheck"/> that runs programs with <see cref="ProcessGroupRunner"/>, vets them on this file system and finds accounts in the user database.</summary>
    public static MiscCheck Create() => new(ProcessGroupRunner.Instance, LocalFileStatSource.Instance, UserAccount.Find, UserAccount.EffectiveUid);
}
