using LinqToDB.Mapping;

namespace RunbookPilot.Engine.ReadModel;

/// <summary>An accepted alert (PRD F2.5): its status follows its executions (pending, running, completed, failed, no_match, unrecognised_format).</summary>
[Table("events")]
public sealed class EventRow
{
    [PrimaryKey, Column("alert_id")] public string AlertId { get; set; } = "";
    [Column("format"), NotNull] public string Format { get; set; } = "";
    [Column("source"), NotNull] public string Source { get; set; } = "";
    [Column("received_at")] public DateTimeOffset ReceivedAt { get; set; }
    /// <summary>The alert's own time (<c>@timestamp</c>, else <c>event.created</c>): MTTD runs from it to <see cref="ReceivedAt"/>.</summary>
    [Column("alert_time"), Nullable] public DateTimeOffset? AlertTime { get; set; }
    [Column("status"), NotNull] public string Status { get; set; } = "pending";
    [Column("playbooks"), NotNull] public string Playbooks { get; set; } = "";
    [Column("document"), NotNull] public string Document { get; set; } = "";
}

[Table("executions")]
public sealed class ExecutionRow
{
    [PrimaryKey, Column("execution_id")] public string ExecutionId { get; set; } = "";
    [Column("alert_id"), NotNull] public string AlertId { get; set; } = "";
    [Column("playbook_id"), NotNull] public string PlaybookId { get; set; } = "";
    [Column("playbook_version"), NotNull] public string PlaybookVersion { get; set; } = "";
    [Column("status"), NotNull] public string Status { get; set; } = "";
    [Column("current_step"), Nullable] public string? CurrentStep { get; set; }
    [Column("selection_reason"), NotNull] public string SelectionReason { get; set; } = "";
    [Column("started_at")] public DateTimeOffset StartedAt { get; set; }
    [Column("completed_at"), Nullable] public DateTimeOffset? CompletedAt { get; set; }
    [Column("updated_at")] public DateTimeOffset UpdatedAt { get; set; }
    [Column("summary"), NotNull] public string Summary { get; set; } = "";
    /// <summary>Something is in progress or waiting (a step, a retry, an approval, a rollback): resumed at start-up.</summary>
    [Column("open_work")] public bool OpenWork { get; set; }
    [Column("dry_run")] public bool DryRun { get; set; }
    /// <summary>When the last state-changing step succeeded (the response): MTTR runs to it, else to the execution's end.</summary>
    [Column("responded_at"), Nullable] public DateTimeOffset? RespondedAt { get; set; }
}

/// <summary>
/// The timeline of an execution (PRD F3.5): one row per journaled transition, with request and response. Append-only
/// (triggers refuse UPDATE and DELETE) and hash-chained: <see cref="Hash"/> covers the row and the previous row's hash,
/// in <see cref="ChainIndex"/> order, so <see cref="AuditChain.Verify"/> finds the first altered or missing row.
/// </summary>
[Table("execution_log")]
public sealed class ExecutionLogRow
{
    [Column("chain_index"), NotNull] public long ChainIndex { get; set; }
    [Column("prev_hash"), NotNull] public string PrevHash { get; set; } = "";
    [Column("hash"), NotNull] public string Hash { get; set; } = "";
    [PrimaryKey, Column("execution_id")] public string ExecutionId { get; set; } = "";
    [PrimaryKey, Column("seq")] public long Seq { get; set; }
    [Column("at")] public DateTimeOffset At { get; set; }
    [Column("step_id"), Nullable] public string? StepId { get; set; }
    [Column("kind"), NotNull] public string Kind { get; set; } = "";
    [Column("status"), NotNull] public string Status { get; set; } = "";
    [Column("attempt"), Nullable] public int? Attempt { get; set; }
    [Column("actor"), Nullable] public string? Actor { get; set; }
    [Column("detail"), NotNull] public string Detail { get; set; } = "";
    [Column("request"), Nullable] public string? Request { get; set; }
    [Column("response"), Nullable] public string? Response { get; set; }
    /// <summary>The journal event this row was projected from, and the SHA-256 of its stored bytes (covered by the MAC).</summary>
    [Column("journal_ordering"), Nullable] public long? JournalOrdering { get; set; }
    [Column("journal_hash"), Nullable] public string? JournalHash { get; set; }
}

[Table("approvals")]
public sealed class ApprovalRow
{
    [PrimaryKey, Column("approval_id")] public string ApprovalId { get; set; } = "";
    [Column("execution_id"), NotNull] public string ExecutionId { get; set; } = "";
    [Column("step_id"), NotNull] public string StepId { get; set; } = "";
    [Column("step_name"), NotNull] public string StepName { get; set; } = "";
    [Column("playbook_id"), NotNull] public string PlaybookId { get; set; } = "";
    [Column("autonomy_level"), NotNull] public string AutonomyLevel { get; set; } = "";
    [Column("action"), NotNull] public string Action { get; set; } = "";
    [Column("reason"), NotNull] public string Reason { get; set; } = "";
    [Column("status"), NotNull] public string Status { get; set; } = "pending";
    [Column("required_approvers")] public int RequiredApprovers { get; set; } = 1;
    [Column("approvers"), NotNull] public string Approvers { get; set; } = "";
    [Column("requested_at")] public DateTimeOffset RequestedAt { get; set; }
    [Column("deadline")] public DateTimeOffset Deadline { get; set; }
    [Column("decided_at"), Nullable] public DateTimeOffset? DecidedAt { get; set; }
    [Column("decided_by"), Nullable] public string? DecidedBy { get; set; }
    [Column("comment"), Nullable] public string? Comment { get; set; }
    [Column("request"), Nullable] public string? Request { get; set; }
    [Column("rollback_available")] public bool RollbackAvailable { get; set; }
    /// <summary>The alert's and playbook's ATT&amp;CK techniques from the offline catalogue (JSON: id, name, tactics, url).</summary>
    [Column("attack_context"), Nullable] public string? AttackContext { get; set; }
}

/// <summary>L2 simulations, labelled DRY_RUN (PRD F6.2, US-010), kept apart from the execution log.</summary>
[Table("simulations")]
public sealed class SimulationRow
{
    [PrimaryKey, Column("simulation_id")] public string SimulationId { get; set; } = "";
    [Column("label"), NotNull] public string Label { get; set; } = "DRY_RUN";
    [Column("execution_id"), NotNull] public string ExecutionId { get; set; } = "";
    [Column("step_id"), NotNull] public string StepId { get; set; } = "";
    [Column("playbook_id"), NotNull] public string PlaybookId { get; set; } = "";
    [Column("adapter"), NotNull] public string Adapter { get; set; } = "";
    [Column("action"), NotNull] public string Action { get; set; } = "";
    [Column("method"), NotNull] public string Method { get; set; } = "";
    [Column("request"), NotNull] public string Request { get; set; } = "";
    [Column("expected_outcome"), NotNull] public string ExpectedOutcome { get; set; } = "";
    [Column("risk_score")] public int RiskScore { get; set; }
    [Column("risk_factors"), NotNull] public string RiskFactors { get; set; } = "";
    [Column("recommendation"), NotNull] public string Recommendation { get; set; } = "";
    [Column("status"), NotNull] public string Status { get; set; } = "simulated";
    [Column("created_at")] public DateTimeOffset CreatedAt { get; set; }
    [Column("decided_at"), Nullable] public DateTimeOffset? DecidedAt { get; set; }
    [Column("decided_by"), Nullable] public string? DecidedBy { get; set; }
}

[Table("projection_offsets")]
public sealed class ProjectionOffsetRow
{
    [PrimaryKey, Column("name")] public string Name { get; set; } = "";
    [Column("offset")] public long Offset { get; set; }
}

/// <summary>Bindings as last saved (a deleted binding keeps its row with <see cref="Deleted"/> set, so audit rows still name it).</summary>
[Table("playbook_bindings")]
public sealed class BindingRow
{
    [PrimaryKey, Column("binding_id")] public int BindingId { get; set; }
    [Column("playbook_id"), NotNull] public string PlaybookId { get; set; } = "";
    [Column("mode"), NotNull] public string Mode { get; set; } = "";
    [Column("enabled")] public bool Enabled { get; set; }
    [Column("priority")] public int Priority { get; set; }
    [Column("spec"), NotNull] public string Spec { get; set; } = "";
    [Column("created_by"), NotNull] public string CreatedBy { get; set; } = "";
    [Column("created_at")] public DateTimeOffset CreatedAt { get; set; }
    [Column("updated_by"), NotNull] public string UpdatedBy { get; set; } = "";
    [Column("updated_at")] public DateTimeOffset UpdatedAt { get; set; }
    [Column("deleted")] public bool Deleted { get; set; }
}

/// <summary>
/// One row per binding decision (<see cref="Phase"/> decided) and one per run that ended (<see cref="Phase"/> finished).
/// Append-only (triggers refuse UPDATE and DELETE). <see cref="BindingId"/> null: the implicit binding.
/// </summary>
[Table("playbook_run_audit")]
public sealed class RunAuditRow
{
    [PrimaryKey, Column("audit_id")] public string AuditId { get; set; } = "";
    [Column("seq")] public long Seq { get; set; }
    [Column("alert_id"), NotNull] public string AlertId { get; set; } = "";
    [Column("binding_id"), Nullable] public int? BindingId { get; set; }
    [Column("playbook_id"), NotNull] public string PlaybookId { get; set; } = "";
    [Column("mode"), NotNull] public string Mode { get; set; } = "";
    [Column("decision"), NotNull] public string Decision { get; set; } = "";
    [Column("phase"), NotNull] public string Phase { get; set; } = "decided";
    [Column("success"), Nullable] public bool? Success { get; set; }
    [Column("reason"), Nullable] public string? Reason { get; set; }
    [Column("guardrail_key"), NotNull] public string Key { get; set; } = "";
    [Column("execution_id"), Nullable] public string? ExecutionId { get; set; }
    [Column("decided_by"), Nullable] public string? By { get; set; }
    [Column("started_at")] public DateTimeOffset StartedAt { get; set; }
    [Column("finished_at"), Nullable] public DateTimeOffset? FinishedAt { get; set; }
    [Column("output_ref"), Nullable] public string? OutputRef { get; set; }
    [Column("journal_ordering"), Nullable] public long? JournalOrdering { get; set; }
    [Column("journal_hash"), Nullable] public string? JournalHash { get; set; }
    [Column("chain_index"), Nullable] public long? ChainIndex { get; set; }
    [Column("prev_hash"), Nullable] public string? PrevHash { get; set; }
    [Column("hash"), Nullable] public string? Hash { get; set; }
}

/// <summary>Guardrail state per binding and key (the implicit binding is not limited, so it has no row).</summary>
[Table("playbook_binding_usage")]
public sealed class BindingUsageRow
{
    [PrimaryKey, Column("binding_id")] public int BindingId { get; set; }
    [PrimaryKey, Column("guardrail_key")] public string Key { get; set; } = "";
    [Column("tokens")] public double Tokens { get; set; }
    [Column("refilled_at")] public DateTimeOffset RefilledAt { get; set; }
    [Column("quota_day"), NotNull] public string QuotaDay { get; set; } = "";
    [Column("quota_used")] public int QuotaUsed { get; set; }
    [Column("inflight")] public int InFlight { get; set; }
    [Column("last_run_at"), Nullable] public DateTimeOffset? LastRunAt { get; set; }
    [Column("circuit_open")] public bool CircuitOpen { get; set; }
    [Column("updated_at")] public DateTimeOffset UpdatedAt { get; set; }
}

/// <summary>Kill switches that are on (global: target empty).</summary>
[Table("kill_switches")]
public sealed class KillSwitchRow
{
    [PrimaryKey, Column("scope")] public string Scope { get; set; } = "";
    [PrimaryKey, Column("target")] public string Target { get; set; } = "";
    [Column("paused_by"), NotNull] public string By { get; set; } = "";
    [Column("reason"), Nullable] public string? Reason { get; set; }
    [Column("paused_at")] public DateTimeOffset At { get; set; }
}

/// <summary>
/// The enrichment cache (F7.5): one model answer per alert fingerprint (rules, techniques, entities — not ids or times),
/// playbook version, enrichment type and model. Only answers are cached; "unavailable" is not.
/// </summary>
[Table("enrichments")]
public sealed class EnrichmentRow
{
    [PrimaryKey, Column("fingerprint")] public string Fingerprint { get; set; } = "";
    [PrimaryKey, Column("playbook_id")] public string PlaybookId { get; set; } = "";
    [PrimaryKey, Column("playbook_version")] public string PlaybookVersion { get; set; } = "";
    [PrimaryKey, Column("type")] public string Type { get; set; } = "";
    [PrimaryKey, Column("model")] public string Model { get; set; } = "";
    [Column("text"), NotNull] public string Text { get; set; } = "";
    [Column("prompt_tokens")] public int PromptTokens { get; set; }
    [Column("completion_tokens")] public int CompletionTokens { get; set; }
    [Column("first_execution_id"), NotNull] public string FirstExecutionId { get; set; } = "";
    [Column("created_at")] public DateTimeOffset CreatedAt { get; set; }
}
