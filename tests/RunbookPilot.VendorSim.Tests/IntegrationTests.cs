using System.Text.Json;
using System.Text.Json.Nodes;
using RunbookPilot.Domain.Adapters;
using RunbookPilot.Domain.Effects;
using RunbookPilot.Domain.Library;
using RunbookPilot.Domain.Playbooks;
using RunbookPilot.Engine.Adapters;
using RunbookPilot.Engine.Adapters.Http;
using RunbookPilot.Engine.Adapters.Vendors;

namespace RunbookPilot.VendorSim.Tests;

/// <summary>
/// The PRD's further integrations against their simulators, over real HTTP on 127.0.0.1: PagerDuty Events API v2
/// (I5.3), CrowdStrike RTR process kill (I3.1), PAN-OS security rule add with commit (I4.1); and, for every reversible
/// action, that its inverse called with nothing but the forward result's undo parameters puts the vendor back.
/// </summary>
public sealed class IntegrationTests : IAsyncLifetime
{
    private VendorSimulator _sim = null!;

    public async Task InitializeAsync() => _sim = await VendorSimulator.StartAsync();

    public async Task DisposeAsync() => await _sim.DisposeAsync();

    private static string? Env(string name) => VendorSimulator.Credentials.GetValueOrDefault(name);

    private IAdapter Adapter(string name, Func<string, string?>? env = null, AdapterSettings? settings = null) =>
        AdapterFactory.Create(new Dictionary<string, AdapterSettings> { [name] = settings ?? _sim.DemoSettings()[name] }, env ?? Env, TimeProvider.System).Single();

    /// <summary>The vendor's demo settings, polling PAN-OS commit jobs and RTR command status every millisecond.</summary>
    private AdapterSettings Fast(string vendor, string? blockMode = null)
    {
        var options = new Dictionary<string, JsonNode?> { ["poll_interval_ms"] = 1 };
        if (blockMode is not null) options["block_mode"] = blockMode;
        return _sim.DemoSettings()[vendor] with { Options = options };
    }

    private static Task<AdapterResult> Run(IAdapter adapter, string action, JsonObject parameters, string key = "rbp-ex-14-s1") =>
        adapter.ExecuteAsync(new AdapterCall(action, parameters, key), default);

    /// <summary>The simulators' state as <c>GET /_admin/state</c> serves it.</summary>
    private async Task<JsonNode> StateAsync()
    {
        using var http = new HttpClient();
        return JsonNode.Parse(await http.GetStringAsync(new Uri(_sim.BaseAddress, "_admin/state")))!;
    }

    /// <summary>One part of <c>/_admin/state</c> (a dotted path such as <c>crowdstrike.devices</c>), as JSON text.</summary>
    private async Task<string> StatePart(string path)
    {
        JsonNode? node = await StateAsync();
        foreach (var segment in path.Split('.')) node = node?[segment];
        return node?.ToJsonString() ?? "null";
    }

    /// <summary>
    /// As on a real firewall: the blocklist group exists before the first block (a deny rule references it) and keeps a
    /// placeholder member, since a static address group cannot be empty.
    /// </summary>
    private void SeedBlocklistGroup()
    {
        lock (_sim.State.Candidate)
        {
            _sim.State.Candidate.Addresses["rbp-placeholder"] = "192.0.2.255";
            _sim.State.Candidate.Groups[PaloAltoAdapter.DefaultGroup] = new SortedSet<string>(StringComparer.Ordinal) { "rbp-placeholder" };
            _sim.State.Running = _sim.State.Candidate.Copy();
        }
    }

    // ---- PagerDuty Events API v2 -------------------------------------------------------------------------------------

    [Fact]
    public async Task PagerDuty_trigger_is_one_alert_per_key_acknowledges_and_its_undo_resolves_it()
    {
        var pd = Adapter("pagerduty");
        var trigger = new JsonObject
        {
            ["summary"] = "C2 beacon from WS-042 to 203.0.113.7", ["severity"] = "critical", ["source"] = "WS-042", ["component"] = "falcon-sensor",
            ["group"] = "workstations", ["class"] = "command-and-control", ["custom_details"] = new JsonObject { ["rule"] = "sigma-c2-beacon", ["score"] = 87 },
        };
        var first = await Run(pd, "trigger_incident", trigger, key: "rbp-ex-14-page");
        Assert.True(first.Success, first.Error);
        Assert.Equal("rbp-ex-14-page", first.Output!["dedup_key"]!.GetValue<string>()); // the idempotency key, as no dedup_key was given
        Assert.Equal("""{"dedup_key":"rbp-ex-14-page"}""", first.Undo!.ToJsonString());
        var alert = Assert.Single(_sim.State.PagerDuty.All);
        Assert.Equal(("rbp-ex-14-page", "triggered"), (alert.DedupKey, alert.Status));
        Assert.Equal("""["rbp-ex-14-page"]""", await StatePart("pagerduty.open"));
        // every declared parameter reached PagerDuty, where the Events API documents it
        Assert.Equal(
            """{"summary":"C2 beacon from WS-042 to 203.0.113.7","source":"WS-042","severity":"critical","component":"falcon-sensor","group":"workstations","class":"command-and-control","custom_details":{"rule":"sigma-c2-beacon","score":87}}""",
            alert.Payload.ToJsonString());
        // the request described (to approvers, in dry-run) is the one sent, the routing key shown as ***
        var received = _sim.State.Requests("pagerduty")[^1];
        var described = pd.Describe(new AdapterCall("trigger_incident", trigger, "rbp-ex-14-page"));
        Assert.Equal(("POST", "/pagerduty/v2/enqueue"), (received.Method, received.PathAndQuery));
        Assert.Equal(Env("RBPILOT_SIM_PAGERDUTY_KEY"), JsonNode.Parse(received.Body)!["routing_key"]!.GetValue<string>());
        Assert.Equal(described.Body, received.Body.Replace(Env("RBPILOT_SIM_PAGERDUTY_KEY")!, HttpCall.Redacted, StringComparison.Ordinal));
        Assert.DoesNotContain(Env("RBPILOT_SIM_PAGERDUTY_KEY")!, described.Body!, StringComparison.Ordinal);

        var retry = await Run(pd, "trigger_incident", trigger, key: "rbp-ex-14-page"); // a retry of the same step
        Assert.True(retry.Success, retry.Error);
        Assert.Equal(2, Assert.Single(_sim.State.PagerDuty.All).Events); // the same alert, no second page

        var ack = await Run(pd, "acknowledge_incident", new JsonObject { ["dedup_key"] = "rbp-ex-14-page" }, key: "rbp-ex-14-ack");
        Assert.True(ack.Success, ack.Error);
        Assert.Null(ack.Undo);
        Assert.Equal("acknowledged", Assert.Single(_sim.State.PagerDuty.All).Status);

        var resolved = await Run(pd, "resolve_incident", (JsonObject)first.Undo!.DeepClone(), key: "rbp-ex-14-page-rollback");
        Assert.True(resolved.Success, resolved.Error);
        Assert.Equal("resolved", Assert.Single(_sim.State.PagerDuty.All).Status);
        Assert.Equal("[]", await StatePart("pagerduty.open"));
    }

    [Fact]
    public async Task PagerDuty_invalid_events_fail_at_once_rate_limits_and_server_errors_are_retried_and_the_key_never_shows()
    {
        var results = new List<AdapterResult>();
        var bad = await Run(Adapter("pagerduty"), "trigger_incident", new JsonObject { ["summary"] = "x", ["severity"] = "high" });
        results.Add(bad);
        Assert.False(bad.Retryable);
        Assert.Contains("severity 'high' is not one PagerDuty accepts", bad.Error, StringComparison.Ordinal);
        Assert.Empty(_sim.State.Requests("pagerduty")); // refused before any call

        var shortKey = await Run(Adapter("pagerduty", _ => "not-a-routing-key"), "trigger_incident", new JsonObject { ["summary"] = "x", ["severity"] = "info" });
        Assert.False(shortKey.Retryable);
        Assert.Contains("event refused (HTTP 400): Event object is invalid: Length of 'routing_key' is incorrect (should be 32 characters)", shortKey.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("not-a-routing-key", shortKey.Error + shortKey.Request!.Body, StringComparison.Ordinal);
        var unknownKey = await Run(Adapter("pagerduty", _ => new string('0', 32)), "trigger_incident", new JsonObject { ["summary"] = "x", ["severity"] = "info" });
        Assert.False(unknownKey.Retryable);
        Assert.Contains("Event object is invalid: Invalid routing key", unknownKey.Error, StringComparison.Ordinal);

        var pd = Adapter("pagerduty");
        var page = new JsonObject { ["summary"] = "x", ["severity"] = "warning" };
        _sim.State.AddFault(new Fault("pagerduty", "rate_limit", RetryAfterSeconds: 7));
        var limited = await Run(pd, "trigger_incident", page);
        results.Add(limited);
        Assert.True(limited.Retryable);
        Assert.Equal(TimeSpan.FromSeconds(7), limited.RetryAfter);
        _sim.State.AddFault(new Fault("pagerduty", "status", Status: 502));
        var server = await Run(pd, "trigger_incident", page);
        results.Add(server);
        Assert.True(server.Retryable);
        Assert.Contains("HTTP 502", server.Error, StringComparison.Ordinal);
        _sim.State.AddFault(new Fault("pagerduty", "malformed"));
        var malformed = await Run(pd, "trigger_incident", page);
        Assert.True(malformed.Retryable);
        Assert.Contains("malformed response", malformed.Error, StringComparison.Ordinal);
        var ok = await Run(pd, "trigger_incident", page);
        results.Add(ok);
        Assert.True(ok.Success, ok.Error);
        Assert.Single(_sim.State.PagerDuty.All);

        var missing = await Run(pd, "resolve_incident", []);
        Assert.Contains("resolve_incident needs the dedup_key of the alert; refused before any call", missing.Error, StringComparison.Ordinal);
        Assert.DoesNotContain(Env("RBPILOT_SIM_PAGERDUTY_KEY")!, JsonSerializer.Serialize(results), StringComparison.Ordinal);
    }

    /// <summary>The Events API has no credential check: the probe is an empty event PagerDuty refuses (400), so nothing is paged.</summary>
    [Fact]
    public async Task PagerDuty_health_proves_the_events_api_answers_without_sending_an_event()
    {
        var health = await ((IHealthCheck)Adapter("pagerduty")).CheckHealthAsync(default);
        Assert.True(health.Healthy, health.Error);
        Assert.Equal(400, health.HttpStatus);
        Assert.Null(health.Authenticated); // the probe carries no routing key: whether the key is accepted is not checked
        Assert.Equal(HttpAdapter.NotReported, health.ApiVersion);
        Assert.Equal("{}", Assert.Single(_sim.State.Requests("pagerduty")).Body);
        Assert.Empty(_sim.State.PagerDuty.All);

        var missing = await ((IHealthCheck)Adapter("pagerduty", _ => null)).CheckHealthAsync(default);
        Assert.False(missing.Healthy);
        Assert.Contains("environment variable(s) not set: RBPILOT_SIM_PAGERDUTY_KEY", missing.Error, StringComparison.Ordinal);
        var notPagerDuty = new AdapterSettings { BaseUrl = _sim.UrlOf("http"), Credentials = new Dictionary<string, string> { ["routing_key"] = "RBPILOT_SIM_PAGERDUTY_KEY" } };
        var elsewhere = await ((IHealthCheck)Adapter("pagerduty", settings: notPagerDuty)).CheckHealthAsync(default);
        Assert.False(elsewhere.Healthy); // a 200 from something else is not the Events API's refusal
        Assert.Equal("HTTP 200", elsewhere.Error);
    }

    // ---- CrowdStrike RTR process kill --------------------------------------------------------------------------------

    [Fact]
    public async Task CrowdStrike_rtr_kill_ends_the_process_on_the_host_it_resolved_and_only_there()
    {
        var cs = Adapter("crowdstrike", settings: Fast("crowdstrike"));
        Assert.Equal("powershell.exe", (await StateAsync())["crowdstrike"]!["processes"]!["WS-042"]!["4242"]!.GetValue<string>());

        var killed = await Run(cs, "kill_process", new JsonObject { ["hostname"] = "WS-042", ["pid"] = 4242 });
        Assert.True(killed.Success, killed.Error);
        var device = _sim.State.Devices["WS-042"].Id;
        Assert.Equal((device, 4242L, true), (killed.Output!["device_id"]!.GetValue<string>(), killed.Output!["pid"]!.GetValue<long>(), killed.Output!["killed"]!.GetValue<bool>()));
        Assert.Null(killed.Undo); // irreversible: nothing to undo with

        var processes = (await StateAsync())["crowdstrike"]!["processes"]!;
        Assert.Null(processes["WS-042"]!["4242"]); // gone on the host named
        Assert.Equal("lsass.exe", processes["WS-042"]!["688"]!.GetValue<string>()); // nothing else ended
        Assert.Equal("powershell.exe", processes["WS-1"]!["4242"]!.GetValue<string>()); // nor the same pid on another host

        // wire format: a session on the device, the admin command kill <pid> in it, then its status until complete
        var requests = _sim.State.Requests("crowdstrike");
        var opened = Assert.Single(requests, r => r.Method == "POST" && r.PathAndQuery == "/crowdstrike/real-time-response/entities/sessions/v1");
        Assert.Equal(device, JsonNode.Parse(opened.Body)!["device_id"]!.GetValue<string>());
        var command = Assert.Single(requests, r => r.Method == "POST" && r.PathAndQuery == "/crowdstrike/real-time-response/entities/admin-command/v1");
        var sent = JsonNode.Parse(command.Body)!.AsObject();
        Assert.Equal(("kill", "kill 4242", device, false),
            (sent["base_command"]!.GetValue<string>(), sent["command_string"]!.GetValue<string>(), sent["device_id"]!.GetValue<string>(), sent["persist"]!.GetValue<bool>()));
        Assert.False(string.IsNullOrEmpty(sent["session_id"]!.GetValue<string>()));
        var described = JsonNode.Parse(cs.Describe(new AdapterCall("kill_process", new JsonObject { ["device_id"] = device, ["pid"] = 4242 }, "k")).Body!)!.AsObject();
        described["session_id"] = sent["session_id"]!.GetValue<string>(); // known only once the session is open
        Assert.Equal(described.ToJsonString(), sent.ToJsonString());
        Assert.True(requests.Count(r => r.Method == "GET" && r.PathAndQuery.StartsWith("/crowdstrike/real-time-response/entities/admin-command/v1?cloud_request_id=", StringComparison.Ordinal)) >= 2);

        var again = await Run(cs, "kill_process", new JsonObject { ["device_id"] = device, ["pid"] = 4242 });
        Assert.False(again.Success);
        Assert.False(again.Retryable);
        Assert.Contains($"kill 4242 on device {device} failed: Could not find a process with PID 4242", again.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CrowdStrike_rtr_kill_fails_clearly_without_a_target_a_real_pid_or_a_known_device()
    {
        var cs = Adapter("crowdstrike", settings: Fast("crowdstrike"));
        var neither = await Run(cs, "kill_process", new JsonObject { ["pid"] = 4242 });
        Assert.False(neither.Retryable);
        Assert.Contains("kill_process needs hostname or device_id (neither was given); refused before any call", neither.Error, StringComparison.Ordinal);
        var injected = await Run(cs, "kill_process", new JsonObject { ["hostname"] = "WS-042", ["pid"] = "4242 & del C:\\Windows" });
        Assert.False(injected.Retryable);
        Assert.Contains("is not a process id (a positive whole number); refused before any call", injected.Error, StringComparison.Ordinal);
        Assert.Empty(_sim.State.Requests("crowdstrike")); // both refused before any call

        var unknown = await Run(cs, "kill_process", new JsonObject { ["device_id"] = "00000000000000000000000000000000", ["pid"] = 4242 });
        Assert.False(unknown.Success);
        Assert.False(unknown.Retryable);
        Assert.Contains("request refused (HTTP 404): no successful hosts initialized on RTR", unknown.Error, StringComparison.Ordinal);
        var noHost = await Run(cs, "kill_process", new JsonObject { ["hostname"] = "NOPE", ["pid"] = 4242 });
        Assert.False(noHost.Retryable);
        Assert.Contains("no device with hostname 'NOPE'", noHost.Error, StringComparison.Ordinal);
        Assert.DoesNotContain(_sim.State.Requests("crowdstrike"), r => r.PathAndQuery.Contains("admin-command", StringComparison.Ordinal)); // no command was sent
        Assert.All(_sim.State.Devices.Values, d => Assert.Equal(5, d.Processes.Count));
    }

    [Theory]
    [InlineData("L0", false)]
    [InlineData("L1", false)]
    [InlineData("L2", true)]
    public void Validator_refuses_kill_process_below_L2(string level, bool valid)
    {
        var yaml = $"""
            id: kill_beacon
            name: Kill the beacon process
            version: 1.0.0
            autonomy_level: L2
            trigger:
              techniques: [T1059.001]
            steps:
              - id: kill
                name: Kill
                action_type: kill_process
                adapter: crowdstrike
                autonomy_level: {level}
                params:
                  hostname: WS-042
                  pid: 4242
            """;
        var result = PlaybookLoader.Parse(yaml, "kill.yaml");
        if (valid)
        {
            Assert.True(result.Ok, string.Join("\n", result.Errors));
            return;
        }
        Assert.False(result.Ok);
        var error = Assert.Single(result.Errors, e => e.Message.Contains("crowdstrike.kill_process must be L2 at least", StringComparison.Ordinal));
        Assert.Equal("steps[0].autonomy_level", error.Path);
        Assert.Contains("cannot be undone", error.Message, StringComparison.Ordinal);
        Assert.Contains("steps must be L2", AdapterCatalog.BuiltIn.Find("crowdstrike")!.Find("kill_process")!.Description, StringComparison.Ordinal);
    }

    // ---- PAN-OS security rules ---------------------------------------------------------------------------------------

    [Fact]
    public async Task PanOs_add_rule_commits_the_rule_and_delete_rule_with_its_undo_removes_it()
    {
        var pan = Adapter("paloalto", settings: Fast("paloalto"));
        const string Name = "rbp-deny-203.0.113.9";
        var rule = new JsonObject
        {
            ["rule_name"] = Name, ["source"] = "203.0.113.9", ["from_zone"] = "untrust", ["to_zone"] = "trust", ["destination"] = "10.20.0.0/16",
            ["application"] = new JsonArray("ssl", "web-browsing"), ["service"] = "service-https", ["rule_action"] = "drop",
            ["description"] = "C2 <case 4711> & \"quoted\"</description><action>allow</action>",
        };
        var added = await Run(pan, "add_rule", rule);
        Assert.True(added.Success, added.Error);
        Assert.True(added.Output!["committed"]!.GetValue<bool>());
        Assert.Equal($$"""{"rule_name":"{{Name}}"}""", added.Undo!.ToJsonString());

        // committed: in the running configuration, with every parameter where PAN-OS keeps it, and served by /_admin/state
        var running = _sim.State.Running.Rule(Name);
        Assert.NotNull(running);
        string Members(string list) => string.Join(",", running!.Members[list]);
        Assert.Equal(("untrust", "trust", "203.0.113.9", "10.20.0.0/16", "ssl,web-browsing", "service-https"),
            (Members("from"), Members("to"), Members("source"), Members("destination"), Members("application"), Members("service")));
        Assert.Equal("drop", running.Action); // a value cannot add an element: the description stays text
        Assert.Equal("C2 <case 4711> & \"quoted\"</description><action>allow</action>", running.Description);
        Assert.NotNull((await StateAsync())["paloalto_running_config"]!["security_rules"]![Name]);
        var described = pan.Describe(new AdapterCall("add_rule", rule, "k"));
        Assert.Contains(_sim.State.Requests("paloalto"), r => r.Body == described.Body && r.Headers["X-PAN-KEY"] == Env("RBPILOT_SIM_PANOS_KEY"));
        Assert.Contains(_sim.State.Requests("paloalto"), r => r.Body.StartsWith("type=commit", StringComparison.Ordinal));
        Assert.Contains(_sim.State.Requests("paloalto"), r => r.Body.Contains("jobs", StringComparison.Ordinal)); // the commit job was polled

        var retry = await Run(pan, "add_rule", rule); // set merges: the same rule, nothing to commit
        Assert.True(retry.Success, retry.Error);
        Assert.False(retry.Output!["committed"]!.GetValue<bool>());
        Assert.Single(_sim.State.Running.Rules);

        var deleted = await Run(pan, "delete_rule", (JsonObject)added.Undo!.DeepClone(), key: "rbp-ex-14-s1-rollback");
        Assert.True(deleted.Success, deleted.Error);
        Assert.True(deleted.Output!["committed"]!.GetValue<bool>());
        Assert.Null(_sim.State.Running.Rule(Name));
        Assert.Equal("{}", await StatePart("paloalto_running_config.security_rules"));
        var again = await Run(pan, "delete_rule", new JsonObject { ["rule_name"] = Name });
        Assert.True(again.Success, again.Error); // already gone: success, nothing to commit
        Assert.False(again.Output!["committed"]!.GetValue<bool>());
    }

    [Theory]
    [InlineData("add_rule", "", "203.0.113.9", "deny", "rule_name '' is not a PAN-OS rule name")]
    [InlineData("add_rule", "-leading-hyphen", "203.0.113.9", "deny", "is not a PAN-OS rule name")]
    [InlineData("add_rule", "x']/../entry[@name='y", "203.0.113.9", "deny", "is not a PAN-OS rule name")]
    [InlineData("add_rule", "rbp-sixty-four-characters-is-one-more-than-pan-os-allows-for-oki", "203.0.113.9", "deny", "is not a PAN-OS rule name")]
    [InlineData("add_rule", "new\nline", "203.0.113.9", "deny", "is not a PAN-OS rule name")]
    [InlineData("delete_rule", "semi;colon", "", "", "rule_name 'semi;colon' is not a PAN-OS rule name")]
    [InlineData("add_rule", "rbp-ok", "any", "deny", "source 'any' is not an IP address or CIDR network")]
    [InlineData("add_rule", "rbp-ok", "203.0.113.9", "permit", "rule_action 'permit' is not one of deny, drop, reset-client, allow")]
    public async Task PanOs_rule_calls_with_an_invalid_name_source_or_action_are_refused_before_any_call(string action, string ruleName, string source, string ruleAction, string expected)
    {
        var parameters = new JsonObject { ["rule_name"] = ruleName };
        if (action == "add_rule")
        {
            parameters["source"] = source;
            parameters["rule_action"] = ruleAction;
        }
        var result = await Run(Adapter("paloalto", settings: Fast("paloalto")), action, parameters);
        Assert.False(result.Success);
        Assert.False(result.Retryable);
        Assert.Contains(expected, result.Error, StringComparison.Ordinal);
        Assert.EndsWith("; refused before any call", result.Error, StringComparison.Ordinal);
        Assert.Empty(_sim.State.Requests("paloalto"));
        Assert.Empty(_sim.State.Candidate.Rules);
    }

    [Theory]
    [InlineData("paloalto", "11.1.2")]
    [InlineData("crowdstrike", "not reported")]
    public async Task Health_checks_of_the_extended_adapters_change_nothing(string vendor, string version)
    {
        var health = await ((IHealthCheck)Adapter(vendor)).CheckHealthAsync(default);
        Assert.True(health.Healthy, health.Error);
        Assert.True(health.Authenticated);
        Assert.Equal(version, health.ApiVersion);
        Assert.Empty(_sim.State.Running.Rules);
        Assert.All(_sim.State.Devices.Values, d => Assert.Equal(5, d.Processes.Count));
        Assert.DoesNotContain(_sim.State.Requests(vendor), r => r.PathAndQuery.Contains("real-time-response", StringComparison.Ordinal) || r.Body.Contains("rulebase", StringComparison.Ordinal));
    }

    // ---- every reversible action: the inverse with only the forward result's undo parameters -----------------------

    [Theory]
    [InlineData("paloalto", "dag", "block_ip", """{"ip":"203.0.113.61"}""", "paloalto.registered_ips")]
    [InlineData("paloalto", "address_group", "block_ip", """{"ip":"203.0.113.62"}""", "paloalto_running_config")]
    [InlineData("paloalto", "dag", "add_rule", """{"rule_name":"rbp-roundtrip","source":"203.0.113.63/32","rule_action":"deny"}""", "paloalto_running_config")]
    [InlineData("crowdstrike", "", "isolate_host", """{"hostname":"WS-1"}""", "crowdstrike.devices")]
    [InlineData("pagerduty", "", "trigger_incident", """{"summary":"Beacon from WS-1","severity":"error"}""", "pagerduty.open")]
    public async Task Inverse_called_with_only_the_forward_results_undo_restores_the_vendor_state(string vendor, string mode, string action, string json, string part)
    {
        if (mode == "address_group") SeedBlocklistGroup();
        var adapter = Adapter(vendor, settings: vendor == "pagerduty" ? null : Fast(vendor, mode.Length > 0 ? mode : null));
        var before = await StatePart(part);

        var forward = await Run(adapter, action, (JsonObject)JsonNode.Parse(json)!, key: "rbp-ex-14-fwd");
        Assert.True(forward.Success, forward.Error);
        Assert.NotEqual(before, await StatePart(part)); // the forward call changed the vendor
        Assert.NotNull(forward.Undo);

        // nothing from the alert or the playbook: only what the forward call recorded
        var inverse = AdapterCatalog.BuiltIn.Find(vendor)!.Find(action)!.Inverse!;
        var undone = await Run(adapter, inverse, (JsonObject)forward.Undo!.DeepClone(), key: "rbp-ex-14-fwd-rollback");
        Assert.True(undone.Success, undone.Error);
        Assert.Equal(before, await StatePart(part));
    }

    [Fact]
    public void Effects_of_rules_and_pages_are_named_by_the_rule_and_the_dedup_key()
    {
        var pan = AdapterCatalog.BuiltIn.Find("paloalto");
        var rule = EffectKey.For(pan, "add_rule", new JsonObject { ["rule_name"] = "rbp-deny-1", ["source"] = "203.0.113.9" });
        Assert.Equal(new EffectKey("paloalto", "add_rule", "rbp-deny-1"), rule);
        Assert.Equal(rule, EffectKey.For(pan, "delete_rule", new JsonObject { ["rule_name"] = "rbp-deny-1", ["source"] = "203.0.113.9" }));
        var pd = AdapterCatalog.BuiltIn.Find("pagerduty");
        Assert.Equal(new EffectKey("pagerduty", "trigger_incident", "shared-key"), EffectKey.For(pd, "trigger_incident", new JsonObject { ["summary"] = "s", ["severity"] = "info", ["dedup_key"] = "shared-key" }));
        Assert.Null(EffectKey.For(pd, "trigger_incident", new JsonObject { ["summary"] = "s", ["severity"] = "info" })); // its own alert: nothing shares it
    }
}
