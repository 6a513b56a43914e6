using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
using RunbookPilot.Domain.Bindings;
using RunbookPilot.Domain.Execution;
using RunbookPilot.Engine.Execution;
using RunbookPilot.Domain.Library;
using RunbookPilot.Domain.Intake;

namespace RunbookPilot.Engine.Ingestion;

/// <summary>
/// The front door (design "How an alert flows", steps 1–3), thin around <see cref="IntakeDecider"/>: it journals each
/// decision before it answers, applies it to <see cref="IntakeState"/>, then does the I/O — dispatching one execution per
/// run decision, replies, metrics, audit notifications. Every decision is taken here, in order, so no two alerts can
/// both take a binding's last slot. Execution ids are derived from alert, playbook and binding, so starting again after a
/// crash is harmless; batches whose executions have not all confirmed their start are re-dispatched on recovery. Runs
/// end (and free their concurrency slot) when an execution reports an outcome, or when a reconciliation finds them finished.
/// </summary>
public sealed class AlertIntakeActor : ReceivePersistentActor, IWithTimers
{
    private static readonly TimeSpan ReconcileEvery = TimeSpan.FromMinutes(1);

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Func<PlaybookCatalogSnapshot> _catalog;
    private readonly IActorRef _executions;
    private readonly TimeProvider _time;
    private readonly IntakeSettings _settings;
    private readonly IntakeState _state;
    private int _sinceSnapshot;
    private int _writing; // events handed to the journal and not yet confirmed: no snapshot while any are in flight
    private readonly IntakeOutbox _outbox;

    public AlertIntakeActor(Func<PlaybookCatalogSnapshot> catalog, IActorRef executions, TimeProvider time, IntakeSettings settings)
    {
        _catalog = catalog;
        _executions = executions;
        _time = time;
        _settings = settings;
        _state = new IntakeState(settings.ImplicitBindings);
        _outbox = new IntakeOutbox(Context.System.EventStream, settings);
        Context.System.EventStream.Subscribe(Self, typeof(ExecutionEnded)); // the event stream drops a stopped subscriber itself

        Recover<SnapshotOffer>(offer => _state.Restore((IntakeSnapshot)offer.Snapshot));
        Recover<IIntakeEvent>(_state.Apply);
        Recover<RecoveryCompleted>(_ =>
        {
            if (_state.Undispatched.Count > 0) _log.Info("Alert intake: re-dispatching {0} batch(es) whose executions had not confirmed their start", _state.Undispatched.Count);
            foreach (var batch in _state.Undispatched.ToList()) Dispatch(batch);
            foreach (var b in _state.Book.Bindings) _settings.Metrics.Refresh(_state.Book, b.Id, Now);
            foreach (var open in _state.Book.OpenCircuits)
                _log.Warning("Binding {0}: circuit open since {1:u}; it skips every alert until an operator resumes it", open.Key, open.Value);
            Self.Tell(Reconcile.Instance);
            Timers.StartPeriodicTimer("reconcile", Reconcile.Instance, ReconcileEvery);
        });

        Command<SubmitAlert>(Submit);
        Command<SaveSnapshotSuccess>(s => DeleteSnapshots(new SnapshotSelectionCriteria(s.Metadata.SequenceNr - 1)));
        Command<SaveSnapshotFailure>(f =>
        {
            // Tried again after the next event (a busy database is the usual cause), not only after another full threshold.
            _log.Warning("Alert intake: snapshot not saved ({0}); trying again after the next event", f.Cause.Message);
            _sinceSnapshot = int.MaxValue / 2;
        });
        Command<DeleteSnapshotsSuccess>(_ => { });
        Command<DeleteSnapshotsFailure>(f => _log.Warning("Alert intake: old snapshots not deleted: {0}", f.Cause.Message));
        Command<GetBacklog>(_ => Sender.Tell(new Backlog(_state.Undispatched.Count)));
        Command<SaveBinding>(save => Decide(IntakeDecider.Save(_state, save, _catalog(), Now), e => _outbox.Saved(e, save.By, _state.Book)));
        Command<DeleteBinding>(delete =>
        {
            var binding = _state.Book.Find(delete.BindingId);
            Decide(IntakeDecider.Delete(_state, delete, Now), e => _outbox.Deleted(e, binding!, _state.Book));
        });
        Command<GetBindings>(_ => Sender.Tell(_state.View(Now)));
        Command<PreviewBindings>(p => Sender.Tell(new BindingsPreview(IntakeDecider.Preview(_state, p.Alert, _catalog(), Now))));
        Command<RunBinding>(Override);
        Command<SetPause>(Pause);
        Command<ExecutionEnded>(e => End(e.ExecutionId, e.Status));
        Command<Reconcile>(_ =>
        {
            foreach (var run in _state.Book.Runs.Where(r => !_state.Ending.Contains(r.ExecutionId)).ToList())
                _executions.Ask<ExecutionSnapshot>(new GetExecution(run.ExecutionId), TimeSpan.FromSeconds(30))
                    .PipeTo(Self, success: s => new Checked(run.ExecutionId, s.State.Finished ? s.State.Status : null), failure: _ => new Checked(run.ExecutionId, null));
        });
        Command<Checked>(c =>
        {
            if (c.Status is { } status) End(c.ExecutionId, status);
        });
        Command<StartFailed>(failed =>
        {
            // The execution did not confirm in time (node busy or restarting): try again; starting is idempotent.
            if (_state.Pending(failed.BatchId) is not null)
                Timers.StartSingleTimer("redispatch-" + failed.BatchId, new Redispatch(failed.BatchId), TimeSpan.FromSeconds(5));
        });
        Command<Redispatch>(r =>
        {
            if (_state.Pending(r.BatchId) is { } batch) Dispatch(batch);
        });
        Command<StartAck>(ack =>
        {
            if (_state.Confirm(ack.BatchId, ack.ExecutionId)) Write(new AlertDispatched(ack.BatchId, Now), _state.Apply);
        });
    }

    public override string PersistenceId => "alert-intake";

    public ITimerScheduler Timers { get; set; } = null!;

    private DateTimeOffset Now => _time.GetUtcNow();

    public static Props Props(Func<PlaybookCatalogSnapshot> catalog, IActorRef executions, TimeProvider time, IntakeSettings settings) =>
        Akka.Actor.Props.Create(() => new AlertIntakeActor(catalog, executions, time, settings));

    /// <summary>Journals an event (PersistAsync: many alerts in one write; with <paramref name="stash"/>, Persist: the next command
    /// sees this one applied), then runs <paramref name="then"/>; every <see cref="IntakeSettings.SnapshotEvery"/> events (or half
    /// as many as alert ids remembered), with nothing in flight, saves a snapshot so a restart does not replay the whole journal.</summary>
    private void Write<T>(T e, Action<T> then, bool stash = false) where T : IIntakeEvent
    {
        _writing++;
        void Written(T x)
        {
            _writing--;
            then(x);
            _sinceSnapshot++;
            SnapshotIfDue();
        }
        if (stash) Persist(e, Written);
        else PersistAsync(e, Written);
    }

    /// <summary>
    /// Saves a snapshot once at least <see cref="IntakeSettings.SnapshotEvery"/> events, and at least half as many as alert
    /// ids remembered (so a snapshot's cost, which holds those ids, stays O(1) per event), were journaled since the last,
    /// and no event is in flight. Checked after every event (the last of a burst finds none in flight).
    /// </summary>
    private void SnapshotIfDue()
    {
        if (_sinceSnapshot < Math.Max(_settings.SnapshotEvery, _state.SeenCount / 2) || _writing > 0) return;
        _sinceSnapshot = 0;
        SaveSnapshot(_state.Snapshot(Now, _settings.DedupeWindow));
    }

    /// <summary>An event the journal refused (it could not be serialised): its handler never runs, so it is no longer in flight.</summary>
    protected override void OnPersistRejected(Exception cause, object @event, long sequenceNr)
    {
        _writing--;
        base.OnPersistRejected(cause, @event, sequenceNr);
    }

    /// <summary>A binding or kill-switch decision: answered at once when refused, else journaled (stashing), applied, answered.</summary>
    private void Decide<TEvent, TReply>(IntakeDecision<TEvent, TReply> decision, Func<TEvent, TReply> then) where TEvent : class, IIntakeEvent where TReply : class
    {
        var replyTo = Sender;
        if (decision.Event is not { } e)
        {
            replyTo.Tell(decision.Reply);
            return;
        }
        Write(e, stash: true, then: x =>
        {
            _state.Apply(x);
            replyTo.Tell(then(x));
        });
    }

    private void Submit(SubmitAlert submit)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var decision = IntakeDecider.Submit(_state, submit, _catalog(), Now);
        if (decision.Event is not { } received)
        {
            Sender.Tell(decision.Reply);
            return;
        }
        var each = System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds / Math.Max(1, received.Decisions?.Count ?? 1);
        foreach (var d in (received.Decisions ?? []).Where(d => d.BindingId is not null)) _settings.Metrics.Evaluated(d.Mode, each);
        // Applied before the write completes, so the next alert in the same batch sees this one's use of the guardrails.
        _state.Apply(received);
        var replyTo = Sender;
        Write(received, e =>
        {
            if (e.Format == Domain.Alerts.AlertNormalizers.Unrecognised)
                _log.Warning("Alert {0} from {1} is in a format no normaliser recognises (no ECS field, not Elastic, Splunk, Sentinel, Chronicle or Sumo Logic): recorded as unrecognised_format, no playbook considered",
                    e.AlertId, e.Source);
            replyTo.Tell(new AlertAccepted(e.AlertId, false, e.Selected, e.Decisions));
            _outbox.Decided(e.AlertId, e.Decisions ?? [], _state.Book, Now);
            if (_state.Pending(e.AlertId) is { } batch) Dispatch(batch);
        });
    }

    private void Dispatch(Batch batch)
    {
        foreach (var s in batch.Selected)
        {
            if (_catalog().Library.Find(s.PlaybookId) is not { } pb)
            {
                _log.Error("Alert {0}: playbook {1} is no longer loaded; execution {2} cannot start", batch.AlertId, s.PlaybookId, s.ExecutionId);
                continue;
            }
            var start = new StartExecution(s.ExecutionId, batch.AlertId, batch.Alert, pb, s.Reason, s.DryRun);
            var batchId = batch.BatchId;
            _executions.Ask<CommandResult>(start, TimeSpan.FromSeconds(30))
                .PipeTo(Self, success: _ => new StartAck(batchId, s.ExecutionId), failure: _ => new StartFailed(batchId));
        }
    }

    /// <summary>A run ended: journal it once (concurrency slot freed, audit row, runs metric).</summary>
    private void End(string executionId, string outcome)
    {
        if (IntakeDecider.End(_state, executionId, outcome, Now) is not { } ended) return;
        _state.Ending.Add(executionId);
        Write(ended, e =>
        {
            _state.Apply(e);
            _outbox.RunEnded(e, _state.Book);
        });
    }

    private void Override(RunBinding run)
    {
        var decision = IntakeDecider.Run(_state, run, _catalog(), Now);
        if (decision.Event is not { } batch)
        {
            Sender.Tell(decision.Reply);
            return;
        }
        var replyTo = Sender;
        Decided(batch, () => replyTo.Tell(new BindingRunResult(batch.Decisions[0], null)));
        _log.Info("Binding {0}: manual {1} for alert {2} by {3}{4}", run.BindingId, BindingDecision.Name(batch.Decisions[0].Mode), run.Alert.Id, run.By, run.Reason is { } r ? ": " + r : "");
    }

    /// <summary>Journals later decisions for an alert (a manual run, released held decisions), then starts their executions.</summary>
    private void Decided(BindingsDecided batch, Action? then = null)
    {
        _state.Apply(batch);
        Write(batch, e =>
        {
            _outbox.Decided(e.AlertId, e.Decisions, _state.Book, Now);
            if (_state.Pending(e.BatchId) is { } pending) Dispatch(pending);
            then?.Invoke();
        });
    }

    private void Pause(SetPause set) => Decide(IntakeDecider.Pause(_state, set, _catalog(), Now), e =>
    {
        var message = _outbox.Paused(e);
        var released = 0;
        if (!e.Paused)
        {
            // Alerts that arrived meanwhile are decided now, in arrival order, one batch per alert.
            foreach (var (alert, decisions) in IntakeDecider.Released(_state, _catalog(), Now))
            {
                Decided(IntakeDecider.Decided(_state, alert, decisions, _catalog(), Now));
                released += decisions.Count;
            }
        }
        return new PauseResult(true, message + (released > 0 ? $"; {released} held decision(s) taken now" : ""), released);
    });

    private sealed record StartAck(string BatchId, string ExecutionId);

    private sealed record StartFailed(string BatchId);

    private sealed record Redispatch(string BatchId);

    private sealed record Checked(string ExecutionId, string? Status);

    private sealed record Reconcile
    {
        public static readonly Reconcile Instance = new();
    }
}
