using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace RunbookPilot.Domain.Alerts;

/// <summary>
/// Reads ECS fields by dotted path from an alert document. Accepts nested objects (<c>source: {ip: …}</c>),
/// flattened keys (<c>"source.ip": …</c>) and any mix of them, and steps through arrays of objects
/// (<c>threat: [{technique: [{id: …}]}]</c>), so every SIEM's way of writing ECS reads the same.
/// </summary>
public static class AlertFields
{
    /// <summary>Every value at <paramref name="path"/>; arrays at the leaf are flattened.</summary>
    public static List<JsonNode> Values(JsonNode? doc, string path)
    {
        var results = new List<JsonNode>();
        if (doc is not null && path.Length > 0) Collect(doc, path.Split('.'), 0, results, 0);
        return results;
    }

    /// <summary>The first value at <paramref name="path"/> as text (numbers and booleans as written), or null.</summary>
    public static string? Text(JsonNode? doc, string path) => Values(doc, path).Select(AsText).FirstOrDefault(t => t is not null);

    public static IEnumerable<string> Texts(JsonNode? doc, string path) => Values(doc, path).Select(AsText).OfType<string>();

    public static string? AsText(JsonNode? node) => node switch
    {
        JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>(),
        JsonValue v when v.GetValueKind() is JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False => v.ToJsonString(),
        _ => null,
    };

    public static double? AsNumber(JsonNode? node) => node switch
    {
        // From the written number: a value built in code (an int) cannot be read with GetValue<double>.
        JsonValue v when v.GetValueKind() == JsonValueKind.Number => double.Parse(v.ToJsonString(), NumberStyles.Float, CultureInfo.InvariantCulture),
        JsonValue v when v.GetValueKind() == JsonValueKind.String && double.TryParse(v.GetValue<string>(), NumberStyles.Float, CultureInfo.InvariantCulture, out var d) => d,
        _ => null,
    };

    private static void Collect(JsonNode node, string[] segments, int index, List<JsonNode> results, int depth)
    {
        if (depth > 32) return;
        if (index == segments.Length)
        {
            if (node is JsonArray leaf)
            {
                foreach (var item in leaf)
                    if (item is not null) results.Add(item);
            }
            else results.Add(node);
            return;
        }
        switch (node)
        {
            case JsonArray array:
                foreach (var item in array)
                    if (item is not null) Collect(item, segments, index, results, depth + 1);
                break;
            case JsonObject obj:
                // Try the longest flattened key first: "kibana.alert.rule.uuid" before "kibana" → "alert" → ...
                for (var take = segments.Length - index; take >= 1; take--)
                {
                    var key = take == 1 ? segments[index] : string.Join('.', segments, index, take);
                    if (obj.TryGetPropertyValue(key, out var child) && child is not null)
                        Collect(child, segments, index + take, results, depth + 1);
                }
                break;
        }
    }
}
