using RunbookPilot.Domain.Alerts;
using RunbookPilot.Domain.Bindings;
using RunbookPilot.Domain.Core;

namespace RunbookPilot.Domain.Intake;

/// <summary>Accept an alert. <paramref name="DryRun"/> (<c>runbookpilot execute --dry-run</c>, PRD F5.4): every selected
/// playbook runs in dry-run, without bindings, guardrails or their usage; the caller gives the alert an id of its own.</summary>
public sealed record SubmitAlert(Alert Alert, string Source, bool DryRun = false) : IClusterMessage;

/// <summary>The alert is durable. <see cref="Duplicate"/>: its id was seen before, and these are the first submission's executions.</summary>
public sealed record AlertAccepted(string AlertId, bool Duplicate, IReadOnlyList<SelectedPlaybook> Selected, IReadOnlyList<BindingDecision>? Decisions = null) : IClusterMessage;

/// <summary>Asks the intake how many accepted alerts still wait for their executions to start.</summary>
public sealed record GetBacklog : IClusterMessage
{
    public static readonly GetBacklog Instance = new();
}

public sealed record Backlog(int AlertsWaitingForExecutions) : IClusterMessage;

/// <summary>A binding decision was journaled, or a binding run ended (for /ws, the dashboard and metrics).</summary>
public sealed record BindingAudited(string AlertId, BindingDecision Decision, bool Finished, bool? Success, DateTimeOffset? FinishedAt) : IClusterMessage
{
    /// <summary>The node it happened on, when relayed from another node of the cluster; null on its own node.</summary>
    public string? Origin { get; init; }
}

/// <summary>A kill switch or a binding's circuit changed (for /ws and the dashboard).</summary>
public sealed record ControlChanged(string Kind, string Message, DateTimeOffset At) : IClusterMessage
{
    /// <summary>The node it happened on, when relayed from another node of the cluster; null on its own node.</summary>
    public string? Origin { get; init; }
}
