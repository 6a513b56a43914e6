using System.Collections.Concurrent;
using System.Text.Json.Nodes;

namespace RunbookPilot.VendorSim;

/// <summary>A request as the simulator received it (for "the described request equals the received one").</summary>
public sealed record ReceivedRequest(string Vendor, string Method, string PathAndQuery, IReadOnlyDictionary<string, string> Headers, string Body);

/// <summary>A fault to inject into the next <see cref="Count"/> requests of a vendor.</summary>
public sealed record Fault(string Vendor, string Kind, int Count = 1, int Status = 503, int RetryAfterSeconds = 1, int LatencyMs = 0);

/// <summary>The simulated vendors' state: what is blocked, contained, and every request received. Thread-safe.</summary>
public sealed class SimState
{
    private readonly ConcurrentQueue<ReceivedRequest> _requests = new();
    private readonly ConcurrentDictionary<string, ConcurrentQueue<Fault>> _faults = new(StringComparer.Ordinal);

    /// <summary>PAN-OS: registered IP → tags.</summary>
    public ConcurrentDictionary<string, ConcurrentDictionary<string, byte>> RegisteredIps { get; } = new(StringComparer.Ordinal);

    /// <summary>PAN-OS configuration (address objects and static group members): candidate, and running after a commit.</summary>
    public PanConfig Candidate { get; } = new();
    public PanConfig Running { get; set; } = new();

    /// <summary>CrowdStrike: hostname → device (id, status, running processes).</summary>
    public ConcurrentDictionary<string, Device> Devices { get; } = new(StringComparer.Ordinal);

    /// <summary>PagerDuty: every alert the Events API opened, in order (an alert resolved stays, as in PagerDuty's history).</summary>
    public PagerDutyAlerts PagerDuty { get; } = new();

    /// <summary>OpenAI-compatible endpoint: scripted replies, used in order before the default answer.</summary>
    public ConcurrentQueue<string> LlmReplies { get; } = new();

    public IReadOnlyList<ReceivedRequest> Requests(string? vendor = null) => _requests.Where(r => vendor is null || r.Vendor == vendor).ToList();

    public void Record(ReceivedRequest request) => _requests.Enqueue(request);

    public void AddFault(Fault fault) => _faults.GetOrAdd(fault.Vendor, _ => new ConcurrentQueue<Fault>()).Enqueue(fault);

    public void ClearFaults() => _faults.Clear();

    /// <summary>The fault for this request of <paramref name="vendor"/>, if one is armed (each counts down).</summary>
    public Fault? TakeFault(string vendor)
    {
        if (!_faults.TryGetValue(vendor, out var queue) || !queue.TryPeek(out var fault)) return null;
        if (fault.Count <= 1) queue.TryDequeue(out _);
        else
        {
            queue.TryDequeue(out _);
            var rest = new ConcurrentQueue<Fault>([fault with { Count = fault.Count - 1 }, .. queue]);
            _faults[vendor] = rest;
        }
        return fault;
    }

    public Device AddDevice(string hostname) =>
        Devices.GetOrAdd(hostname, h => new Device(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(h)))[..32], h));

    /// <summary>Loads what <see cref="Snapshot"/> wrote (registered IPs, device containment), so a demo keeps its vendors' state between runs.</summary>
    public void Restore(JsonObject snapshot)
    {
        if (snapshot["paloalto"]?["registered_ips"] is JsonObject ips)
            foreach (var (ip, tags) in ips)
                foreach (var tag in (tags as JsonArray ?? []).Select(t => t!.ToString()))
                    RegisteredIps.GetOrAdd(ip, _ => new()).TryAdd(tag, 0);
        if (snapshot["crowdstrike"]?["devices"] is JsonArray devices)
            foreach (var d in devices.OfType<JsonObject>())
                AddDevice(d["hostname"]!.ToString()).Status = d["status"]?.ToString() ?? "normal";
        if (snapshot["crowdstrike"]?["processes"] is JsonObject running)
            foreach (var (hostname, processes) in running)
            {
                if (processes is not JsonObject list || !Devices.TryGetValue(hostname, out var device)) continue;
                device.Processes.Clear();
                foreach (var (pid, name) in list)
                    if (int.TryParse(pid, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var id)) device.Processes[id] = name?.ToString() ?? "";
            }
    }

    public JsonObject Snapshot() => new()
    {
        ["paloalto"] = new JsonObject
        {
            ["registered_ips"] = new JsonObject(RegisteredIps.OrderBy(kv => kv.Key).Select(kv =>
                KeyValuePair.Create(kv.Key, (JsonNode?)new JsonArray(kv.Value.Keys.Order().Select(t => (JsonNode)t).ToArray())))),
        },
        ["paloalto_running_config"] = new JsonObject
        {
            ["addresses"] = new JsonObject(Running.Addresses.Select(a => KeyValuePair.Create(a.Key, (JsonNode?)a.Value))),
            ["groups"] = new JsonObject(Running.Groups.Select(g => KeyValuePair.Create(g.Key, (JsonNode?)new JsonArray(g.Value.Select(m => (JsonNode)m).ToArray())))),
            ["security_rules"] = new JsonObject(Running.Rules.Select(r => KeyValuePair.Create(r.Name, (JsonNode?)r.ToJson()))),
        },
        ["crowdstrike"] = new JsonObject
        {
            ["devices"] = new JsonArray(Devices.Values.OrderBy(d => d.Hostname).Select(d => (JsonNode)new JsonObject
            {
                ["device_id"] = d.Id, ["hostname"] = d.Hostname, ["status"] = d.Status,
            }).ToArray()),
            // hostname → pid → process name (beside the devices, so a device entry stays one flat object)
            ["processes"] = new JsonObject(Devices.Values.OrderBy(d => d.Hostname, StringComparer.Ordinal).Select(d => KeyValuePair.Create(d.Hostname,
                (JsonNode?)new JsonObject(d.Processes.OrderBy(p => p.Key).Select(p => KeyValuePair.Create(p.Key.ToString(System.Globalization.CultureInfo.InvariantCulture), (JsonNode?)p.Value)))))),
        },
        ["pagerduty"] = PagerDuty.Snapshot(),
        ["requests"] = _requests.Count,
    };
}

public sealed class PanConfig
{
    public SortedDictionary<string, string> Addresses { get; } = new(StringComparer.Ordinal);
    public SortedDictionary<string, SortedSet<string>> Groups { get; } = new(StringComparer.Ordinal);

    /// <summary>Security policy rules in rulebase order (a new rule is appended, as PAN-OS does).</summary>
    public List<SecurityRule> Rules { get; } = [];

    public SecurityRule? Rule(string name) => Rules.Find(r => r.Name == name);

    public PanConfig Copy()
    {
        var copy = new PanConfig();
        foreach (var (k, v) in Addresses) copy.Addresses[k] = v;
        foreach (var (k, v) in Groups) copy.Groups[k] = new SortedSet<string>(v, StringComparer.Ordinal);
        copy.Rules.AddRange(Rules.Select(r => r.Copy()));
        return copy;
    }

    public string Fingerprint() => string.Join(";", Addresses.Select(a => a.Key + "=" + a.Value)) + "|" + string.Join(";", Groups.Select(g => g.Key + ":" + string.Join(",", g.Value)))
        + "|" + string.Join(";", Rules.Select(r => r.ToJson().ToJsonString()));
}

/// <summary>A PAN-OS security rule: zones, addresses, applications and services as member lists, an action and a description.</summary>
public sealed class SecurityRule(string name)
{
    public static readonly IReadOnlyList<string> MemberLists = ["from", "to", "source", "destination", "application", "service"];

    public string Name { get; } = name;
    public SortedDictionary<string, SortedSet<string>> Members { get; } = new(StringComparer.Ordinal);
    public string Action { get; set; } = "";
    public string Description { get; set; } = "";

    public SecurityRule Copy()
    {
        var copy = new SecurityRule(Name) { Action = Action, Description = Description };
        foreach (var (k, v) in Members) copy.Members[k] = new SortedSet<string>(v, StringComparer.Ordinal);
        return copy;
    }

    public JsonObject ToJson()
    {
        var json = new JsonObject();
        foreach (var list in MemberLists)
            json[list] = new JsonArray((Members.GetValueOrDefault(list) ?? []).Select(m => (JsonNode)m).ToArray());
        json["action"] = Action;
        json["description"] = Description;
        return json;
    }
}

public sealed class Device(string id, string hostname)
{
    public string Id { get; } = id;
    public string Hostname { get; } = hostname;
    public string Status { get; set; } = "normal";

    /// <summary>Running processes (pid → image name) that RTR <c>kill</c> can end; every simulated host starts with the same ones.</summary>
    public ConcurrentDictionary<int, string> Processes { get; } = new(new Dictionary<int, string>
    {
        [4] = "System", [688] = "lsass.exe", [1312] = "explorer.exe", [4242] = "powershell.exe", [6666] = "rundll32.exe",
    });
}

/// <summary>One PagerDuty alert as the Events API v2 keeps it: its dedup key, status and the trigger's payload.</summary>
public sealed class PagerDutyAlert(string dedupKey, JsonObject payload)
{
    public string DedupKey { get; } = dedupKey;
    public JsonObject Payload { get; } = payload;

    /// <summary>triggered, acknowledged or resolved.</summary>
    public string Status { get; set; } = "triggered";

    /// <summary>How many events (triggers, acknowledgements, resolves) reached this alert.</summary>
    public int Events { get; set; } = 1;

    public bool Open => Status != "resolved";
}

/// <summary>The simulated PagerDuty service's alerts. Thread-safe (one lock).</summary>
public sealed class PagerDutyAlerts
{
    private readonly List<PagerDutyAlert> _alerts = [];

    public IReadOnlyList<PagerDutyAlert> All
    {
        get
        {
            lock (_alerts) return _alerts.ToList();
        }
    }

    /// <summary>
    /// Applies one event as the Events API does: a trigger opens an alert, or adds to the open one with the same dedup
    /// key; acknowledge and resolve change the open alert with that key, and are dropped when there is none.
    /// </summary>
    public void Apply(string action, string dedupKey, JsonObject? payload)
    {
        lock (_alerts)
        {
            var open = _alerts.LastOrDefault(a => a.DedupKey == dedupKey && a.Open);
            if (open is null)
            {
                if (action == "trigger") _alerts.Add(new PagerDutyAlert(dedupKey, payload ?? new JsonObject()));
                return; // an acknowledge or resolve of no open alert is dropped
            }
            open.Events++;
            if (action == "acknowledge") open.Status = "acknowledged";
            else if (action == "resolve") open.Status = "resolved";
        }
    }

    public JsonObject Snapshot()
    {
        var alerts = All;
        return new JsonObject
        {
            ["alerts"] = new JsonArray(alerts.Select(a => (JsonNode)new JsonObject
            {
                ["dedup_key"] = a.DedupKey, ["status"] = a.Status, ["events"] = a.Events, ["payload"] = a.Payload.DeepClone(),
            }).ToArray()),
            // the dedup keys of the alerts still open (triggered or acknowledged): what a resolve must bring back
            ["open"] = new JsonArray(alerts.Where(a => a.Open).Select(a => a.DedupKey).Order(StringComparer.Ordinal).Select(k => (JsonNode)k).ToArray()),
        };
    }
}
