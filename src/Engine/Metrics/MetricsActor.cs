using Akka.Actor;
using Prometheus;
using RunbookPilot.Domain.Execution;
using RunbookPilot.Engine.Execution;

namespace RunbookPilot.Engine.Metrics;

/// <summary>
/// Turns execution events into Prometheus instruments (served at /metrics by the host). Subscribes to the event stream,
/// so it sees every decision of every execution on this node as it is made.
/// </summary>
public sealed class MetricsActor : ReceiveActor
{
    private readonly Counter _executions;
    private readonly Counter _steps;
    private readonly Counter _approvals;
    private readonly Histogram _approvalSeconds;
    private readonly Counter _rollbacks;
    private readonly Counter _simulations;
    private readonly Histogram _adapterSeconds;
    private readonly Counter _adapterErrors;
    private readonly Dictionary<string, DateTimeOffset> _requested = new(StringComparer.Ordinal);

    public MetricsActor(IMetricFactory f)
    {
        _executions = f.CreateCounter("runbookpilot_executions_total", "Executions started and finished, by playbook and outcome.", ["playbook", "outcome"]);
        _steps = f.CreateCounter("runbookpilot_steps_total", "Step results, by playbook, step and result.", ["playbook", "step", "result"]);
        _approvals = f.CreateCounter("runbookpilot_approvals_total", "Approval requests and decisions.", ["playbook", "decision"]);
        _approvalSeconds = f.CreateHistogram("runbookpilot_approval_decision_seconds", "Time from an approval request to its decision.",
            new HistogramConfiguration { LabelNames = ["decision"], Buckets = Histogram.ExponentialBuckets(1, 4, 10) });
        _rollbacks = f.CreateCounter("runbookpilot_rollbacks_total", "Rolled back steps, by result.", ["playbook", "result"]);
        _simulations = f.CreateCounter("runbookpilot_simulations_total", "L2 simulations written and decided.", ["playbook", "decision"]);
        _adapterSeconds = f.CreateHistogram("runbookpilot_adapter_call_seconds", "Duration of successful adapter calls.",
            new HistogramConfiguration { LabelNames = ["step"], Buckets = Histogram.ExponentialBuckets(0.005, 2, 14) });
        _adapterErrors = f.CreateCounter("runbookpilot_adapter_errors_total", "Failed adapter attempts.", ["step"]);
        Receive<ExecutionUpdated>(u =>
        {
            foreach (var e in u.Events) Count(u.PlaybookId, e);
        });
    }

    public static Props Props(IMetricFactory factory) => Akka.Actor.Props.Create(() => new MetricsActor(factory));

    protected override void PreStart() => Context.System.EventStream.Subscribe(Self, typeof(ExecutionUpdated));

    private void Count(string playbook, IExecutionEvent e)
    {
        switch (e)
        {
            case ExecutionStarted:
                _executions.WithLabels(playbook, "started").Inc();
                break;
            case ExecutionCompleted c:
                _executions.WithLabels(playbook, c.Outcome.ToString().ToLowerInvariant()).Inc();
                break;
            case StepSucceeded s:
                _steps.WithLabels(playbook, s.StepId, "succeeded").Inc();
                _adapterSeconds.WithLabels(s.StepId).Observe(s.DurationMs / 1000.0);
                break;
            case StepAttemptFailed f:
                _adapterErrors.WithLabels(f.StepId).Inc();
                break;
            case StepFailed f:
                _steps.WithLabels(playbook, f.StepId, "failed").Inc();
                break;
            case StepRefused r:
                _steps.WithLabels(playbook, r.StepId, "refused").Inc();
                break;
            case ApprovalRequested a:
                _approvals.WithLabels(playbook, "requested").Inc();
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
                _simulations.WithLabels(playbook, "simulated").Inc();
                break;
            case SimulationPromoted:
                _simulations.WithLabels(playbook, "executed").Inc();
                break;
            case SimulationDismissed:
                _simulations.WithLabels(playbook, "dismissed").Inc();
                break;
            case StepRolledBack:
                _rollbacks.WithLabels(playbook, "rolled_back").Inc();
                break;
            case StepRollbackFailed:
                _rollbacks.WithLabels(playbook, "failed").Inc();
                break;
        }
    }

    private void Decided(string playbook, string approvalId, string decision, DateTimeOffset at)
    {
        _approvals.WithLabels(playbook, decision).Inc();
        if (_requested.Remove(approvalId, out var requested)) _approvalSeconds.WithLabels(decision).Observe((at - requested).TotalSeconds);
    }
}
