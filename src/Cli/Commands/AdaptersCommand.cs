using System.CommandLine;
using RunbookPilot.Domain.Adapters;
using RunbookPilot.Engine.Adapters;
using RunbookPilot.Domain.Yaml;
using RunbookPilot.Domain.Core;
using RunbookPilot.Engine.Configuration;
using RunbookPilot.Cli.Backends;

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
                            min_autonomy_level = x.SimulateFirst ? "l2" : "l0",
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

    /// <summary><c>runbookpilot test-adapter &lt;name&gt;</c> (PRD F5.5): HTTP status, API version, authentication status.</summary>
    public static Command TestAdapter(CliServices services)
    {
        var name = new Argument<string>("name") { Description = "Adapter to check (virustotal, abuseipdb, splunk, paloalto, crowdstrike, jira, misp, pagerduty, http)" };
        var playbooks = Common.PlaybooksOption();
        var adaptersFile = Common.AdaptersOption();
        var output = Common.OutputOption();
        var server = Common.ServerOption();
        var demo = Common.DemoOption();
        var command = new Command("test-adapter", "Check that an adapter reaches its vendor and that its credentials are accepted; changes nothing. With --server, the server's adapter is checked (its credentials, its network).\n\nExample:\n  runbookpilot test-adapter crowdstrike")
        {
            name, playbooks, adaptersFile, output, server, demo,
        };
        command.SetAction(async (p, ct) =>
        {
            var adapterName = p.GetValue(name)!;
            AdapterHealth health;
            if (p.GetValue(server) is { } url)
            {
                await using var remote = Common.Connect(url, services);
                try
                {
                    if (await remote.TestAdapterAsync(adapterName, ct) is not { } h)
                    {
                        await p.InvocationConfiguration.Error.WriteLineAsync($"error: the server has no adapter '{adapterName}'");
                        return 1;
                    }
                    health = h;
                }
                catch (ServerUnavailableException ex)
                {
                    await p.InvocationConfiguration.Error.WriteLineAsync("error: " + ex.Message);
                    return 1;
                }
            }
            else
            {
                var options = new RunbookPilot.Engine.Configuration.RunbookPilotOptions { PlaybooksFolder = p.GetValue(playbooks)!, AdaptersFile = p.GetValue(adaptersFile) };
                RunbookPilot.Engine.Hosting.AdapterSet set;
                try
                {
                    set = await RunbookPilot.VendorSim.DemoMode.AdaptersAsync(options, services.Adapters, p.InvocationConfiguration.Error, p.GetValue(demo));
                }
                catch (RunbookPilot.Domain.Core.ConfigurationException ex)
                {
                    foreach (var problem in ex.Problems) await p.InvocationConfiguration.Error.WriteLineAsync(problem);
                    return 1;
                }
                await using var _ = set;
                if (set.Adapters.FirstOrDefault(a => a.Descriptor.Name == adapterName) is not IHealthCheck adapter)
                {
                    var known = AdapterCatalog.BuiltIn.Find(adapterName) is not null;
                    await p.InvocationConfiguration.Error.WriteLineAsync(known
                        ? $"error: adapter {adapterName} is not configured in adapters.yaml (--demo checks the local simulator instead)"
                        : $"error: unknown adapter '{adapterName}'{DidYouMean.Hint(adapterName, AdapterCatalog.BuiltIn.Adapters.Select(a => a.Name))}");
                    return 1;
                }
                health = await adapter.CheckHealthAsync(ct);
            }
            var writer = p.InvocationConfiguration.Output;
            if (p.GetValue(output) == OutputFormat.Json)
            {
                Common.WriteJson(writer, new
                {
                    adapter = health.Adapter, url = health.Url, healthy = health.Healthy, http_status = health.HttpStatus,
                    authenticated = health.Authenticated, api_version = health.ApiVersion, latency_ms = health.LatencyMs, error = health.Error,
                });
            }
            else
            {
                Common.WriteTable(writer, ["ADAPTER", "HEALTHY", "HTTP", "AUTH", "VERSION", "LATENCY", "URL"],
                    [[health.Adapter, health.Healthy ? "yes" : "NO", health.HttpStatus?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "-",
                      health.Authenticated switch { true => "ok", false => "refused", _ => "-" }, health.ApiVersion, $"{health.LatencyMs} ms", health.Url]]);
                if (health.Error is not null) writer.WriteLine("problem: " + health.Error);
            }
            return health.Healthy ? 0 : 1;
        });
        return command;
    }
}
