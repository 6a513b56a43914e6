using System.CommandLine;
using RunbookPilot.Domain.Playbooks;
using RunbookPilot.Domain.Library;

namespace RunbookPilot.Cli.Commands;

/// <summary><c>runbookpilot validate [paths…]</c>: every problem of every file, located, at once.</summary>
internal static class ValidateCommand
{
    public static Command Build()
    {
        var paths = new Argument<string[]>("paths")
        {
            Description = "Playbook files or folders (a folder is checked as a whole: playbooks, global_policy.yaml, adapters.yaml, sigma/). Default: the playbooks folder",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var playbooks = Common.PlaybooksOption();
        var plugins = Common.PluginsOption();
        var output = Common.OutputOption();
        var command = new Command("validate", "Check playbooks, policy, adapter settings and Sigma rules; print each problem as file:line:column: message.\n\nExamples:\n  runbookpilot validate playbooks/\n  runbookpilot validate playbooks/lateral_movement_L1.yaml --output json")
        {
            paths, playbooks, plugins, output,
        };
        command.SetAction(parse =>
        {
            var given = parse.GetValue(paths) ?? [];
            var targets = given.Length > 0 ? given : [parse.GetValue(playbooks)!];
            var reports = PlaybookLibrary.Validate(targets, RunbookPilot.Engine.Adapters.AdapterPlugins.Catalog(parse.GetValue(plugins)!));
            var errorCount = reports.Sum(r => r.Errors.Count);
            var writer = parse.InvocationConfiguration.Output;
            if (parse.GetValue(output) == OutputFormat.Json)
            {
                Common.WriteJson(writer, new
                {
                    ok = errorCount == 0,
                    error_count = errorCount,
                    files = reports.Select(r => new
                    {
                        path = r.Path,
                        kind = Common.Kind(r.Kind),
                        ok = r.Ok,
                        errors = r.Errors.Select(e => new { line = e.Line, column = e.Column, path = e.Path, message = e.Message }),
                    }),
                });
            }
            else
            {
                foreach (var e in reports.SelectMany(r => r.Errors)) writer.WriteLine(e.ToString());
                var bad = reports.Count(r => !r.Ok);
                writer.WriteLine(errorCount == 0
                    ? $"ok: {reports.Count} file(s) valid"
                    : $"{errorCount} problem(s) in {bad} of {reports.Count} file(s)");
            }
            return errorCount == 0 ? 0 : 1;
        });
        return command;
    }
}
