using System.Text.Json;
using RunbookPilot.Cli;

namespace RunbookPilot.Cli.Tests;

public class CliTests
{
    private static string RepoRoot
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "RunbookPilot.sln"))) dir = dir.Parent;
            return dir!.FullName;
        }
    }

    private static string Playbooks => Path.Combine(RepoRoot, "playbooks");

    private static async Task<(int Code, string Out, string Err)> Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var code = await CliApp.RunAsync(args, output, error);
        return (code, output.ToString(), error.ToString());
    }

    [Fact]
    public async Task Validate_reference_playbooks_exits_0()
    {
        var (code, output, _) = await Run("validate", Playbooks);
        Assert.Equal(0, code);
        Assert.Contains("ok: 8 file(s) valid", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Validate_broken_playbook_exits_1_with_every_located_error()
    {
        var dir = Directory.CreateTempSubdirectory("rbp-cli-").FullName;
        var file = Path.Combine(dir, "broken.yaml");
        await File.WriteAllTextAsync(file, """
            id: broken
            name: Broken
            version: 1.0
            autonomy_level: L1
            trigger:
              techniques: [T1021.1]
            steps:
              - id: a
                name: Block
                action_type: block_ip
                adapter: paloalot
                autonomy_level: L1
                params: { ip: "{{steps.b.output.ip}}" }
            """);
        var (code, output, _) = await Run("validate", file);
        Assert.Equal(1, code);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains($"{file}:3:10: 'version' is '1.0' but must be a semantic version such as 1.2.0", lines);
        Assert.Contains(lines, l => l.StartsWith($"{file}:6:16: ", StringComparison.Ordinal) && l.Contains("T1021.1", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith($"{file}:11:14: unknown adapter 'paloalot' (did you mean 'paloalto'?)", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith($"{file}:13:", StringComparison.Ordinal) && l.Contains("unknown step 'b'", StringComparison.Ordinal));
        Assert.Equal("4 problem(s) in 1 of 1 file(s)", lines[^1].Trim());
    }

    [Fact]
    public async Task Validate_json_output_is_stable()
    {
        var dir = Directory.CreateTempSubdirectory("rbp-cli-").FullName;
        var file = Path.Combine(dir, "p.yaml");
        await File.WriteAllTextAsync(file, "id: x\n");
        var (code, output, _) = await Run("validate", file, "--output", "json");
        Assert.Equal(1, code);
        using var doc = JsonDocument.Parse(output);
        var root = doc.RootElement;
        Assert.False(root.GetProperty("ok").GetBoolean());
        Assert.Equal(5, root.GetProperty("error_count").GetInt32());
        var f = root.GetProperty("files")[0];
        Assert.Equal(file, f.GetProperty("path").GetString());
        Assert.Equal("playbook", f.GetProperty("kind").GetString());
        var e = f.GetProperty("errors")[0];
        Assert.Equal(1, e.GetProperty("line").GetInt32());
        Assert.Equal(1, e.GetProperty("column").GetInt32());
        Assert.Equal("name", e.GetProperty("path").GetString());
        Assert.Equal("missing required key 'name'", e.GetProperty("message").GetString());
    }

    [Fact]
    public async Task Validate_defaults_to_the_playbooks_folder_option()
    {
        var (code, output, _) = await Run("validate", "--playbooks", Playbooks, "-o", "json");
        Assert.Equal(0, code);
        using var doc = JsonDocument.Parse(output);
        Assert.Equal(8, doc.RootElement.GetProperty("files").GetArrayLength());
        Assert.Contains(doc.RootElement.GetProperty("files").EnumerateArray(), f => f.GetProperty("kind").GetString() == "sigma");
    }

    [Fact]
    public async Task Playbooks_list_table_and_json()
    {
        var (code, table, _) = await Run("playbooks", "list", "--playbooks", Playbooks);
        Assert.Equal(0, code);
        var rows = table.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("ID", rows[0], StringComparison.Ordinal);
        Assert.StartsWith("c2_beaconing_L2", rows[1], StringComparison.Ordinal);
        Assert.Equal(4, rows.Length);

        var (_, json, _) = await Run("playbooks", "list", "--playbooks", Playbooks, "--output", "json");
        using var doc = JsonDocument.Parse(json);
        var lateral = doc.RootElement.GetProperty("playbooks").EnumerateArray().Single(p => p.GetProperty("id").GetString() == "lateral_movement_L1");
        Assert.Equal("1.0.0", lateral.GetProperty("version").GetString());
        Assert.Equal("L2", lateral.GetProperty("autonomy_level").GetString());
        Assert.Equal(5, lateral.GetProperty("steps").GetInt32());
        Assert.Equal(["T1021.001", "T1021.002"], lateral.GetProperty("techniques").EnumerateArray().Select(t => t.GetString()));
        Assert.Equal(0, doc.RootElement.GetProperty("invalid_files").GetArrayLength());
    }

    [Fact]
    public async Task Playbooks_list_names_invalid_files_and_exits_1()
    {
        var dir = Directory.CreateTempSubdirectory("rbp-cli-").FullName;
        await File.WriteAllTextAsync(Path.Combine(dir, "bad.yaml"), "id: x\n");
        var (code, output, _) = await Run("playbooks", "list", "--playbooks", dir);
        Assert.Equal(1, code);
        Assert.Contains("invalid (not loaded):", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Schema_prints_the_checked_in_schema()
    {
        var (code, output, _) = await Run("schema");
        Assert.Equal(0, code);
        Assert.Equal(await File.ReadAllTextAsync(Path.Combine(Playbooks, "schema", "playbook.schema.json")), output);
        var (_, policy, _) = await Run("schema", "--kind", "global_policy");
        Assert.Contains("block_l2_execution", policy, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Schema_write_creates_every_schema()
    {
        var dir = Path.Combine(Directory.CreateTempSubdirectory("rbp-cli-").FullName, "schema");
        var (code, _, _) = await Run("schema", "--write", dir);
        Assert.Equal(0, code);
        Assert.Equal(["adapters.schema.json", "global_policy.schema.json", "playbook.schema.json"], Directory.GetFiles(dir).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Adapters_list()
    {
        var (code, table, _) = await Run("adapters", "list");
        Assert.Equal(0, code);
        Assert.Contains(table.Split('\n'), l => l.StartsWith("paloalto", StringComparison.Ordinal) && l.Contains("block_ip", StringComparison.Ordinal) && l.Contains("unblock_ip", StringComparison.Ordinal));
        var (_, json, _) = await Run("adapters", "list", "-o", "json");
        using var doc = JsonDocument.Parse(json);
        var cs = doc.RootElement.GetProperty("adapters").EnumerateArray().Single(a => a.GetProperty("name").GetString() == "crowdstrike");
        var isolate = cs.GetProperty("actions").EnumerateArray().Single(a => a.GetProperty("name").GetString() == "isolate_host");
        Assert.Equal("reversible", isolate.GetProperty("kind").GetString());
        Assert.Equal("un_isolate_host", isolate.GetProperty("rollback_action").GetString());
    }

    [Fact]
    public async Task Help_has_examples_and_bad_usage_exits_2()
    {
        var (code, output, _) = await Run("--help");
        Assert.Equal(0, code);
        Assert.Contains("Examples:", output, StringComparison.Ordinal);
        Assert.Contains("runbookpilot validate playbooks/", output, StringComparison.Ordinal);
        var (bad, _, err) = await Run("validate", "--output", "yaml");
        Assert.Equal(2, bad);
        Assert.Contains("error:", err, StringComparison.Ordinal);
        var (unknown, _, _) = await Run("frobnicate");
        Assert.Equal(2, unknown);
    }
}
