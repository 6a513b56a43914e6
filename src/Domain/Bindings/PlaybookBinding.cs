using System.ComponentModel;
using RunbookPilot.Domain.Alerts;
using RunbookPilot.Domain.Playbooks;
using RunbookPilot.Domain.Yaml;
using RunbookPilot.Domain.Core;

namespace RunbookPilot.Domain.Bindings;

/// <summary>
/// What a binding does when it fits an alert: <c>suggest</c> (an audit record and a notification; nothing runs),
/// <c>dry_run</c> (the playbook runs with every step sent to its adapter in dry-run), <c>auto_run</c> (the real execution;
/// the autonomy contract still holds — L1 waits for approval, L2 is simulated).
/// </summary>
public enum BindingMode { Suggest, DryRun, AutoRun }

/// <summary>Named guardrail sets (README "Guardrail presets"); values a binding sets itself win over the preset's.</summary>
public enum GuardrailPreset { SocHigh, CriticalEdge }

/// <summary>Which alerts a binding fits. Every list that is not empty must match; all lists empty = global (every alert).</summary>
[Description("Which alerts the binding fits; every non-empty list must match, all empty = global.")]
public sealed record BindingMatch
{
    [Description("Sigma / alert rule ids (rule.id or rule.uuid of the alert); one must match.")]
    public IReadOnlyList<string> RuleIds { get; init; } = [];

    [Description("Alert types (ECS event.category); one must match.")]
    public IReadOnlyList<string> AlertTypes { get; init; } = [];

    [Description("Severities (event.severity as low/medium/high/critical or Elastic's 0-100 bands); one must match.")]
    public IReadOnlyList<AlertSeverity> Severities { get; init; } = [];

    [Description("Tags (ECS tags); the alert must carry all of them.")]
    public IReadOnlyList<string> Tags { get; init; } = [];

    /// <summary>In one line, as the CLI and the dashboard show it: <c>rule=a|b severity=high tags=x+y</c>, or <c>global</c>.</summary>
    public string Describe()
    {
        var parts = new List<string>();
        if (RuleIds.Count > 0) parts.Add("rule=" + string.Join("|", RuleIds));
        if (AlertTypes.Count > 0) parts.Add("type=" + string.Join("|", AlertTypes));
        if (Severities.Count > 0) parts.Add("severity=" + string.Join("|", Severities.Select(s => s.ToString().ToLowerInvariant())));
        if (Tags.Count > 0) parts.Add("tags=" + string.Join("+", Tags));
        return parts.Count == 0 ? "global" : string.Join(" ", parts);
    }

    [System.Text.Json.Serialization.JsonIgnore]
    public bool IsGlobal => RuleIds.Count == 0 && AlertTypes.Count == 0 && Severities.Count == 0 && Tags.Count == 0;

    public bool Matches(Alert alert)
    {
        if (RuleIds.Count > 0 && !alert.RuleIds.Any(r => RuleIds.Contains(r, StringComparer.Ordinal))) return false;
        if (AlertTypes.Count > 0 && !AlertFields.Texts(alert.Document, "event.category").Any(c => AlertTypes.Contains(c, StringComparer.OrdinalIgnoreCase))) return false;
        if (Severities.Count > 0 && (alert.Severity is not { } severity || !Severities.Contains(severity))) return false;
        if (Tags.Count > 0)
        {
            var tags = AlertFields.Texts(alert.Document, "tags").ToHashSet(StringComparer.OrdinalIgnoreCase);
            if (!Tags.All(tags.Contains)) return false;
        }
        return true;
    }
}

[Description("Opens the binding's circuit (pauses it until an operator resumes it) when guardrails trip this often.")]
public sealed record CircuitSpec
{
    [Description("Guardrail trips (rate, concurrency or quota skips) that open the circuit.")]
    [Range(1, 1_000_000)]
    public required int Trips { get; init; }

    [Description("Within this window, such as 10m.")]
    public required TimeSpan Window { get; init; }
}

/// <summary>The limits of one binding. Null = unlimited. With <see cref="Key"/>, every limit applies per value of that alert field.</summary>
[Description("Guardrails: rate (token bucket), concurrency, daily quota, per-key limits, de-duplication window, circuit.")]
public sealed record GuardrailSpec
{
    [Description("Runs per minute, as a token bucket of this size refilled evenly over a minute.")]
    [Range(1, 1_000_000)]
    public int? MaxPerMinute { get; init; }

    [Description("Executions of this binding at once (until each completes, fails, is rejected, expires or is refused).")]
    [Range(1, 1_000_000)]
    public int? MaxConcurrent { get; init; }

    [Description("Runs per day (midnight to midnight in time_zone).")]
    [Range(1, 100_000_000)]
    public int? DailyQuota { get; init; }

    [Description("Alert field the limits apply per value of, such as host.name, source.ip or user.name.")]
    public string? Key { get; init; }

    [Description("Drop a repeat (same key) within this window, such as 10m.")]
    public TimeSpan? OnceWithin { get; init; }

    [Description("IANA time zone of the daily quota's day, such as Europe/Berlin. Default UTC.")]
    public string TimeZone { get; init; } = "UTC";

    [Description("Pause the binding when its guardrails keep tripping.")]
    public CircuitSpec? Circuit { get; init; }

    /// <summary>In one line, as the CLI and the dashboard show it: <c>10/min, 2 at once, 100/day, per host.name, once within 10m</c>.</summary>
    public string Describe()
    {
        var parts = new List<string>();
        if (MaxPerMinute is { } r) parts.Add($"{r}/min");
        if (MaxConcurrent is { } c) parts.Add($"{c} at once");
        if (DailyQuota is { } q) parts.Add($"{q}/day" + (TimeZone != "UTC" ? $" ({TimeZone})" : ""));
        if (Key is { } k) parts.Add($"per {k}");
        if (OnceWithin is { } w) parts.Add($"once within {YamlBinder.FormatDuration(w)}");
        if (Circuit is { } circuit) parts.Add($"circuit {circuit.Trips} trips/{YamlBinder.FormatDuration(circuit.Window)}");
        return parts.Count == 0 ? "none" : string.Join(", ", parts);
    }

    /// <summary>This spec over a preset: what the binding sets wins, the preset fills the rest.</summary>
    public GuardrailSpec Over(GuardrailSpec preset) => new()
    {
        MaxPerMinute = MaxPerMinute ?? preset.MaxPerMinute,
        MaxConcurrent = MaxConcurrent ?? preset.MaxConcurrent,
        DailyQuota = DailyQuota ?? preset.DailyQuota,
        Key = Key ?? preset.Key,
        OnceWithin = OnceWithin ?? preset.OnceWithin,
        TimeZone = TimeZone != "UTC" ? TimeZone : preset.TimeZone,
        Circuit = Circuit ?? preset.Circuit,
    };
}

/// <summary>A binding as teams write it (bindings.yaml, the REST/GraphQL body): which playbook, for which alerts, how, within which limits.</summary>
[Description("A playbook binding: which playbook runs for which alerts, in which mode, within which guardrails.")]
public sealed record BindingSpec
{
    [Description("Binding id; absent for a new binding (assigned on creation).")]
    [Range(1, int.MaxValue)]
    public int? Id { get; init; }

    [Description("The playbook to run.")]
    [Pattern(Playbook.IdPattern, "a playbook id such as lateral_movement_L1")]
    public required string PlaybookId { get; init; }

    [Description("suggest, dry_run or auto_run.")]
    public required BindingMode Mode { get; init; }

    public bool Enabled { get; init; } = true;

    [Description("Higher first when several bindings fit an alert.")]
    [Range(-1000, 1000)]
    public int Priority { get; init; }

    public string? Description { get; init; }

    public BindingMatch Match { get; init; } = new();

    [Description("soc_high or critical_edge: guardrail values the binding does not set itself.")]
    public GuardrailPreset? Preset { get; init; }

    public GuardrailSpec Guardrails { get; init; } = new();

    /// <summary>The guardrails in force: the binding's own over its preset's.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public GuardrailSpec Effective => Preset is { } p ? Guardrails.Over(Presets.Of(p)) : Guardrails;
}

/// <summary>A stored binding: its spec, who created and last changed it, and when.</summary>
public sealed record PlaybookBinding(int Id, BindingSpec Spec, string CreatedBy, DateTimeOffset CreatedAt, string UpdatedBy, DateTimeOffset UpdatedAt)
{
    [System.Text.Json.Serialization.JsonIgnore]
    public string PlaybookId => Spec.PlaybookId;

    [System.Text.Json.Serialization.JsonIgnore]
    public BindingMode Mode => Spec.Mode;
}

/// <summary>The file teams keep in git (<c>runbookpilot bindings export|import</c>).</summary>
[Description("Playbook bindings (runbookpilot bindings export / import).")]
public sealed record BindingsFile
{
    public IReadOnlyList<BindingSpec> Bindings { get; init; } = [];
}

/// <summary>
/// Guardrail presets (the seed's follow-up). SOC High: a busy, high-severity rule where analysts want automation but not
/// a flood — 30/min, 10 at once, 1,000 a day, per host, a repeat for the same host within 5 min dropped, paused after 20
/// trips in 10 min. Critical Edge: perimeter changes (firewall blocks, isolation) where blast radius matters — 5/min, 2 at
/// once, 50 a day, per source IP, one run per source IP per 30 min, paused after 5 trips in 10 min.
/// </summary>
public static class Presets
{
    public static readonly GuardrailSpec SocHigh = new()
    {
        MaxPerMinute = 30, MaxConcurrent = 10, DailyQuota = 1000, Key = "host.name", OnceWithin = TimeSpan.FromMinutes(5),
        Circuit = new CircuitSpec { Trips = 20, Window = TimeSpan.FromMinutes(10) },
    };

    public static readonly GuardrailSpec CriticalEdge = new()
    {
        MaxPerMinute = 5, MaxConcurrent = 2, DailyQuota = 50, Key = "source.ip", OnceWithin = TimeSpan.FromMinutes(30),
        Circuit = new CircuitSpec { Trips = 5, Window = TimeSpan.FromMinutes(10) },
    };

    public static GuardrailSpec Of(GuardrailPreset preset) => preset == GuardrailPreset.SocHigh ? SocHigh : CriticalEdge;

    public static string DisplayName(GuardrailPreset preset) => preset == GuardrailPreset.SocHigh ? "SOC High" : "Critical Edge";
}

/// <summary>Checks of meaning beyond shape: the playbook exists, the key is an alert field path, the time zone is known.</summary>
public static class BindingValidator
{
    public static IEnumerable<(string Path, string Message)> Check(BindingSpec spec, IReadOnlyCollection<string> playbookIds, string prefix = "")
    {
        if (!playbookIds.Contains(spec.PlaybookId))
            yield return (prefix + "playbook_id", $"no playbook '{spec.PlaybookId}' is loaded{DidYouMean.Hint(spec.PlaybookId, playbookIds)}");
        var g = spec.Guardrails;
        if (g.Key is { } key && !System.Text.RegularExpressions.Regex.IsMatch(key, @"^[A-Za-z_@][A-Za-z0-9_@]*(\.[A-Za-z_@][A-Za-z0-9_@]*)*$"))
            yield return (prefix + "guardrails.key", $"'{key}' is not an alert field path such as host.name, source.ip or user.name");
        if (!TryZone(g.TimeZone, out _))
            yield return (prefix + "guardrails.time_zone", $"unknown time zone '{g.TimeZone}' (an IANA name such as UTC or Europe/Berlin)");
        if (g.OnceWithin is { } w && (w <= TimeSpan.Zero || w > TimeSpan.FromDays(7)))
            yield return (prefix + "guardrails.once_within", "once_within must be more than 0 and at most 7d");
        if (g.Circuit is { } c && (c.Window <= TimeSpan.Zero || c.Window > TimeSpan.FromDays(1)))
            yield return (prefix + "guardrails.circuit.window", "the circuit window must be more than 0 and at most 1d");
    }

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, TimeZoneInfo> Zones = new(StringComparer.Ordinal);

    /// <summary>The IANA (or Windows) time zone, looked up once per known name (quota days are computed on every decision).</summary>
    public static bool TryZone(string id, out TimeZoneInfo zone)
    {
        if (!Zones.TryGetValue(id, out var found))
        {
            try
            {
                found = Zones[id] = TimeZoneInfo.FindSystemTimeZoneById(id);
            }
            catch (Exception ex) when (ex is TimeZoneNotFoundException or InvalidTimeZoneException)
            {
                found = null; // unknown names are not remembered: they come from people's input
            }
        }
        zone = found ?? TimeZoneInfo.Utc;
        return found is not null;
    }
}
