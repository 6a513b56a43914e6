using Akka.Actor;
using Akka.Hosting;
using RunbookPilot.Domain.Effects;
using RunbookPilot.Domain.Execution;
using RunbookPilot.Engine.Effects;
using RunbookPilot.Engine.Execution;

namespace RunbookPilot.Engine.Api;

/// <summary>A reversible step's shared effect and the other executions that hold it ("already blocked by ex-…").</summary>
public sealed record StepEffect(string StepId, EffectKey Effect, IReadOnlyList<string> OtherHolders)
{
    /// <summary>What an approver or a person rolling back reads: "10.20.8.45 blocked on paloalto: also held by ex-…".</summary>
    public string Notice(bool rollingBack) => OtherHolders.Count == 0
        ? $"{Effect}: no other execution holds it" + (rollingBack ? "; rolling back undoes it at the vendor" : "")
        : rollingBack
            ? $"{Effect}: also held by {string.Join(", ", OtherHolders)}; rolling back releases only this execution's hold, the vendor is not called"
            : $"{Effect}: already held by {string.Join(", ", OtherHolders)}";
}

/// <summary>The effect ledger as people see it: which executions hold a live effect.</summary>
public sealed class EffectsApi(IRequiredActor<EffectLedger> ledger, ExecutionRuntime runtime)
{
    private static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(10);

    /// <summary>The holds on these effects (every live effect when none is named).</summary>
    public Task<EffectLedgerView> HoldsAsync(IReadOnlyList<EffectKey> keys, CancellationToken ct = default) =>
        ledger.ActorRef.Ask<EffectLedgerView>(new EffectLedger.Get(keys), AskTimeout, ct);

    /// <summary>
    /// An operator drops a hold the vendor no longer has (undone in its console, expired there): released without any
    /// vendor call, in the ledger's journal with who did it. Returns what the ledger said.
    /// </summary>
    public async Task<string> ForgetAsync(EffectKey key, string executionId, string stepId, string by, CancellationToken ct = default) =>
        (await ledger.ActorRef.Ask<LedgerReply>(new ForgetEffect(key, executionId, stepId, by), AskTimeout, ct).ConfigureAwait(false)).Message;

    /// <summary>
    /// The shared effect of each reversible step of the execution that is waiting for approval or has run, with the
    /// other holders; none when the ledger does not answer (the page still shows, without the notice).
    /// </summary>
    public async Task<IReadOnlyList<StepEffect>> ForExecutionAsync(ExecutionState state, CancellationToken ct = default)
    {
        if (!state.Started || state.DryRun) return [];
        var ctx = new DecisionContext(runtime.Policy(), runtime.Time.GetUtcNow(), runtime.Adapters, runtime.Defaults);
        var steps = state.Playbook!.Steps
            .Where(s => state.Step(s.Id).Status is StepStatus.WaitingApproval or StepStatus.Approved or StepStatus.Succeeded or StepStatus.Simulated)
            .Select(s => (s.Id, Key: state.Step(s.Id).Effect ?? ExecutionDecider.EffectOf(state, s, ctx)))
            .Where(x => x.Key is not null).Select(x => (x.Id, Key: x.Key!)).ToList();
        if (steps.Count == 0) return [];
        EffectLedgerView view;
        try
        {
            view = await HoldsAsync(steps.Select(s => s.Key).Distinct().ToList(), ct).ConfigureAwait(false);
        }
        catch (AskTimeoutException)
        {
            return [];
        }
        return steps.Select(s => new StepEffect(s.Id, s.Key,
            view.For(s.Key).Where(h => h.ExecutionId != state.ExecutionId).Select(h => h.ExecutionId).Distinct(StringComparer.Ordinal).ToList())).ToList();
    }
}
