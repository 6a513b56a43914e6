using System.Text.Json.Nodes;
using Akka.Actor;
using Akka.Hosting;
using RunbookPilot.Domain.Alerts;
using RunbookPilot.Engine.ReadModel;

namespace RunbookPilot.Engine.Api;

/// <summary>
/// The read side for every front end: each query first has the projector catch up with the journal (one request to the
/// projector singleton; requests arriving together are served by one run), so what a page, a command or a response
/// shows includes everything journaled before it asked.
/// </summary>
public sealed class ReadApi(IRequiredActor<ReadModelProjector> projector, ReadModelDb db, Configuration.PlaybookCatalog catalog, Domain.Adapters.AdapterRegistry adapters)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    /// <summary>The tables as they stand, without catching up (the engine's own start-up work, tests).</summary>
    public ReadModelQueries Tables { get; } = new(db);

    public Task CatchUpAsync(CancellationToken ct = default) => CatchUpAsync(ReadModelProjector.CatchUp.Instance.Budget, ct);

    /// <summary>Catches up within <paramref name="budget"/> (start-up allows minutes); fails rather than answer from stale tables.</summary>
    public Task CatchUpAsync(TimeSpan budget, CancellationToken ct = default) =>
        projector.ActorRef.Ask<ReadModelProjector.Done>(new ReadModelProjector.CatchUp(budget), budget + TimeSpan.FromSeconds(5), ct);

    private async Task<T> Fresh<T>(Func<ReadModelQueries, T> query, CancellationToken ct)
    {
        await CatchUpAsync(ct).ConfigureAwait(false);
        return query(Tables);
    }

    public Task<IReadOnlyList<ExecutionRow>> ExecutionsAsync(string? playbook = null, string? status = null, DateTimeOffset? since = null, int limit = 100, int offset = 0,
        CancellationToken ct = default) => Fresh(q => q.Executions(playbook, status, since, limit, offset), ct);

    public Task<ExecutionRow?> ExecutionAsync(string executionId, CancellationToken ct = default) => Fresh(q => q.Execution(executionId), ct);

    public Task<IReadOnlyList<ExecutionLogRow>> LogAsync(string executionId, CancellationToken ct = default) => Fresh(q => q.Log(executionId), ct);

    public Task<IReadOnlyList<ApprovalRow>> ApprovalsAsync(string? status = "pending", string? playbook = null, string? executionId = null, CancellationToken ct = default) =>
        Fresh(q => q.Approvals(status, playbook, executionId), ct);

    public Task<IReadOnlyList<SimulationRow>> SimulationsAsync(string? status = null, string? executionId = null, CancellationToken ct = default) =>
        Fresh(q => q.Simulations(status, executionId), ct);

    public Task<SimulationRow?> SimulationAsync(string simulationId, CancellationToken ct = default) => Fresh(q => q.Simulation(simulationId), ct);

    public Task<EventRow?> EventAsync(string alertId, CancellationToken ct = default) => Fresh(q => q.Event(alertId), ct);

    public Task<IReadOnlyList<EventRow>> EventsAsync(int limit = 100, CancellationToken ct = default) => Fresh(q => q.Events(limit), ct);

    public Task<IReadOnlyList<RunAuditRow>> RunAuditAsync(string? alertId = null, int? bindingId = null, int limit = 1000, CancellationToken ct = default) =>
        Fresh(q => q.RunAudit(alertId, bindingId, limit), ct);

    public Task<IReadOnlyList<BindingUsageRow>> BindingUsageAsync(int? bindingId = null, CancellationToken ct = default) => Fresh(q => q.BindingUsage(bindingId), ct);

    /// <summary>An accepted alert as stored, or null.</summary>
    public async Task<Alert?> StoredAlertAsync(string alertId, CancellationToken ct = default) =>
        (Tables.Event(alertId) ?? await Fresh(q => q.Event(alertId), ct).ConfigureAwait(false)) is { } row && JsonNode.Parse(row.Document) is JsonObject doc
            ? new Alert(row.AlertId, doc, row.Format)
            : null;

    public Task<AuditVerification> VerifyAuditAsync(CancellationToken ct = default) => Fresh(_ => AuditChain.Verify(db), ct);

    /// <summary>The metrics page's history (per playbook MTTD/MTTR, approval and rollback rates, volume per day).</summary>
    public Task<MetricsSummary> SummaryAsync(DateTimeOffset now, CancellationToken ct = default) => Fresh(_ => MetricsSummary.Compute(db, now, ManualMinutes), ct);

    /// <summary>A step's minutes by hand: its own <c>manual_minutes</c>, else its action's estimate (5 for a step no longer in the playbooks).</summary>
    private int ManualMinutes(string playbookId, string stepId)
    {
        var step = catalog.Current.Library.Playbooks.FirstOrDefault(p => p.Id == playbookId)?.FindStep(stepId);
        return step is null ? 5 : step.ManualMinutes ?? adapters.Catalog.Find(step.Adapter)?.Find(step.ActionType)?.ManualMinutes ?? 5;
    }

    /// <summary>The projector's offset and lag (a gauge, /health, ops status).</summary>
    public Task<ReadModelProjector.Position> PositionAsync(CancellationToken ct = default) =>
        projector.ActorRef.Ask<ReadModelProjector.Position>(ReadModelProjector.GetPosition.Instance, Timeout, ct);

    /// <summary>Drops the read tables and projects the journal again; returns the offset reached.</summary>
    public Task<long> RebuildAsync(CancellationToken ct = default) =>
        projector.ActorRef.Ask<long>(ReadModelProjector.Rebuild.Instance, TimeSpan.FromHours(1), ct);
}
