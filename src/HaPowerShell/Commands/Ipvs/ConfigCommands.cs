using System.Management.Automation;
using System.Text;
using HaPowerShell.Core.Ipvs;
using HaPowerShell.Hosting;
using HaPowerShell.Native;

namespace HaPowerShell.Commands.Ipvs;

public enum IpvsConfigFormat { Auto, Ipvsadm, Json }

/// <summary>Export-IpvsConfig: the live table as `ipvsadm -S -n` text (byte-identical) or JSON.</summary>
[Cmdlet(VerbsData.Export, "IpvsConfig", SupportsShouldProcess = true)]
[OutputType(typeof(string), typeof(FileInfo))]
public sealed class ExportIpvsConfigCommand : IpvsCmdlet
{
    /// <summary>File to write; without it the text is written to the pipeline.</summary>
    [Parameter(Position = 0)]
    public string? Path { get; set; }

    [Parameter]
    [ValidateSet("Ipvsadm", "Json")]
    public string Format { get; set; } = "Ipvsadm";

    /// <summary>JSON only: include the tcp/tcpfin/udp timeouts.</summary>
    [Parameter]
    public SwitchParameter IncludeTimeout { get; set; }

    [Parameter]
    public SwitchParameter NoClobber { get; set; }

    protected override void EndProcessing()
    {
        PerItem(Path ?? "IPVS", () =>
        {
            if (IncludeTimeout && Format != "Json")
                throw new ArgumentException("-IncludeTimeout applies to -Format Json only: the ipvsadm save format has no timeouts (ipvsadm -S does not write them).");
            string? full = Path is null ? null : GetUnresolvedProviderPathFromPSPath(Path);
            if (full is not null)
            {
                // Where the file goes is checked before the table is read.
                if (Directory.Exists(full))
                    throw new IpvsOperationException("OutputIsDirectory", IpvsFailureKind.InvalidArgument,
                        $"'{full}' is a directory; give -Path a file name in it, such as '{System.IO.Path.Combine(full, "ipvs.rules")}'.", full);
                if (System.IO.Path.GetDirectoryName(full) is { } dir && !Directory.Exists(dir))
                    throw new IpvsOperationException("OutputDirectoryNotFound", IpvsFailureKind.NotFound,
                        $"The directory '{dir}' does not exist; create it first, or give -Path a file in an existing directory.", full);
                if (NoClobber && File.Exists(full))
                    throw new IpvsOperationException("OutputExists", IpvsFailureKind.AlreadyExists, $"{full} exists; leave -NoClobber out to overwrite it.", full);
            }
            var table = Admin.Snapshot(kernelOrder: Format != "Json"); // IpvsRules.Format sorts once, as ipvsadm does
            string text = Format == "Json"
                ? IpvsJson.Serialize(table, IncludeTimeout ? Admin.GetTimeout() : null)
                : IpvsRules.Format(table);
            if (full is null)
            {
                WriteObject(text);
                return;
            }
            if (!ShouldProcess(full, $"Write {table.Count} services ({Format})")) return;
            File.WriteAllText(full, text, new UTF8Encoding(false));
            WriteObject(new FileInfo(full));
        });
    }
}

/// <summary>
/// Shared input handling for Import- and Sync-IpvsConfig: a file, text, or (Sync) objects. Input is read
/// as it arrives, bounded by -MaximumInputSize, and a stop (Ctrl+C) ends the read at once; anything wrong
/// with it is a terminating error, raised before the kernel is touched.
/// </summary>
public abstract class IpvsConfigInputCmdlet : IpvsCmdlet
{
    [Parameter(ParameterSetName = "Path", Mandatory = true, Position = 0)]
    public string Path { get; set; } = "";

    [Parameter(ParameterSetName = "Text", Mandatory = true, ValueFromPipeline = true)]
    [AllowEmptyString]
    public string Text { get; set; } = "";

    [Parameter(ParameterSetName = "Path")]
    [Parameter(ParameterSetName = "Text")]
    public IpvsConfigFormat Format { get; set; } = IpvsConfigFormat.Auto;

    /// <summary>Bytes of input read at most (default 64 MiB); more is refused with InputTooLarge.</summary>
    [Parameter(ParameterSetName = "Path")]
    [Parameter(ParameterSetName = "Text")]
    [ValidateRange(1, long.MaxValue)]
    public long MaximumInputSize { get; set; } = IpvsConfigReader.DefaultMaximumSize;

    private readonly CancellationTokenSource _stopping = new();
    private IpvsConfigReader? _reader;

    private IpvsConfigReader Reader => _reader ??= new IpvsConfigReader(MaximumInputSize,
        Format switch { IpvsConfigFormat.Json => true, IpvsConfigFormat.Ipvsadm => false, _ => null }, _stopping.Token, parallel: ThreadPoolParallelFor.Instance);

    protected override void StopProcessing() => _stopping.Cancel();

    /// <summary>ProcessRecord of the Text set: each piped string is read (and ipvsadm lines parsed) as it comes.</summary>
    protected void CollectText()
    {
        if (ParameterSetName != "Text") return;
        Guard(() => Reader.AddText(Text));
    }

    /// <summary>The whole input, parsed: the file (streamed) or the text collected from the pipeline.</summary>
    protected IpvsConfigDocument ReadInput()
    {
        IpvsConfigDocument? doc = null;
        Guard(() =>
        {
            if (ParameterSetName == "Path")
            {
                using var stream = OpenInput();
                Reader.Read(stream);
            }
            doc = Reader.Finish();
        });
        return doc!;
    }

    /// <summary>Input problems end the command (nothing has been changed yet); a stop is a stop.</summary>
    private void Guard(Action read)
    {
        try { read(); }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested) { throw new PipelineStoppedException(); }
        catch (FormatException e) { ThrowFailure(InputError(e), ParameterSetName == "Path" ? Path : "input"); }
        // IpvsOperationException, and IpvsRuleParseException (InvalidConfig) from the streaming line reader
        catch (Native.HaException e) { ThrowFailure(e, ParameterSetName == "Path" ? Path : "input"); }
    }

    /// <summary>Opens -Path for reading after checking what it is: a missing file or directory, a directory, a
    /// device (/dev/zero, /dev/urandom) or a file over the limit is refused by name, before a byte is read.</summary>
    private Stream OpenInput()
    {
        string full = SessionState.Path.GetUnresolvedProviderPathFromPSPath(Path, out var provider, out _);
        if (provider.Name != "FileSystem")
            throw new IpvsOperationException("InputNotAFile", IpvsFailureKind.InvalidArgument,
                $"-Path '{Path}' is on the {provider.Name} provider, not a file; pipe its text to the cmdlet instead.", Path);
        Native.Processes.FileStatus? st;
        try { st = Native.Processes.FileStatus.Stat(full); }
        catch (IOException e)
        {
            throw new IpvsOperationException("InputReadFailed", IpvsFailureKind.ReadError, $"Cannot look at '{full}': {e.Message}.", full, e);
        }
        if (st is null) throw NotFound(full, null);
        if (st.IsDirectory)
            throw new IpvsOperationException("InputIsDirectory", IpvsFailureKind.InvalidArgument,
                $"'{full}' is a directory; -Path takes a rules file (one written by Export-IpvsConfig -Path or ipvsadm -S -n) or a JSON file.", full);
        if (!st.IsRegularFile && !st.IsFifo)
            throw new IpvsOperationException("InputNotAFile", IpvsFailureKind.InvalidArgument,
                $"'{full}' is a {st.KindName}, not a file of rules: reading it would not end, or not yield a configuration. " +
                "Give a regular file, or pipe the text to the cmdlet.", full);
        if (st.IsRegularFile && st.Size > MaximumInputSize)
            throw new IpvsOperationException("InputTooLarge", IpvsFailureKind.InvalidArgument,
                $"'{full}' holds {st.Size} bytes, more than -MaximumInputSize {MaximumInputSize}; nothing was read or changed. " +
                $"If it really is an IPVS configuration that large, raise the limit: -MaximumInputSize {st.Size}.", full);
        FileStream file;
        try
        {
            file = st.IsFifo ? OpenFifo(full) : Open(full);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException) { throw NotFound(full, e); }
        catch (UnauthorizedAccessException e)
        {
            throw new IpvsOperationException("InputAccessDenied", IpvsFailureKind.PermissionDenied,
                $"Cannot read '{full}': permission denied" +
                (Native.Processes.UserAccount.EffectiveUid == 0 ? " (even to root: a mount or security module refuses it)." : "; make it readable, or run pwsh with sudo."), full, e);
        }
        catch (IOException e)
        {
            throw new IpvsOperationException("InputReadFailed", IpvsFailureKind.ReadError, $"Cannot read '{full}': {e.Message}", full, e);
        }
        // A named pipe can block with no writer: read it so that Ctrl+C still ends the command.
        return st.IsFifo ? new StoppableReadStream(file, _stopping.Token) : file;
    }

    private static FileStream Open(string full)
        => new(full, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, bufferSize: 0, FileOptions.SequentialScan);

    /// <summary>Opening a named pipe waits for a writer; the wait ends on a stop (and a late open is closed again).</summary>
    private FileStream OpenFifo(string full)
    {
        var open = Task.Run(() => Open(full));
        try { open.Wait(_stopping.Token); }
        catch (OperationCanceledException)
        {
            open.ContinueWith(t => t.Result.Dispose(), TaskContinuationOptions.OnlyOnRanToCompletion);
            throw;
        }
        catch (AggregateException e) when (e.InnerException is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(e.InnerException);
        }
        return open.Result;
    }

    private static IpvsOperationException NotFound(string full, Exception? inner)
    {
        string? dir = System.IO.Path.GetDirectoryName(full);
        return dir is not null && !Directory.Exists(dir)
            ? new("InputDirectoryNotFound", IpvsFailureKind.NotFound, $"The directory '{dir}' does not exist, so neither does '{full}'; check -Path.", full, inner)
            : new("InputFileNotFound", IpvsFailureKind.NotFound, $"There is no file '{full}'; check -Path (Export-IpvsConfig -Path writes one).", full, inner);
    }

    /// <summary>Parse failures are input errors: reported with the line, nothing changed.</summary>
    protected static IpvsOperationException InputError(Exception e)
        => new("InvalidConfig", IpvsFailureKind.InvalidArgument, e.Message, null, e);

    /// <summary>Reads a pipe so that a stop does not wait for a writer: each read runs on a buffer of this stream's
    /// own and the wait for it ends on cancellation (the abandoned read, and its buffer, finish when the pipe does).</summary>
    private sealed class StoppableReadStream : Stream
    {
        private readonly Stream _inner;
        private readonly CancellationToken _token;
        private byte[] _own = Array.Empty<byte>();

        public StoppableReadStream(Stream inner, CancellationToken token) { _inner = inner; _token = token; }

        public override int Read(byte[] buffer, int offset, int count)
        {
            if (_own.Length < count) _own = new byte[count];
            var own = _own;
            var read = _inner.ReadAsync(own, 0, count, CancellationToken.None);
            if (!read.IsCompleted)
            {
                try { read.Wait(_token); }
                catch (OperationCanceledException) { _own = Array.Empty<byte>(); throw; } // the read still owns that buffer
            }
            int n = read.GetAwaiter().GetResult();
            own.AsSpan(0, n).CopyTo(buffer.AsSpan(offset));
            return n;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing && !_token.IsCancellationRequested) _inner.Dispose(); // a read may still be blocked on it otherwise
            base.Dispose(disposing);
        }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}

/// <summary>Import-IpvsConfig: replays `ipvsadm -S` rules (as ipvsadm -R does) or applies a JSON table.</summary>
[Cmdlet(VerbsData.Import, "IpvsConfig", SupportsShouldProcess = true, DefaultParameterSetName = "Path")]
[OutputType(typeof(IpvsImportResult))]
public sealed class ImportIpvsConfigCommand : IpvsConfigInputCmdlet
{
    /// <summary>Remove every service first (ipvsadm -C), so the table is exactly the input.</summary>
    [Parameter]
    public SwitchParameter Replace { get; set; }

    protected override void ProcessRecord() => CollectText();

    protected override void EndProcessing()
    {
        var input = ReadInput();
        PerItem(Path, () =>
        {
            IpvsImportResult result;
            if (input.IsJson)
            {
                var table = input.Table!;
                IpvsAdmin.ValidateTable(table);
                if (!ShouldProcess("IPVS table", $"{(Replace ? "Replace with" : "Add")} {table.Count} services from JSON")) return;
                result = Admin.ImportTable(table, input.Timeout, Replace, validated: true);
            }
            else
            {
                var rules = input.Rules!;
                IpvsAdmin.ValidateRules(rules);
                if (!ShouldProcess("IPVS table", $"{(Replace ? "Replace with" : "Apply")} {rules.Commands.Count} ipvsadm rules")) return;
                result = Admin.Import(rules, Replace, validated: true);
            }
            string undone = !result.Replaced || result.Failed == 0 ? ""
                : result.RolledBack ? " Every change made before it was undone: the table is as it was."
                : " Undoing the changes made before it failed too: see the other errors; the table is partly changed.";
            foreach (var e in result.Errors)
                WriteError(new ErrorRecord(new InvalidOperationException(
                        (e.LineNumber > 0 ? $"line {e.LineNumber} ({e.Text.Trim()}): " : $"{e.Text}: ") + e.Message + undone),
                    e.ErrorId, ErrorCategory.InvalidOperation, e.Text));
            WriteObject(result);
        });
    }
}

/// <summary>
/// Sync-IpvsConfig: makes the live table equal a desired state by sending only the differences.
/// -WhatIf prints the plan and changes nothing.
/// </summary>
[Cmdlet(VerbsData.Sync, "IpvsConfig", SupportsShouldProcess = true, DefaultParameterSetName = "Path")]
[OutputType(typeof(IpvsSyncResult))]
public sealed class SyncIpvsConfigCommand : IpvsConfigInputCmdlet
{
    /// <summary>Desired services (with RealServers; a service whose RealServers is null keeps its current ones).</summary>
    [Parameter(ParameterSetName = "Object", Mandatory = true, ValueFromPipeline = true)]
    public IpvsService[] InputObject { get; set; } = Array.Empty<IpvsService>();

    private readonly List<IpvsService> _objects = new();

    /// <summary>Past this many changes, -WhatIf (without -Confirm) shows one line for the plan, not one per change:
    /// the changes are in the result's Operations either way, and a million host lines help nobody.</summary>
    private const int WhatIfListLimit = 10_000;

    /// <summary>What ShouldProcess can show or ask: -WhatIf, -Confirm, -Verbose, or the preference
    /// variables that stand for them when they are not given.</summary>
    private (bool WhatIf, bool Confirm, bool Verbose) ShouldProcessModes()
    {
        var bound = MyInvocation.BoundParameters;
        bool Switch(string name, Func<bool> otherwise) => bound.TryGetValue(name, out var v) ? LanguagePrimitives.IsTrue(v) : otherwise();
        bool whatIf = Switch("WhatIf", () => LanguagePrimitives.IsTrue(GetVariableValue("WhatIfPreference")));
        bool verbose = Switch("Verbose", () => GetVariableValue("VerbosePreference") is ActionPreference v
            && v != ActionPreference.SilentlyContinue && v != ActionPreference.Ignore);
        // Sync-IpvsConfig's ConfirmImpact is Medium: a preference of Medium or Low prompts for each change.
        bool confirm = Switch("Confirm", () => GetVariableValue("ConfirmPreference") is ConfirmImpact c
            && c != ConfirmImpact.None && c <= ConfirmImpact.Medium);
        return (whatIf, confirm, verbose);
    }

    protected override void ProcessRecord()
    {
        if (ParameterSetName == "Object") _objects.AddRange(InputObject);
        else CollectText();
    }

    protected override void EndProcessing()
    {
        var input = ParameterSetName == "Object" ? null : ReadInput();
        PerItem(Path, () =>
        {
            List<IpvsService> desired;
            IpvsTimeout? timeout = null;
            if (input is null)
            {
                desired = _objects;
            }
            else
            {
                if (input.IsJson) (desired, timeout) = (input.Table!, input.Timeout);
                else
                {
                    try { desired = IpvsRules.ToTable(input.Rules!); }
                    catch (FormatException e) { throw InputError(e); }
                }
            }
            var plan = Admin.PlanSync(desired);
            // Asked one by one only when someone can see or answer the question (-WhatIf, -Confirm,
            // -Verbose or a $ConfirmPreference that prompts); otherwise one call approves the plan,
            // which saves tens of thousands of ShouldProcess calls on a full sync.
            var (whatIf, confirm, verbose) = ShouldProcessModes();
            bool oneByOne = (whatIf || confirm || verbose) && !(whatIf && !confirm && plan.Operations.Count > WhatIfListLimit);
            IReadOnlyList<IpvsOperation> approved = plan.Operations.Count == 0 ? Array.Empty<IpvsOperation>()
                : !oneByOne
                    ? (ShouldProcess("IPVS table", $"Apply {plan.Operations.Count} changes ({plan})" + (whatIf ? "; the result lists them in Operations" : ""))
                        ? plan.Operations : Array.Empty<IpvsOperation>())
                    : plan.Operations.Where(op => ShouldProcess(op.Service.ToString(), op.Description)).ToList();
            bool timeoutChange = timeout != null && ShouldProcess("IPVS timeouts", $"Set {timeout}");
            if (approved.Count == 0 && !timeoutChange && plan.Operations.Count > 0)
            {
                // -WhatIf (or every change declined at -Confirm): the plan, and nothing sent. Under -WhatIf the
                // result says Changed: these changes would be made (what Ansible's check mode reports).
                WriteObject(new IpvsSyncResult
                {
                    WhatIf = whatIf, Operations = plan.Operations, Changed = whatIf,
                    Added = plan.Added, Updated = plan.Updated, Removed = plan.Removed,
                });
                return;
            }
            // Everything approved, or the part approved at -Confirm, as one unit: all of it, or (the
            // kernel refusing a step) none of it.
            var result = Admin.ApplyPlan(approved, timeoutChange ? timeout : null);
            string undone = result.RolledBack
                ? $" Nothing was kept: every change made before it was undone, and the table is as it was ({result.NotApplied.Count} of {approved.Count} planned changes not applied)."
                : result.RollbackErrors.Count > 0 ? $" Undoing the changes made before it failed for {result.RollbackErrors.Count}: those stay applied (SyncRollbackFailed)." : "";
            foreach (var e in result.Errors)
                WriteError(new ErrorRecord(new InvalidOperationException($"{e.Step}: {e.Message}{undone}"), e.ErrorId, ErrorCategory.InvalidOperation, e.Step));
            foreach (var e in result.RollbackErrors)
                WriteError(new ErrorRecord(new InvalidOperationException($"{e.Step}: {e.Message}"), "SyncRollbackFailed", ErrorCategory.InvalidOperation, e.Step));
            WriteObject(result);
        });
    }
}
