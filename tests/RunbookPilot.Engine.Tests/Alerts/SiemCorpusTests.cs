using System.Text.Json.Nodes;
using RunbookPilot.Domain.Alerts;
using RunbookPilot.Engine.Tests.Execution;

namespace RunbookPilot.Engine.Tests.Alerts;

/// <summary>
/// The SIEM corpus (tests/fixtures/siem, sources in its README): every vendor's alert reads into the ECS the playbooks
/// use, and each reference scenario × source starts the scenario's playbook (issue 14, item 5).
/// </summary>
public sealed class SiemCorpusTests
{
    private static readonly string Corpus = Path.Combine(Repo.Root, "tests", "fixtures", "siem");

    public static readonly string[] Sources = ["ecs", "elastic", "splunk", "sentinel", "chronicle", "sumo"];

    public static readonly Dictionary<string, string> Scenarios = new()
    {
        ["credential_dumping"] = "credential_dumping_L0",
        ["lateral_movement"] = "lateral_movement_L1",
        ["c2_beaconing"] = "c2_beaconing_L2",
    };

    public static TheoryData<string, string> Matrix()
    {
        var data = new TheoryData<string, string>();
        foreach (var scenario in Scenarios.Keys)
            foreach (var source in Sources) data.Add(scenario, source);
        return data;
    }

    private static JsonObject Fixture(string source, string scenario) =>
        AlertJson.ParseObject(File.ReadAllText(Path.Combine(Corpus, source, scenario + ".json")), out var error) ?? throw new InvalidOperationException(error);

    private static Alert Prepared(string source, string scenario)
    {
        var (alert, problems) = EcsValidator.Prepare(Fixture(source, scenario), "$");
        Assert.True(alert is not null, string.Join("; ", problems.Select(p => $"{p.Path}: {p.Message}")));
        return alert;
    }

    [Theory]
    [MemberData(nameof(Matrix))]
    public async Task Each_reference_scenario_from_each_source_starts_its_playbook(string scenario, string source)
    {
        var playbooks = Scenarios.Values.Select(id => File.ReadAllText(Path.Combine(Repo.Playbooks, id + ".yaml"))).ToArray();
        await using var f = new EngineFixture(playbooks);
        var sigma = Directory.CreateDirectory(Path.Combine(f.Dir, "playbooks", "sigma")).FullName;
        foreach (var rule in Directory.GetFiles(Path.Combine(Repo.Playbooks, "sigma"))) File.Copy(rule, Path.Combine(sigma, Path.GetFileName(rule)));
        await f.StartAsync();
        var alert = Prepared(source, scenario);
        var accepted = await f.Engine.Alerts.SubmitAsync(alert, "test");
        Assert.Empty(f.Engine.Library.Errors);
        var started = Assert.Single(accepted.Selected, s => s.PlaybookId == Scenarios[scenario]);
        Assert.True((await f.Engine.Executions.WaitSettledAsync(started.ExecutionId, TimeSpan.FromSeconds(20))).State.Started);
    }

    [Theory]
    [InlineData("elastic", "elastic")]
    [InlineData("splunk", "splunk_notable")]
    [InlineData("sentinel", "sentinel")]
    [InlineData("chronicle", "chronicle")]
    [InlineData("sumo", "sumo_logic")]
    [InlineData("ecs", "ecs")]
    public void Each_source_is_read_by_its_own_normaliser(string source, string format)
    {
        foreach (var scenario in Scenarios.Keys) Assert.Equal(format, Prepared(source, scenario).Format);
    }

    /// <summary>What the normalisers must read from each vendor's lateral-movement alert (values from the fixtures).</summary>
    [Theory]
    [InlineData("sentinel", "6a9f2d4c-8e1b-4b73-a05d-3c7e1f9b2d86", "high", "10.20.8.45", "10.30.2.17", "WS-ENG-117", "mkowalski")]
    [InlineData("chronicle", "de_9e2b5d8f-1c4a-7f06-3b9d-2e5a8c1f4b73", "high", "10.20.8.45", "10.30.2.17", "WS-ENG-117", "mkowalski")]
    [InlineData("sumo", "INSIGHT-2231", "high", "10.20.8.45", "10.30.2.17", "ws-eng-117", "mkowalski")]
    [InlineData("splunk", "8F1A2B3C-4D5E-4F60-9A7B-8C9D0E1F2A3B@@notable@@7b9d1f3a5c7e9b1d3f5a7c9e1b3d5f7a", "high", "10.20.8.45", "10.30.2.17", "WS-ENG-117", "mkowalski")]
    public void Lateral_movement_alerts_read_into_the_ecs_fields_the_playbook_uses(string source, string id, string severity, string src, string dst, string srcHost, string user)
    {
        var a = Prepared(source, "lateral_movement");
        Assert.Equal((id, severity, src, dst, srcHost, user),
            (a.Id, a.Text("event.severity"), a.Text("source.ip"), a.Text("destination.ip"), a.Text("source.host.name"), a.Text("user.name")));
        Assert.Contains("T1021.001", a.Techniques);
        Assert.Contains("Lateral Movement", AlertFields.Texts(a.Document, "threat.tactic.name"), StringComparer.OrdinalIgnoreCase);
    }

    [Theory]
    [InlineData("sentinel")]
    [InlineData("chronicle")]
    [InlineData("sumo")]
    [InlineData("splunk")]
    [InlineData("elastic")]
    public void Credential_dumping_alerts_carry_the_process_hash_and_c2_alerts_the_queried_domain(string source)
    {
        var dump = Prepared(source, "credential_dumping");
        Assert.Equal("5d04a5b7cabde7c7b862714f03206bf130c2e14adb2aa7fa546531025bd8269f", dump.Text("process.hash.sha256"));
        Assert.Contains("T1003.001", dump.Techniques);
        var c2 = Prepared(source, "c2_beaconing");
        Assert.Equal("q7v2mx9kd4e8pa1sw3ht6nbz.cdn-telemetry.top", c2.Text("dns.question.name"));
        Assert.Contains("T1071.004", c2.Techniques);
    }

    [Fact]
    public void An_elastic_alert_is_identified_by_the_alert_not_by_the_source_event_and_reads_as_one_kind()
    {
        var a = Prepared("elastic", "lateral_movement");
        Assert.Equal("alert", Assert.Single(AlertFields.Texts(a.Document, "event.kind")));
        Assert.Equal("authentication", a.Text("event.category"));
        Assert.Equal(Fixture("elastic", "lateral_movement")["kibana.alert.uuid"]!.GetValue<string>(), a.Id);
    }

    /// <summary>
    /// An adversary's variations of every vendor document: each field replaced by a value of another JSON type. A
    /// normaliser never throws; the document is read, or refused with located problems.
    /// </summary>
    [Fact]
    public void Every_field_of_every_fixture_replaced_by_another_type_is_read_or_refused_never_a_crash()
    {
        JsonNode?[] replacements = [null, 7, true, "x", new JsonArray(1, "y"), new JsonObject { ["z"] = new JsonArray() }];
        var files = Directory.GetFiles(Corpus, "*.json", SearchOption.AllDirectories);
        var variants = 0;
        foreach (var file in files)
        {
            var original = AlertJson.ParseObject(File.ReadAllText(file), out _)!;
            foreach (var path in Paths(original, "").Take(400))
                foreach (var replacement in replacements)
                {
                    var copy = (JsonObject)original.DeepClone();
                    Set(copy, path, replacement?.DeepClone());
                    var (alert, problems) = EcsValidator.Prepare(copy, "$");
                    Assert.True(alert is not null || problems.Count > 0, $"{file} {string.Join('.', path)}");
                    variants++;
                }
        }
        Assert.True(variants > 1000, $"only {variants} variants");
    }

    private static IEnumerable<string[]> Paths(JsonNode node, string prefix)
    {
        if (node is not JsonObject obj) yield break;
        foreach (var (key, value) in obj)
        {
            string[] path = prefix.Length == 0 ? [key] : [.. prefix.Split('\u0001'), key];
            yield return path;
            if (value is JsonObject)
                foreach (var inner in Paths(value, string.Join('\u0001', path))) yield return inner;
            else if (value is JsonArray { Count: > 0 } array && array[0] is JsonObject first)
                foreach (var inner in Paths(first, string.Join('\u0001', path) + "\u0001[0]")) yield return inner;
        }
    }

    private static void Set(JsonObject root, string[] path, JsonNode? value)
    {
        JsonNode? node = root;
        for (var i = 0; i < path.Length - 1; i++)
            node = path[i] == "[0]" ? node!.AsArray()[0] : node!.AsObject()[path[i]];
        if (node is JsonObject o) o[path[^1]] = value;
    }

    [Fact]
    public void Embedded_vendor_json_that_is_not_valid_text_is_refused_not_a_crash()
    {
        var doc = AlertJson.ParseObject("""{"SystemAlertId":"s-1","AlertName":"x","ProductName":"Azure Sentinel","Entities":"[{\"Type\":\"host\",\"HostName\":\"\\ud800\"}]"}""", out var error)!;
        Assert.Null(error);
        Assert.True(new SentinelNormalizer().Recognises(doc));
        var (alert, problems) = EcsValidator.Prepare(doc, "$");
        Assert.True(alert is not null || problems.Count > 0);
    }

    [Fact]
    public void Flattened_ecs_is_ecs_and_a_document_without_any_ecs_field_is_unrecognised()
    {
        Assert.Equal("ecs", AlertNormalizers.Default.Normalize(AlertJson.ParseObject("""{"source.ip":"203.0.113.9","event.id":"f-1"}""", out _)!).Format);
        Assert.Equal(AlertNormalizers.Unrecognised, AlertNormalizers.Default.Normalize(AlertJson.ParseObject("""{"offense_id":7,"magnitude":4}""", out _)!).Format);
    }
}
