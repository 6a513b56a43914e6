using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
using RunbookPilot.Domain.Effects;

namespace RunbookPilot.Engine.Effects;

/// <summary>Registry key of the effect ledger (a cluster singleton), and its queries.</summary>
public sealed class EffectLedger
{
    /// <summary>The holds on these effects (every live effect when <see cref="Keys"/> is empty).</summary>
    public sealed record Get(IReadOnlyList<EffectKey> Keys) : Domain.Core.IClusterMessage;
}

/// <summary>The holds on the effects asked for (<see cref="EffectLedger.Get"/>).</summary>
public sealed record EffectLedgerView(IReadOnlyList<EffectSnapshotEntry> Holds) : Domain.Core.IClusterMessage
{
    public IReadOnlyList<EffectHold> For(EffectKey key) => Holds.Where(h => h.Key == key).Select(h => h.Hold).ToList();
}

/// <summary>
/// The ledger of live effects at vendors: a thin event-sourced actor around <see cref="EffectLedgerState"/>. Step
/// runners ask it around every call that makes or undoes a reversible effect; it persists each decision before it
/// answers, so what it said survives a restart. Snapshot every 500 events.
/// </summary>
public sealed class EffectLedgerActor(TimeProvider time) : UntypedPersistentActor
{
    private const int SnapshotEvery = 500;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private EffectLedgerState _state = EffectLedgerState.Empty;
    private long _sinceSnapshot;

    public override string PersistenceId => "effect-ledger";

    public static Props Props(TimeProvider time) => Akka.Actor.Props.Create(() => new EffectLedgerActor(time));

    protected override void OnRecover(object message)
    {
        switch (message)
        {
            case SnapshotOffer { Snapshot: EffectLedgerSnapshot s }:
                _state = s.ToState();
                break;
            case IEffectEvent e:
                _state = _state.Apply(e);
                _sinceSnapshot++;
                break;
        }
    }

    protected override void OnCommand(object message)
    {
        switch (message)
        {
            case IEffectCommand command:
                var (events, reply) = _state.Decide(command, time.GetUtcNow());
                if (events.Count == 0)
                {
                    Sender.Tell(reply);
                    return;
                }
                var replyTo = Sender;
                var remaining = events.Count;
                PersistAll(events, e =>
                {
                    _state = _state.Apply(e);
                    if (e is EffectReleased { VendorCalled: false } r)
                        _log.Info("Effect {0}: released {1}'s hold without a vendor call; still held by {2}", r.Key, r.ExecutionId,
                            string.Join(", ", _state.Holds(r.Key).Select(h => h.ExecutionId)));
                    if (++_sinceSnapshot >= SnapshotEvery)
                    {
                        SaveSnapshot(EffectLedgerSnapshot.Of(_state));
                        _sinceSnapshot = 0;
                    }
                    if (--remaining == 0) replyTo.Tell(reply);
                });
                break;
            case EffectLedger.Get get:
                var all = EffectLedgerSnapshot.Of(_state).Holds;
                Sender.Tell(new EffectLedgerView(get.Keys.Count == 0 ? all : all.Where(h => get.Keys.Contains(h.Key)).ToList()));
                break;
            case SaveSnapshotSuccess s:
                DeleteSnapshots(new SnapshotSelectionCriteria(s.Metadata.SequenceNr - 1));
                break;
            case SaveSnapshotFailure or DeleteSnapshotsSuccess or DeleteSnapshotsFailure:
                break;
            default:
                Unhandled(message);
                break;
        }
    }
}
