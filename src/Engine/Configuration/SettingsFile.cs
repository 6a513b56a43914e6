using Microsoft.Extensions.Configuration;
using RunbookPilot.Domain.Core;

namespace RunbookPilot.Engine.Configuration;

/// <summary>
/// appsettings.json: one section per area, each key the same setting as an RBPILOT_* environment variable (which wins
/// when both are set). Secrets are never read from it (keys and passwords come only from the environment). A key that
/// is not a setting stops the start, so a misspelt one is never silently ignored.
/// </summary>
public static class SettingsFile
{
    /// <summary>Section:Key → the environment variable it stands for.</summary>
    public static readonly IReadOnlyDictionary<string, string> Keys = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
    {
        ["Paths:Database"] = "RBPILOT_DB",
        ["Paths:Playbooks"] = "RBPILOT_PLAYBOOKS",
        ["Paths:Policy"] = "RBPILOT_POLICY",
        ["Paths:Adapters"] = "RBPILOT_ADAPTERS",
        ["Paths:Sigma"] = "RBPILOT_SIGMA",
        ["Paths:Plugins"] = "RBPILOT_PLUGINS",
        ["Paths:AuditCheckpoints"] = "RBPILOT_AUDIT_CHECKPOINTS",
        ["Execution:MaxRetries"] = "RBPILOT_MAX_RETRIES",
        ["Execution:RetryDelaySeconds"] = "RBPILOT_RETRY_DELAY_SECONDS",
        ["Execution:AttemptTimeoutSeconds"] = "RBPILOT_ATTEMPT_TIMEOUT_SECONDS",
        ["Intake:DedupeDays"] = "RBPILOT_DEDUPE_DAYS",
        ["Intake:ImplicitBindings"] = "RBPILOT_IMPLICIT_BINDINGS",
        ["Intake:SnapshotEvery"] = "RBPILOT_INTAKE_SNAPSHOT_EVERY",
        ["ReadModel:FollowJournal"] = "RBPILOT_FOLLOW_JOURNAL",
        ["Cluster:Seeds"] = "RBPILOT_CLUSTER_SEEDS",
        ["Cluster:Hostname"] = "RBPILOT_CLUSTER_HOSTNAME",
        ["Cluster:PublicHostname"] = "RBPILOT_CLUSTER_PUBLIC_HOSTNAME",
        ["Cluster:Port"] = "RBPILOT_CLUSTER_PORT",
        ["Cluster:Roles"] = "RBPILOT_CLUSTER_ROLES",
        ["Llm:BaseUrl"] = "RBPILOT_LLM_BASE_URL",
        ["Llm:Model"] = "RBPILOT_LLM_MODEL",
        ["Llm:TimeoutSeconds"] = "RBPILOT_LLM_TIMEOUT_SECONDS",
        ["Llm:Enabled"] = "RBPILOT_LLM_ENABLED",
    };

    /// <summary>The options from <paramref name="settings"/> under the environment <paramref name="env"/>.</summary>
    public static RunbookPilotOptions Load(IConfiguration settings, Func<string, string?> env)
    {
        var unknown = settings.AsEnumerable().Where(kv => kv.Value is not null && !Keys.ContainsKey(kv.Key)).Select(kv => kv.Key).Order(StringComparer.Ordinal).ToList();
        if (unknown.Count > 0)
            throw new ConfigurationException(unknown.Select(k => $"appsettings.json: '{k}' is not a setting; known: {string.Join(", ", Keys.Keys)}").ToList());
        var byVariable = Keys.ToDictionary(kv => kv.Value, kv => settings[kv.Key], StringComparer.Ordinal);
        return RunbookPilotOptions.FromSettings(name => env(name) is { Length: > 0 } v ? v : byVariable.GetValueOrDefault(name));
    }
}
