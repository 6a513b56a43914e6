using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using System.Text.Json.Nodes;
using RunbookPilot.Domain.Adapters;
using RunbookPilot.Engine.Adapters;
using RunbookPilot.Engine.Adapters.Http;
using RunbookPilot.Engine.Adapters.Vendors;
using RunbookPilot.VendorSim;
using RunbookPilot.Domain.Library;

namespace RunbookPilot.VendorSim.Tests;

/// <summary>Every adapter against its simulator, over real HTTP on 127.0.0.1: success, auth failure, 429, 5xx, timeouts, malformed bodies, dropped connections, rollback.</summary>
public sealed class AdapterTests : IAsyncLifetime
{
    private VendorSimulator _sim = null!;
    private readonly List<AdapterResult> _results = [];
    private readonly List<string> _errors = [];

    public async Task InitializeAsync() => _sim = await VendorSimulator.StartAsync();

    public async Task DisposeAsync() => await _sim.DisposeAsync();

    private static string? Env(string name) => VendorSimulator.Credentials.GetValueOrDefault(name);

    private IAdapter Adapter(string name, Func<string, string?>? env = null, AdapterSettings? settings = null) =>
        AdapterFactory.Create(new Dictionary<string, AdapterSettings> { [name] = settings ?? _sim.DemoSettings()[name] }, env ?? Env, TimeProvider.System).Single();

    private async Task<AdapterResult> Run(IAdapter adapter, string action, JsonObject parameters, string key = "rbp-ex-1-s1", CancellationToken ct = default)
    {
        try
        {
            var result = await adapter.ExecuteAsync(new AdapterCall(action, parameters, key), ct);
            _results.Add(result);
            return result;
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException)
        {
            _errors.Add(ex.ToString());
            throw;
        }
    }

    private Task Fault(string vendor, string kind, int status = 503, int retryAfter = 1) =>
        Task.Run(() => _sim.State.AddFault(new Fault(vendor, kind, Status: status, RetryAfterSeconds: retryAfter)));

    /// <summary>The last request the simulator received equals the adapter's description (secrets shown as *** only).</summary>
    private void AssertDescribedEqualsReceived(IAdapter adapter, string vendor, string action, JsonObject parameters, params string[] secrets)
    {
        var described = adapter.Describe(new AdapterCall(action, parameters, "rbp-ex-1-s1"));
        var received = _sim.State.Requests(vendor)[^1];
        Assert.Equal(described.Method, received.Method);
        Assert.Equal(new Uri(described.Url).PathAndQuery, received.PathAndQuery);
        Assert.Equal(described.Body ?? "", received.Body);
        foreach (var (name, value) in described.Headers)
        {
            var actual = received.Headers[name];
            if (value == HttpCall.Redacted) Assert.Contains(actual.Replace("Bearer ", "", StringComparison.Ordinal).Replace("Basic ", "", StringComparison.Ordinal), secrets);
            else Assert.Equal(value, actual);
        }
    }

    [Fact]
    public async Task VirusTotal_reports_found_not_found_and_describes_what_it_sends()
    {
        var vt = Adapter("virustotal");
        var bad = await Run(vt, "lookup_ip", new JsonObject { ["ip"] = "203.0.113.5" });
        Assert.True(bad.Success);
        Assert.Equal(7, bad.Output!["malicious"]!.GetValue<int>());
        AssertDescribedEqualsReceived(vt, "virustotal", "lookup_ip", new JsonObject { ["ip"] = "203.0.113.5" }, Env("RBPILOT_SIM_VT_KEY")!);
        var unknown = await Run(vt, "query", new JsonObject { ["resource"] = "192.0.2.1", ["resource_type"] = "ip-address" });
        Assert.False(unknown.Output!["found"]!.GetValue<bool>());
        var file = await Run(vt, "lookup_hash", new JsonObject { ["hash"] = new string('a', 64) });
        Assert.Equal("file", file.Output!["type"]!.GetValue<string>());
        var path = await Run(vt, "lookup_domain", new JsonObject { ["domain"] = "../../admin?x=1" });
        // the value stays one path segment: '/' and '?' are escaped, so it neither climbs the path nor starts a query
        Assert.EndsWith("/domains/..%2F..%2Fadmin%3Fx=1", _sim.State.Requests("virustotal")[^1].PathAndQuery, StringComparison.Ordinal);
        Assert.True(path.Success);
    }

    [Fact]
    public async Task Wrong_or_missing_key_is_an_authentication_failure_that_is_not_retried()
    {
        var wrong = await Run(Adapter("virustotal", _ => "not-the-key"), "lookup_ip", new JsonObject { ["ip"] = "198.51.100.1" });
        Assert.False(wrong.Retryable);
        Assert.Contains("authentication refused (HTTP 401): Wrong API key ***", wrong.Error, StringComparison.Ordinal);
        var missing = await Run(Adapter("virustotal", _ => null), "lookup_ip", new JsonObject { ["ip"] = "198.51.100.1" });
        Assert.Contains("X-Apikey header is missing", missing.Error, StringComparison.Ordinal);
        var pan = await Run(Adapter("paloalto", _ => "bad"), "block_ip", new JsonObject { ["ip"] = "198.51.100.9" });
        Assert.Contains("HTTP 403", pan.Error, StringComparison.Ordinal);
        var falcon = await Run(Adapter("crowdstrike", n => n.EndsWith("SECRET", StringComparison.Ordinal) ? "wrong" : Env(n)), "isolate_host", new JsonObject { ["hostname"] = "WS-1" });
        Assert.Contains("authentication refused (HTTP 403)", falcon.Error, StringComparison.Ordinal);
        var splunk = await Run(Adapter("splunk", _ => "nope"), "query", new JsonObject { ["query"] = "index=x" });
        Assert.Contains("call not properly authenticated", splunk.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("virustotal", "lookup_ip")]
    [InlineData("paloalto", "block_ip")]
    [InlineData("crowdstrike", "isolate_host")]
    [InlineData("splunk", "query")]
    [InlineData("abuseipdb", "check_ip")]
    [InlineData("jira", "create_issue")]
    [InlineData("misp", "search_attributes")]
    public async Task Rate_limits_server_errors_and_malformed_bodies_are_retryable(string vendor, string action)
    {
        var parameters = Params(action);
        var adapter = Adapter(vendor);
        await Fault(vendor, "rate_limit", retryAfter: 7);
        var limited = await Run(adapter, action, parameters);
        Assert.True(limited.Retryable);
        Assert.Equal(TimeSpan.FromSeconds(7), limited.RetryAfter);
        Assert.Contains("HTTP 429", limited.Error, StringComparison.Ordinal);

        await Fault(vendor, "status", status: 502);
        var server = await Run(adapter, action, parameters);
        Assert.True(server.Retryable);
        Assert.Contains("HTTP 502", server.Error, StringComparison.Ordinal);

        await Fault(vendor, "malformed");
        var malformed = await Run(adapter, action, parameters);
        Assert.True(malformed.Retryable);
        Assert.Contains("malformed response", malformed.Error, StringComparison.Ordinal);

        Assert.True((await Run(adapter, action, parameters)).Success);
    }

    [Fact]
    public async Task Dropped_connection_and_hang_surface_as_errors_the_step_runner_retries()
    {
        var vt = Adapter("virustotal");
        await Fault("virustotal", "drop");
        await Assert.ThrowsAsync<HttpRequestException>(() => Run(vt, "lookup_ip", new JsonObject { ["ip"] = "198.51.100.1" }));

        await Fault("virustotal", "hang");
        using var cts = new CancellationTokenSource();
        var call = Run(vt, "lookup_ip", new JsonObject { ["ip"] = "198.51.100.1" }, ct: cts.Token);
        while (_sim.State.Requests("virustotal").Count < 2) await Task.Delay(10);
        await cts.CancelAsync(); // what the per-attempt timeout does
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
    }

    [Fact]
    public async Task PanOs_block_is_idempotent_and_rollback_restores_the_firewall()
    {
        var pan = Adapter("paloalto");
        var ip = new JsonObject { ["ip"] = "203.0.113.77" };
        var first = await Run(pan, "block_ip", ip);
        Assert.True(first.Output!["changed"]!.GetValue<bool>());
        AssertDescribedEqualsReceived(pan, "paloalto", "block_ip", ip, Env("RBPILOT_SIM_PANOS_KEY")!);
        Assert.True(_sim.State.RegisteredIps.ContainsKey("203.0.113.77"));
        var again = await Run(pan, "block_ip", ip); // a retry with the same idempotency key
        Assert.True(again.Success);
        Assert.False(again.Output!["changed"]!.GetValue<bool>());

        Assert.True((await Run(pan, "unblock_ip", ip)).Success);
        Assert.False(_sim.State.RegisteredIps.ContainsKey("203.0.113.77"));
        Assert.False((await Run(pan, "unblock_ip", ip)).Output!["changed"]!.GetValue<bool>());
    }

    [Fact]
    public async Task PanOs_address_group_mode_sets_object_and_member_commits_and_rollback_removes_them()
    {
        var settings = _sim.DemoSettings()["paloalto"] with
        {
            Options = new Dictionary<string, JsonNode?> { ["block_mode"] = "address_group", ["poll_interval_ms"] = 1 },
        };
        var pan = Adapter("paloalto", settings: settings);
        var ip = new JsonObject { ["ip"] = "203.0.113.88" };
        var blocked = await Run(pan, "block_ip", ip);
        Assert.True(blocked.Success, blocked.Error);
        Assert.True(blocked.Output!["committed"]!.GetValue<bool>());
        Assert.Equal("203.0.113.88", _sim.State.Running.Addresses["rbp-203.0.113.88"]);
        Assert.Contains("rbp-203.0.113.88", _sim.State.Running.Groups["RBP-Blocklist"]);
        var described = pan.Describe(new AdapterCall("block_ip", ip, "k"));
        Assert.Contains(_sim.State.Requests("paloalto"), r => r.Body == described.Body && r.Headers["X-PAN-KEY"] == Env("RBPILOT_SIM_PANOS_KEY"));
        Assert.Contains(_sim.State.Requests("paloalto"), r => r.Body.Contains("jobs", StringComparison.Ordinal)); // the commit job was polled

        Assert.False((await Run(pan, "block_ip", ip)).Output!["committed"]!.GetValue<bool>()); // nothing changed: nothing to commit
        Assert.True((await Run(pan, "unblock_ip", ip)).Success);
        Assert.False(_sim.State.Running.Addresses.ContainsKey("rbp-203.0.113.88"));
        Assert.DoesNotContain("rbp-203.0.113.88", _sim.State.Running.Groups["RBP-Blocklist"]);
        Assert.True((await Run(pan, "unblock_ip", ip)).Success); // already gone
    }

    [Theory]
    [InlineData("job")]
    [InlineData("export")]
    public async Task Splunk_search_job_and_export_modes_return_the_final_results(string mode)
    {
        var settings = _sim.DemoSettings()["splunk"] with { Options = new Dictionary<string, JsonNode?> { ["search_mode"] = mode, ["poll_interval_ms"] = 1 } };
        var splunk = Adapter("splunk", settings: settings);
        var parameters = new JsonObject { ["query"] = "index=net src=\"203.0.113.5\"", ["earliest"] = "-24h" };
        var result = await Run(splunk, "query", parameters);
        Assert.True(result.Success, result.Error);
        Assert.Equal(3, result.Output!["count"]!.GetValue<int>());
        Assert.DoesNotContain("partial", result.Output!.ToJsonString(), StringComparison.Ordinal); // export preview rows are dropped
        var first = _sim.State.Requests("splunk")[0];
        Assert.Equal(splunk.Describe(new AdapterCall("query", parameters, "k")).Body, first.Body);
        if (mode == "job") Assert.Contains(_sim.State.Requests("splunk"), r => r.PathAndQuery.Contains("/results", StringComparison.Ordinal));
    }

    [Fact]
    public async Task PanOs_xml_cannot_be_changed_by_a_hostile_value()
    {
        var hostile = "</entry><entry ip=\"10.0.0.1\"><tag><member>any</member></tag></entry>";
        var result = await Run(Adapter("paloalto"), "block_ip", new JsonObject { ["ip"] = hostile });
        Assert.True(result.Success);
        Assert.Equal([hostile], _sim.State.RegisteredIps.Keys);
        Assert.False(_sim.State.RegisteredIps.ContainsKey("10.0.0.1"));
    }

    [Fact]
    public async Task CrowdStrike_contains_by_hostname_caches_its_token_and_rollback_lifts_containment()
    {
        var cs = Adapter("crowdstrike");
        var isolate = await Run(cs, "isolate_host", new JsonObject { ["hostname"] = "WS-042" });
        Assert.True(isolate.Success, isolate.Error);
        Assert.Equal("contained", _sim.State.Devices["WS-042"].Status);
        var device = isolate.Output!["device_id"]!.GetValue<string>();
        AssertDescribedEqualsReceived(cs, "crowdstrike", "isolate_host", new JsonObject { ["device_id"] = device }, _sim.State.Requests("crowdstrike")
            .Where(r => r.Headers.ContainsKey("Authorization")).Select(r => r.Headers["Authorization"][7..]).ToArray());

        Assert.True((await Run(cs, "un_isolate_host", new JsonObject { ["device_id"] = device })).Success);
        Assert.Equal("normal", _sim.State.Devices["WS-042"].Status);
        Assert.Single(_sim.State.Requests("crowdstrike"), r => r.PathAndQuery.Contains("oauth2/token", StringComparison.Ordinal));

        var unknown = await Run(cs, "isolate_host", new JsonObject { ["hostname"] = "NOPE' OR hostname:'*" });
        Assert.False(unknown.Success);
        Assert.False(unknown.Retryable);
        Assert.Contains("no device with hostname", unknown.Error, StringComparison.Ordinal);
        Assert.DoesNotContain(_sim.State.Devices.Values, d => d.Status == "contained");
    }

    [Fact]
    public async Task Splunk_runs_a_oneshot_search_and_alert_values_stay_one_string_literal()
    {
        var splunk = Adapter("splunk");
        var escaper = (ITemplateEscaper)splunk;
        var hostile = "x\" OR index=* | delete";
        var query = $"index=auth user={escaper.EscapeTemplateValue("query", hostile)} earliest=-24h";
        var result = await Run(splunk, "query", new JsonObject { ["query"] = query });
        Assert.True(result.Success, result.Error);
        Assert.Equal(3, result.Output!["count"]!.GetValue<int>());
        var received = _sim.State.Requests("splunk")[^1];
        var search = System.Web.HttpUtility.ParseQueryString(received.Body)["search"];
        Assert.Equal("search index=auth user=\"x\\\" OR index=* | delete\" earliest=-24h", search);
        Assert.Equal("\"a b\"", escaper.EscapeTemplateValue("query", "a\r\nb").Replace("  ", " ", StringComparison.Ordinal));
        Assert.Equal("as-is", escaper.EscapeTemplateValue("earliest", "as-is"));
        AssertDescribedEqualsReceived(splunk, "splunk", "query", new JsonObject { ["query"] = query }, Env("RBPILOT_SIM_SPLUNK_TOKEN")!);
    }

    [Fact]
    public async Task Self_signed_tls_is_refused_unless_its_ca_is_configured()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        san.AddDnsName("localhost");
        request.CertificateExtensions.Add(san.Build());
        using var generated = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddHours(1));
        using var certificate = X509CertificateLoader.LoadPkcs12(generated.Export(X509ContentType.Pfx), null);
        await using var tls = await VendorSimulator.StartAsync(certificate: certificate);
        var url = tls.UrlOf("virustotal").Replace("http://", "https://", StringComparison.Ordinal);

        var untrusted = Adapter("virustotal", settings: new AdapterSettings { BaseUrl = url, Credentials = new Dictionary<string, string> { ["api_key"] = "RBPILOT_SIM_VT_KEY" } });
        await Assert.ThrowsAsync<HttpRequestException>(() => untrusted.ExecuteAsync(new AdapterCall("lookup_ip", new JsonObject { ["ip"] = "198.51.100.1" }, "k"), default));

        var caFile = Path.Combine(Path.GetTempPath(), $"rbp-ca-{Guid.NewGuid():N}.pem");
        await File.WriteAllTextAsync(caFile, certificate.ExportCertificatePem());
        try
        {
            var trusted = Adapter("virustotal", settings: new AdapterSettings
            {
                BaseUrl = url,
                Credentials = new Dictionary<string, string> { ["api_key"] = "RBPILOT_SIM_VT_KEY" },
                Tls = new TlsSettings { CaBundle = caFile },
            });
            Assert.True((await trusted.ExecuteAsync(new AdapterCall("lookup_ip", new JsonObject { ["ip"] = "198.51.100.1" }, "k"), default)).Success);
        }
        finally
        {
            File.Delete(caFile);
        }
    }

    [Fact]
    public async Task No_secret_appears_in_any_result_error_or_description()
    {
        foreach (var (vendor, action) in new[] { ("virustotal", "lookup_ip"), ("paloalto", "block_ip"), ("crowdstrike", "isolate_host"), ("splunk", "query"),
                     ("abuseipdb", "check_ip"), ("jira", "create_issue"), ("misp", "add_sighting") })
        {
            var adapter = Adapter(vendor);
            await Run(adapter, action, Params(action));
            await Fault(vendor, "status", status: 500);
            await Run(adapter, action, Params(action));
            await Fault(vendor, "rate_limit");
            await Run(adapter, action, Params(action));
            _results.Add(AdapterResult.Ok(null, adapter.Describe(new AdapterCall(action, Params(action), "k"))));
        }
        var everything = JsonSerializer.Serialize(_results) + string.Join("\n", _errors);
        foreach (var secret in VendorSimulator.Credentials.Values) Assert.DoesNotContain(secret, everything, StringComparison.Ordinal);
        Assert.Contains("***", everything, StringComparison.Ordinal);
    }

    public static TheoryData<string, string, string> EveryAction => new()
    {
        { "virustotal", "query", """{"resource":"203.0.113.5","resource_type":"ip-address"}""" },
        { "virustotal", "lookup_ip", """{"ip":"203.0.113.5"}""" },
        { "virustotal", "lookup_domain", """{"domain":"evil.example"}""" },
        { "virustotal", "lookup_hash", """{"hash":"44d88612fea8a8f36de82e1278abb02f"}""" },
        { "abuseipdb", "check_ip", """{"ip":"203.0.113.5","max_age_days":30}""" },
        { "splunk", "query", """{"query":"index=net src=\"203.0.113.5\"","earliest":"-24h","max_results":50}""" },
        { "paloalto", "block_ip", """{"ip":"203.0.113.5","timeout":3600}""" },
        { "paloalto", "unblock_ip", """{"ip":"203.0.113.5"}""" },
        { "crowdstrike", "isolate_host", """{"device_id":"DEVICE"}""" },
        { "crowdstrike", "un_isolate_host", """{"device_id":"DEVICE"}""" },
        { "crowdstrike", "find_device", """{"hostname":"WS-042"}""" },
        { "jira", "create_issue", """{"project":"SOC","summary":"x","description":"line\r\nline","labels":"a"}""" },
        { "jira", "add_comment", """{"issue":"ISSUE","body":"contained"}""" },
        { "jira", "transition_issue", """{"issue":"ISSUE","transition":"31"}""" },
        { "misp", "search_attributes", """{"value":"203.0.113.5","type":"ip-dst","limit":5}""" },
        { "misp", "add_sighting", """{"value":"203.0.113.5"}""" },
        { "http", "get", """{"url":"status"}""" },
        { "http", "request", """{"method":"POST","url":"sinkhole","headers":{"X-Team":"soc"},"body":{"domain":"evil.example"}}""" },
    };

    /// <summary>For every action: the request the adapter describes (to approvers, in simulations) is the one the vendor receives.</summary>
    [Theory]
    [MemberData(nameof(EveryAction))]
    public async Task Described_request_equals_received_request_for_every_action(string vendor, string action, string json)
    {
        var adapter = Adapter(vendor);
        if (json.Contains("DEVICE", StringComparison.Ordinal)) json = json.Replace("DEVICE", _sim.State.Devices["WS-042"].Id, StringComparison.Ordinal);
        if (json.Contains("ISSUE", StringComparison.Ordinal))
            json = json.Replace("ISSUE", (await Run(Adapter("jira"), "create_issue", new JsonObject { ["project"] = "SOC", ["summary"] = "s" }, key: "setup")).Output!["key"]!.GetValue<string>(), StringComparison.Ordinal);
        var parameters = (JsonObject)JsonNode.Parse(json)!;
        var result = await Run(adapter, action, parameters);
        Assert.True(result.Success, result.Error);
        var secrets = VendorSimulator.Credentials.Values
            .Append(Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{Env("RBPILOT_SIM_JIRA_EMAIL")}:{Env("RBPILOT_SIM_JIRA_TOKEN")}")))
            .Concat(_sim.State.Requests("crowdstrike").Where(r => r.Headers.ContainsKey("Authorization")).Select(r => r.Headers["Authorization"][7..]))
            .ToArray();
        if (vendor == "crowdstrike" && action != "find_device")
            secrets = [.. secrets, .. _sim.State.Requests("crowdstrike").Select(r => r.Headers.GetValueOrDefault("Authorization", "Bearer x")[7..])];
        AssertDescribedEqualsReceived(adapter, vendor, action, parameters, secrets);
        // the request recorded with the result (what the timeline and audit show) is the described one
        var described = adapter.Describe(new AdapterCall(action, parameters, "rbp-ex-1-s1"));
        Assert.Equal((described.Method, described.Url, described.Body), (result.Request!.Method, result.Request.Url, result.Request.Body));
        Assert.Equal(described.Headers.OrderBy(h => h.Key), result.Request.Headers.OrderBy(h => h.Key));
    }

    [Fact]
    public async Task Dry_run_logs_the_request_and_calls_nothing()
    {
        var pan = Adapter("paloalto");
        var call = new AdapterCall("block_ip", new JsonObject { ["ip"] = "203.0.113.99" }, "rbp-ex-1-s1", DryRun: true);
        var result = await pan.ExecuteAsync(call, default);
        Assert.True(result.Success);
        Assert.True(result.Output!["simulated"]!.GetValue<bool>());
        Assert.Equal(pan.Describe(call with { DryRun = false }).Body, result.Request!.Body);
        Assert.Empty(_sim.State.Requests("paloalto"));
        Assert.Empty(_sim.State.RegisteredIps);
    }

    [Fact]
    public async Task Huge_and_hostile_values_stay_values()
    {
        const string Injection = "\"}], \"fields\": {\"x\": 1";
        var big = new string('A', 100 * 1024) + "\r\n</entry>\"'&";
        var pan = await Run(Adapter("paloalto"), "block_ip", new JsonObject { ["ip"] = big });
        Assert.True(pan.Success);
        Assert.Equal([big], _sim.State.RegisteredIps.Keys);
        var jira = await Run(Adapter("jira"), "create_issue", new JsonObject { ["project"] = "SOC", ["summary"] = Injection, ["description"] = big });
        Assert.True(jira.Success, jira.Error);
        var sent = JsonNode.Parse(_sim.State.Requests("jira")[^1].Body)!;
        Assert.Equal(Injection, sent["fields"]!["summary"]!.GetValue<string>());
        Assert.Equal(big, sent["fields"]!["description"]!["content"]![0]!["content"]![0]!["text"]!.GetValue<string>());
    }

    [Fact]
    public async Task AbuseIpDb_reports_confidence()
    {
        var result = await Run(Adapter("abuseipdb"), "check_ip", new JsonObject { ["ip"] = "203.0.113.10" });
        Assert.Equal(100, result.Output!["abuse_confidence"]!.GetValue<int>());
        AssertDescribedEqualsReceived(Adapter("abuseipdb"), "abuseipdb", "check_ip", new JsonObject { ["ip"] = "203.0.113.10" }, Env("RBPILOT_SIM_ABUSEIPDB_KEY")!);
        var invalid = await Run(Adapter("abuseipdb"), "check_ip", new JsonObject { ["ip"] = "not-an-ip" });
        Assert.False(invalid.Retryable);
        Assert.Contains("HTTP 422", invalid.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Jira_creates_once_per_idempotency_key_comments_and_transitions_by_name()
    {
        var jira = Adapter("jira");
        var create = new JsonObject { ["project"] = "SOC", ["summary"] = "Lateral movement from 203.0.113.7", ["description"] = "</p><script>x</script>" };
        var first = await Run(jira, "create_issue", create);
        Assert.True(first.Output!["created"]!.GetValue<bool>());
        var key = first.Output!["key"]!.GetValue<string>();
        AssertDescribedEqualsReceived(jira, "jira", "create_issue", create, Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{Env("RBPILOT_SIM_JIRA_EMAIL")}:{Env("RBPILOT_SIM_JIRA_TOKEN")}")));
        var retry = await Run(jira, "create_issue", create);
        Assert.Equal((key, false), (retry.Output!["key"]!.GetValue<string>(), retry.Output!["created"]!.GetValue<bool>()));
        Assert.True((await Run(jira, "add_comment", new JsonObject { ["issue"] = key, ["body"] = "contained" })).Success);
        Assert.True((await Run(jira, "transition_issue", new JsonObject { ["issue"] = key, ["transition"] = "done" })).Success);
        var gone = await Run(jira, "transition_issue", new JsonObject { ["issue"] = key, ["transition"] = "Done" });
        Assert.Contains("has no transition 'Done'", gone.Error, StringComparison.Ordinal);
        var missing = await Run(jira, "add_comment", new JsonObject { ["issue"] = "SOC-999", ["body"] = "x" });
        Assert.Contains("Issue does not exist", missing.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Misp_searches_and_records_sightings()
    {
        var misp = Adapter("misp");
        var hit = await Run(misp, "search_attributes", new JsonObject { ["value"] = "203.0.113.10", ["type"] = "ip-dst" });
        Assert.Equal(1, hit.Output!["count"]!.GetValue<int>());
        Assert.Equal("Cobalt Strike C2 infrastructure", hit.Output!["events"]![0]!.GetValue<string>());
        Assert.Equal(0, (await Run(misp, "search_attributes", new JsonObject { ["value"] = "198.51.100.1" })).Output!["count"]!.GetValue<int>());
        Assert.True((await Run(misp, "add_sighting", new JsonObject { ["value"] = "203.0.113.10" })).Success);
        var denied = await Run(Adapter("misp", _ => "wrong"), "search_attributes", new JsonObject { ["value"] = "x" });
        Assert.Contains("Authentication failed", denied.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Generic_http_only_calls_allowed_hosts_and_escapes_url_values()
    {
        var http = Adapter("http");
        var escaper = (ITemplateEscaper)http;
        var ok = await Run(http, "request", new JsonObject { ["method"] = "post", ["url"] = "sinkhole/" + escaper.EscapeTemplateValue("url", "evil.example/../x?y"), ["body"] = new JsonObject { ["domain"] = "evil.example" } });
        Assert.True(ok.Success, ok.Error);
        Assert.EndsWith("/http/sinkhole/evil.example%2F..%2Fx%3Fy", _sim.State.Requests("http")[^1].PathAndQuery, StringComparison.Ordinal);
        var refused = await Run(http, "get", new JsonObject { ["url"] = "https://dns-firewall.internal.example/api" });
        Assert.False(refused.Retryable);
        Assert.Contains("not in options.allowed_hosts; refused before any call", refused.Error, StringComparison.Ordinal);
        Assert.Single(_sim.State.Requests("http"));
    }

    [Theory]
    [InlineData("paloalto", "11.1.2")]       // show system info: result/system/sw-version
    [InlineData("splunk", "9.3.1")]          // server/info: entry[0].content.version
    [InlineData("jira", "1001.0.0-SNAPSHOT")] // serverInfo: version
    [InlineData("misp", "2.4.198")]          // servers/getVersion: version
    [InlineData("virustotal", "not reported")]
    [InlineData("abuseipdb", "not reported")]
    [InlineData("crowdstrike", "not reported")]
    [InlineData("http", "not reported")]
    public async Task Health_check_shows_the_version_the_vendor_reports_or_says_not_reported(string vendor, string version)
    {
        Assert.Equal(version, (await ((IHealthCheck)Adapter(vendor)).CheckHealthAsync(default)).ApiVersion);
        Assert.Equal("not reported", (await ((IHealthCheck)Adapter(vendor, _ => "wrong-credential")).CheckHealthAsync(default)).ApiVersion);
    }

    [Theory]
    [InlineData("virustotal")]
    [InlineData("abuseipdb")]
    [InlineData("splunk")]
    [InlineData("paloalto")]
    [InlineData("crowdstrike")]
    [InlineData("jira")]
    [InlineData("misp")]
    [InlineData("http")]
    public async Task Health_check_reports_status_authentication_and_version(string vendor)
    {
        var healthy = await ((IHealthCheck)Adapter(vendor)).CheckHealthAsync(default);
        Assert.True(healthy.Healthy, healthy.Error);
        Assert.True(healthy.Authenticated);
        Assert.InRange(healthy.HttpStatus!.Value, 200, 299);
        Assert.False(string.IsNullOrEmpty(healthy.ApiVersion));
        Assert.DoesNotContain(_sim.State.Requests(vendor), r => r.PathAndQuery.Contains("devices-actions", StringComparison.Ordinal) || r.PathAndQuery.EndsWith("/issue", StringComparison.Ordinal));
        if (vendor == "http") return; // the generic adapter has no credentials to refuse
        var refused = await ((IHealthCheck)Adapter(vendor, _ => "wrong-credential")).CheckHealthAsync(default);
        Assert.False(refused.Healthy);
        Assert.False(refused.Authenticated);
    }

    [Fact]
    public async Task Health_check_names_missing_variables_and_unreachable_vendors()
    {
        var missing = await ((IHealthCheck)Adapter("virustotal", _ => null)).CheckHealthAsync(default);
        Assert.Contains("environment variable(s) not set: RBPILOT_SIM_VT_KEY", missing.Error, StringComparison.Ordinal);
        var settings = new AdapterSettings { BaseUrl = "http://127.0.0.1:9/api", Credentials = new Dictionary<string, string> { ["api_key"] = "RBPILOT_SIM_VT_KEY" } };
        var down = await ((IHealthCheck)Adapter("virustotal", settings: settings)).CheckHealthAsync(default);
        Assert.False(down.Healthy);
        Assert.StartsWith("unreachable", down.Error, StringComparison.Ordinal);
    }

    private static JsonObject Params(string action) => action switch
    {
        "lookup_ip" => new JsonObject { ["ip"] = "198.51.100.1" },
        "block_ip" => new JsonObject { ["ip"] = "198.51.100.2" },
        "isolate_host" => new JsonObject { ["hostname"] = "WS-1" },
        "check_ip" => new JsonObject { ["ip"] = "198.51.100.3" },
        "add_comment" => new JsonObject { ["issue"] = "SOC-1", ["body"] = "x" },
        "create_issue" => new JsonObject { ["project"] = "SOC", ["summary"] = "x" },
        "search_attributes" or "add_sighting" => new JsonObject { ["value"] = "203.0.113.10" },
        _ => new JsonObject { ["query"] = "index=main" },
    };
}
