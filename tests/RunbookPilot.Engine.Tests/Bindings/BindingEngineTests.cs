using RunbookPilot.Domain.Bindings;
using RunbookPilot.Domain.Execution;
using RunbookPilot.Engine.Execution;
using RunbookPilot.Domain.Intake;
using RunbookPilot.Engine.Ingestion;
using RunbookPilot.Engine.Tests.Execution;

namespace RunbookPilot.Engine.Tests.Bindings;

/// <summary>Bindings inside the real engine (SQLite file, fake clock): runs, concurrency release, restarts, kill switch.</summary>
public class BindingEngineTests
{
    /// <summary>A lookup (L0), then a block (L1, waits for approval).</summary>
    private const string Contain = """
        id: contain
        name: Contain
        version: 1.0.0
        autonomy_level: L1
        trigger:
          techniques: [T1110]
        steps:
          - id: lookup
            name: Lookup
            action_type: lookup_ip
            adapter: virustotal
            autonomy_level: L0
            params: { ip: "{{source.ip}}" }
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

    private static int _n;

    private static string AlertJson(string ip = "203.0.113.9") =>
        "{\"event\":{\"id\":\"bind-" + Interlocked.Increment(ref _n) + "\"},\"rule\":{\"id\":\"brute-force\"},\"source\":{\"ip\":\"" + ip
        + "\"},\"threat\":{\"technique\":{\"id\":\"T1110\"}}}";

    private static async Task<PlaybookBinding> BindAsync(EngineFixture f, BindingMode mode, GuardrailSpec guardrails)
    {
        var result = await f.Engine.Bindings.SaveAsync(new BindingSpec
        {
            PlaybookId = "contain", Mode = mode, Match = new BindingMatch { RuleIds = ["brute-force"] }, Guardrails = guardrails,
        }, "alice");
        Assert.Empty(result.Problems);
        return result.Binding!;
    }

    private static async Task<BindingView> ViewAsync(EngineFixture f, int id) => (await f.Engine.Bindings.ListAsync()).Bindings.Single(b => b.Binding.Id == id);

    /// <summary>Waits until the intake has journaled the run's end (actor work, not a timer: the clock is fake).</summary>
    private static async Task WaitInFlightAsync(EngineFixture f, int id, int expected)
    {
        for (var i = 0; i < 400 && (await ViewAsync(f, id)).InFlight != expected; i++) await Task.Delay(25);
        Assert.Equal(expected, (await ViewAsync(f, id)).InFlight);
    }

    private static BindingDecision Decision(AlertAccepted accepted) => Assert.Single(accepted.Decisions!);

    [Fact]
    public async Task Auto_run_keeps_the_autonomy_contract_and_dry_run_changes_nothing_outside()
    {
        await using var f = await new EngineFixture(Contain).StartAsync();
        var auto = await BindAsync(f, BindingMode.AutoRun, new GuardrailSpec());
        var ran = Decision(await f.SubmitAsync(AlertJson()));
        Assert.Equal(BindingDecisionKind.Ran, ran.Decision);
        Assert.Equal("waiting_approval", (await f.Engine.Executions.WaitSettledAsync(ran.ExecutionId!, TimeSpan.FromSeconds(20))).State.Status); // L1 still waits

        await f.Engine.Bindings.SaveAsync(auto.Spec with { Mode = BindingMode.DryRun }, "bob");
        var dry = Decision(await f.SubmitAsync(AlertJson("198.51.100.4")));
        Assert.Equal(BindingDecisionKind.DryRan, dry.Decision);
        var state = (await f.Engine.Executions.WaitSettledAsync(dry.ExecutionId!, TimeSpan.FromSeconds(20))).State;
        Assert.Equal(ExecutionOutcome.Completed, state.Outcome);
        Assert.True(state.DryRun);
        Assert.True(f.Adapters["paloalto"].Calls.Where(c => c.Parameters["ip"]!.GetValue<string>() == "198.51.100.4").All(c => c.DryRun));
        Assert.DoesNotContain("198.51.100.4", f.Adapters["paloalto"].Applied.Keys);
        Assert.False((await f.Engine.Executions.SendAsync(new RequestRollback(dry.ExecutionId!, null, "bob", null))).Ok);

        await f.Engine.Bindings.SaveAsync(auto.Spec with { Mode = BindingMode.Suggest }, "bob");
        var suggested = await f.SubmitAsync(AlertJson("198.51.100.5"));
        Assert.Equal(BindingDecisionKind.Suggested, Decision(suggested).Decision);
        Assert.Empty(suggested.Selected);
    }

    public static TheoryData<string> Terminal => new() { "completed", "failed", "rejected", "expired", "refused" };

    [Theory]
    [MemberData(nameof(Terminal))]
    public async Task A_concurrency_slot_is_released_on_every_terminal_state(string outcome)
    {
        await using var f = await new EngineFixture(Contain).StartAsync();
        if (outcome == "refused") f.WritePolicy("allow_list:\n  ips: [192.0.2.1]\n");
        if (outcome == "refused") f.Engine.Reload();
        var binding = await BindAsync(f, BindingMode.AutoRun, new GuardrailSpec { MaxConcurrent = 1 });
        if (outcome == "failed") f.Adapters["virustotal"].ThenFail("HTTP 400 Bad Request", retryable: false);
        var first = Decision(await f.SubmitAsync(AlertJson(outcome == "refused" ? "192.0.2.1" : "203.0.113.9")));
        Assert.Equal(BindingDecisionKind.Ran, first.Decision);
        var settled = (await f.Engine.Executions.WaitSettledAsync(first.ExecutionId!, TimeSpan.FromSeconds(20))).State;

        switch (outcome)
        {
            case "completed":
                Assert.Equal(BindingDecisionKind.SkippedConcurrency, Decision(await f.SubmitAsync(AlertJson())).Decision);
                Assert.True((await f.Engine.Executions.SendAsync(new ApproveStep(first.ExecutionId!, null, "bob", null))).Ok);
                break;
            case "rejected":
                Assert.True((await f.Engine.Executions.SendAsync(new RejectStep(first.ExecutionId!, null, "bob", "false positive"))).Ok);
                break;
            case "expired":
                f.Clock.Advance(TimeSpan.FromHours(4) + TimeSpan.FromSeconds(1));
                break;
            default: // failed, refused: already finished
                Assert.True(settled.Finished);
                break;
        }
        var final = (await f.Engine.Executions.WaitSettledAsync(first.ExecutionId!, TimeSpan.FromSeconds(20))).State;
        for (var i = 0; i < 200 && !final.Finished; i++)
        {
            await Task.Delay(25);
            final = (await f.Engine.Executions.GetAsync(first.ExecutionId!)).State;
        }
        Assert.Equal(outcome, final.Status);
        await WaitInFlightAsync(f, binding.Id, 0);
        Assert.Equal(BindingDecisionKind.Ran, Decision(await f.SubmitAsync(AlertJson())).Decision);
    }

    [Fact]
    public async Task Quota_running_count_and_open_circuits_survive_a_restart()
    {
        await using var f = await new EngineFixture(Contain).StartAsync();
        var binding = await BindAsync(f, BindingMode.AutoRun, new GuardrailSpec { MaxConcurrent = 2, DailyQuota = 3 });
        for (var i = 0; i < 2; i++) Assert.Equal(BindingDecisionKind.Ran, Decision(await f.SubmitAsync(AlertJson())).Decision);
        Assert.Equal(BindingDecisionKind.SkippedConcurrency, Decision(await f.SubmitAsync(AlertJson())).Decision);
        var paused = await f.Engine.Bindings.PauseAsync(PauseScope.Playbook, "other-playbook-not-loaded", true, "bob", null);
        Assert.False(paused.Ok);

        await f.RestartAsync();
        var view = await ViewAsync(f, binding.Id);
        Assert.Equal((2, 1), (view.InFlight, view.QuotaRemaining));
        Assert.Equal(BindingDecisionKind.SkippedConcurrency, Decision(await f.SubmitAsync(AlertJson())).Decision);

        await f.Engine.Read.CatchUpAsync();
        var usage = Assert.Single(f.Engine.Queries.BindingUsage(binding.Id));
        Assert.Equal((2, 2), (usage.InFlight, usage.QuotaUsed));
    }

    [Fact]
    public async Task The_kill_switch_holds_alerts_across_a_restart_and_runs_them_on_resume()
    {
        await using var f = await new EngineFixture(Contain).StartAsync(); // no binding: the implicit binding runs 'contain'
        Assert.True((await f.Engine.Bindings.PauseAsync(PauseScope.Global, "", true, "bob", "incident bridge")).Ok);
        var held = await f.SubmitAsync(AlertJson());
        Assert.Equal(BindingDecisionKind.Held, Decision(held).Decision);
        Assert.Empty(held.Selected);

        await f.RestartAsync();
        var view = await f.Engine.Bindings.ListAsync();
        Assert.Equal(1, view.HeldAlerts);
        Assert.Equal("incident bridge", Assert.Single(view.Pauses).Reason);

        var resumed = await f.Engine.Bindings.PauseAsync(PauseScope.Global, "", false, "bob", null);
        Assert.Equal(1, resumed.Released);
        Assert.Equal(0, (await f.Engine.Bindings.ListAsync()).HeldAlerts);
        var execution = BindingBook.ExecutionIdFor(held.AlertId, "contain");
        Assert.Equal("waiting_approval", (await f.Engine.Executions.WaitSettledAsync(execution, TimeSpan.FromSeconds(20))).State.Status);
        await f.Engine.Read.CatchUpAsync();
        Assert.Equal(["held", "ran"], f.Engine.Queries.RunAudit(held.AlertId).Select(r => r.Decision));
    }

    /// <summary>Waits until the intake has saved a snapshot newer than <paramref name="sequenceNr"/> (it is written asynchronously).</summary>
    private static async Task<long> SnapshotAfterAsync(EngineFixture f, long sequenceNr)
    {
        for (var i = 0; ; i++)
        {
            using (var db = new Microsoft.Data.Sqlite.SqliteConnection(f.Options.ConnectionString))
            {
                db.Open();
                using var query = db.CreateCommand();
                query.CommandText = "SELECT COALESCE(MAX(sequence_number), 0) FROM snapshot WHERE persistence_id = 'alert-intake'";
                if ((long)query.ExecuteScalar()! is var latest && latest > sequenceNr) return latest;
            }
            Assert.True(i < 1200, "no intake snapshot was saved"); // 30 s: a loaded machine writes slowly
            await Task.Delay(25);
        }
    }

    private static async Task<(long Seq, string Text)> LatestSnapshotAsync(EngineFixture f)
    {
        await using var db = new Microsoft.Data.Sqlite.SqliteConnection(f.Options.ConnectionString);
        await db.OpenAsync();
        await using var query = db.CreateCommand();
        query.CommandText = "SELECT sequence_number, snapshot FROM snapshot WHERE persistence_id = 'alert-intake' ORDER BY sequence_number DESC LIMIT 1";
        await using var reader = await query.ExecuteReaderAsync();
        return await reader.ReadAsync() ? (reader.GetInt64(0), System.Text.Encoding.UTF8.GetString((byte[])reader[1])) : (0, "");
    }

    [Fact]
    public async Task The_intake_recovers_from_its_snapshot_and_forgets_alert_ids_after_the_dedupe_window()
    {
        await using var f = new EngineFixture(Contain);
        f.Options = f.Options with { IntakeSnapshotEvery = 3, DedupeWindow = TimeSpan.FromDays(1) };
        await f.StartAsync();
        var binding = await BindAsync(f, BindingMode.AutoRun, new GuardrailSpec { MaxConcurrent = 5, DailyQuota = 10, Circuit = new CircuitSpec { Trips = 1, Window = TimeSpan.FromMinutes(5) } });
        var first = AlertJson();
        for (var i = 0; i < 4; i++) Assert.Equal(BindingDecisionKind.Ran, Decision(await f.SubmitAsync(i == 0 ? first : AlertJson())).Decision);
        await f.Engine.Bindings.PauseAsync(PauseScope.Playbook, "contain", true, "bob", "freeze");
        var held = await f.SubmitAsync(AlertJson());
        Assert.Equal(BindingDecisionKind.Held, Decision(held).Decision);
        var firstSnapshot = await SnapshotAfterAsync(f, 0);

        await f.RestartAsync();
        Assert.True((await f.SubmitAsync(first)).Duplicate);
        var view = await ViewAsync(f, binding.Id);
        Assert.Equal((4, 6), (view.InFlight, view.QuotaRemaining));
        Assert.Equal(1, (await f.Engine.Bindings.ListAsync()).HeldAlerts);
        Assert.Equal(1, (await f.Engine.Bindings.PauseAsync(PauseScope.Playbook, "contain", false, "bob", null)).Released);

        // Two days later the first alert's id is forgotten: a repeat now is a new alert (webhook retries come within minutes).
        f.Clock.Advance(TimeSpan.FromDays(2));
        var firstId = System.Text.Json.Nodes.JsonNode.Parse(first)!["event"]!["id"]!.GetValue<string>();
        var latest = firstSnapshot;
        // The de-duplication ids a snapshot remembers (its "seen" list; the alert id may still appear elsewhere, in the runs
        // of executions still in flight, which is not what is forgotten).
        static bool Remembers(string snapshot, string alertId) =>
            (System.Text.Json.Nodes.JsonNode.Parse(snapshot)?["seen"] ?? throw new InvalidOperationException("no 'seen' in the intake snapshot: " + snapshot[..Math.Min(200, snapshot.Length)]))
                .AsArray().Any(s => (s?["accepted"]?["alert_id"] ?? throw new InvalidOperationException("a seen entry without accepted.alert_id")).GetValue<string>() == alertId);
        for (var round = 0; await LatestSnapshotAsync(f) is var (seq, text) && (seq == firstSnapshot || Remembers(text, firstId)); round++)
        {
            Assert.True(round < 20, "no snapshot taken after the window passed");
            // Events enough for a snapshot, which forgets old ids. How many that takes depends on how the journal batched the
            // executions' start confirmations (the threshold is at least the number of ids remembered), so add alerts until one is saved.
            var before = latest;
            for (var chunk = 0; chunk < 40 && (await LatestSnapshotAsync(f)).Seq == before; chunk++)
            {
                for (var i = 0; i < 12; i++) await f.SubmitAsync(AlertJson());
                for (var wait = 0; wait < 40 && (await LatestSnapshotAsync(f)).Seq == before; wait++) await Task.Delay(25);
            }
            latest = await SnapshotAfterAsync(f, latest);
        }
        await f.RestartAsync();
        Assert.False((await f.SubmitAsync(first)).Duplicate);
    }
}
