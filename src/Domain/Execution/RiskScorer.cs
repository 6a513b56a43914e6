using System.Text.Json.Nodes;
using RunbookPilot.Domain.Adapters;
using RunbookPilot.Domain.Alerts;
using RunbookPilot.Domain.Playbooks;
using RunbookPilot.Domain.Core;

namespace RunbookPilot.Domain.Execution;

/// <summary>
/// Risk score 1–10 of an L2 action, with the factors that made it (PRD F6.3). Deterministic and explainable:
/// the kind of action, how far its effect reaches, how strong the alert's evidence is, and whether the target looks
/// like shared infrastructure.
/// </summary>
public static class RiskScorer
{
    private static readonly Dictionary<string, string> Outcomes = new(StringComparer.Ordinal)
    {
        ["isolate_host"] = "Host isolated from the network; user sessions and services on it lose connectivity until containment is lifted",
        ["block_ip"] = "Traffic from and to the IP is dropped at the perimeter firewall",
        ["request"] = "The HTTP request is sent to the target service and changes its state",
        ["create_issue"] = "A ticket is created",
        ["add_sighting"] = "A sighting is recorded in MISP",
        ["kill_process"] = "The process is terminated on the host through a CrowdStrike RTR session; it is not restarted and its unsaved work is lost",
        ["add_rule"] = "A security rule is added to the firewall and committed; traffic from the source that reaches it gets the rule's action",
        ["trigger_incident"] = "An alert is opened in PagerDuty and the service's on-call responder is notified",
    };

    private static readonly string[] SharedInfrastructureHints = ["srv", "server", "dc", "sql", "db", "prod", "exchange", "fw", "vpn"];

    public static SimulationRecord Simulate(PlaybookStep step, JsonObject parameters, AdapterRequest? request, ActionDescriptor? action, Alert alert)
    {
        var factors = new List<string>();
        var kind = action?.Kind ?? ActionKind.Irreversible;
        var score = kind switch
        {
            ActionKind.ReadOnly => 1,
            ActionKind.Reversible => 4,
            _ => 5,
        };
        factors.Add(kind switch
        {
            ActionKind.ReadOnly => "read-only action (base 1)",
            ActionKind.Reversible => "reversible action, rollback available (base 4)",
            _ => "irreversible action, no rollback (base 5)",
        });
        if (step.ActionType == "isolate_host")
        {
            score += 2;
            factors.Add("isolation cuts every connection of the host (+2)");
        }
        if (step.ActionType == "request" || step.Adapter == "http")
        {
            score += 2;
            factors.Add("generic HTTP call to a shared service may affect many users (+2)");
        }
        var target = AlertFields.AsText(parameters["hostname"]) ?? AlertFields.AsText(parameters["host"]) ?? "";
        if (target.Length > 0 && SharedInfrastructureHints.Any(h => target.Contains(h, StringComparison.OrdinalIgnoreCase)))
        {
            score += 2;
            factors.Add($"target '{target}' looks like shared infrastructure (+2)");
        }
        switch (alert.Severity)
        {
            case AlertSeverity.Critical:
                score -= 1;
                factors.Add("critical alert: strong evidence (-1)");
                break;
            case AlertSeverity.Low or AlertSeverity.Medium:
                score += 1;
                factors.Add("low/medium alert severity: higher false-positive risk (+1)");
                break;
            case null:
                score += 1;
                factors.Add("alert has no severity (+1)");
                break;
        }
        score = Math.Clamp(score, 1, 10);
        var outcome = Outcomes.GetValueOrDefault(step.ActionType) ?? action?.Description ?? step.Name;
        var recommendation = score >= 7
            ? "Review the evidence gathered by the earlier steps and the user's recent activity before executing"
            : "Execute if the evidence supports it; the action can be reviewed in the timeline";
        return new SimulationRecord(step.Adapter, step.ActionType, request, parameters, outcome, score, factors, recommendation);
    }
}
