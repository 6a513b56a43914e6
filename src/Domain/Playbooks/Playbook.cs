using System.ComponentModel;
using System.Text.Json.Nodes;
using RunbookPilot.Domain.Yaml;
using RunbookPilot.Domain.Core;

namespace RunbookPilot.Domain.Playbooks;

/// <summary>How much a step may do without a person: L0 read-only, L1 reversible (approval), L2 moderate risk (simulated).</summary>
public enum AutonomyLevel
{
    [YamlName("L0")] L0 = 0,
    [YamlName("L1")] L1 = 1,
    [YamlName("L2")] L2 = 2,
}

public enum MatchMode { All, Any }

public enum OnFailure { Halt, Continue }

public enum ConditionOperator { Equals, NotEquals, Contains, StartsWith, In, Regex, Exists, Gt, Gte, Lt, Lte, Cidr }

public enum EnrichmentType { TechniqueContext, InvestigationSteps, IncidentSummary }

public enum Confidence { Low, Medium, High }

/// <summary>A response playbook: what triggers it and the steps it runs.</summary>
[Description("A RunbookPilot response playbook (CACAO-inspired). See README 'Playbook reference'.")]
[AllowExtensions]
public sealed record Playbook
{
    public const string IdPattern = "^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$";
    public const string SemVerPattern = @"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$";
    public const string TechniquePattern = @"^T\d{4}(\.\d{3})?$";

    [Description("Unique id: letters, digits, '_', '-', '.'. Sigma rules name it in x-detectforge.suggested_runbook.")]
    [Pattern(IdPattern, "letters, digits, '_', '-' or '.' (at most 100), such as lateral_movement_L1")]
    public required string Id { get; init; }

    [Description("Human-readable name.")]
    public required string Name { get; init; }

    [Description("Semantic version (MAJOR.MINOR.PATCH) of this playbook; executions record the version they ran.")]
    [Pattern(SemVerPattern, "a semantic version such as 1.2.0")]
    public required string Version { get; init; }

    [Description("What the playbook is for.")]
    public string? Description { get; init; }

    [Description("The highest autonomy level of any step: L0 read-only, L1 approval-gated and reversible, L2 simulated only.")]
    public required AutonomyLevel AutonomyLevel { get; init; }

    [Description("When the playbook applies to an alert.")]
    public required Trigger Trigger { get; init; }

    [Description("The steps, run in order.")]
    public required IReadOnlyList<PlaybookStep> Steps { get; init; }

    [Description("LLM enrichment shown beside the execution (never used to decide anything).")]
    public EnrichmentSpec? Enrichment { get; init; }

    [Description("How to undo a reversible step, keyed by step id.")]
    public IReadOnlyDictionary<string, RollbackSpec> Rollback { get; init; } = new Dictionary<string, RollbackSpec>();

    [Description("DetectForge compatibility: the Sigma rules and techniques this playbook answers.")]
    [YamlName("x-detectforge")]
    public DetectForgeLink? DetectForge { get; init; }

    /// <summary>Other <c>x-</c> extension keys, kept as written.</summary>
    [ExtensionData]
    public JsonObject? Extensions { get; init; }

    public PlaybookStep? FindStep(string id) => Steps.FirstOrDefault(s => s.Id == id);
}

[Description("When a playbook applies: ATT&CK techniques, Sigma rule ids and field conditions.")]
public sealed record Trigger
{
    [Description("ATT&CK technique or sub-technique ids (T1021, T1021.001). A parent id also matches its sub-techniques.")]
    [Pattern(Playbook.TechniquePattern, "an ATT&CK technique id such as T1021 or T1021.001")]
    public IReadOnlyList<string> Techniques { get; init; } = [];

    [Description("Conditions on alert fields (ECS dotted paths).")]
    public IReadOnlyList<TriggerCondition> Conditions { get; init; } = [];

    [Description("all: every condition must hold; any: one is enough.")]
    public MatchMode Match { get; init; } = MatchMode.All;

    [Description("Sigma rule ids (rule.id / rule.uuid of the alert) this playbook answers directly.")]
    public IReadOnlyList<string> Rules { get; init; } = [];

    [Description("Lowest alert severity the playbook applies to.")]
    public AlertSeverity? Severity { get; init; }
}

[Description("One condition on an alert field.")]
public sealed record TriggerCondition
{
    [Description("ECS field as a dotted path, e.g. source.ip or threat.tactic.name.")]
    [Pattern(@"^[A-Za-z_@][A-Za-z0-9_@.-]*$", "an ECS field path such as source.ip")]
    public required string Field { get; init; }

    [Description("Comparison: equals, not_equals, contains, starts_with, in (list), regex, exists (true/false), gt, gte, lt, lte (numbers), cidr.")]
    public required ConditionOperator Operator { get; init; }

    [Description("The value to compare with (a list for 'in'; optional for 'exists').")]
    public JsonNode? Value { get; init; }
}

[Description("One step of a playbook.")]
public sealed record PlaybookStep
{
    [Description("Step id, unique in the playbook; templates refer to it as steps.<id>.output.")]
    [Pattern("^[A-Za-z0-9_][A-Za-z0-9_-]{0,63}$", "letters, digits, '_' or '-' (at most 64)")]
    public required string Id { get; init; }

    [Description("What the step does, in words.")]
    public required string Name { get; init; }

    [Description("The adapter action, e.g. query, block_ip, isolate_host (see 'runbookpilot adapters list').")]
    public required string ActionType { get; init; }

    [Description("The adapter that performs the action, e.g. virustotal, splunk, paloalto, crowdstrike.")]
    public required string Adapter { get; init; }

    [Description("L0 runs at once; L1 waits for an analyst's approval; L2 is only simulated until an analyst promotes it.")]
    public required AutonomyLevel AutonomyLevel { get; init; }

    [Description("Parameters for the action. Text may hold templates: {{source.ip}}, {{execution_id}}, {{steps.<id>.output.<path>}}.")]
    public IReadOnlyDictionary<string, JsonNode?> Params { get; init; } = new Dictionary<string, JsonNode?>();

    [Description("Informational: L1 steps always wait for approval whatever this says; global policy may gate L0 steps.")]
    public bool? ApprovalRequired { get; init; }

    [Description("Simulate instead of calling the adapter. L2 steps are always simulated; false is refused for L2.")]
    public bool? SimulationMode { get; init; }

    [Description("The action can be undone; requires an entry under 'rollback' for this step.")]
    public bool RollbackAvailable { get; init; }

    [Description("Time allowed for one attempt (e.g. 30s). Default: the adapter's timeout.")]
    public TimeSpan? Timeout { get; init; }

    [Description("Retries of a failed attempt with exponential backoff. Default: 3 retries starting at 1s.")]
    public RetrySpec? Retry { get; init; }

    [Description("halt: stop the execution when the step fails; continue: go on with the next step.")]
    public OnFailure OnFailure { get; init; } = OnFailure.Halt;

    [Description("Minutes an analyst would spend doing this step by hand, counted as time saved each time it succeeds. Default: the action's estimate ('runbookpilot adapters list').")]
    [Range(0, 1440)]
    public int? ManualMinutes { get; init; }
}

[Description("Retry policy of a step.")]
public sealed record RetrySpec
{
    [Description("How many times a failed attempt is retried (0-10).")]
    [Range(0, 10)]
    public int MaxRetries { get; init; } = 3;

    [Description("Delay before the first retry; each further retry doubles it (1s, 2s, 4s).")]
    public TimeSpan InitialDelay { get; init; } = TimeSpan.FromSeconds(1);
}

[Description("How to undo one step.")]
public sealed record RollbackSpec
{
    [Description("The undo action, e.g. unblock_ip, un_isolate_host.")]
    public required string ActionType { get; init; }

    [Description("The adapter that performs the undo action.")]
    public required string Adapter { get; init; }

    [Description("Parameters of the undo action (templates allowed).")]
    public IReadOnlyDictionary<string, JsonNode?> Params { get; init; } = new Dictionary<string, JsonNode?>();
}

[Description("LLM enrichment settings.")]
public sealed record EnrichmentSpec
{
    [Description("Turn enrichment on or off for this playbook.")]
    public bool Enabled { get; init; } = true;

    [Description("Provider name (openrouter or openai_compatible); the endpoint comes from configuration.")]
    public string? Provider { get; init; }

    [Description("Prompt templates that override the defaults.")]
    public IReadOnlyList<EnrichmentPrompt> Prompts { get; init; } = [];
}

[Description("One enrichment prompt.")]
public sealed record EnrichmentPrompt
{
    [Description("technique_context, investigation_steps or incident_summary.")]
    public required EnrichmentType Type { get; init; }

    [Description("Prompt template; alert values are inserted as data, never as instructions.")]
    public required string Template { get; init; }
}

[Description("DetectForge metadata: which Sigma rules suggest this playbook and which techniques it covers.")]
public sealed record DetectForgeLink
{
    [Description("Ids of Sigma rules whose x-detectforge.suggested_runbook names this playbook.")]
    public IReadOnlyList<string> SigmaRules { get; init; } = [];

    [Description("ATT&CK techniques the playbook responds to (as in the rule's x-detectforge.techniques).")]
    [Pattern(Playbook.TechniquePattern, "an ATT&CK technique id such as T1021 or T1021.001")]
    public IReadOnlyList<string> Techniques { get; init; } = [];

    [Description("Lowest DetectForge confidence (low, medium, high) at which the suggestion is followed.")]
    public Confidence? MinConfidence { get; init; }
}
