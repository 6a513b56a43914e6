using System.Text.Json.Nodes;
using RunbookPilot.Domain.Adapters;
using RunbookPilot.Domain.Playbooks;
using RunbookPilot.Domain.Core;

namespace RunbookPilot.Domain.Execution;

/// <summary>
/// A fact in an execution's journal. Past tense, immutable, serialised as JSON under a stable manifest (<see cref="EventManifests"/>).
/// Where events travel as a list (between nodes), each names its type by the same manifest.
/// </summary>
[System.Text.Json.Serialization.JsonPolymorphic(TypeDiscriminatorPropertyName = "$event")]
[System.Text.Json.Serialization.JsonDerivedType(typeof(ExecutionStarted), "execution-started.v1")]
[System.Text.Json.Serialization.JsonDerivedType(typeof(StepSucceeded), "step-succeeded.v1")]
[System.Text.Json.Serialization.JsonDerivedType(typeof(StepAttemptFailed), "step-attempt-failed.v1")]
[System.Text.Json.Serialization.JsonDerivedType(typeof(StepFailed), "step-failed.v1")]
[System.Text.Json.Serialization.JsonDerivedType(typeof(ApprovalRequested), "approval-requested.v1")]
[System.Text.Json.Serialization.JsonDerivedType(typeof(ApprovalVoteRecorded), "approval-vote-recorded.v1")]
[System.Text.Json.Serialization.JsonDerivedType(typeof(StepApproved), "step-approved.v1")]
[System.Text.Json.Serialization.JsonDerivedType(typeof(StepRejected), "step-rejected.v1")]
[System.Text.Json.Serialization.JsonDerivedType(typeof(ApprovalExpired), "approval-expired.v1")]
[System.Text.Json.Serialization.JsonDerivedType(typeof(StepSimulated), "step-simulated.v1")]
[System.Text.Json.Serialization.JsonDerivedType(typeof(SimulationPromoted), "simulation-promoted.v1")]
[System.Text.Json.Serialization.JsonDerivedType(typeof(SimulationDismissed), "simulation-dismissed.v1")]
[System.Text.Json.Serialization.JsonDerivedType(typeof(StepRefused), "step-refused.v1")]
[System.Text.Json.Serialization.JsonDerivedType(typeof(ExecutionCompleted), "execution-completed.v1")]
[System.Text.Json.Serialization.JsonDerivedType(typeof(RollbackRequested), "rollback-requested.v1")]
[System.Text.Json.Serialization.JsonDerivedType(typeof(StepRolledBack), "step-rolled-back.v1")]
[System.Text.Json.Serialization.JsonDerivedType(typeof(StepRollbackFailed), "step-rollback-failed.v1")]
[System.Text.Json.Serialization.JsonDerivedType(typeof(EnrichmentAttached), "enrichment-attached.v1")]
public interface IExecutionEvent
{
    DateTimeOffset At { get; }
}

/// <summary>An event about one step.</summary>
public interface IStepEvent : IExecutionEvent
{
    string StepId { get; }
}

public enum ExecutionOutcome { Completed, Failed, Rejected, Expired, Refused }

/// <summary>What an L2 step would have done (PRD F6.3): the full request, the expected outcome and a risk score with its reasons.</summary>
public sealed record SimulationRecord(
    string Adapter,
    string Action,
    AdapterRequest? Request,
    JsonObject Parameters,
    string ExpectedOutcome,
    int RiskScore,
    IReadOnlyList<string> RiskFactors,
    string Recommendation);

/// <summary>The execution began, with a frozen copy of the playbook version it runs and the alert that triggered it.</summary>
public sealed record ExecutionStarted(string ExecutionId, string AlertId, JsonObject Alert, Playbook Playbook, string SelectionReason, DateTimeOffset At, bool DryRun = false) : IExecutionEvent;

/// <summary>The step succeeded. <see cref="Undo"/>: what the adapter recorded for its inverse (a reversible action's rollback uses it).</summary>
public sealed record StepSucceeded(string StepId, int Attempt, JsonNode? Output, AdapterRequest? Request, long DurationMs, DateTimeOffset At, JsonObject? Undo = null) : IStepEvent
{
    /// <summary>The shared effect the step made, as the effect ledger recorded it; its rollback releases this very key.</summary>
    public Effects.EffectKey? Effect { get; init; }
}

/// <summary>One attempt failed; <see cref="RetryAt"/> is set when another attempt is planned.</summary>
public sealed record StepAttemptFailed(string StepId, int Attempt, string Error, AdapterRequest? Request, DateTimeOffset? RetryAt, DateTimeOffset At) : IStepEvent;

/// <summary>The step failed for good (retries exhausted or not retryable).</summary>
public sealed record StepFailed(string StepId, string Error, DateTimeOffset At) : IStepEvent;

public sealed record ApprovalRequested(string StepId, string ApprovalId, ApprovalReason Reason, int RequiredApprovers, AdapterRequest? Request, JsonObject Parameters, DateTimeOffset Deadline, DateTimeOffset At) : IStepEvent;

/// <summary>One of several required approvals (four-eyes) was given.</summary>
public sealed record ApprovalVoteRecorded(string StepId, string ApprovalId, string Approver, string? Comment, DateTimeOffset At) : IStepEvent;

public sealed record StepApproved(string StepId, string ApprovalId, string Approver, string? Comment, DateTimeOffset At) : IStepEvent;

public sealed record StepRejected(string StepId, string ApprovalId, string By, string? Comment, DateTimeOffset At) : IStepEvent;

public sealed record ApprovalExpired(string StepId, string ApprovalId, DateTimeOffset At) : IStepEvent;

public sealed record StepSimulated(string StepId, string SimulationId, SimulationRecord Simulation, DateTimeOffset At) : IStepEvent;

/// <summary>An analyst pressed "Execute Now" on a simulation; it continues as an L1 approval.</summary>
public sealed record SimulationPromoted(string StepId, string SimulationId, string By, string? Comment, DateTimeOffset At) : IStepEvent;

public sealed record SimulationDismissed(string StepId, string SimulationId, string By, string? Comment, DateTimeOffset At) : IStepEvent;

/// <summary>Policy refused the step before any call (allow-listed target, compliance mode, empty target).</summary>
public sealed record StepRefused(string StepId, string Reason, DateTimeOffset At) : IStepEvent;

public sealed record ExecutionCompleted(ExecutionOutcome Outcome, string Summary, DateTimeOffset At) : IExecutionEvent;

/// <summary>Rollback of these steps was asked for, newest first.</summary>
public sealed record RollbackRequested(IReadOnlyList<string> StepIds, string By, string? Reason, DateTimeOffset At) : IExecutionEvent;

public sealed record StepRolledBack(string StepId, JsonNode? Output, AdapterRequest? Request, DateTimeOffset At) : IStepEvent;

public sealed record StepRollbackFailed(string StepId, string Error, DateTimeOffset At) : IStepEvent;

/// <summary>
/// Manifest strings of the journal: never CLR type names, so a rename does not break an old journal. A new version of
/// an event gets a new manifest (<c>.v2</c>) and the old one stays readable.
/// </summary>
/// <summary>
/// An enrichment was attached (AI-GENERATED text shown beside the execution, never read by the decider). <see cref="Status"/>
/// ready or unavailable (then <see cref="Reason"/> says why); <see cref="Cached"/>: reused for a repeat of the same alert.
/// </summary>
public sealed record EnrichmentAttached(string Type, string Status, string? Text, string? Reason, string Model, bool Cached, int PromptTokens, int CompletionTokens,
    DateTimeOffset At) : IExecutionEvent
{
    /// <summary>The label model text carries wherever it is shown.</summary>
    public const string AiLabel = "AI-GENERATED";
}

public static class EventManifests
{
    public static readonly IReadOnlyDictionary<Type, string> ByType = new Dictionary<Type, string>
    {
        [typeof(ExecutionStarted)] = "execution-started.v1",
        [typeof(StepSucceeded)] = "step-succeeded.v1",
        [typeof(StepAttemptFailed)] = "step-attempt-failed.v1",
        [typeof(StepFailed)] = "step-failed.v1",
        [typeof(ApprovalRequested)] = "approval-requested.v1",
        [typeof(ApprovalVoteRecorded)] = "approval-vote-recorded.v1",
        [typeof(StepApproved)] = "step-approved.v1",
        [typeof(StepRejected)] = "step-rejected.v1",
        [typeof(ApprovalExpired)] = "approval-expired.v1",
        [typeof(StepSimulated)] = "step-simulated.v1",
        [typeof(SimulationPromoted)] = "simulation-promoted.v1",
        [typeof(SimulationDismissed)] = "simulation-dismissed.v1",
        [typeof(StepRefused)] = "step-refused.v1",
        [typeof(ExecutionCompleted)] = "execution-completed.v1",
        [typeof(RollbackRequested)] = "rollback-requested.v1",
        [typeof(StepRolledBack)] = "step-rolled-back.v1",
        [typeof(StepRollbackFailed)] = "step-rollback-failed.v1",
        [typeof(EnrichmentAttached)] = "enrichment-attached.v1",
    };

}
