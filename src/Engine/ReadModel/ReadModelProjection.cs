using System.Diagnostics;
using System.Text.Json;
using Akka;
using Akka.Actor;
using Akka.Persistence.Query;
using Akka.Persistence.Sql.Query;
using Akka.Streams;
using Akka.Streams.Dsl;
using LinqToDB;
using LinqToDB.Data;
using RunbookPilot.Domain.Bindings;
using RunbookPilot.Domain.Execution;
using RunbookPilot.Engine.Execution;
using RunbookPilot.Engine.Hosting;
using RunbookPilot.Engine.Configuration;
using RunbookPilot.Domain.Intake;
using RunbookPilot.Engine.Ingestion;
using RunbookPilot.Domain.Core;
using RunbookPilot.Domain.Adapters;

namespace RunbookPilot.Engine.ReadModel;

/// <summary>
/// The projection the <see cref="ReadModelProjectorActor"/> runs: keeps the read tables (all but enrichments) from the journal
/// (Akka.Persistence.Query over the SQL journal, by global ordering). Each batch of events and the offset reached are
/// written in one transaction, so a restart resumes exactly where it stopped and a rebuild from offset 0 gives the same
/// tables. Events are not tagged: on SQLite, tag rows cost about 3x on batched writes (measured in bench/README.md), and
/// reading by ordering needs none.
/// </summary>
#pragma warning disable CA1001 // one instance lives as long as the actor system and outlives projector restarts (its gate keeps their writes apart); a SemaphoreSlim without a wait handle holds nothing to dispose
public sealed class ReadModelProjection
#pragma warning restore CA1001
{
    public const string Name = "read-model";

    private readonly ActorSystem _system;
    private readonly ReadModelDb _db;
    private readonly SqlReadJournal _journal;
    /// <summary>How many finished executions' states stay in memory (a late event of one, such as an enrichment, reloads it from the journal).</summary>
    public const int FinishedStatesKept = 2000;

    private readonly Dictionary<string, ExecutionState> _states = new(StringComparer.Ordinal);
    private readonly Queue<string> _finished = new();
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly byte[] _key;

    public ReadModelProjection(ActorSystem system, ReadModelDb db)
    {
        _system = system;
        _db = db;
        _key = db.AuditKey;
        _journal = PersistenceQuery.Get(system).ReadJournalFor<SqlReadJournal>("akka.persistence.query.journal.sql");
        db.EnsureCreated();
    }

    public long Offset
    {
        get
        {
            using var db = _db.Open();
            return db.GetTable<ProjectionOffsetRow>().Where(r => r.Name == Name).Select(r => (long?)r.Offset).FirstOrDefault() ?? 0;
        }
    }

    /// <summary>Applies every event journaled before the call, then returns; throws <see cref="TimeoutException"/> when
    /// that takes longer than <paramref name="timeout"/> (a caller never reads tables it was told are caught up when they are not).</summary>
    public async Task CatchUpAsync(TimeSpan timeout, CancellationToken ct = default)
    {
        var deadline = DateTime.UtcNow + timeout;
        var target = JournalMaxOrdering();
        while (Offset < target)
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"the read model is {target - Offset} journal event(s) behind after {timeout.TotalSeconds:0} s of catching up");
            var events = await _journal.CurrentAllEvents(Akka.Persistence.Query.Offset.Sequence(Offset))
                .RunWith(Sink.Seq<EventEnvelope>(), _system.Materializer()).ConfigureAwait(false);
            foreach (var batch in events.Chunk(Batch)) await ApplyAsync(batch, ct).ConfigureAwait(false);
            if (events.Count == 0) await Task.Delay(50, ct).ConfigureAwait(false);
        }
    }

    /// <summary>Events per transaction (and per priority turn at SQLite's write lock, <see cref="WriteTurns"/>), also when
    /// catching up or rebuilding, so the journal's writes wait for one batch at most.</summary>
    private const int Batch = 250;

    private static readonly TimeSpan MaxPause = TimeSpan.FromMilliseconds(25);

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    /// <summary>Follows the journal live from the offset reached; the task ends when the switch is shut down or the stream fails.</summary>
    public (UniqueKillSwitch Switch, Task Done) FollowLive(IMaterializer materializer)
    {
        var (killSwitch, done) = _journal.AllEvents(Akka.Persistence.Query.Offset.Sequence(Offset))
            .ViaMaterialized(KillSwitches.Single<EventEnvelope>(), Keep.Right)
            .GroupedWithin(Batch, TimeSpan.FromMilliseconds(50))
            .SelectAsync(1, async batch =>
            {
                var events = batch.ToList();
                var started = Stopwatch.GetTimestamp();
                await ApplyAsync(events, CancellationToken.None).ConfigureAwait(false);
                // Catching up (a batch of 100 events or more): before the next batch, leave the write lock to the journal
                // for as long as this batch held it, at most 25 ms. The journal's connections wait while the projector has its
                // turn (WriteTurns) and are let go when it ends; without the pause the next batch's turn began before most had
                // opened, and the webhook's p99 (a 202 waits for a journal write) went from about 50 to 110-240 ms (issue 17).
                if (events.Count >= 100) await Task.Delay(Min(Stopwatch.GetElapsedTime(started), MaxPause)).ConfigureAwait(false);
                return NotUsed.Instance;
            })
            .ToMaterialized(Sink.Ignore<NotUsed>(), Keep.Both)
            .Run(materializer);
        return (killSwitch, done);
    }

    /// <summary>
    /// Drops the read tables' content and projects the whole journal again (<c>runbookpilot admin rebuild-read-model</c>).
    /// Holds the projection gate throughout, so a live projection running beside it (the server) waits and then resumes
    /// after the rebuilt offset.
    /// </summary>
    public async Task RebuildAsync(CancellationToken ct = default)
    {
        await _gate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            using (var db = _db.Open())
            {
                _db.UnprotectAuditTables(db);
                db.GetTable<EventRow>().Delete();
                db.GetTable<ExecutionRow>().Delete();
                db.GetTable<ExecutionLogRow>().Delete();
                db.GetTable<ApprovalRow>().Delete();
                db.GetTable<SimulationRow>().Delete();
                db.GetTable<ProjectionOffsetRow>().Delete();
                db.GetTable<BindingRow>().Delete();
                db.GetTable<RunAuditRow>().Delete();
                db.GetTable<BindingUsageRow>().Delete();
                db.GetTable<KillSwitchRow>().Delete();
                _db.ProtectAuditTables(db);
            }
            ForgetStates();
            while (true)
            {
                var events = await _journal.CurrentAllEvents(Akka.Persistence.Query.Offset.Sequence(Offset))
                    .RunWith(Sink.Seq<EventEnvelope>(), _system.Materializer()).ConfigureAwait(false);
                if (events.Count == 0) return;
                foreach (var batch in events.Chunk(Batch)) await ApplyCoreAsync(batch, ct).ConfigureAwait(false);
            }
        }
        catch
        {
            ForgetStates(); // as in ApplyAsync: states advanced before a transaction that failed
            throw;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Journal events not yet projected (the projector's lag, a metric).</summary>
    public long Lag() => Math.Max(0, JournalMaxOrdering() - Offset);

    private long JournalMaxOrdering()
    {
        using var db = _db.Open();
        return db.Execute<long?>("SELECT MAX(ordering) FROM journal") ?? 0;
    }

    private async Task ApplyAsync(IReadOnlyList<EventEnvelope> batch, CancellationToken ct)
    {
        await _gate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            await ApplyCoreAsync(batch, ct).ConfigureAwait(false);
        }
        catch
        {
            // The states were advanced before the transaction that failed: forget them, the next batch reloads them.
            ForgetStates();
            throw;
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task ApplyCoreAsync(IReadOnlyList<EventEnvelope> batch, CancellationToken ct)
    {
        var offset = Offset;
        var fresh = batch.Where(e => e.Offset is Sequence s && s.Value > offset).ToList();
        if (fresh.Count == 0) return;
        foreach (var e in fresh.Where(e => e.Event is IExecutionEvent && !_states.ContainsKey(e.PersistenceId)).Select(e => (e.PersistenceId, e.SequenceNr)).DistinctBy(x => x.PersistenceId))
            await LoadStateAsync(e.PersistenceId, e.SequenceNr - 1).ConfigureAwait(false);

        using var turn = _db.Options.IsPostgres ? null : WriteTurns.For(_db.Options).PriorityTurn();
        using var db = _db.Open();
        using var tx = await db.BeginTransactionAsync(ct).ConfigureAwait(false);
        var touchedAlerts = new HashSet<string>(StringComparer.Ordinal);
        var touchedExecutions = new Dictionary<string, (ExecutionState State, DateTimeOffset At)>(StringComparer.Ordinal);
        var (logHead, runsHead) = AuditChain.Heads(db);
        var orderings = fresh.Select(e => ((Sequence)e.Offset).Value).ToList();
        var audit = new AuditWriter(_key, logHead, runsHead, AuditChain.JournalHashes(db, orderings.Min(), orderings.Max()));
        foreach (var envelope in fresh)
        {
            switch (envelope.Event)
            {
                case AlertReceived a:
                    await db.InsertOrReplaceAsync(new EventRow
                    {
                        AlertId = a.AlertId,
                        Format = a.Format,
                        Source = a.Source,
                        ReceivedAt = a.At,
                        AlertTime = AlertTime(a.Alert),
                        Status = a.Format == Domain.Alerts.AlertNormalizers.Unrecognised ? "unrecognised_format" : a.Selected.Count == 0 ? "no_match" : "pending",
                        Playbooks = string.Join(",", a.Selected.Select(s => s.PlaybookId)),
                        Document = a.Alert.ToJsonString(),
                    }, token: ct).ConfigureAwait(false);
                    await ProjectDecisionsAsync(db, envelope, a.AlertId, a.Decisions ?? [], audit, ct).ConfigureAwait(false);
                    break;
                case BindingsDecided d:
                    await ProjectDecisionsAsync(db, envelope, d.AlertId, d.Decisions, audit, ct).ConfigureAwait(false);
                    break;
                case IIntakeEvent i:
                    await ProjectBindingEventAsync(db, envelope, i, audit, ct).ConfigureAwait(false);
                    break;
                case IExecutionEvent e:
                    var executionId = envelope.PersistenceId["execution-".Length..];
                    var before = _states.GetValueOrDefault(envelope.PersistenceId) ?? ExecutionState.Empty;
                    var state = before.Apply(e);
                    _states[envelope.PersistenceId] = state;
                    await ProjectAsync(db, executionId, envelope, e, state, audit, ct).ConfigureAwait(false);
                    touchedExecutions[executionId] = (state, e.At);
                    touchedAlerts.Add(state.AlertId);
                    if (state.Finished) _finished.Enqueue(envelope.PersistenceId);
                    break;
            }
        }
        // One row write per execution per batch, with the state after its last event in the batch.
        foreach (var (executionId, (state, at)) in touchedExecutions) await UpsertExecutionAsync(db, executionId, state, at, ct).ConfigureAwait(false);
        foreach (var alertId in touchedAlerts) await UpdateAlertStatusAsync(db, alertId, ct).ConfigureAwait(false);
        while (_finished.Count > FinishedStatesKept)
            if (_finished.Dequeue() is var id && _states.TryGetValue(id, out var old) && old.Finished) _states.Remove(id);
        var last = fresh.Max(e => ((Sequence)e.Offset).Value);
        await db.InsertOrReplaceAsync(new ProjectionOffsetRow { Name = Name, Offset = last }, token: ct).ConfigureAwait(false);
        await tx.CommitAsync(ct).ConfigureAwait(false);
    }

    /// <summary>One audit row per decision, and the guardrail usage each decision left (its in-flight count moved by runs started).</summary>
    private static async Task ProjectDecisionsAsync(DataConnection db, EventEnvelope envelope, string alertId, IReadOnlyList<BindingDecision> decisions,
        AuditWriter audit, CancellationToken ct)
    {
        var ordering = ((Sequence)envelope.Offset).Value;
        for (var i = 0; i < decisions.Count; i++)
        {
            var d = decisions[i];
            await db.InsertAsync(audit.Seal(new RunAuditRow
            {
                AuditId = $"{ordering}-{i}",
                Seq = ordering * 1000 + i,
                AlertId = alertId,
                BindingId = d.BindingId,
                PlaybookId = d.PlaybookId,
                Mode = BindingDecision.Name(d.Mode),
                Decision = BindingDecision.Name(d.Decision),
                Phase = "decided",
                Success = d.StartsExecution ? null : d.Decision == BindingDecisionKind.Suggested,
                Reason = d.Reason,
                Key = d.Key,
                ExecutionId = d.ExecutionId,
                By = d.By,
                StartedAt = d.At,
                FinishedAt = d.StartsExecution ? null : d.At,
                OutputRef = d.ExecutionId,
            }, ordering), token: ct).ConfigureAwait(false);
            if (d.BindingId is not { } bindingId || (d.Usage is null && !d.StartsExecution && !d.OpensCircuit)) continue;
            var row = db.GetTable<BindingUsageRow>().FirstOrDefault(u => u.BindingId == bindingId && u.Key == d.Key)
                ?? new BindingUsageRow { BindingId = bindingId, Key = d.Key, Tokens = -1, RefilledAt = d.At, QuotaDay = "" };
            if (d.Usage is { } u)
            {
                row.Tokens = u.Tokens;
                row.RefilledAt = u.RefilledAt;
                row.QuotaDay = u.QuotaDay.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
                row.QuotaUsed = u.QuotaUsed;
                row.LastRunAt = u.LastRunAt;
            }
            if (d.StartsExecution) row.InFlight++;
            if (d.OpensCircuit) row.CircuitOpen = true;
            row.UpdatedAt = d.At;
            await db.InsertOrReplaceAsync(row, token: ct).ConfigureAwait(false);
        }
    }

    /// <summary>Bindings saved and deleted, runs ended (a finished audit row, one slot freed), kill switches.</summary>
    private static async Task ProjectBindingEventAsync(DataConnection db, EventEnvelope envelope, IIntakeEvent e, AuditWriter audit, CancellationToken ct)
    {
        switch (e)
        {
            case BindingSaved s:
                var b = s.Binding;
                await db.InsertOrReplaceAsync(new BindingRow
                {
                    BindingId = b.Id, PlaybookId = b.PlaybookId, Mode = BindingDecision.Name(b.Mode), Enabled = b.Spec.Enabled, Priority = b.Spec.Priority,
                    Spec = JsonSerializer.Serialize(b.Spec, JsonConventions.Options), CreatedBy = b.CreatedBy, CreatedAt = b.CreatedAt,
                    UpdatedBy = b.UpdatedBy, UpdatedAt = b.UpdatedAt,
                }, token: ct).ConfigureAwait(false);
                break;
            case BindingDeleted d:
                await db.GetTable<BindingRow>().Where(r => r.BindingId == d.BindingId)
                    .Set(r => r.Deleted, true).Set(r => r.UpdatedBy, d.By).Set(r => r.UpdatedAt, d.At).UpdateAsync(ct).ConfigureAwait(false);
                break;
            case BindingRunEnded r:
                var ordering = ((Sequence)envelope.Offset).Value;
                var success = r.Outcome == "completed";
                await db.InsertAsync(audit.Seal(new RunAuditRow
                {
                    AuditId = $"{ordering}-0", Seq = ordering * 1000, AlertId = r.AlertId, BindingId = r.BindingId, PlaybookId = r.PlaybookId,
                    Mode = BindingDecision.Name(r.Mode), Decision = BindingDecision.Name(r.Mode == BindingMode.DryRun ? BindingDecisionKind.DryRan : BindingDecisionKind.Ran),
                    Phase = "finished", Success = success, Reason = success ? null : "execution " + r.Outcome, Key = r.Key, ExecutionId = r.ExecutionId,
                    StartedAt = r.StartedAt, FinishedAt = r.At, OutputRef = r.ExecutionId,
                }, ordering), token: ct).ConfigureAwait(false);
                await db.GetTable<BindingUsageRow>().Where(u => u.BindingId == r.BindingId && u.Key == r.Key && u.InFlight > 0)
                    .Set(u => u.InFlight, u => u.InFlight - 1).Set(u => u.UpdatedAt, r.At).UpdateAsync(ct).ConfigureAwait(false);
                break;
            case PauseChanged p when p.Paused:
                await db.InsertOrReplaceAsync(new KillSwitchRow { Scope = p.Scope.ToString().ToLowerInvariant(), Target = p.Target, By = p.By, Reason = p.Reason, At = p.At }, token: ct)
                    .ConfigureAwait(false);
                break;
            case PauseChanged p:
                var scope = p.Scope.ToString().ToLowerInvariant();
                await db.GetTable<KillSwitchRow>().Where(k => k.Scope == scope && k.Target == p.Target).DeleteAsync(ct).ConfigureAwait(false);
                if (p.Scope == PauseScope.Binding && int.TryParse(p.Target, out var closed))
                    await db.GetTable<BindingUsageRow>().Where(u => u.BindingId == closed).Set(u => u.CircuitOpen, false).UpdateAsync(ct).ConfigureAwait(false);
                break;
        }
    }

    private async Task LoadStateAsync(string persistenceId, long toSequenceNr)
    {
        var state = ExecutionState.Empty;
        if (toSequenceNr > 0)
        {
            var events = await _journal.CurrentEventsByPersistenceId(persistenceId, 0, toSequenceNr)
                .RunWith(Sink.Seq<EventEnvelope>(), _system.Materializer()).ConfigureAwait(false);
            foreach (var e in events)
                if (e.Event is IExecutionEvent ev) state = state.Apply(ev);
        }
        _states[persistenceId] = state;
    }

    /// <summary>Links audit rows into their chains while a batch is written: index, previous MAC, journal event hash, MAC.</summary>
    private sealed class AuditWriter(byte[] key, ChainHead log, ChainHead runs, IReadOnlyDictionary<long, string> journal)
    {
        private string Journal(long ordering) =>
            journal.TryGetValue(ordering, out var hash) ? hash : throw new InvalidOperationException($"journal event at ordering {ordering} not found while projecting it");

        /// <summary>
        /// Times as the database keeps them: PostgreSQL stores microseconds, so a MAC over .NET's 100 ns ticks would not
        /// match what verification reads back. Truncated before sealing, the stored value is the signed one everywhere.
        /// </summary>
        private static DateTimeOffset Stored(DateTimeOffset t) => new(t.Ticks - t.Ticks % 10, t.Offset);

        public ExecutionLogRow Seal(ExecutionLogRow row, long ordering)
        {
            row.At = Stored(row.At);
            (row.ChainIndex, row.PrevHash, row.JournalOrdering, row.JournalHash) = (log.Index + 1, log.Hash, ordering, Journal(ordering));
            row.Hash = AuditChain.MacOf(row, key);
            (log.Index, log.Hash) = (row.ChainIndex, row.Hash);
            return row;
        }

        public RunAuditRow Seal(RunAuditRow row, long ordering)
        {
            (row.StartedAt, row.FinishedAt) = (Stored(row.StartedAt), row.FinishedAt is { } f ? Stored(f) : null);
            (row.ChainIndex, row.PrevHash, row.JournalOrdering, row.JournalHash) = (runs.Index + 1, runs.Hash, ordering, Journal(ordering));
            row.Hash = AuditChain.MacOf(row, key);
            (runs.Index, runs.Hash) = (row.ChainIndex.Value, row.Hash);
            return row;
        }
    }

    private static readonly string[] AlertTimeFields = ["@timestamp", "event.created"];

    /// <summary>The alert's own time: <c>@timestamp</c>, else <c>event.created</c> (null when neither is a time).</summary>
    private static DateTimeOffset? AlertTime(System.Text.Json.Nodes.JsonObject alert) =>
        AlertTimeFields.Select(f => Domain.Alerts.AlertFields.Text(alert, f))
            .Select(t => DateTimeOffset.TryParse(t, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out var at) ? at.ToUniversalTime() : (DateTimeOffset?)null)
            .FirstOrDefault(t => t is not null);

    /// <summary>When the last state-changing step (a block, a containment, a ticket) succeeded; null in a dry run or when none did.
    /// An adapter outside the built-in catalogue (a plugin) counts as state-changing above L0.</summary>
    private static DateTimeOffset? RespondedAt(ExecutionState state) =>
        state.DryRun ? null : state.Playbook!.Steps
            .Where(s => AdapterCatalog.BuiltIn.Find(s.Adapter)?.Find(s.ActionType)?.ChangesState ?? s.AutonomyLevel != Domain.Playbooks.AutonomyLevel.L0)
            .Select(s => state.Step(s.Id).SucceededAt).Max();

    private void ForgetStates()
    {
        _states.Clear();
        _finished.Clear();
    }

    private static Task<int> UpsertExecutionAsync(DataConnection db, string executionId, ExecutionState state, DateTimeOffset at, CancellationToken ct) =>
        db.InsertOrReplaceAsync(new ExecutionRow
        {
            ExecutionId = executionId,
            AlertId = state.AlertId,
            PlaybookId = state.Playbook!.Id,
            PlaybookVersion = state.Playbook.Version,
            Status = state.Status,
            CurrentStep = state.CurrentStep?.Id,
            SelectionReason = state.SelectionReason,
            StartedAt = state.StartedAt,
            CompletedAt = state.CompletedAt,
            UpdatedAt = at,
            Summary = string.Join(", ", state.Steps.Values.GroupBy(s => s.Status).OrderBy(g => g.Key).Select(g => $"{g.Count()} {g.Key.ToString().ToLowerInvariant()}")),
            OpenWork = state.HasOpenWork,
            DryRun = state.DryRun,
            RespondedAt = RespondedAt(state),
        }, token: ct);

    private static async Task ProjectAsync(DataConnection db, string executionId, EventEnvelope envelope, IExecutionEvent e, ExecutionState state, AuditWriter audit, CancellationToken ct)
    {
        var seq = envelope.SequenceNr;
        var entry = Timeline.Describe(e);
        var row = audit.Seal(new ExecutionLogRow
        {
            ExecutionId = executionId,
            Seq = seq,
            At = e.At,
            StepId = entry.StepId,
            Kind = entry.Kind,
            Status = entry.StepId is { } sid ? state.Step(sid).Status.ToString().ToLowerInvariant() : state.Status,
            Attempt = entry.Attempt,
            Actor = entry.Actor,
            Detail = entry.Detail,
            Request = entry.Request,
            Response = entry.Response,
        }, ((Sequence)envelope.Offset).Value);
        await db.InsertAsync(row, token: ct).ConfigureAwait(false); // append-only: each event is projected once (the offset is in the same transaction)

        switch (e)
        {
            case ApprovalRequested a:
                await db.InsertOrReplaceAsync(ReadModelRows.Approval(executionId, a, state), token: ct).ConfigureAwait(false);
                break;
            case ApprovalVoteRecorded v:
                await db.GetTable<ApprovalRow>().Where(r => r.ApprovalId == v.ApprovalId)
                    .Set(r => r.Approvers, string.Join(",", state.Step(v.StepId).Approval!.Approvers)).UpdateAsync(ct).ConfigureAwait(false);
                break;
            case StepApproved x:
                await Decide(db, x.ApprovalId, "approved", x.Approver, x.Comment, x.At, string.Join(",", state.Step(x.StepId).Approval!.Approvers), ct).ConfigureAwait(false);
                if (state.Step(x.StepId).SimulationId is { } promotedSim)
                    await db.GetTable<SimulationRow>().Where(r => r.SimulationId == promotedSim).Set(r => r.Status, "executed").UpdateAsync(ct).ConfigureAwait(false);
                break;
            case StepRejected x:
                await Decide(db, x.ApprovalId, "rejected", x.By, x.Comment, x.At, null, ct).ConfigureAwait(false);
                break;
            case ApprovalExpired x:
                await Decide(db, x.ApprovalId, "expired", null, null, x.At, null, ct).ConfigureAwait(false);
                break;
            case StepRefused x when state.Step(x.StepId).Approval is { } refusedApproval:
                await Decide(db, refusedApproval.ApprovalId, "refused", "policy", x.Reason, x.At, null, ct).ConfigureAwait(false);
                if (state.Step(x.StepId).SimulationId is { } refusedSim)
                    await db.GetTable<SimulationRow>().Where(r => r.SimulationId == refusedSim).Set(r => r.Status, "refused").UpdateAsync(ct).ConfigureAwait(false);
                break;
            case StepSimulated s:
                await db.InsertOrReplaceAsync(ReadModelRows.Simulation(executionId, s, state), token: ct).ConfigureAwait(false);
                break;
            case SimulationPromoted p:
                await db.GetTable<SimulationRow>().Where(r => r.SimulationId == p.SimulationId)
                    .Set(r => r.Status, "promoted").Set(r => r.DecidedBy, p.By).Set(r => r.DecidedAt, p.At).UpdateAsync(ct).ConfigureAwait(false);
                break;
            case SimulationDismissed d:
                await db.GetTable<SimulationRow>().Where(r => r.SimulationId == d.SimulationId)
                    .Set(r => r.Status, "dismissed").Set(r => r.DecidedBy, d.By).Set(r => r.DecidedAt, d.At).UpdateAsync(ct).ConfigureAwait(false);
                break;
        }
    }

    private static Task<int> Decide(DataConnection db, string approvalId, string status, string? by, string? comment, DateTimeOffset at, string? approvers, CancellationToken ct)
    {
        var q = db.GetTable<ApprovalRow>().Where(r => r.ApprovalId == approvalId)
            .Set(r => r.Status, status).Set(r => r.DecidedBy, by).Set(r => r.Comment, comment).Set(r => r.DecidedAt, at);
        if (approvers is not null) q = q.Set(r => r.Approvers, approvers);
        return q.UpdateAsync(ct);
    }

    private static async Task UpdateAlertStatusAsync(DataConnection db, string alertId, CancellationToken ct)
    {
        var statuses = await LinqToDB.Async.AsyncExtensions.ToListAsync(db.GetTable<ExecutionRow>().Where(r => r.AlertId == alertId).Select(r => r.Status), ct).ConfigureAwait(false);
        if (statuses.Count == 0) return;
        var status = statuses.Any(s => s is "running" or "waiting_approval") ? "running"
            : statuses.Any(s => s is "failed" or "completed_with_failures") ? "failed"
            : "completed";
        await db.GetTable<EventRow>().Where(r => r.AlertId == alertId).Set(r => r.Status, status).UpdateAsync(ct).ConfigureAwait(false);
    }
}
