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

    /// <summary>CrowdStrike: hostname → device (id, status).</summary>
    public ConcurrentDictionary<string, Device> Devices { get; } = new(StringComparer.Ordinal);

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
        },
        ["crowdstrike"] = new JsonObject
        {
            ["devices"] = new JsonArray(Devices.Values.OrderBy(d => d.Hostname).Select(d => (JsonNode)new JsonObject
            {
                ["device_id"] = d.Id, ["hostname"] = d.Hostname, ["status"] = d.Status,
            }).ToArray()),
        },
        ["requests"] = _requests.Count,
    };
}

public sealed class PanConfig
{
    public SortedDictionary<string, string> Addresses { get; } = new(StringComparer.Ordinal);
    public SortedDictionary<string, SortedSet<string>> Groups { get; } = new(StringComparer.Ordinal);

    public PanConfig Copy()
    {
        var copy = new PanConfig();
        foreach (var (k, v) in Addresses) copy.Addresses[k] = v;
        foreach (var (k, v) in Groups) copy.Groups[k] = new SortedSet<string>(v, StringComparer.Ordinal);
        return copy;
    }

    public string Fingerprint() => string.Join(";", Addresses.Select(a => a.Key + "=" + a.Value)) + "|" + string.Join(";", Groups.Select(g => g.Key + ":" + string.Join(",", g.Value)));
}

public sealed class Device(string id, string hostname)
{
    public string Id { get; } = id;
    public string Hostname { get; } = hostname;
    public string Status { get; set; } = "normal";
}
