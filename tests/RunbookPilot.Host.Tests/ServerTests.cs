using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using RunbookPilot.Domain.Adapters;
using RunbookPilot.Engine.Adapters;
using RunbookPilot.Engine.Hosting;
using RunbookPilot.Engine.Tests;
using RunbookPilot.Engine.Tests.Execution;
using RunbookPilot.Engine.Configuration;

namespace RunbookPilot.Host.Tests;

/// <summary>The server on a real Kestrel (127.0.0.1, port 0) over a real SQLite file: webhook, authentication, REST.</summary>
public sealed class ServerTests : IAsyncLifetime
{
    private readonly TempDir _dir = new();
    private readonly Dictionary<string, TestAdapter> _adapters = AdapterCatalog.BuiltIn.Adapters.ToDictionary(a => a.Name, a => TestAdapter.For(a.Name));
    private WebApplication _app = null!;
    private HttpClient _http = null!;
    private HttpClient _anonymous = null!;

    private static readonly ServerOptions Options = new()
    {
        Urls = "http://127.0.0.1:0",
        User = "alice",
        Password = "correct horse battery staple",
        WebhookToken = "hook-token-0123456789",
        WebhookSecret = "hook-secret-abcdef",
    };

    private const string Lateral = """{"event":{"id":"evt-1","category":["intrusion_detection"]},"source":{"ip":"203.0.113.7","host":{"name":"WS-1"}},"destination":{"ip":"10.0.3.12"},"threat":{"tactic":{"name":"Lateral Movement"},"technique":{"id":"T1021","subtechnique":{"id":"T1021.001"}}}}""";

    public async Task InitializeAsync()
    {
        foreach (var file in Directory.GetFiles(Repo.Playbooks, "*.yaml")) _dir.Write("playbooks/" + Path.GetFileName(file), File.ReadAllText(file));
        foreach (var file in Directory.GetFiles(Path.Combine(Repo.Playbooks, "sigma"))) _dir.Write("playbooks/sigma/" + Path.GetFileName(file), File.ReadAllText(file));
        var engine = new RunbookPilotOptions { Database = Path.Combine(_dir.Path, "data", "rbp.db"), PlaybooksFolder = Path.Combine(_dir.Path, "playbooks"), AuditKey = TestAudit.Key };
        _app = await Server.StartAsync(Options, engine, _adapters.Values.ToList());
        var address = Server.Address(_app);
        _anonymous = new HttpClient { BaseAddress = address };
        _http = new HttpClient { BaseAddress = address };
        _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("alice:correct horse battery staple")));
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        _anonymous.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
        _dir.Dispose();
    }

    private Task<HttpResponseMessage> Post(string body, HttpClient? client = null) =>
        (client ?? _http).PostAsync("/events", new StringContent(body, Encoding.UTF8, "application/json"));

    private static async Task<JsonElement> Json(HttpResponseMessage response) => JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();

    [Fact]
    public void The_web_host_watches_no_configuration_file()
    {
        // A watched configuration file meant a recursive watch of the working folder, which holds ./data: every SQLite
        // write woke the file-watch thread (5.6 % of the server's CPU under load, issue 17).
        var files = ((Microsoft.Extensions.Configuration.IConfigurationBuilder)_app.Configuration).Sources
            .OfType<Microsoft.Extensions.Configuration.FileConfigurationSource>().ToList();
        Assert.NotEmpty(files);
        Assert.All(files, f => Assert.False(f.ReloadOnChange, $"{f.Path} is watched"));
    }

    [Fact]
    public async Task Webhook_answers_202_with_the_event_id_after_journaling_and_recognises_a_repeat()
    {
        var first = await Post(Lateral);
        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        var accepted = (await Json(first)).GetProperty("accepted")[0];
        Assert.Equal("evt-1", accepted.GetProperty("alert_id").GetString());
        var execution = accepted.GetProperty("executions")[0].GetProperty("execution_id").GetString();

        var again = (await Json(await Post(Lateral))).GetProperty("accepted")[0];
        Assert.True(again.GetProperty("duplicate").GetBoolean());
        Assert.Equal(execution, again.GetProperty("executions")[0].GetProperty("execution_id").GetString());
    }

    [Fact]
    public async Task The_selection_api_explains_a_selected_and_an_unmatched_alert()
    {
        await Post(Lateral);
        var selected = await Json(await _http.GetAsync("/api/v1/alerts/evt-1/selection"));
        Assert.Equal(["lateral_movement_L1"], selected.GetProperty("selected").EnumerateArray().Select(e => e.GetString()));
        Assert.NotEqual("no_match", selected.GetProperty("recorded").GetProperty("status").GetString());

        // The same alert from a sensor that names another tactic: the technique matches, a condition does not.
        await Post(Lateral.Replace("evt-1", "evt-2", StringComparison.Ordinal).Replace("Lateral Movement", "Discovery", StringComparison.Ordinal));
        var missed = await Json(await _http.GetAsync("/api/v1/alerts/evt-2/selection"));
        Assert.Equal(0, missed.GetProperty("selected").GetArrayLength());
        Assert.Equal("no_match", missed.GetProperty("recorded").GetProperty("status").GetString());
        Assert.Equal(["lateral_movement_L1"], missed.GetProperty("near_misses").EnumerateArray().Select(e => e.GetString())); // its technique matched
        var verdict = missed.GetProperty("playbooks").EnumerateArray().Single(p => p.GetProperty("playbook_id").GetString() == "lateral_movement_L1");
        var tactic = verdict.GetProperty("conditions").EnumerateArray().Single(c => c.GetProperty("field").GetString() == "threat.tactic.name");
        Assert.Equal(("Discovery", false), (tactic.GetProperty("actual").GetString(), tactic.GetProperty("holds").GetBoolean()));

        Assert.Equal(HttpStatusCode.NotFound, (await _http.GetAsync("/api/v1/alerts/nope/selection")).StatusCode);
    }

    [Fact]
    public async Task An_alert_in_a_format_nobody_recognises_is_accepted_and_recorded_as_unrecognised_never_silently_unmatched()
    {
        var offense = await File.ReadAllTextAsync(Path.Combine(Repo.Root, "tests", "fixtures", "siem", "unrecognised", "qradar_offense.json"));
        var response = await Post(offense);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var id = (await Json(response)).GetProperty("accepted")[0].GetProperty("alert_id").GetString()!;
        var row = (await Json(await _http.GetAsync("/api/v1/events"))).GetProperty("events").EnumerateArray().Single(e => e.GetProperty("alert_id").GetString() == id);
        Assert.Equal(("unrecognised", "unrecognised_format"), (row.GetProperty("format").GetString(), row.GetProperty("status").GetString()));
        var selection = await Json(await _http.GetAsync($"/api/v1/alerts/{Uri.EscapeDataString(id)}/selection"));
        Assert.Contains("unrecognised format", selection.GetProperty("text").GetString(), StringComparison.Ordinal);
    }

    public static TheoryData<string, string> Malformed => new()
    {
        { "{\"event\": ", "body is not valid JSON" },
        { "[]", "expected one ECS alert object" },
        { "42", "expected one ECS alert object" },
        { "[{\"event\":{\"id\":\"ok\"}}, 7]", "malformed alert" },
        { "{\"event\":{\"id\":12},\"source\":{\"ip\":\"999.1.1.1\"}}", "malformed alert" },
        { "{\"event\":\"x\"}", "malformed alert" },
        { "{\"threat\":{\"technique\":{\"id\":[\"T1021\",\"lateral\"]}}}", "malformed alert" },
        { new string('[', 10_000) + new string(']', 10_000), "body is not valid JSON" },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public async Task Malformed_input_is_refused_with_details_and_nothing_is_stored(string body, string error)
    {
        var response = await Post(body);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var json = await Json(response);
        Assert.Contains(error, json.GetProperty("error").GetString(), StringComparison.Ordinal);
        var events = (await Json(await _http.GetAsync("/api/v1/events"))).GetProperty("events");
        Assert.Equal(0, events.GetArrayLength());
    }

    [Fact]
    public async Task Details_name_the_json_path_of_each_problem()
    {
        var json = await Json(await Post("[{\"event\":{\"id\":\"a\"}}, {\"source\":{\"ip\":\"x\"},\"event\":{\"id\":5}}]"));
        var paths = json.GetProperty("details").EnumerateArray().Select(d => d.GetProperty("path").GetString()).ToList();
        Assert.Equal(["$[1].event.id", "$[1].source.ip"], paths.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Invalid_utf8_and_oversized_bodies_are_refused()
    {
        using var bad = new ByteArrayContent([0x7B, 0x22, 0xC3, 0x28, 0x22, 0x3A, 0x31, 0x7D]);
        bad.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        var utf8 = await _http.PostAsync("/events", bad);
        Assert.Equal(HttpStatusCode.BadRequest, utf8.StatusCode);
        Assert.Contains("not valid UTF-8", (await Json(utf8)).GetProperty("error").GetString(), StringComparison.Ordinal);

        // A well-behaved client asks before it sends a large body; the server refuses from the declared length.
        using var huge = new HttpRequestMessage(HttpMethod.Post, "/events") { Content = new StringContent("{\"message\":\"" + new string('x', 10 * 1024 * 1024) + "\"}", Encoding.UTF8, "application/json") };
        huge.Headers.ExpectContinue = true;
        var tooLarge = await _http.SendAsync(huge);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooLarge.StatusCode);
        Assert.Contains("body larger than", (await Json(tooLarge)).GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("GET", "/api/v1/executions")]
    [InlineData("GET", "/api/v1/approvals")]
    [InlineData("GET", "/api/v1/simulations")]
    [InlineData("GET", "/api/v1/playbooks")]
    [InlineData("GET", "/api/v1/events")]
    [InlineData("POST", "/api/v1/executions/x/approve")]
    [InlineData("POST", "/events")]
    public async Task Every_route_but_health_needs_credentials(string method, string path)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path) { Content = new StringContent("{}", Encoding.UTF8, "application/json") };
        Assert.Equal(HttpStatusCode.Unauthorized, (await _anonymous.SendAsync(request)).StatusCode);
        using var wrong = new HttpRequestMessage(new HttpMethod(method), path) { Content = new StringContent("{}", Encoding.UTF8, "application/json") };
        wrong.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("alice:wrong")));
        Assert.Equal(HttpStatusCode.Unauthorized, (await _anonymous.SendAsync(wrong)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _anonymous.GetAsync("/health")).StatusCode);
    }

    [Fact]
    public async Task Webhooks_may_authenticate_with_the_bearer_token_or_an_hmac_signature()
    {
        using var token = new HttpRequestMessage(HttpMethod.Post, "/events") { Content = new StringContent(Lateral, Encoding.UTF8, "application/json") };
        token.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "hook-token-0123456789");
        Assert.Equal(HttpStatusCode.Accepted, (await _anonymous.SendAsync(token)).StatusCode);

        var body = Lateral.Replace("evt-1", "evt-2", StringComparison.Ordinal);
        var signature = Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes("hook-secret-abcdef"), Encoding.UTF8.GetBytes(body)));
        using var signed = new HttpRequestMessage(HttpMethod.Post, "/events") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        signed.Headers.Add("X-RunbookPilot-Signature", "sha256=" + signature);
        Assert.Equal(HttpStatusCode.Accepted, (await _anonymous.SendAsync(signed)).StatusCode);

        using var forged = new HttpRequestMessage(HttpMethod.Post, "/events") { Content = new StringContent(body + " ", Encoding.UTF8, "application/json") };
        forged.Headers.Add("X-RunbookPilot-Signature", "sha256=" + signature);
        Assert.Equal(HttpStatusCode.Unauthorized, (await _anonymous.SendAsync(forged)).StatusCode);
        using var apiWithToken = new HttpRequestMessage(HttpMethod.Get, "/api/v1/executions");
        apiWithToken.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "hook-token-0123456789");
        Assert.Equal(HttpStatusCode.Unauthorized, (await _anonymous.SendAsync(apiWithToken)).StatusCode);
    }

    [Fact]
    public async Task Approve_over_the_api_records_the_authenticated_analyst()
    {
        var id = (await Json(await Post(Lateral))).GetProperty("accepted")[0].GetProperty("executions")[0].GetProperty("execution_id").GetString()!;
        JsonElement approvals = default;
        for (var i = 0; i < 200 && (approvals.ValueKind == JsonValueKind.Undefined || approvals.GetArrayLength() == 0); i++)
        {
            approvals = (await Json(await _http.GetAsync("/api/v1/approvals"))).GetProperty("approvals");
            if (approvals.GetArrayLength() == 0) await Task.Delay(25);
        }
        Assert.Equal("step_3", approvals[0].GetProperty("step_id").GetString());
        var approved = await _http.PostAsync($"/api/v1/executions/{id}/approve", new StringContent("{\"comment\":\"ok\"}", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, approved.StatusCode);
        Assert.Contains("approved by alice", (await Json(approved)).GetProperty("message").GetString(), StringComparison.Ordinal);
        var unknown = await _http.PostAsync("/api/v1/executions/ex-nope/approve", new StringContent("{}", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
    }

    [Fact]
    public async Task Playbook_validation_endpoint_returns_located_errors()
    {
        var response = await _http.PostAsync("/api/v1/playbooks/validate", new StringContent("id: x\nversion: 1.0\n", Encoding.UTF8, "application/yaml"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var errors = (await Json(response)).GetProperty("errors");
        Assert.Contains(errors.EnumerateArray(), e => e.GetProperty("line").GetInt32() == 2 && e.GetProperty("path").GetString() == "version");
    }

    [Fact]
    public async Task Metrics_count_executions_and_approvals_behind_authentication()
    {
        Assert.Equal(HttpStatusCode.Unauthorized, (await _anonymous.GetAsync("/metrics")).StatusCode);
        var id = (await Json(await Post(Lateral))).GetProperty("accepted")[0].GetProperty("executions")[0].GetProperty("execution_id").GetString();
        Assert.NotNull(id);
        string metrics = "";
        for (var i = 0; i < 200 && !metrics.Contains("runbookpilot_approvals_total{playbook=\"lateral_movement_L1\",decision=\"requested\"}", StringComparison.Ordinal); i++)
        {
            metrics = await _http.GetStringAsync("/metrics");
            await Task.Delay(25);
        }
        Assert.Contains("runbookpilot_executions_total{playbook=\"lateral_movement_L1\",outcome=\"started\"}", metrics, StringComparison.Ordinal);
        Assert.Contains("runbookpilot_approvals_total{playbook=\"lateral_movement_L1\",decision=\"requested\"}", metrics, StringComparison.Ordinal);
        Assert.Contains("runbookpilot_projector_lag_events", metrics, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WebSocket_pushes_the_new_approval_and_refuses_anonymous_clients()
    {
        var ws = new Uri(Server.Address(_app).ToString().Replace("http://", "ws://", StringComparison.Ordinal) + "ws");
        using (var anonymous = new System.Net.WebSockets.ClientWebSocket())
            await Assert.ThrowsAsync<System.Net.WebSockets.WebSocketException>(() => anonymous.ConnectAsync(ws, CancellationToken.None));

        using var client = new System.Net.WebSockets.ClientWebSocket();
        client.Options.SetRequestHeader("Authorization", _http.DefaultRequestHeaders.Authorization!.ToString());
        await client.ConnectAsync(ws, CancellationToken.None);
        await Post(Lateral);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var types = new List<string>();
        var buffer = new byte[16 * 1024];
        while (!types.Contains("approval.created"))
        {
            var received = await client.ReceiveAsync(buffer, timeout.Token);
            var message = JsonDocument.Parse(buffer.AsMemory(0, received.Count)).RootElement;
            if (!message.TryGetProperty("type", out _)) continue; // the seed-shaped {"t","data"} binding audit messages
            types.Add(message.GetProperty("type").GetString()!);
            if (message.GetProperty("type").GetString() == "approval.created") Assert.Equal("step_3", message.GetProperty("step_id").GetString());
        }
        Assert.Contains("execution.updated", types);
    }

    [Fact]
    public async Task Playbook_detail_metrics_summary_and_time_filter()
    {
        var detail = await Json(await _http.GetAsync("/api/v1/playbooks/lateral_movement_L1"));
        Assert.Equal("lateral_movement_L1", detail.GetProperty("playbook").GetProperty("id").GetString());
        Assert.Contains("Lateral Movement Response", detail.GetProperty("yaml").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, (await _http.GetAsync("/api/v1/playbooks/nope")).StatusCode);
        await Post(Lateral);
        var summary = await Json(await _http.GetAsync("/api/v1/metrics/summary"));
        Assert.True(summary.TryGetProperty("pending_approvals", out _));
        var future = Uri.EscapeDataString(DateTimeOffset.UtcNow.AddDays(1).ToString("O"));
        Assert.Equal(0, (await Json(await _http.GetAsync($"/api/v1/executions?since={future}"))).GetProperty("executions").GetArrayLength());
    }

    /// <summary>
    /// A batch larger than the backlog limit can never get in, so it is refused as too large (413 with the maximum), not as
    /// busy: round 1 answered 503 + Retry-After here, which no retry could ever cure (issue "Fail-closed safety", class 9).
    /// </summary>
    [Fact]
    public async Task A_batch_over_the_backlog_limit_is_answered_413_with_the_maximum_and_nothing_is_stored()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        var engine = new RunbookPilotOptions { Database = Path.Combine(_dir.Path, "data", "rbp.db"), PlaybooksFolder = Path.Combine(_dir.Path, "playbooks"), AuditKey = TestAudit.Key };
        _app = await Server.StartAsync(Options with { MaxBacklog = 2 }, engine, _adapters.Values.ToList());
        using var http = new HttpClient { BaseAddress = Server.Address(_app) };
        http.DefaultRequestHeaders.Authorization = _http.DefaultRequestHeaders.Authorization;
        var three = "[" + string.Join(",", Enumerable.Range(1, 3).Select(i => Lateral.Replace("evt-1", $"evt-b{i}", StringComparison.Ordinal))) + "]";
        var refused = await http.PostAsync("/events", new StringContent(three, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, refused.StatusCode);
        Assert.Equal(2, (await Json(refused)).GetProperty("max_alerts").GetInt32());
        Assert.Equal(0, (await Json(await http.GetAsync("/api/v1/events"))).GetProperty("events").GetArrayLength());
        Assert.Equal(HttpStatusCode.Accepted, (await http.PostAsync("/events", new StringContent(Lateral, Encoding.UTF8, "application/json"))).StatusCode);
    }

    [Fact]
    public async Task OpenApi_document_lists_the_api()
    {
        var doc = await Json(await _http.GetAsync("/openapi/v1.json"));
        var paths = doc.GetProperty("paths").EnumerateObject().Select(p => p.Name).ToList();
        Assert.Contains("/events", paths);
        Assert.Contains("/api/v1/executions/{id}/approve", paths);
        Assert.Contains("/api/v1/audit/verify", paths);
    }

    [Fact]
    public void A_default_or_empty_password_is_refused_unless_demo()
    {
        Assert.NotNull(new ServerOptions { Password = null }.Refusal());
        Assert.NotNull(new ServerOptions { Password = "admin" }.Refusal());
        Assert.Null(new ServerOptions { Demo = true }.Refusal());
        Assert.Equal(ServerOptions.DemoPassword, new ServerOptions { Demo = true }.EffectivePassword);
        Assert.Null(Options.Refusal());
    }
}
