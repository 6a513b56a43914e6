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

/// <summary>
/// What became of an alert, as the alerts list shows it: <see cref="Decision"/> is one of ran, dry-run, suggested,
/// skipped by guardrail, held, failed, no match, unrecognised format (or deciding, before the intake's decision is
/// projected); <see cref="Detail"/> says which playbook and why (the guardrail's reason, the near misses).
/// </summary>
public sealed record AlertFate(EventRow Row, DateTimeOffset Time, string Rule, string? Host, string? User, string? SourceIp, string Decision, string Detail)
{
    /// <summary>The execution the headline decision started, and where it stands now (ran is not done: it may wait for an approval).</summary>
    public string? ExecutionId { get; init; }
    public string? ExecutionStatus { get; init; }

    /// <summary>Shown in red: nothing ran although something was meant to, or the alert could not be read.</summary>
    public bool Problem => Decision is "failed" or "unrecognised format";
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

    /// <summary>The newest alerts and what became of each (one query for the alerts, one for their binding decisions).</summary>
    public async Task<IReadOnlyList<AlertFate>> FatesAsync(int limit, CancellationToken ct = default)
    {
        var rows = await read.EventsAsync(limit, ct).ConfigureAwait(false);
        var decisions = read.Tables.DecisionsFor(rows.Select(r => r.AlertId).ToList()).ToLookup(d => d.AlertId, StringComparer.Ordinal);
        var fates = rows.Select(r => Fate(r, decisions[r.AlertId].ToList())).ToList();
        var status = read.Tables.StatusOf(fates.Select(f => f.ExecutionId).OfType<string>().ToList());
        return fates.Select(f => f.ExecutionId is { } id ? f with { ExecutionStatus = status.GetValueOrDefault(id, "starting") } : f).ToList();
    }

    /// <summary>Which of an alert's decisions the list shows first: what acted before what only reported or was held back.</summary>
    private static int Rank(string kind) => kind switch
    {
        "ran" => 0, "dry-run" => 1, "failed" => 2, "held" => 3, "suggested" => 4, "skipped by guardrail" => 5, _ => 6,
    };

    private AlertFate Fate(EventRow row, List<RunAuditRow> decided)
    {
        var document = JsonNode.Parse(row.Document) as JsonObject ?? [];
        string? Text(string path) => AlertFields.Text(document, path);
        var rule = Text("rule.name") ?? Text("kibana.alert.rule.name") ?? Text("threat.technique.id") ?? "-";
        var (decision, detail) = row.Status switch
        {
            "unrecognised_format" => ("unrecognised format", "no normaliser recognised the document"),
            "no_match" => ("no match", catalog.Current.Selector.Explain(new Alert(row.AlertId, document, row.Format)).NearMisses is { Count: > 0 } near
                ? "near misses: " + string.Join(", ", near) : "no playbook is close"),
            _ when decided.Count == 0 => ("deciding", "selected: " + row.Playbooks),
            _ => (decided.Select(d => Kind(d.Decision)).OrderBy(Rank).First(),
                string.Join("; ", decided.Select(d => $"{d.PlaybookId}: {Kind(d.Decision)}{(d.Reason is { } why ? " (" + why + ")" : "")}"))),
        };
        var headline = decided.Where(d => Kind(d.Decision) == decision && d.ExecutionId is not null).Select(d => d.ExecutionId).FirstOrDefault();
        return new AlertFate(row, row.AlertTime ?? row.ReceivedAt, rule, Text("host.name") ?? Text("host.hostname"), Text("user.name"), Text("source.ip"), decision, detail)
        {
            ExecutionId = headline,
        };
    }

    /// <summary>A recorded binding decision as the list names it.</summary>
    private static string Kind(string decision) => decision switch
    {
        "ran" => "ran",
        "dry_ran" => "dry-run",
        "suggested" => "suggested",
        "held" => "held",
        "failed" => "failed",
        "skipped_disabled" => "skipped (binding off)",
        _ when decision.StartsWith("skipped", StringComparison.Ordinal) => "skipped by guardrail",
        _ => decision,
    };

    /// <summary>The explanation for an alert received earlier, or null when no alert has that id.</summary>
    public async Task<AlertSelection?> ExplainAsync(string alertId, CancellationToken ct = default)
    {
        if (await read.EventAsync(alertId, ct).ConfigureAwait(false) is not { } row || JsonNode.Parse(row.Document) is not JsonObject document) return null;
        var explanation = catalog.Current.Selector.Explain(new Alert(row.AlertId, document, row.Format));
        var bindings = await read.RunAuditAsync(alertId, ct: ct).ConfigureAwait(false);
        return new AlertSelection(explanation, row.Status, row.Playbooks.Split(',', StringSplitOptions.RemoveEmptyEntries), bindings.Where(b => b.Phase == "decided").ToList());
    }
}
