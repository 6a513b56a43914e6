using Akka.Actor;
using Akka.Cluster.Sharding;
using Akka.Event;
using Akka.Pattern;
using Akka.Persistence;
using Microsoft.Extensions.Logging;
using RunbookPilot.Domain.Adapters;
using RunbookPilot.Engine.Adapters;
using RunbookPilot.Domain.Policy;
using RunbookPilot.Domain.Execution;

namespace RunbookPilot.Engine.Execution;

/// <summary>What an execution needs from its surroundings: adapters, the current policy, the clock, defaults and the log.</summary>
public sealed record ExecutionRuntime(AdapterRegistry Adapters, Func<GlobalPolicy> Policy, TimeProvider Time, ExecutionDefaults Defaults)
{
    /// <summary>How soon a crashed step runner is started again: doubling from the first delay to the second (with 20 % jitter).</summary>
    public (TimeSpan Min, TimeSpan Max) RunnerBackoff { get; init; } = (TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(10));

    /// <summary>Structured engine log lines (execution, alert, playbook, step as properties): the server's log and <c>runbookpilot ops log</c>.</summary>
    public Microsoft.Extensions.Logging.ILogger Log { get; init; } = Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;
}

/// <summary>Registry key of the <c>execution</c> shard region.</summary>
public sealed class ExecutionRegion;

/// <summary>Routes execution messages to entities by execution id over 100 shards.</summary>
public sealed class ExecutionMessageExtractor() : HashCodeMessageExtractor(100)
{
    public override string? EntityId(object message) => (message as IWithExecutionId)?.ExecutionId;
}

/// <summary>Published once when an execution reaches its outcome (completed, failed, rejected, expired or refused): binding runs end.</summary>
public sealed record ExecutionEnded(string ExecutionId, string Status);

/// <summary>Published on the event stream after every persisted decision (live views, the CLI's wait for settled executions).</summary>
public sealed record ExecutionUpdated(string ExecutionId, string PlaybookId, string Status, bool Settled, IReadOnlyList<IExecutionEvent> Events)
{
    /// <summary>The execution's state after these events (for live views on this node: the approval queue, enrichment).</summary>
    public ExecutionState? State { get; init; }
}

/// <summary>
/// One execution: a thin event-sourced actor around <see cref="ExecutionDecider"/>. It persists the decided events in one
/// write, applies them, then performs the effects (start a step runner, arm a timer, reply, publish). Recovery is
/// <see cref="ExecutionState.Apply"/> over the journal; afterwards open work resumes by itself. Timers use the injected
/// <see cref="TimeProvider"/>, so tests move time instead of waiting for it.
/// </summary>
public sealed class ExecutionActor : UntypedPersistentActor
{
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly ExecutionRuntime _runtime;
    private readonly bool _sharded;
    private readonly Dictionary<IActorRef, RunStep> _running = [];
    private readonly Dictionary<string, ITimer> _timers = new(StringComparer.Ordinal);
    private ExecutionState _state = ExecutionState.Empty;
    private int _runnerSeq;
    private bool _resumed;

    public ExecutionActor(string executionId, ExecutionRuntime runtime, bool sharded)
    {
        ExecutionId = executionId;
        _runtime = runtime;
        _sharded = sharded;
    }

    // Untyped handlers: an actor is created per execution (and a runner per attempt), and ReceiveActor's per-instance
    // handler compilation showed up as the largest cost in the throughput profile (bench/README.md).
    protected override void OnRecover(object message)
    {
        switch (message)
        {
            case IExecutionEvent e:
                _state = _state.Apply(e);
                break;
            case RecoveryCompleted when _state.Started && _state.HasOpenWork:
                _log.Info("Execution {0} recovered with open work ({1}); resuming", ExecutionId, _state.Status);
                Self.Tell(new ResumeExecution(ExecutionId), ActorRefs.NoSender);
                break;
        }
    }

    protected override void OnCommand(object message)
    {
        switch (message)
        {
            case GetExecution:
                Sender.Tell(new ExecutionSnapshot(_state, _state.Settled));
                break;
            case ResumeExecution resume:
                // Recovery already resumed an execution with open work; a second resume (the start-up scan) must not start its steps twice.
                if (_resumed) return;
                _resumed = true;
                Handle(resume);
                break;
            case IExecutionCommand command:
                Handle(command);
                break;
            case Terminated t when _running.Remove(t.ActorRef, out var work):
                // The runner's supervisor stopped without a report: it gave up after repeated crashes.
                Self.Tell(new RecordAttempt(ExecutionId, work.StepId, work.Attempt, work.Rollback,
                    AdapterResult.Fail("step runner crashed repeatedly", retryable: true), 0), ActorRefs.NoSender);
                break;
            case Terminated:
                break;
            default:
                Unhandled(message);
                break;
        }
    }

    public string ExecutionId { get; }

    public override string PersistenceId => "execution-" + ExecutionId;

    /// <summary>Executions take no snapshots (a few dozen events each): recovery skips the snapshot store.</summary>
    public override Recovery Recovery => new(SnapshotSelectionCriteria.None);

    public static Props Props(string executionId, ExecutionRuntime runtime, bool sharded = true) =>
        Akka.Actor.Props.Create<ExecutionActor>(executionId, runtime, sharded);

    private void Handle(IExecutionCommand command)
    {
        var replyTo = Sender;
        if (command is RecordAttempt)
        {
            // From a step runner (which stops now): forget it, and owe it no reply.
            if (_running.Remove(Sender)) Context.Unwatch(Sender);
            replyTo = ActorRefs.Nobody;
        }
        var ctx = new DecisionContext(_runtime.Policy(), _runtime.Time.GetUtcNow(), _runtime.Adapters, _runtime.Defaults);
        var decision = ExecutionDecider.Decide(_state, command, ctx);
        if (decision.Events.Count == 0)
        {
            foreach (var effect in decision.Effects) Perform(effect);
            Finish(decision, replyTo);
            return;
        }
        // One write per decision: every event of the decision in one PersistAll, effects only once they are durable.
        var remaining = decision.Events.Count;
        PersistAll(decision.Events, e =>
        {
            _state = _state.Apply(e);
            if (--remaining > 0) return;
            foreach (var effect in decision.Effects) Perform(effect);
            Finish(decision, replyTo);
        });
    }

    /// <summary>After the events are durable: reply, log, publish, and passivate a finished execution.</summary>
    private void Finish(Decision decision, IActorRef replyTo)
    {
        if (decision.Reply is { } reply && !replyTo.IsNobody() && !replyTo.Equals(Context.System.DeadLetters)) replyTo.Tell(reply);
        if (decision.Events.Count > 0)
        {
            foreach (var e in decision.Events) LogEvent(e);
            Context.System.EventStream.Publish(new ExecutionUpdated(ExecutionId, _state.Playbook?.Id ?? "", _state.Status, _state.Settled, decision.Events) { State = _state });
            if (decision.Events.OfType<ExecutionCompleted>().Any()) Context.System.EventStream.Publish(new ExecutionEnded(ExecutionId, _state.Status));
        }
        if (_state.Started && !_state.HasOpenWork && _running.Count == 0 && _sharded)
            Context.Parent.Tell(new Passivate(PoisonPill.Instance));
    }

    private void Perform(Effect effect)
    {
        switch (effect)
        {
            case RunStep run:
                var name = $"{(run.Rollback ? "rollback" : "step")}-{Uri.EscapeDataString(run.StepId)}-{run.Attempt}-{++_runnerSeq}";
                // Each attempt runs under a backoff supervisor: a crashing runner (an adapter bug) is restarted after a growing
                // delay and repeats its attempt; after 3 crashes it stops, and the attempt is recorded as failed (retryable).
                var runner = Context.ActorOf(BackoffSupervisor.Props(Backoff.OnFailure(StepRunner.Props(ExecutionId, run, _runtime), "runner",
                        _runtime.RunnerBackoff.Min, _runtime.RunnerBackoff.Max, 0.2, -1)
                    .WithSupervisorStrategy(new OneForOneStrategy(3, TimeSpan.FromMinutes(1), ex =>
                    {
                        _log.Warning("Step runner of execution {0} crashed: {1}", ExecutionId, ex.Message);
                        return Directive.Restart;
                    }))), name);
                Context.Watch(runner);
                _running[runner] = run;
                break;
            case ScheduleRetry retry:
                Arm($"retry-{retry.StepId}-{retry.Rollback}", retry.At, new RetryDue(ExecutionId, retry.StepId, retry.Attempt, retry.Rollback));
                break;
            case ArmDeadline deadline:
                Arm($"deadline-{deadline.StepId}", deadline.At, new DeadlineReached(ExecutionId, deadline.StepId, deadline.ApprovalId));
                break;
        }
    }

    /// <summary>Tells this actor <paramref name="message"/> at <paramref name="at"/> by the injected clock (at once if that time has passed).</summary>
    private void Arm(string key, DateTimeOffset at, IExecutionCommand message)
    {
        if (_timers.Remove(key, out var old)) old.Dispose();
        var delay = at - _runtime.Time.GetUtcNow();
        var self = Self;
        if (delay <= TimeSpan.Zero)
        {
            self.Tell(message, ActorRefs.NoSender);
            return;
        }
        _timers[key] = _runtime.Time.CreateTimer(_ => self.Tell(message, ActorRefs.NoSender), null, delay, Timeout.InfiniteTimeSpan);
    }

    private void LogEvent(IExecutionEvent e)
    {
        var log = _runtime.Log;
        var (alert, playbook) = (_state.AlertId, _state.Playbook?.Id);
        switch (e)
        {
            case ApprovalExpired x:
                log.LogWarning("Approval expired unanswered: execution {ExecutionId} (alert {AlertId}, playbook {PlaybookId}) step {StepId}; the step is marked expired",
                    ExecutionId, alert, playbook, x.StepId);
                break;
            case StepRefused x:
                log.LogWarning("Step refused by policy: execution {ExecutionId} (alert {AlertId}, playbook {PlaybookId}) step {StepId}: {Reason}",
                    ExecutionId, alert, playbook, x.StepId, x.Reason);
                break;
            case StepFailed x:
                log.LogWarning("Step failed: execution {ExecutionId} (alert {AlertId}, playbook {PlaybookId}): step {StepId} failed: {Error}",
                    ExecutionId, alert, playbook, x.StepId, x.Error);
                break;
            case StepRolledBack x:
                log.LogInformation("Step rolled back: execution {ExecutionId} (alert {AlertId}, playbook {PlaybookId}) step {StepId}", ExecutionId, alert, playbook, x.StepId);
                break;
            case StepRollbackFailed x:
                log.LogError("Rollback failed: execution {ExecutionId} (alert {AlertId}, playbook {PlaybookId}) step {StepId}: {Error}",
                    ExecutionId, alert, playbook, x.StepId, x.Error);
                break;
        }
    }

    protected override void PostStop()
    {
        foreach (var t in _timers.Values) t.Dispose();
        _timers.Clear();
        base.PostStop();
    }
}
