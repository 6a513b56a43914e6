using Akka.Actor;
using Akka.Event;
using RunbookPilot.Domain.Execution;
using RunbookPilot.Engine.Execution;
using RunbookPilot.Engine.ReadModel;

namespace RunbookPilot.Engine.Approvals;

/// <summary>Registry key of the approval queue, and its messages.</summary>
public sealed class ApprovalQueue
{
    /// <summary>Answered with <see cref="QueueView"/>: at most <see cref="Limit"/> of each kind, oldest first.</summary>
    public sealed record Get(int Limit);

    /// <summary>Published on the event stream (so a restarted queue loses no subscriber): an execution changed (in the order its decisions were made); <see cref="QueueChanged"/>: an approval or simulation arrived or left.</summary>
    public sealed record Updated(ExecutionUpdated Update, bool QueueChanged);

    /// <summary>Compares the queue with the read tables and takes in what it missed (<see cref="ApprovalQueueActor"/>).</summary>
    public sealed record Heal;

    /// <summary>Published on the event stream when a heal changed the queue (the dashboard's pages redraw).</summary>
    public sealed record Healed(int Added, int Removed);
}

/// <summary>A pending approval, with the execution's state when this node has seen it (for the alert line, enrichments and ATT&amp;CK).</summary>
public sealed record QueuedApproval(ApprovalRow Approval, ExecutionState? State);

public sealed record QueuedSimulation(SimulationRow Simulation, ExecutionState? State);

public sealed record QueueView(IReadOnlyList<QueuedApproval> Pending, IReadOnlyList<QueuedSimulation> Simulations, IReadOnlyList<ApprovalRow> Refused,
    IReadOnlyList<SimulationRow> RefusedSimulations, int TotalPending, int TotalSimulations)
{
    /// <summary>When the oldest pending approval was requested (the list is oldest first), or null.</summary>
    public DateTimeOffset? OldestPendingAt => Pending.Count > 0 ? Pending[0].Approval.RequestedAt : null;
}

/// <summary>
/// The approval queue (design card): the pending approvals and L2 simulations, held in memory and kept from the
/// executions' events as they are decided, so the dashboard and <c>/ws</c> follow it without querying SQL. At start it
/// loads what is pending from the read tables once (after the projector caught up), holding the events that arrive
/// meanwhile; from then on only events change it. It passes every execution update on (<see cref="ApprovalQueue.Updated"/>),
/// in order. In a cluster it also hears the other nodes' executions through the cluster feed, whose messages are
/// delivered at most once: every <c>healEvery</c> (and on <see cref="ApprovalQueue.Heal"/>) it compares itself with the
/// read tables once the projector has caught up, takes in a pending item it never heard of and drops one the tables
/// show decided. An item this queue saw leave is not brought back by a table that has not caught up with it yet.
/// </summary>
public sealed class ApprovalQueueActor : ReceiveActor, IWithStash, IWithTimers
{
    private const int RefusedKept = 20;
    private const int GoneKept = 10_000;

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly IActorRef _projector;
    private readonly ReadModelDb _db;
    private readonly Dictionary<string, QueuedApproval> _pending = new(StringComparer.Ordinal);
    private readonly Dictionary<string, QueuedSimulation> _simulations = new(StringComparer.Ordinal);
    private readonly Dictionary<string, QueuedSimulation> _promoted = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ExecutionState> _states = new(StringComparer.Ordinal);
    private readonly LinkedList<ApprovalRow> _refused = new();
    private readonly LinkedList<SimulationRow> _refusedSimulations = new();
    private readonly TimeSpan? _healEvery;
    // Approval and simulation ids that left this queue (most recent last): a heal does not bring them back.
    private readonly HashSet<string> _gone = new(StringComparer.Ordinal);
    private readonly Queue<string> _goneOrder = new();
    private bool _healing;

    private sealed record TablesRead(IReadOnlyList<ApprovalRow> Pending, IReadOnlyList<SimulationRow> Simulated, IReadOnlySet<string> Decided);

    public ApprovalQueueActor(IActorRef projector, ReadModelDb db, TimeSpan? healEvery)
    {
        _projector = projector;
        _db = db;
        _healEvery = healEvery;
        Receive<ReadModelProjector.Done>(_ =>
        {
            Load();
            Stash.UnstashAll();
            Become(Ready);
            if (_healEvery is { } every) Timers.StartPeriodicTimer("heal", new ApprovalQueue.Heal(), every);
        });
        Receive<Status.Failure>(f => throw new InvalidOperationException("the approval queue could not load what is pending: " + f.Cause.Message, f.Cause));
        ReceiveAny(_ => Stash.Stash());
    }

    public IStash Stash { get; set; } = null!;

    public ITimerScheduler Timers { get; set; } = null!;

    /// <param name="healEvery">How often it compares itself with the read tables (a cluster node); null: never (a single node hears every event itself).</param>
    public static Props Props(IActorRef projector, ReadModelDb db, TimeSpan? healEvery = null) =>
        Akka.Actor.Props.Create(() => new ApprovalQueueActor(projector, db, healEvery));

    protected override void PreStart()
    {
        Context.System.EventStream.Subscribe(Self, typeof(ExecutionUpdated)); // before loading: nothing falls between
        _projector.Ask<ReadModelProjector.Done>(new ReadModelProjector.CatchUp(TimeSpan.FromMinutes(2)), TimeSpan.FromMinutes(2.5)).PipeTo(Self);
    }

    private void Ready()
    {
        Receive<ExecutionUpdated>(u =>
        {
            // The latest state of every execution with a queued item (its alert line, enrichments, ATT&CK context).
            if (u.State is { } state && (_states.ContainsKey(u.ExecutionId) || u.Events.Any(e => e is ApprovalRequested or StepSimulated)))
                _states[u.ExecutionId] = state;
            var changed = false;
            foreach (var e in u.Events) changed |= Apply(u, e);
            Context.System.EventStream.Publish(new ApprovalQueue.Updated(u, changed));
        });
        Receive<ApprovalQueue.Get>(g => Sender.Tell(View(g.Limit)));
        Receive<ApprovalQueue.Heal>(_ =>
        {
            if (_healing) return;
            _healing = true;
            var known = _pending.Keys.Concat(_simulations.Keys).ToList();
            ReadTablesAsync(known).PipeTo(Self);
        });
        Receive<TablesRead>(Healed);
        Receive<Status.Failure>(f =>
        {
            _healing = false;
            _log.Warning("The approval queue could not be compared with the read tables: {0}", f.Cause.Message);
        });
    }

    private async Task<TablesRead> ReadTablesAsync(IReadOnlyList<string> known)
    {
        await _projector.Ask<ReadModelProjector.Done>(new ReadModelProjector.CatchUp(TimeSpan.FromMinutes(1)), TimeSpan.FromMinutes(1.5)).ConfigureAwait(false);
        var q = new ReadModelQueries(_db);
        var pending = q.Approvals("pending");
        var simulated = q.Simulations("simulated");
        // What this queue holds that the tables no longer show as waiting: decided, if the tables know the item at all.
        var waiting = pending.Select(a => a.ApprovalId).Concat(simulated.Select(s => s.SimulationId)).ToHashSet(StringComparer.Ordinal);
        var stale = known.Where(id => !waiting.Contains(id)).ToList();
        var decided = stale.Count == 0 ? new HashSet<string>() : q.KnownQueueItems(stale);
        return new TablesRead(pending, simulated, decided);
    }

    private void Healed(TablesRead tables)
    {
        _healing = false;
        var added = 0;
        var removed = 0;
        foreach (var a in tables.Pending.Where(a => !_pending.ContainsKey(a.ApprovalId) && !_gone.Contains(a.ApprovalId)))
        {
            _pending[a.ApprovalId] = new QueuedApproval(a, null);
            added++;
        }
        foreach (var s in tables.Simulated.Where(s => !_simulations.ContainsKey(s.SimulationId) && !_promoted.ContainsKey(s.SimulationId) && !_gone.Contains(s.SimulationId)))
        {
            _simulations[s.SimulationId] = new QueuedSimulation(s, null);
            added++;
        }
        foreach (var id in tables.Decided)
            if (_pending.Remove(id) | _simulations.Remove(id)) removed++;
        if (added + removed == 0) return;
        _log.Warning("The approval queue missed {0} arrival(s) and {1} departure(s) relayed from other nodes; taken from the read tables", added, removed);
        Context.System.EventStream.Publish(new ApprovalQueue.Healed(added, removed));
    }

    private void Forget(string? id)
    {
        if (id is null || !_gone.Add(id)) return;
        _goneOrder.Enqueue(id);
        if (_goneOrder.Count > GoneKept) _gone.Remove(_goneOrder.Dequeue());
    }

    private void Load()
    {
        var q = new ReadModelQueries(_db);
        foreach (var a in q.Approvals("pending")) _pending[a.ApprovalId] = new QueuedApproval(a, null);
        foreach (var s in q.Simulations("simulated")) _simulations[s.SimulationId] = new QueuedSimulation(s, null);
        foreach (var a in q.Approvals("refused").TakeLast(RefusedKept)) _refused.AddLast(a);
        foreach (var s in q.Simulations("refused").TakeLast(RefusedKept)) _refusedSimulations.AddLast(s);
        _log.Info("Approval queue loaded: {0} pending approval(s), {1} simulation(s)", _pending.Count, _simulations.Count);
    }

    /// <summary>One event's effect on the queue; true when an item arrived or left.</summary>
    private bool Apply(ExecutionUpdated u, IExecutionEvent e)
    {
        var state = u.State;
        switch (e)
        {
            case ApprovalRequested a when state?.Playbook is not null:
                // Asked again (a promoted simulation whose "Execute now" was refused, promoted once more): a heal may take it in.
                _gone.Remove(a.ApprovalId);
                _pending[a.ApprovalId] = new QueuedApproval(ReadModelRows.Approval(u.ExecutionId, a, state), null);
                return true;
            case ApprovalVoteRecorded v when state is not null && _pending.TryGetValue(v.ApprovalId, out var voted):
                var row = Copy(voted.Approval, voted.Approval.Status, voted.Approval.DecidedBy, voted.Approval.Comment, voted.Approval.DecidedAt);
                row.Approvers = string.Join(",", state.Step(v.StepId).Approval!.Approvers); // a new row: a page may be showing the old one
                _pending[v.ApprovalId] = voted with { Approval = row };
                return true;
            case StepApproved x:
                Leave(state?.Step(x.StepId).SimulationId); // a promoted simulation was executed
                Forget(x.ApprovalId);
                _pending.Remove(x.ApprovalId);
                return true;
            case StepRejected x:
                Leave(state?.Step(x.StepId).SimulationId);
                Forget(x.ApprovalId);
                return _pending.Remove(x.ApprovalId);
            case ApprovalExpired x:
                Leave(state?.Step(x.StepId).SimulationId);
                Forget(x.ApprovalId);
                return _pending.Remove(x.ApprovalId);
            case StepRefused x when state?.Step(x.StepId) is { Approval: { } approval } step:
                // As the read model has it: a refused approval (and the simulation it promoted) is refused; a refused
                // "Execute now" on a simulation that never became an approval leaves the simulation waiting.
                Forget(approval.ApprovalId);
                if (_pending.Remove(approval.ApprovalId, out var refused))
                    Keep(_refused, Copy(refused.Approval, "refused", "policy", x.Reason, x.At));
                Forget(step.SimulationId);
                if (step.SimulationId is { } sim && (_simulations.Remove(sim, out var refusedSim) || _promoted.Remove(sim, out refusedSim)))
                    Keep(_refusedSimulations, CopySimulation(refusedSim.Simulation, "refused"));
                return true;
            case StepSimulated s when state?.Playbook is not null:
                _gone.Remove(s.SimulationId);
                _simulations[s.SimulationId] = new QueuedSimulation(ReadModelRows.Simulation(u.ExecutionId, s, state), null);
                return true;
            case SimulationPromoted p when _simulations.Remove(p.SimulationId, out var promoted):
                _promoted[p.SimulationId] = promoted; // until its approval is decided
                return true;
            case SimulationDismissed d:
                return Leave(d.SimulationId);
            default:
                return false;
        }
    }

    private bool Leave(string? simulationId)
    {
        Forget(simulationId);
        return simulationId is not null && (_simulations.Remove(simulationId) | _promoted.Remove(simulationId));
    }

    private static void Keep<T>(LinkedList<T> list, T item)
    {
        list.AddLast(item);
        if (list.Count > RefusedKept) list.RemoveFirst();
    }

    private static ApprovalRow Copy(ApprovalRow a, string status, string? by, string? comment, DateTimeOffset? at) => new()
    {
        ApprovalId = a.ApprovalId, ExecutionId = a.ExecutionId, StepId = a.StepId, StepName = a.StepName, PlaybookId = a.PlaybookId, AutonomyLevel = a.AutonomyLevel,
        Action = a.Action, Reason = a.Reason, Status = status, RequiredApprovers = a.RequiredApprovers, Approvers = a.Approvers, RequestedAt = a.RequestedAt,
        Deadline = a.Deadline, DecidedAt = at, DecidedBy = by, Comment = comment, Request = a.Request, RollbackAvailable = a.RollbackAvailable, AttackContext = a.AttackContext,
    };

    private static SimulationRow CopySimulation(SimulationRow s, string status) => new()
    {
        SimulationId = s.SimulationId, ExecutionId = s.ExecutionId, StepId = s.StepId, PlaybookId = s.PlaybookId, Adapter = s.Adapter, Action = s.Action,
        Method = s.Method, Request = s.Request, ExpectedOutcome = s.ExpectedOutcome, RiskScore = s.RiskScore, RiskFactors = s.RiskFactors,
        Recommendation = s.Recommendation, CreatedAt = s.CreatedAt, Status = status, DecidedBy = s.DecidedBy, DecidedAt = s.DecidedAt,
    };

    private QueueView View(int limit)
    {
        var pending = _pending.Values.OrderBy(a => a.Approval.RequestedAt).ThenBy(a => a.Approval.ApprovalId, StringComparer.Ordinal).ToList();
        var simulations = _simulations.Values.OrderByDescending(s => s.Simulation.CreatedAt).ThenBy(s => s.Simulation.SimulationId, StringComparer.Ordinal).ToList();
        var queued = pending.Select(a => a.Approval.ExecutionId).Concat(simulations.Select(s => s.Simulation.ExecutionId))
            .Concat(_promoted.Values.Select(p => p.Simulation.ExecutionId)).ToHashSet(StringComparer.Ordinal);
        foreach (var gone in _states.Keys.Where(id => !queued.Contains(id)).ToList()) _states.Remove(gone);
        return new QueueView(pending.Take(limit).Select(a => a with { State = _states.GetValueOrDefault(a.Approval.ExecutionId) }).ToList(),
            simulations.Take(limit).Select(s => s with { State = _states.GetValueOrDefault(s.Simulation.ExecutionId) }).ToList(),
            _refused.ToList(), _refusedSimulations.ToList(), pending.Count, simulations.Count);
    }
}
