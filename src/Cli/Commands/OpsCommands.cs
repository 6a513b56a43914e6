using System.CommandLine;
using System.Text.Json.Nodes;
using RunbookPilot.Cli.Backends;

namespace RunbookPilot.Cli.Commands;

/// <summary>
/// <c>runbookpilot ops …</c>: pbm-style operator commands over a running server's operator API (admin only), since
/// Petabridge.Cmd is not available — cluster members, leave, down, shards, actors, executions with open work, the log.
/// </summary>
internal static class OpsCommands
{
    public static Command Build(CliServices services)
    {
        Option<string?> Address() => new("--address") { Description = "A node address such as akka.tcp://runbookpilot@10.0.0.5:4053" };
        var leaveAddress = Address();
        var downAddress = Address();
        var lines = new Option<int>("--lines") { Description = "How many lines (at most 1,000)", DefaultValueFactory = _ => 100 };
        var cluster = new Command("cluster", "The Akka.NET cluster the server belongs to.")
        {
            Op(services, "show", "Members with status, roles and reachability; the leader and this node.", HttpMethod.Get, _ => "cluster", Members),
            Op(services, "leave", "Make a node leave the cluster gracefully (default: the node you talk to).", HttpMethod.Post,
                p => "cluster/leave" + (p.GetValue(leaveAddress) is { } a ? "?address=" + Uri.EscapeDataString(a) : ""), null, leaveAddress),
            Op(services, "down", "Mark an unreachable node as down (give its address, akka.tcp://runbookpilot@host:port).", HttpMethod.Post,
                p => "cluster/down?address=" + Uri.EscapeDataString(p.GetValue(downAddress) ?? ""), null, downAddress),
        };
        return new Command("ops", """
            Operator commands over a running server (--server URL or RBPILOT_SERVER; signed in as the admin).

            Examples:
              runbookpilot ops cluster show --server http://127.0.0.1:8080
              runbookpilot ops shards
              runbookpilot ops log --lines 50
            """)
        {
            cluster,
            Op(services, "shards", "The execution shards on this node and how many executions each holds.", HttpMethod.Get, _ => "shards", Shards),
            Op(services, "actors", "The top-level actors of the server's actor system.", HttpMethod.Get, _ => "actors", v => Lines(v["actors"])),
            Op(services, "executions", "Executions with open work, alerts waiting for their executions, projector lag.", HttpMethod.Get, _ => "executions", null),
            Op(services, "log", "The server's recent log lines.", HttpMethod.Get, p => $"log?lines={p.GetValue(lines)}", v => Lines(v["lines"]), lines),
        };
    }

    /// <summary>One operator command: calls the route and prints its answer (as JSON, or with <paramref name="table"/>).</summary>
    private static Command Op(CliServices services, string name, string description, HttpMethod method, Func<ParseResult, string> path,
        Func<JsonNode, IEnumerable<string>>? table, params Option[] options)
    {
        var server = Common.ServerOption();
        var output = Common.OutputOption();
        var command = new Command(name, description) { server, output };
        foreach (var o in options) command.Options.Add(o);
        command.SetAction(async (p, ct) =>
        {
            if (p.GetValue(server) is not { } url)
            {
                await p.InvocationConfiguration.Error.WriteLineAsync("error: ops commands talk to a running server: give --server URL (or set RBPILOT_SERVER)");
                return 2;
            }
            await using var remote = Common.Connect(url, services);
            try
            {
                var answer = await remote.OperatorAsync(method, path(p), ct);
                var lines = p.GetValue(output) == OutputFormat.Json || table is null ? [answer.ToJsonString(Common.Json)] : table(answer);
                foreach (var line in lines) await p.InvocationConfiguration.Output.WriteLineAsync(line);
                return 0;
            }
            catch (BackendException ex)
            {
                await p.InvocationConfiguration.Error.WriteLineAsync("error: " + ex.Message);
                return 1;
            }
        });
        return command;
    }

    private static IEnumerable<string> Members(JsonNode v)
    {
        yield return $"self {v["self"]}; leader {v["leader"]}";
        foreach (var m in v["members"]!.AsArray())
            yield return $"{m!["address"],-45} {m["status"],-8} {(m["reachable"]!.GetValue<bool>() ? "reachable" : "UNREACHABLE"),-11} " +
                $"shards {m["shards"]?.ToString() ?? "-",-4} entities {m["entities"]?.ToString() ?? "-",-6} {string.Join(",", m["roles"]!.AsArray().Select(r => (string?)r))}";
    }

    private static IEnumerable<string> Shards(JsonNode v)
    {
        yield return $"region {v["region"]}: {v["shards"]!.AsArray().Count} shard(s), {v["entities"]} execution(s) in memory";
        foreach (var s in v["shards"]!.AsArray()) yield return $"  shard {s!["shard"],-4} {s["entities"]} execution(s)";
    }

    private static IEnumerable<string> Lines(JsonNode? array) => array!.AsArray().Select(x => (string?)x ?? "");
}
