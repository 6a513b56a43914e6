using Akka.Actor;
using Akka.Hosting;
using RunbookPilot.Engine.Approvals;
using RunbookPilot.Engine.Metrics;

namespace RunbookPilot.Engine.Api;

/// <summary>The live views: the approval queue (from the approval-queue actor) and this node's live figures (from the metrics actor).</summary>
public sealed class ApprovalsApi(IRequiredActor<ApprovalQueue> queue, IRequiredActor<MetricsCollector> metrics, ExecutionsApi executions)
{
    private static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(10);

    /// <summary>At most <paramref name="limit"/> pending approvals and simulations (oldest approvals, newest simulations first), each with its
    /// execution's state (asked from the execution when this node has not seen it change since it started).</summary>
    public async Task<QueueView> QueueAsync(int limit, CancellationToken ct = default)
    {
        var view = await queue.ActorRef.Ask<QueueView>(new ApprovalQueue.Get(limit), AskTimeout, ct).ConfigureAwait(false);
        var missing = view.Pending.Where(a => a.State is null).Select(a => a.Approval.ExecutionId)
            .Concat(view.Simulations.Where(s => s.State is null).Select(s => s.Simulation.ExecutionId)).Distinct(StringComparer.Ordinal).ToList();
        if (missing.Count == 0) return view;
        var states = new Dictionary<string, Domain.Execution.ExecutionState>(StringComparer.Ordinal);
        foreach (var id in missing) states[id] = (await executions.GetAsync(id, ct).ConfigureAwait(false)).State;
        return view with
        {
            Pending = view.Pending.Select(a => a.State is null ? a with { State = states[a.Approval.ExecutionId] } : a).ToList(),
            Simulations = view.Simulations.Select(s => s.State is null ? s with { State = states[s.Simulation.ExecutionId] } : s).ToList(),
        };
    }

    /// <summary>When the oldest approval still pending was requested, or null (PRD: how long the queue keeps people waiting).</summary>
    public async Task<DateTimeOffset?> OldestPendingAsync(CancellationToken ct = default) =>
        (await queue.ActorRef.Ask<QueueView>(new ApprovalQueue.Get(1), AskTimeout, ct).ConfigureAwait(false)).OldestPendingAt;

    /// <summary>What this node's executions did since it started.</summary>
    public Task<LiveFigures> LiveFiguresAsync(CancellationToken ct = default) =>
        metrics.ActorRef.Ask<LiveFigures>(GetLiveFigures.Instance, AskTimeout, ct);
}
