using RunbookPilot.Domain.Alerts;
using RunbookPilot.Domain.Attack;
using RunbookPilot.Domain.Bindings;
using RunbookPilot.Domain.Execution;
using RunbookPilot.Engine.Api;
using RunbookPilot.Engine.Hosting;
using RunbookPilot.Engine.Metrics;
using RunbookPilot.Engine.ReadModel;

namespace RunbookPilot.Web.Services;

/// <summary>An approval waiting for an analyst, with what the queue shows beside it.</summary>
public sealed record QueueItem(ApprovalRow Approval, DateTimeOffset? StartedAt, string AlertLine, IReadOnlyList<EnrichmentAttached> Enrichments, IReadOnlyList<AttackTechnique> Attack)
{
    /// <summary>The effect ledger's notice for the step ("203.0.113.9 blocked on paloalto: already held by ex-…"), when another execution holds the same effect.</summary>
    public string? EffectNotice { get; init; }

    /// <summary>The step's parameters as the vendor will receive them (the targets of the plain line).</summary>
    public System.Text.Json.Nodes.JsonObject? Parameters { get; init; }

    /// <summary>What the execution's earlier steps found (VirusTotal's verdict, Splunk's hit count…).</summary>
    public IReadOnlyList<Evidence> Evidence { get; init; } = [];

    /// <summary>The alert's severity (event.severity or kibana.alert.severity) and host, for sorting and filtering the queue.</summary>
    public string? Severity { get; init; }
    public string? Host { get; init; }

    /// <summary>The execution's own playbook (frozen at its start) declares a rollback for this step: it can be undone.</summary>
    public bool Undoable { get; init; }

    /// <summary>What the approval would do to what ("Block 10.0.0.1 on the PAN-OS firewall"): equal for duplicates.</summary>
    public string Target { get; init; } = "";

    /// <summary>0 for critical … 4 for unknown: the queue's "most severe first".</summary>
    public int SeverityRank => Severity?.ToLowerInvariant() switch { "critical" => 0, "high" => 1, "medium" => 2, "low" => 3, _ => 4 };
}

/// <summary>An L2 simulation waiting for "Execute Now" or "Dismiss".</summary>
public sealed record SimulationItem(SimulationRow Simulation, string AlertLine, IReadOnlyList<EnrichmentAttached> Enrichments)
{
    /// <summary>The parameters the step would run with (its targets).</summary>
    public System.Text.Json.Nodes.JsonObject? Parameters { get; init; }

    /// <summary>The execution's own playbook declares a rollback for this step.</summary>
    public bool Undoable { get; init; }
}

/// <summary>The queue as shown: at most <see cref="DashboardData.QueueLimit"/> of each kind, with the totals.</summary>
public sealed record ApprovalQueue(IReadOnlyList<QueueItem> Pending, IReadOnlyList<SimulationItem> Simulations, IReadOnlyList<ApprovalRow> Refused,
    IReadOnlyList<SimulationRow> RefusedSimulations, int TotalPending, int TotalSimulations, DateTimeOffset? OldestPendingAt);

/// <summary>
/// What the dashboard reads and does, over the application layer of this process (no HTTP in between): the approval
/// queue from the approval-queue actor, live figures from the metrics actor, history from the read model (caught up by
/// the application layer), and the same decisions the API and the CLI take. It keeps no application logic of its own.
/// </summary>
public sealed class DashboardData(RunbookPilotEngine engine)
{
    /// <summary>Cards shown per kind; each needs its execution's state (AI context), so a flood of approvals stays cheap to show.</summary>
    public const int QueueLimit = 200;

    public RunbookPilotEngine Engine => engine;

    /// <summary>Now, by the engine's clock (approval deadlines are set by it).</summary>
    public DateTimeOffset Now => engine.Time.GetUtcNow();

    public async Task<ApprovalQueue> QueueAsync(CancellationToken ct = default)
    {
        var q = await engine.Approvals.QueueAsync(QueueLimit, ct);
        return new ApprovalQueue(
            await Task.WhenAll(q.Pending.Select(async a => new QueueItem(a.Approval, a.State!.StartedAt, Presenters.AlertLine(a.State.Alert), a.State.Enrichments, a.State.Techniques())
            {
                Parameters = a.State.Step(a.Approval.StepId).Approval?.Parameters,
                Target = DecisionPresenter.What(a.Approval.Action, a.State.Step(a.Approval.StepId).Approval?.Parameters, engine.AdapterCatalog),
                Undoable = Undoable(a.State, a.Approval.StepId),
                Severity = AlertFields.Text(a.State.Alert, "event.severity") ?? AlertFields.Text(a.State.Alert, "kibana.alert.severity"),
                Host = AlertFields.Text(a.State.Alert, "host.name"),
                Evidence = DecisionPresenter.EvidenceBefore(a.State, a.Approval.StepId),
                EffectNotice = (await engine.Effects.ForExecutionAsync(a.State, ct)).FirstOrDefault(e => e.StepId == a.Approval.StepId && e.OtherHolders.Count > 0)?.Notice(rollingBack: false),
            })),
            q.Simulations.Select(s => new SimulationItem(s.Simulation, Presenters.AlertLine(s.State!.Alert), s.State.Enrichments)
            {
                Parameters = s.State.Step(s.Simulation.StepId).Simulation?.Parameters,
                Undoable = Undoable(s.State, s.Simulation.StepId),
            }).ToList(),
            q.Refused, q.RefusedSimulations, q.TotalPending, q.TotalSimulations, q.OldestPendingAt);
    }

    public Task<IReadOnlyList<ExecutionRow>> ExecutionsAsync(string? playbook, string? status, int page, int pageSize, CancellationToken ct = default) =>
        engine.Read.ExecutionsAsync(playbook, status, limit: pageSize, offset: page * pageSize, ct: ct);

    public Task<ExecutionDetail?> ExecutionAsync(string id, CancellationToken ct = default) => engine.Executions.DetailAsync(id, ct: ct);

    public Task<CommandResult> ApproveAsync(string executionId, string? stepId, string user, string? comment) => Decide(DecisionKind.Approve, executionId, stepId, user, comment);

    public Task<CommandResult> RejectAsync(string executionId, string? stepId, string user, string? comment) => Decide(DecisionKind.Reject, executionId, stepId, user, comment);

    public Task<CommandResult> RollbackAsync(string executionId, string? stepId, string user, string? reason) => Decide(DecisionKind.Rollback, executionId, stepId, user, reason);

    /// <summary>Whether the execution's own playbook (frozen at its start) declares a rollback for this step: what "can be undone" means.</summary>
    public static bool Undoable(ExecutionState state, string stepId) =>
        state.Playbook is { } pb && pb.Rollback.ContainsKey(stepId) && pb.FindStep(stepId)?.RollbackAvailable == true;

    /// <summary>How long a decision waits for the step it started before it says "still running".</summary>
    public static readonly TimeSpan ResultWait = TimeSpan.FromSeconds(15);

    /// <summary>Approve, reject or roll back, and tell the person the step's result once it is known.</summary>
    private async Task<CommandResult> Decide(DecisionKind kind, string executionId, string? stepId, string user, string? comment)
    {
        var decided = await engine.Executions.DecideAsync(kind, executionId, stepId, user, comment);
        return kind == DecisionKind.Reject ? decided.Result : await engine.Executions.ResultAsync(decided, kind == DecisionKind.Rollback, ResultWait);
    }

    public async Task<CommandResult> ExecuteSimulationAsync(SimulationRow s, string user) =>
        await engine.Executions.ResultAsync(await engine.Executions.DecideSimulationAsync(true, s.SimulationId, user, null), rollback: false, ResultWait);

    public async Task<CommandResult> DismissSimulationAsync(SimulationRow s, string user) => (await engine.Executions.DecideSimulationAsync(false, s.SimulationId, user, null)).Result;

    /// <summary>Approves exactly these approvals (the ones the analyst reviewed), each naming its step; how many were
    /// approved and the refusals. An approval that arrived after the review is not among them.</summary>
    public async Task<(int Approved, IReadOnlyList<string> Problems)> ApproveManyAsync(IReadOnlyList<ApprovalRow> approvals, string user)
    {
        var outcomes = new List<DecisionOutcome>();
        foreach (var a in approvals) outcomes.Add(await engine.Executions.DecideAsync(DecisionKind.Approve, a.ExecutionId, a.StepId, user, "bulk approval"));
        return (outcomes.Count(o => o.Result.Ok && o.Result.Code != "already_decided"),
            outcomes.Where(o => !o.Result.Ok || o.Result.Code == "already_decided").Select(o => $"{o.ExecutionId}: {o.Result.Message}").ToList());
    }

    public Task<MetricsSummary> MetricsAsync(CancellationToken ct = default) => engine.Read.SummaryAsync(Now, ct);

    public Task<LiveFigures> LiveFiguresAsync(CancellationToken ct = default) => engine.Approvals.LiveFiguresAsync(ct);

    public Task<DateTimeOffset?> OldestPendingAsync(CancellationToken ct = default) => engine.Approvals.OldestPendingAsync(ct);

    /// <summary>A waiting time as people read it: "42 s", "17 min", "3 h 05 min".</summary>
    public static string Age(TimeSpan t) => t < TimeSpan.FromMinutes(1) ? $"{Math.Max(0, (int)t.TotalSeconds)} s"
        : t < TimeSpan.FromHours(1) ? $"{(int)t.TotalMinutes} min" : $"{(int)t.TotalHours} h {t.Minutes:00} min";

    // ---- bindings and alerts --------------------------------------------------------------------------------

    public Task<BindingsView> BindingsAsync() => engine.Bindings.ListAsync();

    public Task<BindingResult> SaveBindingAsync(BindingSpec spec, string user) => engine.Bindings.SaveAsync(spec, user);

    public Task<BindingResult> DeleteBindingAsync(int id, string user) => engine.Bindings.DeleteAsync(id, user);

    public Task<PauseResult> PauseAsync(PauseScope scope, string target, bool paused, string user, string? reason) => engine.Bindings.PauseAsync(scope, target, paused, user, reason);

    /// <summary>The newest alerts and what became of each (the alerts list).</summary>
    public Task<IReadOnlyList<AlertFate>> AlertFatesAsync(int limit) => engine.Selection.FatesAsync(limit);

    public Task<Alert?> AlertAsync(string alertId) => engine.Read.StoredAlertAsync(alertId);

    public Task<List<BindingDecision>> PreviewAsync(Alert alert) => engine.Bindings.PreviewAsync(alert);

    public Task<BindingRunResult> RunBindingAsync(Alert alert, int bindingId, BindingMode mode, string user, string? reason) =>
        engine.Bindings.RunAsync(alert, bindingId, mode, user, reason);

    public Task<IReadOnlyList<RunAuditRow>> AuditAsync(string alertId) => engine.Read.RunAuditAsync(alertId);
}
