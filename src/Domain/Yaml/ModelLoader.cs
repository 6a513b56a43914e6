namespace RunbookPilot.Domain.Yaml;

/// <summary>A loaded model, or the located problems that kept it from loading (never both empty).</summary>
public sealed record LoadResult<T>(T? Value, IReadOnlyList<Diagnostic> Errors) where T : class
{
    /// <summary>Where each value (by path, e.g. <c>steps[1].id</c>) starts in the file.</summary>
    public IReadOnlyDictionary<string, SourcePos> Locations { get; init; } = new Dictionary<string, SourcePos>();

    public bool Ok => Value is not null && Errors.Count == 0;
}

/// <summary>Reads one YAML document into a model record and runs its semantic checks. Never throws on bad input.</summary>
public static class ModelLoader
{
    public static LoadResult<T> Parse<T>(string text, string file, Action<T, YamlBinder>? validate = null) where T : class
    {
        var binder = new YamlBinder(file);
        var root = YamlTree.ParseSingle(text, file, binder.Errors);
        if (root is null) return new LoadResult<T>(null, binder.Errors);
        var value = binder.Bind<T>(root);
        if (value is not null && !binder.Incomplete) validate?.Invoke(value, binder);
        var errors = binder.Errors.OrderBy(e => e.Line).ThenBy(e => e.Column).ToList();
        return new LoadResult<T>(errors.Count == 0 ? value : null, errors) { Locations = binder.Locations };
    }

    public static LoadResult<T> LoadFile<T>(string path, Action<T, YamlBinder>? validate = null) where T : class
    {
        string text;
        try
        {
            var info = new FileInfo(path);
            if (info.Exists && info.Length > YamlTree.MaxBytes)
                return new LoadResult<T>(null, [new Diagnostic(path, 1, 1, "", $"file is larger than {YamlTree.MaxBytes / 1024} KiB")]);
            text = File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return new LoadResult<T>(null, [new Diagnostic(path, 1, 1, "", "cannot read file: " + ex.Message)]);
        }
        return Parse(text, path, validate);
    }
}
