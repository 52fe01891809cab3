// HaPowerShell IPVS configuration: JSON schema
// ============================================
// (published as JSON Schema in docs/schema/ipvs-config.schema.json; keep the two in step)
//
// {
//   "services": [                       // optional, default []
//     {
//       "protocol": "tcp",              // "tcp" | "udp" | "sctp"; null/absent for a firewall-mark service
//       "address": "192.0.2.1",         // virtual IPv4/IPv6 address; null/absent for a firewall-mark service
//       "port": 80,                     // 0-65535, default 0 (0 = all ports; needs persistence)
//       "firewallMark": 0,              // 1-4294967295 for a firewall-mark service, default 0 (= not one)
//       "addressFamily": "ipv4",        // "ipv4" | "ipv6"; default: the family of "address", else ipv4
//       "scheduler": "wlc",             // default "wlc"
//       "persistenceTimeout": 0,        // seconds, default 0 (= not persistent)
//       "persistenceNetmask": null,     // IPv4: "255.255.255.0"; IPv6: prefix length "64" (or 64); default null
//       "persistenceEngine": null,      // e.g. "sip"; default null
//       "onePacket": false,             // default false (UDP and firewall-mark services only)
//       "schedulerFlags": [],           // ipvsadm's words: "sh-fallback", "sh-port", "mh-fallback", "mh-port",
//                                       // "flag-1", "flag-2", "flag-3"; default []
//       "realServers": [                // default []
//         {
//           "address": "192.0.2.10",    // required
//           "port": 80,                 // default 0 (= the service's port; for firewall-mark services: the client's)
//           "forwardingMethod": "DirectRouting", // "DirectRouting" | "Tunnel" | "Masquerade" (also "Local" as
//                                       // the kernel reports it); default "DirectRouting"
//           "weight": 1,                // 0-65535, default 1
//           "upperThreshold": 0,        // default 0 (= no limit)
//           "lowerThreshold": 0,        // default 0
//           "tunnelType": null,         // null | "IpIp" | "Gue" | "Gre" (Tunnel only; null = IpIp)
//           "tunnelPort": 0,            // GUE destination port (Gue only), default 0
//           "tunnelChecksum": "NoChecksum" // "NoChecksum" | "Checksum" | "RemoteChecksum", default "NoChecksum"
//         }
//       ]
//     }
//   ],
//   "timeout": { "tcp": 900, "tcpFin": 120, "udp": 300 }  // optional; seconds, 0 = leave unchanged
// }
//
// Reading: property names and enum words are case-insensitive; omitted properties (or null) take the defaults
// above; comments (// line and /* block */) and trailing commas are allowed; unknown or repeated properties are
// errors, so a typo is not silently ignored; "FullNat" is refused with an explanation (FULLNAT is not in mainline
// Linux). Statistics, rates and connection counters are never written or read.
// The readers also take what ConvertTo-Json writes of IpvsService objects: an array of services or one service
// (PascalCase names, "InterNetwork"/"InterNetworkV6" families), with the objects' read-only properties (name,
// isFirewallMark, isPersistent, statistics, rate; a real server's service, addressFamily, endpoint and connection
// counters) accepted and not used, schedulerFlag as another name of schedulerFlags, and (in that form only)
// "realServers": null meaning that no real servers are stated (Sync-IpvsConfig then keeps the service's current
// ones, as for such objects piped in).
// Writing: every property is written, in the order above, services in the order given; the output is indented
// and ends without a newline. Errors are FormatException with the JSON path, e.g.
// "$.services[2].realServers[0].weight: expected an integer from 0 to 65535, got 70000".
// Semantic checks (port 0 without persistence, flags not valid for the scheduler, ...) are IpvsValidation's job.
// No reflection: the document is written with Utf8JsonWriter and read through JsonDocument; the one value that goes
// through JsonSerializer (a string quoted for an error message) uses the source-generated IpvsJsonContext, so this
// works trimmed and compiled ahead of time.
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace HaPowerShell.Core.Ipvs;

/// <summary>The IPVS configuration as JSON (schema in the comment at the top of IpvsJson.cs).</summary>
public static class IpvsJson
{
    /// <summary>Writes the services (with their RealServers) and, when given, the timeouts.</summary>
    /// <exception cref="ArgumentNullException">services is null.</exception>
    /// <exception cref="ArgumentException">A null service or real server.</exception>
    public static string Serialize(IEnumerable<IpvsService> services, IpvsTimeout? timeout)
    {
        ArgumentNullException.ThrowIfNull(services);
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteStartArray("services");
            foreach (var s in services)
            {
                if (s is null) throw new ArgumentException("The service list contains a null entry.", nameof(services));
                WriteService(w, s);
            }
            w.WriteEndArray();
            if (timeout is not null)
            {
                w.WriteStartObject("timeout");
                w.WriteNumber("tcp", timeout.Tcp);
                w.WriteNumber("tcpFin", timeout.TcpFin);
                w.WriteNumber("udp", timeout.Udp);
                w.WriteEndObject();
            }
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    private static void WriteService(Utf8JsonWriter w, IpvsService s)
    {
        w.WriteStartObject();
        if (s.Protocol is null) w.WriteNull("protocol");
        else w.WriteString("protocol", s.Protocol switch
        {
            IpvsProtocol.Tcp => "tcp",
            IpvsProtocol.Udp => "udp",
            IpvsProtocol.Sctp => "sctp",
            var p => ((int)p).ToString(CultureInfo.InvariantCulture),
        });
        if (s.Address is null) w.WriteNull("address");
        else w.WriteString("address", IpvsInet.Ntop(s.Address));
        w.WriteNumber("port", s.Port);
        w.WriteNumber("firewallMark", s.FirewallMark);
        w.WriteString("addressFamily", s.AddressFamily == AddressFamily.InterNetworkV6 ? "ipv6" : "ipv4");
        w.WriteString("scheduler", s.Scheduler ?? IpvsService.DefaultScheduler);
        w.WriteNumber("persistenceTimeout", s.PersistenceTimeout);
        WriteStringOrNull(w, "persistenceNetmask", s.PersistenceNetmask);
        WriteStringOrNull(w, "persistenceEngine", s.PersistenceEngine);
        w.WriteBoolean("onePacket", s.OnePacket);
        w.WriteStartArray("schedulerFlags");
        foreach (var f in s.SchedulerFlag ?? Array.Empty<string>()) w.WriteStringValue(f);
        w.WriteEndArray();
        w.WriteStartArray("realServers");
        foreach (var r in s.RealServers ?? new List<IpvsRealServer>())
        {
            if (r is null) throw new ArgumentException($"Service {s} has a null real server.", "services");
            w.WriteStartObject();
            w.WriteString("address", IpvsInet.Ntop(r.Address));
            w.WriteNumber("port", r.Port);
            w.WriteString("forwardingMethod", r.ForwardingMethod.ToString());
            w.WriteNumber("weight", r.Weight);
            w.WriteNumber("upperThreshold", r.UpperThreshold);
            w.WriteNumber("lowerThreshold", r.LowerThreshold);
            if (r.TunnelType is null) w.WriteNull("tunnelType");
            else w.WriteString("tunnelType", r.TunnelType.Value.ToString());
            w.WriteNumber("tunnelPort", r.TunnelPort);
            w.WriteString("tunnelChecksum", r.TunnelChecksum.ToString());
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static void WriteStringOrNull(Utf8JsonWriter w, string name, string? value)
    {
        if (value is null) w.WriteNull(name);
        else w.WriteString(name, value);
    }

    /// <summary>Reads the schema above. Returns the services (RealServers filled, each real server's Service
    /// set) and the timeouts, or null when "timeout" is absent or null.</summary>
    /// <exception cref="ArgumentNullException">json is null.</exception>
    /// <exception cref="FormatException">Not JSON, or not this schema; the message starts with the JSON path.</exception>
    public static (List<IpvsService> Services, IpvsTimeout? Timeout) Deserialize(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        return Deserialize(() => JsonDocument.Parse(json, ReadOptions));
    }

    /// <summary>The same, from UTF-8 bytes (what Import-/Sync-IpvsConfig read from a file: no UTF-16 copy of it is made).</summary>
    /// <exception cref="FormatException">Not JSON, or not this schema; the message starts with the JSON path.</exception>
    public static (List<IpvsService> Services, IpvsTimeout? Timeout) DeserializeUtf8(ReadOnlyMemory<byte> utf8Json)
        => Deserialize(() => JsonDocument.Parse(utf8Json, ReadOptions));

    private static readonly JsonDocumentOptions ReadOptions = new() { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip };

    private static (List<IpvsService> Services, IpvsTimeout? Timeout) Deserialize(Func<JsonDocument> parse)
    {
        JsonDocument doc;
        try
        {
            doc = parse();
        }
        catch (JsonException e)
        {
            throw new FormatException($"{e.Path ?? "$"}: not valid JSON (line {e.LineNumber + 1}, position {e.BytePositionInLine + 1}): {e.Message}", e);
        }
        using (doc)
        {
            var root = doc.RootElement;
            var services = new List<IpvsService>();
            // What ConvertTo-Json writes of the objects: an array of services (Get-IpvsService | ConvertTo-Json),
            // or one service object.
            if (root.ValueKind == JsonValueKind.Array)
            {
                int n = 0;
                foreach (var e in root.EnumerateArray()) services.Add(ReadService(e, $"$[{n++}]", objectForm: true));
                return (services, null);
            }
            if (root.ValueKind == JsonValueKind.Object && root.EnumerateObject().Any(pr => ServiceProps.Contains(pr.Name, StringComparer.OrdinalIgnoreCase)))
                return (new List<IpvsService> { ReadService(root, "$", objectForm: true) }, null);
            var props = Properties(root, "$", "services", "timeout");
            if (props.TryGetValue("services", out var sv) && sv.ValueKind != JsonValueKind.Null)
            {
                if (sv.ValueKind != JsonValueKind.Array) throw Bad("$.services", "expected an array of services", sv);
                int i = 0;
                foreach (var e in sv.EnumerateArray()) services.Add(ReadService(e, $"$.services[{i++}]"));
            }
            IpvsTimeout? timeout = null;
            if (props.TryGetValue("timeout", out var tv) && tv.ValueKind != JsonValueKind.Null)
            {
                var tp = Properties(tv, "$.timeout", "tcp", "tcpFin", "udp");
                timeout = new IpvsTimeout
                {
                    Tcp = (uint)Integer(tp, "tcp", "$.timeout", 0, uint.MaxValue, 0),
                    TcpFin = (uint)Integer(tp, "tcpFin", "$.timeout", 0, uint.MaxValue, 0),
                    Udp = (uint)Integer(tp, "udp", "$.timeout", 0, uint.MaxValue, 0),
                };
            }
            return (services, timeout);
        }
    }

    private static readonly string[] ServiceProps =
    {
        "protocol", "address", "port", "firewallMark", "addressFamily", "scheduler", "persistenceTimeout",
        "persistenceNetmask", "persistenceEngine", "onePacket", "schedulerFlags", "realServers",
        // what ConvertTo-Json of an IpvsService object also writes: the flags under the object's name, and
        // read-only values (identity text, counters), accepted and not used
        "schedulerFlag", "name", "isFirewallMark", "isPersistent", "statistics", "rate",
    };

    private static readonly string[] RealServerProps =
    {
        "address", "port", "forwardingMethod", "weight", "upperThreshold", "lowerThreshold", "tunnelType", "tunnelPort",
        "tunnelChecksum",
        // read-only values of an IpvsRealServer object's JSON, accepted and not used
        "service", "addressFamily", "endpoint", "activeConnections", "inactiveConnections", "persistentConnections", "statistics", "rate",
    };

    private static IpvsService ReadService(JsonElement e, string path, bool objectForm = false)
    {
        var p = Properties(e, path, ServiceProps);
        var s = new IpvsService();
        string? proto = String(p, "protocol", path);
        s.Protocol = proto?.ToLowerInvariant() switch
        {
            null => null,
            "tcp" => IpvsProtocol.Tcp,
            "udp" => IpvsProtocol.Udp,
            "sctp" => IpvsProtocol.Sctp,
            _ => throw Bad($"{path}.protocol", "expected \"tcp\", \"udp\", \"sctp\" or null", p["protocol"]),
        };
        s.Address = AddressOrNull(p, "address", path);
        s.Port = (ushort)Integer(p, "port", path, 0, ushort.MaxValue, 0);
        s.FirewallMark = (uint)Integer(p, "firewallMark", path, 0, uint.MaxValue, 0);
        string? family = String(p, "addressFamily", path);
        s.AddressFamily = family?.ToLowerInvariant() switch
        {
            null => s.Address?.AddressFamily ?? AddressFamily.InterNetwork,
            "ipv4" or "internetwork" => AddressFamily.InterNetwork,
            "ipv6" or "internetworkv6" => AddressFamily.InterNetworkV6,
            _ => throw Bad($"{path}.addressFamily", "expected \"ipv4\" or \"ipv6\"", p["addressFamily"]),
        };
        s.Scheduler = String(p, "scheduler", path) ?? IpvsService.DefaultScheduler;
        s.PersistenceTimeout = (uint)Integer(p, "persistenceTimeout", path, 0, uint.MaxValue, 0);
        if (p.TryGetValue("persistenceNetmask", out var nm) && nm.ValueKind == JsonValueKind.Number)
            s.PersistenceNetmask = Integer(p, "persistenceNetmask", path, 0, 128, 0).ToString(CultureInfo.InvariantCulture);
        else
            s.PersistenceNetmask = String(p, "persistenceNetmask", path);
        s.PersistenceEngine = String(p, "persistenceEngine", path);
        s.OnePacket = Boolean(p, "onePacket", path);
        var flags = new List<string>();
        if (p.ContainsKey("schedulerFlags") && p.ContainsKey("schedulerFlag"))
            throw new FormatException($"{path}: give the flags once, as schedulerFlags (or schedulerFlag, the object's name), not both");
        if ((p.TryGetValue("schedulerFlags", out var fl) || p.TryGetValue("schedulerFlag", out fl)) && fl.ValueKind != JsonValueKind.Null)
        {
            if (fl.ValueKind != JsonValueKind.Array) throw Bad($"{path}.schedulerFlags", "expected an array of strings", fl);
            int i = 0;
            foreach (var f in fl.EnumerateArray())
            {
                if (f.ValueKind != JsonValueKind.String) throw Bad($"{path}.schedulerFlags[{i}]", "expected a string", f);
                flags.Add(f.GetString()!);
                i++;
            }
        }
        s.SchedulerFlag = flags.ToArray();
        // In an IpvsService object's JSON (straight from Get-IpvsService), "RealServers": null states no real servers, as
        // such an object does: Sync-IpvsConfig keeps the ones the service has. In the configuration document null or
        // omitted is none, as documented.
        s.RealServers = objectForm && p.TryGetValue("realServers", out var rs) && rs.ValueKind == JsonValueKind.Null ? null : new List<IpvsRealServer>();
        if (s.RealServers is not null && p.TryGetValue("realServers", out rs) && rs.ValueKind != JsonValueKind.Null)
        {
            if (rs.ValueKind != JsonValueKind.Array) throw Bad($"{path}.realServers", "expected an array of real servers", rs);
            int i = 0;
            foreach (var r in rs.EnumerateArray()) s.RealServers.Add(ReadRealServer(r, $"{path}.realServers[{i++}]", s));
        }
        return s;
    }

    private static IpvsRealServer ReadRealServer(JsonElement e, string path, IpvsService service)
    {
        var p = Properties(e, path, RealServerProps);
        var address = AddressOrNull(p, "address", path)
                      ?? throw Bad($"{path}.address", "a real server needs an address", p.TryGetValue("address", out var a) ? a : e);
        return new IpvsRealServer
        {
            Service = service,
            Address = address,
            Port = (ushort)Integer(p, "port", path, 0, ushort.MaxValue, 0),
            ForwardingMethod = ForwardingMethod(p, path),
            Weight = (int)Integer(p, "weight", path, 0, 65535, 1),
            UpperThreshold = (uint)Integer(p, "upperThreshold", path, 0, uint.MaxValue, 0),
            LowerThreshold = (uint)Integer(p, "lowerThreshold", path, 0, uint.MaxValue, 0),
            TunnelType = p.TryGetValue("tunnelType", out var tt) && tt.ValueKind != JsonValueKind.Null
                ? Enum<IpvsTunnelType>(p, "tunnelType", path, IpvsTunnelType.IpIp) : null,
            TunnelPort = (ushort)Integer(p, "tunnelPort", path, 0, ushort.MaxValue, 0),
            TunnelChecksum = Enum<IpvsTunnelChecksum>(p, "tunnelChecksum", path, IpvsTunnelChecksum.NoChecksum),
        };
    }

    /// <summary>The properties of an object, keyed case-insensitively; unknown or repeated names are errors.</summary>
    private static Dictionary<string, JsonElement> Properties(JsonElement e, string path, params string[] known)
    {
        if (e.ValueKind != JsonValueKind.Object) throw Bad(path, "expected an object", e);
        var result = new Dictionary<string, JsonElement>(StringComparer.OrdinalIgnoreCase);
        foreach (var prop in e.EnumerateObject())
        {
            string? canonical = known.FirstOrDefault(k => string.Equals(k, prop.Name, StringComparison.OrdinalIgnoreCase));
            if (canonical is null)
                throw new FormatException($"{path}: unknown property \"{prop.Name}\" (known: {string.Join(", ", known)})");
            if (!result.TryAdd(canonical, prop.Value))
                throw new FormatException($"{path}.{canonical}: given more than once");
        }
        return result;
    }

    private static FormatException Bad(string path, string expected, JsonElement got)
    {
        string shown = got.ValueKind switch
        {
            JsonValueKind.String => JsonSerializer.Serialize(got.GetString()!, IpvsJsonContext.Default.String),
            JsonValueKind.Object => "an object",
            JsonValueKind.Array => "an array",
            _ => got.GetRawText(),
        };
        if (shown.Length > 80) shown = shown[..77] + "...";
        return new FormatException($"{path}: {expected}, got {shown}");
    }

    private static string? String(Dictionary<string, JsonElement> p, string name, string path)
    {
        if (!p.TryGetValue(name, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        if (v.ValueKind != JsonValueKind.String) throw Bad($"{path}.{name}", "expected a string", v);
        return v.GetString();
    }

    private static bool Boolean(Dictionary<string, JsonElement> p, string name, string path)
    {
        if (!p.TryGetValue(name, out var v) || v.ValueKind == JsonValueKind.Null) return false;
        return v.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw Bad($"{path}.{name}", "expected true or false", v),
        };
    }

    private static long Integer(Dictionary<string, JsonElement> p, string name, string path, long min, long max, long def)
    {
        if (!p.TryGetValue(name, out var v) || v.ValueKind == JsonValueKind.Null) return def;
        if (v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out long n) && n >= min && n <= max) return n;
        throw Bad($"{path}.{name}", $"expected an integer from {min} to {max}", v);
    }

    private static IPAddress? AddressOrNull(Dictionary<string, JsonElement> p, string name, string path)
    {
        string? text = String(p, name, path);
        if (text is null) return null;
        return IpvsInet.ParseStrict(text.Trim()) ?? throw Bad($"{path}.{name}", "expected an IPv4 address (a.b.c.d) or an IPv6 address", p[name]);
    }

    /// <summary>DirectRouting, Tunnel, Masquerade or Local; FullNat gets its own explanation.</summary>
    private static IpvsForwardingMethod ForwardingMethod(Dictionary<string, JsonElement> p, string path)
    {
        string? text = String(p, "forwardingMethod", path);
        if (text is null) return IpvsForwardingMethod.DirectRouting;
        foreach (var m in new[] { IpvsForwardingMethod.DirectRouting, IpvsForwardingMethod.Tunnel, IpvsForwardingMethod.Masquerade, IpvsForwardingMethod.Local })
            if (string.Equals(m.ToString(), text, StringComparison.OrdinalIgnoreCase)) return m;
        if (string.Equals(text, "FullNat", StringComparison.OrdinalIgnoreCase))
            throw new FormatException($"{path}.forwardingMethod: FULLNAT is not in mainline Linux: it exists only in out-of-tree forks such as Alibaba's LVS (for kernel 2.6.32) and its successors. Use \"Masquerade\", \"DirectRouting\" or \"Tunnel\".");
        throw Bad($"{path}.forwardingMethod", "expected \"DirectRouting\", \"Tunnel\" or \"Masquerade\"", p["forwardingMethod"]);
    }

    private static T Enum<T>(Dictionary<string, JsonElement> p, string name, string path, T def) where T : struct, Enum
    {
        string? text = String(p, name, path);
        if (text is null) return def;
        foreach (var n in System.Enum.GetNames<T>())
            if (string.Equals(n, text, StringComparison.OrdinalIgnoreCase)) return System.Enum.Parse<T>(n);
        throw Bad($"{path}.{name}", $"expected one of {string.Join(", ", System.Enum.GetNames<T>().Select(x => '"' + x + '"'))}", p[name]);
    }
}

/// <summary>Source-generated System.Text.Json metadata for the values IpvsJson serializes (no reflection; trim- and AOT-safe).</summary>
[JsonSerializable(typeof(string))]
internal sealed partial class IpvsJsonContext : JsonSerializerContext
{
}
