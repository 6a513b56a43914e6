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
    }
}
