using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace RunbookPilot.Domain.Yaml;

/// <summary>
/// Binds a <see cref="YNode"/> tree onto a model record by reflection (<see cref="ModelShape"/>). Collects every
/// problem — missing and unknown keys (with a did-you-mean), wrong types, patterns, ranges — instead of stopping
/// at the first, and remembers where each value came from so later checks can report line and column.
/// </summary>
public sealed partial class YamlBinder(string file)
{
    public string File { get; } = file;
    public List<Diagnostic> Errors { get; } = [];
    public Dictionary<string, SourcePos> Locations { get; } = new(StringComparer.Ordinal);

    /// <summary>
    /// True when some value could not be bound (wrong type, missing required key), so the model has holes and the
    /// semantic checks must not run. Unknown keys and pattern or range errors leave the model whole.
    /// </summary>
    public bool Incomplete { get; private set; }

    public T? Bind<T>(YNode root) where T : class
    {
        if (root is YScalar { IsNull: true })
        {
            Incomplete = true;
            Error(root.Pos, "", "the document is empty; it must be a mapping (key: value lines)");
            return null;
        }
        return Bind(root, typeof(T), "") as T;
    }

    public void Error(string path, string message) => Error(At(path), path, message);

    public void Error(SourcePos pos, string path, string message) => Errors.Add(new Diagnostic(File, pos.Line, pos.Column, path, message));

    /// <summary>Where the value at <paramref name="path"/> (or its nearest recorded parent) starts.</summary>
    public SourcePos At(string path)
    {
        var p = path;
        while (true)
        {
            if (Locations.TryGetValue(p, out var pos)) return pos;
            if (p.Length == 0) return new SourcePos(1, 1);
            var cut = Math.Max(p.LastIndexOf('.'), p.LastIndexOf('['));
            p = cut > 0 ? p[..cut] : "";
        }
    }

    public static string Child(string parent, string key) => parent.Length == 0 ? key : parent + "." + key;

    public static string Index(string parent, int i) => parent + "[" + i.ToString(CultureInfo.InvariantCulture) + "]";

    private object? Bind(YNode node, Type type, string path, MemberShape? member = null)
    {
        Locations[path] = node.Pos;
        var underlying = Nullable.GetUnderlyingType(type) ?? type;

        if (node is YScalar { IsNull: true } && underlying != typeof(JsonNode)) return null;

        if (underlying == typeof(string)) return BindString(node, path, member);
        if (underlying == typeof(bool)) return BindScalar(node, path, "true or false", s => s.IsPlain && bool.TryParse(s.Value, out var b) ? b : null);
        if (underlying == typeof(int)) return BindInt(node, path, member);
        if (underlying == typeof(double)) return BindScalar(node, path, "a number", s => double.TryParse(s.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? d : null);
        if (underlying == typeof(TimeSpan)) return BindScalar(node, path, "a duration such as 30s, 5m, 4h or 500ms", s => TryParseDuration(s.Value, out var t) ? t : null);
        if (underlying.IsEnum) return BindEnum(node, underlying, path);
        if (underlying == typeof(JsonNode)) return ToJson(node);
        if (underlying.IsGenericType && underlying.GetGenericTypeDefinition() == typeof(IReadOnlyList<>))
            return BindList(node, underlying.GetGenericArguments()[0], path, member);
        if (underlying.IsGenericType && underlying.GetGenericTypeDefinition() == typeof(IReadOnlyDictionary<,>))
            return BindDictionary(node, underlying.GetGenericArguments()[1], path, member);
        if (ModelShape.IsModel(underlying)) return BindModel(node, ModelShape.Of(underlying), path);
        throw new NotSupportedException($"model type {underlying} is not supported by the YAML binder");
    }

    private string? BindString(YNode node, string path, MemberShape? member)
    {
        if (node is not YScalar s)
        {
            Incomplete = true;
            Error(node.Pos, path, $"'{Leaf(path)}' must be text, not {node.Kind}");
            return null;
        }
        CheckPattern(s, path, member);
        return s.Value;
    }

    private void CheckPattern(YScalar s, string path, MemberShape? member)
    {
        if (member?.Pattern is { } pattern && !Regex.IsMatch(s.Value, pattern.Pattern, RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1)))
            Error(s.Pos, path, $"'{Leaf(path)}' is '{Shorten(s.Value)}' but must be {pattern.Expected}");
    }

    private object? BindInt(YNode node, string path, MemberShape? member)
    {
        var value = BindScalar(node, path, "a whole number", s => s.IsPlain && int.TryParse(s.Value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var i) ? i : null);
        if (value is int n && member?.Range is { } range && (n < range.Min || n > range.Max))
            Error(node.Pos, path, $"'{Leaf(path)}' is {n} but must be between {range.Min} and {range.Max}");
        return value;
    }

    private object? BindScalar(YNode node, string path, string expected, Func<YScalar, object?> parse)
    {
        if (node is YScalar s && parse(s) is { } value) return value;
        Incomplete = true;
        var got = node is YScalar sc ? $"'{Shorten(sc.Value)}'" : node.Kind;
        Error(node.Pos, path, $"'{Leaf(path)}' must be {expected}, not {got}");
        return null;
    }

    private object? BindEnum(YNode node, Type enumType, string path)
    {
        var values = ModelShape.EnumValues(enumType);
        if (node is YScalar s)
        {
            foreach (var (name, value) in values)
                if (name == s.Value) return value;
            Incomplete = true;
            var names = values.Select(v => v.Name).ToList();
            Error(s.Pos, path, $"'{Leaf(path)}' is '{Shorten(s.Value)}' but must be one of {string.Join(", ", names)}{DidYouMean.Hint(s.Value, names)}");
            return null;
        }
        Incomplete = true;
        Error(node.Pos, path, $"'{Leaf(path)}' must be one of {string.Join(", ", values.Select(v => v.Name))}, not {node.Kind}");
        return null;
    }

    private object? BindList(YNode node, Type itemType, string path, MemberShape? member)
    {
        var list = (System.Collections.IList)Activator.CreateInstance(typeof(List<>).MakeGenericType(itemType))!;
        if (node is not YSequence seq)
        {
            Incomplete = true;
            Error(node.Pos, path, $"'{Leaf(path)}' must be a list, not {node.Kind}");
            return list;
        }
        for (var i = 0; i < seq.Items.Count; i++)
        {
            var itemPath = Index(path, i);
            var item = Bind(seq.Items[i], itemType, itemPath, member);
            if (item is null)
            {
                Incomplete = true;
                if (seq.Items[i] is YScalar { IsNull: true }) Error(seq.Items[i].Pos, itemPath, $"'{Leaf(path)}' has an empty item");
                continue;
            }
            list.Add(item);
        }
        return list;
    }

    private object? BindDictionary(YNode node, Type valueType, string path, MemberShape? member)
    {
        var dict = (System.Collections.IDictionary)Activator.CreateInstance(typeof(Dictionary<,>).MakeGenericType(typeof(string), valueType), StringComparer.Ordinal)!;
        if (node is not YMapping map)
        {
            Incomplete = true;
            Error(node.Pos, path, $"'{Leaf(path)}' must be a mapping of names to values, not {node.Kind}");
            return dict;
        }
        foreach (var (key, value) in map.Entries)
        {
            var childPath = Child(path, key.Value);
            var bound = Bind(value, valueType, childPath, member);
            Locations[childPath] = EntryPos(key, value);
            if (bound is not null || valueType == typeof(JsonNode)) dict[key.Value] = bound;
        }
        return dict;
    }

    private object? BindModel(YNode node, ModelShape shape, string path)
    {
        if (node is not YMapping map)
        {
            Incomplete = true;
            var what = path.Length == 0 ? "the document" : $"'{Leaf(path)}'";
            Error(node.Pos, path, $"{what} must be a mapping (key: value lines), not {node.Kind}");
            return null;
        }
        var instance = Activator.CreateInstance(shape.Type)!;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        JsonObject? extensions = null;
        foreach (var (key, value) in map.Entries)
        {
            var childPath = Child(path, key.Value);
            var member = shape.Find(key.Value);
            if (member is null)
            {
                if (shape.AllowExtensions && key.Value.StartsWith("x-", StringComparison.Ordinal))
                {
                    extensions ??= [];
                    extensions[key.Value] = ToJson(value);
                    continue;
                }
                Error(key.Pos, childPath, $"unknown key '{Shorten(key.Value)}'{WhereAmI(path)}{DidYouMean.Hint(key.Value, shape.Members.Select(m => m.Name))}");
                continue;
            }
            seen.Add(member.Name);
            var bound = Bind(value, member.Type, childPath, member);
            Locations[childPath] = EntryPos(key, value);
            if (bound is null)
            {
                if (member.Required)
                {
                    Incomplete = true;
                    if (value is YScalar { IsNull: true }) Error(value.Pos, childPath, $"'{member.Name}' must not be empty");
                }
                continue;
            }
            member.Property.SetValue(instance, bound);
        }
        foreach (var member in shape.Members)
        {
            if (member.Required && !seen.Contains(member.Name))
            {
                Incomplete = true;
                Error(map.Pos, Child(path, member.Name), $"missing required key '{member.Name}'{WhereAmI(path)}");
            }
        }
        if (extensions is not null) shape.ExtensionData?.SetValue(instance, extensions);
        return instance;
    }

    /// <summary>YAML value as JSON: plain scalars follow the YAML 1.2 core schema (null, booleans, numbers), quoted ones stay text.</summary>
    public static JsonNode? ToJson(YNode node) => node switch
    {
        YScalar { IsNull: true } => null,
        YScalar { IsPlain: true } s when s.Value is "true" or "True" or "TRUE" => JsonValue.Create(true),
        YScalar { IsPlain: true } s when s.Value is "false" or "False" or "FALSE" => JsonValue.Create(false),
        YScalar { IsPlain: true } s when IntegerRegex().IsMatch(s.Value) && long.TryParse(s.Value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l) => JsonValue.Create(l),
        YScalar { IsPlain: true } s when FloatRegex().IsMatch(s.Value) && double.TryParse(s.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && double.IsFinite(d) => JsonValue.Create(d),
        YScalar s => JsonValue.Create(s.Value),
        YSequence seq => new JsonArray(seq.Items.Select(ToJson).ToArray()),
        YMapping map => ToJsonObject(map),
        _ => null,
    };

    private static JsonObject ToJsonObject(YMapping map)
    {
        var obj = new JsonObject();
        foreach (var (key, value) in map.Entries) obj[key.Value] = ToJson(value);
        return obj;
    }

    public static bool TryParseDuration(string text, out TimeSpan value)
    {
        value = default;
        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds))
        {
            value = TimeSpan.FromSeconds(seconds);
            return true;
        }
        var m = DurationRegex().Match(text);
        if (!m.Success) return false;
        var total = TimeSpan.Zero;
        foreach (Capture part in m.Groups["part"].Captures)
        {
            var unitStart = part.Value.IndexOfAny(['m', 's', 'h', 'd']);
            if (!long.TryParse(part.Value[..unitStart], NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n > 1_000_000) return false;
            total += part.Value[unitStart..] switch
            {
                "ms" => TimeSpan.FromMilliseconds(n),
                "s" => TimeSpan.FromSeconds(n),
                "m" => TimeSpan.FromMinutes(n),
                "h" => TimeSpan.FromHours(n),
                _ => TimeSpan.FromDays(n),
            };
        }
        value = total;
        return true;
    }

    public static string FormatDuration(TimeSpan t)
    {
        if (t.TotalMilliseconds % 1000 != 0) return ((long)t.TotalMilliseconds).ToString(CultureInfo.InvariantCulture) + "ms";
        if (t.TotalSeconds % 3600 == 0) return ((long)t.TotalHours).ToString(CultureInfo.InvariantCulture) + "h";
        if (t.TotalSeconds % 60 == 0) return ((long)t.TotalMinutes).ToString(CultureInfo.InvariantCulture) + "m";
        return ((long)t.TotalSeconds).ToString(CultureInfo.InvariantCulture) + "s";
    }

    /// <summary>A value on its key's line is located at the value; a block below its key, at the key.</summary>
    private static SourcePos EntryPos(YScalar key, YNode value) => value.Pos.Line == key.Pos.Line ? value.Pos : key.Pos;

    private static string WhereAmI(string path) => path.Length == 0 ? "" : $" in '{path}'";

    private static string Leaf(string path)
    {
        var cut = path.LastIndexOf('.');
        return cut >= 0 ? path[(cut + 1)..] : path;
    }

    public static string Shorten(string value) => value.Length <= 60 ? value : value[..57] + "...";

    [GeneratedRegex(@"^[-+]?[0-9]+$")]
    private static partial Regex IntegerRegex();

    [GeneratedRegex(@"^[-+]?([0-9]+\.[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?$")]
    private static partial Regex FloatRegex();

    [GeneratedRegex(@"^(?<part>[0-9]+(ms|s|m|h|d))+$")]
    private static partial Regex DurationRegex();
}
