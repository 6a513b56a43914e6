using System.Text.Json;
using RunbookPilot.Domain.Execution;
using RunbookPilot.Engine.Execution;
using RunbookPilot.Engine.Hosting;
using RunbookPilot.Domain.Core;

namespace RunbookPilot.Engine.ReadModel;

/// <summary>One line of an execution's timeline, as people read it.</summary>
public sealed record TimelineEntry(string? StepId, string Kind, int? Attempt, string? Actor, string Detail, string? Request, string? Response);

public static class Timeline
{
    public static TimelineEntry Describe(IExecutionEvent e)
    {
        static string? Json(object? o) => o is null ? null : JsonSerializer.Serialize(o, JsonConventions.Options);
        return e switch
        {
            ExecutionStarted x => new(null, "execution_started", null, null, $"playbook {x.Playbook.Id} {x.Playbook.Version} for alert {x.AlertId} ({x.SelectionReason})", null, null),
            StepSucceeded x => new(x.StepId, "step_succeeded", x.Attempt, null, $"succeeded on attempt {x.Attempt} in {x.DurationMs} ms", Json(x.Request), Json(x.Output)),
            StepAttemptFailed x => new(x.StepId, "attempt_failed", x.Attempt, null,
                $"attempt {x.Attempt} failed: {x.Error}" + (x.RetryAt is { } r ? $"; retry at {r:u}" : ""), Json(x.Request), null),
            StepFailed x => new(x.StepId, "step_failed", null, null, x.Error, null, null),
            ApprovalRequested x => new(x.StepId, "approval_requested", null, null,
                $"waiting for {(x.RequiredApprovers > 1 ? $"{x.RequiredApprovers} distinct approvers" : "approval")} ({Reason(x.Reason)}) until {x.Deadline:u}", Json(x.Request), null),
            ApprovalVoteRecorded x => new(x.StepId, "approval_vote", null, x.Approver, "approved by " + x.Approver + Comment(x.Comment) + "; another approver is needed", null, null),
            StepApproved x => new(x.StepId, "step_approved", null, x.Approver, "approved by " + x.Approver + Comment(x.Comment), null, null),
            StepRejected x => new(x.StepId, "step_rejected", null, x.By, "rejected by " + x.By + Comment(x.Comment), null, null),
            ApprovalExpired x => new(x.StepId, "approval_expired", null, null, "approval expired unanswered", null, null),
            StepSimulated x => new(x.StepId, "step_simulated", null, null,
                $"DRY_RUN: {x.Simulation.Adapter}.{x.Simulation.Action} simulated, nothing called; risk {x.Simulation.RiskScore}/10; expected: {x.Simulation.ExpectedOutcome}", Json(x.Simulation.Request), null),
            SimulationPromoted x => new(x.StepId, "simulation_promoted", null, x.By, "simulation executed by " + x.By + Comment(x.Comment), null, null),
            SimulationDismissed x => new(x.StepId, "simulation_dismissed", null, x.By, "simulation dismissed by " + x.By + Comment(x.Comment), null, null),
            StepRefused x => new(x.StepId, "step_refused", null, null, x.Reason, null, null),
            ExecutionCompleted x => new(null, "execution_" + x.Outcome.ToString().ToLowerInvariant(), null, null, x.Summary, null, null),
            RollbackRequested x => new(null, "rollback_requested", null, x.By, $"rollback of {string.Join(", ", x.StepIds)} requested by {x.By}" + Comment(x.Reason), null, null),
            StepRolledBack x => new(x.StepId, "step_rolled_back", null, null,
                x.Output?["note"] is { } note ? "rolled back (hold released, vendor not called): " + note : "rolled back", Json(x.Request), Json(x.Output)),
            StepRollbackFailed x => new(x.StepId, "rollback_failed", null, null, "rollback failed: " + x.Error, null, null),
            EnrichmentAttached x => new(null, "enrichment", null, null, x.Status == "ready"
                ? $"{EnrichmentAttached.AiLabel} {x.Type} ({x.Model}{(x.Cached ? ", cached" : "")}): {x.Text}"
                : $"enrichment unavailable ({x.Type}): {x.Reason}", null, null),
            _ => new(null, e.GetType().Name, null, null, "", null, null),
        };
    }

    public static string Reason(ApprovalReason r) => r switch
    {
        ApprovalReason.L1Action => "L1 action",
        ApprovalReason.PolicyRequireApproval => "policy require_approval",
        _ => "promoted L2 simulation",
    };

    private static string Comment(string? c) => string.IsNullOrWhiteSpace(c) ? "" : $": \"{c}\"";
}
