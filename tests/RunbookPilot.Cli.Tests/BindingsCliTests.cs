using System.Text.Json;
using RunbookPilot.Cli;
using RunbookPilot.Domain.Adapters;
using RunbookPilot.Engine.Adapters;
using RunbookPilot.Engine.Tests;
using RunbookPilot.Engine.Tests.Execution;
using RunbookPilot.Cli.Backends;

namespace RunbookPilot.Cli.Tests;

/// <summary><c>runbookpilot bindings …</c>, <c>pause</c> and <c>resume</c> in embedded mode over a real SQLite file.</summary>
public sealed class BindingsCliTests : IDisposable
{
    private readonly TempDir _dir = new();
    private readonly Dictionary<string, TestAdapter> _adapters = AdapterCatalog.BuiltIn.Adapters.ToDictionary(a => a.Name, a => TestAdapter.For(a.Name));

    public BindingsCliTests()
    {
        foreach (var file in Directory.GetFiles(Repo.Playbooks, "*.yaml")) _dir.Write("playbooks/" + Path.GetFileName(file), File.ReadAllText(file));
        foreach (var file in Directory.GetFiles(Path.Combine(Repo.Playbooks, "sigma"))) _dir.Write("playbooks/sigma/" + Path.GetFileName(file), File.ReadAllText(file));
    }

    public void Dispose() => _dir.Dispose();

    private const string Lateral = """{"event":{"id":"evt-b1","category":["intrusion_detection"],"severity":"high"},"rule":{"id":"edge-rdp"},"source":{"ip":"203.0.113.7","host":{"name":"WS-1","id":"dev-1"}},"destination":{"ip":"10.0.3.12"},"threat":{"tactic":{"name":"Lateral Movement"},"technique":{"id":"T1021","subtechnique":{"id":"T1021.001"}}}}""";

    private async Task<(int Code, string Out, string Err)> Run(string? stdin, params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var all = args.Concat(["--db", Path.Combine(_dir.Path, "data", "rbp.db"), "--playbooks", Path.Combine(_dir.Path, "playbooks")]).ToArray();
        var code = await CliApp.RunAsync(all, output, error, new CliServices(_adapters.Values.ToList(), () => new StringReader(stdin ?? "")) { Environment = TestAudit.Environment });
        return (code, output.ToString(), error.ToString());
    }

    [Fact]
    public async Task Create_list_evaluate_run_audit_export_and_import()
    {
        var created = await Run(null, "bindings", "create", "--playbook", "lateral_movement_L1", "--mode", "suggest", "--rule", "edge-rdp", "--severity", "high",
            "--preset", "critical_edge", "--max-per-minute", "3", "--description", "perimeter", "--as", "carol");
        Assert.True(created.Code == 0, created.Err);
        Assert.Contains("binding 1 created: lateral_movement_L1 in mode suggest; guardrails 3/min, 2 at once, 50/day, per source.ip, once within 30m", created.Out, StringComparison.Ordinal);

        var executed = await Run(Lateral, "execute", "--output", "json");
        Assert.True(executed.Code == 0, executed.Err);
        Assert.Empty(JsonDocument.Parse(executed.Out).RootElement.GetProperty("alerts")[0].GetProperty("executions").EnumerateArray()); // suggest: nothing runs

        var list = await Run(null, "bindings", "list");
        Assert.Contains("rule=edge-rdp severity=high", list.Out, StringComparison.Ordinal);
        Assert.Contains("49", list.Out, StringComparison.Ordinal); // quota left after the suggestion

        var preview = await Run(null, "bindings", "evaluate", "evt-b1");
        Assert.Contains("skipped_duplicate", preview.Out, StringComparison.Ordinal); // once_within 30m for the same source.ip

        var run = await Run(null, "bindings", "run", "evt-b1", "--binding", "1", "--reason", "confirmed by the asset owner", "--output", "json", "--as", "carol");
        Assert.True(run.Code == 0, run.Err);
        var decision = JsonDocument.Parse(run.Out).RootElement;
        Assert.Equal(("ran", "carol"), (decision.GetProperty("decision").GetString(), decision.GetProperty("by").GetString()));

        var audit = await Run(null, "bindings", "audit", "--alert", "evt-b1", "--output", "json");
        Assert.Equal(["suggested", "ran"], JsonDocument.Parse(audit.Out).RootElement.GetProperty("audit").EnumerateArray().Select(r => r.GetProperty("decision").GetString()));

        var exported = await Run(null, "bindings", "export");
        Assert.Contains("playbook_id: lateral_movement_L1", exported.Out, StringComparison.Ordinal);
        Assert.Contains("preset: critical_edge", exported.Out, StringComparison.Ordinal);
        Assert.DoesNotContain("tags", exported.Out, StringComparison.Ordinal); // empty lists are left out
        var file = _dir.Write("bindings.yaml", exported.Out.Replace("mode: suggest", "mode: dry_run", StringComparison.Ordinal)
            + "- playbook_id: c2_beaconing_L2\n  mode: auto_run\n  guardrails:\n    once_within: 10m\n");
        var imported = await Run(null, "bindings", "import", file, "--as", "carol");
        Assert.True(imported.Code == 0, imported.Err);
        Assert.Contains("1 created, 1 updated, 0 deleted", imported.Out, StringComparison.Ordinal);
        var after = JsonDocument.Parse((await Run(null, "bindings", "list", "--output", "json")).Out).RootElement.GetProperty("bindings");
        Assert.Equal(["dry_run", "auto_run"], after.EnumerateArray().Select(b => b.GetProperty("spec").GetProperty("mode").GetString()));
        Assert.Equal("carol", after[1].GetProperty("created_by").GetString());
    }

    [Fact]
    public async Task Import_checks_the_whole_file_first_and_reports_line_and_column()
    {
        Assert.Equal(0, (await Run(null, "bindings", "create", "--playbook", "credential_dumping_L0", "--mode", "suggest")).Code);
        var file = _dir.Write("bad.yaml", """
            bindings:
              - playbook_id: credential_dumping_L0
                mode: auto_run
              - playbook_id: lateral_movment_L1
                mode: dry_run
                guardrails:
                  max_per_minit: 3
            """);
        var (code, _, error) = await Run(null, "bindings", "import", file, "--replace");
        Assert.True(code == 1, error);
        Assert.True(error.Contains("bad.yaml:4:18: ", StringComparison.Ordinal), error);
        Assert.Contains("did you mean 'lateral_movement_L1'", error, StringComparison.Ordinal);
        Assert.True(error.Contains("bad.yaml:7:7: ", StringComparison.Ordinal), error);
        Assert.Contains("nothing was imported", error, StringComparison.Ordinal);
        var list = JsonDocument.Parse((await Run(null, "bindings", "list", "--output", "json")).Out).RootElement.GetProperty("bindings");
        Assert.Equal("suggest", Assert.Single(list.EnumerateArray()).GetProperty("spec").GetProperty("mode").GetString()); // untouched
    }

    [Fact]
    public async Task Pause_holds_alerts_across_processes_and_resume_runs_them()
    {
        var paused = await Run(null, "pause", "--playbook", "lateral_movement_L1", "--reason", "change freeze", "--as", "carol");
        Assert.True(paused.Code == 0, paused.Err);
        Assert.Contains("PAUSED: playbook lateral_movement_L1 by carol", paused.Out, StringComparison.Ordinal);
        Assert.Contains("change freeze", paused.Out, StringComparison.Ordinal);

        var executed = await Run(Lateral, "execute");
        Assert.True(executed.Code == 0, executed.Err);
        Assert.Contains("no playbook matched", executed.Out, StringComparison.Ordinal); // held: no execution started
        Assert.Empty(_adapters["virustotal"].Calls);
        Assert.Contains("1 decision(s) held until resume", (await Run(null, "bindings", "list")).Out, StringComparison.Ordinal);

        var resumed = await Run(null, "resume", "--playbook", "lateral_movement_L1");
        Assert.True(resumed.Code == 0, resumed.Err);
        Assert.Contains("1 held decision(s) taken now", resumed.Out, StringComparison.Ordinal);
        var audit = JsonDocument.Parse((await Run(null, "bindings", "audit", "--alert", "evt-b1", "--output", "json")).Out).RootElement.GetProperty("audit");
        Assert.Equal(["held", "ran"], audit.EnumerateArray().Select(r => r.GetProperty("decision").GetString()));

        Assert.Equal(2, (await Run(null, "pause", "--playbook", "x", "--binding", "1")).Code);
        var unknown = await Run(null, "pause", "--binding", "42");
        Assert.Equal(1, unknown.Code);
        Assert.Contains("no binding 42", unknown.Err, StringComparison.Ordinal);
    }
}
