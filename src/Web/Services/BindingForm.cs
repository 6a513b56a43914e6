using RunbookPilot.Domain.Bindings;
using RunbookPilot.Domain.Playbooks;
using RunbookPilot.Domain.Yaml;
using RunbookPilot.Domain.Core;

namespace RunbookPilot.Web.Services;

/// <summary>The rule editor's form: text fields as people type them, turned into a binding (or the fields that are wrong).</summary>
public sealed class BindingForm
{
    public int? Id { get; set; }
    public string? PlaybookId { get; set; }
    public BindingMode Mode { get; set; } = BindingMode.Suggest;
    public string? Preset { get; set; }
    public string? RuleIds { get; set; }
    public string? AlertTypes { get; set; }
    public string? Severities { get; set; }
    public string? Tags { get; set; }
    public int? MaxPerMinute { get; set; }
    public int? MaxConcurrent { get; set; }
    public int? DailyQuota { get; set; }
    public string? Key { get; set; }
    public string? OnceWithin { get; set; }
    public string? TimeZone { get; set; } = "UTC";
    public int Priority { get; set; }
    public bool Enabled { get; set; } = true;
    public string? Description { get; set; }

    public static BindingForm From(PlaybookBinding b)
    {
        var s = b.Spec;
        return new BindingForm
        {
            Id = b.Id, PlaybookId = s.PlaybookId, Mode = s.Mode, Preset = s.Preset is { } p ? ModelShape.SnakeCase(p.ToString()) : null,
            RuleIds = string.Join(", ", s.Match.RuleIds), AlertTypes = string.Join(", ", s.Match.AlertTypes),
            Severities = string.Join(", ", s.Match.Severities.Select(x => x.ToString().ToLowerInvariant())), Tags = string.Join(", ", s.Match.Tags),
            MaxPerMinute = s.Guardrails.MaxPerMinute, MaxConcurrent = s.Guardrails.MaxConcurrent, DailyQuota = s.Guardrails.DailyQuota, Key = s.Guardrails.Key,
            OnceWithin = s.Guardrails.OnceWithin is { } w ? YamlBinder.FormatDuration(w) : null, TimeZone = s.Guardrails.TimeZone, Priority = s.Priority,
            Enabled = s.Enabled, Description = s.Description,
        };
    }

    /// <summary>The binding, or null with the problems by field path (as the engine names them).</summary>
    public BindingSpec? ToSpec(out Dictionary<string, string> problems)
    {
        problems = [];
        static List<string> List(string? text) => (text ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
        if (string.IsNullOrWhiteSpace(PlaybookId)) problems["playbook_id"] = "choose a playbook";
        var severities = new List<AlertSeverity>();
        foreach (var s in List(Severities))
        {
            if (Enum.TryParse<AlertSeverity>(s, true, out var v) && Enum.IsDefined(v)) severities.Add(v);
            else problems["severities"] = $"'{s}' is not low, medium, high or critical";
        }
        TimeSpan? window = null;
        if (!string.IsNullOrWhiteSpace(OnceWithin))
        {
            if (YamlBinder.TryParseDuration(OnceWithin.Trim(), out var w)) window = w;
            else problems["guardrails.once_within"] = "a duration such as 30s, 10m or 4h";
        }
        foreach (var (name, value) in new[] { ("guardrails.max_per_minute", MaxPerMinute), ("guardrails.max_concurrent", MaxConcurrent), ("guardrails.daily_quota", DailyQuota) })
            if (value is < 1) problems[name] = "at least 1, or empty for unlimited";
        if (problems.Count > 0) return null;
        return new BindingSpec
        {
            Id = Id, PlaybookId = PlaybookId!.Trim(), Mode = Mode, Enabled = Enabled, Priority = Priority, Description = string.IsNullOrWhiteSpace(Description) ? null : Description,
            Preset = Preset switch { "soc_high" => GuardrailPreset.SocHigh, "critical_edge" => GuardrailPreset.CriticalEdge, _ => null },
            Match = new BindingMatch { RuleIds = List(RuleIds), AlertTypes = List(AlertTypes), Severities = severities, Tags = List(Tags) },
            Guardrails = new GuardrailSpec
            {
                MaxPerMinute = MaxPerMinute, MaxConcurrent = MaxConcurrent, DailyQuota = DailyQuota, Key = string.IsNullOrWhiteSpace(Key) ? null : Key.Trim(),
                OnceWithin = window, TimeZone = string.IsNullOrWhiteSpace(TimeZone) ? "UTC" : TimeZone.Trim(),
            },
        };
    }
}
