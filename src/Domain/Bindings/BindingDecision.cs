using RunbookPilot.Domain.Yaml;

namespace RunbookPilot.Domain.Bindings;

/// <summary>
/// One binding's decision for one alert. <c>held</c>: the kill switch is on for it (global, its playbook or the binding);
/// the alert waits and is decided again on resume. <c>skipped_duplicate</c>: a repeat within <c>once_within</c>;
/// <c>skipped_circuit_open</c>: the binding's circuit is open.
/// </summary>
public enum BindingDecisionKind
{
    Suggested, DryRan, Ran, SkippedRateLimited, SkippedConcurrency, SkippedQuota, SkippedDisabled, SkippedDuplicate, SkippedCircuitOpen, Held, Failed,
}

/// <summary>
/// A binding's usage after a decision that consumed it: tokens left in the bucket (-1: no rate limit) as of
/// <see cref="RefilledAt"/>, the quota day (in the binding's time zone) and runs that day, and the last run (for once_within).
/// </summary>
public sealed record UsageSnapshot(double Tokens, DateTimeOffset RefilledAt, DateOnly QuotaDay, int QuotaUsed, DateTimeOffset? LastRunAt);

/// <summary>
/// A decision as journaled (inside the intake's events) and audited. <see cref="BindingId"/> null: the implicit binding
/// of a playbook whose trigger matched and that no binding names. <see cref="Usage"/> carries the usage it left, so
/// replaying the journal restores guardrail state exactly.
/// </summary>
public sealed record BindingDecision(
    int? BindingId,
    string PlaybookId,
    BindingMode Mode,
    BindingDecisionKind Decision,
    string? Reason,
    string Key,
    string? ExecutionId,
    UsageSnapshot? Usage,
    bool Trip,
    bool OpensCircuit,
    string? By,
    DateTimeOffset At)
{
    [System.Text.Json.Serialization.JsonIgnore]
    public bool StartsExecution => Decision is BindingDecisionKind.Ran or BindingDecisionKind.DryRan;

    public static string Name(BindingDecisionKind kind) => ModelShape.SnakeCase(kind.ToString());

    public static string Name(BindingMode mode) => ModelShape.SnakeCase(mode.ToString());
}
