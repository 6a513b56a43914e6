using System.Text.Json.Nodes;
using RunbookPilot.Domain.Alerts;
using RunbookPilot.Domain.Matching;
using RunbookPilot.Domain.Playbooks;
using RunbookPilot.Domain.Library;
using RunbookPilot.Domain.Core;

namespace RunbookPilot.Engine.Tests.Matching;

public class SelectionTests
{
    private static readonly PlaybookLibrary Library = PlaybookLibrary.Load(new LibraryPaths(Repo.Playbooks));
    private static readonly PlaybookSelector Selector = new(Library.Playbooks, Library.Sigma);

    private static Alert A(string json) => AlertNormalizers.Default.Normalize((JsonObject)JsonNode.Parse(json)!);

    [Fact]
    public void Sigma_rule_suggestion_comes_first_and_needs_nothing_else()
    {
        var s = Assert.Single(Selector.Select(A("""{"rule":{"id":"abc123-lateral-rdp"}}""")));
        Assert.Equal(("lateral_movement_L1", SelectionReason.SigmaSuggested), (s.Playbook.Id, s.Reason));
    }

    [Fact]
    public void Sigma_rule_by_uuid_and_its_tags_give_techniques_when_it_suggests_nothing()
    {
        using var dir = new TempDir();
        dir.Write("sigma/r.yml", "title: R\nid: 11111111-2222-3333-4444-555555555555\ntags: [attack.credential_access, attack.t1003.001]\n");
        var sigma = SigmaIndex.LoadFolder(Path.Combine(dir.Path, "sigma"));
        var selector = new PlaybookSelector(Library.Playbooks, sigma);
        var s = Assert.Single(selector.Select(A("""{"rule":{"uuid":"11111111-2222-3333-4444-555555555555"},"event":{"severity":"high"},"host":{"os":{"type":"windows"}}}""")));
        Assert.Equal(("credential_dumping_L0", SelectionReason.Technique), (s.Playbook.Id, s.Reason));
    }

    [Fact]
    public void Technique_match_applies_conditions_and_parent_ids_match_sub_techniques()
    {
        var alert = A("""{"event":{"category":["network","intrusion_detection"]},"source":{"ip":"203.0.113.9"},"threat":{"tactic":{"name":"Lateral Movement"},"technique":{"id":["T1021"],"subtechnique":{"id":["T1021.002"]}}}}""");
        Assert.Equal(["lateral_movement_L1"], Selector.Select(alert).Select(s => s.Playbook.Id));
        var wrongTactic = A("""{"event":{"category":"intrusion_detection"},"source":{"ip":"203.0.113.9"},"threat":{"tactic":{"name":"Execution"},"technique":{"id":"T1021.001"}}}""");
        Assert.Empty(Selector.Select(wrongTactic));
        // credential_dumping_L0 lists the parent T1003: a sub-technique alert matches it
        var cred = A("""{"event":{"severity":80},"host":{"os":{"type":"windows"}},"threat":{"technique":{"subtechnique":{"id":"T1003.006"}}}}""");
        Assert.Equal(["credential_dumping_L0"], Selector.Select(cred).Select(s => s.Playbook.Id));
    }

    [Fact]
    public void Severity_below_the_trigger_minimum_does_not_match()
    {
        Assert.Empty(Selector.Select(A("""{"event":{"severity":"low"},"host":{"os":{"type":"windows"}},"threat":{"technique":{"id":"T1003"}}}""")));
        Assert.Empty(Selector.Select(A("""{"host":{"os":{"type":"windows"}},"threat":{"technique":{"id":"T1003"}}}""")));
    }

    [Fact]
    public void An_alert_may_match_several_playbooks_and_no_match_is_empty()
    {
        var extra = PlaybookLoader.Parse(Tests.Playbooks.Samples.Valid, "s.yaml").Value!;
        var selector = new PlaybookSelector([.. Library.Playbooks, extra], Library.Sigma);
        var alert = A("""{"event":{"category":["intrusion_detection"]},"source":{"ip":"203.0.113.9"},"threat":{"tactic":{"name":"Lateral Movement"},"technique":{"id":"T1021.001"}}}""");
        Assert.Equal(["lateral_movement_L1", "sample"], selector.Select(alert).Select(s => s.Playbook.Id).Order(StringComparer.Ordinal));
        Assert.Empty(selector.Select(A("""{"message":"hello"}""")));
    }

    [Fact]
    public void Condition_only_playbooks_are_the_last_tier()
    {
        var pb = PlaybookLoader.Parse("""
            id: tor
            name: Tor
            version: 1.0.0
            autonomy_level: L0
            trigger:
              match: any
              conditions:
                - { field: dns.question.name, operator: regex, value: '\.onion$' }
                - { field: destination.ip, operator: cidr, value: [198.18.0.0/15] }
            steps:
              - { id: q, name: q, action_type: lookup_domain, adapter: virustotal, autonomy_level: L0, params: { domain: "{{dns.question.name}}" } }
            """, "t.yaml").Value!;
        var selector = new PlaybookSelector([pb], Library.Sigma);
        Assert.Equal(SelectionReason.Conditions, Assert.Single(selector.Select(A("""{"dns":{"question":{"name":"abc.onion"}}}"""))).Reason);
        Assert.Single(selector.Select(A("""{"destination":{"ip":"198.19.1.1"}}""")));
        Assert.Empty(selector.Select(A("""{"destination":{"ip":"8.8.8.8"}}""")));
    }

    [Fact]
    public void Detectforge_confidence_below_the_playbook_minimum_falls_back_to_techniques()
    {
        using var dir = new TempDir();
        dir.Write("sigma/r.yml", "title: R\nid: low-conf\ntags: [attack.t1021.001]\nx-detectforge:\n  suggested_runbook: lateral_movement_L1\n  confidence: low\n");
        var selector = new PlaybookSelector(Library.Playbooks, SigmaIndex.LoadFolder(Path.Combine(dir.Path, "sigma")));
        Assert.Empty(selector.Select(A("""{"rule":{"id":"low-conf"}}""")));
        var s = Assert.Single(selector.Select(A("""{"rule":{"id":"low-conf"},"event":{"category":"intrusion_detection"},"source":{"ip":"203.0.113.9"},"threat":{"tactic":{"name":"Lateral Movement"}}}""")));
        Assert.Equal(SelectionReason.Technique, s.Reason);
    }

    [Fact]
    public void Explain_agrees_with_select_and_names_a_sigma_suggestion_refused_for_its_confidence()
    {
        using var dir = new TempDir();
        dir.Write("sigma/r.yml", "title: R\nid: low-conf\ntags: [attack.t1021.001]\nx-detectforge:\n  suggested_runbook: lateral_movement_L1\n  confidence: low\n");
        var selector = new PlaybookSelector(Library.Playbooks, SigmaIndex.LoadFolder(Path.Combine(dir.Path, "sigma")));
        var alert = A("""{"rule":{"id":"low-conf"},"threat":{"tactic":{"name":"Lateral Movement"}}}""");
        var explained = selector.Explain(alert);
        Assert.Equal(selector.Select(alert).Select(s => s.Playbook.Id), explained.Selected.Select(v => v.PlaybookId));
        var lateral = explained.Playbooks.Single(p => p.PlaybookId == "lateral_movement_L1");
        Assert.False(lateral.Selected);
        Assert.Equal("condition failed: source.ip exists true: field absent; Sigma rule low-conf suggests it, but its confidence (low) is below the playbook's min_confidence (medium)", lateral.Why);
        Assert.Equal(["lateral_movement_L1"], explained.NearMisses);
    }

    [Theory]
    [InlineData("equals", "\"ABC\"", """{"f":"abc"}""", true)]
    [InlineData("not_equals", "\"abc\"", """{"f":"abd"}""", true)]
    [InlineData("not_equals", "\"abc\"", """{"f":["x","abc"]}""", false)]
    [InlineData("contains", "\"mimi\"", """{"f":"C:\\mimikatz.exe"}""", true)]
    [InlineData("starts_with", "\"powershell\"", """{"f":"PowerShell -enc"}""", true)]
    [InlineData("in", "[\"a\",\"b\"]", """{"f":"B"}""", true)]
    [InlineData("in", "[\"a\",\"b\"]", """{"f":"c"}""", false)]
    [InlineData("regex", "\"^evil[0-9]+$\"", """{"f":"evil42"}""", true)]
    [InlineData("exists", "true", """{"f":1}""", true)]
    [InlineData("exists", "false", """{"f":1}""", false)]
    [InlineData("exists", "false", """{"g":1}""", true)]
    [InlineData("gt", "5", """{"f":7}""", true)]
    [InlineData("gte", "5", """{"f":"5"}""", true)]
    [InlineData("lt", "5", """{"f":7}""", false)]
    [InlineData("lte", "5", """{"f":5}""", true)]
    [InlineData("cidr", "\"10.0.0.0/8\"", """{"f":"10.2.3.4"}""", true)]
    [InlineData("cidr", "\"10.0.0.0/8\"", """{"f":"not-an-ip"}""", false)]
    [InlineData("equals", "\"x\"", """{"f.g":"x"}""", false)]
    public void Operators(string op, string value, string doc, bool holds)
    {
        var c = new CompiledCondition(new TriggerCondition { Field = "f", Operator = Enum.Parse<ConditionOperator>(op.Replace("_", "", StringComparison.Ordinal), true), Value = JsonNode.Parse(value) });
        Assert.Equal(holds, c.Holds(new Alert("a", (JsonObject)JsonNode.Parse(doc)!, "ecs")));
    }
}

public class AlertTests
{
    [Fact]
    public void Fields_read_nested_flattened_and_through_arrays()
    {
        var doc = JsonNode.Parse("""{"source":{"ip":"1.1.1.1"},"kibana.alert.rule.uuid":"u1","kibana":{"alert.severity":"high"},"threat":[{"technique":[{"id":"T1"},{"id":"T2"}]}]}""")!;
        Assert.Equal("1.1.1.1", AlertFields.Text(doc, "source.ip"));
        Assert.Equal("u1", AlertFields.Text(doc, "kibana.alert.rule.uuid"));
        Assert.Equal("high", AlertFields.Text(doc, "kibana.alert.severity"));
        Assert.Equal(["T1", "T2"], AlertFields.Texts(doc, "threat.technique.id"));
        Assert.Empty(AlertFields.Values(doc, "nope.x"));
    }

    [Fact]
    public void Elastic_signal_is_normalised_to_ecs()
    {
        var doc = (JsonObject)JsonNode.Parse("""
            {"@timestamp":"2024-05-20T10:00:41.512Z","event":{"kind":"signal","category":["process"]},
             "kibana.alert.original_time":"2024-05-20T09:58:11.000Z","kibana.alert.uuid":"7d9f","kibana.alert.severity":"high","kibana.alert.risk_score":73,
             "kibana.alert.rule.uuid":"2c7e","kibana.alert.rule.rule_id":"d1a2","kibana.alert.rule.name":"Encoded PowerShell",
             "kibana.alert.rule.threat":[{"framework":"MITRE ATT&CK","tactic":{"id":"TA0002","name":"Execution"},
               "technique":[{"id":"T1059","name":"x","subtechnique":[{"id":"T1059.001","name":"PowerShell"}]}]}],
             "host":{"name":"WIN-SRV-01"},"source":{"ip":"10.0.5.23"}}
            """)!;
        var alert = AlertNormalizers.Default.Normalize(doc);
        Assert.Equal(("elastic", "7d9f"), (alert.Format, alert.Id));
        Assert.Equal(["d1a2", "2c7e"], alert.RuleIds);
        Assert.Equal(["T1059", "T1059.001"], alert.Techniques);
        Assert.Equal("Execution", alert.Text("threat.tactic.name"));
        Assert.Equal("2024-05-20T09:58:11.000Z", alert.Text("@timestamp"));
        Assert.Equal("alert", alert.Text("event.kind"));
        Assert.Equal(AlertSeverity.High, alert.Severity);
        Assert.Equal("WIN-SRV-01", alert.Text("host.name"));
    }

    [Fact]
    public void Splunk_notable_is_normalised_to_ecs()
    {
        var doc = (JsonObject)JsonNode.Parse("""
            {"sid":"scheduler__admin__search__RMD5","search_name":"Lateral Movement Detected","result":
              {"event_id":"N-1","src":"203.0.113.9","dest":"10.0.3.12","user":"jdoe","dest_host":"SRV-1","urgency":"critical",
               "annotations":{"mitre_attack":["T1021.002"]}}}
            """)!;
        var alert = AlertNormalizers.Default.Normalize(doc);
        Assert.Equal(("splunk_notable", "N-1"), (alert.Format, alert.Id));
        Assert.Equal("203.0.113.9", alert.Text("source.ip"));
        Assert.Equal("SRV-1", alert.Text("host.name"));
        Assert.Equal(["T1021", "T1021.002"], alert.Techniques);
        Assert.Equal(AlertSeverity.Critical, alert.Severity);
        Assert.Equal("Lateral Movement Detected", alert.Text("rule.name"));
    }

    [Fact]
    public void Plain_ecs_without_event_id_gets_a_content_id()
    {
        var a = AlertNormalizers.Default.Normalize((JsonObject)JsonNode.Parse("""{"source":{"ip":"1.2.3.4"}}""")!);
        var b = AlertNormalizers.Default.Normalize((JsonObject)JsonNode.Parse("""{"source":{"ip":"1.2.3.4"}}""")!);
        Assert.Equal("ecs", a.Format);
        Assert.StartsWith("sha256:", a.Id, StringComparison.Ordinal);
        Assert.Equal(a.Id, b.Id);
        Assert.Null(a.Severity);
    }

    [Theory]
    [InlineData("21", AlertSeverity.Low)]
    [InlineData("47", AlertSeverity.Medium)]
    [InlineData("73", AlertSeverity.High)]
    [InlineData("99", AlertSeverity.Critical)]
    [InlineData("\"Medium\"", AlertSeverity.Medium)]
    public void Severity_bands(string value, AlertSeverity expected) =>
        Assert.Equal(expected, new Alert("a", (JsonObject)JsonNode.Parse("{\"event\":{\"severity\":" + value + "}}")!, "ecs").Severity);

    [Fact]
    public void Json_errors_carry_a_path()
    {
        Assert.Null(AlertJson.ParseObject("""{"a": [1, }""", out var error));
        Assert.Equal("line 1, column 11: '}' is an invalid start of a value.", error);
        Assert.Null(AlertJson.ParseObject("[1]", out error));
        Assert.Contains("expected a JSON object", error, StringComparison.Ordinal);
    }
}
