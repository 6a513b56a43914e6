using System.CommandLine;
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
          runbookpilot schema > playbooks/schema/playbook.schema.json

        Exit codes: 0 success, 1 validation problems or a failed command, 2 bad command line.
        Environment: RBPILOT_PLAYBOOKS (playbooks folder, default ./playbooks), RBPILOT_POLICY, RBPILOT_ADAPTERS.
        """;

    public static RootCommand Build()
    {
        var root = new RootCommand("RunbookPilot — SOC runbook automation with graduated autonomy (L0 runs, L1 waits for approval, L2 is simulated)." + Examples);
        root.Subcommands.Add(ValidateCommand.Build());
        root.Subcommands.Add(PlaybooksCommand.Build());
        root.Subcommands.Add(AdaptersCommand.Build());
        root.Subcommands.Add(SchemaCommand.Build());
        return root;
    }

    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error)
    {
        var parse = Build().Parse(args);
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
