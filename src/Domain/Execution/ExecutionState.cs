using System.Collections.Immutable;
using System.Text.Json.Nodes;
using RunbookPilot.Domain.Adapters;
using RunbookPilot.Domain.Playbooks;
using RunbookPilot.Domain.Core;

namespace RunbookPilot.Domain.Execution;

public enum StepStatus
{
    /// <summary>Not reached yet, or reached and about to run (a restart runs it again with the same idempotency key).</summary>
    Pending,
    RetryWaiting,
    WaitingApproval,
    /// <summary>Approved and about to run.</summary>
    Approved,
    Succeeded,
    Failed,
    Rejected,
    Expired,
    Refused,
    Simulated,
    SimulationDismissed,
}

public enum RollbackStatus { None, Requested, RolledBack, Failed }

public sealed record ApprovalState(
    string ApprovalId,
    ApprovalReason Reason,
    int RequiredApprovers,
    AdapterRequest? Request,
    DateTimeOffset RequestedAt,
    DateTimeOffset Deadline,
    ImmutableList<string> Approvers)
{
    /// <summary>The step's parameters as rendered for the approval (canonical targets): what the vendor will receive.</summary>
    public JsonObject? Parameters { get; init; }
}

public sealed record StepState
{
    public StepStatus Status { get; init; } = StepStatus.Pending;
    /// <summary>Attempts that ended (failed or succeeded); the next attempt is <c>Attempts + 1</c>.</summary>
    public int Attempts { get; init; }
    public DateTimeOffset? RetryAt { get; init; }
    public JsonNode? Output { get; init; }
    public string? Error { get; init; }
    public ApprovalState? Approval { get; init; }
    public string? SimulationId { get; init; }
    public SimulationRecord? Simulation { get; init; }
    /// <summary>The step was an L2 simulation promoted by an analyst: it runs outside the step order.</summary>
    public bool Promoted { get; init; }
    public DateTimeOffset? SucceededAt { get; init; }
    /// <summary>What the adapter recorded for undoing this step (<see cref="AdapterResult.Undo"/>).</summary>
    public JsonObject? Undo { get; init; }
    /// <summary>The shared effect the step made, as the effect ledger recorded it.</summary>
    public Effects.EffectKey? Effect { get; init; }
    public RollbackStatus Rollback { get; init; }
    public string? RollbackError { get; init; }
    /// <summary>What the rollback returned: the vendor's answer, or the ledger's note that another execution still holds the effect.</summary>
    public JsonNode? RollbackOutput { get; init; }
}

/// <summary>
/// Where an execution stands: built by <see cref="Apply"/> from its events and only from them (recovery replays the
/// journal through it). No I/O, no clock, no randomness.
/// </summary>
public sealed record ExecutionState
{
    public static readonly ExecutionState Empty = new();

    public string ExecutionId { get; init; } = "";
    public string AlertId { get; init; } = "";
    public JsonObject Alert { get; init; } = [];
    public Playbook? Playbook { get; init; }
    public string SelectionReason { get; init; } = "";
    public DateTimeOffset StartedAt { get; init; }
    public DateTimeOffset? CompletedAt { get; init; }
    public ExecutionOutcome? Outcome { get; init; }
    /// <summary>Started by a dry_run binding: every step was sent to its adapter in dry-run.</summary>
    public bool DryRun { get; init; }
    public ImmutableDictionary<string, StepState> Steps { get; init; } = ImmutableDictionary<string, StepState>.Empty;
    /// <summary>Index of the step the execution is at; equals the step count once every step is done.</summary>
    public int Cursor { get; init; }
    /// <summary>Steps still to roll back, newest first; the head is being rolled back.</summary>
    public ImmutableList<string> RollbackQueue { get; init; } = [];
    /// <summary>Enrichments attached for people to read. Display only: <see cref="ExecutionDecider"/> never reads this.</summary>
    public ImmutableList<EnrichmentAttached> Enrichments { get; init; } = [];

    public bool Started => Playbook is not null;
    public bool Finished => Outcome is not null;
    public PlaybookStep? CurrentStep => Playbook is { } pb && Cursor < pb.Steps.Count ? pb.Steps[Cursor] : null;

    public StepState Step(string id) => Steps.GetValueOrDefault(id) ?? new StepState();

    public static bool IsTerminal(StepStatus s) => s is StepStatus.Succeeded or StepStatus.Failed or StepStatus.Rejected or StepStatus.Expired
        or StepStatus.Refused or StepStatus.Simulated or StepStatus.SimulationDismissed;

    /// <summary>Something is in progress or waiting: a step to run, a retry, an approval, a rollback.</summary>
    public bool HasOpenWork =>
        Started && (!Finished || RollbackQueue.Count > 0 || Steps.Values.Any(s => s.Status is StepStatus.Pending or StepStatus.RetryWaiting or StepStatus.WaitingApproval or StepStatus.Approved && s.Promoted));

    /// <summary>
    /// Nothing is running or about to run by itself: the execution is finished or waits only for people (approvals,
    /// simulations). The CLI waits for this before it reports.
    /// </summary>
    public bool Settled =>
        Started && RollbackQueue.Count == 0
        && !Steps.Values.Any(s => s.Status is StepStatus.Approved or StepStatus.RetryWaiting)
        && (Finished || CurrentStep is not { } c || Step(c.Id).Status == StepStatus.WaitingApproval)
        && !Steps.Values.Any(s => s.Promoted && s.Status == StepStatus.Pending);

    /// <summary>
    /// The status shown to people: running, waiting_approval, or the outcome. An execution that reached its end with a
    /// step that failed (an <c>on_failure: continue</c> step, or a promoted simulation's step that ran after the end)
    /// is <c>completed_with_failures</c>, never <c>completed</c>.
    /// </summary>
    public string Status =>
        !Started ? "not_started"
        : Outcome == ExecutionOutcome.Completed && Steps.Values.Any(s => s.Status == StepStatus.Failed) ? "completed_with_failures"
        : Outcome is { } o ? o.ToString().ToLowerInvariant()
        : CurrentStep is { } step && Step(step.Id).Status == StepStatus.WaitingApproval ? "waiting_approval"
        : "running";

    public ExecutionState Apply(IExecutionEvent e) => e switch
    {
        ExecutionStarted s => this with
        {
            ExecutionId = s.ExecutionId,
            AlertId = s.AlertId,
            Alert = s.Alert,
            Playbook = s.Playbook,
            SelectionReason = s.SelectionReason,
            DryRun = s.DryRun,
            StartedAt = s.At,
            Steps = s.Playbook.Steps.ToImmutableDictionary(x => x.Id, _ => new StepState(), StringComparer.Ordinal),
        },
        StepSucceeded x => UpdateStep(x.StepId, st => st with { Status = StepStatus.Succeeded, Attempts = x.Attempt, Output = x.Output, Undo = x.Undo, Effect = x.Effect, SucceededAt = x.At, RetryAt = null, Error = null }),
        StepAttemptFailed x => UpdateStep(x.StepId, st => st with
        {
            Attempts = x.Attempt,
            Error = x.Error,
            RetryAt = x.RetryAt,
            Status = x.RetryAt is null ? st.Status : StepStatus.RetryWaiting,
        }),
        StepFailed x => UpdateStep(x.StepId, st => st with { Status = StepStatus.Failed, Error = x.Error, RetryAt = null }),
        ApprovalRequested x => UpdateStep(x.StepId, st => st with
        {
            Status = StepStatus.WaitingApproval,
            Approval = new ApprovalState(x.ApprovalId, x.Reason, x.RequiredApprovers, x.Request, x.At, x.Deadline, []) { Parameters = x.Parameters },
        }),
        ApprovalVoteRecorded x => UpdateStep(x.StepId, st => st with { Approval = st.Approval! with { Approvers = st.Approval.Approvers.Add(x.Approver) } }),
        StepApproved x => UpdateStep(x.StepId, st => st with
        {
            Status = StepStatus.Approved,
            Approval = st.Approval! with { Approvers = st.Approval.Approvers.Add(x.Approver) },
        }),
        StepRejected x => UpdateStep(x.StepId, st => st with { Status = st.Promoted ? StepStatus.Simulated : StepStatus.Rejected, Promoted = false, Error = "rejected by " + x.By }),
        ApprovalExpired x => UpdateStep(x.StepId, st => st with { Status = st.Promoted ? StepStatus.Simulated : StepStatus.Expired, Promoted = false, Error = "approval expired" }),
        StepSimulated x => UpdateStep(x.StepId, st => st with { Status = StepStatus.Simulated, SimulationId = x.SimulationId, Simulation = x.Simulation }),
        SimulationPromoted x => UpdateStep(x.StepId, st => st with { Promoted = true }),
        SimulationDismissed x => UpdateStep(x.StepId, st => st with { Status = StepStatus.SimulationDismissed }),
        StepRefused x => UpdateStep(x.StepId, st => st with { Status = StepStatus.Refused, Promoted = false, Error = x.Reason }),
        ExecutionCompleted x => this with { Outcome = x.Outcome, CompletedAt = x.At },
        RollbackRequested x => this with
        {
            RollbackQueue = RollbackQueue.AddRange(x.StepIds.Where(id => !RollbackQueue.Contains(id))),
            Steps = x.StepIds.Aggregate(Steps, (acc, id) => acc.SetItem(id, acc[id] with { Rollback = RollbackStatus.Requested })),
        },
        StepRolledBack x => (UpdateStep(x.StepId, st => st with { Rollback = RollbackStatus.RolledBack, RollbackError = null, RollbackOutput = x.Output })) with { RollbackQueue = RollbackQueue.Remove(x.StepId) },
        EnrichmentAttached x => this with { Enrichments = Enrichments.Add(x) },
        StepRollbackFailed x => (UpdateStep(x.StepId, st => st with { Rollback = RollbackStatus.Failed, RollbackError = x.Error })) with { RollbackQueue = RollbackQueue.Remove(x.StepId) },
        _ => this,
    };

    private ExecutionState UpdateStep(string stepId, Func<StepState, StepState> update)
    {
        var updated = this with { Steps = Steps.SetItem(stepId, update(Step(stepId))) };
        // The cursor moves past the current step once it reaches a final status.
        var cursor = updated.Cursor;
        while (updated.Playbook is { } pb && cursor < pb.Steps.Count && IsTerminal(updated.Step(pb.Steps[cursor].Id).Status) && !updated.Step(pb.Steps[cursor].Id).Promoted)
            cursor++;
        return updated with { Cursor = cursor };
    }
}

public static class ExecutionStateFacts
{
    /// <summary>The ATT&amp;CK techniques of the execution's alert and playbook trigger, with their catalogue facts.</summary>
    public static IReadOnlyList<Attack.AttackTechnique> Techniques(this ExecutionState state) =>
        Attack.AttackCatalog.For(state.Alert, state.Playbook?.Trigger.Techniques);
}
