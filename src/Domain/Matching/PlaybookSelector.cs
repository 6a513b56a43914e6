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
