using LinqToDB;
using LinqToDB.Data;

namespace RunbookPilot.Engine.ReadModel;

/// <summary>One playbook's figures: volume, outcomes, and mean times (seconds) from alert to response start (MTTD) and to end (MTTR).</summary>
public sealed record PlaybookMetrics(string PlaybookId, int Executions, int Completed, int Failed, int Waiting, double? MttdSeconds, double? MttrSeconds, int RolledBack)
{
    public int Finished => Executions - Waiting;
    public double? SuccessRate => Finished == 0 ? null : (double)Completed / Finished;
}

/// <summary>
/// The metrics page (US-014), aggregated in SQL so it answers quickly over a large read model: per playbook MTTD (alert
/// accepted → execution started) and MTTR (alert accepted → execution ended), success rate; approval rate (with the
/// rubber-stamp warning above 95 %, PRD risk R2), rollback rate (executions with a rolled-back step, the false-positive
/// signal), simulation precision (share of decided L2 simulations analysts promoted, US-010), and volume per day.
/// </summary>
public sealed record MetricsSummary(
    IReadOnlyList<PlaybookMetrics> Playbooks,
    int ApprovalsDecided,
    int ApprovalsApproved,
    int SimulationsDecided,
    int SimulationsPromoted,
    IReadOnlyList<(DateOnly Day, int Count)> Volume)
{
    public const double RubberStampThreshold = 0.95;

    public int Executions => Playbooks.Sum(p => p.Executions);
    public double? ApprovalRate => ApprovalsDecided == 0 ? null : (double)ApprovalsApproved / ApprovalsDecided;
    public bool RubberStamp => ApprovalsDecided >= 20 && ApprovalRate > RubberStampThreshold;
    public double? SimulationPrecision => SimulationsDecided == 0 ? null : (double)SimulationsPromoted / SimulationsDecided;
    public double? RollbackRate => Playbooks.Sum(p => p.Completed) is var c and > 0 ? (double)Playbooks.Sum(p => p.RolledBack) / c : null;
    public double? SuccessRate => Playbooks.Sum(p => p.Finished) is var f and > 0 ? (double)Playbooks.Sum(p => p.Completed) / f : null;

    public static MetricsSummary Compute(ReadModelDb readModel, DateTimeOffset now, int days = 14)
    {
        using var db = readModel.Open();
        var postgres = db.DataProvider.Name.Contains("PostgreSQL", StringComparison.OrdinalIgnoreCase);
        string Seconds(string from, string to) => postgres ? $"EXTRACT(EPOCH FROM ({to} - {from}))" : $"(julianday({to}) - julianday({from})) * 86400.0";
        var perPlaybook = db.Query<PlaybookRow>($"""
            SELECT x.playbook_id AS PlaybookId, COUNT(*) AS Executions,
                   SUM(CASE WHEN x.status = 'completed' THEN 1 ELSE 0 END) AS Completed,
                   SUM(CASE WHEN x.status IN ('failed', 'completed_with_failures', 'refused', 'expired', 'rejected') THEN 1 ELSE 0 END) AS Failed,
                   SUM(CASE WHEN x.status IN ('running', 'waiting_approval') THEN 1 ELSE 0 END) AS Waiting,
                   AVG({Seconds("e.received_at", "x.started_at")}) AS Mttd,
                   AVG(CASE WHEN x.completed_at IS NOT NULL THEN {Seconds("e.received_at", "x.completed_at")} END) AS Mttr
            FROM executions x LEFT JOIN events e ON e.alert_id = x.alert_id
            GROUP BY x.playbook_id ORDER BY x.playbook_id
            """).ToList();
        var rolledBack = db.Query<KeyCount>("""
            SELECT x.playbook_id AS Key, COUNT(DISTINCT l.execution_id) AS Count FROM execution_log l JOIN executions x ON x.execution_id = l.execution_id
            WHERE l.kind = 'step_rolled_back' GROUP BY x.playbook_id
            """).ToDictionary(r => r.Key, r => r.Count, StringComparer.Ordinal);
        var approvals = db.GetTable<ApprovalRow>().Where(a => a.Status != "pending").GroupBy(a => a.Status).Select(g => new { g.Key, Count = g.Count() })
            .ToDictionary(g => g.Key, g => g.Count);
        var simulations = db.GetTable<SimulationRow>().GroupBy(s => s.Status).Select(g => new { g.Key, Count = g.Count() }).ToDictionary(g => g.Key, g => g.Count);
        var since = now.AddDays(-days).UtcDateTime;
        var volume = db.Query<KeyCount>(
            postgres
                ? "SELECT to_char(started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS Key, COUNT(*) AS Count FROM executions WHERE started_at >= @since GROUP BY 1 ORDER BY 1"
                : "SELECT substr(started_at, 1, 10) AS Key, COUNT(*) AS Count FROM executions WHERE started_at >= @since GROUP BY 1 ORDER BY 1",
            new DataParameter("since", new DateTimeOffset(since, TimeSpan.Zero))).ToList();
        return new MetricsSummary(
            perPlaybook.Select(p => new PlaybookMetrics(p.PlaybookId, p.Executions, p.Completed, p.Failed, p.Waiting, p.Mttd, p.Mttr,
                rolledBack.GetValueOrDefault(p.PlaybookId))).ToList(),
            approvals.Where(a => a.Key is "approved" or "rejected" or "expired").Sum(a => a.Value),
            approvals.GetValueOrDefault("approved"),
            simulations.Where(s => s.Key is "executed" or "promoted" or "dismissed").Sum(s => s.Value),
            simulations.Where(s => s.Key is "executed" or "promoted").Sum(s => s.Value),
            volume.Select(v => (DateOnly.Parse(v.Key, System.Globalization.CultureInfo.InvariantCulture), v.Count)).ToList());
    }

    private sealed class KeyCount
    {
        public string Key { get; set; } = "";
        public int Count { get; set; }
    }

    private sealed class PlaybookRow
    {
        public string PlaybookId { get; set; } = "";
        public int Executions { get; set; }
        public int Completed { get; set; }
        public int Failed { get; set; }
        public int Waiting { get; set; }
        public double? Mttd { get; set; }
        public double? Mttr { get; set; }
    }
}
