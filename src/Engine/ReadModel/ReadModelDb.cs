using LinqToDB;
using LinqToDB.Data;
using RunbookPilot.Engine.Configuration;

namespace RunbookPilot.Engine.ReadModel;

/// <summary>The read tables (design "Project"), kept in the same database as the journal; SQLite or PostgreSQL through Linq2Db.</summary>
public sealed class ReadModelDb(RunbookPilotOptions options)
{
    private readonly DataOptions _options = DatabaseConnections.DataOptions(options);

    public DataConnection Open() => new(_options);

    public RunbookPilotOptions Options => options;

    /// <summary>The audit MAC key: the configured one, else the data folder's demo key.</summary>
    public byte[] AuditKey => options.AuditKey ?? AuditKeys.DemoKey(options);

    public void EnsureCreated()
    {
        using var db = Open();
        // Nodes of a cluster starting together on a new PostgreSQL database: one creates the tables, the others wait for it
        // and find them (PostgreSQL's CREATE TABLE IF NOT EXISTS is not safe against a concurrent one).
        using var schema = options.IsPostgres ? db.BeginTransaction() : null;
        if (schema is not null) db.Execute("SELECT pg_advisory_xact_lock(hashtext('runbookpilot-read-model-schema'))");
        db.CreateTable<EventRow>(tableOptions: TableOptions.CreateIfNotExists);
        db.CreateTable<ExecutionRow>(tableOptions: TableOptions.CreateIfNotExists);
        db.CreateTable<ExecutionLogRow>(tableOptions: TableOptions.CreateIfNotExists);
        db.CreateTable<ApprovalRow>(tableOptions: TableOptions.CreateIfNotExists);
        db.CreateTable<SimulationRow>(tableOptions: TableOptions.CreateIfNotExists);
        db.CreateTable<ProjectionOffsetRow>(tableOptions: TableOptions.CreateIfNotExists);
        db.CreateTable<BindingRow>(tableOptions: TableOptions.CreateIfNotExists);
        db.CreateTable<RunAuditRow>(tableOptions: TableOptions.CreateIfNotExists);
        db.CreateTable<BindingUsageRow>(tableOptions: TableOptions.CreateIfNotExists);
        db.CreateTable<KillSwitchRow>(tableOptions: TableOptions.CreateIfNotExists);
        db.CreateTable<EnrichmentRow>(tableOptions: TableOptions.CreateIfNotExists);
        AddColumn(db, "approvals", "attack_context", "TEXT"); // added after the first release of the table
        var time = options.IsPostgres ? "TIMESTAMPTZ" : "TEXT"; // what linq2db creates for DateTimeOffset on each
        AddColumn(db, "events", "alert_time", time);
        AddColumn(db, "executions", "dry_run", "BOOLEAN NOT NULL DEFAULT FALSE");
        AddColumn(db, "executions", "responded_at", time);
        // Keyed chain of the run audit and the journal events the audit rows came from (added in 0.3; rebuild once to fill them).
        AddColumn(db, "execution_log", "journal_ordering", "BIGINT");
        AddColumn(db, "execution_log", "journal_hash", "TEXT");
        AddColumn(db, "playbook_run_audit", "journal_ordering", "BIGINT");
        AddColumn(db, "playbook_run_audit", "journal_hash", "TEXT");
        AddColumn(db, "playbook_run_audit", "chain_index", "BIGINT");
        AddColumn(db, "playbook_run_audit", "prev_hash", "TEXT");
        AddColumn(db, "playbook_run_audit", "hash", "TEXT");
        db.Execute("CREATE INDEX IF NOT EXISTS playbook_run_audit_alert ON playbook_run_audit (alert_id, seq)");
        // The dashboard's executions list (newest first, optionally by playbook or status) and its metrics page.
        db.Execute("CREATE INDEX IF NOT EXISTS executions_started ON executions (started_at)");
        db.Execute("CREATE INDEX IF NOT EXISTS executions_playbook_started ON executions (playbook_id, started_at)");
        db.Execute("CREATE INDEX IF NOT EXISTS executions_status_started ON executions (status, started_at)");
        db.Execute("CREATE INDEX IF NOT EXISTS execution_log_kind ON execution_log (kind)");
        // The projector's per-batch reads: an alert's executions (its status) and the heads of the two audit chains. Without
        // them each batch scanned the whole table (issue 17: the cost per alert grew with the database).
        db.Execute("CREATE INDEX IF NOT EXISTS executions_alert ON executions (alert_id)");
        db.Execute("CREATE INDEX IF NOT EXISTS execution_log_chain ON execution_log (chain_index)");
        db.Execute("CREATE INDEX IF NOT EXISTS playbook_run_audit_chain ON playbook_run_audit (chain_index)");
        ProtectAuditTables(db);
        schema?.Commit();
    }

    /// <summary>Adds a column to a table created by an earlier version, when it is missing.</summary>
    private void AddColumn(DataConnection db, string table, string column, string type)
    {
        if (options.IsPostgres)
        {
            db.Execute($"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {column} {type}");
            return;
        }
        if (db.Query<string>($"SELECT name FROM pragma_table_info('{table}')").All(c => c != column))
            db.Execute($"ALTER TABLE {table} ADD COLUMN {column} {type}");
    }

    /// <summary>The append-only audit tables: the execution log (hash-chained) and the binding decisions.</summary>
    public static readonly IReadOnlyList<string> AuditTables = ["execution_log", "playbook_run_audit"];

    /// <summary>The audit tables refuse UPDATE and DELETE (NFR-2.4).</summary>
    public void ProtectAuditTables(DataConnection db)
    {
        if (options.IsPostgres)
        {
            db.Execute("""
                CREATE OR REPLACE FUNCTION rbp_append_only() RETURNS trigger AS $$
                BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END $$ LANGUAGE plpgsql
                """);
            foreach (var table in AuditTables)
                db.Execute($"CREATE OR REPLACE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} FOR EACH ROW EXECUTE FUNCTION rbp_append_only()");
            return;
        }
        foreach (var table in AuditTables)
        {
            db.Execute($"CREATE TRIGGER IF NOT EXISTS {table}_no_update BEFORE UPDATE ON {table} BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END");
            db.Execute($"CREATE TRIGGER IF NOT EXISTS {table}_no_delete BEFORE DELETE ON {table} BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END");
        }
    }

    /// <summary>Removes the protection for a rebuild from the journal (an explicit admin operation).</summary>
    public void UnprotectAuditTables(DataConnection db)
    {
        if (options.IsPostgres)
        {
            foreach (var table in AuditTables) db.Execute($"DROP TRIGGER IF EXISTS {table}_append_only ON {table}");
            return;
        }
        foreach (var table in AuditTables)
        {
            db.Execute($"DROP TRIGGER IF EXISTS {table}_no_update");
            db.Execute($"DROP TRIGGER IF EXISTS {table}_no_delete");
        }
    }
}
