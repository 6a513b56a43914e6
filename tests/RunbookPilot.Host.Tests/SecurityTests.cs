using System.Net;
using System.Net.Http.Headers;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using RunbookPilot.Domain.Adapters;
using RunbookPilot.Engine.Adapters;
using RunbookPilot.Engine.Hosting;
using RunbookPilot.Engine.Tests;
using RunbookPilot.Engine.Tests.Execution;
using RunbookPilot.Domain.Core;
using RunbookPilot.Engine.Configuration;

namespace RunbookPilot.Host.Tests;

/// <summary>
/// The server as an attacker on the same machine or a hostile web page would use it: cross-site requests through the
/// signed-in browser, password guessing, hostile JSON, oversized ids and batches, lookups of random ids, and what
/// /health tells a stranger. A real server on 127.0.0.1 (port 0) over a SQLite file; the clock is fake.
/// </summary>
public sealed class SecurityTests : IAsyncLifetime
{
    private readonly TempDir _dir = new();
    private readonly Dictionary<string, TestAdapter> _adapters = AdapterCatalog.BuiltIn.Adapters.ToDictionary(a => a.Name, a => TestAdapter.For(a.Name));
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 11, 30, 9, 0, 0, TimeSpan.Zero));
    private WebApplication _app = null!;
    private HttpClient _http = null!;
    private Uri _address = null!;
    private const string Password = "correct horse battery staple";

    private const string WebhookToken = "security-test-webhook-token-0123";

    private static readonly ServerOptions Options = new() { Urls = "http://127.0.0.1:0", User = "alice", Password = Password, MaxBacklog = 50, WebhookToken = WebhookToken,
        AllowedOrigins = ["https://soc.example"] };

    public async Task InitializeAsync()
    {
        foreach (var file in Directory.GetFiles(Repo.Playbooks, "*.yaml")) _dir.Write("playbooks/" + Path.GetFileName(file), File.ReadAllText(file));
        foreach (var file in Directory.GetFiles(Path.Combine(Repo.Playbooks, "sigma"))) _dir.Write("playbooks/sigma/" + Path.GetFileName(file), File.ReadAllText(file));
        var engine = new RunbookPilotOptions { Database = Path.Combine(_dir.Path, "data", "rbp.db"), PlaybooksFolder = Path.Combine(_dir.Path, "playbooks"), AuditKey = TestAudit.Key };
        _app = await Server.StartAsync(Options, engine, _adapters.Values.ToList(), _clock);
        _address = Server.Address(_app);
        _http = Client("alice", Password);
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
        _dir.Dispose();
    }

    private HttpClient Client(string? user, string? password)
    {
        var http = new HttpClient { BaseAddress = _address };
        if (user is not null)
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));
        return http;
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private static async Task<JsonElement> Read(HttpResponseMessage response) => JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();

    private const string Binding = """{"playbook_id":"lateral_movement_L1","mode":"auto_run","match":{}}""";

    public static TheoryData<string, string, string?> NotJson => new()
    {
        { "/api/v1/bindings", Binding, "text/plain" },
        { "/api/v1/bindings", "playbook_id=lateral_movement_L1&mode=auto_run", "application/x-www-form-urlencoded" },
        { "/events", """{"event":{"id":"csrf-1"}}""", "text/plain" },
        { "/graphql", """{"query":"mutation { deleteBinding(id: 1) }"}""", "text/plain" },
        { "/api/v1/executions/ex-1/approve", "", null },
        { "/api/v1/approvals/bulk-approve", "", "multipart/form-data; boundary=x" },
        { "/api/v1/control/pause", """{"scope":"global","target":"","reason":"x"}""", "text/plain;charset=UTF-8" },
    };

    [Theory]
    [MemberData(nameof(NotJson))]
    public async Task State_changing_routes_refuse_anything_but_json_with_415(string path, string body, string? type)
    {
        using var content = new ByteArrayContent(Encoding.UTF8.GetBytes(body));
        if (type is not null) content.Headers.ContentType = MediaTypeHeaderValue.Parse(type);
        var response = await _http.PostAsync(path, content);
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        var bindings = await Read(await _http.GetAsync("/api/v1/bindings"));
        Assert.Equal(0, bindings.GetProperty("bindings").GetArrayLength());
    }

    [Theory]
    [InlineData("Origin", "http://evil.example")]
    [InlineData("Origin", "null")]
    [InlineData("Sec-Fetch-Site", "cross-site")]
    [InlineData("Sec-Fetch-Site", "same-site")]
    public async Task Cross_site_requests_are_refused_even_with_json_and_credentials(string header, string value)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/bindings") { Content = Json(Binding) };
        request.Headers.TryAddWithoutValidation(header, value);
        Assert.Equal(HttpStatusCode.Forbidden, (await _http.SendAsync(request)).StatusCode);
        using var delete = new HttpRequestMessage(HttpMethod.Delete, "/api/v1/bindings/1");
        delete.Headers.TryAddWithoutValidation(header, value);
        Assert.Equal(HttpStatusCode.Forbidden, (await _http.SendAsync(delete)).StatusCode);

        // The dashboard's circuit (SignalR negotiate) is refused the same way.
        using var negotiate = new HttpRequestMessage(HttpMethod.Post, "/_blazor/negotiate?negotiateVersion=1") { Content = new StringContent("") };
        negotiate.Headers.TryAddWithoutValidation(header, value);
        Assert.Equal(HttpStatusCode.Forbidden, (await _http.SendAsync(negotiate)).StatusCode);

        using var socket = new ClientWebSocket();
        socket.Options.SetRequestHeader("Authorization", _http.DefaultRequestHeaders.Authorization!.ToString());
        socket.Options.SetRequestHeader(header, value);
        await Assert.ThrowsAnyAsync<WebSocketException>(() => socket.ConnectAsync(new Uri($"ws://{_address.Authority}/ws"), CancellationToken.None));
    }

    [Fact]
    public async Task Same_origin_and_non_browser_clients_pass()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/bindings") { Content = Json(Binding) };
        request.Headers.TryAddWithoutValidation("Origin", $"{_address.Scheme}://{_address.Authority}");
        request.Headers.TryAddWithoutValidation("Sec-Fetch-Site", "same-origin");
        Assert.Equal(HttpStatusCode.Created, (await _http.SendAsync(request)).StatusCode);
        using var proxied = new HttpRequestMessage(HttpMethod.Post, "/api/v1/bindings") { Content = Json(Binding) };
        proxied.Headers.TryAddWithoutValidation("Origin", "https://soc.example"); // RBPILOT_ALLOWED_ORIGINS (a reverse proxy's address)
        Assert.Equal(HttpStatusCode.Created, (await _http.SendAsync(proxied)).StatusCode);

        using var socket = new ClientWebSocket();
        socket.Options.SetRequestHeader("Authorization", _http.DefaultRequestHeaders.Authorization!.ToString());
        socket.Options.SetRequestHeader("Origin", $"{_address.Scheme}://{_address.Authority}");
        await socket.ConnectAsync(new Uri($"ws://{_address.Authority}/ws"), CancellationToken.None);
        Assert.Equal(WebSocketState.Open, socket.State);
    }

    /// <summary>Sends the request while moving the fake clock, so a slowed answer arrives without waiting on the wall clock.</summary>
    private async Task<HttpResponseMessage> Attempt(HttpClient client)
    {
        var pending = client.GetAsync("/api/v1/approvals");
        while (!pending.IsCompleted)
        {
            _clock.Advance(TimeSpan.FromMilliseconds(250));
            await Task.WhenAny(pending, Task.Delay(10));
        }
        return await pending;
    }

    [Fact]
    public async Task Password_guessing_is_slowed_then_refused_with_429_and_logged_without_the_password()
    {
        using var guesser = Client("alice", "guess-number-x");
        for (var i = 0; i < Options.LockAfterFailures; i++)
            Assert.Equal(HttpStatusCode.Unauthorized, (await Attempt(guesser)).StatusCode);
        var locked = await Attempt(guesser);
        Assert.Equal(HttpStatusCode.TooManyRequests, locked.StatusCode);
        Assert.True(locked.Headers.RetryAfter?.Delta > TimeSpan.Zero);
        // The right password gains nothing while the lock lasts (from this address, for this user).
        Assert.Equal(HttpStatusCode.TooManyRequests, (await Attempt(_http)).StatusCode);

        _clock.Advance(Options.LockoutWindow + TimeSpan.FromSeconds(1));
        Assert.Equal(HttpStatusCode.OK, (await _http.GetAsync("/api/v1/approvals")).StatusCode);
        var log = (await Read(await _http.GetAsync("/api/v1/ops/log?lines=1000"))).GetProperty("lines").EnumerateArray().Select(l => l.GetString()!).ToList();
        Assert.Contains(log, l => l.Contains("Sign-in failed for \"alice\" from \"127.0.0.1\"", StringComparison.Ordinal)
            || l.Contains("Sign-in failed for alice from 127.0.0.1", StringComparison.Ordinal));
        Assert.DoesNotContain(log, l => l.Contains("guess-number-x", StringComparison.Ordinal));
    }

    [Fact]
    public void Failures_slow_down_only_after_the_first_few_and_successes_never_wait()
    {
        var throttle = new LoginThrottle(Options, _clock);
        var delays = Enumerable.Range(0, 8).Select(_ => throttle.Failed("bob", "192.0.2.7")).ToList();
        Assert.All(delays.Take(Options.SlowAfterFailures), d => Assert.Equal(TimeSpan.Zero, d));
        Assert.Equal(TimeSpan.FromMilliseconds(250), delays[Options.SlowAfterFailures]);
        Assert.True(delays[^1] > delays[Options.SlowAfterFailures]);
        Assert.Null(throttle.Locked("carol", "192.0.2.8"));

        // Guessing bob's password from one address locks that address, not bob everywhere.
        for (var i = 0; i < Options.LockAfterFailures; i++) throttle.Failed("bob", "192.0.2.7");
        Assert.NotNull(throttle.Locked("bob", "192.0.2.7"));
        Assert.Null(throttle.Locked("bob", "198.51.100.1"));

        // Random user names from many addresses never grow the counters past the capacity.
        for (var i = 0; i < LoginThrottle.Capacity * 2; i++) throttle.Failed("user-" + i, "2001:db8::" + i.ToString("x", System.Globalization.CultureInfo.InvariantCulture));
        Assert.True(throttle.Counters <= LoginThrottle.Capacity + 3);
    }

    [Fact]
    public async Task Wrong_webhook_tokens_are_slowed_but_never_lock_out_the_siem()
    {
        var throttle = new LoginThrottle(Options, _clock);
        var delays = Enumerable.Range(0, 8).Select(_ => throttle.FailedWebhook("192.0.2.9")).ToList();
        Assert.Equal(TimeSpan.Zero, delays[0]);
        Assert.True(delays[^1] > TimeSpan.Zero);

        // Failed basic sign-ins from the SIEM's (shared) address do not stop its signed webhooks.
        using var guesser = Client("alice", "guess-number-y");
        for (var i = 0; i < Options.LockAfterFailures; i++) await Attempt(guesser);
        using var hook = new HttpClient { BaseAddress = _address };
        hook.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "not-the-token-0123456789");
        for (var i = 0; i <= Options.LockAfterFailures; i++)
        {
            var pending = hook.PostAsync("/events", Json("""{"event":{"id":"hook-guess"}}"""));
            while (!pending.IsCompleted)
            {
                _clock.Advance(TimeSpan.FromMilliseconds(250));
                await Task.WhenAny(pending, Task.Delay(10));
            }
            Assert.Equal(HttpStatusCode.Unauthorized, (await pending).StatusCode);
        }
        using var siem = new HttpClient { BaseAddress = _address };
        siem.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", WebhookToken);
        Assert.Equal(HttpStatusCode.Accepted, (await siem.PostAsync("/events", Json("""{"event":{"id":"hook-real"}}"""))).StatusCode);
    }

    [Theory]
    [InlineData("""{"event":{"id":"dup-1","id":"dup-2"}}""", "$")]
    [InlineData("""{"event":{"id":"sur-1"},"host":{"name":"\ud800"}}""", "$['host']['name']")]
    [InlineData("""{"event":{"id":"sur-2"},"x\udc00":1}""", "$")]
    public async Task Duplicate_keys_and_lone_surrogates_are_a_400_with_the_path(string body, string pathStart)
    {
        var response = await _http.PostAsync("/events", Json(body));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var details = (await Read(response)).GetProperty("details");
        Assert.StartsWith(pathStart, details[0].GetProperty("path").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(257, "")]
    [InlineData(10, "\\u0000")]
    [InlineData(10, "\\r\\n")]
    public async Task Oversized_or_control_character_alert_ids_are_refused(int length, string suffix)
    {
        var response = await _http.PostAsync("/events", Json("{\"event\":{\"id\":\"" + new string('a', length) + suffix + "\"}}"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("$.event.id", (await Read(response)).GetProperty("details")[0].GetProperty("path").GetString());
        Assert.Empty((await Read(await _http.GetAsync("/api/v1/events"))).GetProperty("events").EnumerateArray());
    }

    [Theory]
    [InlineData("""{"result":{"event_id":"n-1","src_ip":"not-an-ip"},"search_name":"Brute force"}""")]
    [InlineData("""{"result":{"event_id":"n-2\r\nX","src":"203.0.113.9"},"search_name":"Brute force"}""")]
    [InlineData("""{"event":{"id":["n-3","n-4"]}}""")]
    public async Task Alerts_are_checked_after_they_are_read_as_ECS(string body)
    {
        var response = await _http.PostAsync("/events", Json(body));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Empty((await Read(await _http.GetAsync("/api/v1/events"))).GetProperty("events").EnumerateArray());
    }

    [Fact]
    public async Task A_dry_run_has_a_route_of_its_own_and_an_alert_id_of_its_own()
    {
        var response = await _http.PostAsync("/events/dry-run", Json(Lateral.Replace("log-1", "dry-1", StringComparison.Ordinal)));
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.StartsWith("dry-1~dry-", (await Read(response)).GetProperty("accepted")[0].GetProperty("alert_id").GetString(), StringComparison.Ordinal);
        Assert.Empty(_adapters["paloalto"].Calls);
    }

    [Fact]
    public async Task A_batch_larger_than_the_server_takes_at_once_is_a_413_with_the_maximum()
    {
        var batch = "[" + string.Join(",", Enumerable.Range(0, Options.MaxBacklog + 1).Select(i => "{\"event\":{\"id\":\"big-" + i + "\"}}")) + "]";
        var response = await _http.PostAsync("/events", Json(batch));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal(Options.MaxBacklog, (await Read(response)).GetProperty("max_alerts").GetInt32());
    }

    [Fact]
    public async Task Lookups_and_decisions_for_unknown_ids_are_404_and_leave_no_live_entity()
    {
        async Task<int> Entities() => (await Read(await _http.GetAsync("/api/v1/ops/shards"))).GetProperty("entities").GetInt32();
        var before = await Entities();
        for (var i = 0; i < 20; i++)
        {
            Assert.Equal(HttpStatusCode.NotFound, (await _http.GetAsync($"/api/v1/executions/ex-random-{i}?wait=0")).StatusCode);
            Assert.Equal(HttpStatusCode.NotFound, (await _http.PostAsync($"/api/v1/executions/ex-random-{i}/approve", Json("{}"))).StatusCode);
        }
        var after = before;
        for (var i = 0; i < 200 && (after = await Entities()) > before; i++) await Task.Delay(25); // passivation is asynchronous
        Assert.Equal(before, after);
    }

    [Fact]
    public async Task Health_tells_a_stranger_only_ok_or_degraded()
    {
        await _http.PostAsync("/api/v1/control/pause", Json("""{"scope":"global","target":"","reason":"alice is on the change freeze"}"""));
        using var anonymous = Client(null, null);
        var response = await anonymous.GetAsync("/health");
        var body = await response.Content.ReadAsStringAsync();
        Assert.Equal("""{"status":"ok"}""", body);
        var detailed = await Read(await _http.GetAsync("/health"));
        Assert.Equal("alice is on the change freeze", detailed.GetProperty("paused")[0].GetProperty("reason").GetString());
    }

    private const string Lateral = """{"event":{"id":"log-1","category":["intrusion_detection"]},"source":{"ip":"203.0.113.7","host":{"name":"WS-1"}},"destination":{"ip":"10.0.3.12"},"threat":{"tactic":{"name":"Lateral Movement"},"technique":{"id":"T1021","subtechnique":{"id":"T1021.001"}}}}""";

    [Fact]
    public async Task Expired_approvals_and_failed_steps_reach_the_server_log_with_their_ids()
    {
        _adapters["splunk"].ThenFail("HTTP 401 Unauthorized", retryable: false);
        async Task<string> Submit(string alertId)
        {
            var accepted = await Read(await _http.PostAsync("/events", Json(Lateral.Replace("log-1", alertId, StringComparison.Ordinal))));
            var id = accepted.GetProperty("accepted")[0].GetProperty("executions")[0].GetProperty("execution_id").GetString()!;
            await _http.GetAsync($"/api/v1/executions/{id}?wait=30");
            return id;
        }
        var failed = await Submit("log-1");
        var waiting = await Submit("log-2");
        _clock.Advance(TimeSpan.FromHours(5)); // past the approval's 4 h deadline
        List<string> log = [];
        for (var i = 0; i < 400 && !log.Any(l => l.Contains("Approval expired", StringComparison.Ordinal)); i++)
        {
            await Task.Delay(25);
            log = (await Read(await _http.GetAsync("/api/v1/ops/log?lines=1000"))).GetProperty("lines").EnumerateArray().Select(l => l.GetString()!).ToList();
        }
        var expired = Assert.Single(log, l => l.Contains("Approval expired", StringComparison.Ordinal));
        Assert.Contains(" WAR ", expired, StringComparison.Ordinal);
        Assert.Contains(waiting, expired, StringComparison.Ordinal);
        Assert.Contains("log-2", expired, StringComparison.Ordinal);
        Assert.Contains("lateral_movement_L1", expired, StringComparison.Ordinal);
        Assert.Contains(log, l => l.Contains("Step failed", StringComparison.Ordinal) && l.Contains(failed, StringComparison.Ordinal) && l.Contains("401", StringComparison.Ordinal));
        Assert.Contains(log, l => l.Contains("Audit checkpoint written", StringComparison.Ordinal)); // the start's checkpoint, in the log too
    }

    [Fact]
    public async Task A_reload_that_does_not_validate_keeps_the_last_valid_policy_and_health_answers_503_with_the_reason()
    {
        var engine = _app.Services.GetRequiredService<RunbookPilotEngine>();
        var before = engine.Library.Policy;
        _dir.Write("playbooks/global_policy.yaml", "allow_list:\n  ips: [10.0.0.1]\nblock_l2_executon: true\n");
        engine.Reload();
        Assert.Same(before, engine.Library.Policy);
        var health = await _http.GetAsync("/health");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, health.StatusCode);
        var problems = (await Read(health)).GetProperty("problems").EnumerateArray().Select(p => p.GetString()!).ToList();
        Assert.Contains(problems, p => p.Contains("global_policy.yaml:3:1:", StringComparison.Ordinal));
        using var anonymous = Client(null, null);
        Assert.Equal("""{"status":"degraded"}""", await (await anonymous.GetAsync("/health")).Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_server_with_a_broken_policy_does_not_start_and_one_without_demo_names_each_unconfigured_adapter()
    {
        using var dir = new TempDir();
        foreach (var file in Directory.GetFiles(Repo.Playbooks, "*.yaml")) dir.Write("playbooks/" + Path.GetFileName(file), File.ReadAllText(file));
        var options = new RunbookPilotOptions { Database = Path.Combine(dir.Path, "data", "rbp.db"), PlaybooksFolder = Path.Combine(dir.Path, "playbooks"), SigmaFolder = Path.Combine(Repo.Playbooks, "sigma"), AuditKey = TestAudit.Key };
        dir.Write("playbooks/global_policy.yaml", "four_eyes: [isolate_host]\n");
        var refused = await Assert.ThrowsAsync<ConfigurationException>(() => Server.StartAsync(Options, options));
        Assert.Contains(refused.Problems, p => p.Contains("global_policy.yaml:1:1:", StringComparison.Ordinal));

        dir.Write("playbooks/global_policy.yaml", "block_l2_execution: false\n");
        // One vendor configured but unreachable (nothing listens on port 1); the others not configured at all.
        dir.Write("playbooks/adapters.yaml", "adapters:\n  virustotal:\n    base_url: http://127.0.0.1:1\n");
        var app = await Server.StartAsync(Options, options); // no --demo: no simulators
        try
        {
            using var http = new HttpClient { BaseAddress = Server.Address(app) };
            http.DefaultRequestHeaders.Authorization = _http.DefaultRequestHeaders.Authorization;
            var health = await http.GetAsync("/health");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, health.StatusCode);
            var problems = (await Read(health)).GetProperty("problems").EnumerateArray().Select(p => p.GetString()!).ToList();
            foreach (var adapter in new[] { "crowdstrike", "jira", "paloalto", "splunk" })
                Assert.Contains($"adapter {adapter} is used by a playbook but not configured in adapters.yaml", problems);
            Assert.Contains(problems, p => p.StartsWith("adapter virustotal is unreachable", StringComparison.Ordinal));
        }
        finally
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }
}
