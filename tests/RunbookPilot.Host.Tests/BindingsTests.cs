using System.Net;
using System.Net.Http.Headers;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Time.Testing;
using RunbookPilot.Domain.Adapters;
using RunbookPilot.Engine.Adapters;
using RunbookPilot.Engine.Hosting;
using RunbookPilot.Engine.Tests;
using RunbookPilot.Engine.Tests.Execution;
using RunbookPilot.Engine.Configuration;

namespace RunbookPilot.Host.Tests;

/// <summary>Bindings over HTTP and /ws against a real Kestrel and SQLite file, with a clock the test controls.</summary>
public sealed class BindingsTests : IAsyncLifetime
{
    private readonly TempDir _dir = new();
    private readonly Dictionary<string, TestAdapter> _adapters = AdapterCatalog.BuiltIn.Adapters.ToDictionary(a => a.Name, a => TestAdapter.For(a.Name));
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 3, 10, 12, 0, 0, TimeSpan.Zero));
    private WebApplication? _app;
    private HttpClient _http = null!;
    private Uri _address = null!;

    private static readonly ServerOptions Options = new()
    {
        Urls = "http://127.0.0.1:0",
        User = "admin",
        Password = "admin-secret-for-tests-1",
        Analysts = new Dictionary<string, string> { ["ana"] = "analyst-secret-for-tests-2" },
    };

    /// <summary>The seed's "IP Enrichment" playbook (read-only).</summary>
    private const string IpEnrichment = """
        id: ip_enrichment
        name: IP Enrichment
        version: 1.0.0
        autonomy_level: L0
        trigger:
          techniques: [T1071]
        steps:
          - id: reputation
            name: Source IP reputation
            action_type: check_ip
            adapter: abuseipdb
            autonomy_level: L0
            params: { ip: "{{source.ip}}" }
        """;

    /// <summary>A block that waits for approval: its runs stay in flight.</summary>
    private const string Block = """
        id: block_source
        name: Block source
        version: 1.0.0
        autonomy_level: L1
        trigger:
          techniques: [T1110]
        steps:
          - id: block
            name: Block
            action_type: block_ip
            adapter: paloalto
            autonomy_level: L1
            params: { ip: "{{source.ip}}" }
            rollback_available: true
        rollback:
          block:
            action_type: unblock_ip
            adapter: paloalto
            params: { ip: "{{source.ip}}" }
        """;

    public async Task InitializeAsync()
    {
        _dir.Write("playbooks/ip_enrichment.yaml", IpEnrichment);
        _dir.Write("playbooks/block_source.yaml", Block);
        await StartAsync();
    }

    private async Task StartAsync()
    {
        var engine = new RunbookPilotOptions { Database = Path.Combine(_dir.Path, "data", "rbp.db"), PlaybooksFolder = Path.Combine(_dir.Path, "playbooks"), AuditKey = TestAudit.Key };
        _app = await Server.StartAsync(Options, engine, _adapters.Values.ToList(), _clock);
        _address = Server.Address(_app);
        _http = Client("admin", Options.Password!);
    }

    private async Task StopAsync()
    {
        _http.Dispose();
        await _app!.StopAsync();
        await _app.DisposeAsync();
    }

    public async Task DisposeAsync()
    {
        await StopAsync();
        _dir.Dispose();
    }

    private HttpClient Client(string user, string password)
    {
        var http = new HttpClient { BaseAddress = _address };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));
        return http;
    }

    private static StringContent Body(string json) => new(json, Encoding.UTF8, "application/json");

    private static async Task<JsonElement> Json(HttpResponseMessage response) => JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();

    private static int _alerts;

    private static string Alert(string rule, string ip = "203.0.113.7", string severity = "high") =>
        JsonSerializer.Serialize(new
        {
            @event = new { id = $"alert-{Interlocked.Increment(ref _alerts)}", severity },
            rule = new { id = rule },
            source = new { ip },
        });

    private async Task<int> CreateBindingAsync(string json)
    {
        var response = await _http.PostAsync("/api/v1/bindings", Body(json));
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return (await Json(response)).GetProperty("binding").GetProperty("id").GetInt32();
    }

    private async Task<string> PostAlertAsync(string json)
    {
        var response = await _http.PostAsync("/events", Body(json));
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        return (await Json(response)).GetProperty("accepted")[0].GetProperty("alert_id").GetString()!;
    }

    private async Task<List<JsonElement>> AuditAsync(string alertId) =>
        [.. (await Json(await _http.GetAsync($"/api/v1/alerts/{alertId}/bindings/audit"))).GetProperty("audit").EnumerateArray()];

    /// <summary>Waits for the projection of an alert's audit rows (the read model follows the journal within milliseconds).</summary>
    private async Task<List<JsonElement>> AuditAsync(string alertId, Func<List<JsonElement>, bool> done)
    {
        var rows = await AuditAsync(alertId);
        for (var i = 0; i < 400 && !done(rows); i++)
        {
            await Task.Delay(25);
            rows = await AuditAsync(alertId);
        }
        return rows;
    }

    private async Task<Dictionary<string, double>> MetricsAsync()
    {
        var text = await _http.GetStringAsync("/metrics");
        return Regex.Matches(text, @"^(playbook_binding_\w+(?:\{[^}]*\})?) ([-0-9.e+]+)$", RegexOptions.Multiline)
            .ToDictionary(m => m.Groups[1].Value, m => double.Parse(m.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task Seed_smoke_test_steps_3_to_6_over_http_and_websocket()
    {
        // 3–4: a high-severity rule, and in its editor a binding: IP Enrichment, dry_run, 10/min, 2 at once, 100 a day.
        var bindingId = await CreateBindingAsync("""
            {"playbook_id":"ip_enrichment","mode":"dry_run","match":{"rule_ids":["rbp-high-sev"],"severities":["high"]},
             "guardrails":{"max_per_minute":10,"max_concurrent":2,"daily_quota":100},"description":"smoke test"}
            """);
        using var ws = new ClientWebSocket();
        ws.Options.SetRequestHeader("Authorization", _http.DefaultRequestHeaders.Authorization!.ToString());
        await ws.ConnectAsync(new UriBuilder(_address) { Scheme = "ws", Path = "/ws" }.Uri, CancellationToken.None);

        // 5: three matching events.
        var alerts = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            var id = await PostAlertAsync(Alert("rbp-high-sev"));
            alerts.Add(id);
            await AuditAsync(id, rows => rows.Any(r => r.GetProperty("phase").GetString() == "finished"));
        }

        // 6a: the alert's Bindings tab shows the dry_run decisions and the run timeline.
        foreach (var id in alerts)
        {
            var rows = await AuditAsync(id);
            Assert.Equal(["dry_ran", "dry_ran"], rows.Select(r => r.GetProperty("decision").GetString()));
            Assert.Equal(["decided", "finished"], rows.Select(r => r.GetProperty("phase").GetString()));
            Assert.True(rows[1].GetProperty("success").GetBoolean());
            Assert.StartsWith("ex-", rows[1].GetProperty("output_ref").GetString(), StringComparison.Ordinal);
        }
        Assert.DoesNotContain(_adapters["abuseipdb"].Calls, c => !c.DryRun); // dry run: nothing external happened

        // 6b: the preview shows what would happen now; "Run now" executes the playbook and the audit logs 'ran'.
        var preview = await Json(await _http.PostAsync($"/api/v1/alerts/{alerts[0]}/bindings/evaluate", Body("{}")));
        Assert.Equal("dry_ran", preview.GetProperty("decisions")[0].GetProperty("decision").GetString());
        var analyst = Client("ana", "analyst-secret-for-tests-2");
        var run = await analyst.PostAsync($"/api/v1/alerts/{alerts[0]}/bindings/run", Body($$"""{"binding_id":{{bindingId}},"reason":"confirmed by phone"}"""));
        Assert.True(run.IsSuccessStatusCode, await run.Content.ReadAsStringAsync());
        var rowsAfter = await AuditAsync(alerts[0], rows => rows.Count(r => r.GetProperty("decision").GetString() == "ran") == 2);
        var manual = rowsAfter.Where(r => r.GetProperty("decision").GetString() == "ran").ToList();
        Assert.Equal("ana", manual[0].GetProperty("by").GetString());
        Assert.Contains("confirmed by phone", manual[0].GetProperty("reason").GetString(), StringComparison.Ordinal);
        Assert.Contains(_adapters["abuseipdb"].Calls, c => !c.DryRun);

        // The WebSocket carried playbook.run_audit.created in the seed's exact shape.
        var seen = new List<JsonElement>();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var buffer = new byte[64 * 1024];
        while (seen.Count(m => m.GetProperty("data").GetProperty("decision").GetString() == "ran") < 2)
        {
            var received = await ws.ReceiveAsync(buffer, timeout.Token);
            var message = JsonDocument.Parse(buffer.AsMemory(0, received.Count)).RootElement.Clone();
            if (message.TryGetProperty("t", out var t) && t.GetString() == "playbook.run_audit.created") seen.Add(message);
        }
        var first = seen[0];
        Assert.Equal(["t", "data"], first.EnumerateObject().Select(p => p.Name));
        Assert.Equal(["alertId", "bindingId", "playbookId", "mode", "decision", "success", "reason", "startedAt", "finishedAt", "outputRef"],
            first.GetProperty("data").EnumerateObject().Select(p => p.Name));
        Assert.Equal(bindingId, first.GetProperty("data").GetProperty("bindingId").GetInt32());
        Assert.Equal("dry_run", first.GetProperty("data").GetProperty("mode").GetString());
        Assert.Equal("dry_ran", first.GetProperty("data").GetProperty("decision").GetString());

        // 6c: metrics show the counters.
        var metrics = await MetricsAsync();
        Assert.Equal(3, metrics["playbook_binding_decisions_total{mode=\"dry_run\",decision=\"dry_ran\"}"]);
        Assert.Equal(1, metrics["playbook_binding_decisions_total{mode=\"auto_run\",decision=\"ran\"}"]); // the manual run
        Assert.Equal(3, metrics["playbook_binding_runs_total{mode=\"dry_run\",success=\"true\"}"]);
        Assert.Equal(96, metrics[$"playbook_binding_quota_remaining{{binding_id=\"{bindingId}\"}}"]);
        Assert.Contains(metrics.Keys, k => k.StartsWith("playbook_binding_evaluate_latency_seconds_count{mode=\"dry_run\"}", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Two_hundred_concurrent_alerts_never_over_run_the_guardrails_and_metrics_agree_with_the_audit()
    {
        var bindingId = await CreateBindingAsync("""
            {"playbook_id":"ip_enrichment","mode":"auto_run","match":{"rule_ids":["burst"]},
             "guardrails":{"max_per_minute":10,"max_concurrent":2,"daily_quota":100}}
            """);
        var ids = await Task.WhenAll(Enumerable.Range(0, 200).Select(i => PostAlertAsync(Alert("burst", $"198.51.100.{i % 250}"))));

        // Wait for the projection to hold the 200 decisions and the end of every run.
        List<JsonElement> rows = [];
        for (var i = 0; i < 400; i++)
        {
            rows = [.. (await Json(await _http.GetAsync($"/api/v1/bindings/audit?binding_id={bindingId}&limit=1000"))).GetProperty("audit").EnumerateArray()];
            var decided = rows.Count(r => r.GetProperty("phase").GetString() == "decided");
            var ran = rows.Count(r => r.GetProperty("phase").GetString() == "decided" && r.GetProperty("decision").GetString() == "ran");
            if (decided == 200 && rows.Count(r => r.GetProperty("phase").GetString() == "finished") == ran) break;
            await Task.Delay(25);
        }
        var decisions = rows.Where(r => r.GetProperty("phase").GetString() == "decided").GroupBy(r => r.GetProperty("decision").GetString()!).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(200, decisions.Values.Sum());
        Assert.Equal(200, ids.Distinct().Count());
        Assert.Subset(new HashSet<string> { "ran", "skipped_concurrency", "skipped_rate_limited" }, decisions.Keys.ToHashSet());
        // The clock stands still: the bucket holds 10 tokens and never refills, so at most 10 runs, whatever the interleaving.
        Assert.InRange(decisions.GetValueOrDefault("ran"), 2, 10);
        // Replaying the audit in order: never more than 2 runs in flight.
        var inFlight = 0;
        var max = 0;
        foreach (var r in rows)
        {
            if (r.GetProperty("decision").GetString() != "ran") continue;
            inFlight += r.GetProperty("phase").GetString() == "decided" ? 1 : -1;
            max = Math.Max(max, inFlight);
        }
        Assert.InRange(max, 1, 2);
        Assert.Equal(0, inFlight);

        var metrics = await MetricsAsync();
        foreach (var (decision, count) in decisions)
            Assert.Equal(count, metrics[$"playbook_binding_decisions_total{{mode=\"auto_run\",decision=\"{decision}\"}}"]);
        Assert.Equal(decisions["ran"], metrics["playbook_binding_runs_total{mode=\"auto_run\",success=\"true\"}"]);
        Assert.Equal(100 - decisions["ran"], metrics[$"playbook_binding_quota_remaining{{binding_id=\"{bindingId}\"}}"]);
        Assert.Equal(0, metrics[$"playbook_binding_inflight{{binding_id=\"{bindingId}\"}}"]);
    }

    [Fact]
    public async Task Quota_and_concurrency_survive_a_server_restart()
    {
        var bindingId = await CreateBindingAsync("""{"playbook_id":"block_source","mode":"auto_run","match":{"rule_ids":["brute"]},"guardrails":{"max_concurrent":2,"daily_quota":5}}""");
        foreach (var ip in new[] { "203.0.113.1", "203.0.113.2", "203.0.113.3" }) await PostAlertAsync(Alert("brute", ip));

        await StopAsync();
        await StartAsync();

        var binding = (await Json(await _http.GetAsync($"/api/v1/bindings/{bindingId}"))).GetProperty("binding");
        Assert.Equal(2, binding.GetProperty("inflight").GetInt32());
        Assert.Equal(3, binding.GetProperty("quota_remaining").GetInt32());
        var after = await PostAlertAsync(Alert("brute", "203.0.113.4"));
        Assert.Equal("skipped_concurrency", (await AuditAsync(after, rows => rows.Count > 0)).Single().GetProperty("decision").GetString());
    }

    [Fact]
    public async Task Bad_binding_bodies_get_400_with_the_field_path_and_analysts_cannot_change_bindings()
    {
        var unknownField = await _http.PostAsync("/api/v1/bindings", Body("""{"playbook_id":"ip_enrichment","mode":"dry_run","guardrails":{"max_per_minit":3}}"""));
        Assert.Equal(HttpStatusCode.BadRequest, unknownField.StatusCode);
        Assert.Contains("$.guardrails.max_per_minit", await unknownField.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        var badMode = await Json(await _http.PostAsync("/api/v1/bindings", Body("""{"playbook_id":"ip_enrichment","mode":"yolo"}""")));
        Assert.Equal("$.mode", badMode.GetProperty("details")[0].GetProperty("path").GetString());

        var unknownPlaybook = await Json(await _http.PostAsync("/api/v1/bindings", Body("""{"playbook_id":"ip_enrichmen","mode":"suggest","guardrails":{"time_zone":"Nowhere/City"}}""")));
        var paths = unknownPlaybook.GetProperty("details").EnumerateArray().Select(d => d.GetProperty("path").GetString()).ToList();
        Assert.Equal(["$.playbook_id", "$.guardrails.time_zone"], paths);
        Assert.Contains("did you mean 'ip_enrichment'", unknownPlaybook.GetRawText(), StringComparison.Ordinal);

        var analyst = Client("ana", "analyst-secret-for-tests-2");
        Assert.Equal(HttpStatusCode.Forbidden, (await analyst.PostAsync("/api/v1/bindings", Body("""{"playbook_id":"ip_enrichment","mode":"suggest"}"""))).StatusCode);
        Assert.Empty((await Json(await _http.GetAsync("/api/v1/bindings"))).GetProperty("bindings").EnumerateArray());

        // Update and delete keep who changed it.
        var id = await CreateBindingAsync("""{"playbook_id":"ip_enrichment","mode":"suggest","preset":"soc_high"}""");
        var updated = await Json(await _http.PutAsync($"/api/v1/bindings/{id}", Body("""{"playbook_id":"ip_enrichment","mode":"dry_run","preset":"soc_high","guardrails":{"max_per_minute":3}}""")));
        Assert.Equal(3, updated.GetProperty("binding").GetProperty("effective_guardrails").GetProperty("max_per_minute").GetInt32());
        Assert.Equal(10, updated.GetProperty("binding").GetProperty("effective_guardrails").GetProperty("max_concurrent").GetInt32());
        Assert.Equal("5m", updated.GetProperty("binding").GetProperty("effective_guardrails").GetProperty("once_within").GetString());
        Assert.Equal(HttpStatusCode.OK, (await _http.DeleteAsync($"/api/v1/bindings/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _http.DeleteAsync($"/api/v1/bindings/{id}")).StatusCode);
    }

    [Fact]
    public async Task Pausing_holds_alerts_and_resuming_runs_them_the_paused_state_shows_in_health()
    {
        var analyst = Client("ana", "analyst-secret-for-tests-2");
        Assert.True((await analyst.PostAsync("/api/v1/control/pause", Body("""{"scope":"playbook","target":"block_source","reason":"change freeze"}"""))).IsSuccessStatusCode);
        var health = await Json(await _http.GetAsync("/health"));
        Assert.Equal("change freeze", health.GetProperty("paused")[0].GetProperty("reason").GetString());

        var held = await PostAlertAsync("""{"event":{"id":"held-1"},"source":{"ip":"203.0.113.50"},"threat":{"technique":{"id":"T1110"}}}""");
        Assert.Equal("held", (await AuditAsync(held, rows => rows.Count > 0)).Single().GetProperty("decision").GetString());
        Assert.Empty(_adapters["paloalto"].Calls);

        Assert.Equal(HttpStatusCode.Forbidden, (await analyst.PostAsync("/api/v1/control/resume", Body("""{"scope":"playbook","target":"block_source"}"""))).StatusCode);
        var resumed = await Json(await _http.PostAsync("/api/v1/control/resume", Body("""{"scope":"playbook","target":"block_source"}""")));
        Assert.Equal(1, resumed.GetProperty("released").GetInt32());
        Assert.Equal(["held", "ran"], (await AuditAsync(held, rows => rows.Count == 2)).Select(r => r.GetProperty("decision").GetString()));
        Assert.Equal(0, (await Json(await _http.GetAsync("/api/v1/control"))).GetProperty("held_decisions").GetInt32());
    }

    private static async Task<JsonElement> GraphQLAsync(HttpClient http, string query, object? variables = null)
    {
        var response = await http.PostAsync("/graphql", Body(JsonSerializer.Serialize(new { query, variables })));
        return await Json(response);
    }

    [Fact]
    public async Task GraphQL_offers_the_seed_operations_with_the_same_rules_as_rest()
    {
        var created = await GraphQLAsync(_http, """
            mutation($input: PlaybookBindingInput!) { createPlaybookBinding(input: $input) { id mode effectiveGuardrails { maxPerMinute key onceWithin } } }
            """, new { input = new { playbookId = "ip_enrichment", mode = "suggest", preset = "critical_edge", match = new { ruleIds = new[] { "gql" } }, guardrails = new { maxPerMinute = 7 } } });
        Assert.False(created.TryGetProperty("errors", out var errors), errors.ToString());
        var binding = created.GetProperty("data").GetProperty("createPlaybookBinding");
        var id = binding.GetProperty("id").GetInt32();
        Assert.Equal(7, binding.GetProperty("effectiveGuardrails").GetProperty("maxPerMinute").GetInt32());
        Assert.Equal("source.ip", binding.GetProperty("effectiveGuardrails").GetProperty("key").GetString());
        Assert.Equal("30m", binding.GetProperty("effectiveGuardrails").GetProperty("onceWithin").GetString());

        var updated = await GraphQLAsync(_http, "mutation { updatePlaybookBinding(id: " + id + ", input: { playbookId: \"ip_enrichment\", mode: \"dry_run\", match: { ruleIds: [\"gql\"] } }) { mode } }");
        Assert.Equal("dry_run", updated.GetProperty("data").GetProperty("updatePlaybookBinding").GetProperty("mode").GetString());

        var alert = await PostAlertAsync(Alert("gql"));
        var preview = await GraphQLAsync(_http, "query($a: String!) { evaluateBindings(alertId: $a) { bindingId decision } }", new { a = alert });
        Assert.Equal(id, preview.GetProperty("data").GetProperty("evaluateBindings")[0].GetProperty("bindingId").GetInt32());

        var analyst = Client("ana", "analyst-secret-for-tests-2");
        var run = await GraphQLAsync(analyst, "mutation($a: String!, $b: Int!) { runBinding(alertId: $a, bindingId: $b, mode: \"dry_run\", reason: \"check\") { decision by } }", new { a = alert, b = id });
        Assert.Equal("dry_ran", run.GetProperty("data").GetProperty("runBinding").GetProperty("decision").GetString());
        Assert.Equal("ana", run.GetProperty("data").GetProperty("runBinding").GetProperty("by").GetString());
        await AuditAsync(alert, rows => rows.Count >= 3);
        var audit = await GraphQLAsync(_http, "query($a: String) { playbookRunAudit(alertId: $a) { decision phase by } }", new { a = alert });
        Assert.Contains(audit.GetProperty("data").GetProperty("playbookRunAudit").EnumerateArray(), r => r.GetProperty("by").GetString() == "ana");

        var forbidden = await GraphQLAsync(analyst, "mutation { deletePlaybookBinding(id: " + id + ") }");
        Assert.Contains("forbidden", forbidden.GetProperty("errors")[0].GetProperty("message").GetString(), StringComparison.Ordinal);
        var invalid = await GraphQLAsync(_http, "mutation { createPlaybookBinding(input: { playbookId: \"ip_enrichment\", mode: \"sometimes\" }) { id } }");
        Assert.Contains("input.mode", invalid.GetProperty("errors")[0].GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.True((await GraphQLAsync(_http, "mutation { deletePlaybookBinding(id: " + id + ") }")).GetProperty("data").GetProperty("deletePlaybookBinding").GetBoolean());
        Assert.Empty((await GraphQLAsync(_http, "{ playbookBindings { id } }")).GetProperty("data").GetProperty("playbookBindings").EnumerateArray());
    }
}
