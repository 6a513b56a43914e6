using RunbookPilot.Engine.Tests;

namespace RunbookPilot.Cli.Tests;

/// <summary><c>runbookpilot explain</c>: an unmatched alert prints its near misses with the failing condition and the alert's value (issue 14, item 4).</summary>
public class ExplainTests
{
    private static string Playbooks => Path.Combine(Repo.Root, "playbooks");

    private static async Task<(int Code, string Out, string Err)> Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var code = await CliApp.RunAsync(args, output, error);
        return (code, output.ToString(), error.ToString());
    }

    private static string Write(string json)
    {
        var path = Path.Combine(Path.GetTempPath(), $"rbp-explain-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, json);
        return path;
    }

    [Fact]
    public async Task An_unmatched_alert_lists_its_near_misses_with_the_failing_condition_and_the_alerts_value()
    {
        // A DNS-beaconing alert whose sensor left out the queried name: the C2 playbook's technique matches, its condition does not.
        var file = Write("""{"event":{"id":"x-1","kind":"alert","category":["network"],"severity":"high"},"host":{"name":"ws-7"},"threat":{"technique":{"id":["T1071"],"subtechnique":{"id":["T1071.004"]}}}}""");
        var (code, output, error) = await Run("explain", file, "--playbooks", Playbooks);
        Assert.True(code == 0, error);
        Assert.Contains("no playbook matched", output, StringComparison.Ordinal);
        Assert.Contains("near misses:\n  c2_beaconing_L2: condition failed: dns.question.name exists true: field absent", output.ReplaceLineEndings("\n"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_severity_below_the_threshold_is_named_with_the_alerts_severity_and_json_has_every_verdict()
    {
        var file = Write("""{"event":{"id":"x-2","severity":"low"},"host":{"name":"ws-7","os":{"type":"windows"}},"threat":{"technique":{"id":["T1003"],"subtechnique":{"id":["T1003.001"]}}}}""");
        var (_, output, _) = await Run("explain", file, "--playbooks", Playbooks);
        Assert.Contains("credential_dumping_L0: severity: needs medium or higher; the alert's is low", output, StringComparison.Ordinal);
        var (_, json, _) = await Run("explain", file, "--playbooks", Playbooks, "--output", "json");
        var doc = System.Text.Json.JsonDocument.Parse(json).RootElement;
        Assert.Equal(["credential_dumping_L0"], doc.GetProperty("near_misses").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(Directory.GetFiles(Playbooks, "*.yaml").Count(f => !f.EndsWith("global_policy.yaml", StringComparison.Ordinal) && !f.EndsWith("adapters.yaml", StringComparison.Ordinal)),
            doc.GetProperty("playbooks").GetArrayLength());
    }
}
