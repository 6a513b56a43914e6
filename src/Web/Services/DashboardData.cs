using System.Text.Json.Nodes;
using LinqToDB;
using RunbookPilot.Domain.Attack;
using RunbookPilot.Domain.Alerts;
using RunbookPilot.Domain.Bindings;
using RunbookPilot.Engine.Enrichment;
using RunbookPilot.Domain.Execution;
using RunbookPilot.Engine.Execution;
using RunbookPilot.Engine.Hosting;
using RunbookPilot.Domain.Intake;
using RunbookPilot.Engine.Ingestion;
using RunbookPilot.Engine.ReadModel;

namespace RunbookPilot.Web.Services;

/// <summary>An approval waiting for an analyst, with what the queue shows beside it.</summary>
public sealed record QueueItem(ApprovalRow Approval, ExecutionRow? Execution, string AlertLine, IReadOnlyList<EnrichmentAttached> Enrichments, IReadOnlyList<AttackTechnique> Attack);

/// <summary>An L2 simulation waiting for "Execute Now" or "Dismiss".</summary>
public sealed record SimulationItem(SimulationRow Simulation, ExecutionRow? Execution, string AlertLine, IReadOnlyList<EnrichmentAttached> Enrichments);

/// <summary>The queue as shown: at most <see cref="DashboardData.QueueLimit"/> of each kind (oldest first), with the totals.</summary>
public sealed record ApprovalQueue(IReadOnlyList<QueueItem> Pending, IReadOnlyList<SimulationItem> Simulations, IReadOnlyList<ApprovalRow> Refused,
    IReadOnlyList<SimulationRow> RefusedSimulations, int TotalPending, int TotalSimulations);

public sealed record ExecutionDetails(ExecutionRow Row, ExecutionState State, IReadOnlyList<ExecutionLogRow> Log, IReadOnlyList<ApprovalRow> Approvals,
    IReadOnlyList<SimulationRow> Simulations, string AlertLine);

/// <summary>
/// What the dashboard reads and does, straight over the engine of this process (no HTTP in between): read-model queries
/// (caught up with the journal first, so a page shows what just happened) and the same commands the API sends.
/// </summary>
public sealed class DashboardData(RunbookPilotEngine engine)
{
    private static readonly TimeSpan CatchUp = TimeSpan.FromSeconds(5);

    /// <summary>Cards shown per kind; each needs its execution's state (AI context), so a flood of approvals stays cheap to show.</summary>
    public const int QueueLimit = 200;

    public RunbookPilotEngine Engine => engine;

    /// <summary>Now, by the engine's clock (approval deadlines are set by it).</summary>
    public DateTimeOffset Now => engine.Time.GetUtcNow();

    public async Task<ApprovalQueue> QueueAsync(CancellationToken ct = default)
    {
        await engine.Projector.CatchUpAsync(CatchUp, ct);
        var q = engine.Queries;
        var allPending = q.Approvals("pending");
        var allSimulations = q.Simulations("simulated");
        var pending = allPending.Take(QueueLimit).ToList();
        var simulations = allSimulations.Take(QueueLimit).ToList();
        var states = new Dictionary<string, ExecutionState>(StringComparer.Ordinal);
        foreach (var id in pending.Select(a => a.ExecutionId).Concat(simulations.Select(s => s.ExecutionId)).Distinct())
            states[id] = (await engine.GetAsync(id, ct)).State;
        return new ApprovalQueue(
            pending.Select(a => new QueueItem(a, q.Execution(a.ExecutionId), AlertLine(states[a.ExecutionId].Alert), states[a.ExecutionId].Enrichments,
                states[a.ExecutionId].Techniques())).ToList(),
            simulations.Select(s => new SimulationItem(s, q.Execution(s.ExecutionId), AlertLine(states[s.ExecutionId].Alert), states[s.ExecutionId].Enrichments)).ToList(),
            q.Approvals("refused").TakeLast(20).ToList(),
            q.Simulations("refused").TakeLast(20).ToList(),
            allPending.Count,
            allSimulations.Count);
    }

    public async Task<IReadOnlyList<ExecutionRow>> ExecutionsAsync(string? playbook, string? status, int page, int pageSize, CancellationToken ct = default)
    {
        await engine.Projector.CatchUpAsync(CatchUp, ct);
        return engine.Queries.Executions(playbook, status, limit: pageSize, offset: page * pageSize);
    }

    public async Task<ExecutionDetails?> ExecutionAsync(string id, CancellationToken ct = default)
    {
        await engine.Projector.CatchUpAsync(CatchUp, ct);
        if (engine.Queries.Execution(id) is not { } row) return null;
        var state = (await engine.GetAsync(id, ct)).State;
        return new ExecutionDetails(row, state, engine.Queries.Log(id), engine.Queries.Approvals(null, executionId: id), engine.Queries.Simulations(null, id), AlertLine(state.Alert));
    }

    public Task<CommandResult> ApproveAsync(string executionId, string? stepId, string user, string? comment) => engine.SendAsync(new ApproveStep(executionId, stepId, user, comment));

    public Task<CommandResult> RejectAsync(string executionId, string? stepId, string user, string? comment) => engine.SendAsync(new RejectStep(executionId, stepId, user, comment));

    public Task<CommandResult> RollbackAsync(string executionId, string? stepId, string user) => engine.SendAsync(new RequestRollback(executionId, stepId, user, null));

    public Task<CommandResult> ExecuteSimulationAsync(SimulationRow s, string user) => engine.SendAsync(new ExecuteSimulation(s.ExecutionId, s.SimulationId, user, null));

    public Task<CommandResult> DismissSimulationAsync(SimulationRow s, string user) => engine.SendAsync(new DismissSimulation(s.ExecutionId, s.SimulationId, user, null));

    /// <summary>Approves every pending approval of a playbook; returns how many were approved and the refusals.</summary>
    public async Task<(int Approved, IReadOnlyList<string> Problems)> BulkApproveAsync(string playbook, string user)
    {
        await engine.Projector.CatchUpAsync(CatchUp);
        var problems = new List<string>();
        var approved = 0;
        foreach (var a in engine.Queries.Approvals("pending", playbook))
        {
            var r = await engine.SendAsync(new ApproveStep(a.ExecutionId, a.StepId, user, "bulk approval"));
            if (r.Ok) approved++;
            else problems.Add($"{a.ExecutionId}: {r.Message}");
        }
        return (approved, problems);
    }

    public async Task<MetricsSummary> MetricsAsync(CancellationToken ct = default)
    {
        await engine.Projector.CatchUpAsync(CatchUp, ct);
        return MetricsSummary.Compute(new ReadModelDb(engine.Options), DateTimeOffset.UtcNow);
    }

    // ---- bindings and alerts --------------------------------------------------------------------------------

    public Task<BindingsView> BindingsAsync() => engine.BindingsAsync();

    public Task<BindingResult> SaveBindingAsync(BindingSpec spec, string user) => engine.SaveBindingAsync(spec, user);

    public Task<BindingResult> DeleteBindingAsync(int id, string user) => engine.DeleteBindingAsync(id, user);

    public Task<PauseResult> PauseAsync(PauseScope scope, string target, bool paused, string user, string? reason) => engine.SetPauseAsync(scope, target, paused, user, reason);

    public Task<Alert?> AlertAsync(string alertId) => engine.StoredAlertAsync(alertId);

    public Task<List<BindingDecision>> PreviewAsync(Alert alert) => engine.PreviewBindingsAsync(alert);

    public Task<BindingRunResult> RunBindingAsync(Alert alert, int bindingId, BindingMode mode, string user, string? reason) =>
        engine.RunBindingAsync(alert, bindingId, mode, user, reason);

    public async Task<IReadOnlyList<RunAuditRow>> AuditAsync(string alertId)
    {
        await engine.Projector.CatchUpAsync(CatchUp);
        return engine.Queries.RunAudit(alertId);
    }

    /// <summary>An alert in one line: techniques, rule, who talked to whom, where.</summary>
    public static string AlertLine(JsonObject alert)
    {
        var parts = new List<string>();
        var techniques = AlertFields.Texts(alert, "threat.technique.subtechnique.id").Concat(AlertFields.Texts(alert, "threat.technique.id")).Distinct().Take(2).ToList();
        if (techniques.Count > 0) parts.Add(string.Join("/", techniques));
        if ((AlertFields.Text(alert, "rule.name") ?? AlertFields.Text(alert, "rule.id")) is { } rule) parts.Add($"rule {rule}");
        if (AlertFields.Text(alert, "source.ip") is { } src) parts.Add($"from {src}");
        if (AlertFields.Text(alert, "destination.ip") is { } dst) parts.Add($"to {dst}");
        if ((AlertFields.Text(alert, "host.name") ?? AlertFields.Text(alert, "source.host.name")) is { } host) parts.Add($"on {host}");
        if (AlertFields.Text(alert, "user.name") is { } user) parts.Add($"user {user}");
        var line = parts.Count > 0 ? string.Join(" ", parts) : AlertFields.Text(alert, "event.id") ?? "alert";
        return PromptBuilder.Clean(line);
    }
}
