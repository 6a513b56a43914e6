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
}
