using System.Text.Json.Nodes;
using RunbookPilot.Domain.Alerts;
using RunbookPilot.Domain.Execution;
using RunbookPilot.Engine.Enrichment;

namespace RunbookPilot.Engine.Api;

/// <summary>An enrichment as every front end shows it: AI-GENERATED text, or "enrichment unavailable" with the reason.</summary>
public sealed record EnrichmentView(string Label, string Type, string Status, string? Text, string? Reason, string Model, bool Cached, DateTimeOffset At)
{
    public static EnrichmentView Of(EnrichmentAttached e) =>
        new(e.Status == "ready" ? EnrichmentAttached.AiLabel : "enrichment unavailable", e.Type, e.Status, e.Text, e.Reason, e.Model, e.Cached, e.At);
}

public static class Presenters
{
    /// <summary>An alert in one line: techniques, rule, who talked to whom, where (control characters removed).</summary>
    public static string AlertLine(JsonObject alert)
    {
        var parts = new List<string>();
        var techniques = AlertFields.Texts(alert, "threat.technique.subtechnique.id").Concat(AlertFields.Texts(alert, "threat.technique.id")).Distinct().Take(2).ToList();
        if (techniques.Count > 0) parts.Add(string.Join("/", techniques));
        if ((AlertFields.Text(alert, "rule.name") ?? AlertFields.Text(alert, "rule.id")) is { } rule) parts.Add($"rule {rule}");
        if (AlertFields.Text(alert, "source.ip") is { } src) parts.Add($"from {src}");
        if (AlertFields.Text(alert, "destination.ip") is { } dst) parts.Add($"to {dst}");
        if ((AlertFields.Text(alert, "host.name") ?? AlertFields.Text(alert, "source.host.name")) is { } host) parts.Add($"on {host}");
        if (AlertFields.Text(alert, "user.name") is { } user) parts.Add($"user {user}");
        var line = parts.Count > 0 ? string.Join(" ", parts) : AlertFields.Text(alert, "event.id") ?? "alert";
        return PromptBuilder.Clean(line);
    }
}
