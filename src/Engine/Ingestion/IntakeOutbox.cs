using Akka.Event;
using Microsoft.Extensions.Logging;
using RunbookPilot.Domain.Bindings;
using RunbookPilot.Domain.Intake;
using RunbookPilot.Engine.Metrics;

namespace RunbookPilot.Engine.Ingestion;

/// <summary>
/// What the intake tells the world once a decision is durable: the audit notifications (for /ws and the dashboard),
/// the binding metrics, and the log lines for guardrail skips, opened circuits and kill switches.
/// </summary>
public sealed class IntakeOutbox(EventStream events, IntakeSettings settings)
{
    public void Decided(string alertId, IReadOnlyList<BindingDecision> decisions, BindingBook book, DateTimeOffset now)
    {
        foreach (var d in decisions)
        {
            settings.Metrics.Decided(d);
            events.Publish(new BindingAudited(alertId, d, false, d.StartsExecution ? null : d.Decision is BindingDecisionKind.Suggested, null));
            if (d.Decision.ToString().StartsWith("Skipped", StringComparison.Ordinal))
                settings.Log.LogInformation("Guardrail skip: alert {AlertId}, binding {BindingId}, playbook {PlaybookId}: {Decision} ({Reason})", alertId, d.BindingId, d.PlaybookId,
                    BindingDecision.Name(d.Decision), d.Reason);
            if (!d.OpensCircuit) continue;
            settings.Log.LogWarning("Circuit opened: binding {BindingId}, playbook {PlaybookId}, alert {AlertId}: guardrails kept tripping ({Reason}); it skips every alert until an operator resumes it",
                d.BindingId, d.PlaybookId, alertId, d.Reason);
            events.Publish(new ControlChanged("binding.circuit_opened",
                $"binding {d.BindingId} ({d.PlaybookId}): circuit opened — guardrails kept tripping ({d.Reason}); it skips every alert until an operator resumes it", now));
        }
        foreach (var id in decisions.Select(d => d.BindingId).OfType<int>().Distinct()) settings.Metrics.Refresh(book, id, now);
    }

    public void RunEnded(BindingRunEnded e, BindingBook book)
    {
        var success = e.Outcome == "completed";
        settings.Metrics.RunEnded(e.Mode, success);
        settings.Metrics.Refresh(book, e.BindingId, e.At);
        events.Publish(new BindingAudited(e.AlertId, IntakeDecider.Ended(e), true, success, e.At));
    }

    /// <summary>A kill switch changed: logged as a warning and published; returns how it reads.</summary>
    public string Paused(PauseChanged e)
    {
        var message = IntakeDecider.Describe(e);
        settings.Log.LogWarning("Kill switch: {Message}", message);
        events.Publish(new ControlChanged(e.Paused ? "paused" : "resumed", message, e.At));
        return message;
    }

    public BindingResult Saved(BindingSaved e, string by, BindingBook book)
    {
        settings.Metrics.Refresh(book, e.Binding.Id, e.At);
        settings.Log.LogInformation("Binding {BindingId} {Change} by {By}: {PlaybookId} in mode {Mode}", e.Binding.Id, e.Created ? "created" : "changed", by,
            e.Binding.PlaybookId, BindingDecision.Name(e.Binding.Mode));
        return new BindingResult(e.Binding, []);
    }

    public BindingResult Deleted(BindingDeleted e, PlaybookBinding binding, BindingBook book)
    {
        settings.Metrics.Refresh(book, e.BindingId, e.At);
        settings.Log.LogInformation("Binding {BindingId} ({PlaybookId}) deleted by {By}", e.BindingId, binding.PlaybookId, e.By);
        return new BindingResult(binding, []);
    }
}
