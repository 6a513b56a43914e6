using RunbookPilot.Domain.Alerts;
using RunbookPilot.Domain.Playbooks;

namespace RunbookPilot.Domain.Matching;

/// <summary>Why a playbook was selected, in the order the design tries them.</summary>
public enum SelectionReason { SigmaSuggested, RuleId, Technique, Conditions }

public sealed record Selection(Playbook Playbook, SelectionReason Reason, string Detail);

/// <summary>
/// Picks the playbooks for an alert (PRD F3.2, F10; design "How an alert flows" step 2), stopping at the first tier
/// that selects anything: (1) the <c>x-detectforge.suggested_runbook</c> of the Sigma rule the alert names, and
/// playbooks whose <c>trigger.rules</c> name that rule; (2) ATT&amp;CK techniques — the alert's own, plus those of
/// its Sigma rule — against <c>trigger.techniques</c> (a parent id matches its sub-techniques), with the playbook's
/// conditions and severity as filters; (3) playbooks without techniques whose conditions hold. Indexed at
/// construction so selection costs a few dictionary look-ups plus the conditions of candidate playbooks.
/// </summary>
public sealed class PlaybookSelector
{
    private readonly Dictionary<string, Playbook> _byId = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<Playbook>> _byRule = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, List<Playbook>> _byTechnique = new(StringComparer.OrdinalIgnoreCase);
    private readonly List<Playbook> _conditionOnly = [];
    private readonly Dictionary<Playbook, CompiledCondition[]> _conditions = new(ReferenceEqualityComparer.Instance);
    private readonly SigmaIndex _sigma;

    public PlaybookSelector(IEnumerable<Playbook> playbooks, SigmaIndex sigma)
    {
        _sigma = sigma;
        foreach (var pb in playbooks)
        {
            _byId[pb.Id] = pb;
            _conditions[pb] = pb.Trigger.Conditions.Select(c => new CompiledCondition(c)).ToArray();
            foreach (var rule in pb.Trigger.Rules) Add(_byRule, rule, pb);
            foreach (var technique in pb.Trigger.Techniques) Add(_byTechnique, technique, pb);
            if (pb.Trigger.Techniques.Count == 0 && pb.Trigger.Conditions.Count > 0) _conditionOnly.Add(pb);
        }
    }

    public IReadOnlyList<Selection> Select(Alert alert)
    {
        var selected = new List<Selection>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var ruleTechniques = new List<string>();

        foreach (var ruleId in alert.RuleIds)
        {
            if (_sigma.Find(ruleId) is { } rule)
            {
                ruleTechniques.AddRange(rule.Techniques);
                ruleTechniques.AddRange(rule.DetectForgeTechniques);
                if (rule.SuggestedRunbook is { } suggested && _byId.TryGetValue(suggested, out var pb) && ConfidenceOk(pb, rule.Confidence) && seen.Add(pb.Id))
                    selected.Add(new Selection(pb, SelectionReason.SigmaSuggested, $"Sigma rule {rule.Id} suggests {pb.Id}"));
            }
            if (_byRule.TryGetValue(ruleId, out var byRule))
                foreach (var pb in byRule)
                    if (seen.Add(pb.Id)) selected.Add(new Selection(pb, SelectionReason.RuleId, $"trigger.rules names {ruleId}"));
        }
        if (selected.Count > 0) return selected;

        foreach (var technique in alert.Techniques.Concat(ruleTechniques).Distinct(StringComparer.OrdinalIgnoreCase))
        {
            // T1021.001 matches playbooks listing T1021.001 or its parent T1021.
            var dot = technique.IndexOf('.', StringComparison.Ordinal);
            foreach (var key in dot > 0 ? new[] { technique, technique[..dot] } : [technique])
            {
                if (!_byTechnique.TryGetValue(key, out var candidates)) continue;
                foreach (var pb in candidates)
                    if (!seen.Contains(pb.Id) && Filters(pb, alert) && seen.Add(pb.Id))
                        selected.Add(new Selection(pb, SelectionReason.Technique, $"technique {technique} matches {key}"));
            }
        }
        if (selected.Count > 0) return selected;

        foreach (var pb in _conditionOnly)
            if (Filters(pb, alert)) selected.Add(new Selection(pb, SelectionReason.Conditions, "trigger conditions hold"));
        return selected;
    }

    /// <summary>
    /// Why each playbook was selected or not for this alert: the tier that decided, the techniques that matched, each
    /// condition with the alert's actual value (or "field absent"), the severity threshold. Playbooks that were not
    /// selected but came close (a technique matched, or a condition held) are the near misses, closest first.
    /// </summary>
    public SelectionExplanation Explain(Alert alert)
    {
        var selected = Select(alert);
        var ruleTechniques = alert.RuleIds.Select(_sigma.Find).OfType<SigmaRule>().SelectMany(r => r.Techniques.Concat(r.DetectForgeTechniques)).ToList();
        var alertTechniques = alert.Techniques.Concat(ruleTechniques).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
        var verdicts = new List<PlaybookVerdict>();
        foreach (var pb in _byId.Values.OrderBy(p => p.Id, StringComparer.Ordinal))
        {
            var hits = alertTechniques.Where(t => pb.Trigger.Techniques.Any(w => string.Equals(w, t, StringComparison.OrdinalIgnoreCase)
                || (t.IndexOf('.', StringComparison.Ordinal) is var dot and > 0 && string.Equals(w, t[..dot], StringComparison.OrdinalIgnoreCase)))).ToList();
            var checks = _conditions[pb].Select(c => new ConditionCheck(c.Condition.Field, ModelName(c.Condition.Operator.ToString()), c.Condition.Value?.ToJsonString(),
                AlertFields.Values(alert.Document, c.Condition.Field) is { Count: > 0 } values ? string.Join(", ", values.Select(v => AlertFields.AsText(v) ?? v.ToJsonString())) : null,
                c.Holds(alert))).ToList();
            var severityOk = pb.Trigger.Severity is not { } min || alert.Severity is { } s && s >= min;
            var severity = pb.Trigger.Severity is { } need
                ? $"needs {ModelName(need.ToString())} or higher; the alert's is {(alert.Severity is { } have ? ModelName(have.ToString()) : "absent")}"
                : null;
            var conditionsOk = checks.Count == 0 || (pb.Trigger.Match == MatchMode.All ? checks.All(c => c.Holds) : checks.Any(c => c.Holds));
            var pick = selected.FirstOrDefault(x => x.Playbook.Id == pb.Id);
            var trigger = pb.Trigger;
            string why;
            if (pick is not null) why = pick.Detail;
            else if (trigger.Techniques.Count == 0 && trigger.Conditions.Count == 0 && trigger.Rules.Count == 0)
                why = "its trigger names no rule, technique or condition, so no alert selects it";
            else if (trigger.Techniques.Count == 0 && trigger.Conditions.Count == 0)
                why = $"the alert names none of its rules ({string.Join(", ", trigger.Rules)})";
            else if (trigger.Techniques.Count > 0 && hits.Count == 0)
                why = $"no technique matches: the playbook wants {string.Join(", ", trigger.Techniques)}; the alert has {(alertTechniques.Count > 0 ? string.Join(", ", alertTechniques) : "none")}";
            else if (!severityOk) why = "severity: " + severity;
            else if (!conditionsOk)
                why = (trigger.Match == MatchMode.All ? "condition failed: " : "no condition holds: ")
                    + string.Join("; ", checks.Where(c => !c.Holds).Select(c => c.Describe()));
            else if (selected.Count > 0) why = $"not needed: an earlier tier selected {string.Join(", ", selected.Select(x => x.Playbook.Id))} ({ModelName(selected[0].Reason.ToString())})";
            else why = "not selected";
            // A Sigma suggestion refused for its confidence is said, whatever else decided.
            foreach (var rule in alert.RuleIds.Select(_sigma.Find).OfType<SigmaRule>().Where(r => r.SuggestedRunbook == pb.Id && !ConfidenceOk(pb, r.Confidence)))
                why += $"; Sigma rule {rule.Id} suggests it, but its confidence ({rule.Confidence ?? "none"}) is below the playbook's min_confidence ({ModelName(pb.DetectForge!.MinConfidence.ToString()!)})";
            verdicts.Add(new PlaybookVerdict(pb.Id, pb.Version, pick is not null, pick is null ? null : ModelName(pick.Reason.ToString()), why, hits, checks, severity, severityOk));
        }
        // Close: its technique matched (a playbook with techniques), or one of its conditions held (a playbook without).
        var near = verdicts.Where(v => !v.Selected && (v.TechniquesMatched.Count > 0 || _byId[v.PlaybookId].Trigger.Techniques.Count == 0 && v.Conditions.Any(c => c.Holds)))
            .OrderByDescending(v => v.TechniquesMatched.Count > 0).ThenBy(v => v.Conditions.Count(c => !c.Holds) + (v.SeverityOk ? 0 : 1)).ThenBy(v => v.PlaybookId, StringComparer.Ordinal)
            .Select(v => v.PlaybookId).ToList();
        return new SelectionExplanation(alert.Id, alert.Format, alertTechniques, alert.RuleIds.ToList(), alert.Severity is { } sv ? ModelName(sv.ToString()) : null, verdicts, near);
    }

    private static string ModelName(string pascal) => Yaml.ModelShape.SnakeCase(pascal);

    private bool Filters(Playbook pb, Alert alert)
    {
        if (pb.Trigger.Severity is { } min && (alert.Severity is not { } severity || severity < min)) return false;
        var conditions = _conditions[pb];
        if (conditions.Length == 0) return true;
        return pb.Trigger.Match == MatchMode.All ? conditions.All(c => c.Holds(alert)) : conditions.Any(c => c.Holds(alert));
    }

    private static bool ConfidenceOk(Playbook pb, string? confidence)
    {
        if (pb.DetectForge?.MinConfidence is not { } min) return true;
        return Enum.TryParse<Confidence>(confidence, ignoreCase: true, out var c) && c >= min;
    }

    private static void Add(Dictionary<string, List<Playbook>> index, string key, Playbook pb)
    {
        if (!index.TryGetValue(key, out var list)) index[key] = list = [];
        list.Add(pb);
    }
}

/// <summary>One trigger condition checked against an alert: the alert's actual value, or null when the field is absent.</summary>
public sealed record ConditionCheck(string Field, string Operator, string? Expected, string? Actual, bool Holds)
{
    public string Describe() => $"{Field} {Operator} {Expected ?? "true"}: {(Actual is null ? "field absent" : "the alert has " + Actual)}";
}

/// <summary>Why one playbook was selected for an alert or not (<see cref="PlaybookSelector.Explain"/>).</summary>
public sealed record PlaybookVerdict(string PlaybookId, string Version, bool Selected, string? Tier, string Why, IReadOnlyList<string> TechniquesMatched,
    IReadOnlyList<ConditionCheck> Conditions, string? Severity, bool SeverityOk);

/// <summary>Every playbook's verdict for one alert, and the near misses when nothing (or not everything) matched.</summary>
public sealed record SelectionExplanation(string AlertId, string Format, IReadOnlyList<string> Techniques, IReadOnlyList<string> RuleIds, string? Severity,
    IReadOnlyList<PlaybookVerdict> Playbooks, IReadOnlyList<string> NearMisses)
{
    public IEnumerable<PlaybookVerdict> Selected => Playbooks.Where(p => p.Selected);

    /// <summary>Plain text, as <c>runbookpilot explain</c> prints it.</summary>
    public string ToText()
    {
        var sb = new System.Text.StringBuilder();
        sb.AppendLine($"alert {AlertId} ({Format}) · techniques: {(Techniques.Count > 0 ? string.Join(", ", Techniques) : "none")} · rules: {(RuleIds.Count > 0 ? string.Join(", ", RuleIds) : "none")} · severity: {Severity ?? "absent"}");
        var selected = Selected.ToList();
        if (Format == AlertNormalizers.Unrecognised)
            sb.AppendLine("unrecognised format: no normaliser (Elastic, Splunk, Sentinel, Chronicle, Sumo Logic) claims this document and it has no ECS field, so nothing in it could be read");
        sb.AppendLine(selected.Count > 0 ? $"selected: {string.Join(", ", selected.Select(p => $"{p.PlaybookId} ({p.Tier}: {p.Why})"))}" : "no playbook matched");
        var misses = NearMisses.Select(id => Playbooks.First(p => p.PlaybookId == id)).ToList();
        if (misses.Count > 0) sb.AppendLine("near misses:");
        foreach (var v in misses) sb.AppendLine($"  {v.PlaybookId}: {v.Why}");
        sb.AppendLine("every playbook:");
        foreach (var v in Playbooks)
        {
            sb.AppendLine($"  {(v.Selected ? "✓" : "✗")} {v.PlaybookId} {v.Version}: {v.Why}");
            foreach (var c in v.Conditions) sb.AppendLine($"      {(c.Holds ? "holds" : "fails")}  {c.Describe()}");
            if (v.Severity is { } s) sb.AppendLine($"      {(v.SeverityOk ? "holds" : "fails")}  severity {s}");
        }
        return sb.ToString();
    }
}
