using HaPowerShell.Core.Health;
using HaPowerShell.Core.Ipvs;

namespace HaPowerShell.Hosting.Health;

/// <summary>The three checks of the module as <see cref="IHealthCheck"/>s for a checker (one attempt each; the checker retries).</summary>
public static class HealthChecks
{
    public static IHealthCheck Tcp(TcpCheckOptions o) => new TcpHealthCheck(o);
    public static IHealthCheck Http(HttpCheckOptions o) => new HttpHealthCheck(o);
    public static IHealthCheck Misc(MiscCheck runner, MiscCheckOptions o) => new MiscHealthCheck(runner, o);

    internal sealed class TcpHealthCheck : IHealthCheck
    {
        private readonly TcpCheckOptions _o;
        public TcpHealthCheck(TcpCheckOptions o) { o.Retry = 0; o.Validate(); _o = o; }
        public TcpCheckOptions Options => _o;
        public string Target => IpvsText.Endpoint(_o.Address, (ushort)_o.Port);
        public async Task<HealthCheckResult> RunAsync(CancellationToken ct) => await NetworkCheck.TcpAsync(_o, ct).ConfigureAwait(false);
    }

    private sealed class HttpHealthCheck : IHealthCheck
    {
        private readonly HttpCheckOptions _o;
        public HttpHealthCheck(HttpCheckOptions o) { o.Retry = 0; o.Validate(); _o = o; }
        public string Target => _o.Url();
        public async Task<HealthCheckResult> RunAsync(CancellationToken ct) => await NetworkCheck.HttpAsync(_o, ct).ConfigureAwait(false);
    }

    private sealed class MiscHealthCheck : IHealthCheck
    {
        private readonly MiscCheck _runner;
        private readonly MiscCheckOptions _o;
        public MiscHealthCheck(MiscCheck runner, MiscCheckOptions o) { _runner = runner; _o = o; runner.Prepare(o); }
        public string Target => _o.Path;
        // the program runs on a pool thread: MiscCheck waits for it synchronously
        public Task<HealthCheckResult> RunAsync(CancellationToken ct) => Task.Run<HealthCheckResult>(() => _runner.Run(_o, ct), ct);
    }
}
