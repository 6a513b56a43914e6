using LinqToDB;
using LinqToDB.Data;
using RunbookPilot.Engine.Hosting;

namespace RunbookPilot.Engine.ReadModel;

/// <summary>The read tables (design "Project"), kept in the same database as the journal; SQLite or PostgreSQL through Linq2Db.</summary>
public sealed class ReadModelDb(RunbookPilotOptions options)
{
    private readonly DataOptions _options = new DataOptions().UseConnectionString(options.ProviderName, options.ConnectionString);

    public DataConnection Open() => new(_options);

    public void EnsureCreated()
    {
        using var db = Open();
        db.CreateTable<EventRow>(tableOptions: TableOptions.CreateIfNotExists);
        db.CreateTable<ExecutionRow>(tableOptions: TableOptions.CreateIfNotExists);
        db.CreateTable<ExecutionLogRow>(tableOptions: TableOptions.CreateIfNotExists);
        db.CreateTable<ApprovalRow>(tableOptions: TableOptions.CreateIfNotExists);
        db.CreateTable<SimulationRow>(tableOptions: TableOptions.CreateIfNotExists);
        db.CreateTable<ProjectionOffsetRow>(tableOptions: TableOptions.CreateIfNotExists);
        ProtectAuditTables(db);
    }

    /// <summary>The audit tables refuse UPDATE and DELETE (NFR-2.4).</summary>
    public void ProtectAuditTables(DataConnection db)
    {
        if (options.IsPostgres)
        {
            db.Execute("""
                CREATE OR REPLACE FUNCTION rbp_append_only() RETURNS trigger AS $$
                BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END $$ LANGUAGE plpgsql
                """);
            db.Execute("CREATE OR REPLACE TRIGGER execution_log_append_only BEFORE UPDATE OR DELETE ON execution_log FOR EACH ROW EXECUTE FUNCTION rbp_append_only()");
            return;
        }
        db.Execute("CREATE TRIGGER IF NOT EXISTS execution_log_no_update BEFORE UPDATE ON execution_log BEGIN SELECT RAISE(ABORT, 'execution_log is append-only'); END");
        db.Execute("CREATE TRIGGER IF NOT EXISTS execution_log_no_delete BEFORE DELETE ON execution_log BEGIN SELECT RAISE(ABORT, 'execution_log is append-only'); END");
    }

    /// <summary>Removes the protection for a rebuild from the journal (an explicit admin operation).</summary>
    public void UnprotectAuditTables(DataConnection db)
    {
        if (options.IsPostgres)
        {
            db.Execute("DROP TRIGGER IF EXISTS execution_log_append_only ON execution_log");
            return;
        }
        db.Execute("DROP TRIGGER IF EXISTS execution_log_no_update");
        db.Execute("DROP TRIGGER IF EXISTS execution_log_no_delete");
    }
}
