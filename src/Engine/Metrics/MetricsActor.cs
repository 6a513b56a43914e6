using Akka.Actor;
using Prometheus;
using RunbookPilot.Domain.Execution;
using RunbookPilot.Engine.Execution;

namespace RunbookPilot.Engine.Metrics;

/// <summary>Registry key of the metrics actor.</summary>
public sealed class MetricsCollector;

/// <summary>Asks the metrics actor for the live figures of this node; answered with <see cref="LiveFigures"/>.</summary>
public sealed record GetLiveFigures
{
    public static readonly GetLiveFigures Instance = new();
}

/// <summary>What this node's executions did since it started (the dashboard's live figures; history is in the read model).</summary>
public sealed record LiveFigures(DateTimeOffset Since, int Running, IReadOnlyDictionary<string, int> Executions, int StepsSucceeded, int StepsFailed, int AdapterErrors,
    IReadOnlyDictionary<string, int> Approvals, IReadOnlyDictionary<string, int> Simulations);

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
    private readonly DateTimeOffset _since;
    private readonly HashSet<string> _running = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _byOutcome = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _approvalsBy = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _simulationsBy = new(StringComparer.Ordinal);
    private int _stepsSucceeded;
    private int _stepsFailed;
    private int _attemptsFailed;

    public MetricsActor(IMetricFactory f, TimeProvider time)
    {
        _since = time.GetUtcNow();
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
        Receive<ExecutionUpdated>(u => u.Origin is not null, _ => { }); // another node's: it counts its own
        Receive<ExecutionUpdated>(u =>
        {
            // The outcome as people read it: completed_with_failures when a step failed, never completed.
            var outcome = u.State?.Status;
            foreach (var e in u.Events)
            {
                Count(u.PlaybookId, e, outcome);
                Live(u.ExecutionId, e, outcome);
            }
        });
        Receive<GetLiveFigures>(_ => Sender.Tell(new LiveFigures(_since, _running.Count, new Dictionary<string, int>(_byOutcome), _stepsSucceeded, _stepsFailed,
            _attemptsFailed, new Dictionary<string, int>(_approvalsBy), new Dictionary<string, int>(_simulationsBy))));
    }

    public static Props Props(IMetricFactory factory, TimeProvider time) => Akka.Actor.Props.Create(() => new MetricsActor(factory, time));

    private void Live(string executionId, IExecutionEvent e, string? outcome)
    {
        static void Add(Dictionary<string, int> d, string key) => d[key] = d.GetValueOrDefault(key) + 1;
        switch (e)
        {
            case ExecutionStarted:
                _running.Add(executionId);
                Add(_byOutcome, "started");
                break;
            case ExecutionCompleted c:
                _running.Remove(executionId);
                Add(_byOutcome, outcome ?? c.Outcome.ToString().ToLowerInvariant());
                break;
            case StepSucceeded:
                _stepsSucceeded++;
                break;
            case StepFailed:
                _stepsFailed++;
                break;
            case StepAttemptFailed:
                _attemptsFailed++;
                break;
            case ApprovalRequested:
                Add(_approvalsBy, "requested");
                break;
            case StepApproved:
                Add(_approvalsBy, "approved");
                break;
            case StepRejected:
                Add(_approvalsBy, "rejected");
                break;
            case ApprovalExpired:
                Add(_approvalsBy, "expired");
                break;
            case StepSimulated:
                Add(_simulationsBy, "simulated");
                break;
            case SimulationPromoted:
                Add(_simulationsBy, "executed");
                break;
            case SimulationDismissed:
                Add(_simulationsBy, "dismissed");
                break;
        }
    }

    protected override void PreStart() => Context.System.EventStream.Subscribe(Self, typeof(ExecutionUpdated));

    private void Count(string playbook, IExecutionEvent e, string? outcome)
    {
        switch (e)
        {
            case ExecutionStarted:
                _executions.WithLabels(playbook, "started").Inc();
                break;
            case ExecutionCompleted c:
                _executions.WithLabels(playbook, outcome ?? c.Outcome.ToString().ToLowerInvariant()).Inc();
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
