using Prometheus;
using RunbookPilot.Domain.Bindings;

namespace RunbookPilot.Engine.Metrics;

/// <summary>The binding instruments exactly as the phase-7B seed names them, updated by the alert intake as decisions are journaled.</summary>
public sealed class BindingMetrics(IMetricFactory factory)
{
    private readonly Counter _decisions = factory.CreateCounter("playbook_binding_decisions_total", "Binding decisions, by mode and decision.", ["mode", "decision"]);
    private readonly Counter _runs = factory.CreateCounter("playbook_binding_runs_total", "Binding runs that ended, by mode and success.", ["mode", "success"]);
    private readonly Gauge _inFlight = factory.CreateGauge("playbook_binding_inflight", "Runs of a binding in flight (its concurrency in use).", ["binding_id"]);
    private readonly Gauge _quota = factory.CreateGauge("playbook_binding_quota_remaining", "Runs left today for a binding; -1 for unlimited.", ["binding_id"]);
    private readonly Histogram _latency = factory.CreateHistogram("playbook_binding_evaluate_latency_seconds", "Time to evaluate one binding for one alert.",
        new HistogramConfiguration { LabelNames = ["mode"], Buckets = Histogram.ExponentialBuckets(0.000_001, 4, 12) });

    public void Decided(BindingDecision d) => _decisions.WithLabels(BindingDecision.Name(d.Mode), BindingDecision.Name(d.Decision)).Inc();

    public void RunEnded(BindingMode mode, bool success) => _runs.WithLabels(BindingDecision.Name(mode), success ? "true" : "false").Inc();

    public void Evaluated(BindingMode mode, double seconds) => _latency.WithLabels(BindingDecision.Name(mode)).Observe(seconds);

    /// <summary>Sets the gauges of one binding from the book.</summary>
    public void Refresh(BindingBook book, int bindingId, DateTimeOffset now)
    {
        var label = bindingId.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (book.Find(bindingId) is null)
        {
            _inFlight.RemoveLabelled(label);
            _quota.RemoveLabelled(label);
            return;
        }
        _inFlight.WithLabels(label).Set(book.InFlightCount(bindingId));
        _quota.WithLabels(label).Set(book.QuotaRemaining(bindingId, now));
    }
}
