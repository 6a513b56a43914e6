using System.Collections.Immutable;
using System.Text.Json.Nodes;
using RunbookPilot.Domain.Adapters;
using RunbookPilot.Domain.Alerts;
using RunbookPilot.Domain.Policy;

namespace RunbookPilot.Domain.Effects;

/// <summary>
/// One live effect at a vendor: the adapter, the reversible action that made it, and its target in a comparable form —
/// for example "203.0.113.9 blocked on paloalto". Two executions that block the same address on the same firewall hold
/// the same effect, whatever spelling their alerts used. Hosts are keyed by their short name in lower case
/// (<c>WS-01</c> and <c>ws-01.corp.example</c> are one host: a collision keeps a containment in place, which is the safe
/// side); a device id is keyed as such until the step runner resolves it to its host (<see cref="Kind"/>).
/// </summary>
public sealed record EffectKey(string Adapter, string Action, string Target)
{
    /// <summary>What <see cref="Target"/> is; a device id is turned into its host before the ledger is asked. Not part of the key's identity.</summary>
    public TargetKind? Kind { get; init; }

    public bool Equals(EffectKey? other) => other is not null && Adapter == other.Adapter && Action == other.Action && Target == other.Target;

    public override int GetHashCode() => HashCode.Combine(Adapter, Action, Target);

    public override string ToString() => $"{Target} {Label(Action)} on {Adapter}";

    private static string Label(string action) => action switch
    {
        "block_ip" => "blocked",
        "isolate_host" => "contained",
        "add_rule" => "allowed by a rule",
        "trigger_incident" => "paged",
        _ => "changed by " + action,
    };

    /// <summary>The key of a host, by its name as the EDR reports it.</summary>
    public EffectKey ForHost(string hostName) =>
        Targets.TryParse(TargetKind.Host, hostName, out var host, out _) ? this with { Target = host.ShortName!, Kind = TargetKind.Host } : this;

    /// <summary>
    /// The effect of <paramref name="action"/> (a reversible action that makes an effect, or the action that releases
    /// one: then the effect is its inverse's) with these parameters, or null when the action makes no lasting effect
    /// that others could share. The target is the making action's <c>EffectParam</c> when it has one (a rule name, a
    /// dedup key), else its device id when given (what an EDR acts on), else its first target parameter with a value.
    /// </summary>
    public static EffectKey? For(AdapterDescriptor? adapter, string action, JsonObject parameters)
    {
        var descriptor = adapter?.Find(action);
        if (adapter is null || descriptor is null || descriptor.Kind != ActionKind.Reversible) return null;
        var maker = descriptor.Releases ? adapter.Find(descriptor.Inverse ?? "") : descriptor;
        if (maker is null) return null;
        if (maker.EffectParam is { } named)
            return AlertFields.AsText(parameters[named]) is { Length: > 0 } value ? new EffectKey(adapter.Name, maker.Name, value) : null;
        var targets = maker.TargetParams;
        var candidates = maker.AllParams.Where(p => targets.ContainsKey(p) && AlertFields.AsText(parameters[p]) is { Length: > 0 }).ToList();
        if (candidates.FirstOrDefault(p => targets[p] == TargetKind.DeviceId) is { } device)
            return new EffectKey(adapter.Name, maker.Name, AlertFields.AsText(parameters[device])!.ToLowerInvariant()) { Kind = TargetKind.DeviceId };
        if (candidates.FirstOrDefault() is not { } name) return null; // no target: the call's own effect, shared with nobody
        var kind = targets[name];
        var text = AlertFields.AsText(parameters[name])!;
        if (!Targets.TryParse(kind, text, out var target, out _)) return new EffectKey(adapter.Name, maker.Name, text) { Kind = kind };
        var comparable = kind is TargetKind.Ip or TargetKind.Cidr ? target.Text : (target.ShortName ?? target.Text).ToLowerInvariant();
        return new EffectKey(adapter.Name, maker.Name, comparable) { Kind = kind };
    }
}

/// <summary>Where one execution's hold on an effect stands.</summary>
public enum HoldState
{
    /// <summary>The making call is in flight: the effect may or may not exist yet.</summary>
    Acquiring,
    /// <summary>The making call succeeded: this execution holds the effect.</summary>
    Held,
    /// <summary>This execution is the last holder and its undoing call is in flight.</summary>
    Releasing,
}

/// <summary>One execution's hold; <see cref="Since"/> is when it reached <see cref="State"/>.</summary>
public sealed record EffectHold(string ExecutionId, string StepId, HoldState State, DateTimeOffset Since);

/// <summary>A fact of the effect ledger's journal.</summary>
public interface IEffectEvent
{
    EffectKey Key { get; }
    string ExecutionId { get; }
    string StepId { get; }
    DateTimeOffset At { get; }
}

public sealed record EffectAcquiring(EffectKey Key, string ExecutionId, string StepId, DateTimeOffset At) : IEffectEvent;
public sealed record EffectHeld(EffectKey Key, string ExecutionId, string StepId, DateTimeOffset At) : IEffectEvent;
/// <summary>The making call failed: this execution never held the effect.</summary>
public sealed record EffectAbandoned(EffectKey Key, string ExecutionId, string StepId, DateTimeOffset At) : IEffectEvent;
public sealed record EffectReleasing(EffectKey Key, string ExecutionId, string StepId, DateTimeOffset At) : IEffectEvent;
/// <summary>This execution let go: <see cref="VendorCalled"/> when it was the last holder and its undoing call succeeded.</summary>
public sealed record EffectReleased(EffectKey Key, string ExecutionId, string StepId, bool VendorCalled, DateTimeOffset At) : IEffectEvent;
/// <summary>The undoing call failed: the effect is still live and still held.</summary>
public sealed record EffectReleaseFailed(EffectKey Key, string ExecutionId, string StepId, DateTimeOffset At) : IEffectEvent;

/// <summary>A request to the ledger, from a step runner around the vendor call.</summary>
public interface IEffectCommand : Core.IClusterMessage
{
    EffectKey Key { get; }
    string ExecutionId { get; }
    string StepId { get; }
}

/// <summary>Before the making call. Answer: <see cref="LedgerAnswer.Granted"/> (with the other holders) or <see cref="LedgerAnswer.Busy"/>.</summary>
public sealed record AcquireEffect(EffectKey Key, string ExecutionId, string StepId) : IEffectCommand;
public sealed record ConfirmEffect(EffectKey Key, string ExecutionId, string StepId) : IEffectCommand;
public sealed record AbandonEffect(EffectKey Key, string ExecutionId, string StepId) : IEffectCommand;
/// <summary>Before the undoing call. Answer: <see cref="LedgerAnswer.StillHeld"/> (released, call nothing), <see cref="LedgerAnswer.Last"/> (call the vendor) or <see cref="LedgerAnswer.Busy"/>.</summary>
public sealed record ReleaseEffect(EffectKey Key, string ExecutionId, string StepId) : IEffectCommand;
/// <summary>An operator drops a hold the ledger keeps but the vendor no longer has (undone in the vendor's console, expired there); nothing is called.</summary>
public sealed record ForgetEffect(EffectKey Key, string ExecutionId, string StepId, string By) : IEffectCommand;
/// <summary>After the undoing call: <see cref="Undone"/> when it succeeded.</summary>
public sealed record FinishRelease(EffectKey Key, string ExecutionId, string StepId, bool Undone) : IEffectCommand;

public enum LedgerAnswer { Granted, Busy, StillHeld, Last, Recorded }

/// <summary>The ledger's answer; <see cref="Others"/> are the other executions' holds on the same effect.</summary>
public sealed record LedgerReply(LedgerAnswer Answer, EffectKey Key, IReadOnlyList<EffectHold> Others, string Message) : Core.IClusterMessage;

/// <summary>
/// The ledger of live effects (design: "shared effects"), built by <see cref="Apply"/> from its events only. The rules
/// (<see cref="Decide"/>): an effect's undoing call is made only by its last holder; a release while another execution
/// still holds it lets go of this execution's hold and calls nothing; a making call waits while the effect is being
/// undone, and a release waits while another execution's making call is in flight, so the vendor never sees an undo
/// and a make of the same effect cross.
/// </summary>
public sealed record EffectLedgerState
{
    public static readonly EffectLedgerState Empty = new();

    public ImmutableDictionary<EffectKey, ImmutableList<EffectHold>> Effects { get; init; } = ImmutableDictionary<EffectKey, ImmutableList<EffectHold>>.Empty;

    public IReadOnlyList<EffectHold> Holds(EffectKey key) => Effects.GetValueOrDefault(key) ?? [];

    public EffectLedgerState Apply(IEffectEvent e)
    {
        var holds = Effects.GetValueOrDefault(e.Key) ?? [];
        var mine = holds.FirstOrDefault(h => h.ExecutionId == e.ExecutionId && h.StepId == e.StepId);
        var others = mine is null ? holds : holds.Remove(mine);
        ImmutableList<EffectHold> With(HoldState state) => others.Add(new EffectHold(e.ExecutionId, e.StepId, state, mine?.State == state ? mine.Since : e.At));
        var updated = e switch
        {
            EffectAcquiring => With(mine?.State ?? HoldState.Acquiring),
            EffectHeld => With(HoldState.Held),
            EffectReleasing => With(HoldState.Releasing),
            EffectReleaseFailed => With(HoldState.Held),
            _ => others, // abandoned, released
        };
        return this with { Effects = updated.IsEmpty ? Effects.Remove(e.Key) : Effects.SetItem(e.Key, updated) };
    }

    /// <summary>
    /// A call in flight longer than this (the longest attempt a step may take, 1 h, and a margin) is taken to have
    /// ended without a word (its process died, its runner crashed): its hold counts as held — the effect may exist — and
    /// no longer makes others wait.
    /// </summary>
    public static readonly TimeSpan InFlightLimit = TimeSpan.FromMinutes(65);

    /// <summary>The events and the answer for a command, at <paramref name="now"/>. Repeating a command is safe (a restarted step repeats it).</summary>
    public (IReadOnlyList<IEffectEvent> Events, LedgerReply Reply) Decide(IEffectCommand c, DateTimeOffset now)
    {
        var holds = Holds(c.Key);
        var mine = holds.FirstOrDefault(h => h.ExecutionId == c.ExecutionId && h.StepId == c.StepId);
        var others = holds.Where(h => h != mine).Select(h => h.State != HoldState.Held && now - h.Since > InFlightLimit ? h with { State = HoldState.Held } : h).ToList();
        LedgerReply Reply(LedgerAnswer answer, string message) => new(answer, c.Key, others, message);
        string Names(IEnumerable<EffectHold> hs) => string.Join(", ", hs.Select(h => h.ExecutionId).Distinct(StringComparer.Ordinal));
        switch (c)
        {
            case AcquireEffect:
                if (others.FirstOrDefault(h => h.State == HoldState.Releasing) is { } releasing)
                    return ([], Reply(LedgerAnswer.Busy, $"{c.Key} is being undone by {releasing.ExecutionId}'s rollback; trying again once it is done"));
                return (mine is null ? [new EffectAcquiring(c.Key, c.ExecutionId, c.StepId, now)] : [],
                    Reply(LedgerAnswer.Granted, others.Count > 0 ? $"{c.Key}: already held by {Names(others)}" : $"{c.Key}: acquiring"));
            case ConfirmEffect:
                return (mine?.State == HoldState.Held ? [] : [new EffectHeld(c.Key, c.ExecutionId, c.StepId, now)], Reply(LedgerAnswer.Recorded, $"{c.Key}: held"));
            case AbandonEffect:
                return (mine is { State: HoldState.Acquiring } ? [new EffectAbandoned(c.Key, c.ExecutionId, c.StepId, now)] : [], Reply(LedgerAnswer.Recorded, $"{c.Key}: not made"));
            case ForgetEffect f:
                return (mine is null ? [] : [new EffectReleased(c.Key, c.ExecutionId, c.StepId, false, now)],
                    Reply(LedgerAnswer.Recorded, mine is null ? $"{c.Key}: {c.ExecutionId} holds nothing" : $"{c.Key}: {c.ExecutionId}'s hold forgotten by {f.By} (no vendor call)"));
            case ReleaseEffect:
                if (others.FirstOrDefault(h => h.State is HoldState.Acquiring or HoldState.Releasing) is { } inFlight)
                    return ([], Reply(LedgerAnswer.Busy, $"{c.Key}: {inFlight.ExecutionId} is {(inFlight.State == HoldState.Acquiring ? "making" : "undoing")} the same effect right now; trying again once it is done"));
                if (others.Count > 0)
                    return (mine is null ? [] : [new EffectReleased(c.Key, c.ExecutionId, c.StepId, false, now)],
                        Reply(LedgerAnswer.StillHeld, $"{c.Key} is still held by {Names(others)}: released this execution's hold, no vendor call"));
                return (mine?.State == HoldState.Releasing ? [] : [new EffectReleasing(c.Key, c.ExecutionId, c.StepId, now)],
                    Reply(LedgerAnswer.Last, $"{c.Key}: last holder, undoing it at the vendor"));
            case FinishRelease f:
                if (mine is null) return ([], Reply(LedgerAnswer.Recorded, $"{c.Key}: nothing held"));
                return (f.Undone ? [new EffectReleased(c.Key, c.ExecutionId, c.StepId, true, now)] : [new EffectReleaseFailed(c.Key, c.ExecutionId, c.StepId, now)],
                    Reply(LedgerAnswer.Recorded, f.Undone ? $"{c.Key}: undone" : $"{c.Key}: undo failed, still held"));
            default:
                return ([], Reply(LedgerAnswer.Recorded, "unknown command"));
        }
    }

    public static readonly IReadOnlyDictionary<Type, string> Manifests = new Dictionary<Type, string>
    {
        [typeof(EffectAcquiring)] = "effect-acquiring.v1",
        [typeof(EffectHeld)] = "effect-held.v1",
        [typeof(EffectAbandoned)] = "effect-abandoned.v1",
        [typeof(EffectReleasing)] = "effect-releasing.v1",
        [typeof(EffectReleased)] = "effect-released.v1",
        [typeof(EffectReleaseFailed)] = "effect-release-failed.v1",
    };
}

/// <summary>One hold in a snapshot of the ledger.</summary>
public sealed record EffectSnapshotEntry(EffectKey Key, EffectHold Hold);

/// <summary>The ledger's snapshot: every hold (a dictionary keyed by a record does not serialise as JSON).</summary>
public sealed record EffectLedgerSnapshot(IReadOnlyList<EffectSnapshotEntry> Holds)
{
    public const string Manifest = "effect-ledger-snapshot.v1";

    public static EffectLedgerSnapshot Of(EffectLedgerState state) =>
        new(state.Effects.SelectMany(e => e.Value.Select(h => new EffectSnapshotEntry(e.Key, h))).ToList());

    public EffectLedgerState ToState() => new()
    {
        Effects = Holds.GroupBy(h => h.Key).ToImmutableDictionary(g => g.Key, g => g.Select(h => h.Hold).ToImmutableList()),
    };
}
