using Akka.Actor;
using Akka.Hosting;
using LinqToDB;
using LinqToDB.Data;
using RunbookPilot.Domain.Attack;
using RunbookPilot.Domain.Execution;
using RunbookPilot.Engine.Execution;
using RunbookPilot.Engine.ReadModel;

namespace RunbookPilot.Engine.Api;

/// <summary>An analyst's decision on a waiting step.</summary>
public enum DecisionKind { Approve, Reject, Rollback }

/// <summary>What one decision did, and the execution it went to ("-" when none was found).</summary>
public sealed record DecisionOutcome(string ExecutionId, string? StepId, CommandResult Result);

/// <summary>An execution as every front end shows it: its row, state, steps, timeline, ATT&amp;CK context and enrichments.</summary>
public sealed record ExecutionDetail(ExecutionRow Row, ExecutionState State, IReadOnlyList<StepView> Steps, IReadOnlyList<ExecutionLogRow> Timeline,
    IReadOnlyList<AttackTechnique> Attack, IReadOnlyList<EnrichmentView> Enrichments, IReadOnlyList<ApprovalRow> Approvals, IReadOnlyList<SimulationRow> Simulations,
    string AlertLine, bool Settled)
{
    /// <summary>The shared effects of the execution's reversible steps and who else holds them (the effect ledger).</summary>
    public IReadOnlyList<StepEffect> Effects { get; init; } = [];
}

/// <summary>
/// Executions and the decisions people take on them: the one place that sends approve, reject, rollback, execute and
/// dismiss a simulation, and bulk approval. An id that names no execution is answered not_found without creating an
/// entity for it (a lookup of random ids must not leave live actors behind); starting one is the intake's job.
/// </summary>
public sealed class ExecutionsApi(IRequiredActor<ExecutionRegion> region, ActorSystem system, ReadModelDb db, ReadApi read, EffectsApi effects)
{
    private static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(30);

    /// <summary>While a member is unreachable or was removed, how often a message is sent again.</summary>
    private static readonly TimeSpan ResendEvery = TimeSpan.FromSeconds(5);

    public async Task<CommandResult> SendAsync(IExecutionCommand command, CancellationToken ct = default) =>
        command is StartExecution || Exists(command.ExecutionId)
            ? await AskAsync<CommandResult>(command, command is ApproveStep { StepId: not null } or RejectStep { StepId: not null }, ct).ConfigureAwait(false)
            : new CommandResult(false, "not_found", $"execution {command.ExecutionId} does not exist");

    /// <summary>
    /// Asks the execution's entity, within 30 s. A message to a shard on a member that has just been lost is dropped
    /// until that member is removed and its shards move (about 17 s); the failure detector needs about 3 s to notice.
    /// So a message that may be repeated (<paramref name="repeatable"/>: a query, or an approve or reject that names its
    /// step) is sent again every 5 s within the same 30 s while the cluster has an unreachable member, or fewer members
    /// than when the ask began, and the first answer wins: a decision taken during a node loss is answered once the
    /// shard has moved instead of timing out. A later copy of a decision finds the named step decided and is answered
    /// "already decided", running nothing; a decision that does not name its step is never repeated (a copy could
    /// decide the next step).
    /// </summary>
    private async Task<T> AskAsync<T>(object message, bool repeatable, CancellationToken ct)
    {
        var cluster = Akka.Cluster.Cluster.Get(system);
        var members = cluster.State.Members.Count;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var asks = new List<Task<T>> { region.ActorRef.Ask<T>(message, AskTimeout, ct) };
        while (repeatable)
        {
            if (asks.FirstOrDefault(a => a.IsCompletedSuccessfully) is { } answered) return answered.Result;
            var waiting = asks.Where(a => !a.IsCompleted).ToList();
            if (waiting.Count == 0) break;
            var left = AskTimeout - clock.Elapsed;
            if (left <= ResendEvery)
            {
                await Task.WhenAny(waiting).ConfigureAwait(false); // no time for another copy: the outstanding ones answer or time out
                continue;
            }
            var tick = Task.Delay(ResendEvery, ct);
            if (await Task.WhenAny(waiting.Append(tick)).ConfigureAwait(false) != tick) continue;
            if (cluster.State.Unreachable.Count > 0 || cluster.State.Members.Count < members)
                asks.Add(region.ActorRef.Ask<T>(message, AskTimeout - clock.Elapsed, ct));
        }
        return await asks[0].ConfigureAwait(false); // every copy failed: the first one's error
    }

    /// <summary>The execution's state; an unknown id gives the empty state without creating an entity.</summary>
    public async Task<ExecutionSnapshot> GetAsync(string executionId, CancellationToken ct = default) =>
        Exists(executionId) ? await AskAsync(executionId, ct).ConfigureAwait(false) : new ExecutionSnapshot(ExecutionState.Empty, false);

    private Task<ExecutionSnapshot> AskAsync(string executionId, CancellationToken ct) => AskAsync<ExecutionSnapshot>(new GetExecution(executionId), repeatable: true, ct);

    /// <summary>Whether the journal holds an execution with this id (its first event is journaled before anyone learns its id).</summary>
    public bool Exists(string executionId)
    {
        using var connection = db.Open();
        return connection.Execute<long?>("SELECT 1 FROM journal WHERE persistence_id = @p LIMIT 1",
            new DataParameter("p", "execution-" + executionId, DataType.NVarChar)) is not null;
    }

    /// <summary>Waits until the execution is settled: finished, or waiting only for people.</summary>
    public async Task<ExecutionSnapshot> WaitSettledAsync(string executionId, TimeSpan timeout, CancellationToken ct = default)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(timeout);
        var exists = false; // the journal is asked only until the execution exists, not on every poll
        while (true)
        {
            try
            {
                exists = exists || Exists(executionId);
                var snapshot = exists ? await AskAsync(executionId, cts.Token).ConfigureAwait(false) : new ExecutionSnapshot(ExecutionState.Empty, false);
                if (snapshot.State.Started && snapshot.Settled) return snapshot;
            }
            catch (AskTimeoutException) when (!cts.IsCancellationRequested)
            {
                // A busy or restarting entity: ask again until the overall timeout.
            }
            await Task.Delay(20, cts.Token).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// After a decision that runs a step (approve, execute now, rollback): waits up to <paramref name="timeout"/> for
    /// the step's result and says what it was. A decision that was refused or only recorded a vote is returned as is.
    /// </summary>
    public async Task<CommandResult> ResultAsync(DecisionOutcome decided, bool rollback, TimeSpan timeout, CancellationToken ct = default)
    {
        if (decided.Result is not { Ok: true, Code: "ok" } || decided.ExecutionId == "-") return decided.Result;
        var state = (await SettledOrCurrentAsync(decided.ExecutionId, timeout, ct).ConfigureAwait(false)).State;
        var steps = decided.StepId is { } one ? [one]
            : rollback ? state.Playbook!.Steps.Where(s => state.Step(s.Id).Rollback != RollbackStatus.None).Select(s => s.Id).ToList()
            : state.Playbook!.Steps.Where(s => state.Step(s.Id).Approval?.Approvers.Count > 0).Select(s => s.Id).TakeLast(1).ToList();
        var results = steps.Select(id => StepOutcome.Describe(state, id, rollback)).ToList();
        if (results.Count == 0) return decided.Result;
        return new CommandResult(results.All(r => r.Ok), results.All(r => r.Ok) ? "ok" : "step_failed", string.Join("; ", results.Select(r => r.Message)));
    }

    /// <summary>Settled within the timeout, or as it stands when the timeout passes.</summary>
    public async Task<ExecutionSnapshot> SettledOrCurrentAsync(string executionId, TimeSpan timeout, CancellationToken ct = default)
    {
        try
        {
            return await WaitSettledAsync(executionId, timeout, ct).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return await GetAsync(executionId, ct).ConfigureAwait(false);
        }
    }

    /// <summary>The execution as shown (after the read model caught up), or null when it does not exist.</summary>
    public async Task<ExecutionDetail?> DetailAsync(string executionId, ExecutionSnapshot? snapshot = null, CancellationToken ct = default)
    {
        if (await read.ExecutionAsync(executionId, ct).ConfigureAwait(false) is not { } row) return null;
        snapshot ??= await GetAsync(executionId, ct).ConfigureAwait(false);
        var state = snapshot.State;
        var q = read.Tables;
        return new ExecutionDetail(row, state, StepView.Of(state), q.Log(executionId), state.Techniques(), state.Enrichments.Select(EnrichmentView.Of).ToList(),
            q.Approvals(null, executionId: executionId), q.Simulations(null, executionId), Presenters.AlertLine(state.Alert), snapshot.Settled)
        {
            Effects = await effects.ForExecutionAsync(state, ct).ConfigureAwait(false),
        };
    }

    public async Task<DecisionOutcome> DecideAsync(DecisionKind kind, string executionId, string? stepId, string by, string? comment, CancellationToken ct = default)
    {
        // An approve or reject without a step goes to the one step waiting for approval, named before it is sent (so a
        // repeat of it during a node loss can only find that step decided, never decide the next one).
        if (stepId is null && kind is DecisionKind.Approve or DecisionKind.Reject && Exists(executionId))
        {
            var state = (await AskAsync(executionId, ct).ConfigureAwait(false)).State;
            var waiting = state.Playbook?.Steps.Where(s => state.Step(s.Id).Status == StepStatus.WaitingApproval).Select(s => s.Id).ToList() ?? [];
            if (waiting.Count == 1) stepId = waiting[0];
        }
        IExecutionCommand command = kind switch
        {
            DecisionKind.Approve => new ApproveStep(executionId, stepId, by, comment),
            DecisionKind.Reject => new RejectStep(executionId, stepId, by, comment),
            _ => new RequestRollback(executionId, stepId, by, comment),
        };
        return new DecisionOutcome(executionId, stepId, await SendAsync(command, ct).ConfigureAwait(false));
    }

    /// <summary>"Execute now" (an L1 approval of the simulated step) or "Dismiss" on an L2 simulation.</summary>
    public async Task<DecisionOutcome> DecideSimulationAsync(bool execute, string simulationId, string by, string? comment, CancellationToken ct = default)
    {
        if (await read.SimulationAsync(simulationId, ct).ConfigureAwait(false) is not { } row)
            return new DecisionOutcome("-", null, new CommandResult(false, "not_found", $"no simulation {simulationId}"));
        IExecutionCommand command = execute
            ? new ExecuteSimulation(row.ExecutionId, simulationId, by, comment)
            : new DismissSimulation(row.ExecutionId, simulationId, by, comment);
        return new DecisionOutcome(row.ExecutionId, row.StepId, await SendAsync(command, ct).ConfigureAwait(false));
    }

    /// <summary>Approves every pending approval (of one playbook, when named), oldest first; one outcome per approval.</summary>
    public async Task<IReadOnlyList<DecisionOutcome>> BulkApproveAsync(string? playbook, string by, string? comment, CancellationToken ct = default)
    {
        var outcomes = new List<DecisionOutcome>();
        foreach (var a in await read.ApprovalsAsync("pending", playbook, ct: ct).ConfigureAwait(false))
            outcomes.Add(await DecideAsync(DecisionKind.Approve, a.ExecutionId, a.StepId, by, comment, ct).ConfigureAwait(false));
        return outcomes;
    }
}
