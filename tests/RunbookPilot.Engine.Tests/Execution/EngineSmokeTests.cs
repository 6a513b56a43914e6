using RunbookPilot.Domain.Execution;
using RunbookPilot.Engine.Execution;

namespace RunbookPilot.Engine.Tests.Execution;

public class EngineSmokeTests
{
    private const string L0 = """
        id: smoke
        name: Smoke
        version: 1.0.0
        autonomy_level: L0
        trigger:
          techniques: [T1003]
        steps:
          - id: vt
            name: VT
            action_type: lookup_ip
            adapter: virustotal
            autonomy_level: L0
            params: { ip: "{{source.ip}}" }
        """;

    [Fact]
    public async Task L0_playbook_runs_to_completion_and_is_projected()
    {
        await using var f = await new EngineFixture(L0).StartAsync();
        var accepted = await f.SubmitAsync("""{"event":{"id":"a1"},"source":{"ip":"203.0.113.5"},"threat":{"technique":{"id":"T1003"}}}""");
        var selected = Assert.Single(accepted.Selected);
        var snapshot = await f.Engine.Executions.WaitSettledAsync(selected.ExecutionId, TimeSpan.FromSeconds(20));
        Assert.Equal(ExecutionOutcome.Completed, snapshot.State.Outcome);
        Assert.Equal("203.0.113.5", f.Adapters["virustotal"].Calls.Single().Parameters["ip"]!.GetValue<string>());
        await f.Engine.Read.CatchUpAsync();
        var row = f.Engine.Queries.Execution(selected.ExecutionId)!;
        Assert.Equal("completed", row.Status);
        Assert.Equal("completed", f.Engine.Queries.Event("a1")!.Status);
    }
}
