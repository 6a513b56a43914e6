using System.Text.Json.Nodes;
using RunbookPilot.Domain.Bindings;

namespace RunbookPilot.Domain.Intake;

/// <summary>An event of the alert intake journal.</summary>
public interface IIntakeEvent
{
    DateTimeOffset At { get; }
}

/// <summary>A playbook chosen for an alert, and the execution that runs it (<see cref="DryRun"/>: a dry_run binding's run).</summary>
public sealed record SelectedPlaybook(string PlaybookId, string Version, string Reason, string ExecutionId, bool DryRun = false, int? BindingId = null);

/// <summary>
/// An alert was accepted, with the selection and binding decisions (an empty list records "no playbook matched"). The
/// executions to start are <see cref="Selected"/>; every decision, including skips and held ones, is in <see cref="Decisions"/>.
/// </summary>
public sealed record AlertReceived(string AlertId, string Format, string Source, JsonObject Alert, IReadOnlyList<SelectedPlaybook> Selected, DateTimeOffset At,
    IReadOnlyList<BindingDecision>? Decisions = null) : IIntakeEvent;

/// <summary>
/// Later decisions for an accepted alert: a manual run, or held decisions taken again after a kill switch was turned off.
/// <see cref="BatchId"/> (<c>&lt;alert&gt;#&lt;n&gt;</c>) names the executions it starts until they confirm.
/// </summary>
public sealed record BindingsDecided(string BatchId, string AlertId, string Format, JsonObject Alert, IReadOnlyList<BindingDecision> Decisions,
    IReadOnlyList<SelectedPlaybook> Selected, DateTimeOffset At) : IIntakeEvent;

/// <summary>Every execution of an alert (or of a later batch, by its batch id) acknowledged its start.</summary>
public sealed record AlertDispatched(string AlertId, DateTimeOffset At) : IIntakeEvent;

/// <summary>A binding was created or changed (the whole binding, with who and when).</summary>
public sealed record BindingSaved(PlaybookBinding Binding, bool Created, DateTimeOffset At) : IIntakeEvent;

public sealed record BindingDeleted(int BindingId, string By, DateTimeOffset At) : IIntakeEvent;

/// <summary>A binding's run ended; its concurrency slot is free. <see cref="Outcome"/>: completed, failed, rejected, expired or refused.</summary>
public sealed record BindingRunEnded(string ExecutionId, int BindingId, string Key, string PlaybookId, BindingMode Mode, string AlertId, string Outcome, DateTimeOffset StartedAt,
    DateTimeOffset At) : IIntakeEvent;

/// <summary>A kill switch was turned on or off (globally, for a playbook or for a binding).</summary>
public sealed record PauseChanged(PauseScope Scope, string Target, bool Paused, string By, string? Reason, DateTimeOffset At) : IIntakeEvent;

/// <summary>An accepted alert id, remembered (for duplicates) until the de-duplication window has passed.</summary>
public sealed record SeenAlert(AlertAccepted Accepted, DateTimeOffset At);

/// <summary>Executions of an alert (or a later batch) not confirmed started yet.</summary>
public sealed record PendingBatch(string BatchId, string AlertId, JsonObject Alert, IReadOnlyList<SelectedPlaybook> Selected);

/// <summary>
/// The alert intake's state, saved every so many events so a restart reads the snapshot and the events after it, not the
/// whole journal (which stays: it is what the read model is projected from).
/// </summary>
public sealed record IntakeSnapshot(IReadOnlyList<SeenAlert> Seen, IReadOnlyList<PendingBatch> Undispatched, int BatchSeq, BindingBookSnapshot Book, DateTimeOffset At);

public static class IntakeManifests
{
    public static readonly IReadOnlyDictionary<Type, string> ByType = new Dictionary<Type, string>
    {
        [typeof(AlertReceived)] = "alert-received.v1",
        [typeof(AlertDispatched)] = "alert-dispatched.v1",
        [typeof(BindingsDecided)] = "bindings-decided.v1",
        [typeof(BindingSaved)] = "binding-saved.v1",
        [typeof(BindingDeleted)] = "binding-deleted.v1",
        [typeof(BindingRunEnded)] = "binding-run-ended.v1",
        [typeof(PauseChanged)] = "pause-changed.v1",
        [typeof(IntakeSnapshot)] = "intake-snapshot.v1",
    };
}
