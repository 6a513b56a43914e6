using LinqToDB;

namespace RunbookPilot.Engine.ReadModel;

/// <summary>Reads of the read tables for the CLI, the API and the dashboard.</summary>
public sealed class ReadModelQueries(ReadModelDb db)
{
    public IReadOnlyList<ExecutionRow> Executions(string? playbook = null, string? status = null, DateTimeOffset? since = null, int limit = 100, int offset = 0)
    {
        using var c = db.Open();
        var q = c.GetTable<ExecutionRow>().AsQueryable();
        if (playbook is not null) q = q.Where(r => r.PlaybookId == playbook);
        if (status is not null) q = q.Where(r => r.Status == status);
        if (since is { } s) q = q.Where(r => r.StartedAt >= s);
        return q.OrderByDescending(r => r.StartedAt).ThenBy(r => r.ExecutionId).Skip(offset).Take(limit).ToList();
    }

    /// <summary>Executions with something in progress or waiting, to resume after a restart.</summary>
    public IReadOnlyList<string> OpenExecutionIds()
    {
        using var c = db.Open();
        return c.GetTable<ExecutionRow>().Where(r => r.OpenWork).Select(r => r.ExecutionId).ToList();
    }

    public ExecutionRow? Execution(string executionId)
    {
        using var c = db.Open();
        return c.GetTable<ExecutionRow>().FirstOrDefault(r => r.ExecutionId == executionId);
    }

    public IReadOnlyList<ExecutionLogRow> Log(string executionId)
    {
        using var c = db.Open();
        return c.GetTable<ExecutionLogRow>().Where(r => r.ExecutionId == executionId).OrderBy(r => r.Seq).ToList();
    }

    public IReadOnlyList<ApprovalRow> Approvals(string? status = "pending", string? playbook = null, string? executionId = null)
    {
        using var c = db.Open();
        var q = c.GetTable<ApprovalRow>().AsQueryable();
        if (status is not null) q = q.Where(r => r.Status == status);
        if (playbook is not null) q = q.Where(r => r.PlaybookId == playbook);
        if (executionId is not null) q = q.Where(r => r.ExecutionId == executionId);
        return q.OrderBy(r => r.RequestedAt).ThenBy(r => r.ApprovalId).ToList();
    }

    public IReadOnlyList<SimulationRow> Simulations(string? status = null, string? executionId = null)
    {
        using var c = db.Open();
        var q = c.GetTable<SimulationRow>().AsQueryable();
        if (status is not null) q = q.Where(r => r.Status == status);
        if (executionId is not null) q = q.Where(r => r.ExecutionId == executionId);
        return q.OrderByDescending(r => r.CreatedAt).ThenBy(r => r.SimulationId).ToList();
    }

    /// <summary>Which of these approval and simulation ids the read tables know, in one round trip.</summary>
    public IReadOnlySet<string> KnownQueueItems(IReadOnlyCollection<string> ids)
    {
        using var c = db.Open();
        return c.GetTable<ApprovalRow>().Where(r => ids.Contains(r.ApprovalId)).Select(r => r.ApprovalId)
            .Concat(c.GetTable<SimulationRow>().Where(r => ids.Contains(r.SimulationId)).Select(r => r.SimulationId))
            .ToHashSet(StringComparer.Ordinal);
    }

    public SimulationRow? Simulation(string simulationId)
    {
        using var c = db.Open();
        return c.GetTable<SimulationRow>().FirstOrDefault(r => r.SimulationId == simulationId);
    }

    public EventRow? Event(string alertId)
    {
        using var c = db.Open();
        return c.GetTable<EventRow>().FirstOrDefault(r => r.AlertId == alertId);
    }

    /// <summary>Binding decisions and finished runs, oldest first; for one alert, or the newest <paramref name="limit"/> of all.</summary>
    public IReadOnlyList<RunAuditRow> RunAudit(string? alertId = null, int? bindingId = null, int limit = 1000)
    {
        using var c = db.Open();
        var q = c.GetTable<RunAuditRow>().AsQueryable();
        if (alertId is not null) q = q.Where(r => r.AlertId == alertId);
        if (bindingId is not null) q = q.Where(r => r.BindingId == bindingId);
        return q.OrderByDescending(r => r.Seq).Take(limit).ToList().OrderBy(r => r.Seq).ToList();
    }

    public IReadOnlyList<BindingUsageRow> BindingUsage(int? bindingId = null)
    {
        using var c = db.Open();
        var q = c.GetTable<BindingUsageRow>().AsQueryable();
        if (bindingId is not null) q = q.Where(r => r.BindingId == bindingId);
        return q.OrderBy(r => r.BindingId).ThenBy(r => r.Key).ToList();
    }

    public IReadOnlyList<KillSwitchRow> KillSwitches()
    {
        using var c = db.Open();
        return c.GetTable<KillSwitchRow>().OrderBy(k => k.At).ToList();
    }

    /// <summary>The status of each of these executions, in one round trip.</summary>
    public IReadOnlyDictionary<string, string> StatusOf(IReadOnlyCollection<string> executionIds)
    {
        using var c = db.Open();
        return c.GetTable<ExecutionRow>().Where(r => executionIds.Contains(r.ExecutionId)).Select(r => new { r.ExecutionId, r.Status })
            .ToDictionary(r => r.ExecutionId, r => r.Status, StringComparer.Ordinal);
    }

    /// <summary>The binding decisions recorded at intake for these alerts, in one round trip.</summary>
    public IReadOnlyList<RunAuditRow> DecisionsFor(IReadOnlyCollection<string> alertIds)
    {
        using var c = db.Open();
        return c.GetTable<RunAuditRow>().Where(r => alertIds.Contains(r.AlertId) && r.Phase == "decided").OrderBy(r => r.Seq).ToList();
    }

    public IReadOnlyList<EventRow> Events(int limit = 100)
    {
        using var c = db.Open();
        return c.GetTable<EventRow>().OrderByDescending(r => r.ReceivedAt).Take(limit).ToList();
    }
}
