using System.Text.Json.Nodes;
using RunbookPilot.Domain.Adapters;
using RunbookPilot.Engine.Adapters;
using RunbookPilot.Domain.Bindings;
using RunbookPilot.Engine.Hosting;
using RunbookPilot.Engine.Api;

namespace RunbookPilot.Host;

/// <summary>
/// <c>GET /health</c>. Anyone may ask whether the server is ok or degraded (200 / 503), and nothing more: the details
/// (database, configuration refused on reload, each adapter a playbook uses that is unconfigured or unreachable, an
/// unresponsive intake, the kill switches with who set them and why) are for signed-in users only.
/// </summary>
public static class HealthApi
{
    /// <summary>How long an adapter's health probe is reused (a vendor is not asked on every poll of /health).</summary>
    private static readonly TimeSpan ProbeFor = TimeSpan.FromSeconds(30);

    public static void Map(WebApplication app, IReadOnlyList<IAdapter> adapters)
    {
        AdapterProbes? probes = null;
        app.MapGet("/health", async (HttpContext c, RunbookPilotEngine engine, CancellationToken ct) =>
        {
            var problems = new List<string>();
            var database = true;
            try
            {
                engine.Queries.Events(1);
            }
            catch (Exception ex) when (ex is InvalidOperationException or System.Data.Common.DbException)
            {
                database = false;
                problems.Add("database unreachable: " + ex.Message);
            }
            if (engine.ClusterWaiting is { } waiting) problems.Add(waiting);
            problems.AddRange(engine.ConfigurationProblems.Select(p => "configuration reload refused (the last valid version is in force): " + p));
            problems.AddRange(engine.UnconfiguredAdapters.Select(a => $"adapter {a} is used by a playbook but not configured in adapters.yaml"));
            var used = engine.Library.Playbooks.SelectMany(p => p.Steps.Select(s => s.Adapter).Concat(p.Rollback.Values.Select(r => r.Adapter)))
                .ToHashSet(StringComparer.Ordinal);
            probes ??= new AdapterProbes(adapters, engine.Time);
            problems.AddRange((await probes.UnhealthyAsync(used, ct)).Select(h => $"adapter {h.Adapter} is unreachable or refuses its credentials ({h.Url}): {h.Error}"));
            // Kill switches are shown, not counted as a fault: a paused server is healthy and holds what arrives.
            List<JsonObject> paused = [];
            try
            {
                paused = (await engine.Bindings.ListAsync(ct)).Pauses.Select(p => BindingJson.Write(p)).ToList();
            }
            catch (Exception ex) when (ex is Akka.Actor.AskTimeoutException or TaskCanceledException)
            {
                problems.Add("the alert intake does not answer: " + ex.Message);
            }
            var status = problems.Count == 0 ? "ok" : "degraded";
            var code = problems.Count == 0 ? 200 : 503;
            return c.Items[AuthMiddleware.AnalystItem] is null
                ? Results.Json(new { status }, statusCode: code)
                : Results.Json(new { status, database, problems, paused }, statusCode: code);
        });
    }

    /// <summary>The adapters' own health checks, run at most every <see cref="ProbeFor"/>, in parallel, each within 5 s.</summary>
    private sealed class AdapterProbes(IReadOnlyList<IAdapter> adapters, TimeProvider time)
    {
        private readonly Lock _lock = new();
        private (DateTimeOffset At, Task<AdapterHealth[]> Results)? _last;

        public async Task<IReadOnlyList<AdapterHealth>> UnhealthyAsync(HashSet<string> used, CancellationToken ct)
        {
            Task<AdapterHealth[]> results;
            lock (_lock)
            {
                if (_last is not { } last || time.GetUtcNow() - last.At > ProbeFor)
                    _last = (time.GetUtcNow(), Task.WhenAll(adapters.Where(a => used.Contains(a.Descriptor.Name)).OfType<IHealthCheck>().Select(ProbeAsync)));
                results = _last.Value.Results;
            }
            return (await results.WaitAsync(ct)).Where(r => !r.Healthy).ToList();
        }

        private static async Task<AdapterHealth> ProbeAsync(IHealthCheck adapter)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            try
            {
                return await adapter.CheckHealthAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                return new AdapterHealth(((IAdapter)adapter).Descriptor.Name, "", false, null, null, "", 5000, "no answer within 5 s");
            }
        }
    }
}
