using System.CommandLine;
using RunbookPilot.Engine.Hosting;
using RunbookPilot.Engine.ReadModel;
using RunbookPilot.Domain.Core;
using RunbookPilot.Engine.Configuration;
using RunbookPilot.Cli.Backends;

namespace RunbookPilot.Cli.Commands;

/// <summary><c>runbookpilot audit verify</c> and <c>runbookpilot admin rebuild-read-model</c>.</summary>
internal static class AuditCommands
{
    public static Command Audit(CliServices services)
    {
        var db = Common.DbOption();
        var server = Common.ServerOption();
        var output = Common.OutputOption();
        var demo = Common.DemoOption();
        var verify = new Command("verify", "Check that the audit trail is unaltered: walks the keyed chains of execution_log and playbook_run_audit (RBPILOT_AUDIT_KEY), the journal events they came from and the signed checkpoints, and names the first mismatch.\n\nExample:\n  runbookpilot audit verify")
        {
            db, server, output, demo,
        };
        verify.SetAction(async (p, ct) =>
        {
            AuditVerification result;
            if (p.GetValue(server) is { } url)
            {
                await using var remote = Common.Connect(url, services);
                try
                {
                    result = await remote.VerifyAuditAsync(ct);
                }
                catch (ServerUnavailableException ex)
                {
                    await p.InvocationConfiguration.Error.WriteLineAsync("error: " + ex.Message);
                    return 1;
                }
            }
            else
            {
                var options = RunbookPilotOptions.FromEnvironment() with { Database = p.GetValue(db)! };
                if (!options.IsPostgres && !File.Exists(options.Database))
                {
                    await p.InvocationConfiguration.Error.WriteLineAsync($"error: no database at {options.Database}");
                    return 1;
                }
                try
                {
                    options = options with { AuditKey = AuditKeys.Resolve(services.Environment, options, p.GetValue(demo)) };
                }
                catch (ConfigurationException ex)
                {
                    foreach (var problem in ex.Problems) await p.InvocationConfiguration.Error.WriteLineAsync("error: " + problem);
                    return 1;
                }
                result = AuditChain.Verify(new ReadModelDb(options));
            }
            if (p.GetValue(output) == OutputFormat.Json)
                Common.WriteJson(p.InvocationConfiguration.Output, new { ok = result.Ok, rows = result.Rows, broken_at = result.BrokenAt, execution_id = result.ExecutionId, seq = result.Seq, message = result.Message });
            else p.InvocationConfiguration.Output.WriteLine(result.Ok ? result.Message : $"BROKEN: {result.Message} (execution {result.ExecutionId}, event {result.Seq})");
            return result.Ok ? 0 : 1;
        });
        return new Command("audit", "The append-only audit trail.") { verify };
    }
}
