using RunbookPilot.Cli;
using RunbookPilot.Engine.Tests;
using RunbookPilot.Cli.Backends;

namespace RunbookPilot.Cli.Tests;

/// <summary>
/// A careless operator's configuration: one bad line in global_policy.yaml or adapters.yaml stops the CLI with the
/// located problem (it never runs with defaults, which would drop the allow-list, compliance mode and four-eyes), and
/// without --demo nothing ever runs against a simulator.
/// </summary>
public sealed class FailClosedConfigTests : IDisposable
{
    private readonly TempDir _dir = new();

    public FailClosedConfigTests()
    {
        foreach (var file in Directory.GetFiles(Repo.Playbooks, "*.yaml")) _dir.Write("playbooks/" + Path.GetFileName(file), File.ReadAllText(file));
        foreach (var file in Directory.GetFiles(Path.Combine(Repo.Playbooks, "sigma"))) _dir.Write("playbooks/sigma/" + Path.GetFileName(file), File.ReadAllText(file));
    }

    public void Dispose() => _dir.Dispose();

    private const string Lateral = """{"event":{"id":"cfg-1","category":["intrusion_detection"],"severity":"high"},"source":{"ip":"203.0.113.7","host":{"name":"WS-1","id":"dev-1"}},"destination":{"ip":"10.0.3.12"},"threat":{"tactic":{"name":"Lateral Movement"},"technique":{"id":"T1021","subtechnique":{"id":"T1021.001"}}}}""";

    private async Task<(int Code, string Out, string Err)> Execute(params string[] extra)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        string[] args = ["execute", "--db", Path.Combine(_dir.Path, "data", "rbp.db"), "--playbooks", Path.Combine(_dir.Path, "playbooks"), "--plugins", Path.Combine(_dir.Path, "none"), .. extra];
        var code = await CliApp.RunAsync(args, output, error, new CliServices([], () => new StringReader(Lateral)) { Environment = TestAudit.Environment });
        return (code, output.ToString(), error.ToString());
    }

    [Theory]
    [InlineData("global_policy.yaml", "allow_list:\n  ips: [10.0.0.1]\nblock_l2_executon: true\n", "global_policy.yaml:3:1:")]
    [InlineData("global_policy.yaml", "auto_approve:\n  playbooks: [lateral_movement_L9]\n", "global_policy.yaml:2:15:")]
    [InlineData("global_policy.yaml", "allow_list:\n  ips: [010.0.0.1]\n", "global_policy.yaml:2:9:")]
    [InlineData("adapters.yaml", "adapters:\n  virustotal:\n    base_url: https://www.virustotal.com/api/v3\n  crowdstrike:\n    base_url: not a url\n", "adapters.yaml:5:15:")]
    public async Task One_bad_line_stops_the_cli_with_its_location_and_runs_nothing(string file, string yaml, string location)
    {
        _dir.Write("playbooks/" + file, yaml);
        foreach (var demo in new[] { false, true })
        {
            var (code, output, error) = await Execute(demo ? ["--demo"] : []);
            Assert.Equal(1, code);
            Assert.Contains(location, error, StringComparison.Ordinal);
            Assert.Contains("nothing was run", error, StringComparison.Ordinal);
            Assert.DoesNotContain("DEMO MODE", error, StringComparison.Ordinal);
            Assert.Equal("", output);
        }
        Assert.False(File.Exists(Path.Combine(_dir.Path, "data", "rbp.db")) && new FileInfo(Path.Combine(_dir.Path, "data", "rbp.db")).Length > 0
            && File.ReadAllText(Path.Combine(_dir.Path, "data", "rbp.db")).Contains("cfg-1", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Without_demo_an_unconfigured_vendor_is_reported_and_its_steps_fail_never_against_a_simulator()
    {
        var (code, output, error) = await Execute("--output", "json");
        Assert.True(output.Length > 0, error);
        Assert.DoesNotContain("DEMO MODE", error, StringComparison.Ordinal);
        Assert.Contains("adapter virustotal is used by a playbook but not configured", error, StringComparison.Ordinal);
        Assert.Contains("\"failed\"", output, StringComparison.Ordinal);
        var show = new StringWriter();
        var id = System.Text.Json.JsonDocument.Parse(output).RootElement.GetProperty("alerts")[0].GetProperty("executions")[0].GetProperty("execution_id").GetString()!;
        await CliApp.RunAsync(["show", id, "--db", Path.Combine(_dir.Path, "data", "rbp.db"), "--playbooks", Path.Combine(_dir.Path, "playbooks"), "-o", "json"], show, new StringWriter(), new CliServices([], () => new StringReader("")) { Environment = TestAudit.Environment });
        Assert.Contains("adapter virustotal is not configured", show.ToString(), StringComparison.Ordinal);
        Assert.Equal(0, code); // the alert was accepted and decided; its execution says why it failed
    }

    [Fact]
    public async Task A_missing_policy_file_stops_the_cli_unless_demo()
    {
        File.Delete(Path.Combine(_dir.Path, "playbooks", "global_policy.yaml"));
        var (code, _, error) = await Execute();
        Assert.Equal(1, code);
        Assert.Contains("no global policy file", error, StringComparison.Ordinal);
        Assert.Equal(0, (await Execute("--demo")).Code);
    }
}
