using System.Collections.Concurrent;
using System.ComponentModel;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json.Nodes;

namespace RunbookPilot.Domain.Yaml;

/// <summary>
/// The shape of a model type as the YAML binder and the JSON Schema generator see it: one reflection pass,
/// cached, so that the loader and the published schema can never disagree.
/// </summary>
public sealed class ModelShape
{
    private static readonly ConcurrentDictionary<Type, ModelShape> Cache = new();

    public Type Type { get; }
    public IReadOnlyList<MemberShape> Members { get; }
    public bool AllowExtensions { get; }
    public PropertyInfo? ExtensionData { get; }
    public string? Description { get; }
    private readonly Dictionary<string, MemberShape> _byName;

    private ModelShape(Type type)
    {
        Type = type;
        Description = type.GetCustomAttribute<DescriptionAttribute>()?.Description;
        AllowExtensions = type.GetCustomAttribute<AllowExtensionsAttribute>() is not null;
        var members = new List<MemberShape>();
        foreach (var p in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (p.SetMethod is null || p.Name == "EqualityContract") continue;
            if (p.GetCustomAttribute<ExtensionDataAttribute>() is not null)
            {
                ExtensionData = p;
                continue;
            }
            members.Add(new MemberShape(
                p.GetCustomAttribute<YamlNameAttribute>()?.Name ?? SnakeCase(p.Name),
                p,
                p.GetCustomAttribute<RequiredMemberAttribute>() is not null,
                p.GetCustomAttribute<PatternAttribute>(),
                p.GetCustomAttribute<RangeAttribute>(),
                p.GetCustomAttribute<DescriptionAttribute>()?.Description));
        }
        Members = members;
        _byName = members.ToDictionary(m => m.Name, StringComparer.Ordinal);
    }

    public static ModelShape Of(Type type) => Cache.GetOrAdd(type, t => new ModelShape(t));

    public MemberShape? Find(string key) => _byName.GetValueOrDefault(key);

    public static bool IsModel(Type type) =>
        type.IsClass && type != typeof(string) && !typeof(JsonNode).IsAssignableFrom(type) && !type.IsGenericType && type.Namespace?.StartsWith("RunbookPilot", StringComparison.Ordinal) == true;

    public static string SnakeCase(string name)
    {
        var sb = new StringBuilder(name.Length + 4);
        for (var i = 0; i < name.Length; i++)
        {
            var c = name[i];
            if (char.IsUpper(c))
            {
                if (i > 0 && (char.IsLower(name[i - 1]) || char.IsDigit(name[i - 1]))) sb.Append('_');
                sb.Append(char.ToLowerInvariant(c));
            }
            else sb.Append(c);
        }
        return sb.ToString();
    }

    /// <summary>YAML spelling of each member of an enum.</summary>
    public static IReadOnlyList<(string Name, object Value)> EnumValues(Type enumType) =>
        EnumCache.GetOrAdd(enumType, t => t.GetFields(BindingFlags.Public | BindingFlags.Static)
            .Select(f => (f.GetCustomAttribute<YamlNameAttribute>()?.Name ?? SnakeCase(f.Name), f.GetValue(null)!))
            .ToList());

    private static readonly ConcurrentDictionary<Type, IReadOnlyList<(string Name, object Value)>> EnumCache = new();

    public static string EnumName(object value)
    {
        var t = value.GetType();
        return EnumValues(t).First(v => v.Value.Equals(value)).Name;
    }
}

public sealed record MemberShape(string Name, PropertyInfo Property, bool Required, PatternAttribute? Pattern, RangeAttribute? Range, string? Description)
{
    public Type Type => Property.PropertyType;
}
