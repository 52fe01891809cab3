using HaPowerShell.Core.Health;
using HaPowerShell.Core.Ipvs;

namespace HaPowerShell.Core.Keepalived;

public sealed partial class KeepalivedRealServer
{
    /// <summary>The checker types this module runs (TCP_CHECK, HTTP_GET, SSL_GET, MISC_CHECK); the others are listed in NotActedOn.</summary>
    public static bool IsRunnableChecker(string type) => type is "TCP_CHECK" or "HTTP_GET" or "SSL_GET" or "MISC_CHECK";

    /// <summary>
    /// This real server's checkers as one health-check definition, the form Start-IpvsHealthCheck (its -HealthCheck
    /// parameter, bound by property name from this object) and a daemon's health-check host run: the virtual server's
    /// IPVS service with this real server, one check per runnable checker (all must pass, as keepalived's several
    /// checkers of one real server), and each setting from the checker, else the real server, else the virtual server,
    /// else keepalived's default. Null when the real server has no runnable checker, or belongs to a virtual_server
    /// group (one service per member: use the configuration's IPVS services).
    /// </summary>
    public HealthCheckDefinition? HealthCheck => ToHealthCheckDefinition();

    public HealthCheckDefinition? ToHealthCheckDefinition()
    {
        var vs = VirtualServer;
        if (vs is null || vs.Group is not null) return null;
        return ToHealthCheckDefinition(vs.MakeService(vs.Address, vs.Port, vs.FirewallMark, vs.AddressFamily, withRealServers: false));
    }

    /// <summary>The definition for one IPVS service of the virtual server (a virtual_server_group member's, for a daemon).</summary>
    public HealthCheckDefinition? ToHealthCheckDefinition(IpvsService service)
    {
        var vs = VirtualServer;
        if (vs is null) return null;
        var checkers = Checkers.Where(c => IsRunnableChecker(c.Type)).ToList();
        if (checkers.Count == 0) return null;
        var types = new List<HealthCheckType>();
        foreach (var c in checkers)
        {
            var t = c.Type switch { "TCP_CHECK" => HealthCheckType.Tcp, "MISC_CHECK" => HealthCheckType.Misc, _ => HealthCheckType.Http };
            if (!types.Contains(t)) types.Add(t);
        }
        var first = checkers[0];
        var http = checkers.FirstOrDefault(c => c.Type is "HTTP_GET" or "SSL_GET");
        var misc = checkers.FirstOrDefault(c => c.Type == "MISC_CHECK");
        var url = http?.Urls.FirstOrDefault();
        var sorry = vs.SorryServer;
        T? Pick<T>(Func<KeepalivedChecker, T?> checker, T? server, T? virtualServer) where T : struct
            => checkers.Select(checker).FirstOrDefault(x => x.HasValue) ?? server ?? virtualServer;
        return new HealthCheckDefinition
        {
            Name = $"{HealthCheckDefinition.DefaultName(service)} {this}",
            Service = service,
            RealServers = new[] { ToIpvsRealServer(service) },
            CheckTypes = types,
            Port = checkers.Select(c => c.ConnectPort).FirstOrDefault(p => p.HasValue),
            ConnectTimeoutSeconds = Pick(c => c.ConnectTimeout, ConnectTimeout, vs.ConnectTimeout) ?? 5,
            BindAddress = first.BindTo is { } b && System.Net.IPAddress.TryParse(b, out var ba) ? ba : null,
            Path = url?.Path ?? "/",
            StatusCodes = url is null || url.StatusCode.Count == 0 ? StatusCodeSet.Default : StatusCodeSet.Parse(url.StatusCode.ToArray()),
            Digest = url?.Digest,
            VirtualHost = url?.VirtualHost ?? http?.VirtualHost ?? VirtualHost ?? vs.VirtualHost,
            UseTls = http?.Type == "SSL_GET",
            ServerName = http is { Type: "SSL_GET", EnableSni: true } ? (url?.VirtualHost ?? http.VirtualHost ?? VirtualHost ?? vs.VirtualHost) : null,
            MiscPath = misc?.MiscPath,
            ArgumentList = misc?.MiscArguments ?? Array.Empty<string>(),
            MiscTimeoutSeconds = misc?.MiscTimeout,
            Dynamic = misc?.MiscDynamic ?? false,
            User = misc?.User,
            Weight = Weight,
            Policy = new CheckerPolicy
            {
                DelayLoopSeconds = Pick(c => c.DelayLoop, DelayLoop, vs.DelayLoop) ?? 60,
                Retry = Pick(c => c.Retry, Retry, vs.Retry) ?? 1,
                DelayBeforeRetrySeconds = Pick(c => c.DelayBeforeRetry, DelayBeforeRetry, vs.DelayBeforeRetry) ?? 1,
                WarmupSeconds = Pick(c => c.Warmup, Warmup, vs.Warmup) ?? 0,
                Alpha = Pick(c => c.Alpha, Alpha, vs.Alpha) ?? false,
                Omega = vs.Omega,
                InhibitOnFailure = InhibitOnFailure ?? vs.InhibitOnFailure,
                Quorum = vs.Quorum,
                Hysteresis = vs.Hysteresis,
                NotifyUp = NotifyUp,
                NotifyDown = NotifyDown,
                NotifyQuorumUp = vs.QuorumUp,
                NotifyQuorumDown = vs.QuorumDown,
            },
            SorryServer = sorry?.Address,
            SorryServerPort = sorry is null || sorry.Port == 0 ? null : sorry.Port,
            SorryServerWeight = sorry?.Weight ?? 1,
        };
    }
}
