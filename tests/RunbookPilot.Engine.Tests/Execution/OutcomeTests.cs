using RunbookPilot.Domain.Adapters;
using RunbookPilot.Domain.Execution;

namespace RunbookPilot.Engine.Tests.Execution;

/// <summary>What an execution reports is what happened: a failed step never reads "completed" (issue 14, item 1).</summary>
public sealed class OutcomeTests
{
    private const string Playbook = """
        id: enrich
        name: Enrich
        version: 1.0.0
        autonomy_level: L0
        trigger: { techniques: [T1110] }
        steps:
          - { id: vt, name: VT, action_type: lookup_ip, adapter: virustotal, autonomy_level: L0, on_failure: continue, params: { ip: "{{source.ip}}" } }
          - { id: abuse, name: AbuseIPDB, action_type: check_ip, adapter: abuseipdb, autonomy_level: L0, params: { ip: "{{source.ip}}" } }
        """;

    private const string Alert = """{"event":{"id":"o-1"},"source":{"ip":"203.0.113.5"},"threat":{"technique":{"id":"T1110"}}}""";

    [Fact]
    public async Task An_execution_whose_continue_step_failed_ends_completed_with_failures_everywhere_it_is_shown()
    {
        await using var f = new EngineFixture(Playbook);
        f.Adapters["virustotal"].Then(_ => Task.FromResult(AdapterResult.Fail("HTTP 400 Bad Request", retryable: false)));
        await f.StartAsync();

        var id = (await f.SubmitAsync(Alert)).Selected.Single().ExecutionId;
        var settled = await f.Engine.Executions.WaitSettledAsync(id, TimeSpan.FromSeconds(20));

        Assert.Equal(StepStatus.Failed, settled.State.Step("vt").Status);
        Assert.Equal(StepStatus.Succeeded, settled.State.Step("abuse").Status);
        Assert.Equal("completed_with_failures", settled.State.Status);
        Assert.Equal("completed_with_failures", (await f.Engine.Read.ExecutionAsync(id))!.Status);
        Assert.Equal("failed", (await f.Engine.Read.EventsAsync()).Single().Status); // the alert's status says a step failed
        var summary = await f.Engine.Read.SummaryAsync(f.Clock.GetUtcNow());
        Assert.Equal((0, 1), (summary.Playbooks.Single().Completed, summary.Playbooks.Single().Failed));
    }

    [Fact]
    public async Task An_execution_whose_steps_all_succeeded_still_reads_completed()
    {
        await using var f = new EngineFixture(Playbook);
        await f.StartAsync();
        var id = (await f.SubmitAsync(Alert)).Selected.Single().ExecutionId;
        Assert.Equal("completed", (await f.Engine.Executions.WaitSettledAsync(id, TimeSpan.FromSeconds(20))).State.Status);
    }

    private const string Block = """
        id: block
        name: Block
        version: 1.0.0
        autonomy_level: L1
        trigger: { techniques: [T1021] }
        steps:
          - { id: vt, name: VT, action_type: lookup_ip, adapter: virustotal, autonomy_level: L0, params: { ip: "{{source.ip}}" } }
          - { id: block, name: Block, action_type: block_ip, adapter: paloalto, autonomy_level: L1, manual_minutes: 20, params: { ip: "{{source.ip}}" } }
        """;

    private static string BlockAlert(string id, DateTimeOffset at) =>
        new System.Text.Json.Nodes.JsonObject
        {
            ["@timestamp"] = at.ToString("O"), ["event"] = new System.Text.Json.Nodes.JsonObject { ["id"] = id }, ["source"] = new System.Text.Json.Nodes.JsonObject { ["ip"] = "203.0.113.5" },
            ["threat"] = new System.Text.Json.Nodes.JsonObject { ["technique"] = new System.Text.Json.Nodes.JsonObject { ["id"] = "T1021.001" } },
        }.ToJsonString();

    [Fact]
    public async Task Rejected_and_expired_are_outcomes_of_their_own_not_failures()
    {
        await using var f = await new EngineFixture(Block).StartAsync();
        var rejected = (await f.SubmitAsync(BlockAlert("r-1", f.Clock.GetUtcNow()))).Selected.Single().ExecutionId;
        var expired = (await f.SubmitAsync(BlockAlert("r-2", f.Clock.GetUtcNow()))).Selected.Single().ExecutionId;
        await f.Engine.Executions.WaitSettledAsync(rejected, TimeSpan.FromSeconds(20));
        await f.Engine.Executions.WaitSettledAsync(expired, TimeSpan.FromSeconds(20));
        await f.Engine.Executions.SendAsync(new RejectStep(rejected, null, "alice", "benign"));
        f.Clock.Advance(TimeSpan.FromHours(5)); // past the 4 h approval timeout
        await f.Engine.Executions.WaitSettledAsync(expired, TimeSpan.FromSeconds(20));
        var p = (await f.Engine.Read.SummaryAsync(f.Clock.GetUtcNow())).Playbooks.Single();
        Assert.Equal((0, 0, 1, 1), (p.Completed, p.Failed, p.Rejected, p.Expired));
        Assert.Null(p.SuccessRate); // nothing completed or failed: no rate, not 0 %
    }

    [Fact]
    public async Task Mttd_runs_from_the_alerts_own_time_mttr_to_the_response_and_time_saved_counts_succeeded_steps()
    {
        await using var f = await new EngineFixture(Block).StartAsync();
        var id = (await f.SubmitAsync(BlockAlert("m-1", f.Clock.GetUtcNow().AddMinutes(-10)))).Selected.Single().ExecutionId; // detected 10 min after it happened
        await f.Engine.Executions.WaitSettledAsync(id, TimeSpan.FromSeconds(20));
        f.Clock.Advance(TimeSpan.FromMinutes(5)); // the analyst approves 5 min after acceptance
        var decided = await f.Engine.Executions.DecideAsync(Api.DecisionKind.Approve, id, "block", "alice", null);
        var told = await f.Engine.Executions.ResultAsync(decided, rollback: false, TimeSpan.FromSeconds(20));
        Assert.Equal("step block (paloalto.block_ip) succeeded", told.Message);

        var p = (await f.Engine.Read.SummaryAsync(f.Clock.GetUtcNow())).Playbooks.Single();
        Assert.Equal(600, p.MttdSeconds!.Value, 0.5);
        Assert.Equal(300, p.MttrSeconds!.Value, 0.5);
        Assert.Equal(5 + 20, p.MinutesSaved); // lookup_ip's estimate + the step's manual_minutes
        Assert.Equal(1.0, p.SuccessRate);
    }

    [Fact]
    public async Task The_analyst_who_approved_is_told_the_step_failed_and_why_not_only_running()
    {
        await using var f = new EngineFixture(Block);
        f.Adapters["paloalto"].Then(_ => Task.FromResult(AdapterResult.Fail("paloalto: Invalid Credential (code 403)", retryable: false)));
        await f.StartAsync();
        var id = (await f.SubmitAsync(BlockAlert("f-1", f.Clock.GetUtcNow()))).Selected.Single().ExecutionId;
        await f.Engine.Executions.WaitSettledAsync(id, TimeSpan.FromSeconds(20));
        var decided = await f.Engine.Executions.DecideAsync(Api.DecisionKind.Approve, id, null, "alice", null);
        Assert.Contains("running", decided.Result.Message);
        var told = await f.Engine.Executions.ResultAsync(decided, rollback: false, TimeSpan.FromSeconds(20));
        Assert.False(told.Ok);
        Assert.Equal("step block (paloalto.block_ip) failed: paloalto: Invalid Credential (code 403)", told.Message);
        Assert.Equal("failed", (await f.Engine.Executions.GetAsync(id)).State.Status);
    }

    private const string Contain = """
        id: contain
        name: Contain
        version: 1.0.0
        autonomy_level: L2
        trigger: { techniques: [T1071] }
        steps:
          - { id: vt, name: VT, action_type: lookup_domain, adapter: virustotal, autonomy_level: L0, params: { domain: "{{dns.question.name}}" } }
          - { id: isolate, name: Isolate, action_type: isolate_host, adapter: crowdstrike, autonomy_level: L2, simulation_mode: true, params: { hostname: "{{host.name}}" } }
        """;

    [Fact]
    public async Task A_failed_execute_now_isolation_reads_completed_with_failures_and_the_analyst_is_told_why()
    {
        await using var f = new EngineFixture(Contain);
        f.Adapters["crowdstrike"].Then(_ => Task.FromResult(AdapterResult.Fail("crowdstrike: no device with hostname 'ws-9'", retryable: false)));
        await f.StartAsync();
        var id = (await f.SubmitAsync("""{"event":{"id":"c-1"},"host":{"name":"ws-9"},"dns":{"question":{"name":"bad.example"}},"threat":{"technique":{"id":"T1071.004"}}}""")).Selected.Single().ExecutionId;
        var simulated = await f.Engine.Executions.WaitSettledAsync(id, TimeSpan.FromSeconds(20));
        Assert.Equal("completed", simulated.State.Status); // the L2 step was only simulated: nothing failed yet
        var simulation = simulated.State.Step("isolate").SimulationId!;

        var decided = await f.Engine.Executions.DecideSimulationAsync(true, simulation, "alice", null);
        var told = await f.Engine.Executions.ResultAsync(decided, rollback: false, TimeSpan.FromSeconds(20));
        Assert.Equal("step isolate (crowdstrike.isolate_host) failed: crowdstrike: no device with hostname 'ws-9'", told.Message);
        Assert.Equal("completed_with_failures", (await f.Engine.Executions.GetAsync(id)).State.Status);
        Assert.Equal("completed_with_failures", (await f.Engine.Read.ExecutionAsync(id))!.Status);
    }
}
