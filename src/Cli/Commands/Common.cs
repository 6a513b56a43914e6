using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Serialization;
using RunbookPilot.Domain.Playbooks;
using RunbookPilot.Domain.Library;
using RunbookPilot.Engine.Configuration;
using RunbookPilot.Cli.Backends;

namespace RunbookPilot.Cli.Commands;

public enum OutputFormat { Table, Json }

/// <summary>Options every command shares, and the two output forms (aligned table for people, stable JSON for scripts).</summary>
internal static class Common
{
    public static Option<OutputFormat> OutputOption() => new("--output", "-o")
    {
        Description = "table (for people) or json (stable, for scripts; see README 'CLI JSON output')",
        DefaultValueFactory = _ => OutputFormat.Table,
    };

    public static Option<string> PlaybooksOption() => new("--playbooks")
    {
        Description = "Playbooks folder (its sigma/ subfolder is the Sigma index). Default: $RBPILOT_PLAYBOOKS or ./playbooks",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("RBPILOT_PLAYBOOKS") is { Length: > 0 } p ? p : "playbooks",
    };

    public static Option<string?> PolicyOption() => new("--policy")
    {
        Description = "global_policy.yaml to use. Default: $RBPILOT_POLICY or <playbooks>/global_policy.yaml",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("RBPILOT_POLICY") is { Length: > 0 } p ? p : null,
    };

    public static Option<string?> AdaptersOption() => new("--adapters")
    {
        Description = "adapters.yaml to use. Default: $RBPILOT_ADAPTERS or <playbooks>/adapters.yaml",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("RBPILOT_ADAPTERS") is { Length: > 0 } p ? p : null,
    };

    public static Option<string> PluginsOption() => new("--plugins")
    {
        Description = "Folder of adapter plugin DLLs. Default: $RBPILOT_PLUGINS or ./plugins",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("RBPILOT_PLUGINS") is { Length: > 0 } p ? p : "plugins",
    };

    public static Option<string?> SigmaOption() => new("--sigma")
    {
        Description = "Folder of Sigma rules. Default: <playbooks>/sigma",
    };

    public static Option<string> DbOption() => new("--db")
    {
        Description = "SQLite file (or PostgreSQL connection string). Default: $RBPILOT_DB or ./data/runbookpilot.db",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("RBPILOT_DB") is { Length: > 0 } v ? v : RunbookPilot.Engine.Configuration.RunbookPilotOptions.DefaultDatabase,
    };

    /// <summary>--demo: the local vendor simulators stand in for every vendor adapters.yaml does not configure (never without it).</summary>
    public static Option<bool> DemoOption() => new("--demo")
    {
        Description = "Run the local vendor simulators for every vendor adapters.yaml does not configure (demo and trials only). Without it such a vendor's steps fail: 'adapter X is not configured'",
    };

    /// <summary>--server URL (or RBPILOT_SERVER): work through a running server's API instead of opening the database here.</summary>
    public static Option<Uri?> ServerOption() => new("--server")
    {
        Description = "A running RunbookPilot server (e.g. http://127.0.0.1:8080): the command goes through its API, signed in as $RBPILOT_USER/$RBPILOT_PASS. Default: $RBPILOT_SERVER; without it the engine runs here over --db",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("RBPILOT_SERVER") is { Length: > 0 } v ? new Uri(v) : null,
        CustomParser = r => Uri.TryCreate(r.Tokens.Single().Value, UriKind.Absolute, out var u) && u.Scheme is "http" or "https" ? u : Fail(r),
    };

    private static Uri? Fail(System.CommandLine.Parsing.ArgumentResult r)
    {
        r.AddError($"--server: '{r.Tokens.Single().Value}' is not an http(s) URL such as http://127.0.0.1:8080");
        return null;
    }

    public static ServerBackend Connect(Uri server, CliServices services) =>
        new(server, services.Environment("RBPILOT_USER") is { Length: > 0 } u ? u : "admin", services.Environment("RBPILOT_PASS"));

    public static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };

    public static void WriteJson(TextWriter output, object value) => output.WriteLine(JsonSerializer.Serialize(value, Json));

    /// <summary>Writes rows as aligned columns under a header.</summary>
    public static void WriteTable(TextWriter output, IReadOnlyList<string> header, IEnumerable<IReadOnlyList<string>> rows)
    {
        var all = rows.Prepend(header).ToList();
        var widths = header.Select((_, i) => all.Max(r => r[i].Length)).ToArray();
        foreach (var row in all)
            output.WriteLine(string.Join("  ", row.Select((cell, i) => i == row.Count - 1 ? cell : cell.PadRight(widths[i]))).TrimEnd());
    }

    public static string Kind(SourceKind kind) => kind switch
    {
        SourceKind.Playbook => "playbook",
        SourceKind.Policy => "policy",
        SourceKind.Adapters => "adapters",
        _ => "sigma",
    };
}
