using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using RunbookPilot.Domain.Adapters;
using RunbookPilot.Engine.Adapters;
using RunbookPilot.Domain.Alerts;
using RunbookPilot.Domain.Bindings;
using RunbookPilot.Domain.Execution;
using RunbookPilot.Engine.Execution;
using RunbookPilot.Domain.Playbooks;
using RunbookPilot.Engine.Tests.Execution;
using RunbookPilot.Domain.Core;

namespace RunbookPilot.Engine.Tests.Safety;

/// <summary>
/// A plugin that ignores the dry-run flag and performs its containment whatever it is told (as a careless or hostile
/// plugin would): the engine never calls it for a dry run, and never with a protected target however the alert spells it.
/// </summary>
public sealed class RoguePlugin : IAdapter
{
    private static readonly Dictionary<string, TargetKind> HostTarget = new() { ["hostname"] = TargetKind.Host };

    public AdapterDescriptor Descriptor { get; } = new("rogue", "A plugin that ignores dry-run",
    [
        new ActionDescriptor("contain", ActionKind.Reversible, "Contain a host", ["hostname"], [], "release", HostTarget),
        new ActionDescriptor("release", ActionKind.Reversible, "Release a host", ["hostname"], [], "contain", HostTarget, Releases: true),
    ]);

    public ConcurrentQueue<AdapterCall> Executed { get; } = new();

    public AdapterRequest Describe(AdapterCall call) => new("POST", "https://rogue.test/contain", new Dictionary<string, string>(), call.Parameters.ToJsonString());

    public Task<AdapterResult> ExecuteAsync(AdapterCall call, CancellationToken cancellationToken)
    {
        Executed.Enqueue(call); // contains the host, dry run or not
        return Task.FromResult(AdapterResult.Ok(new JsonObject { ["contained"] = call.Parameters["hostname"]?.ToString() }, Describe(call)));
    }
}

public sealed class EngineEnforcementTests
{
    private const string Rogue = """
        id: rogue_contain
        name: Contain through a plugin
        version: 1.0.0
        autonomy_level: L1
        trigger: { techniques: [T1110] }
        steps:
          - { id: contain, name: Contain, action_type: contain, adapter: rogue, autonomy_level: L1, params: { hostname: "{{host.name}}" } }
        """;

    private const string Block = """
        id: block_src
        name: Block the source
        version: 1.0.0
        autonomy_level: L1
        trigger: { techniques: [T1110] }
        steps:
          - { id: block, name: Block, action_type: block_ip, adapter: paloalto, autonomy_level: L1, params: { ip: "{{source.ip}}" } }
        """;

    private static int _n;

    private static string Alert(string host = "ws-17", string ip = "203.0.113.9") =>
        "{\"event\":{\"id\":\"safe-" + Interlocked.Increment(ref _n) + "\"},\"rule\":{\"id\":\"brute-force\"},\"host\":{\"name\":\"" + host
        + "\"},\"source\":{\"ip\":\"" + ip + "\"},\"threat\":{\"technique\":{\"id\":\"T1110\"}}}";

    private static async Task<EngineFixture> StartAsync(string playbook, string? policy = null)
    {
        var f = new EngineFixture(playbook);
        var rogue = new RoguePlugin();
        f.Plugins.Add(rogue);
        if (policy is not null) f.WritePolicy(policy);
        return await f.StartAsync();
    }

    private static RoguePlugin RogueOf(EngineFixture f) => (RoguePlugin)f.Plugins.Single();

    [Fact]
    public async Task A_dry_run_binding_never_calls_a_plugin_that_ignores_the_flag()
    {
        await using var f = await StartAsync(Rogue, "auto_approve:\n  playbooks: [rogue_contain]\n");
        var saved = await f.Engine.Bindings.SaveAsync(new BindingSpec
        {
            PlaybookId = "rogue_contain", Mode = BindingMode.DryRun, Match = new BindingMatch { RuleIds = ["brute-force"] },
        }, "alice");
        Assert.Empty(saved.Problems);
        var accepted = await f.SubmitAsync(Alert());
        var id = Assert.Single(accepted.Selected).ExecutionId;
        var state = (await f.Engine.Executions.WaitSettledAsync(id, TimeSpan.FromSeconds(20))).State;
        Assert.Equal(ExecutionOutcome.Completed, state.Outcome);
        Assert.Empty(RogueOf(f).Executed);
        var output = state.Step("contain").Output!;
        Assert.True(output["dry_run"]!.GetValue<bool>());
        Assert.Contains("ws-17", output["request"]!["body"]!.GetValue<string>(), StringComparison.Ordinal); // the exact request that would be sent
    }

    [Fact]
    public async Task An_analysts_manual_dry_run_never_calls_the_plugin_either()
    {
        await using var f = await StartAsync(Rogue, "auto_approve:\n  playbooks: [rogue_contain]\n");
        var saved = await f.Engine.Bindings.SaveAsync(new BindingSpec
        {
            PlaybookId = "rogue_contain", Mode = BindingMode.Suggest, Match = new BindingMatch { RuleIds = ["brute-force"] },
        }, "alice");
        var accepted = await f.SubmitAsync(Alert());
        Assert.Empty(accepted.Selected);
        var alert = new Alert(accepted.AlertId, AlertJson.ParseObject(Alert(), out _)!, "ecs");
        var run = await f.Engine.Bindings.RunAsync(alert, saved.Binding!.Id, BindingMode.DryRun, "alice", "check what it would do");
        var id = run.Decision!.ExecutionId!;
        var state = (await f.Engine.Executions.WaitSettledAsync(id, TimeSpan.FromSeconds(20))).State;
        Assert.Equal(ExecutionOutcome.Completed, state.Outcome);
        Assert.Empty(RogueOf(f).Executed);
    }

    [Theory]
    [InlineData("::ffff:10.1.1.1")]
    [InlineData("10.1.1.1")]
    [InlineData("010.1.1.1")]
    [InlineData("10.1.1.0/24")]
    public async Task An_auto_approved_block_of_a_protected_address_in_any_spelling_is_refused_and_never_sent(string ip)
    {
        await using var f = await StartAsync(Block, "auto_approve:\n  playbooks: [block_src]\nallow_list:\n  ips: [10.1.1.1]\n");
        var id = Assert.Single((await f.SubmitAsync(Alert(ip: ip))).Selected).ExecutionId;
        var state = (await f.Engine.Executions.WaitSettledAsync(id, TimeSpan.FromSeconds(20))).State;
        Assert.Equal(StepStatus.Refused, state.Step("block").Status);
        Assert.Contains("refused before any call", state.Step("block").Error, StringComparison.Ordinal);
        Assert.Empty(f.Adapters["paloalto"].Calls);
    }

    [Fact]
    public async Task A_splunk_notable_is_checked_on_the_address_the_adapter_receives()
    {
        await using var f = await StartAsync(Block, "auto_approve:\n  playbooks: [block_src]\nallow_list:\n  cidrs: [10.0.0.0/8]\n");
        var notable = """{"result":{"event_id":"notable-1","src":"::ffff:10.9.8.7","rule_name":"Brute force","annotations":{"mitre_attack":["T1110"]}},"search_name":"Brute force"}""";
        var id = Assert.Single((await f.SubmitAsync(notable)).Selected).ExecutionId;
        var state = (await f.Engine.Executions.WaitSettledAsync(id, TimeSpan.FromSeconds(20))).State;
        Assert.Equal(StepStatus.Refused, state.Step("block").Status);
        Assert.Empty(f.Adapters["paloalto"].Calls);
    }

    [Fact]
    public async Task The_vendor_receives_the_canonical_address_not_the_alerts_spelling()
    {
        await using var f = await StartAsync(Block, "auto_approve:\n  playbooks: [block_src]\n");
        var id = Assert.Single((await f.SubmitAsync(Alert(ip: "::FFFF:203.0.113.77"))).Selected).ExecutionId;
        var state = (await f.Engine.Executions.WaitSettledAsync(id, TimeSpan.FromSeconds(20))).State;
        Assert.Equal(StepStatus.Succeeded, state.Step("block").Status);
        Assert.Equal("203.0.113.77", Assert.Single(f.Adapters["paloalto"].Calls).Parameters["ip"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_rollback_that_restricts_is_checked_like_any_step()
    {
        // A step that releases a host, whose declared inverse (its rollback) contains it: rolling back must not
        // contain an allow-listed host.
        const string release = """
            id: rogue_release
            name: Release through a plugin
            version: 1.0.0
            autonomy_level: L1
            trigger: { techniques: [T1110] }
            steps:
              - { id: release, name: Release, action_type: release, adapter: rogue, autonomy_level: L1, params: { hostname: "{{host.name}}" }, rollback_available: true }
            rollback:
              release: { action_type: contain, adapter: rogue, params: { hostname: "{{host.name}}" } }
            """;
        await using var f = await StartAsync(release, "auto_approve:\n  playbooks: [rogue_release]\nallow_list:\n  hosts: [dc01]\n");
        var id = Assert.Single((await f.SubmitAsync(Alert(host: "DC01.corp.example"))).Selected).ExecutionId;
        Assert.Equal(ExecutionOutcome.Completed, (await f.Engine.Executions.WaitSettledAsync(id, TimeSpan.FromSeconds(20))).State.Outcome);
        Assert.True((await f.Engine.Executions.SendAsync(new RequestRollback(id, null, "mallory", "undo"))).Ok);
        var state = (await f.Engine.Executions.GetAsync(id)).State;
        for (var i = 0; i < 500 && state.Step("release").Rollback == RollbackStatus.Requested; i++)
        {
            await Task.Delay(20);
            state = (await f.Engine.Executions.GetAsync(id)).State;
        }
        Assert.Equal(RollbackStatus.Failed, state.Step("release").Rollback);
        Assert.Contains("allow-list", state.Step("release").RollbackError, StringComparison.Ordinal);
        Assert.DoesNotContain(RogueOf(f).Executed, c => c.Action == "contain");
    }

    [Fact]
    public void A_rollback_entry_must_be_the_steps_declared_inverse()
    {
        var catalog = AdapterCatalog.BuiltIn.With(new RoguePlugin().Descriptor);
        var result = PlaybookLoader.Parse("""
            id: sneaky
            name: Sneaky rollback
            version: 1.0.0
            autonomy_level: L1
            trigger: { techniques: [T1110] }
            steps:
              - { id: unblock, name: Unblock, action_type: unblock_ip, adapter: paloalto, autonomy_level: L1, params: { ip: "{{source.ip}}" }, rollback_available: true }
            rollback:
              unblock: { action_type: isolate_host, adapter: crowdstrike, params: { hostname: "{{host.name}}" } }
            """, "sneaky.yaml", catalog);
        Assert.Null(result.Value);
        Assert.Contains(result.Errors, e => e.Message.Contains("must be paloalto.block_ip", StringComparison.Ordinal));
    }

    [Fact]
    public void A_plugin_whose_state_changing_action_leaves_a_parameter_undeclared_is_refused()
    {
        var blind = new AdapterDescriptor("blind", "Names its target agent_id and declares nothing",
            [new ActionDescriptor("isolate", ActionKind.Reversible, "Isolate an agent", ["agent_id"], [], "release")]);
        var refused = Assert.Throws<RunbookPilot.Domain.Core.ConfigurationException>(() => new AdapterRegistry([new Named(blind)]));
        Assert.Contains("agent_id", Assert.Single(refused.Problems), StringComparison.Ordinal);
    }

    private sealed class Named(AdapterDescriptor descriptor) : IAdapter
    {
        public AdapterDescriptor Descriptor => descriptor;
        public AdapterRequest Describe(AdapterCall call) => new("POST", "https://blind.test", new Dictionary<string, string>(), null);
        public Task<AdapterResult> ExecuteAsync(AdapterCall call, CancellationToken cancellationToken) => throw new InvalidOperationException("never called");
    }
}
