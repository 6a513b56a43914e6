using RunbookPilot.Domain.Playbooks;
using RunbookPilot.Domain.Yaml;

namespace RunbookPilot.Engine.Tests.Playbooks;

/// <summary>Every check of the loader and validator, each shown with the line it reports.</summary>
public class LoaderErrorTests
{
    private static LoadResult<Playbook> Load(string yaml) => PlaybookLoader.Parse(yaml, "pb.yaml");

    private static string Swap(string from, string to)
    {
        Assert.Contains(from, Samples.Valid, StringComparison.Ordinal);
        return Samples.Valid.Replace(from, to, StringComparison.Ordinal);
    }

    /// <summary>Asserts an error containing <paramref name="message"/> on the first line of <paramref name="yaml"/> that contains <paramref name="marker"/>.</summary>
    private static Diagnostic AssertError(string yaml, string marker, string message)
    {
        var result = Load(yaml);
        Assert.Null(result.Value);
        var line = Array.FindIndex(yaml.Split('\n'), l => l.Contains(marker, StringComparison.Ordinal)) + 1;
        Assert.True(line > 0, "marker not found: " + marker);
        var match = result.Errors.FirstOrDefault(e => e.Message.Contains(message, StringComparison.Ordinal));
        Assert.True(match is not null, $"no error containing '{message}'; got:\n{string.Join("\n", result.Errors)}");
        Assert.Equal(line, match.Line);
        Assert.True(match.Column >= 1);
        Assert.Equal("pb.yaml", match.File);
        return match;
    }

    [Fact]
    public void Valid_sample_loads()
    {
        var result = Load(Samples.Valid);
        Assert.True(result.Ok, string.Join("\n", result.Errors));
        var pb = result.Value!;
        Assert.Equal("sample", pb.Id);
        Assert.Equal(2, pb.Steps.Count);
        Assert.Equal(OnFailure.Halt, pb.Steps[0].OnFailure);
        Assert.Equal(MatchMode.All, pb.Trigger.Match);
        Assert.True(pb.Rollback.ContainsKey("block"));
        Assert.Equal(new SourcePos(15, 5), result.Locations["steps[1]"]);
    }

    [Fact]
    public void Missing_required_fields_are_each_reported_at_the_mapping()
    {
        var result = Load("name: X\nsteps: []\n");
        var messages = result.Errors.Select(e => e.Message).ToList();
        foreach (var key in new[] { "id", "version", "autonomy_level", "trigger" })
            Assert.Contains($"missing required key '{key}'", messages);
        Assert.All(result.Errors, e => Assert.Equal((1, 1), (e.Line, e.Column)));
    }

    [Fact]
    public void Missing_required_step_field_names_the_step()
    {
        var e = AssertError(Swap("    name: Reputation\n", ""), "- id: lookup", "missing required key 'name' in 'steps[0]'");
        Assert.Equal("steps[0].name", e.Path);
        Assert.Equal(5, e.Column);
    }

    [Fact]
    public void Invalid_yaml_reports_its_line_and_column()
    {
        var result = Load("id: x\nname: [unclosed\nversion: 1.0.0\n");
        var e = Assert.Single(result.Errors);
        Assert.StartsWith("invalid YAML", e.Message, StringComparison.Ordinal);
        Assert.Equal(2, e.Line);
    }

    [Fact]
    public void Tab_indentation_is_invalid_yaml_with_a_location()
    {
        var e = Assert.Single(Load("id: x\n\tname: y\n").Errors);
        Assert.StartsWith("invalid YAML", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Unknown_key_suggests_the_closest() =>
        AssertError(Swap("rollback_available: true", "rollback_availble: true"), "rollback_availble", "unknown key 'rollback_availble' in 'steps[1]' (did you mean 'rollback_available'?)");

    [Fact]
    public void Unknown_top_level_key_without_close_match_has_no_suggestion()
    {
        var e = AssertError(Samples.Valid + "\ncompletely_different: 1\n", "completely_different", "unknown key 'completely_different'");
        Assert.DoesNotContain("did you mean", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Extension_keys_are_kept()
    {
        var result = Load(Samples.Valid + "\nx-team:\n  owner: soc\n");
        Assert.True(result.Ok);
        Assert.Equal("soc", result.Value!.Extensions!["x-team"]!["owner"]!.GetValue<string>());
    }

    [Fact]
    public void Duplicate_step_ids()
    {
        var result = Load(Swap("- id: block", "- id: lookup"));
        var e = Assert.Single(result.Errors, e => e.Message.Contains("duplicate step id 'lookup'", StringComparison.Ordinal));
        Assert.Equal((15, 9), (e.Line, e.Column));
    }

    [Fact]
    public void Duplicate_mapping_keys() => AssertError(Swap("name: Sample", "name: Sample\nname: Again"), "name: Again", "duplicate key 'name'");

    [Theory]
    [InlineData("T1021.1")]
    [InlineData("t1021")]
    [InlineData("T102")]
    [InlineData("T1021.0011")]
    [InlineData("TA0008")]
    public void Malformed_technique_ids(string bad) =>
        AssertError(Swap("[T1021.001]", $"[{bad}]"), "techniques:", $"'{bad}' but must be an ATT&CK technique id");

    [Fact]
    public void Version_must_be_semantic() => AssertError(Swap("version: 1.2.3", "version: v1"), "version:", "must be a semantic version");

    [Fact]
    public void Template_naming_unknown_step() =>
        AssertError(Swap("steps.lookup.output", "steps.lokup.output"), "tag", "refers to unknown step 'lokup' (did you mean 'lookup'?)");

    [Fact]
    public void Template_naming_a_later_step() =>
        AssertError(Swap("resource: \"{{source.ip}}\"", "resource: \"{{steps.block.output.id}}\""), "resource:", "refers to step 'block', which runs after step 'lookup'");

    [Fact]
    public void Template_naming_its_own_step() =>
        AssertError(Swap("steps.lookup.output", "steps.block.output"), "tag", "refers to its own step 'block'");

    [Fact]
    public void Template_with_bad_step_path() =>
        AssertError(Swap("steps.lookup.output.malicious", "steps.lookup.result"), "tag", "must look like steps.<id>.output.<path>");

    [Fact]
    public void Template_that_is_not_a_path() =>
        AssertError(Swap("resource: \"{{source.ip}}\"", "resource: \"{{source ip}}\""), "resource:", "is not a field path");

    [Fact]
    public void Template_never_closed() =>
        AssertError(Swap("resource: \"{{source.ip}}\"", "resource: \"{{source.ip\""), "resource:", "never closed");

    [Fact]
    public void Templates_inside_nested_params_are_checked() =>
        AssertError(Swap("resource: \"{{source.ip}}\"", "resource: [{ deep: \"{{steps.nope.output}}\" }]"), "resource:", "unknown step 'nope'");

    [Fact]
    public void Rollback_for_unknown_step() =>
        AssertError(Swap("rollback:\n  block:", "rollback:\n  blok:"), "blok:", "rollback entry for unknown step 'blok' (did you mean 'block'?)");

    [Fact]
    public void Rollback_for_step_not_marked_reversible() =>
        Assert.Equal("rollback.block", AssertError(Swap("    rollback_available: true\n", ""), "  block:", "is not marked rollback_available: true").Path);

    [Fact]
    public void Rollback_for_read_only_step()
    {
        var yaml = Samples.Valid + "\n  lookup:\n    action_type: query\n    adapter: virustotal\n    params: { resource: x }\n";
        AssertError(yaml.Replace("            params:\n              resource", "            rollback_available: true\n            params:\n              resource", StringComparison.Ordinal), "  lookup:", "is not marked");
    }

    [Fact]
    public void Rollback_available_without_entry() =>
        AssertError(Samples.Valid[..Samples.Valid.IndexOf("rollback:\n", StringComparison.Ordinal)], "rollback_available: true", "says rollback_available: true but 'rollback' has no entry 'block'");

    [Fact]
    public void Rollback_available_on_irreversible_action() =>
        AssertError(Swap("    action_type: block_ip\n    adapter: paloalto", "    action_type: create_issue\n    adapter: jira")
            .Replace("      ip: \"{{source.ip}}\"\n      tag", "      project: SOC\n      summary", StringComparison.Ordinal), "rollback_available: true", "jira.create_issue cannot be undone");

    [Fact]
    public void L2_step_that_is_not_simulated()
    {
        var yaml = Swap("autonomy_level: L1\ntrigger", "autonomy_level: L2\ntrigger").Replace("    autonomy_level: L1\n    rollback_available", "    autonomy_level: L2\n    simulation_mode: false\n    rollback_available", StringComparison.Ordinal);
        AssertError(yaml, "simulation_mode: false", "L2 steps only run as simulations");
    }

    [Fact]
    public void Step_autonomy_above_the_playbook() =>
        AssertError(Swap("autonomy_level: L1\ntrigger", "autonomy_level: L0\ntrigger"), "    autonomy_level: L1", "step 'block' is L1 but the playbook's autonomy_level is L0");

    [Fact]
    public void L0_step_that_changes_state()
    {
        var yaml = Swap("    autonomy_level: L1\n    rollback", "    autonomy_level: L0\n    rollback");
        var e = Assert.Single(Load(yaml).Errors, e => e.Message.Contains("L0 is for read-only actions", StringComparison.Ordinal));
        Assert.Equal("steps[1].autonomy_level", e.Path);
        Assert.Equal(19, e.Line);
    }

    [Fact]
    public void Unknown_adapter() => AssertError(Swap("adapter: virustotal", "adapter: virustotl"), "virustotl", "unknown adapter 'virustotl' (did you mean 'virustotal'?)");

    [Fact]
    public void Unknown_action_for_adapter() => AssertError(Swap("action_type: block_ip", "action_type: block_ipp"), "block_ipp", "adapter 'paloalto' has no action 'block_ipp' (did you mean 'block_ip'?)");

    [Fact]
    public void Unknown_rollback_action() => AssertError(Swap("action_type: unblock_ip", "action_type: unblock"), "unblock", "has no action 'unblock'");

    [Fact]
    public void Missing_action_parameter()
    {
        var result = Load(Swap("      ip: \"{{source.ip}}\"\n      tag", "      tag"));
        var e = Assert.Single(result.Errors);
        Assert.Equal("steps[1].params", e.Path);
        Assert.Contains("paloalto.block_ip needs the parameter 'ip'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_parameter_the_adapter_would_ignore_is_an_error_pan_os_zone_and_policy_name() =>
        AssertError(Swap("      tag: \"AUTO_", "      zone: external\n      policy_name: AUTO_BLOCK\n      tag: \"AUTO_"), "zone", "paloalto.block_ip has no parameter 'zone'");

    [Fact]
    public void Unknown_action_parameter() => AssertError(Swap("resource: \"{{source.ip}}\"", "resorce: x\n      resource: y"), "resorce", "has no parameter 'resorce' (did you mean 'resource'?)");

    [Fact]
    public void Regex_that_does_not_compile() =>
        AssertError(Swap("  techniques: [T1021.001]", "  conditions:\n    - field: process.name\n      operator: regex\n      value: '(unclosed'"), "(unclosed", "regular expression does not compile");

    [Theory]
    [InlineData("in", "x", "'in' needs a non-empty list")]
    [InlineData("in", "[]", "'in' needs a non-empty list")]
    [InlineData("gt", "ten", "'gt' needs a number")]
    [InlineData("lte", "[1]", "'lte' needs a number")]
    [InlineData("cidr", "10.0.0.0/99", "'cidr' needs a network")]
    [InlineData("cidr", "[10.0.0.0/8, nope]", "'cidr' needs a network")]
    [InlineData("exists", "maybe", "'exists' takes true, false or no value")]
    [InlineData("equals", "[a, b]", "'equals' needs a single value")]
    [InlineData("regex", "[a]", "'regex' needs a regular expression")]
    public void Condition_values_match_their_operator(string op, string value, string message) =>
        AssertError(Swap("  techniques: [T1021.001]", $"  conditions:\n    - field: source.ip\n      operator: {op}\n      value: {value}"), "value: " + value, message);

    [Fact]
    public void Condition_without_value_is_reported_at_the_condition() =>
        AssertError(Swap("  techniques: [T1021.001]", "  conditions:\n    - field: source.ip\n      operator: contains"), "- field: source.ip", "'contains' needs a single value");

    [Theory]
    [InlineData("equals", "10.0.0.1")]
    [InlineData("in", "[a, b]")]
    [InlineData("gte", "7")]
    [InlineData("lt", "2.5")]
    [InlineData("cidr", "[10.0.0.0/8, 192.168.0.0/16]")]
    [InlineData("exists", "true")]
    [InlineData("regex", "'^evil[0-9]+$'")]
    public void Good_condition_values_load(string op, string value)
    {
        var result = Load(Swap("  techniques: [T1021.001]", $"  conditions:\n    - field: source.ip\n      operator: {op}\n      value: {value}"));
        Assert.True(result.Ok, string.Join("\n", result.Errors));
    }

    [Fact]
    public void Unknown_operator_suggests() =>
        AssertError(Swap("  techniques: [T1021.001]", "  conditions:\n    - field: a\n      operator: startswith\n      value: x"), "startswith", "must be one of equals, not_equals, contains, starts_with");

    [Fact]
    public void Trigger_that_matches_nothing() => AssertError(Swap("  techniques: [T1021.001]", "  match: any"), "trigger:", "the trigger matches nothing");

    [Fact]
    public void Empty_steps() => AssertError(Samples.Valid[..Samples.Valid.IndexOf("steps:", StringComparison.Ordinal)] + "steps: []\n", "steps:", "at least one step");

    [Theory]
    [InlineData("timeout: 0s", "timeout must be more than 0")]
    [InlineData("timeout: 2h", "at most 1h")]
    [InlineData("timeout: soon", "must be a duration such as 30s")]
    [InlineData("retry: { max_retries: 11 }", "'max_retries' is 11 but must be between 0 and 10")]
    [InlineData("retry: { max_retries: three }", "must be a whole number")]
    [InlineData("retry: { initial_delay: 2h }", "initial_delay must be between 0 and 1h")]
    [InlineData("on_failure: ignore", "must be one of halt, continue")]
    [InlineData("approval_required: yes", "must be true or false, not 'yes'")]
    [InlineData("retry: 3", "'retry' must be a mapping")]
    public void Step_field_types_and_ranges(string line, string message) =>
        AssertError(Swap("    name: Block\n", $"    name: Block\n    {line}\n"), line.Split(':')[0] + ":", message);

    [Fact]
    public void Wrong_shapes_are_named()
    {
        AssertError(Swap("    name: Block\n", "    name: [a]\n"), "name: [a]", "'name' must be text, not a list");
        AssertError(Swap("      ip: \"{{source.ip}}\"\n      tag: \"AUTO_{{execution_id}}_{{steps.lookup.output.malicious}}\"\n", "").Replace("    params:\nrollback", "    params: [a]\nrollback", StringComparison.Ordinal), "params: [a]", "'params' must be a mapping of names to values");
    }

    [Fact]
    public void Good_durations_and_retry_load()
    {
        var result = Load(Swap("    name: Block\n", "    name: Block\n    timeout: 1m30s\n    retry: { max_retries: 5, initial_delay: 500ms }\n    on_failure: continue\n"));
        Assert.True(result.Ok, string.Join("\n", result.Errors));
        var step = result.Value!.Steps[1];
        Assert.Equal(TimeSpan.FromSeconds(90), step.Timeout);
        Assert.Equal(5, step.Retry!.MaxRetries);
        Assert.Equal(TimeSpan.FromMilliseconds(500), step.Retry.InitialDelay);
        Assert.Equal(OnFailure.Continue, step.OnFailure);
    }

    [Fact]
    public void Steps_must_be_a_list() => AssertError(Samples.Valid[..Samples.Valid.IndexOf("steps:", StringComparison.Ordinal)] + "steps: lookup\n", "steps:", "'steps' must be a list, not a scalar");

    [Fact]
    public void Empty_required_value() => AssertError(Swap("name: Sample", "name:"), "name:", "'name' must not be empty");

    [Fact]
    public void Empty_list_item() => AssertError(Swap("[T1021.001]", "\n    -\n    - T1021.001"), "    -", "has an empty item");

    [Fact]
    public void Document_must_be_a_mapping() => Assert.Contains("the document must be a mapping", Assert.Single(Load("- a\n- b\n").Errors).Message, StringComparison.Ordinal);

    [Theory]
    [InlineData("", "file is empty")]
    [InlineData("# only a comment\n", "file is empty")]
    [InlineData("id: a\n---\nid: b\n", "only one YAML document per file")]
    [InlineData("a: &x 1\nb: *x\n", "aliases (*x) are not supported")]
    [InlineData("? [a, b]\n: c\n", "mapping keys must be plain text")]
    public void Document_level_problems(string yaml, string message) =>
        Assert.Contains(message, Assert.Single(Load(yaml).Errors).Message, StringComparison.Ordinal);

    [Fact]
    public void Deep_nesting_is_refused_without_recursion()
    {
        var yaml = "id: " + new string('[', 100_000) + new string(']', 100_000);
        var e = Assert.Single(Load(yaml).Errors);
        Assert.Contains("nesting is deeper than 64 levels", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Huge_file_is_refused() =>
        Assert.Contains("file is larger than", Assert.Single(Load("id: " + new string('a', YamlTree.MaxBytes + 1)).Errors).Message, StringComparison.Ordinal);

    [Fact]
    public void Errors_are_sorted_and_every_problem_is_reported_at_once()
    {
        var yaml = Swap("adapter: virustotal", "adapter: nope").Replace("- id: block", "- id: lookup", StringComparison.Ordinal).Replace("name: Sample", "name: Sample\nbogus: 1", StringComparison.Ordinal);
        var errors = Load(yaml).Errors;
        Assert.True(errors.Count == 5, string.Join("\n", errors));
        Assert.Equal(errors.OrderBy(e => e.Line).ThenBy(e => e.Column), errors);
    }

    [Fact]
    public void Enrichment_prompts_are_checked()
    {
        var ok = Load(Samples.Valid + "\nenrichment:\n  prompts:\n    - type: technique_context\n      template: \"Explain {{technique_id}} after {{steps.block.status}}\"\n");
        Assert.True(ok.Ok, string.Join("\n", ok.Errors));
        AssertError(Samples.Valid + "\nenrichment:\n  prompts:\n    - type: summary\n      template: x\n", "type: summary", "must be one of technique_context, investigation_steps, incident_summary");
        AssertError(Samples.Valid + "\nenrichment:\n  prompts:\n    - type: incident_summary\n      template: \"{{steps.zzz.output}}\"\n", "template:", "unknown step 'zzz'");
    }

    [Fact]
    public void Detectforge_metadata_is_read()
    {
        var result = Load(Samples.Valid + "\nx-detectforge:\n  sigma_rules: [abc]\n  techniques: [T1021.001]\n  min_confidence: high\n");
        Assert.True(result.Ok, string.Join("\n", result.Errors));
        Assert.Equal(Confidence.High, result.Value!.DetectForge!.MinConfidence);
        AssertError(Samples.Valid + "\nx-detectforge:\n  techniques: [lateral]\n", "techniques: [lateral]", "must be an ATT&CK technique id");
    }

    [Fact]
    public void Unreadable_file_is_a_located_error()
    {
        var result = PlaybookLoader.LoadFile("/nonexistent/dir/pb.yaml");
        Assert.Contains("cannot read file", Assert.Single(result.Errors).Message, StringComparison.Ordinal);
    }
}
