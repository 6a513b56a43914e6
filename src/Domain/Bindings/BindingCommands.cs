using RunbookPilot.Domain.Alerts;
using RunbookPilot.Domain.Core;

namespace RunbookPilot.Domain.Bindings;

/// <summary>Create (no id) or change (with id) a binding; answered with <see cref="BindingResult"/>.</summary>
public sealed record SaveBinding(BindingSpec Spec, string By) : IClusterMessage;

public sealed record DeleteBinding(int BindingId, string By) : IClusterMessage;

/// <summary>The outcome of a binding change: the binding, or the problems (field path and message) that refused it.</summary>
public sealed record BindingResult(PlaybookBinding? Binding, IReadOnlyList<(string Path, string Message)> Problems, bool NotFound = false) : IClusterMessage;

/// <summary>Asks for the bindings with their live guardrail state; answered with <see cref="BindingsView"/>.</summary>
public sealed record GetBindings : IClusterMessage
{
    public static readonly GetBindings Instance = new();
}

public sealed record BindingView(PlaybookBinding Binding, int InFlight, int QuotaRemaining, bool CircuitOpen, PauseState? Paused);

public sealed record BindingsView(IReadOnlyList<BindingView> Bindings, IReadOnlyList<PauseState> Pauses, int HeldAlerts) : IClusterMessage;

/// <summary>What the bindings would decide for an alert now; changes nothing. Answered with the decisions.</summary>
public sealed record PreviewBindings(Alert Alert) : IClusterMessage;

/// <summary>A manual run of a binding for an alert: bypasses guardrails, not the autonomy contract. Answered with <see cref="BindingRunResult"/>.</summary>
public sealed record RunBinding(Alert Alert, int BindingId, BindingMode? Mode, string By, string? Reason) : IClusterMessage;

public sealed record BindingRunResult(BindingDecision? Decision, string? Error) : IClusterMessage;

/// <summary>Turn a kill switch on or off; answered with <see cref="PauseResult"/>.</summary>
public sealed record SetPause(PauseScope Scope, string Target, bool Paused, string By, string? Reason) : IClusterMessage;

public sealed record PauseResult(bool Ok, string Message, int Released) : IClusterMessage;

/// <summary>What each binding would decide for an alert now (<see cref="PreviewBindings"/>; nothing runs).</summary>
public sealed record BindingsPreview(IReadOnlyList<BindingDecision> Decisions) : IClusterMessage;
