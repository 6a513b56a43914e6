using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using FsCheck;
using FsCheck.Fluent;
using RunbookPilot.Domain.Adapters;
using RunbookPilot.Engine.Adapters;
using RunbookPilot.Domain.Execution;
using RunbookPilot.Engine.Execution;
using RunbookPilot.Domain.Playbooks;
using RunbookPilot.Domain.Policy;

namespace RunbookPilot.Engine.Tests.Safety;

/// <summary>
/// The autonomy contract as a property, over level × policy switches × binding mode × approval state × target (in or
/// out of the allow-list, in every spelling) × built-in or plugin adapter. It drives the real chain — the decider
/// decides, and every step run it asks for goes through <see cref="AdapterInvoker"/>, the only way the engine calls an
/// adapter — against an adapter that performs whatever it is called with. The property: no state-changing adapter call
/// happens unless the step was approved (or auto-approved by policy), policy allows it, the canonical target is not
/// protected, and the mode is not dry-run. The oracle is written from the contract's table, not from the code.
/// </summary>
public sealed class AutonomyContractPropertyTests
{
    public enum Approval { None, Approve, Reject, Expire, PromoteSimulation }

    /// <summary>A target spelling and whether the contract allows blocking it with allow_list ips [10.1.1.1], cidrs [10.20.0.0/16].</summary>
    public sealed record Target(string Text, bool Allowed);

    private static readonly Target[] Targets =
    [
        new("203.0.113.9", true), new("::ffff:203.0.113.9", true), new("2001:db8::9", true), new("203.0.113.0/24", true),
        new("10.1.1.1", false), new("::ffff:10.1.1.1", false), new("::FFFF:10.1.1.1", false), new("0:0:0:0:0:ffff:a01:101", false),
        new("010.1.1.1", false), new("0x0a.1.1.1", false), new("167837953", false), new("10.1", false), new("10.1.1.1/32", false),
        new("10.1.1.0/24", false), new("10.20.99.7", false), new("::ffff:10.20.99.7", false), new("10.0.0.0/8", false),
        new("0.0.0.0/0", false), new("::/0", false), new("203.0.0.0/16", false), new(" 10.1.1.1", false), new("10.1.1.1\r\n", false),
    ];

    public sealed record Case(AutonomyLevel Level, bool RequireApproval, bool BlockL2, bool AutoApprove, bool DryRun, Approval Approval, Target Target, bool Plugin)
    {
        public override string ToString() =>
            $"{Level} require_approval={RequireApproval} block_l2={BlockL2} auto_approve={AutoApprove} dry_run={DryRun} {Approval} target='{Target.Text}' {(Plugin ? "plugin" : "built-in")}";
    }

    /// <summary>Performs every call it gets (a vendor, or a plugin that ignores dry-run), and counts the state-changing ones.</summary>
    private sealed class Vendor(AdapterDescriptor descriptor) : IAdapter
    {
        public AdapterDescriptor Descriptor { get; } = descriptor;
        public ConcurrentQueue<AdapterCall> StateChanging { get; } = new();

        public AdapterRequest Describe(AdapterCall call) => new("POST", $"https://{Descriptor.Name}.test/{call.Action}", new Dictionary<string, string>(), call.Parameters.ToJsonString());

        public Task<AdapterResult> ExecuteAsync(AdapterCall call, CancellationToken cancellationToken)
        {
            if (Descriptor.Find(call.Action)!.ChangesState) StateChanging.Enqueue(call);
            return Task.FromResult(AdapterResult.Ok(new JsonObject { ["done"] = true }, Describe(call)));
        }
    }

    private static readonly AdapterDescriptor PluginDescriptor = new("netblock", "A plugin firewall that declares its target as a network",
    [
        new ActionDescriptor("deny", ActionKind.Reversible, "Deny an address", ["ip"], [], "allow", new Dictionary<string, TargetKind> { ["ip"] = TargetKind.Cidr }),
        new ActionDescriptor("allow", ActionKind.Reversible, "Allow an address", ["ip"], [], "deny", new Dictionary<string, TargetKind> { ["ip"] = TargetKind.Cidr }, Releases: true),
    ]);

    private static Gen<Case> Cases =>
        from level in Gen.Elements(AutonomyLevel.L1, AutonomyLevel.L2)
        from requireApproval in ArbMap.Default.GeneratorFor<bool>()
        from blockL2 in ArbMap.Default.GeneratorFor<bool>()
        from autoApprove in ArbMap.Default.GeneratorFor<bool>()
        from dryRun in ArbMap.Default.GeneratorFor<bool>()
        from approval in Gen.Elements(Enum.GetValues<Approval>())
        from target in Gen.Elements(Targets)
        from plugin in ArbMap.Default.GeneratorFor<bool>()
        select new Case(level, requireApproval, blockL2, autoApprove, dryRun, approval, target, plugin);

    /// <summary>The contract's table: may a state-changing call happen in this case?</summary>
    private static bool Allowed(Case c) =>
        !c.DryRun && c.Target.Allowed && c.Level switch
        {
            AutonomyLevel.L1 => c.AutoApprove || c.Approval == Approval.Approve,
            _ => c.Approval == Approval.PromoteSimulation && !c.BlockL2, // L2: only an analyst's "Execute Now", never auto-approved
        };

    private static int StateChangingCalls(Case c)
    {
        var vendor = new Vendor(c.Plugin ? PluginDescriptor : AdapterCatalog.BuiltIn.Find("paloalto")!);
        var registry = new AdapterRegistry([vendor]);
        var (adapter, action) = c.Plugin ? ("netblock", "deny") : ("paloalto", "block_ip");
        var yaml = $$"""
            id: contract
            name: Contract
            version: 1.0.0
            autonomy_level: {{c.Level}}
            trigger: { techniques: [T1110] }
            steps:
              - { id: act, name: Act, action_type: {{action}}, adapter: {{adapter}}, autonomy_level: {{c.Level}}, params: { ip: "{{"{{source.ip}}"}}" } }
            """;
        var loaded = PlaybookLoader.Parse(yaml, "contract.yaml", registry.Catalog);
        Assert.True(loaded.Ok, string.Join("\n", loaded.Errors));
        var policy = GlobalPolicy.Parse($"""
            require_approval: {c.RequireApproval.ToString().ToLowerInvariant()}
            block_l2_execution: {c.BlockL2.ToString().ToLowerInvariant()}
            auto_approve: {"{"} playbooks: [{(c.AutoApprove ? "contract" : "")}] {"}"}
            allow_list: {"{"} ips: [10.1.1.1], cidrs: [10.20.0.0/16] {"}"}
            """, "global_policy.yaml").Value!;
        var now = new DateTimeOffset(2026, 11, 30, 12, 0, 0, TimeSpan.Zero);
        var ctx = new DecisionContext(policy, now, registry, new ExecutionDefaults());
        var alert = new JsonObject { ["event"] = new JsonObject { ["id"] = "a-1" }, ["source"] = new JsonObject { ["ip"] = c.Target.Text } };

        var state = ExecutionState.Empty;
        var runs = new List<RunStep>();
        void Apply(IExecutionCommand command, DecisionContext context)
        {
            var decision = ExecutionDecider.Decide(state, command, context);
            foreach (var e in decision.Events) state = state.Apply(e);
            runs.AddRange(decision.Effects.OfType<RunStep>());
        }
        Apply(new StartExecution("ex-1", "a-1", alert, loaded.Value!, "test", c.DryRun), ctx);
        switch (c.Approval)
        {
            case Approval.Approve: Apply(new ApproveStep("ex-1", null, "alice", null), ctx); break;
            case Approval.Reject: Apply(new RejectStep("ex-1", null, "alice", null), ctx); break;
            case Approval.Expire: Apply(new DeadlineReached("ex-1", "act", "apr-ex-1-act"), ctx with { Now = now + TimeSpan.FromDays(1) }); break;
            case Approval.PromoteSimulation when state.Step("act").SimulationId is { } sim: Apply(new ExecuteSimulation("ex-1", sim, "alice", null), ctx); break;
        }
        foreach (var run in runs)
        {
            var call = new AdapterCall(run.Action, run.Parameters, run.IdempotencyKey, run.DryRun);
            var result = AdapterInvoker.InvokeAsync(vendor, call, policy, registry, CancellationToken.None).GetAwaiter().GetResult();
            Assert.False(result.Success && vendor.StateChanging.IsEmpty && !run.DryRun && result.Output?["dry_run"] is null, "a successful state-changing run must have reached the vendor");
        }
        return vendor.StateChanging.Count;
    }

    [Fact]
    public void No_state_changing_call_happens_unless_the_contract_allows_it()
    {
        var property = Prop.ForAll(Cases.ToArbitrary(), c =>
        {
            var calls = StateChangingCalls(c);
            return (Allowed(c) ? calls == 1 : calls == 0).Label($"{c}: {calls} state-changing call(s), contract {(Allowed(c) ? "allows one" : "allows none")}");
        });
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(int.TryParse(Environment.GetEnvironmentVariable("RBPILOT_PROPERTY_CASES"), out var n) && n > 0 ? n : 1500)
            .WithQuietOnSuccess(true), property);
    }

    [Fact]
    public void Every_combination_of_the_contract_holds()
    {
        // The whole space once (2 levels × 2^4 switches × 5 approval states × every spelling × 2 adapters), so no corner is left to chance.
        var failures = new List<string>();
        foreach (var level in new[] { AutonomyLevel.L1, AutonomyLevel.L2 })
        foreach (var switches in Enumerable.Range(0, 16))
        foreach (var approval in Enum.GetValues<Approval>())
        foreach (var target in Targets)
        foreach (var plugin in new[] { false, true })
        {
            var c = new Case(level, (switches & 1) != 0, (switches & 2) != 0, (switches & 4) != 0, (switches & 8) != 0, approval, target, plugin);
            var calls = StateChangingCalls(c);
            if (calls != (Allowed(c) ? 1 : 0)) failures.Add($"{c}: {calls} call(s)");
        }
        Assert.Empty(failures);
    }
}
