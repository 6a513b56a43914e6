
namespace RunbookPilot.Domain.Adapters;

/// <summary>What an action does to the world: read-only actions may run at L0; reversible ones can be rolled back.</summary>
public enum ActionKind { ReadOnly, Reversible, Irreversible }

/// <summary>What a parameter of a state-changing action designates: the engine parses it strictly into one canonical
/// spelling and checks it against the policy's allow-list before any call.</summary>
public enum TargetKind { Ip, Cidr, Host, DeviceId, User, Domain, Email, Hash }

/// <summary>
/// One action of an adapter, with the parameters it takes, when reversible the action that undoes it, and which
/// parameters are targets of which kind. Every action that is not <see cref="ActionKind.ReadOnly"/> changes state: the
/// engine checks its targets (declared, plus any parameter with a well-known target name such as <c>ip</c> or
/// <c>hostname</c>) and never calls it in dry-run, built-in adapter and plugin alike.
/// <para><see cref="SimulateFirst"/>: a step of this action must be L2 (the validator refuses a playbook below it);
/// <c>kill_process</c> cannot be undone, so it is simulated and only an analyst's "Execute Now" runs it.</para>
/// <para><see cref="EffectParam"/>: the parameter that names the lasting effect this action makes when that is not a
/// target (a rule's name, an alert's dedup key); two calls with the same value hold the same effect in the effect
/// ledger. When the call leaves it empty, the effect is the call's own and nothing shares it.</para>
/// </summary>
public sealed record ActionDescriptor(
    string Name,
    ActionKind Kind,
    string Description,
    IReadOnlyList<string> RequiredParams,
    IReadOnlyList<string> OptionalParams,
    string? Inverse = null,
    IReadOnlyDictionary<string, TargetKind>? Targets = null,
    bool Releases = false,
    IReadOnlyList<string>? NotTargets = null,
    bool SimulateFirst = false,
    string? EffectParam = null)
{
    /// <summary>
    /// Parameters of a state-changing action that are declared neither as targets nor as not targets. An adapter with
    /// any is refused (fail closed): a plugin cannot leave the allow-list blind by naming its target <c>agent_id</c>.
    /// </summary>
    public IReadOnlyList<string> Undeclared =>
        ChangesState ? AllParams.Where(p => !(Targets?.ContainsKey(p) ?? false) && !(NotTargets?.Contains(p) ?? false)).ToList() : [];

    public IEnumerable<string> AllParams => RequiredParams.Concat(OptionalParams);

    public bool ChangesState => Kind != ActionKind.ReadOnly;

    /// <summary>Minutes an analyst would spend doing this by hand (time saved when a step of it succeeds); a step's <c>manual_minutes</c> overrides it.</summary>
    public int ManualMinutes { get; init; } = Kind == ActionKind.ReadOnly ? 5 : 10;

    /// <summary>The action lifts a restriction (unblock, lift containment): it cannot harm a protected target, so the
    /// allow-list does not refuse it (a rollback must always be able to undo). Every other state-changing action is checked.</summary>
    public bool Protects => ChangesState && !Releases;

    /// <summary>The declared targets, plus the parameters whose name says what they are (a plugin cannot escape the check by declaring nothing).</summary>
    public IReadOnlyDictionary<string, TargetKind> TargetParams
    {
        get
        {
            var all = new Dictionary<string, TargetKind>(StringComparer.Ordinal);
            foreach (var p in AllParams)
                if (WellKnownTargets.TryGetValue(p, out var kind)) all[p] = kind;
            foreach (var (p, kind) in Targets ?? new Dictionary<string, TargetKind>()) all[p] = kind;
            return all;
        }
    }

    private static readonly Dictionary<string, TargetKind> WellKnownTargets = new(StringComparer.OrdinalIgnoreCase)
    {
        ["ip"] = TargetKind.Cidr, ["ip_address"] = TargetKind.Cidr, ["address"] = TargetKind.Cidr, ["source_ip"] = TargetKind.Cidr,
        ["destination_ip"] = TargetKind.Cidr, ["cidr"] = TargetKind.Cidr, ["network"] = TargetKind.Cidr, ["subnet"] = TargetKind.Cidr,
        ["host"] = TargetKind.Host, ["hostname"] = TargetKind.Host, ["host_name"] = TargetKind.Host,
        ["device_id"] = TargetKind.DeviceId, ["aid"] = TargetKind.DeviceId,
        ["user"] = TargetKind.User, ["username"] = TargetKind.User, ["user_name"] = TargetKind.User, ["account"] = TargetKind.User,
        ["domain"] = TargetKind.Domain, ["email"] = TargetKind.Email,
        ["hash"] = TargetKind.Hash, ["md5"] = TargetKind.Hash, ["sha1"] = TargetKind.Hash, ["sha256"] = TargetKind.Hash,
    };
}

public sealed record AdapterDescriptor(string Name, string Description, IReadOnlyList<ActionDescriptor> Actions)
{
    public ActionDescriptor? Find(string action) => Actions.FirstOrDefault(a => a.Name == action);
}

/// <summary>
/// The adapters RunbookPilot knows and their actions. The validator checks every step against it; adapter
/// implementations and plugins register their descriptor here so validation and execution agree.
/// </summary>
public sealed class AdapterCatalog
{
    private readonly Dictionary<string, AdapterDescriptor> _adapters;

    public AdapterCatalog(IEnumerable<AdapterDescriptor> adapters) =>
        _adapters = adapters.ToDictionary(a => a.Name, StringComparer.Ordinal);

    public IReadOnlyCollection<AdapterDescriptor> Adapters => _adapters.Values;

    public AdapterDescriptor? Find(string adapter) => _adapters.GetValueOrDefault(adapter);

    public AdapterCatalog With(AdapterDescriptor descriptor) =>
        new(_adapters.Values.Where(a => a.Name != descriptor.Name).Append(descriptor));

    private static ActionDescriptor Read(string name, string description, string[] required, params string[] optional) =>
        new(name, ActionKind.ReadOnly, description, required, optional);

    /// <summary>The built-in vendor adapters (PRD F5, I3-I6: PAN-OS block and rule add, CrowdStrike containment and RTR process kill, PagerDuty) and the generic HTTP adapter.</summary>
    public static AdapterCatalog BuiltIn { get; } = new(
    [
        new("virustotal", "VirusTotal v3 reputation of IPs, domains and file hashes",
        [
            Read("query", "Reputation of a resource", ["resource"], "resource_type"),
            Read("lookup_ip", "IP address report", ["ip"]),
            Read("lookup_domain", "Domain report", ["domain"]),
            Read("lookup_hash", "File report by MD5, SHA-1 or SHA-256", ["hash"]),
        ]),
        new("abuseipdb", "AbuseIPDB v2 IP reputation",
        [
            Read("check_ip", "Abuse confidence of an IP", ["ip"], "max_age_days"),
        ]),
        new("splunk", "Splunk search (log pulls)",
        [
            Read("query", "Run a search and return its results as JSON", ["query"], "earliest", "latest", "max_results"),
        ]),
        new("paloalto", "Palo Alto Networks PAN-OS firewall",
        [
            // No zone or policy_name: a block is a tag (or a group member) that a security rule matches; the rule owns the zones.
            new("block_ip", ActionKind.Reversible, "Block an IP (dynamic address group tag, or address object + group + commit)", ["ip"], ["tag", "timeout"], "unblock_ip",
                new Dictionary<string, TargetKind> { ["ip"] = TargetKind.Cidr }, NotTargets: ["tag", "timeout"]),
            new("unblock_ip", ActionKind.Reversible, "Remove an IP block", [], ["ip", "tag"], "block_ip",
                new Dictionary<string, TargetKind> { ["ip"] = TargetKind.Cidr }, Releases: true, NotTargets: ["tag"]),
            new("add_rule", ActionKind.Reversible,
                "Add a security policy rule (XML API set; PAN-OS appends it at the end of the rulebase) from source (IP or CIDR), rule_action deny by default, then commit and poll the job",
                ["rule_name", "source"], ["from_zone", "to_zone", "destination", "application", "service", "rule_action", "description"], "delete_rule",
                new Dictionary<string, TargetKind> { ["source"] = TargetKind.Cidr },
                NotTargets: ["rule_name", "from_zone", "to_zone", "destination", "application", "service", "rule_action", "description"], EffectParam: "rule_name"),
            new("delete_rule", ActionKind.Reversible, "Delete a security policy rule by name, then commit (a rule already gone is success)", ["rule_name"], [], "add_rule",
                Releases: true, NotTargets: ["rule_name"]),
        ]),
        new("crowdstrike", "CrowdStrike Falcon EDR",
        [
            Read("find_device", "Device id (AID) of a hostname", ["hostname"]),
            new("isolate_host", ActionKind.Reversible, "Network-contain a host", [], ["hostname", "device_id"], "un_isolate_host",
                new Dictionary<string, TargetKind> { ["hostname"] = TargetKind.Host, ["device_id"] = TargetKind.DeviceId }),
            new("un_isolate_host", ActionKind.Reversible, "Lift network containment", [], ["hostname", "device_id"], "isolate_host",
                new Dictionary<string, TargetKind> { ["hostname"] = TargetKind.Host, ["device_id"] = TargetKind.DeviceId }, Releases: true),
            new("kill_process", ActionKind.Irreversible,
                "Kill a process (pid) on a host, by hostname or device_id, through a Real Time Response admin session (RTR kill). Cannot be undone: steps must be L2 (simulated; an analyst's 'Execute Now' runs it)",
                ["pid"], ["hostname", "device_id"],
                Targets: new Dictionary<string, TargetKind> { ["hostname"] = TargetKind.Host, ["device_id"] = TargetKind.DeviceId }, NotTargets: ["pid"],
                SimulateFirst: true),
        ]),
        new("jira", "Jira Cloud tickets",
        [
            new("create_issue", ActionKind.Irreversible, "Create an issue", ["project", "summary"], ["issue_type", "description", "labels", "priority"],
                NotTargets: ["project", "summary", "issue_type", "description", "labels", "priority"]),
            new("add_comment", ActionKind.Irreversible, "Comment on an issue", ["issue", "body"], [], NotTargets: ["issue", "body"]),
            new("transition_issue", ActionKind.Irreversible, "Move an issue through its workflow", ["issue", "transition"], [], NotTargets: ["issue", "transition"]),
        ]),
        new("pagerduty", "PagerDuty Events API v2 (page the on-call responder of a service)",
        [
            new("trigger_incident", ActionKind.Reversible,
                "Trigger an alert on the routing key's service; dedup_key defaults to the step's idempotency key, so a retry does not page twice",
                ["summary", "severity"], ["source", "dedup_key", "component", "group", "class", "custom_details"], "resolve_incident",
                NotTargets: ["summary", "severity", "source", "dedup_key", "component", "group", "class", "custom_details"], EffectParam: "dedup_key"),
            new("acknowledge_incident", ActionKind.Irreversible, "Acknowledge the alert with this dedup key", ["dedup_key"], [], NotTargets: ["dedup_key"]),
            new("resolve_incident", ActionKind.Reversible, "Resolve the alert with this dedup key", ["dedup_key"], [], "trigger_incident",
                Releases: true, NotTargets: ["dedup_key"]),
        ]),
        new("misp", "MISP threat intelligence",
        [
            Read("search_attributes", "Search indicators", ["value"], "type", "limit"),
            new("add_sighting", ActionKind.Irreversible, "Record a sighting of an indicator", ["value"], ["source"], NotTargets: ["value", "source"]),
        ]),
        new("http", "Generic HTTP call to an allow-listed host",
        [
            Read("get", "HTTP GET", ["url"], "headers"),
            new("request", ActionKind.Irreversible, "Any HTTP request (only to options.allowed_hosts)", ["method", "url"], ["headers", "body"],
                NotTargets: ["method", "url", "headers", "body"]),
        ]),
    ]);
}
