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

    public static AlertNormalizers Default { get; } = new([new ElasticSignalNormalizer(), new SplunkNotableNormalizer()]);

    /// <summary>The format of a document no normaliser recognises and that carries no ECS field set: accepted, recorded as such, never silently unmatched.</summary>
    public const string Unrecognised = "unrecognised";

    public Alert Normalize(JsonObject document)
    {
        foreach (var n in _normalizers)
            if (n.Recognises(document)) return Alert.From(n.Normalize(document), n.Format);
        return Alert.From(document, document.Any(kv => EcsFieldSets.Contains(kv.Key)) ? "ecs" : Unrecognised);
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
        evt["kind"] = "alert";
        if (AlertFields.Text(document, "kibana.alert.uuid") is { } uuid && evt["id"] is null) evt["id"] = uuid;
        if (AlertFields.Values(document, "kibana.alert.risk_score").FirstOrDefault() is { } risk) evt["risk_score"] = risk.DeepClone();
        if (AlertFields.Text(document, "kibana.alert.severity") is { } severity && evt["severity"] is null) evt["severity"] = severity;
        if (AlertFields.Text(document, "kibana.alert.original_time") is { } original)
        {
            ecs["event.detected"] = ecs["@timestamp"]?.DeepClone();
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
/// Splunk notable events and webhook alert-action payloads (<c>{"result": {...}, "search_name": ...}</c>),
/// with CIM field names (src, dest, user, dest_host, urgency, annotations.mitre_attack) mapped to ECS.
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

        var ecs = new JsonObject { ["splunk"] = document.DeepClone() };
        var evt = new JsonObject { ["kind"] = "alert" };
        if ((F("event_id", "notable_id") ?? AlertFields.Text(document, "sid")) is { } id) evt["id"] = id;
        if (F("urgency", "severity") is { } severity) evt["severity"] = severity == "informational" ? "low" : severity;
        if (F("category") is { } cat) evt["category"] = new JsonArray(cat);
        ecs["event"] = evt;
        if (F("_time") is { } time) ecs["@timestamp"] = time;
        if (F("src_ip", "src") is { } src) ecs["source"] = new JsonObject { ["ip"] = src };
        if (F("dest_ip", "dest") is { } dest) ecs["destination"] = new JsonObject { ["ip"] = dest };
        if (F("user", "src_user") is { } user) ecs["user"] = new JsonObject { ["name"] = user };
        if (F("dest_host", "host", "dest_nt_host") is { } host) ecs["host"] = new JsonObject { ["name"] = host };
        if (F("process", "process_name") is { } proc) ecs["process"] = new JsonObject { ["name"] = proc };
        var rule = new JsonObject();
        if ((F("rule_name", "search_name") ?? AlertFields.Text(document, "search_name")) is { } name) rule["name"] = name;
        if (F("rule_id", "savedsearch_id") is { } ruleId) rule["id"] = ruleId;
        if (rule.Count > 0) ecs["rule"] = rule;
        var techniques = AlertFields.Texts(result, "annotations.mitre_attack").Concat(AlertFields.Texts(result, "annotations.mitre_attack.mitre_technique_id")).ToList();
        if (techniques.Count > 0)
        {
            var parents = techniques.Select(t => t.Split('.')[0]).Distinct().Select(t => (JsonNode)t).ToArray();
            var subs = techniques.Where(t => t.Contains('.', StringComparison.Ordinal)).Select(t => (JsonNode)t).ToArray();
            ecs["threat"] = new JsonObject
            {
                ["framework"] = "MITRE ATT&CK",
                ["technique"] = new JsonObject { ["id"] = new JsonArray(parents), ["subtechnique"] = new JsonObject { ["id"] = new JsonArray(subs) } },
            };
        }
        return ecs;
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
