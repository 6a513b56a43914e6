namespace RunbookPilot.Engine.Adapters;

/// <summary>What an action does to the world: read-only actions may run at L0; reversible ones can be rolled back.</summary>
public enum ActionKind { ReadOnly, Reversible, Irreversible }

/// <summary>One action of an adapter, with the parameters it takes and, when reversible, the action that undoes it.</summary>
public sealed record ActionDescriptor(
    string Name,
    ActionKind Kind,
    string Description,
    IReadOnlyList<string> RequiredParams,
    IReadOnlyList<string> OptionalParams,
    string? Inverse = null)
{
    public IEnumerable<string> AllParams => RequiredParams.Concat(OptionalParams);
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

    /// <summary>The built-in vendor adapters (PRD F5, I3-I6) and the generic HTTP adapter.</summary>
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
            Read("query", "Run a search and return its results as JSON", ["query"], "earliest", "latest", "output_format", "max_results"),
        ]),
        new("paloalto", "Palo Alto Networks PAN-OS firewall",
        [
            new("block_ip", ActionKind.Reversible, "Block an IP (dynamic address group tag, or address object + group + commit)", ["ip"], ["zone", "policy_name", "tag", "timeout"], "unblock_ip"),
            new("unblock_ip", ActionKind.Reversible, "Remove an IP block", [], ["ip", "zone", "policy_name", "tag"], "block_ip"),
        ]),
        new("crowdstrike", "CrowdStrike Falcon EDR",
        [
            Read("find_device", "Device id (AID) of a hostname", ["hostname"]),
            new("isolate_host", ActionKind.Reversible, "Network-contain a host", [], ["hostname", "device_id"], "un_isolate_host"),
            new("un_isolate_host", ActionKind.Reversible, "Lift network containment", [], ["hostname", "device_id"], "isolate_host"),
        ]),
        new("jira", "Jira Cloud tickets",
        [
            new("create_issue", ActionKind.Irreversible, "Create an issue", ["project", "summary"], ["issue_type", "description", "labels", "priority"]),
            new("add_comment", ActionKind.Irreversible, "Comment on an issue", ["issue", "body"], []),
            new("transition_issue", ActionKind.Irreversible, "Move an issue through its workflow", ["issue", "transition"], []),
        ]),
        new("misp", "MISP threat intelligence",
        [
            Read("search_attributes", "Search indicators", ["value"], "type", "limit"),
            new("add_sighting", ActionKind.Irreversible, "Record a sighting of an indicator", ["value"], ["source"]),
        ]),
        new("http", "Generic HTTP call to an allow-listed host",
        [
            Read("get", "HTTP GET", ["url"], "headers"),
            new("request", ActionKind.Irreversible, "Any HTTP request", ["method", "url"], ["headers", "body"]),
        ]),
    ]);
}
