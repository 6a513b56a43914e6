using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using RunbookPilot.Cli;
using RunbookPilot.Engine.Hosting;
using RunbookPilot.Engine.Tests;
using RunbookPilot.Engine.Configuration;
using RunbookPilot.Cli.Backends;

namespace RunbookPilot.Host.Tests;

/// <summary>
/// The CLI with <c>--server</c>: every engine command goes through the REST API of a running server (in demo mode, so the
/// vendor simulators stand in for the vendors) while the server holds the database.
/// </summary>
public sealed class CliServerModeTests : IAsyncLifetime
{
    private readonly TempDir _dir = new();
    private WebApplication _app = null!;
    private string _url = "";

    private const string Alert = """{"event":{"id":"cli-evt-1","category":["intrusion_detection"]},"source":{"ip":"203.0.113.9","host":{"name":"WS-9"}},"destination":{"ip":"10.0.3.12"},"threat":{"tactic":{"name":"Lateral Movement"},"technique":{"id":"T1021","subtechnique":{"id":"T1021.001"}}}}""";

    public async Task InitializeAsync()
    {
        foreach (var file in Directory.GetFiles(Repo.Playbooks, "*.yaml")) _dir.Write("playbooks/" + Path.GetFileName(file), File.ReadAllText(file));
        foreach (var file in Directory.GetFiles(Path.Combine(Repo.Playbooks, "sigma"))) _dir.Write("playbooks/sigma/" + Path.GetFileName(file), File.ReadAllText(file));
        var engine = new RunbookPilotOptions { Database = Path.Combine(_dir.Path, "data", "rbp.db"), PlaybooksFolder = Path.Combine(_dir.Path, "playbooks") };
        var server = new ServerOptions { Urls = "http://127.0.0.1:0", Demo = true, Analysts = new Dictionary<string, string> { ["bob"] = "bob-analyst-secret-7" } };
        _app = await Server.StartAsync(server, engine);
        _url = Server.Address(_app).ToString();
    }

    public async Task DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        _dir.Dispose();
    }

    private async Task<(int Code, string Out, string Err)> Cli(string user, string password, string? stdin, params string[] args)
    {
        var services = new CliServices([], () => new StringReader(stdin ?? ""))
        {
            Environment = name => name switch { "RBPILOT_USER" => user, "RBPILOT_PASS" => password, _ => null },
        };
        using var output = new StringWriter();
        using var error = new StringWriter();
        // No --db: the server holds the database; a CLI that opened it would fail on the lock.
        var code = await CliApp.RunAsync([.. args, "--server", _url], output, error, services);
        return (code, output.ToString(), error.ToString());
    }

    private Task<(int Code, string Out, string Err)> Admin(params string[] args) => Cli("admin", "demo", null, args);

    private static JsonElement Json(string text) => JsonDocument.Parse(text).RootElement.Clone();

    [Fact]
    public async Task Every_engine_command_works_through_the_server_api()
    {
        var executed = await Cli("admin", "demo", Alert, "execute", "--output", "json");
        Assert.True(executed.Code == 0, executed.Err);
        var execution = Json(executed.Out).GetProperty("alerts")[0].GetProperty("executions")[0];
        var id = execution.GetProperty("execution_id").GetString()!;
        Assert.Equal("waiting_approval", execution.GetProperty("status").GetString());

        var pending = await Admin("list-approvals", "--output", "json");
        Assert.Equal(0, pending.Code);
        var approval = Json(pending.Out).GetProperty("approvals").EnumerateArray().Single(a => a.GetProperty("execution_id").GetString() == id);
        Assert.Equal("step_3", approval.GetProperty("step_id").GetString());
        Assert.Contains("203.0.113.9", approval.GetProperty("request").GetRawText(), StringComparison.Ordinal);

        // The analyst approves; the server records the signed-in name, not --as.
        var approved = await Cli("bob", "bob-analyst-secret-7", null, "approve", id, "--comment", "confirmed", "--as", "mallory", "--output", "json");
        Assert.True(approved.Code == 0, approved.Out + approved.Err);
        Assert.Equal("waiting_approval", Json(approved.Out).GetProperty("results")[0].GetProperty("execution_status").GetString()); // the L2 step waits as a simulation

        var simulations = Json((await Admin("list-simulations", "--status", "simulated", "--output", "json")).Out).GetProperty("simulations");
        var simulation = simulations.EnumerateArray().Single(s => s.GetProperty("execution_id").GetString() == id).GetProperty("simulation_id").GetString()!;
        var promoted = await Admin("execute-simulation", simulation, "--output", "json");
        // The analyst is told what the isolation did, not only "running": the EDR does not know the host, so it was refused.
        Assert.Equal(1, promoted.Code);
        Assert.Equal("step step_4 (crowdstrike.isolate_host) refused: no device with host name WS-9 at the EDR; isolate_host refused before any call",
            Json(promoted.Out).GetProperty("results")[0].GetProperty("message").GetString());
        Assert.Equal(id, Json(promoted.Out).GetProperty("results")[0].GetProperty("execution_id").GetString());
        Assert.Equal("waiting_approval", Json(promoted.Out).GetProperty("results")[0].GetProperty("execution_status").GetString()); // step_5 (L1 ticket)
        var ticket = await Admin("approve", "--all-pending", "--playbook", "lateral_movement_L1", "--output", "json");
        Assert.True(ticket.Code == 0, ticket.Out + ticket.Err);
        Assert.Equal("completed", Json(ticket.Out).GetProperty("results")[0].GetProperty("execution_status").GetString());

        var rolledBack = await Admin("rollback", id);
        Assert.True(rolledBack.Code == 0, rolledBack.Out + rolledBack.Err);

        var shown = await Admin("show", id, "--output", "json");
        Assert.Equal(0, shown.Code);
        var detail = Json(shown.Out);
        var steps = detail.GetProperty("steps").EnumerateArray().ToDictionary(s => s.GetProperty("id").GetString()!, s => s);
        Assert.Equal("succeeded", steps["step_3"].GetProperty("status").GetString());
        Assert.Equal("rolled_back", steps["step_3"].GetProperty("rollback").GetString());
        var timeline = detail.GetProperty("timeline").EnumerateArray().ToList();
        Assert.Contains(timeline, l => l.GetProperty("actor").GetString() == "bob");
        Assert.DoesNotContain(timeline, l => l.GetProperty("actor").GetString() == "mallory");

        var table = await Admin("list-executions");
        Assert.Contains(id, table.Out, StringComparison.Ordinal);

        var audit = await Admin("audit", "verify", "--output", "json");
        Assert.True(audit.Code == 0, audit.Err);
        Assert.True(Json(audit.Out).GetProperty("ok").GetBoolean());

        var health = await Admin("test-adapter", "paloalto", "--output", "json");
        Assert.True(health.Code == 0, health.Out + health.Err);
        Assert.True(Json(health.Out).GetProperty("authenticated").GetBoolean());
    }

    [Fact]
    public async Task Rebuilding_the_read_model_is_for_the_admin_and_keeps_the_audit_chain()
    {
        Assert.Equal(0, (await Cli("admin", "demo", Alert, "execute")).Code);

        var refused = await Cli("bob", "bob-analyst-secret-7", null, "admin", "rebuild-read-model");
        Assert.Equal(1, refused.Code);
        Assert.Contains("403", refused.Err, StringComparison.Ordinal);
        Assert.Contains("admin", refused.Err, StringComparison.Ordinal);

        var rebuilt = await Admin("admin", "rebuild-read-model");
        Assert.True(rebuilt.Code == 0, rebuilt.Out + rebuilt.Err);
        Assert.Contains("audit chain intact", rebuilt.Out, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("cli-evt-1", (await Admin("list-executions", "--output", "json")).Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Wrong_credentials_or_an_unreachable_server_give_a_clear_error()
    {
        var refused = await Cli("admin", "not-the-password", null, "list-approvals");
        Assert.Equal(1, refused.Code);
        Assert.Contains("refused the credentials", refused.Err, StringComparison.Ordinal);
        Assert.Contains("RBPILOT_PASS", refused.Err, StringComparison.Ordinal);

        var services = new CliServices([], () => TextReader.Null) { Environment = _ => null };
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await CliApp.RunAsync(["list-executions", "--server", "http://127.0.0.1:1"], output, error, services);
        Assert.Equal(1, code);
        Assert.Contains("cannot reach the server at http://127.0.0.1:1", error.ToString(), StringComparison.Ordinal);

        var bad = await CliApp.RunAsync(["list-executions", "--server", "ftp:/x"], output, error, services);
        Assert.Equal(2, bad);
        Assert.Contains("is not an http(s) URL", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bindings_and_the_kill_switch_work_through_the_server()
    {
        var created = await Admin("bindings", "create", "--playbook", "lateral_movement_L1", "--mode", "dry_run", "--rule", "edge-rdp", "--max-concurrent", "2", "--once-within", "10m");
        Assert.True(created.Code == 0, created.Out + created.Err);
        var refused = await Cli("bob", "bob-analyst-secret-7", null, "bindings", "create", "--playbook", "lateral_movement_L1", "--mode", "suggest");
        Assert.Equal(1, refused.Code);
        Assert.Contains("403", refused.Err, StringComparison.Ordinal);

        var paused = await Cli("bob", "bob-analyst-secret-7", null, "pause", "--reason", "incident bridge");
        Assert.True(paused.Code == 0, paused.Err);
        Assert.Contains("PAUSED: everything by bob", paused.Out, StringComparison.Ordinal);
        var list = await Admin("bindings", "list");
        Assert.Contains("PAUSED (global by bob)", list.Out, StringComparison.Ordinal);
        Assert.Equal(0, (await Admin("resume")).Code);

        var exported = await Admin("bindings", "export");
        var file = _dir.Write("bindings.yaml", exported.Out.Replace("max_concurrent: 2", "max_concurrent: 3", StringComparison.Ordinal));
        var imported = await Admin("bindings", "import", file);
        Assert.True(imported.Code == 0, imported.Err);
        Assert.Contains("0 created, 1 updated", imported.Out, StringComparison.Ordinal);
        Assert.Contains("3 at once", (await Admin("bindings", "show", "1")).Out, StringComparison.Ordinal);
        Assert.Equal(0, (await Admin("bindings", "delete", "1")).Code);
        Assert.Contains("no binding 1", (await Admin("bindings", "delete", "1")).Err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Operators_see_the_cluster_shards_actors_open_executions_and_the_log()
    {
        Assert.Equal(0, (await Cli("admin", "demo", Alert, "execute")).Code);

        var cluster = await Admin("ops", "cluster", "show", "--output", "json");
        Assert.True(cluster.Code == 0, cluster.Err);
        var members = Json(cluster.Out).GetProperty("members");
        Assert.Equal("up", Assert.Single(members.EnumerateArray()).GetProperty("status").GetString());
        Assert.Contains("leader akka.ssl.tcp://runbookpilot@127.0.0.1", (await Admin("ops", "cluster", "show")).Out, StringComparison.Ordinal); // mutual TLS between nodes

        var shards = Json((await Admin("ops", "shards", "--output", "json")).Out);
        Assert.True(shards.GetProperty("entities").GetInt32() >= 1);
        Assert.Contains("/user/", (await Admin("ops", "actors")).Out, StringComparison.Ordinal);
        Assert.Equal(1, Json((await Admin("ops", "executions", "--output", "json")).Out).GetProperty("open_executions").GetInt32()); // waits for approval
        Assert.Contains("DEMO MODE", (await Admin("ops", "log", "--lines", "500")).Out, StringComparison.Ordinal);

        var bad = await Admin("ops", "cluster", "down");
        Assert.Equal(1, bad.Code);
        Assert.Contains("is not a node address", bad.Err, StringComparison.Ordinal);
        var analyst = await Cli("bob", "bob-analyst-secret-7", null, "ops", "shards");
        Assert.Equal(1, analyst.Code);
        Assert.Contains("403", analyst.Err, StringComparison.Ordinal);

        using var output = new StringWriter();
        using var error = new StringWriter();
        Assert.Equal(2, await CliApp.RunAsync(["ops", "shards"], output, error, new CliServices([], () => TextReader.Null) { Environment = _ => null }));
        Assert.Contains("give --server URL", error.ToString(), StringComparison.Ordinal);
    }
}
