using Akka.Actor;
using Akka.Cluster.Sharding;
using Akka.Event;
using Akka.Persistence;
using Microsoft.Extensions.Logging;
using RunbookPilot.Domain.Adapters;
using RunbookPilot.Engine.Adapters;
using RunbookPilot.Domain.Policy;
using RunbookPilot.Domain.Execution;

namespace RunbookPilot.Engine.Execution;

/// <summary>
/// One execution: a thin event-sourced actor around <see cref="ExecutionDecider"/>. It persists the decided events in one
/// write, applies them, then performs the effects (start a step runner, arm a timer, reply, publish). Recovery is
/// <see cref="ExecutionState.Apply"/> over the journal; afterwards open work resumes by itself. Timers use the injected
/// <see cref="TimeProvider"/>, so tests move time instead of waiting for it.
/// </summary>
public sealed class ExecutionActor : UntypedPersistentActor, IWithTimers
{
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly ExecutionRuntime _runtime;
    private readonly bool _sharded;
    private readonly Dictionary<IActorRef, RunStep> _running = [];
    private readonly Dictionary<string, ITimer> _timers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _crashes = new(StringComparer.Ordinal);
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
            case RecoveryCompleted:
                // Nothing to resume: a ResumeExecution from outside (a start-up or node-loss scan) only woke this entity.
                _resumed = true;
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
                Crashed(work); // stopped without a report
                break;
            case RestartRunner restart when !_state.Finished: // a late restart of a finished execution repeats nothing
                Start(restart.Run);
                break;
            case Terminated:
                break;
            default:
                Unhandled(message);
                break;
        }
    }

    public string ExecutionId { get; }

    public ITimerScheduler Timers { get; set; } = null!;

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

    private void Start(RunStep run)
    {
        var name = $"{(run.Rollback ? "rollback" : "step")}-{Uri.EscapeDataString(run.StepId)}-{run.Attempt}-{++_runnerSeq}";
        var runner = Context.ActorOf(StepRunner.Props(ExecutionId, run, _runtime), name);
        Context.Watch(runner);
        _running[runner] = run;
    }

    /// <summary>
    /// Backoff supervision of the step runners: a crashed runner (an adapter bug) is stopped and started again after
    /// <see cref="ExecutionRuntime.RunnerBackoff"/> (doubling, 20 % jitter) to repeat its attempt; after 3 crashes of one
    /// attempt the attempt is recorded as failed (retryable), so the decider's journaled retries take over.
    /// </summary>
    protected override SupervisorStrategy SupervisorStrategy() => new OneForOneStrategy(ex =>
    {
        _log.Warning("Step runner of execution {0} crashed: {1}", ExecutionId, ex.Message);
        return Directive.Stop;
    });

    private void Crashed(RunStep work)
    {
        var key = $"{work.Rollback}/{work.StepId}/{work.Attempt}";
        var crashes = _crashes[key] = _crashes.GetValueOrDefault(key) + 1;
        if (crashes > 3)
        {
            Self.Tell(new RecordAttempt(ExecutionId, work.StepId, work.Attempt, work.Rollback, AdapterResult.Fail("step runner crashed repeatedly", retryable: true), 0),
                ActorRefs.NoSender);
            return;
        }
        var (min, max) = _runtime.RunnerBackoff;
        var delay = TimeSpan.FromTicks(Math.Min(max.Ticks, min.Ticks << (crashes - 1))) * (1 + 0.2 * Random.Shared.NextDouble());
        Timers.StartSingleTimer("restart-" + key, new RestartRunner(work), delay);
    }

    private void Perform(Effect effect)
    {
        switch (effect)
        {
            case RunStep run:
                Start(run);
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

    private sealed record RestartRunner(RunStep Run);
}
