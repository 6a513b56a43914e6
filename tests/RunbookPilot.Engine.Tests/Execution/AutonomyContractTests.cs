using RunbookPilot.Domain.Adapters;
using RunbookPilot.Engine.Adapters;
using System.Text.Json.Nodes;
using RunbookPilot.Domain.Execution;
using RunbookPilot.Engine.Execution;
using RunbookPilot.Domain.Playbooks;
using RunbookPilot.Domain.Policy;
using RunbookPilot.Domain.Core;

namespace RunbookPilot.Engine.Tests.Execution;

/// <summary>Every row of the autonomy contract (design table) and every policy switch, against <see cref="AutonomyContract"/>.</summary>
public class AutonomyContractTests
{
    private static PlaybookStep Step(AutonomyLevel level, string action = "block_ip", bool? approvalRequired = null, bool? simulation = null) => new()
    {
        Id = "s",
        Name = "s",
        ActionType = action,
        Adapter = "paloalto",
        AutonomyLevel = level,
        ApprovalRequired = approvalRequired,
        SimulationMode = simulation,
    };

    private static GlobalPolicy P(string yaml) => GlobalPolicy.Parse(yaml, "p.yaml").Value!;

    [Theory]
    // level, policy, expected gate, expected reason
    [InlineData(AutonomyLevel.L0, "{}", GateKind.Run, ApprovalReason.L1Action)]
    [InlineData(AutonomyLevel.L0, "require_approval: true", GateKind.AwaitApproval, ApprovalReason.PolicyRequireApproval)]
    [InlineData(AutonomyLevel.L1, "{}", GateKind.AwaitApproval, ApprovalReason.L1Action)]
    [InlineData(AutonomyLevel.L1, "auto_approve: { playbooks: [pb] }", GateKind.AutoApprove, ApprovalReason.L1Action)]
    [InlineData(AutonomyLevel.L1, "auto_approve: { playbooks: [other] }", GateKind.AwaitApproval, ApprovalReason.L1Action)]
    [InlineData(AutonomyLevel.L1, "require_approval: true", GateKind.AwaitApproval, ApprovalReason.L1Action)]
    [InlineData(AutonomyLevel.L2, "{}", GateKind.Simulate, ApprovalReason.SimulationPromoted)]
    [InlineData(AutonomyLevel.L2, "auto_approve: { playbooks: [pb] }", GateKind.Simulate, ApprovalReason.SimulationPromoted)]
    [InlineData(AutonomyLevel.L2, "block_l2_execution: true", GateKind.Simulate, ApprovalReason.SimulationPromoted)]
    public void Contract_rows(AutonomyLevel level, string policy, GateKind kind, ApprovalReason reason)
    {
        var gate = AutonomyContract.Decide(Step(level), "pb", P(policy));
        Assert.Equal((kind, reason), (gate.Kind, gate.Reason));
        Assert.False(string.IsNullOrWhiteSpace(gate.Explanation));
    }

    [Fact]
    public void L1_approval_required_false_does_not_skip_the_gate()
    {
        var gate = AutonomyContract.Decide(Step(AutonomyLevel.L1, approvalRequired: false), "pb", GlobalPolicy.Default);
        Assert.Equal(GateKind.AwaitApproval, gate.Kind);
        Assert.Contains("approval_required: false does not apply", gate.Explanation, StringComparison.Ordinal);
    }

    [Fact]
    public void Simulation_mode_simulates_any_level() =>
        Assert.Equal(GateKind.Simulate, AutonomyContract.Decide(Step(AutonomyLevel.L0, "lookup_ip", simulation: true), "pb", GlobalPolicy.Default).Kind);

    [Fact]
    public void Block_l2_execution_refuses_only_promoted_simulations()
    {
        var policy = P("block_l2_execution: true");
        Assert.NotNull(AutonomyContract.RefuseApproved(ApprovalReason.SimulationPromoted, policy));
        Assert.Null(AutonomyContract.RefuseApproved(ApprovalReason.L1Action, policy));
        Assert.Null(AutonomyContract.RefuseApproved(ApprovalReason.SimulationPromoted, GlobalPolicy.Default));
    }

    [Fact]
    public void Four_eyes_applies_to_listed_action_types()
    {
        var policy = P("approval: { four_eyes_action_types: [isolate_host] }");
        Assert.Equal(2, AutonomyContract.RequiredApprovers(Step(AutonomyLevel.L2, "isolate_host"), policy));
        Assert.Equal(1, AutonomyContract.RequiredApprovers(Step(AutonomyLevel.L1, "block_ip"), policy));
    }

    [Theory]
    [InlineData("ips: [10.1.1.1]", "block_ip", "ip", "10.1.1.1", true)]
    [InlineData("ips: [10.1.1.1]", "block_ip", "ip", "10.1.1.2", false)]
    [InlineData("cidrs: [10.0.0.0/8]", "block_ip", "ip", "10.200.3.4", true)]
    [InlineData("cidrs: [10.0.0.0/8]", "block_ip", "ip", "203.0.113.9", false)]
    [InlineData("hosts: [DC01]", "isolate_host", "hostname", "dc01", true)]
    [InlineData("users: [admin]", "disable_user", "user", "Admin", true)]
    [InlineData("ips: [10.1.1.1]", "unblock_ip", "ip", "10.1.1.1", false)]
    [InlineData("ips: [10.1.1.1]", "lookup_ip", "ip", "10.1.1.1", false)]
    public void Allow_list_protects_containment_targets(string allow, string action, string param, string value, bool refused)
    {
        // disable_user is a plugin's action (the built-in adapters have none): its descriptor's parameter names it a user.
        var descriptor = AdapterCatalog.BuiltIn.Adapters.SelectMany(a => a.Actions).FirstOrDefault(a => a.Name == action)
            ?? new ActionDescriptor(action, ActionKind.Reversible, "plugin action", [param], []);
        var reason = TargetGuard.Check(descriptor, new JsonObject { [param] = value }, P("allow_list:\n  " + allow + "\n")).Refusal;
        Assert.Equal(refused, reason is not null);
    }
}
