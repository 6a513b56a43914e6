using System.Text.RegularExpressions;
using RunbookPilot.Domain.Playbooks;
using RunbookPilot.Domain.Yaml;

namespace RunbookPilot.Domain.Matching;

/// <summary>What RunbookPilot needs from a Sigma rule: its ids, title, ATT&amp;CK techniques and DetectForge hints.</summary>
public sealed record SigmaRule(
    string Id,
    string Title,
    string File,
    string? Level,
    IReadOnlyList<string> Techniques,
    IReadOnlyList<string> Tactics,
    string? SuggestedRunbook,
    string? Confidence,
    IReadOnlyList<string> DetectForgeTechniques)
{
    /// <summary>Where x-detectforge.suggested_runbook is written, for cross-file errors.</summary>
    public SourcePos SuggestedRunbookAt { get; init; }
}

/// <summary>
/// Sigma rules indexed by id (PRD F10, I1). Reads real SigmaHQ rules as well as DetectForge output: only the
/// fields it needs are read, the rest of a rule (detection, dates in either style, custom keys) is left alone.
/// </summary>
public sealed partial class SigmaIndex
{
    private readonly Dictionary<string, SigmaRule> _byId;

    public SigmaIndex(IEnumerable<SigmaRule> rules, IReadOnlyList<Diagnostic> errors)
    {
        _byId = new Dictionary<string, SigmaRule>(StringComparer.OrdinalIgnoreCase);
        foreach (var r in rules) _byId.TryAdd(r.Id, r);
        Errors = errors;
    }

    public static SigmaIndex Empty { get; } = new([], []);

    public IReadOnlyCollection<SigmaRule> Rules => _byId.Values;
    public IReadOnlyList<Diagnostic> Errors { get; }

    public SigmaRule? Find(string ruleId) => _byId.GetValueOrDefault(ruleId);

    /// <summary>Loads every *.yml / *.yaml file under <paramref name="folder"/> (recursively). A missing folder is an empty index.</summary>
    public static SigmaIndex LoadFolder(string folder)
    {
        var rules = new List<SigmaRule>();
        var errors = new List<Diagnostic>();
        if (!Directory.Exists(folder)) return new SigmaIndex(rules, errors);
        var seen = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var file in Directory.EnumerateFiles(folder, "*.*", SearchOption.AllDirectories)
                     .Where(f => f.EndsWith(".yml", StringComparison.OrdinalIgnoreCase) || f.EndsWith(".yaml", StringComparison.OrdinalIgnoreCase))
                     .Order(StringComparer.Ordinal))
        {
            var rule = ParseFile(file, errors);
            if (rule is null) continue;
            if (seen.TryGetValue(rule.Id, out var other))
            {
                errors.Add(new Diagnostic(file, 1, 1, "id", $"Sigma rule id '{rule.Id}' is also used by {other}"));
                continue;
            }
            seen[rule.Id] = file;
            rules.Add(rule);
        }
        return new SigmaIndex(rules, errors);
    }

    public static SigmaRule? ParseFile(string file, List<Diagnostic> errors)
    {
        string text;
        try
        {
            text = File.ReadAllText(file);
        }
        catch (IOException ex)
        {
            errors.Add(new Diagnostic(file, 1, 1, "", "cannot read file: " + ex.Message));
            return null;
        }
        return Parse(text, file, errors);
    }

    public static SigmaRule? Parse(string text, string file, List<Diagnostic> errors)
    {
        var root = YamlTree.ParseSingle(text, file, errors);
        if (root is null) return null;
        if (root is not YMapping map)
        {
            errors.Add(new Diagnostic(file, root.Pos.Line, root.Pos.Column, "", "a Sigma rule must be a mapping"));
            return null;
        }
        var id = Text(map, "id");
        var title = Text(map, "title");
        if (id is null || title is null)
        {
            errors.Add(new Diagnostic(file, map.Pos.Line, map.Pos.Column, "", $"a Sigma rule needs 'title' and 'id' (missing: {string.Join(", ", new[] { id is null ? "id" : null, title is null ? "title" : null }.OfType<string>())})"));
            return null;
        }
        var techniques = new List<string>();
        var tactics = new List<string>();
        if (Get(map, "tags") is YSequence tags)
        {
            foreach (var tag in tags.Items.OfType<YScalar>())
            {
                var m = TechniqueTag().Match(tag.Value.Trim());
                if (m.Success) techniques.Add("T" + m.Groups[1].Value + (m.Groups[2].Success ? "." + m.Groups[2].Value : ""));
                else if (tag.Value.StartsWith("attack.", StringComparison.OrdinalIgnoreCase) && Core.Tactics.FromSigmaTag(tag.Value[7..]) is { } tactic)
                    tactics.Add(tactic);
            }
        }

        string? suggested = null, confidence = null;
        var suggestedAt = default(SourcePos);
        var dfTechniques = new List<string>();
        if (Get(map, "x-detectforge") is YMapping df)
        {
            suggested = Text(df, "suggested_runbook");
            suggestedAt = Get(df, "suggested_runbook")?.Pos ?? df.Pos;
            confidence = Text(df, "confidence");
            if (Get(df, "techniques") is YSequence dft)
            {
                foreach (var t in dft.Items.OfType<YScalar>())
                {
                    if (Regex.IsMatch(t.Value, Playbook.TechniquePattern)) dfTechniques.Add(t.Value);
                    else errors.Add(new Diagnostic(file, t.Pos.Line, t.Pos.Column, "x-detectforge.techniques", $"'{t.Value}' is not an ATT&CK technique id such as T1021.001"));
                }
            }
        }
        return new SigmaRule(id, title, file, Text(map, "level"), techniques.Distinct().ToList(), tactics.Distinct().ToList(), suggested, confidence, dfTechniques) { SuggestedRunbookAt = suggestedAt };
    }

    private static YNode? Get(YMapping map, string key) => map.Entries.FirstOrDefault(e => e.Key.Value == key).Value;

    private static string? Text(YMapping map, string key) => Get(map, key) is YScalar { IsNull: false } s ? s.Value : null;

    [GeneratedRegex(@"^attack\.t(\d{4})(?:\.(\d{3}))?$", RegexOptions.IgnoreCase)]
    private static partial Regex TechniqueTag();
}
