using System.CommandLine;
using RunbookPilot.Domain.Playbooks.Schema;

namespace RunbookPilot.Cli.Commands;

/// <summary><c>runbookpilot schema</c>: the JSON Schema generated from the model, for editors (YAML language server).</summary>
internal static class SchemaCommand
{
    public static Command Build()
    {
        var kind = new Option<string>("--kind")
        {
            Description = "Which schema: playbook, global_policy or adapters",
            DefaultValueFactory = _ => "playbook",
        };
        kind.AcceptOnlyFromAmong([.. JsonSchemaGenerator.Published.Keys]);
        var write = new Option<string?>("--write")
        {
            Description = "Write every schema into this folder (as <kind>.schema.json) instead of printing one",
        };
        var command = new Command("schema", "Print the JSON Schema of playbooks (or of global_policy.yaml / adapters.yaml).\n\nExamples:\n  runbookpilot schema > playbooks/schema/playbook.schema.json\n  runbookpilot schema --write playbooks/schema")
        {
            kind, write,
        };
        command.SetAction(parse =>
        {
            if (parse.GetValue(write) is { } folder)
            {
                Directory.CreateDirectory(folder);
                foreach (var name in JsonSchemaGenerator.Published.Keys)
                {
                    var path = Path.Combine(folder, name + ".schema.json");
                    File.WriteAllText(path, JsonSchemaGenerator.Generate(name));
                    parse.InvocationConfiguration.Output.WriteLine("wrote " + path);
                }
                return 0;
            }
            parse.InvocationConfiguration.Output.Write(JsonSchemaGenerator.Generate(parse.GetValue(kind)!));
            return 0;
        });
        return command;
    }
}
