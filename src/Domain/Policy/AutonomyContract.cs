using RunbookPilot.Domain.Execution;
using RunbookPilot.Domain.Playbooks;
using RunbookPilot.Domain.Core;

namespace RunbookPilot.Domain.Policy;

public enum GateKind { Run, AwaitApproval, AutoApprove, Simulate, DryRun }

/// <summary>What the autonomy contract says about a step, and why (shown in the timeline and the dashboard's tooltips).</summary>
public sealed record Gate(GateKind Kind, ApprovalReason Reason, string Explanation);

/// <summary>
/// The one rule set that decides whether a step runs (design "The autonomy contract"). Every row of the table is a
/// branch here, and nowhere else:
/// L0 runs at once, unless <c>require_approval</c> (training mode) gates it;
/// L1 waits for approval whatever <c>approval_required</c> says, unless its playbook is in <c>auto_approve</c>;
/// L2 is simulated; "Execute Now" on a simulation is an L1 approval, refused when <c>block_l2_execution</c> is on.
/// A step marked <c>simulation_mode: true</c> is simulated at any level. State-changing steps aimed at a protected
/// target are refused before any call (<see cref="TargetGuard"/>, checked by the decider and again where the adapter is called). An execution started by a <c>dry_run</c> binding sends every step to its adapter in
/// dry-run (nothing external happens), so no step waits for a person; a <c>suggest</c> binding starts no execution at all.
/// </summary>
public static class AutonomyContract
{
    public static Gate Decide(PlaybookStep step, string playbookId, GlobalPolicy policy, bool dryRun = false)
    {
        if (dryRun)
            return new Gate(GateKind.DryRun, ApprovalReason.L1Action, "dry run: the engine records the exact request the adapter would send; no adapter is called, nothing external happens");
        if (step.AutonomyLevel == AutonomyLevel.L2)
            return new Gate(GateKind.Simulate, ApprovalReason.SimulationPromoted, "L2: simulated only; an analyst may execute the simulation");
        if (step.SimulationMode == true)
            return new Gate(GateKind.Simulate, ApprovalReason.SimulationPromoted, "simulation_mode: true: simulated only");
        if (step.AutonomyLevel == AutonomyLevel.L0)
        {
            return policy.RequireApproval
                ? new Gate(GateKind.AwaitApproval, ApprovalReason.PolicyRequireApproval, "L0 waits for approval: global policy require_approval (training mode)")
                : new Gate(GateKind.Run, ApprovalReason.L1Action, "L0: read-only, runs at once");
        }
        if (policy.AutoApprove.Playbooks.Contains(playbookId, StringComparer.Ordinal))
            return new Gate(GateKind.AutoApprove, ApprovalReason.L1Action, $"L1 approved automatically: playbook {playbookId} is listed in global policy auto_approve");
        var note = step.ApprovalRequired == false ? " (the playbook's approval_required: false does not apply to L1)" : "";
        return new Gate(GateKind.AwaitApproval, ApprovalReason.L1Action, "L1: waits for an analyst's approval" + note);
    }

    /// <summary>Two distinct approvers for the action types the policy lists (four-eyes), else one.</summary>
    public static int RequiredApprovers(PlaybookStep step, GlobalPolicy policy) =>
        policy.Approval.FourEyesActionTypes.Contains(step.ActionType, StringComparer.Ordinal) ? 2 : 1;

    /// <summary>Why an approved step must not run anyway, or null. Compliance mode refuses executing L2 simulations.</summary>
    public static string? RefuseApproved(ApprovalReason reason, GlobalPolicy policy) =>
        reason == ApprovalReason.SimulationPromoted && policy.BlockL2Execution
            ? "refused by global policy block_l2_execution (compliance mode): L2 simulations cannot be executed"
            : null;
}
