using System.CommandLine;
using RunbookPilot.Engine.Adapters;
using RunbookPilot.Engine.Playbooks.Yaml;

namespace RunbookPilot.Cli.Commands;

/// <summary><c>runbookpilot adapters list</c>: the adapters, their actions, parameters and whether they can be rolled back.</summary>
internal static class AdaptersCommand
{
    public static Command Build()
    {
        var output = Common.OutputOption();
        var list = new Command("list", "List adapters and their actions (what a playbook step may name in adapter/action_type).\n\nExample:\n  runbookpilot adapters list --output json")
        {
            output,
        };
        list.SetAction(parse =>
        {
            var writer = parse.InvocationConfiguration.Output;
            var actions = AdapterCatalog.BuiltIn.Adapters.OrderBy(a => a.Name, StringComparer.Ordinal)
                .SelectMany(a => a.Actions.Select(x => (Adapter: a, Action: x))).ToList();
            if (parse.GetValue(output) == OutputFormat.Json)
            {
                Common.WriteJson(writer, new
                {
                    adapters = AdapterCatalog.BuiltIn.Adapters.OrderBy(a => a.Name, StringComparer.Ordinal).Select(a => new
                    {
                        name = a.Name,
                        description = a.Description,
                        actions = a.Actions.Select(x => new
                        {
                            name = x.Name,
                            kind = ModelShape.SnakeCase(x.Kind.ToString()),
                            description = x.Description,
                            required_params = x.RequiredParams,
                            optional_params = x.OptionalParams,
                            rollback_action = x.Inverse,
                        }),
                    }),
                });
            }
            else
            {
                Common.WriteTable(writer, ["ADAPTER", "ACTION", "KIND", "PARAMS", "ROLLBACK"],
                    actions.Select(x => (IReadOnlyList<string>)[x.Adapter.Name, x.Action.Name, ModelShape.SnakeCase(x.Action.Kind.ToString()),
                        string.Join(",", x.Action.RequiredParams.Concat(x.Action.OptionalParams.Select(p => p + "?"))), x.Action.Inverse ?? "-"]));
            }
            return 0;
        });
        return new Command("adapters", "Adapters and their actions.") { list };
    }
}
