using System.Text.Json.Nodes;
using RunbookPilot.Domain.Alerts;
using RunbookPilot.Domain.Bindings;

namespace RunbookPilot.Domain.Intake;

/// <summary>An accepted batch whose executions have not all confirmed their start.</summary>
public sealed record Batch(string BatchId, string AlertId, JsonObject Alert, IReadOnlyList<SelectedPlaybook> Selected)
{
    public HashSet<string> Waiting { get; } = Selected.Select(s => s.ExecutionId).ToHashSet(StringComparer.Ordinal);
}

/// <summary>
/// What the alert intake knows: the alert ids seen (to answer a repeat with the first submission), the batches whose
/// executions have not all confirmed their start, and the bindings with their guardrail state and kill switches
/// (<see cref="BindingBook"/>). Journaled facts change it only through <see cref="Apply"/>, in recovery and live alike;
/// <see cref="Ending"/> and <see cref="Confirm"/> track what is in flight and are not part of a snapshot.
/// </summary>
public sealed class IntakeState(bool implicitBindings)
{
    private readonly Dictionary<string, SeenAlert> _seen = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Batch> _undispatched = new(StringComparer.Ordinal);

    public bool ImplicitBindings { get; } = implicitBindings;
    public BindingBook Book { get; private set; } = new() { ImplicitBindings = implicitBindings };
    public int BatchSeq { get; private set; }
    public int SeenCount => _seen.Count;
    public IReadOnlyCollection<Batch> Undispatched => _undispatched.Values;

    /// <summary>Runs whose end is being journaled (so a second report of the same end is not journaled twice).</summary>
    public HashSet<string> Ending { get; } = new(StringComparer.Ordinal);

    public SeenAlert? Seen(string alertId) => _seen.GetValueOrDefault(alertId);

    public Batch? Pending(string batchId) => _undispatched.GetValueOrDefault(batchId);

    /// <summary>An execution of a pending batch confirmed its start; true when that was the batch's last one.</summary>
    public bool Confirm(string batchId, string executionId) =>
        _undispatched.TryGetValue(batchId, out var batch) && batch.Waiting.Remove(executionId) && batch.Waiting.Count == 0;

    public void Apply(IIntakeEvent e)
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
                BatchSeq++;
                break;
            case AlertDispatched d:
                _undispatched.Remove(d.AlertId);
                break;
            case BindingSaved s:
                Book.Save(s.Binding);
                break;
            case BindingDeleted d:
                Book.Delete(d.BindingId);
                break;
            case BindingRunEnded r:
                Book.End(r.ExecutionId);
                Ending.Remove(r.ExecutionId);
                break;
            case PauseChanged p:
                Book.SetPause(new PauseState(p.Scope, p.Target, p.By, p.Reason, p.At), p.Paused);
                break;
        }
    }

    private void ApplyDecisions(Alert alert, IReadOnlyList<BindingDecision> decisions)
    {
        foreach (var d in decisions) Book.Apply(d, alert);
    }

    /// <summary>The state to save; alert ids older than the de-duplication window are forgotten here.</summary>
    public IntakeSnapshot Snapshot(DateTimeOffset now, TimeSpan dedupeWindow)
    {
        foreach (var old in _seen.Where(kv => now - kv.Value.At > dedupeWindow).Select(kv => kv.Key).ToList()) _seen.Remove(old);
        // A repeat is answered with the first submission's executions; its binding decisions are in the audit.
        return new IntakeSnapshot(_seen.Values.Select(v => v with { Accepted = v.Accepted with { Decisions = null } }).ToList(),
            _undispatched.Values.Select(b => new PendingBatch(b.BatchId, b.AlertId, b.Alert, b.Selected)).ToList(), BatchSeq, Book.Snapshot(), now);
    }

    public void Restore(IntakeSnapshot snapshot)
    {
        _seen.Clear();
        foreach (var seen in snapshot.Seen) _seen[seen.Accepted.AlertId] = seen;
        _undispatched.Clear();
        foreach (var b in snapshot.Undispatched) _undispatched[b.BatchId] = new Batch(b.BatchId, b.AlertId, b.Alert, b.Selected);
        BatchSeq = snapshot.BatchSeq;
        Book = BindingBook.Restore(snapshot.Book, ImplicitBindings);
    }

    /// <summary>The bindings with their live guardrail state, the kill switches that are on and how many decisions are held.</summary>
    public BindingsView View(DateTimeOffset now) => new(
        Book.Bindings.OrderBy(b => b.Id).Select(b => new BindingView(b, Book.InFlightCount(b.Id), Book.QuotaRemaining(b.Id, now), Book.OpenCircuits.ContainsKey(b.Id),
            Book.PausedFor(b.Id, b.PlaybookId))).ToList(),
        Book.Pauses.OrderBy(p => p.At).ToList(), Book.Held.Count);
}
