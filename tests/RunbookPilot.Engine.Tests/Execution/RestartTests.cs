using RunbookPilot.Domain.Execution;
using RunbookPilot.Engine.Execution;

namespace RunbookPilot.Engine.Tests.Execution;

/// <summary>
/// The actor system is stopped and a new one started over the same SQLite file: executions with open work come back by
/// themselves (remembered entities), approvals keep their deadlines, retries and in-flight steps resume.
/// </summary>
public class RestartTests
{
    private const string Playbook = """
        id: lateral
        name: Lateral
        version: 1.0.0
        autonomy_level: L1
        trigger: { techniques: [T1021] }
        steps:
          - id: vt
            name: VT
            action_type: lookup_ip
            adapter: virustotal
            autonomy_level: L0
            params: { ip: "{{source.ip}}" }
          - id: block
            name: Block
            action_type: block_ip
            adapter: paloalto
            autonomy_level: L1
            rollback_available: true
            params: { ip: "{{source.ip}}" }
        rollback:
          block:
            action_type: unblock_ip
            adapter: paloalto
            params: { ip: "{{source.ip}}" }
        """;

    private const string Alert = """{"event":{"id":"a1"},"source":{"ip":"203.0.113.5"},"threat":{"technique":{"id":"T1021.001"}}}""";

    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task Mid_approval_an_approval_after_restart_completes_it()
    {
        await using var f = await new EngineFixture(Playbook).StartAsync();
        var id = Assert.Single((await f.SubmitAsync(Alert)).Selected).ExecutionId;
        Assert.Equal("waiting_approval", (await f.Engine.Executions.WaitSettledAsync(id, Wait)).State.Status);

        await f.RestartAsync();
        Assert.Equal("waiting_approval", (await f.Engine.Executions.WaitSettledAsync(id, Wait)).State.Status);
        var result = await f.Engine.Executions.SendAsync(new ApproveStep(id, null, "alice", null));
        Assert.Equal("ok", result.Code);
        var done = await f.Engine.Executions.WaitSettledAsync(id, Wait);
        Assert.Equal(ExecutionOutcome.Completed, done.State.Outcome);
        Assert.True(f.Adapters["paloalto"].Applied.ContainsKey("203.0.113.5"));
    }

    [Fact]
    public async Task Mid_retry_the_retry_resumes_at_its_persisted_time()
    {
        await using var f = new EngineFixture(Playbook);
        f.Adapters["virustotal"].ThenFail();
        await f.StartAsync();
        var id = Assert.Single((await f.SubmitAsync(Alert)).Selected).ExecutionId;
        await Until(async () => (await f.Engine.Executions.GetAsync(id)).State.Step("vt").Status == StepStatus.RetryWaiting);

        await f.RestartAsync();
        await Until(async () => (await f.Engine.Executions.GetAsync(id)).State.Step("vt").Status == StepStatus.RetryWaiting);
        Assert.Single(f.Adapters["virustotal"].Calls);
        f.Clock.Advance(TimeSpan.FromSeconds(1)); // the 1 s backoff, by the test's clock
        var settled = await f.Engine.Executions.WaitSettledAsync(id, Wait);
        Assert.Equal(StepStatus.Succeeded, settled.State.Step("vt").Status);
        Assert.Equal(2, f.Adapters["virustotal"].Calls.Count);
        Assert.Equal(2, settled.State.Step("vt").Attempts);
    }

    [Fact]
    public async Task Mid_step_the_step_runs_again_with_the_same_idempotency_key_and_never_after_it_succeeded()
    {
        await using var f = new EngineFixture(Playbook);
        var stalled = new TaskCompletionSource();
        f.Adapters["paloalto"].ThenStall(stalled);
        await f.StartAsync();
        var id = Assert.Single((await f.SubmitAsync(Alert)).Selected).ExecutionId;
        await f.Engine.Executions.WaitSettledAsync(id, Wait);
        await f.Engine.Executions.SendAsync(new ApproveStep(id, null, "alice", null));
        await Until(() => Task.FromResult(f.Adapters["paloalto"].Calls.Count == 1)); // the block call is in flight

        await f.RestartAsync(); // the process "dies" while the vendor call hangs
        var done = await f.Engine.Executions.WaitSettledAsync(id, Wait);
        Assert.Equal(ExecutionOutcome.Completed, done.State.Outcome);
        var keys = f.Adapters["paloalto"].Calls.Select(c => c.IdempotencyKey).ToList();
        Assert.Equal([$"rbp-{id}-block", $"rbp-{id}-block"], keys);
        Assert.Equal(1, f.Adapters["paloalto"].Effects[$"rbp-{id}-block"]);

        await f.RestartAsync();
        await f.Engine.Read.CatchUpAsync();
        Assert.Equal(2, f.Adapters["paloalto"].Calls.Count); // completed: nothing runs again
        Assert.Equal(ExecutionOutcome.Completed, (await f.Engine.Executions.GetAsync(id)).State.Outcome);
        stalled.SetResult();
    }

    [Fact]
    public async Task Approval_deadline_is_rearmed_after_restart_and_expires()
    {
        await using var f = await new EngineFixture(Playbook).StartAsync();
        var id = Assert.Single((await f.SubmitAsync(Alert)).Selected).ExecutionId;
        await f.Engine.Executions.WaitSettledAsync(id, Wait);
        f.Clock.Advance(TimeSpan.FromHours(3));

        await f.RestartAsync();
        await f.Engine.Executions.WaitSettledAsync(id, Wait);
        f.Clock.Advance(TimeSpan.FromHours(1));
        await Until(async () => (await f.Engine.Executions.GetAsync(id)).State.Finished);
        var state = (await f.Engine.Executions.GetAsync(id)).State;
        Assert.Equal(ExecutionOutcome.Expired, state.Outcome);
        Assert.Equal(StepStatus.Expired, state.Step("block").Status);
        Assert.Empty(f.Adapters["paloalto"].Calls);
    }

    [Fact]
    public async Task Crashing_step_runner_is_restarted_by_supervision()
    {
        await using var f = new EngineFixture(Playbook);
        f.Adapters["virustotal"].ThenCrash();
        await f.StartAsync();
        var id = Assert.Single((await f.SubmitAsync(Alert)).Selected).ExecutionId;
        var settled = await f.Engine.Executions.WaitSettledAsync(id, Wait);
        Assert.Equal(StepStatus.Succeeded, settled.State.Step("vt").Status);
        Assert.Equal(2, f.Adapters["virustotal"].Calls.Count);
        Assert.Equal(1, settled.State.Step("vt").Attempts); // the crash was not a failed attempt: supervision repeated it
    }

    [Fact]
    public async Task Two_analysts_answering_at_once_first_decision_wins_and_nothing_runs_twice()
    {
        await using var f = await new EngineFixture(Playbook).StartAsync();
        var id = Assert.Single((await f.SubmitAsync(Alert)).Selected).ExecutionId;
        await f.Engine.Executions.WaitSettledAsync(id, Wait);
        var answers = await Task.WhenAll(
            f.Engine.Executions.SendAsync(new ApproveStep(id, null, "alice", null)),
            f.Engine.Executions.SendAsync(new RejectStep(id, null, "bob", null)),
            f.Engine.Executions.SendAsync(new ApproveStep(id, null, "carol", null)));
        Assert.All(answers, a => Assert.True(a.Ok));
        Assert.Single(answers, a => a.Code == "ok");
        Assert.Equal(2, answers.Count(a => a.Code == "already_decided"));
        await f.Engine.Executions.WaitSettledAsync(id, Wait);
        Assert.True(f.Adapters["paloalto"].Calls.Count <= 1);
    }

    [Fact]
    public async Task Duplicate_alert_id_returns_the_first_submission()
    {
        await using var f = await new EngineFixture(Playbook).StartAsync();
        var first = await f.SubmitAsync(Alert);
        var again = await f.SubmitAsync(Alert);
        Assert.True(again.Duplicate);
        Assert.Equal(first.Selected, again.Selected);
        await f.RestartAsync();
        Assert.True((await f.SubmitAsync(Alert)).Duplicate);
    }

    [Fact]
    public async Task Rollback_after_restart_reverses_the_block()
    {
        await using var f = await new EngineFixture(Playbook).StartAsync();
        var id = Assert.Single((await f.SubmitAsync(Alert)).Selected).ExecutionId;
        await f.Engine.Executions.WaitSettledAsync(id, Wait);
        await f.Engine.Executions.SendAsync(new ApproveStep(id, null, "alice", null));
        await f.Engine.Executions.WaitSettledAsync(id, Wait);
        Assert.True(f.Adapters["paloalto"].Applied.ContainsKey("203.0.113.5"));

        await f.RestartAsync();
        Assert.Equal("ok", (await f.Engine.Executions.SendAsync(new RequestRollback(id, null, "alice", "false positive"))).Code);
        await f.Engine.Executions.WaitSettledAsync(id, Wait);
        Assert.False(f.Adapters["paloalto"].Applied.ContainsKey("203.0.113.5"));
        Assert.Equal(RollbackStatus.RolledBack, (await f.Engine.Executions.GetAsync(id)).State.Step("block").Rollback);
    }

    private static async Task Until(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow + Wait;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("condition not reached");
            await Task.Delay(20);
        }
    }
}
