using System.Text.Json;
using System.Text.Json.Nodes;
using RunbookPilot.Domain.Yaml;

namespace RunbookPilot.Domain.Playbooks.Schema;

/// <summary>
/// Writes a JSON Schema (draft-07, what the YAML language server reads best) from the same <see cref="ModelShape"/>
/// the loader binds with, so editor completion and the loader's checks agree by construction.
/// </summary>
public static class JsonSchemaGenerator
{
    public const string DurationPattern = "^([0-9]+(ms|s|m|h|d))+$";

    /// <summary>The schemas RunbookPilot publishes: name → root model type.</summary>
    public static IReadOnlyDictionary<string, Type> Published { get; } = new Dictionary<string, Type>
    {
        ["playbook"] = typeof(Playbook),
        ["global_policy"] = typeof(Policy.GlobalPolicy),
        ["adapters"] = typeof(RunbookPilot.Domain.Library.AdaptersConfig),
    };

    public static string Generate(string name)
    {
        var root = Published[name];
        var definitions = new SortedDictionary<string, JsonNode>(StringComparer.Ordinal);
        var rootSchema = ModelSchema(root, definitions);
        var schema = new JsonObject
        {
            ["$schema"] = "http://json-schema.org/draft-07/schema#",
            ["$id"] = $"https://runbookpilot.dev/schema/{name}.schema.json",
            ["title"] = ModelShape.Of(root).Description ?? name,
        };
        foreach (var (key, value) in rootSchema) schema[key] = value?.DeepClone();
        var defs = new JsonObject();
        foreach (var (key, value) in definitions.Where(d => d.Key != root.Name)) defs[key] = value;
        if (defs.Count > 0) schema["definitions"] = defs;
        return schema.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n";
    }

    private static JsonObject ModelSchema(Type type, SortedDictionary<string, JsonNode> definitions)
    {
        var shape = ModelShape.Of(type);
        var properties = new JsonObject();
        var required = new JsonArray();
        foreach (var m in shape.Members)
        {
            var prop = TypeSchema(m.Type, m, definitions);
            if (m.Description is not null) prop["description"] = m.Description;
            var defaultValue = DefaultOf(type, m);
            if (defaultValue is not null) prop["default"] = defaultValue;
            properties[m.Name] = prop;
            if (m.Required) required.Add(m.Name);
        }
        var schema = new JsonObject { ["type"] = "object" };
        if (shape.Description is not null) schema["description"] = shape.Description;
        schema["properties"] = properties;
        if (required.Count > 0) schema["required"] = required;
        if (shape.AllowExtensions) schema["patternProperties"] = new JsonObject { ["^x-"] = new JsonObject() };
        schema["additionalProperties"] = false;
        return schema;
    }

    private static JsonObject TypeSchema(Type type, MemberShape? member, SortedDictionary<string, JsonNode> definitions)
    {
        var t = Nullable.GetUnderlyingType(type) ?? type;
        if (t == typeof(string))
        {
            var s = new JsonObject { ["type"] = "string" };
            if (member?.Pattern is { } p) s["pattern"] = p.Pattern;
            return s;
        }
        if (t == typeof(bool)) return new JsonObject { ["type"] = "boolean" };
        if (t == typeof(double)) return new JsonObject { ["type"] = "number" };
        if (t == typeof(int))
        {
            var s = new JsonObject { ["type"] = "integer" };
            if (member?.Range is { } r)
            {
                s["minimum"] = r.Min;
                s["maximum"] = r.Max;
            }
            return s;
        }
        if (t == typeof(TimeSpan))
            return new JsonObject
            {
                ["oneOf"] = new JsonArray(
                    new JsonObject { ["type"] = "string", ["pattern"] = DurationPattern },
                    new JsonObject { ["type"] = "integer", ["minimum"] = 0 }),
            };
        if (t.IsEnum)
            return new JsonObject { ["type"] = "string", ["enum"] = new JsonArray(ModelShape.EnumValues(t).Select(v => (JsonNode)v.Name).ToArray()) };
        if (t == typeof(JsonNode)) return [];
        if (t.IsGenericType && t.GetGenericTypeDefinition() == typeof(IReadOnlyList<>))
            return new JsonObject { ["type"] = "array", ["items"] = TypeSchema(t.GetGenericArguments()[0], member, definitions) };
        if (t.IsGenericType && t.GetGenericTypeDefinition() == typeof(IReadOnlyDictionary<,>))
            return new JsonObject { ["type"] = "object", ["additionalProperties"] = TypeSchema(t.GetGenericArguments()[1], member, definitions) };
        if (!definitions.ContainsKey(t.Name))
        {
            definitions[t.Name] = new JsonObject(); // reserve against cycles
            definitions[t.Name] = ModelSchema(t, definitions);
        }
        return new JsonObject { ["$ref"] = "#/definitions/" + t.Name };
    }

    private static JsonNode? DefaultOf(Type owner, MemberShape member)
    {
        if (member.Required) return null;
        var value = member.Property.GetValue(Activator.CreateInstance(owner));
        return value switch
        {
            bool b => b,
            int i => i,
            TimeSpan ts => YamlBinder.FormatDuration(ts),
            Enum e => ModelShape.EnumName(e),
            _ => null,
        };
    }
}
