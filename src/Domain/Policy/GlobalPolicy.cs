using System.ComponentModel;
using RunbookPilot.Domain.Playbooks;
using RunbookPilot.Domain.Yaml;

namespace RunbookPilot.Domain.Policy;

/// <summary>
/// global_policy.yaml: the team-wide switches of the autonomy contract. Every default is the safe one:
/// L0 runs, L1 waits for a person, L2 is simulated, approvals expire after 4 hours.
/// </summary>
[Description("RunbookPilot global policy (global_policy.yaml).")]
public sealed record GlobalPolicy
{
    [Description("Training mode: L0 (read-only) steps also wait for approval.")]
    public bool RequireApproval { get; init; }

    [Description("Compliance mode: L2 simulations can never be executed, even when an analyst approves.")]
    public bool BlockL2Execution { get; init; }

    [Description("Playbooks whose L1 steps are approved automatically (trusted after a validation period).")]
    public AutoApprovePolicy AutoApprove { get; init; } = new();

    [Description("Approval deadlines and four-eyes rules.")]
    public ApprovalPolicy Approval { get; init; } = new();

    [Description("Targets a state-changing step must never touch; such a step is refused before any call.")]
    public AllowList AllowList { get; init; } = new();

    [Description("Limits on network targets: a block broader than these prefixes is refused.")]
    public TargetLimits Targets { get; init; } = new();

    public static GlobalPolicy Default { get; } = new();

    public static LoadResult<GlobalPolicy> Parse(string text, string file, ISet<string>? knownPlaybooks = null) =>
        ModelLoader.Parse<GlobalPolicy>(text, file, (p, ctx) => Validate(p, ctx, knownPlaybooks));

    public static LoadResult<GlobalPolicy> LoadFile(string path, ISet<string>? knownPlaybooks = null) =>
        ModelLoader.LoadFile<GlobalPolicy>(path, (p, ctx) => Validate(p, ctx, knownPlaybooks));

    private static void Validate(GlobalPolicy policy, YamlBinder ctx, ISet<string>? knownPlaybooks)
    {
        if (policy.Approval.Timeout <= TimeSpan.Zero || policy.Approval.Timeout > TimeSpan.FromDays(7))
            ctx.Error("approval.timeout", "approval timeout must be more than 0 and at most 7d");
        // The allow-list is read with the same strict parser as the targets it protects, so both sides mean the same address.
        for (var i = 0; i < policy.AllowList.Ips.Count; i++)
            if (Policy.Targets.ParseAddress(policy.AllowList.Ips[i]) is null)
                ctx.Error($"allow_list.ips[{i}]", $"'{policy.AllowList.Ips[i]}' is not an IP address in a standard spelling (IPv4 as four decimal octets without leading zeros, or IPv6)");
        for (var i = 0; i < policy.AllowList.Cidrs.Count; i++)
            if (!Policy.Targets.ParseNetwork(policy.AllowList.Cidrs[i], out _, out var error))
                ctx.Error($"allow_list.cidrs[{i}]", error);
        for (var i = 0; i < policy.AllowList.Hosts.Count; i++)
            if (!Policy.Targets.TryParse(Adapters.TargetKind.Host, policy.AllowList.Hosts[i], out _, out var error))
                ctx.Error($"allow_list.hosts[{i}]", error);
        for (var i = 0; i < policy.AllowList.Domains.Count; i++)
            if (!Policy.Targets.TryParse(Adapters.TargetKind.Domain, policy.AllowList.Domains[i], out _, out var error))
                ctx.Error($"allow_list.domains[{i}]", error);
        if (policy.Targets.Ipv4MinPrefix is < 1 or > 32)
            ctx.Error("targets.ipv4_min_prefix", "ipv4_min_prefix must be between 1 and 32");
        if (policy.Targets.Ipv6MinPrefix is < 1 or > 128)
            ctx.Error("targets.ipv6_min_prefix", "ipv6_min_prefix must be between 1 and 128");
        if (knownPlaybooks is null) return;
        for (var i = 0; i < policy.AutoApprove.Playbooks.Count; i++)
        {
            var id = policy.AutoApprove.Playbooks[i];
            if (!knownPlaybooks.Contains(id))
                ctx.Error($"auto_approve.playbooks[{i}]", $"auto_approve names unknown playbook '{id}'{DidYouMean.Hint(id, knownPlaybooks)}");
        }
    }
}

[Description("Auto-approval of trusted playbooks.")]
public sealed record AutoApprovePolicy
{
    [Description("Playbook ids whose L1 steps are approved automatically. L2 steps are never auto-approved.")]
    public IReadOnlyList<string> Playbooks { get; init; } = [];
}

[Description("Approval rules.")]
public sealed record ApprovalPolicy
{
    [Description("How long an approval waits before it expires (default 4h).")]
    public TimeSpan Timeout { get; init; } = TimeSpan.FromHours(4);

    [Description("Action types (e.g. isolate_host) that need two distinct approvers.")]
    public IReadOnlyList<string> FourEyesActionTypes { get; init; } = [];
}

[Description("Protected targets.")]
public sealed record AllowList
{
    [Description("IP addresses that must never be blocked.")]
    public IReadOnlyList<string> Ips { get; init; } = [];

    [Description("Networks (CIDR) that must never be blocked.")]
    public IReadOnlyList<string> Cidrs { get; init; } = [];

    [Description("Host names that must never be isolated (case-insensitive).")]
    public IReadOnlyList<string> Hosts { get; init; } = [];

    [Description("User names that must never be disabled (case-insensitive; DOMAIN\\user and user@domain name the same account).")]
    public IReadOnlyList<string> Users { get; init; } = [];

    [Description("Domains (and their subdomains) that must never be blocked or sinkholed (case-insensitive).")]
    public IReadOnlyList<string> Domains { get; init; } = [];
}

[Description("How broad a network target may be.")]
public sealed record TargetLimits
{
    [Description("The broadest IPv4 network a step may block (default 24: a /23 or wider is refused; 0.0.0.0/0 always is).")]
    public int Ipv4MinPrefix { get; init; } = 24;

    [Description("The broadest IPv6 network a step may block (default 64; ::/0 always is refused).")]
    public int Ipv6MinPrefix { get; init; } = 64;
}
