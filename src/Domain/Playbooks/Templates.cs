using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace RunbookPilot.Domain.Playbooks;

/// <summary>A <c>{{ expression }}</c> reference inside a text value.</summary>
public readonly record struct TemplateRef(string Expression, int Offset)
{
    public string[] Segments => Expression.Split('.');

    /// <summary>The step id for <c>steps.&lt;id&gt;...</c>, else null.</summary>
    public string? StepId => Segments is ["steps", var id, ..] ? id : null;
}

/// <summary>Finds and checks <c>{{...}}</c> templates. Rendering (with per-target escaping) lives beside the adapters.</summary>
public static partial class Templates
{
    /// <summary>Scans text for templates; reports malformed ones through <paramref name="problem"/>.</summary>
    public static List<TemplateRef> Scan(string text, Action<string>? problem = null)
    {
        var refs = new List<TemplateRef>();
        var i = 0;
        while (true)
        {
            var open = text.IndexOf("{{", i, StringComparison.Ordinal);
            if (open < 0) break;
            var close = text.IndexOf("}}", open + 2, StringComparison.Ordinal);
            if (close < 0)
            {
                problem?.Invoke($"template opened with '{{{{' at offset {open} is never closed with '}}}}'");
                break;
            }
            var expr = text[(open + 2)..close].Trim();
            if (!ExpressionRegex().IsMatch(expr))
                problem?.Invoke($"template '{{{{{Yaml.YamlBinder.Shorten(expr)}}}}}' is not a field path such as source.ip or steps.step_1.output.id");
            else
                refs.Add(new TemplateRef(expr, open));
            i = close + 2;
        }
        return refs;
    }

    /// <summary>Every string inside a JSON value, with its path suffix.</summary>
    public static IEnumerable<(string Path, string Text)> Strings(JsonNode? node, string path)
    {
        var stack = new Stack<(JsonNode? Node, string Path)>();
        stack.Push((node, path));
        while (stack.Count > 0)
        {
            var (n, p) = stack.Pop();
            switch (n)
            {
                case JsonValue v when v.TryGetValue<string>(out var s):
                    yield return (p, s);
                    break;
                case JsonArray a:
                    for (var k = a.Count - 1; k >= 0; k--) stack.Push((a[k], $"{p}[{k}]"));
                    break;
                case JsonObject o:
                    foreach (var kv in o.Reverse()) stack.Push((kv.Value, p + "." + kv.Key));
                    break;
            }
        }
    }

    [GeneratedRegex(@"^[A-Za-z_@][A-Za-z0-9_@-]*(\.[A-Za-z0-9_@-]+)*$")]
    private static partial Regex ExpressionRegex();
}
