using RunbookPilot.Engine.Metrics;

namespace RunbookPilot.Engine.Ingestion;

/// <summary>Registry key of the alert intake (a cluster singleton).</summary>
public sealed class AlertIntake;

/// <summary>
/// Settings of the intake: the implicit binding switch, the binding instruments, how often it saves a snapshot, and how
/// long an alert id is remembered to recognise a repeat (webhook retries come within minutes; 7 days by default).
/// </summary>
public sealed record IntakeSettings(bool ImplicitBindings, BindingMetrics Metrics)
{
    /// <summary>Structured log lines for guardrail skips and circuit openings.</summary>
    public Microsoft.Extensions.Logging.ILogger Log { get; init; } = Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;
    public int SnapshotEvery { get; init; } = 10_000;
    public TimeSpan DedupeWindow { get; init; } = TimeSpan.FromDays(7);
}
