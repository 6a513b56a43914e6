using RunbookPilot.Domain.Adapters;
using RunbookPilot.Domain.Playbooks;
using RunbookPilot.Domain.Matching;
using RunbookPilot.Domain.Yaml;
using RunbookPilot.Domain.Policy;

namespace RunbookPilot.Domain.Library;

public enum SourceKind { Playbook, Policy, Adapters, Sigma }

/// <summary>The result of reading one file: what kind it is, and its problems (empty when it is valid).</summary>
public sealed record FileReport(string Path, SourceKind Kind, IReadOnlyList<Diagnostic> Errors)
{
    public bool Ok => Errors.Count == 0;
}

/// <summary>Where the library's files are. Defaults follow the playbooks folder: global_policy.yaml, adapters.yaml, sigma/.</summary>
public sealed record LibraryPaths(string PlaybooksFolder, string? PolicyFile = null, string? AdaptersFile = null, string? SigmaFolder = null)
{
    public const string PolicyFileName = "global_policy.yaml";
    public const string AdaptersFileName = "adapters.yaml";

    public string Policy => PolicyFile ?? Path.Combine(PlaybooksFolder, PolicyFileName);
    public string AdaptersConfig => AdaptersFile ?? Path.Combine(PlaybooksFolder, AdaptersFileName);
    public string Sigma => SigmaFolder ?? Path.Combine(PlaybooksFolder, "sigma");
}

/// <summary>
/// Everything loaded from a playbooks folder: the valid playbooks, the policy, the adapter settings, the Sigma index,
/// and a report per file. Cross-file checks (duplicate ids, Sigma rules naming unknown playbooks, policy naming
/// unknown playbooks) are made here. Invalid playbooks are reported and left out; valid ones still load.
/// </summary>
public sealed class PlaybookLibrary
{
    private readonly Dictionary<string, (Playbook Playbook, string File)> _byId;

    private PlaybookLibrary(IReadOnlyList<(Playbook Playbook, string File)> playbooks, GlobalPolicy policy, AdaptersConfig adapters, SigmaIndex sigma, IReadOnlyList<FileReport> files)
    {
        Playbooks = playbooks.Select(p => p.Playbook).ToList();
        _byId = playbooks.ToDictionary(p => p.Playbook.Id, StringComparer.Ordinal);
        Policy = policy;
        Adapters = adapters;
        Sigma = sigma;
        Files = files;
    }

    public IReadOnlyList<Playbook> Playbooks { get; }
    public GlobalPolicy Policy { get; }
    public AdaptersConfig Adapters { get; }
    public SigmaIndex Sigma { get; }
    public IReadOnlyList<FileReport> Files { get; }
    public bool Ok => Files.All(f => f.Ok);
    public IEnumerable<Diagnostic> Errors => Files.SelectMany(f => f.Errors);

    /// <summary>
    /// Problems of global_policy.yaml and adapters.yaml. They hold the safety controls (allow-list, compliance mode,
    /// four-eyes) and the vendors, so unlike a broken playbook (left out, nothing else weakened) any problem here means
    /// the library must not be used at all: there is no fallback to defaults.
    /// </summary>
    public IReadOnlyList<Diagnostic> ConfigurationErrors =>
        Files.Where(f => f.Kind is SourceKind.Policy or SourceKind.Adapters).SelectMany(f => f.Errors).ToList();

    public Playbook? Find(string id) => _byId.TryGetValue(id, out var entry) ? entry.Playbook : null;

    /// <summary>The file a loaded playbook came from.</summary>
    public string? FileOf(string id) => _byId.TryGetValue(id, out var entry) ? entry.File : null;

    public static PlaybookLibrary Load(LibraryPaths paths, AdapterCatalog? catalog = null)
    {
        catalog ??= AdapterCatalog.BuiltIn;
        var files = new List<FileReport>();
        var firstFileOfId = new Dictionary<string, string>(StringComparer.Ordinal);
        var loaded = new List<(Playbook Playbook, FileReport Report, IReadOnlyDictionary<string, SourcePos> Locations)>();

        foreach (var file in PlaybookFiles(paths))
        {
            var result = PlaybookLoader.LoadFile(file, catalog);
            var errors = result.Errors.ToList();
            if (result.Value is { } pb)
            {
                if (firstFileOfId.TryGetValue(pb.Id, out var other))
                {
                    var at = result.Locations.GetValueOrDefault("id", new SourcePos(1, 1));
                    errors.Add(new Diagnostic(file, at.Line, at.Column, "id", $"playbook id '{pb.Id}' is already used by {other}"));
                }
                else firstFileOfId[pb.Id] = file;
            }
            var report = new FileReport(file, SourceKind.Playbook, errors);
            files.Add(report);
            if (result.Value is not null) loaded.Add((result.Value, report, result.Locations));
        }
        var known = firstFileOfId.Keys.ToHashSet(StringComparer.Ordinal);

        var policy = GlobalPolicy.Default;
        if (File.Exists(paths.Policy))
        {
            var result = GlobalPolicy.LoadFile(paths.Policy, known);
            files.Add(new FileReport(paths.Policy, SourceKind.Policy, result.Errors));
            policy = result.Value ?? policy;
        }

        var adapters = AdaptersConfig.Empty;
        if (File.Exists(paths.AdaptersConfig))
        {
            var result = AdaptersConfig.LoadFile(paths.AdaptersConfig, catalog);
            files.Add(new FileReport(paths.AdaptersConfig, SourceKind.Adapters, result.Errors));
            adapters = result.Value ?? adapters;
        }

        var sigma = SigmaIndex.LoadFolder(paths.Sigma);
        foreach (var group in sigma.Errors.GroupBy(e => e.File))
            files.Add(new FileReport(group.Key, SourceKind.Sigma, group.ToList()));
        foreach (var rule in sigma.Rules.OrderBy(r => r.File, StringComparer.Ordinal))
        {
            var errors = new List<Diagnostic>();
            if (rule.SuggestedRunbook is { } suggested && !known.Contains(suggested))
                errors.Add(new Diagnostic(rule.File, rule.SuggestedRunbookAt.Line, rule.SuggestedRunbookAt.Column, "x-detectforge.suggested_runbook",
                    $"x-detectforge.suggested_runbook names unknown playbook '{suggested}'{DidYouMean.Hint(suggested, known)}"));
            if (files.All(f => f.Path != rule.File)) files.Add(new FileReport(rule.File, SourceKind.Sigma, errors));
        }

        foreach (var (pb, report, locations) in loaded)
        {
            var rules = pb.DetectForge?.SigmaRules ?? [];
            for (var i = 0; i < rules.Count; i++)
            {
                if (sigma.Find(rules[i]) is not null) continue;
                var at = locations.GetValueOrDefault($"x-detectforge.sigma_rules[{i}]", new SourcePos(1, 1));
                ((List<Diagnostic>)report.Errors).Add(new Diagnostic(report.Path, at.Line, at.Column, $"x-detectforge.sigma_rules[{i}]",
                    $"Sigma rule '{rules[i]}' is not in the Sigma index ({paths.Sigma})"));
            }
        }

        return new PlaybookLibrary(loaded.Where(l => l.Report.Ok).Select(l => (l.Playbook, l.Report.Path)).ToList(), policy, adapters, sigma, files);
    }

    /// <summary>Validates the given files and folders: a folder as a whole library, a file by its name (policy, adapters, Sigma rule under sigma/, else playbook).</summary>
    public static IReadOnlyList<FileReport> Validate(IEnumerable<string> paths, AdapterCatalog? catalog = null)
    {
        catalog ??= AdapterCatalog.BuiltIn;
        var reports = new List<FileReport>();
        foreach (var path in paths)
        {
            if (Directory.Exists(path))
            {
                reports.AddRange(Load(new LibraryPaths(path), catalog).Files);
                continue;
            }
            if (!File.Exists(path))
            {
                reports.Add(new FileReport(path, SourceKind.Playbook, [new Diagnostic(path, 0, 0, "", "no such file or folder")]));
                continue;
            }
            var name = Path.GetFileName(path);
            var inSigma = Path.GetFullPath(path).Split(Path.DirectorySeparatorChar).Contains("sigma");
            reports.Add(name switch
            {
                LibraryPaths.PolicyFileName => new FileReport(path, SourceKind.Policy, GlobalPolicy.LoadFile(path).Errors),
                LibraryPaths.AdaptersFileName => new FileReport(path, SourceKind.Adapters, AdaptersConfig.LoadFile(path, catalog).Errors),
                _ when inSigma => SigmaReport(path),
                _ => new FileReport(path, SourceKind.Playbook, PlaybookLoader.LoadFile(path, catalog).Errors),
            });
        }
        return reports;
    }

    private static FileReport SigmaReport(string path)
    {
        var errors = new List<Diagnostic>();
        SigmaIndex.ParseFile(path, errors);
        return new FileReport(path, SourceKind.Sigma, errors);
    }

    /// <summary>Playbook files in a folder: *.yaml / *.yml, recursively, except the policy, the adapter settings, sigma/ and schema/.</summary>
    public static IEnumerable<string> PlaybookFiles(LibraryPaths paths)
    {
        if (!Directory.Exists(paths.PlaybooksFolder)) return [];
        var skip = new[] { Path.GetFullPath(paths.Sigma), Path.GetFullPath(Path.Combine(paths.PlaybooksFolder, "schema")) };
        return Directory.EnumerateFiles(paths.PlaybooksFolder, "*.*", SearchOption.AllDirectories)
            .Where(f => f.EndsWith(".yaml", StringComparison.OrdinalIgnoreCase) || f.EndsWith(".yml", StringComparison.OrdinalIgnoreCase))
            .Where(f => Path.GetFileName(f) is not (LibraryPaths.PolicyFileName or LibraryPaths.AdaptersFileName or "bindings.yaml"))
            .Where(f => !skip.Any(s => Path.GetFullPath(f).StartsWith(s + Path.DirectorySeparatorChar, StringComparison.Ordinal)))
            .Order(StringComparer.Ordinal);
    }
}

/// <summary>The playbooks in force and how to pick among them; swapped when the library is reloaded.</summary>
public sealed record PlaybookCatalogSnapshot(PlaybookLibrary Library, PlaybookSelector Selector)
{
    public static PlaybookCatalogSnapshot From(PlaybookLibrary library) => new(library, new PlaybookSelector(library.Playbooks, library.Sigma));
}
