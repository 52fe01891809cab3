// The keepalived.conf corpus generator: configurations keepalived 2.2.7 accepts, across every section, and
// mutants of them with one mistake each. It is compiled into the tests and, standalone (BCL only), by the
// scoring harness and the benchmark (Add-Type -Path), so it must not use anything else of the project.
#nullable enable
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.RegularExpressions;

namespace HaPowerShell.Tests;

/// <summary>Writes keepalived configurations for the corpus scoring, the tests and the benchmark.</summary>
public static class KeepalivedCorpusGenerator
{
    /// <summary>The interfaces the generated configurations use (the scoring runs keepalived -t where they exist).</summary>
    public static readonly string[] Interfaces = { "eth0", "eth1" };

    /// <summary>A program every host has, owned by root and not writable by others (scripts must be secure).</summary>
    public const string Script = "/usr/bin/true";

    private static readonly string[] Schedulers = { "rr", "wrr", "lc", "wlc", "lblc", "sh", "dh", "sed", "nq" };

    private sealed class Writer
    {
        private readonly StringBuilder _sb = new();
        private int _level;

        public Writer Line(string text)
        {
            _sb.Append(' ', _level * 4).Append(text).Append('\n');
            return this;
        }

        public Writer Open(string text) { Line(text + " {"); _level++; return this; }
        public Writer Close() { _level--; return Line("}"); }
        public Writer Blank() { _sb.Append('\n'); return this; }
        public int Length => _sb.Length;
        public override string ToString() => _sb.ToString();
    }

    /// <summary>One configuration keepalived accepts, with every section, its sizes and choices drawn from <paramref name="seed"/>.</summary>
    public static string Valid(int seed)
    {
        var rnd = new Random(seed);
        var w = new Writer();
        w.Line($"# generated configuration {seed}");
        w.Open("global_defs");
        w.Line($"router_id LB_{seed}");
        w.Open("notification_email").Line($"ops{seed}@example.com").Line("oncall@example.com").Close();
        w.Line("notification_email_from keepalived@example.com");
        w.Line($"smtp_server 192.0.2.{rnd.Next(1, 250)} 25");
        w.Line("smtp_connect_timeout 30");
        w.Line("enable_script_security");
        w.Line("script_user root");
        if (rnd.Next(2) == 0) w.Line($"vrrp_garp_master_delay {rnd.Next(1, 10)}");
        if (rnd.Next(2) == 0) w.Line($"vrrp_garp_master_refresh {rnd.Next(30, 120)}");
        if (rnd.Next(2) == 0) w.Line("vrrp_skip_check_adv_addr");
        if (rnd.Next(2) == 0) w.Line($"lvs_timeouts tcp {rnd.Next(60, 900)} tcpfin {rnd.Next(10, 120)} udp {rnd.Next(10, 300)}");
        w.Close().Blank();

        int scripts = rnd.Next(1, 4);
        for (int i = 1; i <= scripts; i++)
        {
            w.Open($"vrrp_script chk_{i}");
            w.Line($"script \"{Script} --check {i}\"");
            w.Line($"interval {rnd.Next(1, 5)}");
            w.Line($"timeout {rnd.Next(1, 5)}");
            w.Line($"weight {-rnd.Next(1, 50)}");
            w.Line($"rise {rnd.Next(1, 4)}");
            w.Line($"fall {rnd.Next(1, 4)}");
            w.Close().Blank();
        }
        bool trackFile = rnd.Next(2) == 0, trackProcess = rnd.Next(2) == 0, bfd = rnd.Next(2) == 0;
        if (trackFile)
            w.Open("track_file tf_1").Line($"file /run/keepalived-track-{seed}").Line($"weight {rnd.Next(1, 20)}").Close().Blank();
        if (trackProcess)
            w.Open("vrrp_track_process tp_1").Line("process haproxy").Line($"weight {-rnd.Next(1, 20)}").Line("quorum 1").Line("delay 2").Close().Blank();
        if (bfd)
            w.Open("bfd_instance bfd_1").Line($"neighbor_ip 192.0.2.{rnd.Next(1, 250)}").Line("min_rx 100").Line("min_tx 100").Line("multiplier 3").Close().Blank();

        int instances = rnd.Next(1, 6);
        // Members of a sync group track with weight 0 only (keepalived ignores, and reports, weights there).
        bool sync = instances >= 2 && rnd.Next(2) == 0;
        var names = new List<string>();
        var vrids = Interfaces.ToDictionary(i => i, _ => new HashSet<int>());
        for (int i = 1; i <= instances; i++)
        {
            string name = $"VI_{i}";
            names.Add(name);
            bool member = sync && i <= 2;
            string iface = Interfaces[rnd.Next(Interfaces.Length)];
            string other = Interfaces.First(x => x != iface);
            int vrid;
            do vrid = rnd.Next(1, 256); while (!vrids[iface].Add(vrid));
            bool master = rnd.Next(2) == 0;
            w.Open($"vrrp_instance {name}");
            w.Line($"state {(master ? "MASTER" : "BACKUP")}");
            w.Line($"interface {iface}");
            w.Line($"virtual_router_id {vrid}");
            w.Line($"priority {(master ? rnd.Next(150, 255) : rnd.Next(1, 150))}");
            w.Line($"advert_int {rnd.Next(1, 4)}");
            if (!master && rnd.Next(3) == 0) w.Line("nopreempt");
            else if (!master && rnd.Next(3) == 0) w.Line($"preempt_delay {rnd.Next(1, 300)}");
            if (rnd.Next(2) == 0) w.Open("authentication").Line("auth_type PASS").Line($"auth_pass p{rnd.Next(1000, 9999)}").Close();
            if (rnd.Next(3) == 0)
            {
                w.Line($"unicast_src_ip 192.0.2.{10 + i}");
                w.Open("unicast_peer").Line($"192.0.2.{100 + i}").Line($"192.0.2.{150 + i}").Close();
            }
            int net = Array.IndexOf(Interfaces, iface);
            w.Open("virtual_ipaddress");
            for (int a = 1; a <= rnd.Next(1, 4); a++)
                w.Line(a == 1 ? $"10.{net}.{vrid}.{a}/24 dev {iface} label {iface}:{vrid % 100}" : $"10.{net}.{vrid}.{a}/24");
            w.Close();
            if (rnd.Next(3) == 0) w.Open("virtual_ipaddress_excluded").Line($"10.{net}.{vrid}.200/24").Close();
            if (rnd.Next(2) == 0) w.Open("track_interface").Line(member ? other : $"{other} weight {-rnd.Next(1, 30)}").Close();
            w.Open("track_script");
            for (int s = 1; s <= scripts; s++)
                if (s == 1 || rnd.Next(2) == 0) w.Line(member ? $"chk_{s} weight 0" : rnd.Next(2) == 0 ? $"chk_{s}" : $"chk_{s} weight {-rnd.Next(1, 40)}");
            w.Close();
            if (trackFile && rnd.Next(2) == 0) w.Open("track_file").Line(member ? "tf_1 weight 0" : "tf_1").Close();
            if (trackProcess && rnd.Next(2) == 0) w.Open("track_process").Line(member ? "tp_1 weight 0" : "tp_1").Close();
            if (bfd && rnd.Next(2) == 0) w.Open("track_bfd").Line("bfd_1").Close();
            if (rnd.Next(2) == 0) w.Line($"notify_master \"{Script} {name} master\"");
            if (rnd.Next(2) == 0) w.Line($"notify_backup \"{Script} {name} backup\"");
            if (rnd.Next(2) == 0) w.Line($"notify \"{Script} {name}\"");
            if (rnd.Next(2) == 0) w.Line($"garp_master_delay {rnd.Next(1, 10)}");
            if (rnd.Next(2) == 0) w.Line($"garp_master_refresh {rnd.Next(30, 120)}");
            w.Close().Blank();
        }
        if (sync)
        {
            w.Open("vrrp_sync_group VG_1");
            w.Open("group");
            foreach (var n in names.Take(2)) w.Line(n);
            w.Close();
            w.Line($"notify_master \"{Script} group master\"");
            w.Close().Blank();
        }

        int servers = rnd.Next(1, 5);
        for (int i = 1; i <= servers; i++) VirtualServer(w, rnd, $"10.100.{seed % 250}.{i} {80 + i}", i, kind: null);
        if (rnd.Next(2) == 0)
        {
            w.Open("virtual_server_group VSG_1").Line($"10.110.{seed % 250}.1 443").Line($"10.110.{seed % 250}.2-5 443").Close().Blank();
            VirtualServer(w, rnd, "group VSG_1", 50, kind: "NAT");
        }
        if (rnd.Next(2) == 0) VirtualServer(w, rnd, $"fwmark {rnd.Next(1, 1000)}", 60, kind: "DR");
        return w.ToString();
    }

    private static void VirtualServer(Writer w, Random rnd, string head, int n, string? kind)
    {
        bool fwmark = head.StartsWith("fwmark", StringComparison.Ordinal);
        bool udp = !fwmark && kind is null && rnd.Next(4) == 0;
        kind ??= new[] { "NAT", "DR", "TUN" }[rnd.Next(3)];
        w.Open($"virtual_server {head}");
        w.Line($"delay_loop {rnd.Next(2, 30)}");
        w.Line($"lb_algo {Schedulers[rnd.Next(Schedulers.Length)]}");
        w.Line($"lb_kind {kind}");
        if (!fwmark) w.Line($"protocol {(udp ? "UDP" : "TCP")}");
        if (rnd.Next(2) == 0)
        {
            w.Line($"persistence_timeout {rnd.Next(60, 3600)}");
            if (rnd.Next(2) == 0) w.Line("persistence_granularity 255.255.255.0");
        }
        if (rnd.Next(3) == 0) w.Line("alpha");
        if (rnd.Next(3) == 0) w.Line($"quorum {1}");
        int port = fwmark ? 0 : head.StartsWith("group", StringComparison.Ordinal) ? 443 : int.Parse(head.Split(' ')[^1]);
        int rsPort = kind == "NAT" ? 8000 + n : port;
        if (rnd.Next(3) == 0) w.Line($"sorry_server 10.102.{n}.250 {rsPort}");
        int count = rnd.Next(1, 4);
        for (int r = 1; r <= count; r++)
        {
            w.Open($"real_server 10.101.{n}.{r} {rsPort}");
            w.Line($"weight {rnd.Next(0, 100)}");
            if (rnd.Next(4) == 0) w.Line("inhibit_on_failure");
            if (rnd.Next(4) == 0) w.Line($"notify_up \"{Script} up {r}\"");
            Checker(w, rnd, udp);
            w.Close();
        }
        w.Close().Blank();
    }

    private static void Checker(Writer w, Random rnd, bool udp)
    {
        switch (udp ? 7 + rnd.Next(2) : rnd.Next(9))
        {
            case 0:
            case 1:
                w.Open("TCP_CHECK").Line($"connect_timeout {rnd.Next(1, 10)}").Line($"retry {rnd.Next(1, 5)}").Line($"delay_before_retry {rnd.Next(1, 5)}").Close();
                break;
            case 2:
            case 3:
                w.Open(rnd.Next(2) == 0 ? "HTTP_GET" : "SSL_GET");
                w.Open("url").Line("path /health").Line("status_code 200").Close();
                if (rnd.Next(2) == 0) w.Open("url").Line("path /").Line("digest 9b3a0c85a887a256d6939da88aabd8cd").Close();
                w.Line($"connect_timeout {rnd.Next(1, 10)}").Line($"retry {rnd.Next(1, 5)}");
                w.Close();
                break;
            case 4:
                w.Open("MISC_CHECK").Line($"misc_path \"{Script} --probe\"").Line($"misc_timeout {rnd.Next(1, 10)}").Close();
                break;
            case 5:
                w.Open("SMTP_CHECK").Line($"connect_timeout {rnd.Next(1, 10)}").Line("helo_name lb.example.com").Close();
                break;
            case 6:
                w.Open("PING_CHECK").Line($"retry {rnd.Next(1, 5)}").Close();
                break;
            default:
                w.Open("DNS_CHECK").Line("type A").Line("name example.com").Line($"connect_timeout {rnd.Next(1, 10)}").Close();
                break;
        }
    }

    /// <summary>A configuration of at least <paramref name="bytes"/> bytes that keepalived accepts: instances and many virtual servers.</summary>
    public static string Large(long bytes, int seed)
    {
        var rnd = new Random(seed);
        var w = new Writer();
        w.Open("global_defs").Line($"router_id LARGE_{seed}").Line("enable_script_security").Line("script_user root").Close().Blank();
        w.Open("vrrp_script chk_1").Line($"script \"{Script}\"").Line("interval 2").Line("weight -10").Close().Blank();
        for (int i = 1; i <= 200; i++)
        {
            string iface = Interfaces[i % Interfaces.Length];
            w.Open($"vrrp_instance VI_{i}").Line("state BACKUP").Line($"interface {iface}").Line($"virtual_router_id {(i + 1) / 2}")
                .Line($"priority {rnd.Next(1, 255)}").Line("advert_int 1");
            w.Open("virtual_ipaddress").Line($"10.{i % 2}.{(i + 1) / 2}.1/24 dev {iface}").Close();
            w.Open("track_script").Line("chk_1").Close();
            w.Close().Blank();
        }
        for (int n = 0; w.Length < bytes; n++)
        {
            w.Open($"virtual_server 10.{120 + n / 65025}.{n / 255 % 255}.{n % 255 + 1} 80");
            w.Line("delay_loop 10").Line($"lb_algo {Schedulers[n % Schedulers.Length]}").Line("lb_kind NAT").Line("protocol TCP");
            for (int r = 1; r <= 3; r++)
            {
                w.Open($"real_server 10.200.{n % 250}.{r} 8080").Line($"weight {r}");
                w.Open("TCP_CHECK").Line("connect_timeout 3").Line("retry 2").Line("delay_before_retry 2").Close();
                w.Close();
            }
            w.Close().Blank();
        }
        return w.ToString();
    }

    // ------------------------------------------------------------------ mutants

    /// <summary>The kinds of mistake a mutant has (one each).</summary>
    public static readonly string[] Mutations =
    {
        "keyword-typo", "missing-close-brace", "extra-close-brace", "bad-number", "out-of-range", "undefined-script",
        "undefined-sync-member", "undefined-vs-group", "duplicate-vrid", "unicast-without-peers", "missing-parameter",
        "duplicate-instance", "invalid-address", "unknown-lb-kind", "missing-vrid", "long-auth-pass", "unterminated-quote",
        "keyword-in-wrong-block", "unknown-scheduler", "renamed-keyword",
    };

    /// <summary>
    /// <paramref name="valid"/> with one mistake of kind <paramref name="mutation"/> (placed by <paramref name="seed"/>);
    /// null when the configuration has nothing that mistake can be made in.
    /// </summary>
    public static string? Mutate(string valid, string mutation, int seed)
    {
        var rnd = new Random(seed);
        var lines = valid.Split('\n').ToList();
        int Pick(Func<string, bool> where)
        {
            var idx = Enumerable.Range(0, lines.Count).Where(i => where(lines[i].Trim())).ToList();
            return idx.Count == 0 ? -1 : idx[rnd.Next(idx.Count)];
        }
        string Indent(int i) => lines[i].Substring(0, lines[i].Length - lines[i].TrimStart().Length);
        int at;
        switch (mutation)
        {
            case "keyword-typo":
                at = Pick(l => Regex.IsMatch(l, @"^[a-z_]{6,}( |$)") && !l.StartsWith("notification_email {"));
                if (at < 0) return null;
                var words = lines[at].TrimStart().Split(' ');
                var k = words[0].ToCharArray();
                int p = rnd.Next(1, k.Length - 1);
                (k[p], k[p + 1]) = (k[p + 1], k[p]);
                if (new string(k) == words[0]) k[p] = 'x';
                words[0] = new string(k);
                lines[at] = Indent(at) + string.Join(' ', words);
                break;
            case "missing-close-brace":
                at = Pick(l => l == "}");
                if (at < 0) return null;
                lines.RemoveAt(at);
                break;
            case "extra-close-brace":
                at = Pick(l => l.EndsWith("{", StringComparison.Ordinal));
                if (at < 0) return null;
                lines.Insert(at + 1, Indent(at) + "}");
                break;
            case "bad-number":
                at = Pick(l => Regex.IsMatch(l, @"^(priority|weight|delay_loop|connect_timeout|interval|advert_int|retry) \d+$"));
                if (at < 0) return null;
                lines[at] = Regex.Replace(lines[at], @"\d+$", new[] { "abc", "1x", "0x1g", "--3" }[rnd.Next(4)]);
                break;
            case "out-of-range":
                at = Pick(l => Regex.IsMatch(l, @"^(priority|virtual_router_id|advert_int|weight|delay_loop) -?\d+$"));
                if (at < 0) return null;
                string key = lines[at].Trim().Split(' ')[0];
                string value = key switch
                {
                    "priority" => rnd.Next(2) == 0 ? "256" : "0",
                    "virtual_router_id" => rnd.Next(2) == 0 ? "256" : "0",
                    "advert_int" => "300",
                    "weight" => lines[at].Contains('-') || IsInBlock(lines, at, "vrrp_script") ? "300" : "-1",
                    _ => "0",
                };
                lines[at] = Indent(at) + key + " " + value;
                break;
            case "undefined-script":
                at = Pick(l => Regex.IsMatch(l, @"^chk_\d+( weight -?\d+)?$"));
                if (at < 0) return null;
                lines[at] = Indent(at) + "chk_missing";
                break;
            case "undefined-sync-member":
                at = Lines(lines, "vrrp_sync_group").FirstOrDefault(i => lines[i].Trim().StartsWith("VI_", StringComparison.Ordinal), -1);
                if (at < 0) return null;
                lines[at] = Indent(at) + "VI_MISSING";
                break;
            case "undefined-vs-group":
                at = Pick(l => l == "virtual_server group VSG_1 {");
                if (at < 0) return null;
                lines[at] = Indent(at) + "virtual_server group VSG_MISSING {";
                break;
            case "duplicate-vrid":
            {
                var inst = Enumerable.Range(0, lines.Count).Where(i => lines[i].StartsWith("vrrp_instance ", StringComparison.Ordinal)).ToList();
                if (inst.Count < 2) return null;
                string Field(int start, string name) => Lines(lines, start).Select(i => lines[i].Trim()).First(l => l.StartsWith(name + " ", StringComparison.Ordinal)).Split(' ')[1];
                int a = inst[0], b = inst[1];
                int iv = Lines(lines, b).First(i => lines[i].Trim().StartsWith("virtual_router_id ", StringComparison.Ordinal));
                int ii = Lines(lines, b).First(i => lines[i].Trim().StartsWith("interface ", StringComparison.Ordinal));
                lines[iv] = Indent(iv) + "virtual_router_id " + Field(a, "virtual_router_id");
                lines[ii] = Indent(ii) + "interface " + Field(a, "interface");
                break;
            }
            case "unicast-without-peers":
                at = Pick(l => l == "unicast_peer {");
                if (at < 0)
                {
                    at = Pick(l => l.StartsWith("virtual_router_id ", StringComparison.Ordinal));
                    if (at < 0) return null;
                    lines.Insert(at + 1, Indent(at) + "unicast_src_ip 192.0.2.250");
                    break;
                }
                lines.RemoveRange(at, 4);
                break;
            case "missing-parameter":
                at = Pick(l => Regex.IsMatch(l, @"^(interface|virtual_router_id|lb_algo|lb_kind|delay_loop|router_id) \S+$"));
                if (at < 0) return null;
                lines[at] = Indent(at) + lines[at].Trim().Split(' ')[0];
                break;
            case "duplicate-instance":
            {
                var inst = Enumerable.Range(0, lines.Count).Where(i => lines[i].StartsWith("vrrp_instance ", StringComparison.Ordinal)).ToList();
                if (inst.Count < 2) return null;
                lines[inst[1]] = lines[inst[0]];
                break;
            }
            case "invalid-address":
                at = Pick(l => Regex.IsMatch(l, @"^(real_server )?10\.\d+\.\d+\.\d+"));
                if (at < 0) return null;
                lines[at] = Regex.Replace(lines[at], @"10\.(\d+)\.(\d+)\.\d+", "10.$1.$2.300");
                break;
            case "unknown-lb-kind":
                at = Pick(l => l.StartsWith("lb_kind ", StringComparison.Ordinal));
                if (at < 0) return null;
                lines[at] = Indent(at) + "lb_kind " + new[] { "DRR", "MASQ", "nat2" }[rnd.Next(3)];
                break;
            case "missing-vrid":
                at = Pick(l => l.StartsWith("virtual_router_id ", StringComparison.Ordinal));
                if (at < 0) return null;
                lines.RemoveAt(at);
                break;
            case "long-auth-pass":
                at = Pick(l => l.StartsWith("auth_pass ", StringComparison.Ordinal));
                if (at < 0) return null;
                lines[at] = Indent(at) + "auth_pass averylongpassword";
                break;
            case "unterminated-quote":
                at = Pick(l => Regex.IsMatch(l, "^(script|notify\\w*|misc_path) \""));
                if (at < 0) return null;
                lines[at] = lines[at].TrimEnd('"');
                break;
            case "keyword-in-wrong-block":
                at = Pick(l => l.StartsWith("router_id ", StringComparison.Ordinal));
                if (at < 0) return null;
                lines.Insert(at + 1, Indent(at) + "priority 100");
                break;
            case "unknown-scheduler":
                at = Pick(l => l.StartsWith("lb_algo ", StringComparison.Ordinal));
                if (at < 0) return null;
                lines[at] = Indent(at) + "lb_algo " + new[] { "roundrobin", "wlcc", "leastconn" }[rnd.Next(3)];
                break;
            case "renamed-keyword":
                at = Pick(l => l.StartsWith("retry ", StringComparison.Ordinal));
                if (at < 0) return null;
                lines[at] = Indent(at) + "nb_get_retry " + lines[at].Trim().Split(' ')[1];
                break;
            default:
                throw new ArgumentException("unknown mutation " + mutation, nameof(mutation));
        }
        return string.Join('\n', lines);
    }

    /// <summary>The line numbers inside the block starting at <paramref name="start"/> (by indentation).</summary>
    private static IEnumerable<int> Lines(List<string> lines, int start)
    {
        for (int i = start + 1; i < lines.Count && lines[i].Length > 0 && lines[i][0] == ' '; i++) yield return i;
    }

    private static IEnumerable<int> Lines(List<string> lines, string blockKeyword)
    {
        int start = lines.FindIndex(l => l.StartsWith(blockKeyword + " ", StringComparison.Ordinal));
        return start < 0 ? Enumerable.Empty<int>() : Lines(lines, start);
    }

    private static bool IsInBlock(List<string> lines, int at, string keyword)
    {
        for (int i = at; i >= 0; i--)
            if (lines[i].Length > 0 && lines[i][0] != ' ') return lines[i].StartsWith(keyword, StringComparison.Ordinal);
        return false;
    }

    /// <summary>
    /// Writes <paramref name="valid"/> valid configurations and, for each, one mutant per mistake kind into
    /// <paramref name="directory"/>; returns the files written (valid-NNN.conf, NNN-kind.conf).
    /// </summary>
    public static List<string> WriteCorpus(string directory, int valid, int seed)
    {
        Directory.CreateDirectory(directory);
        var files = new List<string>();
        for (int i = 0; i < valid; i++)
        {
            string text = Valid(seed + i);
            string path = Path.Combine(directory, $"valid-{i:D3}.conf");
            File.WriteAllText(path, text);
            files.Add(path);
            for (int m = 0; m < Mutations.Length; m++)
            {
                string? mutant = Mutate(text, Mutations[m], (seed + i) * 100 + m);
                if (mutant is null) continue;
                path = Path.Combine(directory, $"{i:D3}-{Mutations[m]}.conf");
                File.WriteAllText(path, mutant);
                files.Add(path);
            }
        }
        return files;
    }
}
