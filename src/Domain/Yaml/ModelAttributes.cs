namespace RunbookPilot.Domain.Yaml;

/// <summary>The key used in YAML (and JSON Schema) for a property or enum member; default is snake_case of the C# name.</summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
public sealed class YamlNameAttribute(string name) : Attribute
{
    public string Name { get; } = name;
}

/// <summary>A regular expression every string value (or every item of a list of strings) must match.</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class PatternAttribute(string pattern, string expected) : Attribute
{
    public string Pattern { get; } = pattern;
    /// <summary>Human wording of what is expected, used in error messages ("a semantic version such as 1.2.0").</summary>
    public string Expected { get; } = expected;
}

/// <summary>An inclusive range for an integer property.</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class RangeAttribute(int min, int max) : Attribute
{
    public int Min { get; } = min;
    public int Max { get; } = max;
}

/// <summary>Keys starting with <c>x-</c> are allowed in this mapping (vendor extensions) and kept, unvalidated, in the property marked <see cref="ExtensionDataAttribute"/>.</summary>
[AttributeUsage(AttributeTargets.Class)]
public sealed class AllowExtensionsAttribute : Attribute;

/// <summary>Receives the <c>x-</c> keys of a mapping that allows extensions.</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class ExtensionDataAttribute : Attribute;
