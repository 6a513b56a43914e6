using RunbookPilot.Domain.Alerts;
using RunbookPilot.Domain.Bindings;
using RunbookPilot.Domain.Library;
using RunbookPilot.Domain.Playbooks;

namespace RunbookPilot.Domain.Intake;

/// <summary>A command's outcome: the event to journal, or the answer to give at once (a refusal, a repeat).</summary>
public sealed record IntakeDecision<TEvent, TReply>(TEvent? Event, TReply? Reply = null) where TEvent : class, IIntakeEvent where TReply : class;

/// <summary>
/// The intake's decisions, without I/O (as <see cref="Execution.ExecutionDecider"/> is for executions): de-duplication,
/// selection, binding decisions with their guardrails and kill switches, binding changes, manual runs. The actor journals
/// what these return, applies it to <see cref="IntakeState"/>, and then does the I/O (dispatch, replies, metrics).
/// </summary>
public static class IntakeDecider
{
    /// <summary>A repeat is answered with the first submission; a new alert is selected and decided, in one event.</summary>
    public static IntakeDecision<AlertReceived, AlertAccepted> Submit(IntakeState state, SubmitAlert submit, PlaybookCatalogSnapshot catalog, DateTimeOffset now)
    {
        var alert = submit.Alert;
        if (state.Seen(alert.Id) is { } first) return new(null, first.Accepted);
        var selections = catalog.Selector.Select(alert);
        var decisions = submit.DryRun ? [] : state.Book.Evaluate(alert, selections.Select(s => s.Playbook), catalog.Library.Find, now);
        var reasons = selections.ToDictionary(s => s.Playbook.Id, s => $"{s.Reason}: {s.Detail}", StringComparer.Ordinal);
        var selected = submit.DryRun
            ? selections.Select(s => new SelectedPlaybook(s.Playbook.Id, s.Playbook.Version, $"{s.Reason}: {s.Detail} (dry run)",
                BindingBook.ExecutionIdFor(alert.Id, s.Playbook.Id, "dry"), DryRun: true)).ToList()
            : Starts(decisions, catalog, reasons);
        return new(new AlertReceived(alert.Id, alert.Format, submit.Source, alert.Document, selected, now, decisions.Count == 0 ? null : decisions));
    }

    /// <summary>What the bindings would decide for an alert now; changes nothing.</summary>
    public static List<BindingDecision> Preview(IntakeState state, Alert alert, PlaybookCatalogSnapshot catalog, DateTimeOffset now) =>
        state.Book.Evaluate(alert, catalog.Selector.Select(alert).Select(s => s.Playbook), catalog.Library.Find, now);

    /// <summary>Later decisions for an alert (a manual run, released held decisions), as one batch.</summary>
    public static BindingsDecided Decided(IntakeState state, Alert alert, IReadOnlyList<BindingDecision> decisions, PlaybookCatalogSnapshot catalog, DateTimeOffset now) =>
        new($"{alert.Id}#{state.BatchSeq + 1}", alert.Id, alert.Format, alert.Document, decisions, Starts(decisions, catalog), now);

    public static IntakeDecision<BindingSaved, BindingResult> Save(IntakeState state, SaveBinding save, PlaybookCatalogSnapshot catalog, DateTimeOffset now)
    {
        var existing = save.Spec.Id is { } id ? state.Book.Find(id) : null;
        if (save.Spec.Id is not null && existing is null)
            return new(null, new BindingResult(null, [("id", $"no binding {save.Spec.Id}")], NotFound: true));
        var problems = BindingValidator.Check(save.Spec, catalog.Library.Playbooks.Select(p => p.Id).ToList()).ToList();
        if (problems.Count > 0) return new(null, new BindingResult(null, problems));
        var bindingId = existing?.Id ?? state.Book.NextId;
        var binding = new PlaybookBinding(bindingId, save.Spec with { Id = bindingId }, existing?.CreatedBy ?? save.By, existing?.CreatedAt ?? now, save.By, now);
        return new(new BindingSaved(binding, existing is null, now));
    }

    public static IntakeDecision<BindingDeleted, BindingResult> Delete(IntakeState state, DeleteBinding delete, DateTimeOffset now) =>
        state.Book.Find(delete.BindingId) is null
            ? new(null, new BindingResult(null, [("id", $"no binding {delete.BindingId}")], NotFound: true))
            : new(new BindingDeleted(delete.BindingId, delete.By, now));

    /// <summary>A manual run: guardrails bypassed, the autonomy contract kept. "Run now" runs the real playbook unless a dry run is asked for.</summary>
    public static IntakeDecision<BindingsDecided, BindingRunResult> Run(IntakeState state, RunBinding run, PlaybookCatalogSnapshot catalog, DateTimeOffset now)
    {
        if (state.Book.Find(run.BindingId) is not { } binding)
            return new(null, new BindingRunResult(null, $"no binding {run.BindingId}"));
        if (catalog.Library.Find(binding.PlaybookId) is null)
            return new(null, new BindingRunResult(null, $"playbook {binding.PlaybookId} is not loaded"));
        var mode = run.Mode ?? BindingMode.AutoRun;
        if (mode == BindingMode.Suggest)
            return new(null, new BindingRunResult(null, "a manual run runs the playbook: mode dry_run or auto_run"));
        var decision = state.Book.Override(binding, run.Alert, mode, run.By, run.Reason, now);
        return new(Decided(state, run.Alert, [decision], catalog, now));
    }

    public static IntakeDecision<PauseChanged, PauseResult> Pause(IntakeState state, SetPause set, PlaybookCatalogSnapshot catalog, DateTimeOffset now)
    {
        if (set.Scope == PauseScope.Binding && (!int.TryParse(set.Target, out var id) || state.Book.Find(id) is null))
            return new(null, new PauseResult(false, $"no binding {set.Target}", 0));
        if (set.Scope == PauseScope.Playbook && catalog.Library.Find(set.Target) is null && !state.Book.Bindings.Any(b => b.PlaybookId == set.Target))
            return new(null, new PauseResult(false, $"no playbook {set.Target}", 0));
        var target = set.Scope == PauseScope.Global ? "" : set.Target;
        return new(new PauseChanged(set.Scope, target, set.Paused, set.By, set.Reason, now));
    }

    /// <summary>How a kill-switch change reads in the log, on /ws and in the answer.</summary>
    public static string Describe(PauseChanged e) =>
        $"{(e.Paused ? "paused" : "resumed")} {(e.Scope == PauseScope.Global ? "everything" : $"{e.Scope.ToString().ToLowerInvariant()} {e.Target}")} by {e.By}"
        + (e.Reason is { Length: > 0 } r ? $" ({r})" : "");

    /// <summary>After a resume: the alerts held meanwhile are decided now, in arrival order, one batch per alert.</summary>
    public static List<(Alert Alert, IReadOnlyList<BindingDecision> Decisions)> Released(IntakeState state, PlaybookCatalogSnapshot catalog, DateTimeOffset now) =>
        state.Book.Release(catalog.Library.Find, now).GroupBy(r => r.Held.AlertId)
            .Select(g => (new Alert(g.First().Held.AlertId, g.First().Held.Alert, g.First().Held.Format), (IReadOnlyList<BindingDecision>)g.Select(r => r.Decision).ToList()))
            .ToList();

    /// <summary>A run of a binding ended: journaled once (its concurrency slot is freed), or null when it is not a binding's run.</summary>
    public static BindingRunEnded? End(IntakeState state, string executionId, string outcome, DateTimeOffset now) =>
        state.Book.Run(executionId) is { BindingId: { } bindingId } run && !state.Ending.Contains(executionId)
            ? new BindingRunEnded(executionId, bindingId, run.Key, run.PlaybookId, run.Mode, run.AlertId, outcome, run.At, now)
            : null;

    /// <summary>The audit's view of an ended run.</summary>
    public static BindingDecision Ended(BindingRunEnded e) =>
        new(e.BindingId, e.PlaybookId, e.Mode, e.Mode == BindingMode.DryRun ? BindingDecisionKind.DryRan : BindingDecisionKind.Ran,
            e.Outcome == "completed" ? null : "execution " + e.Outcome, e.Key, e.ExecutionId, null, false, false, null, e.StartedAt);

    private static List<SelectedPlaybook> Starts(IEnumerable<BindingDecision> decisions, PlaybookCatalogSnapshot catalog, IReadOnlyDictionary<string, string>? reasons = null) =>
        decisions.Where(d => d.StartsExecution).Select(d => new SelectedPlaybook(d.PlaybookId, catalog.Library.Find(d.PlaybookId)?.Version ?? "", Reason(d, reasons), d.ExecutionId!,
            d.Decision == BindingDecisionKind.DryRan, d.BindingId)).ToList();

    private static string Reason(BindingDecision d, IReadOnlyDictionary<string, string>? reasons) =>
        d.BindingId is { } id
            ? $"binding {id} ({BindingDecision.Name(d.Mode)})" + (d.By is { } by ? $", run manually by {by}" : "")
            : reasons?.GetValueOrDefault(d.PlaybookId) ?? "implicit binding";
}
