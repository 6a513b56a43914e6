using System.Text;
using System.Text.Json.Nodes;
using RunbookPilot.Domain.Alerts;

namespace RunbookPilot.Domain.Playbooks;

/// <summary>
/// Fills <c>{{...}}</c> templates in step parameters with raw values: alert fields, <c>execution_id</c>, <c>playbook.*</c>
/// and earlier steps' outputs. Values are inserted as data into the parameter tree; adapters escape them for their
/// target (SPL, XML, URL, JSON) when they build the request. Templates without a value are reported, not guessed.
/// </summary>
public sealed class TemplateRenderer(string executionId, Playbook playbook, JsonObject alert, Func<string, (string? Status, JsonNode? Output)> step)
{
    /// <summary>Renders every parameter; <paramref name="escape"/> (parameter, value) escapes inserted values for the adapter's target.</summary>
    public JsonObject Render(IReadOnlyDictionary<string, JsonNode?> parameters, List<string> missing, Func<string, string, string>? escape = null)
    {
        var result = new JsonObject();
        foreach (var (key, value) in parameters)
            result[key] = RenderNode(value, missing, escape is null ? null : v => escape(key, v));
        return result;
    }

    private JsonNode? RenderNode(JsonNode? node, List<string> missing, Func<string, string>? escape) => node switch
    {
        JsonValue v when v.TryGetValue<string>(out var s) => JsonValue.Create(RenderText(s, missing, escape)),
        JsonArray a => new JsonArray(a.Select(x => RenderNode(x, missing, escape)).ToArray()),
        JsonObject o => new JsonObject(o.Select(kv => KeyValuePair.Create(kv.Key, RenderNode(kv.Value, missing, escape)))),
        _ => node?.DeepClone(),
    };

    public string RenderText(string text, List<string> missing, Func<string, string>? escape = null)
    {
        var refs = Templates.Scan(text);
        if (refs.Count == 0) return text;
        var sb = new StringBuilder(text.Length + 32);
        var at = 0;
        foreach (var r in refs)
        {
            var close = text.IndexOf("}}", r.Offset, StringComparison.Ordinal) + 2;
            sb.Append(text, at, r.Offset - at);
            var value = Resolve(r);
            if (value is null) missing.Add(r.Expression);
            else sb.Append(escape is null ? value : escape(value));
            at = close;
        }
        sb.Append(text, at, text.Length - at);
        return sb.ToString();
    }

    private string? Resolve(TemplateRef r)
    {
        var segments = r.Segments;
        switch (segments[0])
        {
            case "execution_id" when segments.Length == 1:
                return executionId;
            case "playbook" when segments.Length == 2:
                return segments[1] switch { "id" => playbook.Id, "name" => playbook.Name, "version" => playbook.Version, _ => null };
            case "steps" when segments.Length >= 3:
                var (status, output) = step(segments[1]);
                if (segments[2] == "status") return status;
                var path = string.Join('.', segments.Skip(3));
                return path.Length == 0 ? output?.ToJsonString() : AlertFields.Values(output, path).Select(v => AlertFields.AsText(v) ?? v.ToJsonString()).FirstOrDefault();
            default:
                var path2 = r.Expression.StartsWith("alert.", StringComparison.Ordinal) ? r.Expression[6..] : r.Expression;
                var values = AlertFields.Values(alert, path2);
                return values.Count == 0 ? null : AlertFields.AsText(values[0]) ?? values[0].ToJsonString();
        }
    }
}
