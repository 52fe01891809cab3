using System.Text;
using static HaPowerShell.Core.Keepalived.KeepalivedText;

namespace HaPowerShell.Core.Keepalived;

/// <summary>A script keepalived would run (notify_script_t): its words, the user and group it runs as.</summary>
internal sealed class KeepalivedScript
{
    public string[] Args { get; set; } = Array.Empty<string>();
    public uint Uid { get; set; }
    public uint Gid { get; set; }
    public string Command => string.Join(" ", Args);
}

/// <summary>The default script user: keepalived_script when it exists, else the user keepalived runs as (or global script_user).</summary>
internal sealed class KeepalivedScriptUser
{
    public bool Set;
    public bool Failed;
    public uint Uid;
    public uint Gid;
}

[Flags]
internal enum ScriptFlags
{
    None = 0,
    Insecure = 0x01,
    IsScript = 0x02,
    Inhibit = 0x04,
    NotFound = 0x08,
    Executable = 0x10,
    Execable = 0x20,
    System = 0x40,
}

// Scripts: parsing their command lines, their users, and keepalived's script security checks (lib/notify.c).
internal sealed partial class KeepalivedParseContext
{
    /// <summary>alloc_strvec_quoted_escaped() with its reports.</summary>
    internal string[]? QuotedEscaped(string? src)
    {
        src ??= BufExtern;
        var words = KeepalivedText.SplitQuotedEscaped(src, out var error);
        if (error == KeepalivedQuoteError.UnmatchedQuote)
            Report(KeepalivedErrorLevel.UnmatchedQuote, KeepalivedFindingCategory.Syntax, $"String '{src}': missing terminating {KeepalivedText.UnmatchedQuoteChar(src)}");
        else if (error == KeepalivedQuoteError.TrailingEscape)
            Note($"Missing escape char at end: '{src}'", KeepalivedFindingCategory.Syntax);
        return words;
    }

    /// <summary>The command of a script keyword line as keepalived runs it: the second quoted-escaped word of the line.</summary>
    internal string? CommandText(string[] w)
        => KeepalivedText.SplitQuotedEscaped(BufExtern, out _) is { Length: >= 2 } q ? q[1] : w.Length > 1 ? w[1] : null;

    /// <summary>set_uid_gid(): resolves a user (and group) on this host.</summary>
    internal bool ScriptUidGid(string[] w, int offset, out uint uid, out uint gid)
    {
        uid = gid = 0;
        string user = Slot(w, offset);
        string? group = w.Length > offset + 1 ? w[offset + 1] : null;
        return ResolveUser(user, group, out uid, out gid);
    }

    private bool ResolveUser(string user, string? group, out uint uid, out uint gid)
    {
        gid = 0;
        if (!Env.TryGetUser(user, out uid, out gid))
        {
            Note($"Script user '{user}' does not exist", KeepalivedFindingCategory.Environment, environment: true);
            return false;
        }
        if (group is not null)
        {
            if (!Env.TryGetGroup(group, out uint g))
            {
                Note($"Script group '{group}' does not exist", KeepalivedFindingCategory.Environment, environment: true);
                return false;
            }
            gid = g;
        }
        return true;
    }

    /// <summary>set_default_script_user() (global script_user).</summary>
    internal bool SetDefaultScriptUser(string user, string? group)
    {
        var d = _session.DefaultScriptUser;
        d.Set = true;
        if (!ResolveUser(user, group, out d.Uid, out d.Gid)) d.Failed = true;
        return !d.Failed;
    }

    /// <summary>get_default_script_user(): false (after keepalived's message when script security is on) when there is none.</summary>
    internal bool DefaultScriptUserLookup(out uint uid, out uint gid)
    {
        var d = _session.DefaultScriptUser;
        uid = gid = 0;
        if (d.Failed) return false;
        if (!d.Set)
        {
            d.Set = true;
            d.Uid = Env.EffectiveUserId;
            d.Gid = Env.EffectiveGroupId;
            if (Env.TryGetUser("keepalived_script", out uint u, out uint g)) { d.Uid = u; d.Gid = g; }
            else if (_session.ScriptSecurity)
            {
                Report(KeepalivedErrorLevel.General, KeepalivedFindingCategory.Environment, "Unable to set default user keepalived_script for script", environment: true);
                d.Failed = true;
                return false;
            }
        }
        uid = d.Uid;
        gid = d.Gid;
        return true;
    }

    /// <summary>notify_script_init(): the script of a notify-style keyword line ("keyword 'cmd args' [user [group]]"); null when keepalived drops it.</summary>
    internal KeepalivedScript? NotifyScriptInit(int extraParams, string type)
    {
        var qe = QuotedEscaped(null);
        if (qe is null) { Note("Unable to parse notify script", KeepalivedFindingCategory.Syntax); return null; }
        var args = qe.Length >= 2 ? QuotedEscaped(qe[1]) : null;
        if (args is null) { Note($"Unable to parse script '{(qe.Length > 1 ? qe[1] : "")}' - ignoring", KeepalivedFindingCategory.Syntax); return null; }
        var script = new KeepalivedScript { Args = args };
        if (qe.Length > 2)
        {
            if (!ScriptUidGid(qe, 2, out uint u, out uint g))
            {
                Note($"Invalid user/group for {type} script {args[0]} - ignoring", KeepalivedFindingCategory.Environment, environment: true);
                return null;
            }
            script.Uid = u; script.Gid = g;
        }
        else if (!DefaultScriptUserLookup(out uint u, out uint g))
        {
            Note($"Failed to set default user for {type} script {args[0]} - ignoring", KeepalivedFindingCategory.Environment, environment: true);
            return null;
        }
        else { script.Uid = u; script.Gid = g; }
        return script;
    }
}

/// <summary>keepalived's check_script_secure(): whether a script exists, can be run, and is safe to run as root.</summary>
internal static class KeepalivedScriptSecurity
{
    // st_mode bits (C# has no octal literals: these are the octal values of sys/stat.h).
    private const uint S_ISUID = 0x800, S_ISGID = 0x400, S_ISVTX = 0x200;
    private const uint S_IXUSR = 0x40, S_IWGRP = 0x10, S_IXGRP = 0x8, S_IWOTH = 0x2, S_IXOTH = 0x1;
    private const uint ExecAny = S_IXUSR | S_IXGRP | S_IXOTH;

    private static bool IsExecutable(KeepalivedFileStatus s, uint uid, uint gid)
        => (uid == 0 && (s.Mode & ExecAny) != 0)
        || (uid == s.OwnerId && (s.Mode & S_IXUSR) != 0)
        || (uid != s.OwnerId && ((gid == s.GroupId && (s.Mode & S_IXGRP) != 0) || (gid != s.GroupId && (s.Mode & S_IXOTH) != 0)));

    /// <summary>Returns the SC_ flags; <paramref name="note"/> receives what keepalived logs (not errors).</summary>
    public static ScriptFlags Check(KeepalivedScript script, IKeepalivedEnvironment env, bool scriptSecurity, Action<string, bool> note)
    {
        if (script.Args.Length == 0) return ScriptFlags.None;
        string a0 = script.Args[0];
        if (a0.Length > 0 && a0[0] == '<')
        {
            int k = 1 + StrSpn(a0, 1, " \t");
            if (k < a0.Length && a0[k] == '/') return ScriptFlags.System;
        }
        string path = a0;
        if (!a0.Contains('/'))
        {
            string? found = null;
            bool eacces = false;
            if (a0.Length > 0)
                foreach (var dir in env.SearchPath)
                {
                    string candidate = (dir.Length == 0 ? "" : dir + "/") + a0;
                    var st = env.Stat(candidate, true);
                    if (st is null) continue;
                    if (!st.IsRegularFile || !IsExecutable(st, script.Uid, script.Gid)) { eacces = true; continue; }
                    found = candidate;
                    break;
                }
            if (found is null)
            {
                note(eacces ? $"Permissions failure for script {a0} in path - disabling" : $"Cannot find script {a0} in path - disabling", true);
                return ScriptFlags.NotFound;
            }
            note($"WARNING - script `{a0}` resolved by path search to `{found}`. Please specify full path.", false);
            path = found;
        }
        string? real = env.RealPath(path);
        if (real is null)
        {
            note($"Script {path} cannot be accessed - No such file or directory", true);
            return ScriptFlags.NotFound;
        }
        var file = env.Stat(real, true);
        if (file is null)
        {
            note($"Unable to access script `{path}` - disabling", true);
            return ScriptFlags.NotFound;
        }
        var flags = ScriptFlags.IsScript;
        bool needProtection = false;
        if (IsExecutable(file, script.Uid, script.Gid))
        {
            flags |= ScriptFlags.Executable;
            if (script.Uid == 0 || script.Gid == 0
                || (file.OwnerId == 0 && (file.Mode & S_IXUSR) != 0 && (file.Mode & S_ISUID) != 0)
                || (file.GroupId == 0 && (file.Mode & S_IXGRP) != 0 && (file.Mode & S_ISGID) != 0))
                needProtection = true;
        }
        else note($"WARNING - script '{path}' is not executable for uid:gid {script.Uid}:{script.Gid} - disabling.", true);
        if (!needProtection) return flags;
        // keepalived checks the path the script resolves to (keepalived -t accepts /bin/true where /bin is a link to usr/bin).
        flags |= CheckSecurity(real, env, scriptSecurity, note);
        return flags;
    }

    private static ScriptFlags CheckSecurity(string filename, IKeepalivedEnvironment env, bool scriptSecurity, Action<string, bool> note)
    {
        int next = 0;
        while (next >= 0)
        {
            int slash = filename.IndexOf('/', next);
            string part;
            bool isLast;
            if (slash >= 0)
            {
                next = slash + 1;
                part = filename.Substring(0, slash == 0 ? 1 : slash);
                isLast = false;
            }
            else
            {
                part = filename;
                next = -1;
                isLast = true;
            }
            var st = env.Stat(part, false);
            if (st is null)
            {
                note($"check_script_secure could not find script '{filename}' - disabling", true);
                return ScriptFlags.NotFound;
            }
            if ((!isLast && !st.IsDirectory) || (isLast && !st.IsRegularFile && !st.IsSymbolicLink))
            {
                note($"Wrong file type found in script path '{filename}'.", false);
                return ScriptFlags.Inhibit;
            }
            bool sticky = (st.Mode & S_ISVTX) != 0;
            if (st.OwnerId != 0
                || (((st.IsDirectory && !sticky) || st.IsRegularFile)
                    && ((st.GroupId != 0 && (st.Mode & S_IWGRP) != 0) || (st.Mode & S_IWOTH) != 0)))
            {
                note($"Unsafe permissions found for script '{filename}'{(scriptSecurity ? " - disabling" : "")}.", false);
                return ScriptFlags.Insecure | (scriptSecurity ? ScriptFlags.Inhibit : ScriptFlags.None);
            }
        }
        return ScriptFlags.None;
    }
}
