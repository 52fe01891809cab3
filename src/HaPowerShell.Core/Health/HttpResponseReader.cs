using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace HaPowerShell.Core.Health;

/// <summary>What was read of an HTTP response: status, headers, and the body as an MD5 digest plus a preview.</summary>
public sealed class HttpResponseSummary
{
    public string Version { get; init; } = "";
    public int StatusCode { get; init; }
    public string ReasonPhrase { get; init; } = "";
    public IReadOnlyList<KeyValuePair<string, string>> Headers { get; init; } = Array.Empty<KeyValuePair<string, string>>();

    /// <summary>Lowercase hex MD5 of the body (de-chunked): what keepalived's genhash prints.</summary>
    public string Digest { get; init; } = "";

    public long ContentLength { get; init; }
    public byte[] BodyPreview { get; init; } = Array.Empty<byte>();

    /// <summary>False when the connection ended before the body was complete.</summary>
    public bool Complete { get; init; } = true;

    public string? Header(string name) => Headers.LastOrDefault(h => string.Equals(h.Key, name, StringComparison.OrdinalIgnoreCase)).Value;
}

/// <summary>An HTTP response that does not parse (<c>InvalidHttpResponse</c>; a check reports it as a failed result).</summary>
public sealed class HttpResponseFormatException : HaPowerShell.Native.HaException
{
    public HttpResponseFormatException(string message) : base("InvalidHttpResponse", HaPowerShell.Native.HaErrorCategory.ProtocolError, message) { }
}

/// <summary>keepalived's genhash digest: MD5 over the body bytes, lowercase hex.</summary>
public static class HealthDigest
{
    public static string Md5Hex(ReadOnlySpan<byte> body) => Convert.ToHexString(MD5.HashData(body)).ToLowerInvariant();

    /// <summary>Normalises a digest a user typed ("D41D8CD9..." or with spaces/colons) to lowercase hex; throws InvalidDigest.</summary>
    public static string Normalize(string digest)
    {
        var hex = new string(digest.Where(c => !char.IsWhiteSpace(c) && c != ':' && c != '-').ToArray()).ToLowerInvariant();
        if (hex.Length != 32 || !hex.All(Uri.IsHexDigit))
            throw HealthCheckException.Argument("InvalidDigest", $"-Digest '{digest}' is not an MD5 digest (32 hex digits, as genhash prints).", digest);
        return hex;
    }
}

/// <summary>
/// Reads one HTTP/1.x response from a stream: status line, headers, then the body by
/// Content-Length, chunked transfer coding, or up to the end of the connection, hashing as it goes
/// (the body is never held whole). Limits: 64 KiB of headers, <see cref="MaxBody"/> of body.
/// </summary>
public static class HttpResponseReader
{
    public const int MaxHeaderBytes = 64 * 1024;
    public const int PreviewBytes = 4096;
    public const long MaxBody = 256L * 1024 * 1024;

    public static async Task<HttpResponseSummary> ReadAsync(Stream stream, bool headRequest, CancellationToken cancellation)
    {
        var reader = new BufferedReader(stream);
        string statusLine = await reader.ReadLineAsync(cancellation).ConfigureAwait(false)
            ?? throw new HttpResponseFormatException("the connection closed before a response arrived");
        var parts = statusLine.Split(' ', 3);
        if (parts.Length < 2 || !parts[0].StartsWith("HTTP/1.", StringComparison.Ordinal) || parts[1].Length != 3
            || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int status))
            throw new HttpResponseFormatException($"not an HTTP/1.x status line: '{Printable(statusLine)}'");

        var headers = new List<KeyValuePair<string, string>>();
        while (true)
        {
            string line = await reader.ReadLineAsync(cancellation).ConfigureAwait(false)
                ?? throw new HttpResponseFormatException("the connection closed inside the headers");
            if (line.Length == 0) break;
            int colon = line.IndexOf(':');
            if (colon <= 0) throw new HttpResponseFormatException($"malformed header line: '{Printable(line)}'");
            headers.Add(new(line[..colon].Trim(), line[(colon + 1)..].Trim()));
        }

        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
        var preview = new MemoryStream();
        long total = 0;
        bool complete = true;
        void Take(ReadOnlySpan<byte> data)
        {
            hash.AppendData(data);
            int room = PreviewBytes - (int)preview.Length;
            if (room > 0) preview.Write(data[..Math.Min(room, data.Length)]);
            total += data.Length;
            if (total > MaxBody) throw new HttpResponseFormatException($"the body is larger than {MaxBody} bytes");
        }

        string? te = headers.LastOrDefault(h => h.Key.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase)).Value;
        string? cl = headers.LastOrDefault(h => h.Key.Equals("Content-Length", StringComparison.OrdinalIgnoreCase)).Value;
        bool noBody = headRequest || status is >= 100 and < 200 or 204 or 304;
        if (noBody) { }
        else if (te is not null && te.Split(',').Last().Trim().Equals("chunked", StringComparison.OrdinalIgnoreCase))
        {
            while (true)
            {
                string? sizeLine = await reader.ReadLineAsync(cancellation).ConfigureAwait(false);
                if (sizeLine is null) { complete = false; break; }
                var sizeText = sizeLine.Split(';')[0].Trim();
                if (!long.TryParse(sizeText, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out long size) || size < 0)
                    throw new HttpResponseFormatException($"bad chunk size '{Printable(sizeLine)}'");
                if (size == 0)
                {
                    while (await reader.ReadLineAsync(cancellation).ConfigureAwait(false) is { Length: > 0 }) { } // trailers
                    break;
                }
                if (!await reader.CopyAsync(size, Take, cancellation).ConfigureAwait(false)) { complete = false; break; }
                if (await reader.ReadLineAsync(cancellation).ConfigureAwait(false) is not "") throw new HttpResponseFormatException("chunk not followed by CRLF");
            }
        }
        else if (cl is not null)
        {
            if (!long.TryParse(cl, NumberStyles.None, CultureInfo.InvariantCulture, out long length))
                throw new HttpResponseFormatException($"bad Content-Length '{Printable(cl)}'");
            complete = await reader.CopyAsync(length, Take, cancellation).ConfigureAwait(false);
        }
        else
        {
            await reader.CopyAsync(long.MaxValue, Take, cancellation).ConfigureAwait(false); // until the server closes
        }

        return new HttpResponseSummary
        {
            Version = parts[0],
            StatusCode = status,
            ReasonPhrase = parts.Length > 2 ? parts[2] : "",
            Headers = headers,
            Digest = Convert.ToHexString(hash.GetHashAndReset()).ToLowerInvariant(),
            ContentLength = total,
            BodyPreview = preview.ToArray(),
            Complete = complete,
        };
    }

    private static string Printable(string s) => new(s.Take(80).Select(c => c < ' ' || c > '~' ? '?' : c).ToArray());

    internal delegate void Sink(ReadOnlySpan<byte> data);

    private sealed class BufferedReader
    {
        private readonly Stream _stream;
        private readonly byte[] _buffer = new byte[16384];
        private int _start, _end;
        private int _headerBytes;

        public BufferedReader(Stream stream) => _stream = stream;

        private async Task<bool> FillAsync(CancellationToken ct)
        {
            if (_start == _end) { _start = _end = 0; }
            else if (_start > 0) { Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start); _end -= _start; _start = 0; }
            if (_end == _buffer.Length) throw new HttpResponseFormatException("a line is longer than 16 KiB");
            int n = await _stream.ReadAsync(_buffer.AsMemory(_end), ct).ConfigureAwait(false);
            _end += n;
            return n > 0;
        }

        /// <summary>A line without its CRLF (a bare LF is accepted); null at end of stream with nothing read.</summary>
        public async Task<string?> ReadLineAsync(CancellationToken ct)
        {
            while (true)
            {
                int lf = Array.IndexOf(_buffer, (byte)'\n', _start, _end - _start);
                if (lf >= 0)
                {
                    int len = lf - _start;
                    _headerBytes += len + 1;
                    if (_headerBytes > MaxHeaderBytes) throw new HttpResponseFormatException("more than 64 KiB of headers");
                    if (len > 0 && _buffer[lf - 1] == '\r') len--;
                    var line = Encoding.Latin1.GetString(_buffer, _start, len);
                    _start = lf + 1;
                    return line;
                }
                if (!await FillAsync(ct).ConfigureAwait(false))
                {
                    if (_start == _end) return null;
                    var rest = Encoding.Latin1.GetString(_buffer, _start, _end - _start);
                    _start = _end;
                    return rest;
                }
            }
        }

        /// <summary>Passes <paramref name="count"/> bytes to <paramref name="sink"/>; false when the stream ended first.</summary>
        public async Task<bool> CopyAsync(long count, Sink sink, CancellationToken ct)
        {
            while (count > 0)
            {
                if (_start == _end && !await FillAsync(ct).ConfigureAwait(false)) return count == long.MaxValue; // "until close" ends well at end of stream
                int n = (int)Math.Min(count, _end - _start);
                sink(_buffer.AsSpan(_start, n));
                _start += n;
                if (count != long.MaxValue) count -= n;
            }
            return true;
        }
    }
}
