using System.CommandLine;
using System.Text.Json.Nodes;
using RunbookPilot.Domain.Alerts;
using RunbookPilot.Domain.Library;
using RunbookPilot.Engine.Api;
using RunbookPilot.Cli.Backends;

namespace RunbookPilot.Cli.Commands;

/// <summary>
/// <c>runbookpilot explain &lt;file | alert id&gt;</c>: why an alert selects the playbooks it does — every playbook's
/// verdict (tier, techniques, each condition with the alert's value or "field absent", severity) and the near misses.
/// A file is explained against the playbooks folder without submitting it; an alert id asks the engine, which adds
/// what the intake recorded (selection and binding decisions).
/// </summary>
internal static class ExplainCommand
{
    public static Command Build(CliServices services)
    {
        var shared = EngineCommands.Shared.Create();
        var target = new Argument<string>("alert") { Description = "An alert file (JSON, not submitted) or the id of an alert received earlier" };
        var command = new Command("explain", "Explain which playbooks an alert selects and why, with the near misses.\n\nExamples:\n  runbookpilot explain samples/alerts/rdp.json\n  runbookpilot explain a-7f3c --server http://127.0.0.1:8080")
        {
            target,
        };
        shared.AddTo(command);
        command.SetAction(async (p, ct) =>
        {
            var value = p.GetValue(target)!;
            var json = p.GetValue(shared.Output) == OutputFormat.Json;
            var output = p.InvocationConfiguration.Output;
            if (!File.Exists(value))
            {
                return await EngineCommands.WithBackend(services, p, shared, async (backend, writer) =>
                {
                    if (await backend.SelectionAsync(value, ct) is not { } selection)
                    {
                        await p.InvocationConfiguration.Error.WriteLineAsync($"error: no alert {value} (and no file of that name)");
                        return 1;
                    }
                    if (json) Common.WriteJson(writer, selection);
                    else writer.Write(selection["text"]!.GetValue<string>());
                    return 0;
                });
            }
            if (AlertJson.ParseObject(await File.ReadAllTextAsync(value, ct), out var error) is not { } document)
            {
                await p.InvocationConfiguration.Error.WriteLineAsync($"error: {value}: {error}");
                return 2;
            }
            var library = PlaybookLibrary.Load(new LibraryPaths(p.GetValue(shared.Playbooks)!, p.GetValue(shared.Policy), p.GetValue(shared.Adapters), p.GetValue(shared.Sigma)),
                Engine.Adapters.AdapterPlugins.Catalog(p.GetValue(shared.Plugins)!));
            var (alert, problems) = EcsValidator.Prepare(document, "$");
            if (alert is null)
            {
                foreach (var problem in problems) await p.InvocationConfiguration.Error.WriteLineAsync($"error: {value}: {problem.Path}: {problem.Message}");
                return 2;
            }
            var selection = new AlertSelection(PlaybookCatalogSnapshot.From(library).Selector.Explain(alert), null, [], []);
            if (json) Common.WriteJson(output, selection.ToJson());
            else output.Write(selection.ToText());
            return 0;
        });
        return command;
    }
}
