using System.Text.Json.Nodes;
using RunbookPilot.Domain.Adapters;
using RunbookPilot.Domain.Playbooks;
using RunbookPilot.Domain.Core;

namespace RunbookPilot.Domain.Execution;

/// <summary>A message for one execution entity (routed by <see cref="ExecutionId"/> through the shard region).</summary>
public interface IWithExecutionId
{
    string ExecutionId { get; }
}

/// <summary>An instruction to an execution. Imperative; answered with a <see cref="CommandResult"/> where a reply is expected.</summary>
public interface IExecutionCommand : IWithExecutionId, IClusterMessage;

/// <summary>Start an execution. <paramref name="DryRun"/> (a binding in mode dry_run): every step goes to its adapter in dry-run; nothing external happens.</summary>
public sealed record StartExecution(string ExecutionId, string AlertId, JsonObject Alert, Playbook Playbook, string SelectionReason, bool DryRun = false) : IExecutionCommand;

/// <summary>The result of one attempt, sent by the step runner.</summary>
/// <summary>An attempt's result, from its step runner. <see cref="Effect"/>: the shared effect as the effect ledger recorded it (a device id resolved to its host).</summary>
public sealed record RecordAttempt(string ExecutionId, string StepId, int Attempt, bool Rollback, AdapterResult Result, long DurationMs) : IExecutionCommand
{
    public Effects.EffectKey? Effect { get; init; }
}

public sealed record RetryDue(string ExecutionId, string StepId, int Attempt, bool Rollback) : IExecutionCommand;

public sealed record ApproveStep(string ExecutionId, string? StepId, string Approver, string? Comment) : IExecutionCommand;

public sealed record RejectStep(string ExecutionId, string? StepId, string By, string? Comment) : IExecutionCommand;

public sealed record DeadlineReached(string ExecutionId, string StepId, string ApprovalId) : IExecutionCommand;

public sealed record ExecuteSimulation(string ExecutionId, string SimulationId, string By, string? Comment) : IExecutionCommand;

public sealed record DismissSimulation(string ExecutionId, string SimulationId, string By, string? Comment) : IExecutionCommand;

public sealed record RequestRollback(string ExecutionId, string? StepId, string By, string? Reason) : IExecutionCommand;

/// <summary>Sent to an execution when the system starts (or on demand): re-issues whatever work it has open.</summary>
public sealed record ResumeExecution(string ExecutionId) : IExecutionCommand;

/// <summary>
/// Attach an enrichment (LLM text, or why there is none) to the execution's record. It is shown to people and recorded in
/// the execution log; the decider never reads it, so nothing a model writes can change what runs.
/// </summary>
public sealed record AttachEnrichment(string ExecutionId, EnrichmentAttached Enrichment) : IExecutionCommand;

/// <summary>Asks for the current <see cref="ExecutionSnapshot"/>.</summary>
public sealed record GetExecution(string ExecutionId) : IExecutionCommand;

/// <summary>The answer to a command. <see cref="Code"/> is machine-readable: ok, vote_recorded, already_decided, refused, not_found, invalid.</summary>
public sealed record CommandResult(bool Ok, string Code, string Message) : IClusterMessage
{
    public static CommandResult Done(string message) => new(true, "ok", message);
    public static CommandResult Invalid(string message) => new(false, "invalid", message);
}

/// <summary>A reply to <see cref="GetExecution"/>.</summary>
public sealed record ExecutionSnapshot(ExecutionState State, bool Settled) : IClusterMessage;

/// <summary>Work the actor performs after persisting a decision.</summary>
public abstract record Effect;

/// <summary>Run one attempt of a step (or of its rollback) in a child actor.</summary>
/// <summary>Run one attempt of a step or of its rollback. <see cref="Effect"/>: the shared effect it makes or undoes (the effect ledger is asked around the call).</summary>
public sealed record RunStep(string StepId, int Attempt, bool Rollback, string Adapter, string Action, JsonObject Parameters, string IdempotencyKey, TimeSpan Timeout, bool DryRun = false) : Effect
{
    public Effects.EffectKey? Effect { get; init; }
}

public sealed record ScheduleRetry(string StepId, int Attempt, bool Rollback, DateTimeOffset At) : Effect;

public sealed record ArmDeadline(string StepId, string ApprovalId, DateTimeOffset At) : Effect;

/// <summary>What a command decided: the events to persist (in order, all at once), then the effects and the reply.</summary>
public sealed record Decision(IReadOnlyList<IExecutionEvent> Events, IReadOnlyList<Effect> Effects, CommandResult? Reply)
{
    public static Decision Nothing(CommandResult? reply = null) => new([], [], reply);
}
