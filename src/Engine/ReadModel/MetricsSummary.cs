using LinqToDB;
using LinqToDB.Data;

namespace RunbookPilot.Engine.ReadModel;

/// <summary>
/// One playbook's figures. Outcomes: <see cref="Failed"/> counts executions that failed or completed with a failed step;
/// rejected, expired (people's decisions) and refused (policy) are outcomes of their own, not failures. Mean times in
/// seconds: MTTD from the alert's own time to its acceptance, MTTR from acceptance to the last state-changing step's
/// success (or the execution's end). <see cref="MinutesSaved"/>: the manual minutes of every step that succeeded outside dry runs.
/// </summary>
public sealed record PlaybookMetrics(string PlaybookId, int Executions, int Completed, int Failed, int Rejected, int Expired, int Refused, int Waiting,
    double? MttdSeconds, double? MttrSeconds, int RolledBack, int MinutesSaved)
{
    /// <summary>Completed / (completed + failed): rejected, expired and refused executions are neither.</summary>
    public double? SuccessRate => Completed + Failed == 0 ? null : (double)Completed / (Completed + Failed);
}

/// <summary>
/// The metrics page (US-014), aggregated in SQL so it answers quickly over a large read model: per playbook outcomes,
/// MTTD, MTTR, success rate and time saved; approval rate (with the rubber-stamp warning above 95 %, PRD risk R2),
/// rollback rate (executions with a rolled-back step, the false-positive signal), simulation precision (executed /
/// (executed + dismissed), US-010), and volume per day (every day of the window, zero-filled).
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
    public double? SuccessRate => Playbooks.Sum(p => p.Completed + p.Failed) is var f and > 0 ? (double)Playbooks.Sum(p => p.Completed) / f : null;
    public int MinutesSaved => Playbooks.Sum(p => p.MinutesSaved);

    /// <summary>An alert time more than 30 days before acceptance (a replayed or mis-stamped alert) is left out of MTTD.</summary>
    public const int MaxDetectionSeconds = 30 * 86400;

    /// <param name="manualMinutes">Minutes by hand of a playbook's step (playbook id, step id), from the playbooks in force.</param>
    public static MetricsSummary Compute(ReadModelDb readModel, DateTimeOffset now, Func<string, string, int> manualMinutes, int days = 14)
    {
        using var db = readModel.Open();
        var postgres = db.DataProvider.Name.Contains("PostgreSQL", StringComparison.OrdinalIgnoreCase);
        string Seconds(string from, string to) => postgres ? $"EXTRACT(EPOCH FROM ({to} - {from}))" : $"(julianday({to}) - julianday({from})) * 86400.0";
        var perPlaybook = db.Query<PlaybookRow>($"""
            SELECT x.playbook_id AS PlaybookId, COUNT(*) AS Executions,
                   SUM(CASE WHEN x.status = 'completed' THEN 1 ELSE 0 END) AS Completed,
                   SUM(CASE WHEN x.status IN ('failed', 'completed_with_failures') THEN 1 ELSE 0 END) AS Failed,
                   SUM(CASE WHEN x.status = 'rejected' THEN 1 ELSE 0 END) AS Rejected,
                   SUM(CASE WHEN x.status = 'expired' THEN 1 ELSE 0 END) AS Expired,
                   SUM(CASE WHEN x.status = 'refused' THEN 1 ELSE 0 END) AS Refused,
                   SUM(CASE WHEN x.status IN ('running', 'waiting_approval') THEN 1 ELSE 0 END) AS Waiting,
                   AVG(CASE WHEN e.alert_time IS NOT NULL AND {Seconds("e.alert_time", "e.received_at")} BETWEEN 0 AND {MaxDetectionSeconds} THEN {Seconds("e.alert_time", "e.received_at")} END) AS Mttd,
                   AVG(CASE WHEN COALESCE(x.responded_at, x.completed_at) IS NOT NULL THEN {Seconds("e.received_at", "COALESCE(x.responded_at, x.completed_at)")} END) AS Mttr
            FROM executions x LEFT JOIN events e ON e.alert_id = x.alert_id
            GROUP BY x.playbook_id ORDER BY x.playbook_id
            """).ToList();
        var rolledBack = db.Query<KeyCount>("""
            SELECT x.playbook_id AS Key, COUNT(DISTINCT l.execution_id) AS Count FROM execution_log l JOIN executions x ON x.execution_id = l.execution_id
            WHERE l.kind = 'step_rolled_back' GROUP BY x.playbook_id
            """).ToDictionary(r => r.Key, r => r.Count, StringComparer.Ordinal);
        var succeededSteps = db.Query<StepCount>("""
            SELECT x.playbook_id AS PlaybookId, l.step_id AS StepId, COUNT(*) AS Count FROM execution_log l JOIN executions x ON x.execution_id = l.execution_id
            WHERE l.kind = 'step_succeeded' AND NOT x.dry_run GROUP BY x.playbook_id, l.step_id
            """).ToList();
        var minutes = succeededSteps.GroupBy(s => s.PlaybookId, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Sum(s => s.Count * manualMinutes(s.PlaybookId, s.StepId)), StringComparer.Ordinal);
        var approvals = db.GetTable<ApprovalRow>().Where(a => a.Status != "pending").GroupBy(a => a.Status).Select(g => new { g.Key, Count = g.Count() })
            .ToDictionary(g => g.Key, g => g.Count);
        var simulations = db.GetTable<SimulationRow>().GroupBy(s => s.Status).Select(g => new { g.Key, Count = g.Count() }).ToDictionary(g => g.Key, g => g.Count);
        var since = now.AddDays(-days).UtcDateTime;
        var volume = db.Query<KeyCount>(
            postgres
                ? "SELECT to_char(started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS Key, COUNT(*) AS Count FROM executions WHERE started_at >= @since GROUP BY 1 ORDER BY 1"
                : "SELECT substr(started_at, 1, 10) AS Key, COUNT(*) AS Count FROM executions WHERE started_at >= @since GROUP BY 1 ORDER BY 1",
            new DataParameter("since", new DateTimeOffset(since, TimeSpan.Zero))).ToDictionary(v => v.Key, v => v.Count, StringComparer.Ordinal);
        var today = DateOnly.FromDateTime(now.UtcDateTime);
        return new MetricsSummary(
            perPlaybook.Select(p => new PlaybookMetrics(p.PlaybookId, p.Executions, p.Completed, p.Failed, p.Rejected, p.Expired, p.Refused, p.Waiting, p.Mttd, p.Mttr,
                rolledBack.GetValueOrDefault(p.PlaybookId), minutes.GetValueOrDefault(p.PlaybookId))).ToList(),
            approvals.Where(a => a.Key is "approved" or "rejected" or "expired").Sum(a => a.Value),
            approvals.GetValueOrDefault("approved"),
            simulations.Where(s => s.Key is "executed" or "promoted" or "dismissed").Sum(s => s.Value),
            simulations.Where(s => s.Key is "executed" or "promoted").Sum(s => s.Value),
            Enumerable.Range(0, days).Select(i => today.AddDays(i - days + 1))
                .Select(d => (d, volume.GetValueOrDefault(d.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture)))).ToList());
    }

    private sealed class StepCount
    {
        public string PlaybookId { get; set; } = "";
        public string StepId { get; set; } = "";
        public int Count { get; set; }
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
        public int Rejected { get; set; }
        public int Expired { get; set; }
        public int Refused { get; set; }
        public int Waiting { get; set; }
        public double? Mttd { get; set; }
        public double? Mttr { get; set; }
    }
}
