using BenchmarkDotNet.Attributes;
using RunbookPilot.Domain.Playbooks;
using RunbookPilot.Domain.Library;

namespace RunbookPilot.Bench;

/// <summary>Issue 2: loading 1,000 playbooks (parse + bind + validate), from memory and from a folder on disk.</summary>
[MemoryDiagnoser]
[SimpleJob(warmupCount: 2, iterationCount: 8)]
public class PlaybookLoadBenchmark
{
    private string[] _texts = [];
    private string _folder = "";

    [GlobalSetup]
    public void Setup()
    {
        var seeds = Directory.GetFiles(Paths.Playbooks, "*_L?.yaml").Order(StringComparer.Ordinal).Select(File.ReadAllText).ToArray();
        _texts = Enumerable.Range(0, 1000)
            .Select(i =>
            {
                var seed = seeds[i % seeds.Length];
                var id = seed.Split('\n').First(l => l.StartsWith("id: ", StringComparison.Ordinal))[4..];
                return seed.Replace("id: " + id, $"id: {id}_{i:D4}", StringComparison.Ordinal).Replace("x-detectforge:", "x-unlinked:", StringComparison.Ordinal);
            })
            .ToArray();
        _folder = Directory.CreateTempSubdirectory("rbp-bench-").FullName;
        for (var i = 0; i < _texts.Length; i++) File.WriteAllText(Path.Combine(_folder, $"pb_{i:D4}.yaml"), _texts[i]);
        var check = PlaybookLibrary.Load(new LibraryPaths(_folder));
        if (!check.Ok || check.Playbooks.Count != 1000) throw new InvalidOperationException("benchmark playbooks do not load: " + string.Join("\n", check.Errors.Take(5)));
    }

    [GlobalCleanup]
    public void Cleanup() => Directory.Delete(_folder, recursive: true);

    [Benchmark(Description = "parse+validate 1,000 playbooks from memory")]
    public int ParseFromMemory()
    {
        var ok = 0;
        foreach (var t in _texts)
            if (PlaybookLoader.Parse(t, "bench.yaml").Ok) ok++;
        return ok;
    }

    [Benchmark(Description = "load a folder of 1,000 playbook files")]
    public int LoadFolder() => PlaybookLibrary.Load(new LibraryPaths(_folder)).Playbooks.Count;
}

internal static class Paths
{
    public static string Playbooks
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "RunbookPilot.sln"))) dir = dir.Parent;
            return Path.Combine(dir?.FullName ?? Directory.GetCurrentDirectory(), "playbooks");
        }
    }
}
