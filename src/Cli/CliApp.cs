using System.CommandLine;
using RunbookPilot.Cli.Backends;
using RunbookPilot.Cli.Commands;

namespace RunbookPilot.Cli;

/// <summary>The <c>runbookpilot</c> command tree. Output goes to the writers given, so tests run it in-process.</summary>
public static class CliApp
{
    public const string Examples = """

        Examples:
          runbookpilot validate playbooks/                 check every playbook, the policy, adapters.yaml and Sigma rules
          runbookpilot validate my_playbook.yaml --output json
          runbookpilot playbooks list                      the playbooks in ./playbooks (or $RBPILOT_PLAYBOOKS)
          runbookpilot adapters list                       adapters, their actions and which can be rolled back
          runbookpilot test-adapter crowdstrike            reach the vendor, check the credentials (simulators in demo mode)
          runbookpilot schema > playbooks/schema/playbook.schema.json
          cat alert.json | runbookpilot execute               run the playbooks that fit an alert (JSON lines work too)
          runbookpilot list-approvals                      what waits for an analyst
          runbookpilot approve <execution_id>              approve the pending step of an execution
          runbookpilot show <execution_id>                 the timeline of an execution
          runbookpilot rollback <execution_id>             undo its reversible steps, newest first
          runbookpilot list-approvals --server http://127.0.0.1:8080   the same through a running server's API

        Exit codes: 0 success, 1 validation problems or a failed command, 2 bad command line.
        Environment: RBPILOT_DB (database, default ./data/runbookpilot.db), RBPILOT_PLAYBOOKS (playbooks folder, default ./playbooks),
        RBPILOT_POLICY, RBPILOT_ADAPTERS, RBPILOT_USER (who approves), RBPILOT_SERVER (work through a running server's API;
        signed in as RBPILOT_USER / RBPILOT_PASS).
        """;

    public static RootCommand Build(CliServices? services = null)
    {
        services ??= CliServices.Default;
        var root = new RootCommand("RunbookPilot — SOC runbook automation with graduated autonomy (L0 runs, L1 waits for approval, L2 is simulated)." + Examples);
        root.Subcommands.Add(ValidateCommand.Build());
        root.Subcommands.Add(PlaybooksCommand.Build());
        root.Subcommands.Add(AdaptersCommand.Build());
        root.Subcommands.Add(AdaptersCommand.TestAdapter(services));
        root.Subcommands.Add(AuditCommands.Audit(services));
        root.Subcommands.Add(SchemaCommand.Build());
        root.Subcommands.Add(ExplainCommand.Build(services));
        foreach (var command in EngineCommands.Build(services)) root.Subcommands.Add(command);
        foreach (var command in BindingsCommands.Build(services)) root.Subcommands.Add(command);
        root.Subcommands.Add(OpsCommands.Build(services));
        root.Subcommands.Add(ClusterCommands.Build());
        return root;
    }

    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, CliServices? services = null)
    {
        var parse = Build(services).Parse(args);
        var config = new InvocationConfiguration { Output = output, Error = error };
        if (parse.Errors.Count > 0)
        {
            foreach (var e in parse.Errors) await error.WriteLineAsync("error: " + e.Message);
            await error.WriteLineAsync("Run 'runbookpilot --help' for usage.");
            return 2;
        }
        return await parse.InvokeAsync(config);
    }
}
