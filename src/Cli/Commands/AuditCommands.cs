using System.CommandLine;
using RunbookPilot.Engine.Hosting;
using RunbookPilot.Engine.ReadModel;

namespace RunbookPilot.Cli.Commands;

/// <summary><c>runbookpilot audit verify</c> and <c>runbookpilot admin rebuild-read-model</c>.</summary>
internal static class AuditCommands
{
    private static Option<string> Db() => new("--db")
    {
        Description = "SQLite file (or PostgreSQL connection string). Default: $RBPILOT_DB or ./data/runbookpilot.db",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("RBPILOT_DB") is { Length: > 0 } v ? v : RunbookPilotOptions.DefaultDatabase,
    };

    public static Command Audit()
    {
        var db = Db();
        var output = Common.OutputOption();
        var verify = new Command("verify", "Check that the audit trail (execution_log) is unaltered: walks the SHA-256 chain and names the first broken row.\n\nExample:\n  runbookpilot audit verify")
        {
            db, output,
        };
        verify.SetAction(p =>
        {
            var options = new RunbookPilotOptions { Database = p.GetValue(db)! };
            if (!options.IsPostgres && !File.Exists(options.Database))
            {
                p.InvocationConfiguration.Error.WriteLine($"error: no database at {options.Database}");
                return 1;
            }
            var result = AuditChain.Verify(new ReadModelDb(options));
            if (p.GetValue(output) == OutputFormat.Json)
                Common.WriteJson(p.InvocationConfiguration.Output, new { ok = result.Ok, rows = result.Rows, broken_at = result.BrokenAt, execution_id = result.ExecutionId, seq = result.Seq, message = result.Message });
            else p.InvocationConfiguration.Output.WriteLine(result.Ok ? result.Message : $"BROKEN: {result.Message} (execution {result.ExecutionId}, event {result.Seq})");
            return result.Ok ? 0 : 1;
        });
        return new Command("audit", "The append-only audit trail.") { verify };
    }
}
