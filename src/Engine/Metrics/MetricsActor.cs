using Akka.Actor;
using Prometheus;
using RunbookPilot.Engine.Execution;

namespace RunbookPilot.Engine.Metrics;

/// <summary>
/// Turns execution events into Prometheus instruments (served at /metrics by the host). Subscribes to the event stream,
/// so it sees every decision of every execution on this node as it is made.
/// </summary>
public sealed class MetricsActor : ReceiveActor
{
    private static readonly Counter Executions = Prometheus.Metrics.CreateCounter("runbookpilot_executions_total", "Executions started and finished, by playbook and outcome.", "playbook", "outcome");
    private static readonly Counter Steps = Prometheus.Metrics.CreateCounter("runbookpilot_steps_total", "Step results, by playbook, step and result.", "playbook", "step", "result");
    private static readonly Counter Approvals = Prometheus.Metrics.CreateCounter("runbookpilot_approvals_total", "Approval requests and decisions.", "playbook", "decision");
    private static readonly Histogram ApprovalSeconds = Prometheus.Metrics.CreateHistogram("runbookpilot_approval_decision_seconds", "Time from an approval request to its decision.",
        new HistogramConfiguration { LabelNames = ["decision"], Buckets = Histogram.ExponentialBuckets(1, 4, 10) });
    private static readonly Counter Rollbacks = Prometheus.Metrics.CreateCounter("runbookpilot_rollbacks_total", "Rolled back steps, by result.", "playbook", "result");
    private static readonly Counter Simulations = Prometheus.Metrics.CreateCounter("runbookpilot_simulations_total", "L2 simulations written and decided.", "playbook", "decision");
    private static readonly Histogram AdapterSeconds = Prometheus.Metrics.CreateHistogram("runbookpilot_adapter_call_seconds", "Duration of successful adapter calls.",
        new HistogramConfiguration { LabelNames = ["step"], Buckets = Histogram.ExponentialBuckets(0.005, 2, 14) });
    private static readonly Counter AdapterErrors = Prometheus.Metrics.CreateCounter("runbookpilot_adapter_errors_total", "Failed adapter attempts.", "step");

    private readonly Dictionary<string, DateTimeOffset> _requested = new(StringComparer.Ordinal);

    public MetricsActor()
    {
        Receive<ExecutionUpdated>(u =>
        {
            foreach (var e in u.Events) Count(u.PlaybookId, e);
        });
    }

    public static Props Props() => Akka.Actor.Props.Create<MetricsActor>();

    protected override void PreStart() => Context.System.EventStream.Subscribe(Self, typeof(ExecutionUpdated));

    private void Count(string playbook, IExecutionEvent e)
    {
        switch (e)
        {
            case ExecutionStarted:
                Executions.WithLabels(playbook, "started").Inc();
                break;
            case ExecutionCompleted c:
                Executions.WithLabels(playbook, c.Outcome.ToString().ToLowerInvariant()).Inc();
                break;
            case StepSucceeded s:
                Steps.WithLabels(playbook, s.StepId, "succeeded").Inc();
                AdapterSeconds.WithLabels(s.StepId).Observe(s.DurationMs / 1000.0);
                break;
            case StepAttemptFailed f:
                AdapterErrors.WithLabels(f.StepId).Inc();
                break;
            case StepFailed f:
                Steps.WithLabels(playbook, f.StepId, "failed").Inc();
                break;
            case StepRefused r:
                Steps.WithLabels(playbook, r.StepId, "refused").Inc();
                break;
            case ApprovalRequested a:
                Approvals.WithLabels(playbook, "requested").Inc();
                _requested[a.ApprovalId] = a.At;
                break;
            case StepApproved a:
                Decided(playbook, a.ApprovalId, "approved", a.At);
                break;
            case StepRejected r:
                Decided(playbook, r.ApprovalId, "rejected", r.At);
                break;
            case ApprovalExpired x:
                Decided(playbook, x.ApprovalId, "expired", x.At);
                break;
            case StepSimulated:
                Simulations.WithLabels(playbook, "simulated").Inc();
                break;
            case SimulationPromoted:
                Simulations.WithLabels(playbook, "executed").Inc();
                break;
            case SimulationDismissed:
                Simulations.WithLabels(playbook, "dismissed").Inc();
                break;
            case StepRolledBack:
                Rollbacks.WithLabels(playbook, "rolled_back").Inc();
                break;
            case StepRollbackFailed:
                Rollbacks.WithLabels(playbook, "failed").Inc();
                break;
        }
    }

    private void Decided(string playbook, string approvalId, string decision, DateTimeOffset at)
    {
        Approvals.WithLabels(playbook, decision).Inc();
        if (_requested.Remove(approvalId, out var requested)) ApprovalSeconds.WithLabels(decision).Observe((at - requested).TotalSeconds);
    }
}
