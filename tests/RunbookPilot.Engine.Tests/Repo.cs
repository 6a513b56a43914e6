namespace RunbookPilot.Engine.Tests;

/// <summary>Paths of the repository and of the shared folder beside it (../shared), found from the test's bin folder.</summary>
public static class Repo
{
    public static string Root { get; } = FindRoot();

    public static string Playbooks => Path.Combine(Root, "playbooks");

    public static string SharedSigma => Path.GetFullPath(Path.Combine(Root, "..", "shared", "data", "sigma"));

    private static string FindRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "RunbookPilot.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("RunbookPilot.sln not found above " + AppContext.BaseDirectory);
    }
}

/// <summary>A temporary folder deleted at the end of a test.</summary>
public sealed class TempDir : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("rbp-test-").FullName;

    public string Write(string relative, string text)
    {
        var full = System.IO.Path.Combine(Path, relative);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(full)!);
        File.WriteAllText(full, text);
        return full;
    }

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { }
    }
}
