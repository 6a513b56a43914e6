using System.Diagnostics;
using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
using RunbookPilot.Domain.Alerts;
using RunbookPilot.Domain.Bindings;
using RunbookPilot.Domain.Execution;
using RunbookPilot.Engine.Execution;
using RunbookPilot.Domain.Matching;
using RunbookPilot.Engine.Metrics;
using RunbookPilot.Domain.Playbooks;
using RunbookPilot.Domain.Library;
using RunbookPilot.Domain.Intake;

namespace RunbookPilot.Engine.Ingestion;

/// <summary>
/// Settings of the intake: the implicit binding switch, the binding instruments, how often it saves a snapshot, and how
/// long an alert id is remembered to recognise a repeat (webhook retries come within minutes; 7 days by default).
/// </summary>
public sealed record IntakeSettings(bool ImplicitBindings, BindingMetrics Metrics)
{
    /// <summary>Structured log lines for guardrail skips and circuit openings.</summary>
    public Microsoft.Extensions.Logging.ILogger Log { get; init; } = Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;
    public int SnapshotEvery { get; init; } = 10_000;
    public TimeSpan DedupeWindow { get; init; } = TimeSpan.FromDays(7);
}

/// <summary>
/// The front door (design "How an alert flows", steps 1–3): journals each alert with its selection and binding decisions
/// before it is acknowledged, recognises a repeated alert id and answers with the first submission, and starts one
/// execution per run decision. It owns the bindings, their guardrail state and the kill switches (<see cref="BindingBook"/>),
/// so every decision is taken in one place, in order — no two alerts can both take a binding's last slot. Execution ids
/// are derived from alert, playbook and binding, so starting again after a crash is harmless; batches whose executions
/// have not all confirmed their start are re-dispatched on recovery. Runs end (and free their concurrency slot) when an
/// execution of this node reports an outcome, or when a reconciliation finds them finished.
/// </summary>
public sealed class AlertIntakeActor : ReceivePersistentActor, IWithTimers
{
    private static readonly TimeSpan ReconcileEvery = TimeSpan.FromMinutes(1);

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Func<PlaybookCatalogSnapshot> _catalog;
    private readonly IActorRef _executions;
    private readonly TimeProvider _time;
    private readonly IntakeSettings _settings;
    private BindingBook _book;
    private readonly Dictionary<string, SeenAlert> _seen = new(StringComparer.Ordinal);
    private int _sinceSnapshot;
    private int _writing; // events handed to the journal and not yet confirmed: no snapshot while any are in flight
    private readonly Dictionary<string, Batch> _undispatched = new(StringComparer.Ordinal);
    private readonly HashSet<string> _ending = new(StringComparer.Ordinal);
    private int _batchSeq;

    public AlertIntakeActor(Func<PlaybookCatalogSnapshot> catalog, IActorRef executions, TimeProvider time, IntakeSettings settings)
    {
        _catalog = catalog;
        _executions = executions;
        _time = time;
        _settings = settings;
        _book = new BindingBook { ImplicitBindings = settings.ImplicitBindings };

        Recover<SnapshotOffer>(offer => Restore((IntakeSnapshot)offer.Snapshot));
        Recover<IIntakeEvent>(Apply);
        Recover<RecoveryCompleted>(_ =>
        {
            if (_undispatched.Count > 0) _log.Info("Alert intake: re-dispatching {0} batch(es) whose executions had not confirmed their start", _undispatched.Count);
            foreach (var batch in _undispatched.Values.ToList()) Dispatch(batch);
            foreach (var b in _book.Bindings) _settings.Metrics.Refresh(_book, b.Id, _time.GetUtcNow());
            foreach (var open in _book.OpenCircuits)
                _log.Warning("Binding {0}: circuit open since {1:u}; it skips every alert until an operator resumes it", open.Key, open.Value);
            Self.Tell(Reconcile.Instance);
            Timers.StartPeriodicTimer("reconcile", Reconcile.Instance, ReconcileEvery);
        });

        Command<SubmitAlert>(Submit);
        Command<SaveSnapshotSuccess>(s => DeleteSnapshots(new SnapshotSelectionCriteria(s.Metadata.SequenceNr - 1)));
        Command<SaveSnapshotFailure>(f => _log.Warning("Alert intake: snapshot not saved ({0}); the next one is tried after more events", f.Cause.Message));
        Command<DeleteSnapshotsSuccess>(_ => { });
        Command<DeleteSnapshotsFailure>(f => _log.Warning("Alert intake: old snapshots not deleted: {0}", f.Cause.Message));
        Command<GetBacklog>(_ => Sender.Tell(new Backlog(_undispatched.Count)));
        Command<SaveBinding>(Save);
        Command<DeleteBinding>(Delete);
        Command<GetBindings>(_ => Sender.Tell(View()));
        Command<PreviewBindings>(p => Sender.Tell(_book.Evaluate(p.Alert, Selected(p.Alert), Find, _time.GetUtcNow())));
        Command<RunBinding>(Override);
        Command<SetPause>(Pause);
        Command<ExecutionEnded>(e => End(e.ExecutionId, e.Status));
        Command<Reconcile>(_ =>
        {
            foreach (var run in _book.Runs.Where(r => !_ending.Contains(r.ExecutionId)).ToList())
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
            if (_undispatched.ContainsKey(failed.BatchId))
                Timers.StartSingleTimer("redispatch-" + failed.BatchId, new Redispatch(failed.BatchId), TimeSpan.FromSeconds(5));
        });
        Command<Redispatch>(r =>
        {
            if (_undispatched.TryGetValue(r.BatchId, out var batch)) Dispatch(batch);
        });
        Command<StartAck>(ack =>
        {
            if (!_undispatched.TryGetValue(ack.BatchId, out var batch)) return;
            batch.Waiting.Remove(ack.ExecutionId);
            if (batch.Waiting.Count == 0)
            {
                _undispatched.Remove(ack.BatchId);
                Write(new AlertDispatched(ack.BatchId, _time.GetUtcNow()), _ => { });
            }
        });
    }

    public override string PersistenceId => "alert-intake";

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(Func<PlaybookCatalogSnapshot> catalog, IActorRef executions, TimeProvider time, IntakeSettings settings) =>
        Akka.Actor.Props.Create(() => new AlertIntakeActor(catalog, executions, time, settings));

    /// <summary>Execution id of an implicit run (alert and playbook): stable, so a re-sent start finds the same execution.</summary>
    public static string ExecutionIdFor(string alertId, string playbookId) => BindingBook.ExecutionIdFor(alertId, playbookId);

    protected override void PreStart()
    {
        Context.System.EventStream.Subscribe(Self, typeof(ExecutionEnded));
        base.PreStart();
    }

    protected override void PostStop()
    {
        Context.System.EventStream.Unsubscribe(Self);
        base.PostStop();
    }

    // ---- state (recovery and live share Apply) ----------------------------------------------------------------

    private void Apply(IIntakeEvent e)
    {
        switch (e)
        {
            case AlertReceived a:
                _seen[a.AlertId] = new SeenAlert(new AlertAccepted(a.AlertId, true, a.Selected, a.Decisions), a.At);
                ApplyDecisions(new Alert(a.AlertId, a.Alert, a.Format), a.Decisions ?? []);
                if (a.Selected.Count > 0) _undispatched[a.AlertId] = new Batch(a.AlertId, a.AlertId, a.Alert, a.Selected);
                break;
            case BindingsDecided d:
                ApplyDecisions(new Alert(d.AlertId, d.Alert, d.Format), d.Decisions);
                if (d.Selected.Count > 0) _undispatched[d.BatchId] = new Batch(d.BatchId, d.AlertId, d.Alert, d.Selected);
                _batchSeq++;
                break;
            case AlertDispatched d:
                _undispatched.Remove(d.AlertId);
                break;
            case BindingSaved s:
                _book.Save(s.Binding);
                break;
            case BindingDeleted d:
                _book.Delete(d.BindingId);
                break;
            case BindingRunEnded r:
                _book.End(r.ExecutionId);
                _ending.Remove(r.ExecutionId);
                break;
            case PauseChanged p:
                _book.SetPause(new PauseState(p.Scope, p.Target, p.By, p.Reason, p.At), p.Paused);
                break;
        }
    }

    /// <summary>
    /// Journals an event (PersistAsync: the journal batches many alerts into one write; replies still wait for durability),
    /// then runs <paramref name="then"/>; every <see cref="IntakeSettings.SnapshotEvery"/> events (or as many as alert ids are
    /// remembered, when more), with nothing in flight, saves a snapshot so a restart does not replay the whole journal.
    /// </summary>
    /// <remarks><paramref name="stash"/>: Persist instead, holding other commands until it is written (binding and kill-switch
    /// changes, whose next command must see this one applied).</remarks>
    private void Write<T>(T e, Action<T> then, bool stash = false) where T : IIntakeEvent
    {
        _writing++;
        void Written(T x)
        {
            _writing--;
            then(x);
            // At least half as many events as alert ids remembered: a snapshot's cost (it holds those ids) stays O(1) per
            // event, and the threshold is always reached (with one event per new alert, a threshold of all the ids
            // remembered grew as fast as the count and was never met).
            if (++_sinceSnapshot < Math.Max(_settings.SnapshotEvery, _seen.Count / 2) || _writing > 0) return;
            _sinceSnapshot = 0;
            SaveSnapshot(Snapshot());
        }
        if (stash) Persist(e, Written);
        else PersistAsync(e, Written);
    }

    /// <summary>The state to save; alert ids older than the de-duplication window are forgotten here.</summary>
    private IntakeSnapshot Snapshot()
    {
        var now = _time.GetUtcNow();
        foreach (var old in _seen.Where(kv => now - kv.Value.At > _settings.DedupeWindow).Select(kv => kv.Key).ToList()) _seen.Remove(old);
        // A repeat is answered with the first submission's executions; its binding decisions are in the audit.
        return new IntakeSnapshot(_seen.Values.Select(v => v with { Accepted = v.Accepted with { Decisions = null } }).ToList(), _undispatched.Values.Select(b => new PendingBatch(b.BatchId, b.AlertId, b.Alert, b.Selected)).ToList(),
            _batchSeq, _book.Snapshot(), now);
    }

    private void Restore(IntakeSnapshot snapshot)
    {
        _seen.Clear();
        foreach (var seen in snapshot.Seen) _seen[seen.Accepted.AlertId] = seen;
        _undispatched.Clear();
        foreach (var b in snapshot.Undispatched) _undispatched[b.BatchId] = new Batch(b.BatchId, b.AlertId, b.Alert, b.Selected);
        _batchSeq = snapshot.BatchSeq;
        _book = BindingBook.Restore(snapshot.Book, _settings.ImplicitBindings);
    }

    private void ApplyDecisions(Alert alert, IReadOnlyList<BindingDecision> decisions)
    {
        foreach (var d in decisions) _book.Apply(d, alert);
    }

    // ---- alerts -----------------------------------------------------------------------------------------------

    private void Submit(SubmitAlert submit)
    {
        var alert = submit.Alert;
        if (_seen.TryGetValue(alert.Id, out var first))
        {
            Sender.Tell(first.Accepted);
            return;
        }
        var now = _time.GetUtcNow();
        var selections = _catalog().Selector.Select(alert);
        var decisions = submit.DryRun ? [] : Evaluate(alert, selections.Select(s => s.Playbook), now);
        var reasons = selections.ToDictionary(s => s.Playbook.Id, s => $"{s.Reason}: {s.Detail}", StringComparer.Ordinal);
        var selected = submit.DryRun
            ? selections.Select(s => new SelectedPlaybook(s.Playbook.Id, s.Playbook.Version, $"{s.Reason}: {s.Detail} (dry run)",
                BindingBook.ExecutionIdFor(alert.Id, s.Playbook.Id, "dry"), DryRun: true)).ToList()
            : Starts(decisions, reasons);
        var received = new AlertReceived(alert.Id, alert.Format, submit.Source, alert.Document, selected, now, decisions.Count == 0 ? null : decisions);
        // Applied before the write completes, so the next alert in the same batch sees this one's use of the guardrails.
        Apply(received);
        var replyTo = Sender;
        // PersistAsync lets the journal batch many alerts into one write; the reply still waits for durability.
        Write(received, e =>
        {
            replyTo.Tell(new AlertAccepted(e.AlertId, false, e.Selected, e.Decisions));
            Published(e.AlertId, e.Decisions ?? []);
            if (_undispatched.TryGetValue(e.AlertId, out var batch)) Dispatch(batch);
        });
    }

    /// <summary>Evaluates the bindings for an alert, observing the evaluation latency per binding mode.</summary>
    private List<BindingDecision> Evaluate(Alert alert, IEnumerable<Playbook> selected, DateTimeOffset now)
    {
        var started = Stopwatch.GetTimestamp();
        var decisions = _book.Evaluate(alert, selected, Find, now);
        var each = Stopwatch.GetElapsedTime(started).TotalSeconds / Math.Max(1, decisions.Count);
        foreach (var d in decisions.Where(d => d.BindingId is not null)) _settings.Metrics.Evaluated(d.Mode, each);
        return decisions;
    }

    private List<SelectedPlaybook> Starts(IEnumerable<BindingDecision> decisions, IReadOnlyDictionary<string, string>? reasons = null) =>
        decisions.Where(d => d.StartsExecution).Select(d => new SelectedPlaybook(d.PlaybookId, Find(d.PlaybookId)?.Version ?? "", Reason(d, reasons), d.ExecutionId!,
            d.Decision == BindingDecisionKind.DryRan, d.BindingId)).ToList();

    private static string Reason(BindingDecision d, IReadOnlyDictionary<string, string>? reasons) =>
        d.BindingId is { } id
            ? $"binding {id} ({BindingDecision.Name(d.Mode)})" + (d.By is { } by ? $", run manually by {by}" : "")
            : reasons?.GetValueOrDefault(d.PlaybookId) ?? "implicit binding";

    private IEnumerable<Playbook> Selected(Alert alert) => _catalog().Selector.Select(alert).Select(s => s.Playbook);

    private Playbook? Find(string playbookId) => _catalog().Library.Find(playbookId);

    private void Dispatch(Batch batch)
    {
        foreach (var s in batch.Selected)
        {
            if (Find(s.PlaybookId) is not { } pb)
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

    /// <summary>After decisions are durable: audit notifications, metrics, and a loud log line when a circuit opened.</summary>
    private void Published(string alertId, IReadOnlyList<BindingDecision> decisions)
    {
        var now = _time.GetUtcNow();
        foreach (var d in decisions)
        {
            _settings.Metrics.Decided(d);
            Context.System.EventStream.Publish(new BindingAudited(alertId, d, false, d.StartsExecution ? null : d.Decision is BindingDecisionKind.Suggested, null));
            if (d.Decision.ToString().StartsWith("Skipped", StringComparison.Ordinal))
                Microsoft.Extensions.Logging.LoggerExtensions.LogInformation(_settings.Log,
                    "Guardrail skip: alert {AlertId}, binding {BindingId}, playbook {PlaybookId}: {Decision} ({Reason})", alertId, d.BindingId, d.PlaybookId,
                    BindingDecision.Name(d.Decision), d.Reason);
            if (d.OpensCircuit)
            {
                var message = $"binding {d.BindingId} ({d.PlaybookId}): circuit opened — guardrails kept tripping ({d.Reason}); it skips every alert until an operator resumes it";
                Microsoft.Extensions.Logging.LoggerExtensions.LogWarning(_settings.Log,
                    "Circuit opened: binding {BindingId}, playbook {PlaybookId}, alert {AlertId}: guardrails kept tripping ({Reason}); it skips every alert until an operator resumes it",
                    d.BindingId, d.PlaybookId, alertId, d.Reason);
                Context.System.EventStream.Publish(new ControlChanged("binding.circuit_opened", message, now));
            }
        }
        foreach (var id in decisions.Select(d => d.BindingId).OfType<int>().Distinct()) _settings.Metrics.Refresh(_book, id, now);
    }

    /// <summary>A run ended: journal it once (concurrency slot freed, audit row, runs metric).</summary>
    private void End(string executionId, string outcome)
    {
        if (_book.Run(executionId) is not { BindingId: { } bindingId } run || !_ending.Add(executionId)) return;
        var ended = new BindingRunEnded(executionId, bindingId, run.Key, run.PlaybookId, run.Mode, run.AlertId, outcome, run.At, _time.GetUtcNow());
        Write(ended, e =>
        {
            Apply(e);
            var success = e.Outcome == "completed";
            _settings.Metrics.RunEnded(e.Mode, success);
            _settings.Metrics.Refresh(_book, e.BindingId, e.At);
            var decision = new BindingDecision(e.BindingId, e.PlaybookId, e.Mode, e.Mode == BindingMode.DryRun ? BindingDecisionKind.DryRan : BindingDecisionKind.Ran,
                success ? null : "execution " + e.Outcome, e.Key, e.ExecutionId, null, false, false, null, e.StartedAt);
            Context.System.EventStream.Publish(new BindingAudited(e.AlertId, decision, true, success, e.At));
        });
    }

    // ---- bindings ---------------------------------------------------------------------------------------------

    private void Save(SaveBinding save)
    {
        var now = _time.GetUtcNow();
        var existing = save.Spec.Id is { } id ? _book.Find(id) : null;
        if (save.Spec.Id is not null && existing is null)
        {
            Sender.Tell(new BindingResult(null, [("id", $"no binding {save.Spec.Id}")], NotFound: true));
            return;
        }
        var problems = BindingValidator.Check(save.Spec, _catalog().Library.Playbooks.Select(p => p.Id).ToList()).ToList();
        if (problems.Count > 0)
        {
            Sender.Tell(new BindingResult(null, problems));
            return;
        }
        var bindingId = existing?.Id ?? _book.NextId;
        var binding = new PlaybookBinding(bindingId, save.Spec with { Id = bindingId }, existing?.CreatedBy ?? save.By, existing?.CreatedAt ?? now, save.By, now);
        var replyTo = Sender;
        Write(new BindingSaved(binding, existing is null, now), stash: true, then: e =>
        {
            Apply(e);
            _settings.Metrics.Refresh(_book, bindingId, now);
            _log.Info("Binding {0} {1} by {2}: {3} in mode {4}", bindingId, e.Created ? "created" : "changed", save.By, binding.PlaybookId, BindingDecision.Name(binding.Mode));
            replyTo.Tell(new BindingResult(e.Binding, []));
        });
    }

    private void Delete(DeleteBinding delete)
    {
        if (_book.Find(delete.BindingId) is not { } binding)
        {
            Sender.Tell(new BindingResult(null, [("id", $"no binding {delete.BindingId}")], NotFound: true));
            return;
        }
        var replyTo = Sender;
        Write(new BindingDeleted(delete.BindingId, delete.By, _time.GetUtcNow()), stash: true, then: e =>
        {
            Apply(e);
            _settings.Metrics.Refresh(_book, e.BindingId, e.At);
            _log.Info("Binding {0} ({1}) deleted by {2}", e.BindingId, binding.PlaybookId, e.By);
            replyTo.Tell(new BindingResult(binding, []));
        });
    }

    private BindingsView View()
    {
        var now = _time.GetUtcNow();
        return new BindingsView(
            _book.Bindings.OrderBy(b => b.Id).Select(b => new BindingView(b, _book.InFlightCount(b.Id), _book.QuotaRemaining(b.Id, now), _book.OpenCircuits.ContainsKey(b.Id),
                _book.PausedFor(b.Id, b.PlaybookId))).ToList(),
            _book.Pauses.OrderBy(p => p.At).ToList(), _book.Held.Count);
    }

    private void Override(RunBinding run)
    {
        if (_book.Find(run.BindingId) is not { } binding)
        {
            Sender.Tell(new BindingRunResult(null, $"no binding {run.BindingId}"));
            return;
        }
        if (Find(binding.PlaybookId) is null)
        {
            Sender.Tell(new BindingRunResult(null, $"playbook {binding.PlaybookId} is not loaded"));
            return;
        }
        var mode = run.Mode ?? BindingMode.AutoRun; // "Run now" runs the real playbook unless a dry run is asked for
        if (mode == BindingMode.Suggest)
        {
            Sender.Tell(new BindingRunResult(null, "a manual run runs the playbook: mode dry_run or auto_run"));
            return;
        }
        var decision = _book.Override(binding, run.Alert, mode, run.By, run.Reason, _time.GetUtcNow());
        var replyTo = Sender;
        Decided(run.Alert, [decision], () => replyTo.Tell(new BindingRunResult(decision, null)));
        _log.Info("Binding {0}: manual {1} for alert {2} by {3}{4}", binding.Id, BindingDecision.Name(mode), run.Alert.Id, run.By, run.Reason is { } r ? ": " + r : "");
    }

    /// <summary>Journals later decisions for an alert (a manual run, released held decisions), then starts their executions.</summary>
    private void Decided(Alert alert, IReadOnlyList<BindingDecision> decisions, Action? then = null)
    {
        var batch = new BindingsDecided($"{alert.Id}#{_batchSeq + 1}", alert.Id, alert.Format, alert.Document, decisions, Starts(decisions), _time.GetUtcNow());
        Apply(batch);
        Write(batch, e =>
        {
            Published(e.AlertId, e.Decisions);
            if (_undispatched.TryGetValue(e.BatchId, out var pending)) Dispatch(pending);
            then?.Invoke();
        });
    }

    // ---- kill switch ------------------------------------------------------------------------------------------

    private void Pause(SetPause set)
    {
        if (set.Scope == PauseScope.Binding && (!int.TryParse(set.Target, out var id) || _book.Find(id) is null))
        {
            Sender.Tell(new PauseResult(false, $"no binding {set.Target}", 0));
            return;
        }
        if (set.Scope == PauseScope.Playbook && Find(set.Target) is null && !_book.Bindings.Any(b => b.PlaybookId == set.Target))
        {
            Sender.Tell(new PauseResult(false, $"no playbook {set.Target}", 0));
            return;
        }
        var target = set.Scope == PauseScope.Global ? "" : set.Target;
        var what = set.Scope == PauseScope.Global ? "everything" : $"{set.Scope.ToString().ToLowerInvariant()} {target}";
        var replyTo = Sender;
        Write(new PauseChanged(set.Scope, target, set.Paused, set.By, set.Reason, _time.GetUtcNow()), stash: true, then: e =>
        {
            Apply(e);
            var message = $"{(e.Paused ? "paused" : "resumed")} {what} by {e.By}" + (e.Reason is { Length: > 0 } r ? $" ({r})" : "");
            _log.Warning("Kill switch: {0}", message);
            Context.System.EventStream.Publish(new ControlChanged(e.Paused ? "paused" : "resumed", message, e.At));
            var released = 0;
            if (!e.Paused)
            {
                // Alerts that arrived meanwhile are decided now, in arrival order, one batch per alert.
                foreach (var group in _book.Release(Find, _time.GetUtcNow()).GroupBy(r => r.Held.AlertId))
                {
                    var held = group.First().Held;
                    Decided(new Alert(held.AlertId, held.Alert, held.Format), group.Select(r => r.Decision).ToList());
                    released += group.Count();
                }
            }
            replyTo.Tell(new PauseResult(true, message + (released > 0 ? $"; {released} held decision(s) taken now" : ""), released));
        });
    }

    private sealed record Batch(string BatchId, string AlertId, System.Text.Json.Nodes.JsonObject Alert, IReadOnlyList<SelectedPlaybook> Selected)
    {
        public HashSet<string> Waiting { get; } = Selected.Select(s => s.ExecutionId).ToHashSet(StringComparer.Ordinal);
    }

    private sealed record StartAck(string BatchId, string ExecutionId);

    private sealed record StartFailed(string BatchId);

    private sealed record Redispatch(string BatchId);

    private sealed record Checked(string ExecutionId, string? Status);

    private sealed record Reconcile
    {
        public static readonly Reconcile Instance = new();
    }
}
