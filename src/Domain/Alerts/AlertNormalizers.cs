using System.Text.Json;
using System.Text.Json.Nodes;

namespace RunbookPilot.Domain.Alerts;

/// <summary>
/// Turns one SIEM's alert format into canonical ECS (PRD I2). Implement it and add it to
/// <see cref="AlertNormalizers"/> to accept another format; the first normaliser that recognises a document wins.
/// </summary>
public interface IAlertNormalizer
{
    /// <summary>Short name recorded with the alert (ecs, elastic, splunk_notable, …).</summary>
    string Format { get; }

    bool Recognises(JsonObject document);

    JsonObject Normalize(JsonObject document);
}

/// <summary>The normalisers in the order they are tried; plain ECS is the fallback.</summary>
public sealed class AlertNormalizers(IEnumerable<IAlertNormalizer> normalizers)
{
    private readonly IReadOnlyList<IAlertNormalizer> _normalizers = normalizers.ToList();

    public static AlertNormalizers Default { get; } =
        new([new ElasticSignalNormalizer(), new SplunkNotableNormalizer(), new SentinelNormalizer(), new ChronicleNormalizer(), new SumoLogicNormalizer()]);

    /// <summary>The format of a document no normaliser recognises and that carries no ECS field set: accepted, recorded as such, never silently unmatched.</summary>
    public const string Unrecognised = "unrecognised";

    public Alert Normalize(JsonObject document)
    {
        foreach (var n in _normalizers)
            if (n.Recognises(document)) return Alert.From(n.Normalize(document), n.Format);
        // Flattened ECS ("source.ip": …) counts by its field set.
        return Alert.From(document, document.Any(kv => EcsFieldSets.Contains(kv.Key.Split('.')[0])) ? "ecs" : Unrecognised);
    }

    /// <summary>Top-level names of ECS (field sets and base fields): a document with none of them is not ECS.</summary>
    private static readonly HashSet<string> EcsFieldSets = new(StringComparer.Ordinal)
    {
        "@timestamp", "message", "tags", "labels", "agent", "client", "cloud", "container", "data_stream", "destination", "device", "dll", "dns", "ecs",
        "email", "error", "event", "faas", "file", "group", "host", "http", "log", "network", "observer", "orchestrator", "organization", "package",
        "process", "registry", "related", "rule", "server", "service", "source", "threat", "tls", "url", "user", "user_agent", "vulnerability",
    };
}

/// <summary>Elastic Security alert documents (<c>event.kind: signal</c>), mapped from the fields Elastic Security writes on a signal.</summary>
public sealed class ElasticSignalNormalizer : IAlertNormalizer
{
    public string Format => "elastic";

    public bool Recognises(JsonObject document) =>
        AlertFields.Text(document, "event.kind") == "signal" || AlertFields.Text(document, "kibana.alert.rule.uuid") is not null;

    public JsonObject Normalize(JsonObject document)
    {
        var ecs = (JsonObject)document.DeepClone();
        var evt = ecs["event"] as JsonObject ?? [];
        ecs["event"] = evt;
        // Alerts-as-data documents carry the source event's fields as flat "event.x" keys: fold them into the one event
        // object, so "event.kind" and "event.id" below are the alert's and no stale flat copy is read before them.
        foreach (var flat in ecs.Where(kv => kv.Key.StartsWith("event.", StringComparison.Ordinal)).Select(kv => kv.Key).ToList())
        {
            var value = ecs[flat];
            ecs.Remove(flat);
            if (evt[flat["event.".Length..]] is null) evt[flat["event.".Length..]] = value;
        }
        evt["kind"] = "alert";
        // The alert's own id (one per alert), not the id of the source event it was raised on.
        if (AlertFields.Text(document, "kibana.alert.uuid") is { } uuid) evt["id"] = uuid;
        if (AlertFields.Values(document, "kibana.alert.risk_score").FirstOrDefault() is { } risk) evt["risk_score"] = risk.DeepClone();
        if (AlertFields.Text(document, "kibana.alert.severity") is { } severity && evt["severity"] is null) evt["severity"] = severity;
        if (AlertFields.Text(document, "kibana.alert.original_time") is { } original)
        {
            evt["detected"] = ecs["@timestamp"]?.DeepClone();
            ecs["@timestamp"] = original;
        }

        var rule = new JsonObject();
        Copy(document, "kibana.alert.rule.uuid", rule, "uuid");
        Copy(document, "kibana.alert.rule.rule_id", rule, "id");
        Copy(document, "kibana.alert.rule.name", rule, "name");
        Copy(document, "kibana.alert.rule.description", rule, "description");
        Copy(document, "kibana.alert.rule.version", rule, "version");
        if (rule.Count > 0) ecs["rule"] = rule;

        var threats = AlertFields.Values(document, "kibana.alert.rule.threat").OfType<JsonObject>().ToList();
        if (threats.Count > 0 && ecs["threat"] is null)
        {
            var techniqueIds = new JsonArray();
            var subIds = new JsonArray();
            var tacticNames = new JsonArray();
            var tacticIds = new JsonArray();
            foreach (var t in threats)
            {
                foreach (var id in AlertFields.Texts(t, "technique.id")) techniqueIds.Add(id);
                foreach (var id in AlertFields.Texts(t, "technique.subtechnique.id")) subIds.Add(id);
                foreach (var n in AlertFields.Texts(t, "tactic.name")) tacticNames.Add(n);
                foreach (var n in AlertFields.Texts(t, "tactic.id")) tacticIds.Add(n);
            }
            ecs["threat"] = new JsonObject
            {
                ["framework"] = "MITRE ATT&CK",
                ["tactic"] = new JsonObject { ["id"] = tacticIds, ["name"] = tacticNames },
                ["technique"] = new JsonObject { ["id"] = techniqueIds, ["subtechnique"] = new JsonObject { ["id"] = subIds } },
            };
        }
        return ecs;
    }

    private static void Copy(JsonObject from, string path, JsonObject to, string key)
    {
        if (AlertFields.Values(from, path).FirstOrDefault() is { } v) to[key] = v.DeepClone();
    }
}

/// <summary>
/// Splunk notable events and webhook alert-action payloads (<c>{"result": {...}, "search_name": ...}</c>), with CIM
/// field names mapped to ECS: src/src_ip, dest_ip (dest when it is an address, else the host), user, dest_nt_host,
/// urgency, process_name, process (the command line), process_hash (its SHA256=), query (DNS), and the ES
/// <c>annotations.mitre_attack</c> techniques and tactics.
/// </summary>
public sealed class SplunkNotableNormalizer : IAlertNormalizer
{
    public string Format => "splunk_notable";

    public bool Recognises(JsonObject document) =>
        (document["result"] is JsonObject && (document["search_name"] is not null || document["sid"] is not null))
        || (document["rule_name"] is not null && (document["urgency"] is not null || document["event_id"] is not null) && document["event"] is null);

    public JsonObject Normalize(JsonObject document)
    {
        var result = document["result"] as JsonObject ?? document;
        string? F(params string[] names) => names.Select(n => AlertFields.Text(result, n)).FirstOrDefault(v => !string.IsNullOrEmpty(v));
        static bool IsIp(string? v) => v is not null && System.Net.IPAddress.TryParse(v, out _);

        var ecs = new JsonObject { ["splunk"] = document.DeepClone() };
        var evt = new JsonObject { ["kind"] = "alert" };
        if ((F("event_id", "notable_id") ?? AlertFields.Text(document, "sid")) is { } id) evt["id"] = id;
        if (F("urgency", "severity") is { } severity) evt["severity"] = severity == "informational" ? "low" : severity;
        if (F("category") is { } cat) evt["category"] = new JsonArray(cat);
        ecs["event"] = evt;
        if (F("_time") is { } time) ecs["@timestamp"] = time;
        var source = new JsonObject();
        // src_ip is an address (a bad one is refused by validation); CIM src may be an address or a host name.
        var src = F("src");
        if ((F("src_ip") ?? (IsIp(src) ? src : null)) is { } srcIp) source["ip"] = srcIp;
        if ((F("src_nt_host", "src_dns") ?? (IsIp(src) ? null : src)) is { } srcHost) source["host"] = new JsonObject { ["name"] = srcHost };
        if (source.Count > 0) ecs["source"] = source;
        var dest = F("dest");
        if ((F("dest_ip") ?? (IsIp(dest) ? dest : null)) is { } destIp) ecs["destination"] = new JsonObject { ["ip"] = destIp };
        if (F("user", "src_user") is { } user) ecs["user"] = new JsonObject { ["name"] = user };
        var host = new JsonObject();
        if ((F("dest_nt_host", "dest_host", "host") ?? (IsIp(dest) ? null : dest)) is { } hostName) host["name"] = hostName;
        if (F("dest_os", "os") is { } os) host["os"] = new JsonObject { ["type"] = Os(os) };
        if (host.Count > 0) ecs["host"] = host;
        var process = new JsonObject();
        if (F("process_name") is { } procName) process["name"] = procName;
        if (F("process") is { } commandLine) process["command_line"] = commandLine; // CIM process is the full command line
        if (F("process_hash", "file_hash") is { } hashes && Sha256(hashes) is { } sha256) process["hash"] = new JsonObject { ["sha256"] = sha256 };
        if (process.Count > 0) ecs["process"] = process;
        if (F("query", "query_domain") is { } query) ecs["dns"] = new JsonObject { ["question"] = new JsonObject { ["name"] = query.TrimEnd('.') } };
        var rule = new JsonObject();
        if ((F("rule_name", "search_name") ?? AlertFields.Text(document, "search_name")) is { } name) rule["name"] = name;
        if (F("rule_id", "savedsearch_id") is { } ruleId) rule["id"] = ruleId;
        if (rule.Count > 0) ecs["rule"] = rule;
        var techniques = AlertFields.Texts(result, "annotations.mitre_attack").Concat(AlertFields.Texts(result, "annotations.mitre_attack.mitre_technique_id"))
            .Where(t => t.StartsWith('T')).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
        if (techniques.Count > 0)
        {
            var parents = techniques.Select(t => t.Split('.')[0]).Distinct(StringComparer.OrdinalIgnoreCase).Select(t => (JsonNode)t).ToArray();
            var subs = techniques.Where(t => t.Contains('.', StringComparison.Ordinal)).Select(t => (JsonNode)t).ToArray();
            var threat = new JsonObject
            {
                ["framework"] = "MITRE ATT&CK",
                ["technique"] = new JsonObject { ["id"] = new JsonArray(parents), ["subtechnique"] = new JsonObject { ["id"] = new JsonArray(subs) } },
            };
            var tacticNames = AlertFields.Texts(result, "annotations.mitre_attack.mitre_tactic").Distinct(StringComparer.OrdinalIgnoreCase).Select(t => (JsonNode)t).ToArray();
            var tacticIds = AlertFields.Texts(result, "annotations.mitre_attack.mitre_tactic_id").Distinct(StringComparer.OrdinalIgnoreCase).Select(t => (JsonNode)t).ToArray();
            if (tacticNames.Length + tacticIds.Length > 0) threat["tactic"] = new JsonObject { ["id"] = new JsonArray(tacticIds), ["name"] = new JsonArray(tacticNames) };
            ecs["threat"] = threat;
        }
        return ecs;
    }

    /// <summary>ECS host.os.type from a CIM OS name ("Microsoft Windows 10 Enterprise" → windows).</summary>
    private static string Os(string os) =>
        os.Contains("windows", StringComparison.OrdinalIgnoreCase) ? "windows"
        : os.Contains("mac", StringComparison.OrdinalIgnoreCase) || os.Contains("darwin", StringComparison.OrdinalIgnoreCase) ? "macos"
        : os.Contains("linux", StringComparison.OrdinalIgnoreCase) ? "linux"
        : os.ToLowerInvariant();

    /// <summary>The SHA-256 of a CIM hash field: a bare 64-hex value, or the SHA256= part of "SHA1=…,MD5=…,SHA256=…".</summary>
    private static string? Sha256(string hashes)
    {
        foreach (var part in hashes.Split(',', StringSplitOptions.TrimEntries))
        {
            var value = part.StartsWith("SHA256=", StringComparison.OrdinalIgnoreCase) ? part[7..] : part;
            if (value.Length == 64 && value.All(char.IsAsciiHexDigit)) return value.ToLowerInvariant();
        }
        return null;
    }
}

/// <summary>Parses alert text (one JSON object, or an array of them) with JSON-path-located errors.</summary>
public static class AlertJson
{
    /// <summary>Strict reading: no comments, at most 64 levels, and a key written twice is an error (never "the last one wins").</summary>
    public static readonly JsonDocumentOptions Options = new() { MaxDepth = 64, CommentHandling = JsonCommentHandling.Disallow, AllowDuplicateProperties = false };

    /// <summary>"line 1, column 11: '}' is an invalid start of a value." — the reader's location, without its "LineNumber: 0 | ..." suffix.</summary>
    public static string Describe(JsonException ex)
    {
        var message = ex.Message;
        var cut = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        if (cut > 0) message = message[..cut];
        var where = ex.LineNumber is { } line ? $"line {line + 1}, column {(ex.BytePositionInLine ?? 0) + 1}" : "$";
        return $"{where}: {message}";
    }

    /// <summary>Parses one JSON object; returns null and a message such as "line 1, position 17: ..." when it is not one.</summary>
    public static JsonObject? ParseObject(string text, out string? error)
    {
        error = null;
        try
        {
            var node = JsonNode.Parse(text, documentOptions: Options);
            if (node is JsonObject obj) return obj;
            error = $"$: expected a JSON object, not {(node is null ? "null" : node.GetValueKind().ToString().ToLowerInvariant())}";
            return null;
        }
        catch (JsonException ex)
        {
            error = Describe(ex);
            return null;
        }
        catch (InvalidOperationException)
        {
            error = "$: a key is not valid UTF-16 text: a lone surrogate escape such as \\ud800";
            return null;
        }
    }
}
