using System.Text.Json.Nodes;
using RunbookPilot.Domain.Adapters;
using RunbookPilot.Engine.Adapters;
using RunbookPilot.Domain.Policy;

namespace RunbookPilot.Engine.Tests.Safety;

/// <summary>
/// The allow-list as an attacker would try to get around it: other spellings of a protected address, networks that
/// cover it, hosts and users written another way, plugins whose descriptors declare targets or only name them.
/// </summary>
public sealed class TargetGuardTests
{
    private static GlobalPolicy Policy(string yaml)
    {
        var result = GlobalPolicy.Parse(yaml, "global_policy.yaml");
        Assert.True(result.Ok, string.Join("\n", result.Errors));
        return result.Value!;
    }

    private static readonly GlobalPolicy Protecting = Policy("""
        allow_list:
          ips: [10.1.1.1, "2001:db8::1"]
          cidrs: [10.20.0.0/16]
          hosts: [dc01, fw.corp.example]
          users: [administrator, CORP\svc-backup]
          domains: [corp.example]
        """);

    private static ActionDescriptor Action(string adapter, string action) => AdapterCatalog.BuiltIn.Find(adapter)!.Find(action)!;

    private static GuardResult Block(string ip, GlobalPolicy? policy = null) =>
        TargetGuard.Check(Action("paloalto", "block_ip"), new JsonObject { ["ip"] = ip }, policy ?? Protecting);

    [Theory]
    [InlineData("10.1.1.1")]
    [InlineData("::ffff:10.1.1.1")]
    [InlineData("::FFFF:10.1.1.1")]
    [InlineData("0:0:0:0:0:ffff:0a01:0101")]
    [InlineData("10.20.3.4")]
    [InlineData("::ffff:10.20.3.4")]
    [InlineData("2001:DB8:0:0::1")]
    [InlineData("10.20.0.0/24")]
    [InlineData("10.1.1.0/24")]
    [InlineData("::ffff:10.1.1.0/120")]
    [InlineData("0.0.0.0/0")]
    [InlineData("::/0")]
    [InlineData("203.0.112.0/23")]
    [InlineData("2001:db9::/48")]
    public void Protected_addresses_and_networks_are_refused_in_every_spelling(string ip) => Assert.NotNull(Block(ip).Refusal);

    [Theory]
    [InlineData("10.0.0.0/24")]
    [InlineData("203.0.113.7")]
    [InlineData(" 203.0.113.7")] // surrounding blanks are trimmed; the canonical text is what is sent
    [InlineData("2001:db8:1::/64")]
    public void Targets_that_touch_nothing_protected_pass(string ip) => Assert.Null(Block(ip).Refusal);

    [Theory]
    [InlineData("010.1.1.1")]
    [InlineData("10.01.1.1")]
    [InlineData("0x0a.1.1.1")]
    [InlineData("0x0a010101")]
    [InlineData("167837953")]
    [InlineData("10.1.257")]
    [InlineData("10.1")]
    [InlineData("10.1.1.1.")]
    [InlineData("10.1.1.1/032")]
    [InlineData("10.1.1.1/24")]
    [InlineData("fe80::1%eth0")]
    [InlineData("::ffff:010.1.1.1")]
    [InlineData("10.1.1.1\r\nX-Injected: 1")]
    [InlineData("1O.1.1.1")]
    public void Ambiguous_or_malformed_spellings_are_refused_as_invalid_targets(string ip)
    {
        var result = Block(ip, GlobalPolicy.Default);
        Assert.NotNull(result.Refusal);
        Assert.Contains("refused before any call", result.Refusal, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("::ffff:203.0.113.7", "203.0.113.7")]
    [InlineData("2001:0DB8:0000:0000:0000:0000:0000:0042", "2001:db8::42")]
    [InlineData("::ffff:203.0.113.0/120", "203.0.113.0/24")]
    public void The_vendor_receives_the_canonical_text(string written, string canonical)
    {
        var result = Block(written);
        Assert.Null(result.Refusal);
        Assert.Equal(canonical, result.Parameters["ip"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("DC01", true)]
    [InlineData("dc01.corp.example", true)]
    [InlineData("DC01.corp.example.", true)]
    [InlineData("fw", true)]
    [InlineData("FW.CORP.EXAMPLE", true)]
    [InlineData("10.1.1.1", true)] // a host given as an address is checked as the address
    [InlineData("fw.other.example", false)]
    [InlineData("ws-17", false)]
    [InlineData("dc01.corp", true)] // a search domain completes it to dc01.corp.example
    [InlineData("167837953", true)] // invalid: a resolver reads these as 10.1.1.1
    [InlineData("10.1", true)]
    [InlineData("0x0a010101", true)]
    [InlineData("012.1.1.1", true)]
    [InlineData("dc01\nws-17", true)] // invalid: control character
    public void Hosts_compare_case_insensitively_fqdn_or_short(string host, bool refused)
    {
        var result = TargetGuard.Check(Action("crowdstrike", "isolate_host"), new JsonObject { ["hostname"] = host }, Protecting);
        Assert.Equal(refused, result.Refusal is not null);
    }

    [Theory]
    [InlineData("Administrator", true)]
    [InlineData("CORP\\ADMINISTRATOR", true)]
    [InlineData("administrator@corp.example", true)]
    [InlineData("svc-backup@corp.example", true)]
    [InlineData("OTHER\\svc-backup", true)]
    [InlineData("alice", false)]
    public void Users_compare_after_normalising_domain_forms(string user, bool refused)
    {
        var plugin = new ActionDescriptor("disable_user", ActionKind.Reversible, "Disable an account", ["user"], [], "enable_user");
        Assert.Equal(refused, TargetGuard.Check(plugin, new JsonObject { ["user"] = user }, Protecting).Refusal is not null);
    }

    [Fact]
    public void A_plugin_is_checked_on_the_targets_it_declares_and_on_parameters_named_as_targets()
    {
        var declared = new ActionDescriptor("quarantine", ActionKind.Irreversible, "Quarantine", ["subject"], [], Targets: new Dictionary<string, TargetKind> { ["subject"] = TargetKind.Host });
        Assert.NotNull(TargetGuard.Check(declared, new JsonObject { ["subject"] = "DC01" }, Protecting).Refusal);
        var named = new ActionDescriptor("sinkhole", ActionKind.Irreversible, "Sinkhole a domain", ["domain"], []);
        Assert.NotNull(TargetGuard.Check(named, new JsonObject { ["domain"] = "MAIL.corp.example" }, Protecting).Refusal);
        Assert.Null(TargetGuard.Check(named, new JsonObject { ["domain"] = "evil.example" }, Protecting).Refusal);
        var list = new ActionDescriptor("block_many", ActionKind.Reversible, "Block several", ["ips"], [], Targets: new Dictionary<string, TargetKind> { ["ips"] = TargetKind.Cidr });
        Assert.NotNull(TargetGuard.Check(list, new JsonObject { ["ips"] = new JsonArray("203.0.113.9", "::ffff:10.1.1.1") }, Protecting).Refusal);
    }

    [Fact]
    public void Read_only_actions_pass_and_releasing_actions_are_canonicalised_but_not_refused()
    {
        var lookup = TargetGuard.Check(Action("virustotal", "lookup_ip"), new JsonObject { ["ip"] = "10.1.1.1" }, Protecting);
        Assert.Null(lookup.Refusal);
        var undo = TargetGuard.Check(Action("paloalto", "unblock_ip"), new JsonObject { ["ip"] = "::ffff:10.1.1.1" }, Protecting);
        Assert.Null(undo.Refusal);
        Assert.Equal("10.1.1.1", undo.Parameters["ip"]!.GetValue<string>());
    }

    [Fact]
    public void The_network_limit_is_configurable_and_the_allow_list_itself_is_read_strictly()
    {
        var wide = Policy("targets: { ipv4_min_prefix: 16 }");
        Assert.Null(Block("203.0.0.0/16", wide).Refusal);
        Assert.NotNull(Block("203.0.0.0/15", wide).Refusal);
        var bad = GlobalPolicy.Parse("allow_list:\n  ips: [010.1.1.1]\n  cidrs: [10.0.0.1/8]\n", "global_policy.yaml");
        Assert.Null(bad.Value);
        Assert.Equal(2, bad.Errors.Count);
    }
}
