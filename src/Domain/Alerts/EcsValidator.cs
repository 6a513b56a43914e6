using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace RunbookPilot.Domain.Alerts;

/// <summary>A problem in submitted alert JSON, with the JSON path of the value.</summary>
public sealed record AlertProblem(string Path, string Message);

/// <summary>
/// Type checks on the ECS fields RunbookPilot reads (Elastic Common Schema types), so a malformed alert is refused with the path
/// of every bad value instead of being run with half its data. Unknown fields are left alone.
/// </summary>
public static partial class EcsValidator
{
    private static readonly string[] Strings = ["event.id", "@timestamp", "rule.id", "rule.uuid", "rule.name", "host.name", "host.id", "user.name", "dns.question.name", "process.name"];
    private static readonly string[] Ips = ["source.ip", "destination.ip"];

    /// <summary>The longest <c>event.id</c> accepted: ids are keys (de-duplication, execution ids), not documents.</summary>
    public const int MaxAlertIdLength = 256;

    /// <summary>
    /// Normalises a submitted document into ECS and checks both what was sent and what the engine will use: a Splunk
    /// notable's <c>src</c> or an Elastic alert's uuid become <c>source.ip</c> and the alert id only here, so they are
    /// checked after normalisation. Returns the alert, or the problems (with JSON paths) and no alert.
    /// </summary>
    public static (Alert? Alert, List<AlertProblem> Problems) Prepare(JsonObject document, string root)
    {
        if (Unreadable(document, root) is { } unreadable) return (null, [unreadable]);
        Alert alert;
        try
        {
            alert = AlertNormalizers.Default.Normalize((JsonObject)document.DeepClone());
        }
        catch (Exception ex) when (ex is InvalidOperationException or FormatException or JsonException or ArgumentException)
        {
            // JSON a vendor embeds as text (Sentinel Entities, ExtendedProperties) is read while normalising: a string in
            // it that is not valid text is refused here like one in the document itself.
            return (null, [new AlertProblem(root, "the alert could not be read: " + ex.Message)]);
        }
        // A vendor format is checked as the ECS it was read into (a Sumo Logic insight's top-level "source" is a word,
        // not ECS source); a document read as ECS is checked as sent.
        var problems = alert.Format is "ecs" or AlertNormalizers.Unrecognised
            ? Check(alert.Document, root)
            : Check(alert.Document, root).Select(p => p with { Message = $"{p.Message} (after reading the {alert.Format} alert as ECS)" }).ToList();
        if (alert.Id.Length > MaxAlertIdLength || alert.Id.Any(char.IsControl))
            problems.Add(new AlertProblem(root, $"the alert id ('{alert.Format}' format) is longer than {MaxAlertIdLength} characters or contains a control character"));
        return (problems.Count == 0 ? alert : null, problems);
    }

    public static List<AlertProblem> Check(JsonObject alert, string root)
    {
        var problems = new List<AlertProblem>();
        if (Unreadable(alert, root) is { } unreadable) return [unreadable];
        foreach (var (p, v) in Find(alert, "event.id", root))
            if (v is JsonValue idValue && idValue.GetValueKind() == JsonValueKind.String && idValue.GetValue<string>() is var id
                && (id.Length > MaxAlertIdLength || id.Any(char.IsControl)))
                problems.Add(new AlertProblem(p, id.Length > MaxAlertIdLength
                    ? $"'event.id' is {id.Length} characters; at most {MaxAlertIdLength} are accepted"
                    : "'event.id' contains a control character"));
        foreach (var section in new[] { "event", "source", "destination", "host", "user", "rule", "threat", "process" })
            if (alert[section] is { } node and not JsonObject && !(section == "threat" && node is JsonArray))
                problems.Add(new AlertProblem($"{root}.{section}", $"'{section}' must be an object, not {Kind(node)}"));
        foreach (var path in Strings)
            foreach (var (p, v) in Find(alert, path, root))
                if (v is not JsonValue value || value.GetValueKind() != JsonValueKind.String)
                    problems.Add(new AlertProblem(p, $"'{path}' must be a string, not {Kind(v)}"));
        foreach (var path in Ips)
            foreach (var (p, v) in Find(alert, path, root))
                if (v is not JsonValue value || value.GetValueKind() != JsonValueKind.String || !IPAddress.TryParse(value.GetValue<string>(), out _))
                    problems.Add(new AlertProblem(p, $"'{path}' must be an IP address string"));
        foreach (var path in new[] { "threat.technique.id", "threat.technique.subtechnique.id" })
            foreach (var (p, v) in Find(alert, path, root))
            {
                var items = v is JsonArray a ? a.Select((x, i) => ($"{p}[{i}]", x)) : [(p, v)];
                foreach (var (ip, item) in items)
                    if (item is not JsonValue iv || iv.GetValueKind() != JsonValueKind.String || !Technique().IsMatch(iv.GetValue<string>()))
                        problems.Add(new AlertProblem(ip, $"'{path}' must be an ATT&CK technique id such as T1021 or T1021.001"));
            }
        if (Find(alert, "event.severity", root).FirstOrDefault() is { Value: { } severity } s
            && !(severity is JsonValue sv && sv.GetValueKind() is JsonValueKind.Number or JsonValueKind.String))
            problems.Add(new AlertProblem(s.Path, "'event.severity' must be a number or low/medium/high/critical"));
        return problems;
    }

    /// <summary>
    /// The first string (value or key) that cannot be read as text, such as a lone surrogate escape (<c>"\ud800"</c>), with
    /// its path; null when every string reads.
    /// </summary>
    private static AlertProblem? Unreadable(JsonNode? node, string path)
    {
        try
        {
            switch (node)
            {
                case JsonObject obj:
                    foreach (var (key, value) in obj)
                        if (Unreadable(value, $"{path}['{key}']") is { } inner) return inner;
                    return null;
                case JsonArray array:
                    for (var i = 0; i < array.Count; i++)
                        if (Unreadable(array[i], $"{path}[{i}]") is { } inner) return inner;
                    return null;
                case JsonValue value when value.GetValueKind() == JsonValueKind.String:
                    _ = value.GetValue<string>();
                    return null;
                default:
                    return null;
            }
        }
        catch (Exception ex) when (ex is InvalidOperationException or ArgumentException or JsonException)
        {
            return new AlertProblem(path, "a string (value or key) is not valid UTF-16 text: a lone surrogate escape such as \\ud800");
        }
    }

    /// <summary>The values at a dotted path written nested (<c>source: {ip}</c>) or flattened (<c>"source.ip"</c>), with their JSON paths.</summary>
    private static IEnumerable<(string Path, JsonNode? Value)> Find(JsonObject alert, string path, string root)
    {
        if (alert.TryGetPropertyValue(path, out var flat)) yield return ($"{root}['{path}']", flat);
        JsonNode? node = alert;
        var jsonPath = root;
        foreach (var segment in path.Split('.'))
        {
            if (node is not JsonObject obj || !obj.TryGetPropertyValue(segment, out node)) yield break;
            jsonPath += "." + segment;
        }
        yield return (jsonPath, node);
    }

    private static string Kind(JsonNode? node) => node is null ? "null" : node.GetValueKind().ToString().ToLowerInvariant();

    [GeneratedRegex(@"^T\d{4}(\.\d{3})?$")]
    private static partial Regex Technique();
}
