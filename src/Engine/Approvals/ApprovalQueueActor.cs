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
/// in order. It hears the executions of its own node: a cluster-wide feed is issue 15's.
/// </summary>
public sealed class ApprovalQueueActor : ReceiveActor, IWithStash
{
    private const int RefusedKept = 20;

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly IActorRef _projector;
    private readonly ReadModelDb _db;
    private readonly Dictionary<string, QueuedApproval> _pending = new(StringComparer.Ordinal);
    private readonly Dictionary<string, QueuedSimulation> _simulations = new(StringComparer.Ordinal);
    private readonly Dictionary<string, QueuedSimulation> _promoted = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ExecutionState> _states = new(StringComparer.Ordinal);
    private readonly LinkedList<ApprovalRow> _refused = new();
    private readonly LinkedList<SimulationRow> _refusedSimulations = new();

    public ApprovalQueueActor(IActorRef projector, ReadModelDb db)
    {
        _projector = projector;
        _db = db;
        Receive<ReadModelProjector.Done>(_ =>
        {
            Load();
            Stash.UnstashAll();
            Become(Ready);
        });
        Receive<Status.Failure>(f => throw new InvalidOperationException("the approval queue could not load what is pending: " + f.Cause.Message, f.Cause));
        ReceiveAny(_ => Stash.Stash());
    }

    public IStash Stash { get; set; } = null!;

    public static Props Props(IActorRef projector, ReadModelDb db) => Akka.Actor.Props.Create(() => new ApprovalQueueActor(projector, db));

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
                _pending[a.ApprovalId] = new QueuedApproval(ReadModelRows.Approval(u.ExecutionId, a, state), null);
                return true;
            case ApprovalVoteRecorded v when state is not null && _pending.TryGetValue(v.ApprovalId, out var voted):
                var row = Copy(voted.Approval, voted.Approval.Status, voted.Approval.DecidedBy, voted.Approval.Comment, voted.Approval.DecidedAt);
                row.Approvers = string.Join(",", state.Step(v.StepId).Approval!.Approvers); // a new row: a page may be showing the old one
                _pending[v.ApprovalId] = voted with { Approval = row };
                return true;
            case StepApproved x:
                Leave(state?.Step(x.StepId).SimulationId); // a promoted simulation was executed
                _pending.Remove(x.ApprovalId);
                return true;
            case StepRejected x:
                Leave(state?.Step(x.StepId).SimulationId);
                return _pending.Remove(x.ApprovalId);
            case ApprovalExpired x:
                Leave(state?.Step(x.StepId).SimulationId);
                return _pending.Remove(x.ApprovalId);
            case StepRefused x when state?.Step(x.StepId) is { Approval: { } approval } step:
                // As the read model has it: a refused approval (and the simulation it promoted) is refused; a refused
                // "Execute now" on a simulation that never became an approval leaves the simulation waiting.
                if (_pending.Remove(approval.ApprovalId, out var refused))
                    Keep(_refused, Copy(refused.Approval, "refused", "policy", x.Reason, x.At));
                if (step.SimulationId is { } sim && (_simulations.Remove(sim, out var refusedSim) || _promoted.Remove(sim, out refusedSim)))
                    Keep(_refusedSimulations, CopySimulation(refusedSim.Simulation, "refused"));
                return true;
            case StepSimulated s when state?.Playbook is not null:
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

    private bool Leave(string? simulationId) => simulationId is not null && (_simulations.Remove(simulationId) | _promoted.Remove(simulationId));

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
