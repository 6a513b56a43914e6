using System.Security.Cryptography;
using System.Text;
using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
using RunbookPilot.Engine.Alerts;
using RunbookPilot.Engine.Execution;
using RunbookPilot.Engine.Matching;
using RunbookPilot.Engine.Playbooks;

namespace RunbookPilot.Engine.Ingestion;

/// <summary>Submit an alert; answered with <see cref="AlertAccepted"/> once it is journaled.</summary>
public sealed record SubmitAlert(Alert Alert, string Source);

/// <summary>The alert is durable. <see cref="Duplicate"/>: its id was seen before, and these are the first submission's executions.</summary>
public sealed record AlertAccepted(string AlertId, bool Duplicate, IReadOnlyList<SelectedPlaybook> Selected);

/// <summary>Asks the intake how many accepted alerts still wait for their executions to start.</summary>
public sealed record GetBacklog
{
    public static readonly GetBacklog Instance = new();
}

public sealed record Backlog(int AlertsWaitingForExecutions);

/// <summary>The playbooks in force and how to pick among them; swapped when the library is reloaded.</summary>
public sealed record PlaybookCatalogSnapshot(PlaybookLibrary Library, PlaybookSelector Selector)
{
    public static PlaybookCatalogSnapshot From(PlaybookLibrary library) => new(library, new PlaybookSelector(library.Playbooks, library.Sigma));
}

/// <summary>
/// The front door (design "How an alert flows", steps 1–2): journals each alert with its selection decision before it is
/// acknowledged, recognises a repeated alert id and answers with the first submission, and starts one execution per
/// selected playbook. Execution ids are derived from alert and playbook, so starting again after a crash is harmless;
/// alerts whose executions have not all confirmed their start are re-dispatched on recovery.
/// </summary>
public sealed class AlertIntakeActor : ReceivePersistentActor, IWithTimers
{
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Func<PlaybookCatalogSnapshot> _catalog;
    private readonly IActorRef _executions;
    private readonly TimeProvider _time;
    private readonly Dictionary<string, IReadOnlyList<SelectedPlaybook>> _seen = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (AlertReceived Alert, HashSet<string> Waiting)> _undispatched = new(StringComparer.Ordinal);

    public AlertIntakeActor(Func<PlaybookCatalogSnapshot> catalog, IActorRef executions, TimeProvider time)
    {
        _catalog = catalog;
        _executions = executions;
        _time = time;
        Recover<AlertReceived>(e =>
        {
            _seen[e.AlertId] = e.Selected;
            if (e.Selected.Count > 0) _undispatched[e.AlertId] = (e, e.Selected.Select(s => s.ExecutionId).ToHashSet(StringComparer.Ordinal));
        });
        Recover<AlertDispatched>(e => _undispatched.Remove(e.AlertId));
        Recover<RecoveryCompleted>(_ =>
        {
            if (_undispatched.Count > 0) _log.Info("Alert intake: re-dispatching {0} alert(s) whose executions had not confirmed their start", _undispatched.Count);
            foreach (var (alert, _) in _undispatched.Values.ToList()) Dispatch(alert);
        });

        Command<SubmitAlert>(Submit);
        Command<GetBacklog>(_ => Sender.Tell(new Backlog(_undispatched.Count)));
        Command<StartFailed>(failed =>
        {
            // The execution did not confirm in time (node busy or restarting): try again; starting is idempotent.
            if (_undispatched.ContainsKey(failed.AlertId))
                Timers.StartSingleTimer("redispatch-" + failed.AlertId, new Redispatch(failed.AlertId), TimeSpan.FromSeconds(5));
        });
        Command<Redispatch>(r =>
        {
            if (_undispatched.TryGetValue(r.AlertId, out var entry)) Dispatch(entry.Alert);
        });
        Command<StartAck>(ack =>
        {
            if (!_undispatched.TryGetValue(ack.AlertId, out var entry)) return;
            entry.Waiting.Remove(ack.ExecutionId);
            if (entry.Waiting.Count == 0)
            {
                _undispatched.Remove(ack.AlertId);
                PersistAsync(new AlertDispatched(ack.AlertId, _time.GetUtcNow()), _ => { });
            }
        });
    }

    public override string PersistenceId => "alert-intake";

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(Func<PlaybookCatalogSnapshot> catalog, IActorRef executions, TimeProvider time) =>
        Akka.Actor.Props.Create(() => new AlertIntakeActor(catalog, executions, time));

    /// <summary>Execution id for an alert and playbook: stable, so a re-sent start finds the same execution.</summary>
    public static string ExecutionIdFor(string alertId, string playbookId) =>
        "ex-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(alertId + "\n" + playbookId)))[..20];

    private void Submit(SubmitAlert submit)
    {
        var alert = submit.Alert;
        if (_seen.TryGetValue(alert.Id, out var first))
        {
            Sender.Tell(new AlertAccepted(alert.Id, true, first));
            return;
        }
        var selections = _catalog().Selector.Select(alert);
        var selected = selections.Select(s => new SelectedPlaybook(s.Playbook.Id, s.Playbook.Version, $"{s.Reason}: {s.Detail}", ExecutionIdFor(alert.Id, s.Playbook.Id))).ToList();
        var received = new AlertReceived(alert.Id, alert.Format, submit.Source, alert.Document, selected, _time.GetUtcNow());
        _seen[alert.Id] = selected; // before the write completes, so a repeat in the same batch is recognised
        var replyTo = Sender;
        // PersistAsync lets the journal batch many alerts into one write; the reply still waits for durability.
        PersistAsync(received, e =>
        {
            replyTo.Tell(new AlertAccepted(e.AlertId, false, e.Selected));
            if (e.Selected.Count == 0) return;
            _undispatched[e.AlertId] = (e, e.Selected.Select(s => s.ExecutionId).ToHashSet(StringComparer.Ordinal));
            Dispatch(e, selections.Select(s => s.Playbook).ToList());
        });
    }

    private void Dispatch(AlertReceived received, IReadOnlyList<Playbook>? playbooks = null)
    {
        var library = _catalog().Library;
        foreach (var s in received.Selected)
        {
            var pb = playbooks?.FirstOrDefault(p => p.Id == s.PlaybookId) ?? library.Find(s.PlaybookId);
            if (pb is null)
            {
                _log.Error("Alert {0}: playbook {1} is no longer loaded; execution {2} cannot start", received.AlertId, s.PlaybookId, s.ExecutionId);
                continue;
            }
            var start = new StartExecution(s.ExecutionId, received.AlertId, received.Alert, pb, s.Reason);
            _executions.Ask<CommandResult>(start, TimeSpan.FromSeconds(30))
                .PipeTo(Self, success: _ => new StartAck(received.AlertId, s.ExecutionId), failure: _ => new StartFailed(received.AlertId));
        }
    }

    private sealed record StartAck(string AlertId, string ExecutionId);

    private sealed record StartFailed(string AlertId);

    private sealed record Redispatch(string AlertId);
}
