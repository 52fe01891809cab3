using HaPowerShell.Native.Processes;

namespace HaPowerShell.Core.Health;

/// <summary>How keepalived's MISC_CHECK reads an exit status.</summary>
public static class MiscExitCode
{
    /// <summary>
    /// 0: success, weight unchanged. 1: failure. With <paramref name="dynamic"/> (misc_dynamic),
    /// 2-255: success with weight = status - 2 (255 gives 253). Without it, any non-zero status is a
    /// failure. A timed-out program is a failure whatever it returned.
    /// </summary>
    public static (bool Success, int? Weight) Interpret(int exitCode, bool dynamic, bool timedOut)
    {
        if (timedOut) return (false, null);
        if (exitCode == 0) return (true, null);
        if (dynamic && exitCode is >= 2 and <= 255) return (true, exitCode - 2);
        return (false, null);
    }

    public static string Describe(int exitCode, bool dynamic, bool timedOut, int signal)
    {
        if (timedOut) return "timed out; the process group was terminated";
        if (signal != 0) return $"ended by signal {signal}";
        if (exitCode == 0) return "exit status 0: success";
        if (exitCode == 1) return "exit status 1: failure";
        if (dynamic && exitCode is >= 2 and <= 255) return $"exit status {exitCode}: success, weight {exitCode - 2}";
        return $"exit status {exitCode}: failure" + (exitCode is >= 2 and <= 255 ? " (use -Dynamic to read 2-255 as a weight)" : "");
    }
}

/// <summary>What Invoke-MiscCheck runs.</summary>
public sealed class MiscCheckOptions
{
    /// <summary>Program path (absolute, or found in PATH), or with <see cref="UseShell"/> a shell command line.</summary>
    public required string Path { get; init; }

    public IReadOnlyList<string> ArgumentList { get; init; } = Array.Empty<string>();

    /// <summary>misc_timeout, in seconds.</summary>
    public double TimeoutSeconds { get; init; } = 10;

    /// <summary>misc_dynamic: exit status 2-255 sets the weight.</summary>
    public bool Dynamic { get; init; }

    /// <summary>Run "/bin/sh -c Path ArgumentList..." instead of Path itself.</summary>
    public bool UseShell { get; init; }

    /// <summary>Account to run as; null = the default (see <see cref="MiscCheck.DefaultUser"/>).</summary>
    public string? User { get; init; }

    /// <summary>Skip the script-safety check (root only; for scripts on trusted paths that fail it, e.g. group-writable).</summary>
    public bool SkipSecurityCheck { get; init; }

    public string? WorkingDirectory { get; init; }
    public IReadOnlyDictionary<string, string>? Environment { get; init; }
}

/// <summary>
/// MISC_CHECK: resolves and vets the program, runs it in a process group of its own through an
/// <see cref="IProcessGroupRunner"/>, and reads its exit status.
/// </summary>
public sealed class MiscCheck
{
    public const string ShellPath = "/bin/sh";

    /// <summary>keepalived's default script user; used when it exists and we are root.</summary>
    public const string KeepalivedScriptUser = "keepalived_script";

    private readonly IProcessGroupRunner _runner;
    private readonly IFileStatSource _files;
    private readonly Func<string, UserAccount?> _findUser;
    private readonly bool _isRoot;
    private readonly uint _uid;

    public MiscCheck(IProcessGroupRunner runner, IFileStatSource files, Func<string, UserAccount?> findUser, uint effectiveUid)
    {
        _runner = runner;
        _files = files;
        _findUser = findUser;
        _uid = effectiveUid;
        _isRoot = effectiveUid == 0;
    }

    /// <summary>
    /// The account a check runs as when no -User is given: as root, keepalived's "keepalived_script"
    /// if it exists, else "nobody"; as anyone else, the caller.
    /// </summary>
    public UserAccount? DefaultUser()
    {
        if (!_isRoot) return null;
        return _findUser(KeepalivedScriptUser) ?? _findUser("nobody");
    }

    /// <summary>Checks arguments, finds the program, applies the safety rules; throws <see cref="HealthCheckException"/>.</summary>
    public (string FileName, List<string> Arguments, UserAccount? User) Prepare(MiscCheckOptions o)
    {
        if (string.IsNullOrWhiteSpace(o.Path))
            throw HealthCheckException.Argument("ScriptNotFound", "-Path is empty; give the program to run.");
        HealthValidation.Timeout(o.TimeoutSeconds, "-Timeout");

        UserAccount? user;
        if (o.User is { Length: > 0 } name)
        {
            user = _findUser(name) ?? throw new HealthCheckException("UserNotFound", HealthCheckFailureKind.NotFound,
                $"There is no account '{name}' for -User; create it (useradd --system {name}) or name another one.", name);
            if (!_isRoot && user.Uid != _uid)
                throw new HealthCheckException("UserSwitchNeedsRoot", HealthCheckFailureKind.PermissionDenied,
                    $"Running a check as '{name}' needs root; run pwsh with sudo or leave -User out to run it as yourself.", name);
            if (user.Uid == _uid && !_isRoot) user = null; // no switch needed
        }
        else user = DefaultUser();

        string program;
        var args = new List<string>();
        if (o.UseShell)
        {
            program = ShellPath;
            args.Add("-c");
            args.Add(o.Path);
            if (o.ArgumentList.Count > 0) { args.Add("misc-check"); args.AddRange(o.ArgumentList); } // $0, then $1...
        }
        else
        {
            program = Resolve(o.Path, o.Environment);
            args.AddRange(o.ArgumentList);
        }

        var st = _files.Stat(program, follow: true);
        if (st is null)
            throw new HealthCheckException("ScriptNotFound", HealthCheckFailureKind.NotFound, $"The check program '{program}' does not exist.", program);
        if (st.IsDirectory || !st.IsRegularFile)
            throw new HealthCheckException("ScriptNotExecutable", HealthCheckFailureKind.NotExecutable, $"'{program}' is not a regular file, so it cannot be run.", program);
        if (!CanExecute(st, user))
            throw new HealthCheckException("ScriptNotExecutable", HealthCheckFailureKind.NotExecutable,
                $"'{program}' is not executable{(user is null ? "" : $" for user '{user.Name}'")}; make it so with chmod +x (mode now {Convert.ToString(st.Permissions, 8)}).", program);

        CheckArgumentSizes(program, args, o.Environment);

        if (_isRoot && !o.SkipSecurityCheck)
        {
            var verdict = new ScriptSecurity(_files).Evaluate(program);
            if (!verdict.IsSafe)
                throw new HealthCheckException("InsecureScript", HealthCheckFailureKind.Insecure,
                    $"Refusing to run '{program}' from root: {verdict.Reason} ('{verdict.OffendingPath}'). A non-root user could change what runs. " +
                    "Make every directory on the path and the file owned by root and not group- or world-writable.", verdict.OffendingPath);
        }
        return (program, args, user);
    }

    /// <summary>Linux limits on what exec takes: one argument or environment string (MAX_ARG_STRLEN, 32 pages).</summary>
    public const int MaxArgumentBytes = 32 * 4096;

    /// <summary>All arguments and environment strings together; the kernel's limit is a quarter of the stack
    /// limit (2 MiB with the usual 8 MiB), so this stays under it with room for the inherited environment.</summary>
    public const int MaxArgumentListBytes = 1024 * 1024;

    /// <summary>An argument list exec would refuse (E2BIG) is refused here, by name, before anything starts.</summary>
    private static void CheckArgumentSizes(string program, IReadOnlyList<string> args, IReadOnlyDictionary<string, string>? env)
    {
        long total = System.Text.Encoding.UTF8.GetByteCount(program) + 1;
        for (int i = 0; i < args.Count; i++)
        {
            int n = System.Text.Encoding.UTF8.GetByteCount(args[i]) + 1;
            if (n > MaxArgumentBytes)
                throw HealthCheckException.Argument("ArgumentTooLong",
                    $"Argument {i + 1} of '{program}' is {n - 1} bytes; Linux passes at most {MaxArgumentBytes - 1} bytes in one argument. Pass large data in a file instead.", args[i].Length);
            total += n;
        }
        foreach (var (k, v) in env ?? new Dictionary<string, string>())
        {
            int n = System.Text.Encoding.UTF8.GetByteCount(k) + System.Text.Encoding.UTF8.GetByteCount(v) + 2;
            if (n > MaxArgumentBytes)
                throw HealthCheckException.Argument("ArgumentTooLong",
                    $"Environment variable {k} is {n - 2} bytes; Linux passes at most {MaxArgumentBytes - 1} bytes in one. Pass large data in a file instead.", k);
            total += n;
        }
        if (total > MaxArgumentListBytes)
            throw HealthCheckException.Argument("ArgumentListTooLong",
                $"The arguments and environment of '{program}' come to {total} bytes, more than the {MaxArgumentListBytes} a check may pass (Linux refuses more than about 2 MiB with E2BIG). Pass large data in a file instead.", total);
    }

    public MiscCheckResult Run(MiscCheckOptions o, CancellationToken cancellation = default)
    {
        var (program, args, user) = Prepare(o);
        ProcessRunOutcome outcome;
        try
        {
            outcome = _runner.Run(new ProcessRunRequest
            {
                FileName = program,
                Arguments = args,
                User = user,
                ReapOrphans = true, // keeps the "no process left behind" behaviour; see the subreaper caveat in the closing note
                Timeout = TimeSpan.FromSeconds(o.TimeoutSeconds),
                WorkingDirectory = o.WorkingDirectory,
                Environment = o.Environment,
            }, cancellation);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            // exec itself failed (the environment inherited on top of ours too large, the helper missing, ...).
            throw new HealthCheckException(e.NativeErrorCode == 7 /* E2BIG */ ? "ArgumentListTooLong" : "ScriptStartFailed", HealthCheckFailureKind.NotExecutable,
                $"'{program}' could not be started: {e.Message} ({HaPowerShell.Native.Errno.Name(e.NativeErrorCode)}).", program, e);
        }
        var (ok, weight) = MiscExitCode.Interpret(outcome.ExitCode, o.Dynamic, outcome.TimedOut);
        return new MiscCheckResult
        {
            Path = o.UseShell ? o.Path : program,
            ArgumentList = o.ArgumentList.ToArray(),
            ExitCode = outcome.ExitCode,
            Signal = outcome.Signal,
            TimedOut = outcome.TimedOut,
            Dynamic = o.Dynamic,
            Success = ok,
            Weight = weight,
            Message = ok ? null : MiscExitCode.Describe(outcome.ExitCode, o.Dynamic, outcome.TimedOut, outcome.Signal),
            User = user?.Name ?? (_findUser(_uid.ToString())?.Name ?? _uid.ToString()),
            ProcessId = outcome.ProcessId,
            Duration = outcome.Duration,
            Timestamp = outcome.StartTime,
            Output = outcome.StandardOutput,
            ErrorOutput = outcome.StandardError,
        };
    }

    /// <summary>
    /// Checks the program a notify or quorum command line starts (its first word, quotes removed): it exists (found
    /// in PATH when it has no '/') and can be run by the account scripts run as. Throws ScriptNotFound or
    /// ScriptNotExecutable naming <paramref name="parameterName"/>, so a misspelt script is refused at start and not
    /// found missing at the first event.
    /// </summary>
    public string CheckCommandProgram(string commandLine, string parameterName)
    {
        string word = FirstWord(commandLine);
        if (word.Length == 0)
            throw HealthCheckException.Argument("ScriptNotFound", $"{parameterName} is empty; give the command to run or leave it out.", commandLine);
        // Run through /bin/sh -c: a bare word may be one of the shell's own commands.
        if (!word.Contains('/') && ShellCommands.Contains(word)) return word;
        string program;
        try { program = Resolve(word, null); }
        catch (HealthCheckException e) when (e.ErrorId == "ScriptNotFound")
        {
            throw new HealthCheckException("ScriptNotFound", HealthCheckFailureKind.NotFound,
                $"{parameterName}: {e.Message}", commandLine);
        }
        var st = _files.Stat(program, follow: true);
        if (st is null)
            throw new HealthCheckException("ScriptNotFound", HealthCheckFailureKind.NotFound,
                $"{parameterName}: the program '{program}' does not exist; give an existing script or program.", commandLine);
        var user = DefaultUser();
        if (!st.IsRegularFile || !CanExecute(st, user))
            throw new HealthCheckException("ScriptNotExecutable", HealthCheckFailureKind.NotExecutable,
                $"{parameterName}: '{program}' is not an executable file{(user is null ? "" : $" for user '{user.Name}'")}; make it so with chmod +x.", commandLine);
        return program;
    }

    /// <summary>Commands and keywords of a POSIX shell that are not programs in PATH.</summary>
    private static readonly HashSet<string> ShellCommands = new(StringComparer.Ordinal)
    {
        ":", ".", "[", "alias", "break", "case", "cd", "command", "continue", "echo", "eval", "exec", "exit", "export", "false",
        "for", "if", "kill", "printf", "pwd", "read", "readonly", "return", "set", "shift", "test", "times", "trap", "true",
        "type", "ulimit", "umask", "unset", "until", "wait", "while", "{", "!",
    };

    /// <summary>The first word of a shell command line: up to the first unquoted blank, with ' and " quotes removed.</summary>
    public static string FirstWord(string commandLine)
    {
        var sb = new System.Text.StringBuilder();
        char quote = '\0';
        foreach (char c in commandLine.TrimStart())
        {
            if (quote != '\0') { if (c == quote) quote = '\0'; else sb.Append(c); continue; }
            if (c is '\'' or '"') { quote = c; continue; }
            if (char.IsWhiteSpace(c)) break;
            sb.Append(c);
        }
        return sb.ToString();
    }

    private string Resolve(string path, IReadOnlyDictionary<string, string>? env)
    {
        if (path.Contains('/'))
        {
            if (!System.IO.Path.IsPathRooted(path))
                throw HealthCheckException.Argument("ScriptNotFound", $"'{path}' is a relative path; give an absolute one.", path);
            return System.IO.Path.GetFullPath(path);
        }
        string search = env is not null && env.TryGetValue("PATH", out var p) ? p
            : System.Environment.GetEnvironmentVariable("PATH") ?? "/usr/local/bin:/usr/bin:/bin";
        foreach (var dir in search.Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            if (!System.IO.Path.IsPathRooted(dir)) continue; // never "." from PATH
            var candidate = System.IO.Path.Combine(dir, path);
            if (_files.Stat(candidate, follow: true) is { IsRegularFile: true }) return candidate;
        }
        throw new HealthCheckException("ScriptNotFound", HealthCheckFailureKind.NotFound,
            $"The check program '{path}' was not found in PATH; give its absolute path.", path);
    }

    private bool CanExecute(FileStatus st, UserAccount? user)
    {
        uint mode = st.Permissions;
        uint uid = user?.Uid ?? _uid;
        if (uid == 0) return (mode & 0x49) != 0; // root: any x bit
        if (st.Uid == uid) return (mode & 0x40) != 0;
        if (user is not null && st.Gid == user.Gid) return (mode & 0x08) != 0;
        return (mode & 0x01) != 0 || (user is null && (mode & 0x08) != 0); // caller's supplementary groups: let exec decide
    }
}
