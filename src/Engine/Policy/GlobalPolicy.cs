using System.ComponentModel;
using System.Net;
using RunbookPilot.Engine.Playbooks;
using RunbookPilot.Engine.Playbooks.Yaml;

namespace RunbookPilot.Engine.Policy;

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

    [Description("Targets a block or isolate step must never touch; such a step fails before any call.")]
    public AllowList AllowList { get; init; } = new();

    public static GlobalPolicy Default { get; } = new();

    public static LoadResult<GlobalPolicy> Parse(string text, string file, ISet<string>? knownPlaybooks = null) =>
        ModelLoader.Parse<GlobalPolicy>(text, file, (p, ctx) => Validate(p, ctx, knownPlaybooks));

    public static LoadResult<GlobalPolicy> LoadFile(string path, ISet<string>? knownPlaybooks = null) =>
        ModelLoader.LoadFile<GlobalPolicy>(path, (p, ctx) => Validate(p, ctx, knownPlaybooks));

    private static void Validate(GlobalPolicy policy, YamlBinder ctx, ISet<string>? knownPlaybooks)
    {
        if (policy.Approval.Timeout <= TimeSpan.Zero || policy.Approval.Timeout > TimeSpan.FromDays(7))
            ctx.Error("approval.timeout", "approval timeout must be more than 0 and at most 7d");
        for (var i = 0; i < policy.AllowList.Ips.Count; i++)
            if (!IPAddress.TryParse(policy.AllowList.Ips[i], out _))
                ctx.Error($"allow_list.ips[{i}]", $"'{policy.AllowList.Ips[i]}' is not an IP address");
        for (var i = 0; i < policy.AllowList.Cidrs.Count; i++)
            if (!IPNetwork.TryParse(policy.AllowList.Cidrs[i], out _))
                ctx.Error($"allow_list.cidrs[{i}]", $"'{policy.AllowList.Cidrs[i]}' is not a network such as 10.0.0.0/8");
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

    [Description("User names that must never be disabled (case-insensitive).")]
    public IReadOnlyList<string> Users { get; init; } = [];
}
