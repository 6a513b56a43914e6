using System.Text.Json;
using RunbookPilot.Cli;
using RunbookPilot.Domain.Adapters;
using RunbookPilot.Engine.Adapters;
using RunbookPilot.Engine.Hosting;
using RunbookPilot.Engine.Tests;
using RunbookPilot.Engine.Tests.Execution;
using RunbookPilot.Engine.Configuration;
using RunbookPilot.Cli.Backends;

namespace RunbookPilot.Cli.Tests;

/// <summary>
/// The engine commands end to end, in-process, over a real SQLite file: execute from standard input, list, approve,
/// show, rollback, simulations, bulk approval and the database lock. Steps run through test adapters (the adapter
/// contract; the vendor adapters come with their own issue).
/// </summary>
public sealed class EngineCliTests : IDisposable
{
    private readonly TempDir _dir = new();
    private readonly Dictionary<string, TestAdapter> _adapters = AdapterCatalog.BuiltIn.Adapters.ToDictionary(a => a.Name, a => TestAdapter.For(a.Name));

    public EngineCliTests()
    {
        foreach (var file in Directory.GetFiles(Path.Combine(RepoRoot, "playbooks"), "*.yaml"))
            _dir.Write("playbooks/" + Path.GetFileName(file), File.ReadAllText(file));
        foreach (var file in Directory.GetFiles(Path.Combine(RepoRoot, "playbooks", "sigma")))
            _dir.Write("playbooks/sigma/" + Path.GetFileName(file), File.ReadAllText(file));
        _adapters["crowdstrike"].Devices["dev-1"] = "WS-1"; // the EDR knows the alert's device
    }

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    private static string RepoRoot => Repo.Root;

    private const string Lateral = """{"event":{"id":"evt-1","category":["intrusion_detection"],"severity":"high"},"source":{"ip":"203.0.113.7","host":{"name":"WS-1","id":"dev-1"}},"destination":{"ip":"10.0.3.12"},"threat":{"tactic":{"name":"Lateral Movement"},"technique":{"id":"T1021","subtechnique":{"id":"T1021.001"}}}}""";

    private Task<(int Code, string Out, string Err)> Run(string? stdin, params string[] args) => Run(true, stdin, args);

    /// <summary>Runs the CLI in-process; <paramref name="testAdapters"/> false runs it as a user would, in demo mode against the vendor simulators.</summary>
    private async Task<(int Code, string Out, string Err)> Run(bool testAdapters, string? stdin, params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var all = args.Concat(["--db", Path.Combine(_dir.Path, "data", "rbp.db"), "--playbooks", Path.Combine(_dir.Path, "playbooks")])
            .Concat(testAdapters ? [] : ["--demo"]).ToArray();
        var services = new CliServices(testAdapters ? _adapters.Values.ToList() : [], () => new StringReader(stdin ?? "")) { Environment = TestAudit.Environment };
        var code = await CliApp.RunAsync(all, output, error, services);
        return (code, output.ToString(), error.ToString());
    }

    private async Task<JsonElement> Json(string? stdin, params string[] args)
    {
        var (code, output, error) = await Run(stdin, [.. args, "--output", "json"]);
        Assert.True(code is 0 or 1, error);
        return JsonDocument.Parse(output).RootElement.Clone();
    }

    [Theory]
    [InlineData("[]")]
    [InlineData("42")]
    [InlineData("null")]
    [InlineData("\"an alert\"")]
    public async Task Execute_refuses_input_that_is_not_an_alert_batch_and_submits_nothing(string input)
    {
        var (code, output, error) = await Run(input, "execute");
        Assert.Equal(1, code);
        Assert.Contains("expected one ECS alert object or a non-empty array of them; nothing was submitted", error, StringComparison.Ordinal);
        Assert.Equal("", output.Trim());
    }

    [Fact]
    public async Task Execute_reports_malformed_lines_by_number_and_runs_the_rest()
    {
        var input = Lateral + "\n{not json\n\n" + Lateral.Replace("evt-1", "evt-2", StringComparison.Ordinal) + "\n";
        var (code, output, error) = await Run(input, "execute");
        Assert.Equal(1, code);
        Assert.StartsWith("line 2: ", error, StringComparison.Ordinal);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, lines.Length);
        Assert.Contains("lateral_movement_L1", lines[1], StringComparison.Ordinal);
        Assert.EndsWith("waiting_approval", lines[1].TrimEnd(), StringComparison.Ordinal);
        Assert.StartsWith("4 ", lines[2], StringComparison.Ordinal);

        var executions = (await Json(null, "list-executions")).GetProperty("executions");
        Assert.Equal(2, executions.GetArrayLength());
        Assert.All(executions.EnumerateArray(), e => Assert.Equal("waiting_approval", e.GetProperty("status").GetString()));
    }

    [Fact]
    public async Task Execute_accepts_one_pretty_printed_alert_and_records_no_match()
    {
        var pretty = JsonSerializer.Serialize(JsonDocument.Parse(Lateral).RootElement, Indented);
        var result = await Json(pretty, "execute");
        Assert.Equal("evt-1", result.GetProperty("alerts")[0].GetProperty("alert_id").GetString());
        var none = await Json("""{"event":{"id":"quiet"},"message":"nothing to see"}""", "execute");
        Assert.Equal(0, none.GetProperty("alerts")[0].GetProperty("executions").GetArrayLength());
        var again = await Json(Lateral, "execute");
        Assert.True(again.GetProperty("alerts")[0].GetProperty("duplicate").GetBoolean());
    }

    [Fact]
    public async Task L1_halts_then_approve_resumes_show_has_the_timeline_and_rollback_reverses_it()
    {
        var executed = await Json(Lateral, "execute");
        var id = executed.GetProperty("alerts")[0].GetProperty("executions")[0].GetProperty("execution_id").GetString()!;

        var pending = (await Json(null, "list-approvals")).GetProperty("approvals");
        var approval = Assert.Single(pending.EnumerateArray());
        Assert.Equal("step_3", approval.GetProperty("step_id").GetString());
        Assert.Equal("paloalto.block_ip", approval.GetProperty("action").GetString());
        Assert.Contains("203.0.113.7", approval.GetProperty("request").GetProperty("body").GetString(), StringComparison.Ordinal);
        Assert.Empty(_adapters["paloalto"].Calls);

        var approved = await Json(null, "approve", id, "--as", "alice", "--comment", "confirmed");
        Assert.Equal("ok", approved.GetProperty("results")[0].GetProperty("code").GetString());
        Assert.True(_adapters["paloalto"].Applied.ContainsKey("203.0.113.7"));
        // step_4 (L2) was simulated, step_5 (L1 ticket) now waits
        Assert.Equal("waiting_approval", approved.GetProperty("results")[0].GetProperty("execution_status").GetString());
        Assert.Empty(_adapters["crowdstrike"].Calls);

        var (code, show, _) = await Run(null, "show", id);
        Assert.Equal(0, code);
        Assert.Contains("approved by alice: \"confirmed\"", show, StringComparison.Ordinal);
        Assert.Contains("DRY_RUN: crowdstrike.isolate_host simulated, nothing called", show, StringComparison.Ordinal);

        var rolledBack = await Json(null, "rollback", id, "--as", "alice");
        Assert.Equal("ok", rolledBack.GetProperty("results")[0].GetProperty("code").GetString());
        Assert.False(_adapters["paloalto"].Applied.ContainsKey("203.0.113.7"));
        var timeline = (await Json(null, "show", id)).GetProperty("timeline").EnumerateArray().Select(t => t.GetProperty("kind").GetString()).ToList();
        Assert.Contains("step_rolled_back", timeline);
    }

    [Fact]
    public async Task Execute_dry_run_records_every_request_and_sends_none_and_the_real_alert_still_runs()
    {
        await File.WriteAllTextAsync(Path.Combine(_dir.Path, "playbooks", "global_policy.yaml"), "auto_approve:\n  playbooks: [lateral_movement_L1]\n");
        var dry = await Json(Lateral, "execute", "--dry-run");
        var execution = dry.GetProperty("alerts")[0].GetProperty("executions")[0];
        Assert.Equal("completed", execution.GetProperty("status").GetString());
        Assert.StartsWith("evt-1~dry-", dry.GetProperty("alerts")[0].GetProperty("alert_id").GetString(), StringComparison.Ordinal);
        Assert.All(_adapters.Values, a => Assert.Empty(a.Calls)); // nothing reached any adapter, read-only lookups included
        var timeline = (await Json(null, "show", execution.GetProperty("execution_id").GetString()!)).GetProperty("timeline").EnumerateArray()
            .Where(t => t.GetProperty("kind").GetString() == "step_succeeded").ToList();
        Assert.NotEmpty(timeline);
        Assert.All(timeline, t => Assert.True(t.GetProperty("response").GetProperty("dry_run").GetBoolean()));

        var real = await Json(Lateral, "execute");
        Assert.False(real.GetProperty("alerts")[0].GetProperty("duplicate").GetBoolean());
        Assert.NotEmpty(_adapters["paloalto"].Calls); // auto-approved block: the real run reaches the firewall
    }

    [Fact]
    public async Task Simulation_can_be_listed_and_executed_as_an_approval()
    {
        var id = (await Json(Lateral, "execute")).GetProperty("alerts")[0].GetProperty("executions")[0].GetProperty("execution_id").GetString()!;
        await Json(null, "approve", id, "--as", "alice");
        var sims = (await Json(null, "list-simulations", "--status", "simulated")).GetProperty("simulations");
        var sim = Assert.Single(sims.EnumerateArray());
        Assert.Equal("DRY_RUN", sim.GetProperty("label").GetString());
        Assert.InRange(sim.GetProperty("risk_score").GetInt32(), 1, 10);
        Assert.NotEmpty(sim.GetProperty("risk_factors").EnumerateArray());

        var executed = await Json(null, "execute-simulation", sim.GetProperty("simulation_id").GetString()!, "--as", "carol");
        Assert.Equal("ok", executed.GetProperty("results")[0].GetProperty("code").GetString());
        Assert.True(_adapters["crowdstrike"].Applied.ContainsKey("WS-1") || _adapters["crowdstrike"].Applied.ContainsKey("dev-1"));
        Assert.Equal("executed", (await Json(null, "list-simulations")).GetProperty("simulations")[0].GetProperty("status").GetString());
    }

    [Fact]
    public async Task Approve_all_pending_of_a_playbook()
    {
        var input = string.Join('\n', Enumerable.Range(1, 3).Select(i => Lateral.Replace("evt-1", $"evt-{i}", StringComparison.Ordinal).Replace("203.0.113.7", $"198.51.100.{i}", StringComparison.Ordinal)));
        await Run(input, "execute");
        var result = await Json(null, "approve", "--all-pending", "--playbook", "lateral_movement_L1", "--as", "alice");
        Assert.Equal(3, result.GetProperty("results").GetArrayLength());
        Assert.Equal(3, _adapters["paloalto"].Applied.Count);
        var none = await Json(null, "approve", "--all-pending", "--playbook", "c2_beaconing_L2");
        Assert.Equal(0, none.GetProperty("results").GetArrayLength());
    }

    [Fact]
    public async Task Reject_and_a_second_answer()
    {
        var id = (await Json(Lateral, "execute")).GetProperty("alerts")[0].GetProperty("executions")[0].GetProperty("execution_id").GetString()!;
        var rejected = await Json(null, "reject", id, "--as", "bob", "--comment", "pentest");
        Assert.Equal("rejected", rejected.GetProperty("results")[0].GetProperty("execution_status").GetString());
        var (code, output, _) = await Run(null, "approve", id, "--step", "step_3");
        Assert.Equal(0, code);
        Assert.Contains("was already rejected", output, StringComparison.Ordinal);
        Assert.Empty(_adapters["paloalto"].Calls);
        Assert.Equal("rejected", (await Json(null, "list-approvals", "--status", "all")).GetProperty("approvals")[0].GetProperty("status").GetString());
    }

    [Fact]
    public async Task Unknown_execution_and_bad_arguments()
    {
        var (code, output, _) = await Run(null, "approve", "ex-nope");
        Assert.Equal(1, code);
        Assert.Contains("does not exist", output, StringComparison.Ordinal);
        Assert.Equal(2, (await Run(null, "approve")).Code);
        Assert.Equal(1, (await Run(null, "show", "ex-nope")).Code);
        Assert.Equal(1, (await Run("", "execute")).Code);
    }

    [Fact]
    public async Task Demo_mode_runs_the_reference_playbook_against_the_vendor_simulators_and_rollback_restores_their_state()
    {
        var (code, output, error) = await Run(false, Lateral, "execute", "--output", "json");
        Assert.Equal(0, code);
        Assert.Contains("DEMO MODE: abuseipdb, crowdstrike, http, jira, misp, pagerduty, paloalto, splunk, virustotal not configured", error, StringComparison.Ordinal);
        var id = JsonDocument.Parse(output).RootElement.GetProperty("alerts")[0].GetProperty("executions")[0].GetProperty("execution_id").GetString()!;
        var show = JsonDocument.Parse((await Run(false, null, "show", id, "--output", "json")).Out).RootElement;
        var vt = show.GetProperty("timeline").EnumerateArray().First(t => t.GetProperty("step_id").GetString() == "step_1" && t.GetProperty("kind").GetString() == "step_succeeded");
        Assert.Equal(7, vt.GetProperty("response").GetProperty("malicious").GetInt32()); // the simulator's verdict for 203.0.113.0/24
        Assert.Equal("***", vt.GetProperty("request").GetProperty("headers").GetProperty("x-apikey").GetString());

        await Run(false, null, "approve", id, "--as", "alice");
        var state = Path.Combine(_dir.Path, "data", "vendorsim-state.json");
        Assert.Contains("203.0.113.7", JsonDocument.Parse(await File.ReadAllTextAsync(state)).RootElement.GetProperty("paloalto").GetProperty("registered_ips").ToString(), StringComparison.Ordinal);

        await Run(false, null, "rollback", id, "--as", "alice");
        Assert.DoesNotContain("203.0.113.7", JsonDocument.Parse(await File.ReadAllTextAsync(state)).RootElement.GetProperty("paloalto").GetProperty("registered_ips").ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Audit_trail_is_append_only_chained_and_verifiable_and_rebuilds_from_the_journal()
    {
        var id = (await Json(Lateral, "execute")).GetProperty("alerts")[0].GetProperty("executions")[0].GetProperty("execution_id").GetString()!;
        await Json(null, "approve", id, "--as", "alice");
        var db = Path.Combine(_dir.Path, "data", "rbp.db");
        async Task<(int, string)> Verify(params string[] extra)
        {
            var output = new StringWriter();
            var code = await CliApp.RunAsync(["audit", "verify", "--db", db, .. extra], output, new StringWriter(), CliServices.Default with { Environment = TestAudit.Environment });
            return (code, output.ToString());
        }
        var (ok, okOut) = await Verify();
        Assert.Equal(0, ok);
        Assert.StartsWith("audit chain intact: ", okOut, StringComparison.Ordinal);

        await using (var c = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={db}"))
        {
            await c.OpenAsync();
            await using var update = c.CreateCommand();
            update.CommandText = "UPDATE execution_log SET detail = 'approved by mallory' WHERE kind = 'step_approved'";
            var refused = await Assert.ThrowsAsync<Microsoft.Data.Sqlite.SqliteException>(() => update.ExecuteNonQueryAsync());
            Assert.Contains("append-only", refused.Message, StringComparison.Ordinal);
            update.CommandText = "DELETE FROM execution_log";
            await Assert.ThrowsAsync<Microsoft.Data.Sqlite.SqliteException>(() => update.ExecuteNonQueryAsync());

            // Someone with write access to the file drops the triggers and rewrites history: the chain shows where.
            update.CommandText = "DROP TRIGGER execution_log_no_update; UPDATE execution_log SET detail = 'approved by mallory' WHERE kind = 'step_approved'";
            await update.ExecuteNonQueryAsync();
        }
        var (broken, brokenOut) = await Verify("--output", "json");
        Assert.Equal(1, broken);
        var report = JsonDocument.Parse(brokenOut).RootElement;
        Assert.False(report.GetProperty("ok").GetBoolean());
        Assert.Equal(id, report.GetProperty("execution_id").GetString());
        Assert.Contains("was altered", report.GetProperty("message").GetString(), StringComparison.Ordinal);

        var (rebuilt, rebuiltOut, _) = await Run(null, "admin", "rebuild-read-model");
        Assert.Equal(0, rebuilt);
        Assert.Contains("audit chain intact", rebuiltOut, StringComparison.Ordinal);
        Assert.Contains("approved by alice", (await Run(null, "show", id)).Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_second_process_is_told_which_process_holds_the_database()
    {
        using var held = DatabaseLock.Acquire(new RunbookPilotOptions { Database = Path.Combine(_dir.Path, "data", "rbp.db") }, "runbookpilot server");
        var (code, _, error) = await Run(null, "list-executions");
        Assert.Equal(1, code);
        Assert.Contains($"is in use by process {Environment.ProcessId} (runbookpilot server", error, StringComparison.Ordinal);
    }

    public void Dispose() => _dir.Dispose();
}
