using System.CommandLine;
using RunbookPilot.Domain.Playbooks;
using RunbookPilot.Domain.Library;

namespace RunbookPilot.Cli.Commands;

/// <summary><c>runbookpilot playbooks list</c>.</summary>
internal static class PlaybooksCommand
{
    public static Command Build()
    {
        var playbooks = Common.PlaybooksOption();
        var output = Common.OutputOption();
        var list = new Command("list", "List the valid playbooks of the playbooks folder (invalid files are named; run 'validate' for details).\n\nExample:\n  runbookpilot playbooks list --playbooks ./playbooks --output json")
        {
            playbooks, output,
        };
        list.SetAction(parse =>
        {
            var library = PlaybookLibrary.Load(new LibraryPaths(parse.GetValue(playbooks)!));
            var invalid = library.Files.Where(f => f is { Kind: SourceKind.Playbook, Ok: false }).Select(f => f.Path).ToList();
            var writer = parse.InvocationConfiguration.Output;
            var rows = library.Playbooks.OrderBy(p => p.Id, StringComparer.Ordinal).ToList();
            if (parse.GetValue(output) == OutputFormat.Json)
            {
                Common.WriteJson(writer, new
                {
                    playbooks = rows.Select(p => new
                    {
                        id = p.Id,
                        name = p.Name,
                        version = p.Version,
                        autonomy_level = p.AutonomyLevel.ToString(),
                        steps = p.Steps.Count,
                        techniques = p.Trigger.Techniques,
                        file = library.FileOf(p.Id),
                    }),
                    invalid_files = invalid,
                });
            }
            else
            {
                Common.WriteTable(writer, ["ID", "VERSION", "AUTONOMY", "STEPS", "TECHNIQUES", "NAME"],
                    rows.Select(p => (IReadOnlyList<string>)[p.Id, p.Version, p.AutonomyLevel.ToString(), p.Steps.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), string.Join(",", p.Trigger.Techniques), p.Name]));
                foreach (var f in invalid) writer.WriteLine($"invalid (not loaded): {f} — run 'runbookpilot validate {f}'");
            }
            return invalid.Count == 0 ? 0 : 1;
        });
        return new Command("playbooks", "Work with the playbook library.") { list };
    }
}
