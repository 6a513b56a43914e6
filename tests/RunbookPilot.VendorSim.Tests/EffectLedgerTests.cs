using RunbookPilot.Domain.Adapters;
using RunbookPilot.Domain.Effects;
using RunbookPilot.Domain.Execution;
using RunbookPilot.Engine.Adapters;
using RunbookPilot.Engine.Tests.Execution;
using RunbookPilot.VendorSim;

namespace RunbookPilot.VendorSim.Tests;

/// <summary>
/// The effect ledger and undo-from-recorded-results, against the vendor simulators through the real PAN-OS and
/// CrowdStrike adapters: a rollback never removes an effect another execution still holds, the last release calls
/// the vendor, and the ledger survives a restart.
/// </summary>
public sealed class EffectLedgerTests : IAsyncLifetime
{
    private const string BlockPlaybook = """
        id: block
        name: Block
        version: 1.0.0
        autonomy_level: L1
        trigger: { techniques: [T1021] }
        steps:
          - id: block
            name: Block the source
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

    private const string IsolatePlaybook = """
        id: contain
        name: Contain
        version: 1.0.0
        autonomy_level: L1
        trigger: { techniques: [T1071] }
        steps:
          - id: isolate
            name: Isolate the host
            action_type: isolate_host
            adapter: crowdstrike
            autonomy_level: L1
            rollback_available: true
            params: { hostname: "{{host.name}}" }
        rollback:
          isolate:
            action_type: un_isolate_host
            adapter: crowdstrike
            params: { device_id: "{{host.id}}" }
        """;

    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);
    private VendorSimulator _sim = null!;

    public async Task InitializeAsync() => _sim = await VendorSimulator.StartAsync();

    public async Task DisposeAsync() => await _sim.DisposeAsync();

    private async Task<EngineFixture> EngineAsync(string playbook, params string[] adapters)
    {
        var f = new EngineFixture(playbook);
        foreach (var name in adapters) f.Adapters.Remove(name);
        f.Plugins.AddRange(AdapterFactory.Create(adapters.ToDictionary(a => a, a => _sim.DemoSettings()[a]), n => VendorSimulator.Credentials.GetValueOrDefault(n), TimeProvider.System));
        return await f.StartAsync();
    }

    private static async Task<string> RunApprovedAsync(EngineFixture f, string alert)
    {
        var id = Assert.Single((await f.SubmitAsync(alert)).Selected).ExecutionId;
        await f.Engine.Executions.WaitSettledAsync(id, Wait);
        Assert.Equal("ok", (await f.Engine.Executions.SendAsync(new ApproveStep(id, null, "alice", null))).Code);
        var state = (await f.Engine.Executions.WaitSettledAsync(id, Wait)).State;
        Assert.True(state.Outcome == ExecutionOutcome.Completed, string.Join("; ", state.Steps.Values.Select(s => s.Error)));
        return id;
    }

    private static async Task<ExecutionState> RollBackAsync(EngineFixture f, string id)
    {
        Assert.Equal("ok", (await f.Engine.Executions.SendAsync(new RequestRollback(id, null, "bob", "false positive"))).Code);
        var state = (await f.Engine.Executions.WaitSettledAsync(id, Wait)).State;
        Assert.Equal(RollbackStatus.RolledBack, state.Step(state.Playbook!.Steps[0].Id).Rollback);
        return state;
    }

    private int Unregisters => _sim.State.Requests("paloalto").Count(r => r.Body.Contains("unregister", StringComparison.Ordinal));

    [Fact]
    public async Task Two_executions_block_the_same_ip_the_first_rollback_keeps_it_blocked_the_last_unblocks_it_across_a_restart()
    {
        await using var f = await EngineAsync(BlockPlaybook, "paloalto");
        // The same address in two spellings: the ledger keys it canonically.
        var first = await RunApprovedAsync(f, """{"event":{"id":"a1"},"source":{"ip":"203.0.113.9"},"threat":{"technique":{"id":"T1021.001"}}}""");
        var second = await RunApprovedAsync(f, """{"event":{"id":"a2"},"source":{"ip":"::ffff:203.0.113.9"},"threat":{"technique":{"id":"T1021.001"}}}""");
        Assert.True(_sim.State.RegisteredIps.ContainsKey("203.0.113.9"));
        var held = (await f.Engine.Executions.GetAsync(second)).State.Step("block").Output!;
        Assert.Equal(first, held["also_held_by"]![0]!.GetValue<string>());

        var rolledBack = await RollBackAsync(f, first);
        Assert.True(_sim.State.RegisteredIps.ContainsKey("203.0.113.9")); // still held by the second execution
        Assert.Equal(0, Unregisters); // no vendor call
        var note = rolledBack.Step("block").RollbackOutput!;
        Assert.Equal(second, note["still_held_by"]![0]!.GetValue<string>());
        Assert.False(note["vendor_called"]!.GetValue<bool>());
        var effect = new EffectKey("paloalto", "block_ip", "203.0.113.9");
        Assert.Equal([second], (await f.Engine.Effects.HoldsAsync([effect])).For(effect).Select(h => h.ExecutionId));

        await f.RestartAsync(); // the ledger is event-sourced: the second execution's hold survives
        Assert.Equal([second], (await f.Engine.Effects.HoldsAsync([effect])).For(effect).Select(h => h.ExecutionId));
        await RollBackAsync(f, second);
        Assert.False(_sim.State.RegisteredIps.ContainsKey("203.0.113.9")); // the last release called the vendor
        Assert.Equal(1, Unregisters);
        Assert.Empty((await f.Engine.Effects.HoldsAsync([effect])).For(effect));
    }

    [Fact]
    public async Task Rolling_back_a_block_that_no_other_execution_holds_calls_the_vendor_once()
    {
        await using var f = await EngineAsync(BlockPlaybook, "paloalto");
        var id = await RunApprovedAsync(f, """{"event":{"id":"a1"},"source":{"ip":"198.51.100.23"},"threat":{"technique":{"id":"T1021.001"}}}""");
        await RollBackAsync(f, id);
        Assert.False(_sim.State.RegisteredIps.ContainsKey("198.51.100.23"));
        Assert.Equal(1, Unregisters);
    }

    [Fact]
    public async Task An_isolation_by_host_name_is_undone_by_the_device_id_containment_found_when_the_alert_has_none()
    {
        var device = _sim.State.AddDevice("WS-FIN-042");
        await using var f = await EngineAsync(IsolatePlaybook, "crowdstrike");
        // No host.id in the alert: the playbook's rollback template renders empty, the recorded device id is used.
        var id = await RunApprovedAsync(f, """{"event":{"id":"c1"},"host":{"name":"WS-FIN-042"},"threat":{"technique":{"id":"T1071.004"}}}""");
        Assert.Equal("contained", device.Status);
        var state = await RollBackAsync(f, id);
        Assert.Equal(device.Id, state.Step("isolate").Undo!["device_id"]!.GetValue<string>());
        Assert.Equal("normal", device.Status);
    }

    private const string UnblockPlaybook = """
        id: unblock
        name: Unblock
        version: 1.0.0
        autonomy_level: L1
        trigger: { techniques: [T1190] }
        steps:
          - id: unblock
            name: Lift the block of a cleared address
            action_type: unblock_ip
            adapter: paloalto
            autonomy_level: L1
            params: { ip: "{{source.ip}}" }
        """;

    [Fact]
    public async Task A_playbook_step_that_unblocks_does_not_lift_a_block_another_execution_holds()
    {
        var f = new EngineFixture(BlockPlaybook, UnblockPlaybook);
        f.Adapters.Remove("paloalto");
        f.Plugins.AddRange(AdapterFactory.Create(new Dictionary<string, Domain.Library.AdapterSettings> { ["paloalto"] = _sim.DemoSettings()["paloalto"] },
            n => VendorSimulator.Credentials.GetValueOrDefault(n), TimeProvider.System));
        await using var _ = await f.StartAsync();
        var blocker = await RunApprovedAsync(f, """{"event":{"id":"b1"},"source":{"ip":"203.0.113.44"},"threat":{"technique":{"id":"T1021.001"}}}""");
        var unblocker = await RunApprovedAsync(f, """{"event":{"id":"u1"},"source":{"ip":"203.0.113.44"},"threat":{"technique":{"id":"T1190"}}}""");
        Assert.True(_sim.State.RegisteredIps.ContainsKey("203.0.113.44")); // still held by the blocking execution
        Assert.Equal(0, Unregisters);
        var output = (await f.Engine.Executions.GetAsync(unblocker)).State.Step("unblock").Output!;
        Assert.Equal(blocker, output["still_held_by"]![0]!.GetValue<string>());
    }

    [Fact]
    public async Task A_crashing_adapter_leaves_no_hold_behind_that_would_block_others()
    {
        await using var f = new EngineFixture(BlockPlaybook.Replace("rollback_available: true", "rollback_available: true\n    retry: { max_retries: 0 }", StringComparison.Ordinal));
        for (var i = 0; i < 4; i++) f.Adapters["paloalto"].ThenCrash();
        await f.StartAsync();
        var id = Assert.Single((await f.SubmitAsync("""{"event":{"id":"k1"},"source":{"ip":"203.0.113.45"},"threat":{"technique":{"id":"T1021.001"}}}""")).Selected).ExecutionId;
        await f.Engine.Executions.WaitSettledAsync(id, Wait);
        await f.Engine.Executions.SendAsync(new ApproveStep(id, null, "alice", null));
        var state = (await f.Engine.Executions.WaitSettledAsync(id, TimeSpan.FromSeconds(60))).State;
        Assert.Equal(StepStatus.Failed, state.Step("block").Status);
        var effect = new EffectKey("paloalto", "block_ip", "203.0.113.45");
        Assert.Empty((await f.Engine.Effects.HoldsAsync([effect])).For(effect));
    }
}
