using System.Net;
using System.Text.Json.Nodes;
using RunbookPilot.Engine.Alerts;
using RunbookPilot.Engine.Execution;
using RunbookPilot.Engine.Playbooks;

namespace RunbookPilot.Engine.Policy;

public enum GateKind { Run, AwaitApproval, AutoApprove, Simulate, DryRun }

/// <summary>What the autonomy contract says about a step, and why (shown in the timeline and the dashboard's tooltips).</summary>
public sealed record Gate(GateKind Kind, ApprovalReason Reason, string Explanation);

/// <summary>
/// The one rule set that decides whether a step runs (design "The autonomy contract"). Every row of the table is a
/// branch here, and nowhere else:
/// L0 runs at once, unless <c>require_approval</c> (training mode) gates it;
/// L1 waits for approval whatever <c>approval_required</c> says, unless its playbook is in <c>auto_approve</c>;
/// L2 is simulated; "Execute Now" on a simulation is an L1 approval, refused when <c>block_l2_execution</c> is on.
/// A step marked <c>simulation_mode: true</c> is simulated at any level. Containment steps aimed at an allow-listed
/// target are refused before any call. An execution started by a <c>dry_run</c> binding sends every step to its adapter in
/// dry-run (nothing external happens), so no step waits for a person; a <c>suggest</c> binding starts no execution at all.
/// </summary>
public static class AutonomyContract
{
    /// <summary>Actions that block or isolate something, checked against the policy's allow-list.</summary>
    public static readonly IReadOnlySet<string> ContainmentActions = new HashSet<string>(StringComparer.Ordinal)
    {
        "block_ip", "isolate_host", "disable_user", "quarantine_host",
    };

    public static Gate Decide(PlaybookStep step, string playbookId, GlobalPolicy policy, bool dryRun = false)
    {
        if (dryRun)
            return new Gate(GateKind.DryRun, ApprovalReason.L1Action, "binding mode dry_run: sent to the adapter in dry-run; nothing external happens");
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

    /// <summary>Why a containment step must not touch its target (allow-listed IP, network, host or user), or null.</summary>
    public static string? ProtectedTarget(PlaybookStep step, JsonObject parameters, GlobalPolicy policy)
    {
        if (!ContainmentActions.Contains(step.ActionType)) return null;
        var allow = policy.AllowList;
        foreach (var (key, value) in parameters)
        {
            if (AlertFields.AsText(value) is not { Length: > 0 } target) continue;
            switch (key)
            {
                case "ip" or "source_ip" or "address" when IPAddress.TryParse(target, out var ip):
                    if (allow.Ips.Any(a => IPAddress.TryParse(a, out var p) && p.Equals(ip)))
                        return $"{target} is on the global policy allow-list (allow_list.ips); {step.ActionType} refused before any call";
                    if (allow.Cidrs.FirstOrDefault(c => IPNetwork.TryParse(c, out var n) && n.Contains(ip)) is { } cidr)
                        return $"{target} is inside allow-listed network {cidr} (allow_list.cidrs); {step.ActionType} refused before any call";
                    break;
                case "hostname" or "host":
                    if (allow.Hosts.Contains(target, StringComparer.OrdinalIgnoreCase))
                        return $"host {target} is on the global policy allow-list (allow_list.hosts); {step.ActionType} refused before any call";
                    break;
                case "user" or "username" or "user_name":
                    if (allow.Users.Contains(target, StringComparer.OrdinalIgnoreCase))
                        return $"user {target} is on the global policy allow-list (allow_list.users); {step.ActionType} refused before any call";
                    break;
            }
        }
        return null;
    }
}
