using RunbookPilot.Domain.Adapters;
using RunbookPilot.Engine.Adapters;
using RunbookPilot.Domain.Matching;
using RunbookPilot.Domain.Playbooks;
using RunbookPilot.Domain.Policy;
using RunbookPilot.Domain.Library;

namespace RunbookPilot.Engine.Tests.Playbooks;

public class LibraryTests
{
    [Fact]
    public void Reference_library_is_valid()
    {
        var library = PlaybookLibrary.Load(new LibraryPaths(Repo.Playbooks));
        Assert.True(library.Ok, string.Join("\n", library.Errors));
        Assert.Equal(["c2_beaconing_L2", "credential_dumping_L0", "lateral_movement_L1"], library.Playbooks.Select(p => p.Id).Order(StringComparer.Ordinal));
        Assert.Equal(3, library.Sigma.Rules.Count);
        Assert.Equal(TimeSpan.FromHours(4), library.Policy.Approval.Timeout);
        Assert.Contains("10.0.5.0/29", library.Policy.AllowList.Cidrs);
    }

    [Fact]
    public void Reference_playbooks_cover_the_three_autonomy_levels()
    {
        var library = PlaybookLibrary.Load(new LibraryPaths(Repo.Playbooks));
        var cred = library.Find("credential_dumping_L0")!;
        Assert.All(cred.Steps, s => Assert.Equal(AutonomyLevel.L0, s.AutonomyLevel));
        var lateral = library.Find("lateral_movement_L1")!;
        Assert.Contains(lateral.Steps, s => s is { AutonomyLevel: AutonomyLevel.L1, RollbackAvailable: true });
        Assert.Equal(["step_3", "step_4"], lateral.Rollback.Keys.Order(StringComparer.Ordinal));
        var c2 = library.Find("c2_beaconing_L2")!;
        Assert.Contains(c2.Steps, s => s is { AutonomyLevel: AutonomyLevel.L2, SimulationMode: true });
        Assert.EndsWith("lateral_movement_L1.yaml", library.FileOf("lateral_movement_L1"), StringComparison.Ordinal);
    }

    [Fact]
    public void Reference_sigma_rules_suggest_the_reference_playbooks()
    {
        var library = PlaybookLibrary.Load(new LibraryPaths(Repo.Playbooks));
        foreach (var pb in library.Playbooks)
            foreach (var ruleId in pb.DetectForge!.SigmaRules)
                Assert.Equal(pb.Id, library.Sigma.Find(ruleId)!.SuggestedRunbook);
    }

    [Fact]
    public void Reference_playbooks_carry_the_schema_line_and_a_comment_per_step()
    {
        foreach (var file in PlaybookLibrary.PlaybookFiles(new LibraryPaths(Repo.Playbooks)))
        {
            var lines = File.ReadAllLines(file);
            Assert.Equal("# yaml-language-server: $schema=./schema/playbook.schema.json", lines[0]);
            for (var i = 0; i < lines.Length; i++)
                if (lines[i].TrimStart().StartsWith("- id:", StringComparison.Ordinal) && lines[i].StartsWith("  - id:", StringComparison.Ordinal))
                    Assert.True(lines[i - 1].TrimStart().StartsWith('#'), $"{file}:{i + 1}: step without a comment above it");
        }
    }

    [Fact]
    public void Cross_file_problems_are_located()
    {
        using var dir = new TempDir();
        dir.Write("a.yaml", Samples.Valid);
        var dup = dir.Write("b.yaml", Samples.Valid);
        dir.Write("global_policy.yaml", "auto_approve:\n  playbooks: [sampel]\n");
        var rule = dir.Write("sigma/r.yml", "title: T\nid: r-1\nx-detectforge:\n  suggested_runbook: nothing_here\n");
        var linked = dir.Write("c.yaml", Samples.Valid.Replace("id: sample", "id: linked", StringComparison.Ordinal) + "\nx-detectforge:\n  sigma_rules: [r-1, r-2]\n");

        var library = PlaybookLibrary.Load(new LibraryPaths(dir.Path));
        var errors = library.Errors.ToList();
        Assert.Contains(errors, e => e.File == dup && e.Line == 1 && e.Message.Contains("playbook id 'sample' is already used by", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Message.Contains("auto_approve names unknown playbook 'sampel' (did you mean 'sample'?)", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.File == rule && e.Line == 4 && e.Message.Contains("suggested_runbook names unknown playbook 'nothing_here'", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.File == linked && e.Message.Contains("Sigma rule 'r-2' is not in the Sigma index", StringComparison.Ordinal));
        Assert.DoesNotContain(errors, e => e.Message.Contains("'r-1'", StringComparison.Ordinal));
        Assert.Equal(["sample"], library.Playbooks.Select(p => p.Id));
    }

    [Fact]
    public void Validate_classifies_files_by_name()
    {
        using var dir = new TempDir();
        var policy = dir.Write("x/global_policy.yaml", "require_approval: maybe\n");
        var adapters = dir.Write("x/adapters.yaml", "adapters:\n  virustotal:\n    base_url: http://vt.example.com\n");
        var sigma = dir.Write("x/sigma/bad.yml", "title: only\n");
        var pb = dir.Write("x/p.yaml", "id: x\n");
        var reports = PlaybookLibrary.Validate([policy, adapters, sigma, pb, Path.Combine(dir.Path, "missing.yaml")]);
        Assert.Equal([SourceKind.Policy, SourceKind.Adapters, SourceKind.Sigma, SourceKind.Playbook, SourceKind.Playbook], reports.Select(r => r.Kind));
        Assert.All(reports, r => Assert.False(r.Ok));
        Assert.Contains("no such file or folder", reports[^1].Errors[0].Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Missing_folder_is_an_empty_library()
    {
        var library = PlaybookLibrary.Load(new LibraryPaths("/nonexistent/rbp"));
        Assert.Empty(library.Playbooks);
        Assert.True(library.Ok);
        Assert.Same(GlobalPolicy.Default, library.Policy);
    }
}

public class PolicyAndAdapterConfigTests
{
    [Fact]
    public void Policy_defaults_are_the_safe_ones()
    {
        var p = GlobalPolicy.Parse("{}", "p.yaml").Value!;
        Assert.False(p.RequireApproval);
        Assert.False(p.BlockL2Execution);
        Assert.Empty(p.AutoApprove.Playbooks);
        Assert.Equal(TimeSpan.FromHours(4), p.Approval.Timeout);
    }

    [Fact]
    public void Policy_values_are_validated()
    {
        var result = GlobalPolicy.Parse("approval:\n  timeout: 0s\nallow_list:\n  ips: [1.2.3.4, nope]\n  cidrs: [10.0.0.0/33]\n", "p.yaml");
        Assert.Collection(result.Errors,
            e => Assert.Contains("approval timeout must be more than 0", e.Message, StringComparison.Ordinal),
            e => Assert.Contains("'nope' is not an IP address", e.Message, StringComparison.Ordinal),
            e => Assert.Contains("'10.0.0.0/33' is not a network", e.Message, StringComparison.Ordinal));
        Assert.Equal([2, 4, 5], result.Errors.Select(e => e.Line));
    }

    [Fact]
    public void Adapter_settings_load_with_env_var_names()
    {
        var result = AdaptersConfig.Parse("adapters:\n  crowdstrike:\n    base_url: https://api.crowdstrike.com\n    credentials:\n      client_id: FALCON_CLIENT_ID\n    timeout: 20s\n    tls:\n      ca_bundle: /etc/ca.pem\n", "a.yaml");
        Assert.True(result.Ok, string.Join("\n", result.Errors));
        var cs = result.Value!.Adapters["crowdstrike"];
        Assert.Equal("FALCON_CLIENT_ID", cs.Credentials["client_id"]);
        Assert.Equal(TimeSpan.FromSeconds(20), cs.Timeout);
    }

    [Theory]
    [InlineData("virustotl", "https://x.example", "", "unknown adapter 'virustotl' (did you mean 'virustotal'?)")]
    [InlineData("virustotal", "http://vt.example.com", "", "base_url must use https")]
    [InlineData("virustotal", "not a url", "", "is not an absolute http(s) URL")]
    [InlineData("virustotal", "https://x.example", "    credentials:\n      api_key: sk-live-123\n", "the NAME of an environment variable")]
    [InlineData("virustotal", "https://x.example", "    timeout: 11m\n", "timeout must be more than 0 and at most 10m")]
    [InlineData("virustotal", "https://x.example", "    tls:\n      verify: false\n", "unknown key 'verify'")]
    [InlineData("virustotal", "https://x.example", "    tls:\n      ca_bundle: ca.pem\n", "ca_bundle must be a file path")]
    public void Adapter_settings_are_validated(string name, string url, string extra, string message)
    {
        var result = AdaptersConfig.Parse($"adapters:\n  {name}:\n    base_url: {url}\n{extra}", "a.yaml");
        Assert.Contains(result.Errors, e => e.Message.Contains(message, StringComparison.Ordinal));
    }

    [Fact]
    public void Loopback_http_is_allowed_for_simulators() =>
        Assert.True(AdaptersConfig.Parse("adapters:\n  misp:\n    base_url: http://127.0.0.1:5055\n", "a.yaml").Ok);

    [Fact]
    public void Catalog_knows_every_inverse_action()
    {
        foreach (var adapter in AdapterCatalog.BuiltIn.Adapters)
            foreach (var action in adapter.Actions.Where(a => a.Kind == ActionKind.Reversible))
                Assert.NotNull(adapter.Find(action.Inverse!));
        var extended = AdapterCatalog.BuiltIn.With(new AdapterDescriptor("pfsense", "community", []));
        Assert.NotNull(extended.Find("pfsense"));
        Assert.Null(AdapterCatalog.BuiltIn.Find("pfsense"));
    }
}

public class SigmaIndexTests
{
    [Fact]
    public void Every_real_sigmahq_rule_loads()
    {
        var files = Directory.GetFiles(Repo.SharedSigma, "*.yml");
        Assert.Equal(24, files.Length);
        var index = SigmaIndex.LoadFolder(Repo.SharedSigma);
        Assert.Empty(index.Errors);
        Assert.Equal(24, index.Rules.Count);
        Assert.All(index.Rules, r => Assert.NotEmpty(r.Techniques));
    }

    [Fact]
    public void Techniques_and_tactics_are_read_from_tags_in_both_styles()
    {
        var index = SigmaIndex.LoadFolder(Repo.SharedSigma);
        var mimikatz = index.Find("a642964e-bead-4bed-8910-1bb4d63e3b4d")!;
        Assert.Equal(["T1003.001", "T1003.002", "T1003.004", "T1003.005", "T1003.006"], mimikatz.Techniques);
        Assert.Equal(["Credential Access"], mimikatz.Tactics);
        var oldStyle = index.Rules.Single(r => Path.GetFileName(r.File) == "win_security_impacket_psexec.yml");
        Assert.Equal(["T1021.002"], oldStyle.Techniques);
        Assert.Equal(["Lateral Movement"], oldStyle.Tactics);
        var noNewline = index.Rules.Single(r => Path.GetFileName(r.File) == "win_security_metasploit_or_impacket_smb_psexec_service_install.yml");
        Assert.Equal(["T1021.002", "T1570", "T1569.002"], noNewline.Techniques);
        Assert.Null(mimikatz.SuggestedRunbook);
    }

    [Fact]
    public void Detectforge_metadata_is_read()
    {
        var index = SigmaIndex.LoadFolder(Path.Combine(Repo.Playbooks, "sigma"));
        var rule = index.Find("abc123-lateral-rdp")!;
        Assert.Equal("lateral_movement_L1", rule.SuggestedRunbook);
        Assert.Equal("high", rule.Confidence);
        Assert.Equal(["T1021.001"], rule.DetectForgeTechniques);
        Assert.Equal(["T1021.001"], rule.Techniques);
    }

    [Theory]
    [InlineData("title: x\n", "needs 'title' and 'id' (missing: id)")]
    [InlineData("- a\n", "a Sigma rule must be a mapping")]
    [InlineData("title: x\nid: y\nx-detectforge:\n  techniques: [lateral]\n", "'lateral' is not an ATT&CK technique id")]
    [InlineData("title: [x\n", "invalid YAML")]
    public void Bad_rules_are_reported(string yaml, string message)
    {
        var errors = new List<RunbookPilot.Domain.Yaml.Diagnostic>();
        SigmaIndex.Parse(yaml, "r.yml", errors);
        Assert.Contains(errors, e => e.Message.Contains(message, StringComparison.Ordinal));
    }

    [Fact]
    public void Duplicate_rule_ids_keep_the_first()
    {
        using var dir = new TempDir();
        dir.Write("a.yml", "title: A\nid: same\n");
        dir.Write("b.yml", "title: B\nid: same\n");
        var index = SigmaIndex.LoadFolder(dir.Path);
        Assert.Equal("A", index.Find("SAME")!.Title);
        Assert.Contains("is also used by", Assert.Single(index.Errors).Message, StringComparison.Ordinal);
    }
}
