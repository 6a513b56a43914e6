using System.Text.Json.Nodes;
using RunbookPilot.Domain.Alerts;
using RunbookPilot.Domain.Matching;
using RunbookPilot.Engine.Configuration;
using RunbookPilot.Engine.ReadModel;

namespace RunbookPilot.Engine.Api;

/// <summary>
/// Why an alert ran what it ran: <see cref="Explanation"/> evaluates the stored alert against the playbooks in force
/// now; <see cref="RecordedStatus"/> and <see cref="RecordedPlaybooks"/> are what the intake decided when the alert
/// arrived (they differ when playbooks changed since), <see cref="Bindings"/> the binding and guardrail decisions it recorded.
/// </summary>
public sealed record AlertSelection(SelectionExplanation Explanation, string? RecordedStatus, IReadOnlyList<string> RecordedPlaybooks, IReadOnlyList<RunAuditRow> Bindings)
{
    public JsonObject ToJson() => new()
    {
        ["text"] = ToText(),
        ["alert_id"] = Explanation.AlertId,
        ["format"] = Explanation.Format,
        ["techniques"] = new JsonArray(Explanation.Techniques.Select(t => (JsonNode)t).ToArray()),
        ["rule_ids"] = new JsonArray(Explanation.RuleIds.Select(t => (JsonNode)t).ToArray()),
        ["severity"] = Explanation.Severity,
        ["selected"] = new JsonArray(Explanation.Selected.Select(p => (JsonNode)p.PlaybookId).ToArray()),
        ["near_misses"] = new JsonArray(Explanation.NearMisses.Select(p => (JsonNode)p).ToArray()),
        ["recorded"] = RecordedStatus is null ? null : new JsonObject
        {
            ["status"] = RecordedStatus,
            ["playbooks"] = new JsonArray(RecordedPlaybooks.Select(p => (JsonNode)p).ToArray()),
            ["bindings"] = new JsonArray(Bindings.Select(b => (JsonNode)new JsonObject
            {
                ["binding_id"] = b.BindingId, ["playbook_id"] = b.PlaybookId, ["mode"] = b.Mode, ["decision"] = b.Decision, ["reason"] = b.Reason, ["execution_id"] = b.ExecutionId,
            }).ToArray()),
        },
        ["playbooks"] = new JsonArray(Explanation.Playbooks.Select(v => (JsonNode)new JsonObject
        {
            ["playbook_id"] = v.PlaybookId, ["version"] = v.Version, ["selected"] = v.Selected, ["tier"] = v.Tier, ["why"] = v.Why,
            ["techniques_matched"] = new JsonArray(v.TechniquesMatched.Select(t => (JsonNode)t).ToArray()),
            ["conditions"] = new JsonArray(v.Conditions.Select(c => (JsonNode)new JsonObject
            {
                ["field"] = c.Field, ["operator"] = c.Operator, ["expected"] = c.Expected is null ? null : JsonNode.Parse(c.Expected), ["actual"] = c.Actual, ["holds"] = c.Holds,
            }).ToArray()),
            ["severity"] = v.Severity, ["severity_ok"] = v.SeverityOk,
        }).ToArray()),
    };

    public string ToText()
    {
        var text = Explanation.ToText();
        if (RecordedStatus is null) return text;
        var bindings = Bindings.Count == 0 ? "" : "\nbindings: " + string.Join("; ", Bindings.Select(b => $"{b.PlaybookId} {b.Mode}: {b.Decision}{(b.Reason is { } r ? " (" + r + ")" : "")}"));
        return text + $"recorded at intake: {RecordedStatus}" + (RecordedPlaybooks.Count > 0 ? $" → {string.Join(", ", RecordedPlaybooks)}" : "") + bindings + "\n";
    }
}

/// <summary>Selection explained, for an alert already received (by id) or a document (not submitted).</summary>
public sealed class SelectionApi(PlaybookCatalog catalog, ReadApi read)
{
    /// <summary>The explanation for a document, as it would be selected now; null with the problems when it is not a valid alert.</summary>
    public (AlertSelection? Selection, IReadOnlyList<string> Problems) Explain(JsonObject document)
    {
        var (alert, problems) = EcsValidator.Prepare(document, "$");
        return alert is null ? (null, problems.Select(p => $"{p.Path}: {p.Message}").ToList()) : (new AlertSelection(catalog.Current.Selector.Explain(alert), null, [], []), []);
    }

    /// <summary>The explanation for an alert received earlier, or null when no alert has that id.</summary>
    public async Task<AlertSelection?> ExplainAsync(string alertId, CancellationToken ct = default)
    {
        if (await read.EventAsync(alertId, ct).ConfigureAwait(false) is not { } row || JsonNode.Parse(row.Document) is not JsonObject document) return null;
        var explanation = catalog.Current.Selector.Explain(new Alert(row.AlertId, document, row.Format));
        var bindings = await read.RunAuditAsync(alertId, ct: ct).ConfigureAwait(false);
        return new AlertSelection(explanation, row.Status, row.Playbooks.Split(',', StringSplitOptions.RemoveEmptyEntries), bindings.Where(b => b.Phase == "decided").ToList());
    }
}
