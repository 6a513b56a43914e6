using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using RunbookPilot.Domain.Alerts;
using RunbookPilot.Domain.Playbooks;
using RunbookPilot.Domain.Core;

namespace RunbookPilot.Domain.Bindings;

public enum PauseScope { Global, Playbook, Binding }

/// <summary>A kill switch that is on: what it covers, who turned it on, when and why.</summary>
public sealed record PauseState(PauseScope Scope, string Target, string By, string? Reason, DateTimeOffset At);

/// <summary>An alert decision waiting for a kill switch to be turned off.</summary>
public sealed record HeldAlert(string AlertId, string Format, JsonObject Alert, int? BindingId, string PlaybookId, DateTimeOffset At);

/// <summary>A run of a binding that has not ended yet (it holds a concurrency slot).</summary>
public sealed record BindingRun(string ExecutionId, int? BindingId, string Key, BindingMode Mode, string PlaybookId, string AlertId, DateTimeOffset At);

/// <summary>The whole <see cref="BindingBook"/> as the alert intake's snapshot keeps it.</summary>
public sealed record BindingBookSnapshot(
    IReadOnlyList<PlaybookBinding> Bindings,
    IReadOnlyList<BindingUsageEntry> Usage,
    IReadOnlyList<BindingRun> Runs,
    IReadOnlyList<BindingTrips> Trips,
    IReadOnlyList<BindingCircuit> OpenCircuits,
    IReadOnlyList<PauseState> Pauses,
    IReadOnlyList<HeldAlert> Held,
    int NextId);

public sealed record BindingUsageEntry(int BindingId, string Key, UsageSnapshot Usage);

public sealed record BindingTrips(int BindingId, IReadOnlyList<DateTimeOffset> At);

public sealed record BindingCircuit(int BindingId, DateTimeOffset OpenedAt);

/// <summary>
/// The bindings, their guardrail usage, the kill switches and the held alerts: the state the alert intake keeps and
/// rebuilds from its journal. <see cref="Evaluate"/> is pure (a preview changes nothing); <see cref="Apply"/> is the only
/// way state changes, and it is driven by journaled decisions only, so a restart restores today's quota, the running
/// count and open circuits exactly.
/// </summary>
public sealed class BindingBook
{
    private readonly Dictionary<int, PlaybookBinding> _bindings = [];
    private readonly Dictionary<(int, string), UsageSnapshot> _usage = [];
    private readonly Dictionary<(int, string), HashSet<string>> _inFlight = [];
    // Per binding, kept as decisions are applied so the gauges cost O(1) however many keys a keyed binding has seen.
    private readonly Dictionary<int, int> _inFlightTotal = [];
    private readonly Dictionary<int, (DateOnly Day, int Used)> _mostUsed = [];
    private readonly Dictionary<string, BindingRun> _runs = new(StringComparer.Ordinal);
    private readonly Dictionary<int, List<DateTimeOffset>> _trips = [];
    private readonly Dictionary<int, DateTimeOffset> _openCircuits = [];
    private readonly Dictionary<(PauseScope, string), PauseState> _pauses = [];
    private readonly Dictionary<(string AlertId, int? BindingId, string PlaybookId), HeldAlert> _held = [];
    private Index? _index;

    public IReadOnlyCollection<PlaybookBinding> Bindings => _bindings.Values;
    public IReadOnlyCollection<BindingRun> Runs => _runs.Values;
    public IReadOnlyCollection<PauseState> Pauses => _pauses.Values;
    public IReadOnlyList<HeldAlert> Held => _held.Values.OrderBy(h => h.At).ToList();
    public IReadOnlyDictionary<int, DateTimeOffset> OpenCircuits => _openCircuits;
    public int NextId { get; private set; } = 1;

    /// <summary>Playbooks whose trigger matches and that no binding names run as an implicit auto_run binding (configurable).</summary>
    public bool ImplicitBindings { get; init; } = true;

    public PlaybookBinding? Find(int id) => _bindings.GetValueOrDefault(id);

    /// <summary>Everything the book holds, for a snapshot.</summary>
    public BindingBookSnapshot Snapshot() => new(
        _bindings.Values.OrderBy(b => b.Id).ToList(),
        _usage.Select(kv => new BindingUsageEntry(kv.Key.Item1, kv.Key.Item2, kv.Value)).ToList(),
        _runs.Values.ToList(),
        _trips.Select(kv => new BindingTrips(kv.Key, kv.Value.ToList())).ToList(),
        _openCircuits.Select(kv => new BindingCircuit(kv.Key, kv.Value)).ToList(),
        _pauses.Values.ToList(),
        Held,
        NextId);

    /// <summary>A book as it was when <paramref name="snapshot"/> was taken.</summary>
    public static BindingBook Restore(BindingBookSnapshot snapshot, bool implicitBindings)
    {
        var book = new BindingBook { ImplicitBindings = implicitBindings };
        foreach (var b in snapshot.Bindings) book.Save(b);
        book.NextId = Math.Max(book.NextId, snapshot.NextId);
        foreach (var u in snapshot.Usage)
        {
            book._usage[(u.BindingId, u.Key)] = u.Usage;
            book._mostUsed[u.BindingId] = book._mostUsed.TryGetValue(u.BindingId, out var most) && most.Day == u.Usage.QuotaDay
                ? (most.Day, Math.Max(most.Used, u.Usage.QuotaUsed))
                : most.Day > u.Usage.QuotaDay ? most : (u.Usage.QuotaDay, u.Usage.QuotaUsed);
        }
        foreach (var run in snapshot.Runs)
        {
            var id = run.BindingId ?? 0;
            book._runs[run.ExecutionId] = run;
            if (book.InFlight(id, run.Key).Add(run.ExecutionId)) book._inFlightTotal[id] = book._inFlightTotal.GetValueOrDefault(id) + 1;
        }
        foreach (var t in snapshot.Trips) book._trips[t.BindingId] = [.. t.At];
        foreach (var c in snapshot.OpenCircuits) book._openCircuits[c.BindingId] = c.OpenedAt;
        foreach (var p in snapshot.Pauses) book._pauses[(p.Scope, p.Target)] = p;
        foreach (var h in snapshot.Held) book._held[(h.AlertId, h.BindingId, h.PlaybookId)] = h;
        return book;
    }

    public BindingRun? Run(string executionId) => _runs.GetValueOrDefault(executionId);

    // ---- evaluation (pure) -------------------------------------------------------------------------------------

    /// <summary>
    /// One decision per binding that fits the alert (highest priority first), then one per playbook the selector chose
    /// that no binding names (the implicit binding). Changes nothing; <see cref="Apply"/> the result to make it count.
    /// </summary>
    public List<BindingDecision> Evaluate(Alert alert, IEnumerable<Playbook> selected, Func<string, Playbook?> find, DateTimeOffset now)
    {
        var decisions = new List<BindingDecision>();
        var index = _index ??= new Index(_bindings.Values);
        foreach (var binding in index.Candidates(alert))
            decisions.Add(Decide(binding, alert, find, now));
        foreach (var pb in selected.Where(p => !index.BoundPlaybooks.Contains(p.Id)))
            decisions.Add(Implicit(alert, pb.Id, now));
        return decisions;
    }

    /// <summary>The decision of one binding for an alert, with every guardrail checked.</summary>
    public BindingDecision Decide(PlaybookBinding binding, Alert alert, Func<string, Playbook?> find, DateTimeOffset now)
    {
        var g = binding.Spec.Effective;
        var key = KeyOf(g, alert);
        BindingDecision Skip(BindingDecisionKind kind, string reason, bool trip = false) =>
            new(binding.Id, binding.PlaybookId, binding.Mode, kind, reason, key, null, null, trip, trip && Opens(binding.Id, g, now), null, now);

        if (!binding.Spec.Enabled) return Skip(BindingDecisionKind.SkippedDisabled, "binding is disabled");
        if (_openCircuits.ContainsKey(binding.Id)) return Skip(BindingDecisionKind.SkippedCircuitOpen, "circuit open: guardrails kept tripping; resume the binding to close it");
        if (PausedFor(binding.Id, binding.PlaybookId) is { } pause) return Skip(BindingDecisionKind.Held, Describe(pause));
        if (find(binding.PlaybookId) is null) return Skip(BindingDecisionKind.Failed, $"playbook {binding.PlaybookId} is not loaded");

        var usage = Current(binding.Id, key, g, now);
        if (g.OnceWithin is { } window && usage.LastRunAt is { } last && now - last < window)
            return Skip(BindingDecisionKind.SkippedDuplicate, $"a run for {KeyText(g, key)} at {last:u} is within once_within {Yaml(window)}");
        var runs = binding.Mode != BindingMode.Suggest;
        var inFlight = _inFlight.GetValueOrDefault((binding.Id, key))?.Count ?? 0;
        if (runs && g.MaxConcurrent is { } max && inFlight >= max)
            return Skip(BindingDecisionKind.SkippedConcurrency, $"{inFlight} run(s) in flight for {KeyText(g, key)} (max_concurrent {max})", trip: true);
        if (g.DailyQuota is { } quota && usage.QuotaUsed >= quota)
            return Skip(BindingDecisionKind.SkippedQuota, $"daily quota {quota} used up for {usage.QuotaDay:yyyy-MM-dd} ({g.TimeZone}) for {KeyText(g, key)}", trip: true);
        if (g.MaxPerMinute is { } rate && usage.Tokens < 1)
            return Skip(BindingDecisionKind.SkippedRateLimited, $"rate limit {rate}/min reached for {KeyText(g, key)}", trip: true);
        return Consume(binding, alert, key, usage, now, null);
    }

    /// <summary>A manual run (analyst or admin): bypasses the guardrails, not the autonomy contract, and still counts in them.</summary>
    public BindingDecision Override(PlaybookBinding binding, Alert alert, BindingMode mode, string by, string? why, DateTimeOffset now)
    {
        var g = binding.Spec.Effective;
        var key = KeyOf(g, alert);
        var usage = Current(binding.Id, key, g, now);
        var forced = binding with { Spec = binding.Spec with { Mode = mode } };
        return Consume(forced, alert, key, usage, now, by) with { Reason = "manual run by " + by + (why is { Length: > 0 } ? ": " + why : "") };
    }

    private static BindingDecision Consume(PlaybookBinding binding, Alert alert, string key, UsageSnapshot usage, DateTimeOffset now, string? by)
    {
        var after = usage with { Tokens = usage.Tokens < 0 ? -1 : usage.Tokens - 1, QuotaUsed = usage.QuotaUsed + 1, LastRunAt = now };
        var (kind, execution) = binding.Mode switch
        {
            BindingMode.Suggest => (BindingDecisionKind.Suggested, (string?)null),
            BindingMode.DryRun => (BindingDecisionKind.DryRan, ExecutionIdFor(alert.Id, binding.PlaybookId, $"b{binding.Id}-dry" + (by is null ? "" : "@" + now.UtcTicks))),
            _ => (BindingDecisionKind.Ran, ExecutionIdFor(alert.Id, binding.PlaybookId, $"b{binding.Id}" + (by is null ? "" : "@" + now.UtcTicks))),
        };
        return new BindingDecision(binding.Id, binding.PlaybookId, binding.Mode, kind, null, key, execution, after, false, false, by, now);
    }

    private BindingDecision Implicit(Alert alert, string playbookId, DateTimeOffset now)
    {
        if (PausedFor(null, playbookId) is { } pause)
            return new BindingDecision(null, playbookId, BindingMode.AutoRun, BindingDecisionKind.Held, Describe(pause), "", null, null, false, false, null, now);
        return ImplicitBindings
            ? new BindingDecision(null, playbookId, BindingMode.AutoRun, BindingDecisionKind.Ran, "trigger matched; no binding names this playbook (implicit auto_run)", "",
                ExecutionIdFor(alert.Id, playbookId), null, false, false, null, now)
            : new BindingDecision(null, playbookId, BindingMode.AutoRun, BindingDecisionKind.SkippedDisabled, "trigger matched, but no binding names this playbook and implicit bindings are off",
                "", null, null, false, false, null, now);
    }

    /// <summary>Held alerts whose kill switches are now off, decided again (pure; apply the result).</summary>
    public List<(HeldAlert Held, BindingDecision Decision)> Release(Func<string, Playbook?> find, DateTimeOffset now)
    {
        var result = new List<(HeldAlert, BindingDecision)>();
        foreach (var held in Held.Where(h => PausedFor(h.BindingId, h.PlaybookId) is null))
        {
            var alert = new Alert(held.AlertId, held.Alert, held.Format);
            if (held.BindingId is { } id)
            {
                if (_bindings.GetValueOrDefault(id) is { } binding) result.Add((held, Decide(binding, alert, find, now)));
                else result.Add((held, new BindingDecision(id, held.PlaybookId, BindingMode.AutoRun, BindingDecisionKind.Failed, $"binding {id} was deleted while the alert was held", "", null, null, false, false, null, now)));
            }
            else result.Add((held, Implicit(alert, held.PlaybookId, now)));
        }
        return result;
    }

    /// <summary>Execution id of a run: stable for the alert, playbook and binding, so a re-sent start finds the same execution.</summary>
    public static string ExecutionIdFor(string alertId, string playbookId, string? discriminator = null) =>
        "ex-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(alertId + "\n" + playbookId + (discriminator is null ? "" : "\n" + discriminator))))[..20];

    // ---- state changes (from journaled events only) ------------------------------------------------------------

    public void Apply(BindingDecision d, Alert alert)
    {
        var id = d.BindingId ?? 0;
        _held.Remove((alert.Id, d.BindingId, d.PlaybookId));
        if (d.Decision == BindingDecisionKind.Held)
        {
            _held[(alert.Id, d.BindingId, d.PlaybookId)] = new HeldAlert(alert.Id, alert.Format, alert.Document, d.BindingId, d.PlaybookId, d.At);
            return;
        }
        if (d.Usage is { } usage)
        {
            _usage[(id, d.Key)] = usage;
            _mostUsed[id] = _mostUsed.TryGetValue(id, out var most) && most.Day == usage.QuotaDay ? (most.Day, Math.Max(most.Used, usage.QuotaUsed))
                : most.Day > usage.QuotaDay ? most
                : (usage.QuotaDay, usage.QuotaUsed);
        }
        if (d.StartsExecution && d.ExecutionId is { } execution && d.BindingId is not null && InFlight(id, d.Key).Add(execution))
        {
            _runs[execution] = new BindingRun(execution, d.BindingId, d.Key, d.Mode, d.PlaybookId, alert.Id, d.At);
            _inFlightTotal[id] = _inFlightTotal.GetValueOrDefault(id) + 1;
        }
        if (d.Trip && d.BindingId is { } tripped)
        {
            var trips = _trips.TryGetValue(tripped, out var list) ? list : _trips[tripped] = [];
            trips.Add(d.At);
            if (trips.Count > 1000) trips.RemoveRange(0, trips.Count - 1000);
        }
        if (d.OpensCircuit && d.BindingId is { } opened) _openCircuits[opened] = d.At;
    }

    /// <summary>A run ended (completed, failed, rejected, expired or refused): its concurrency slot is free. Returns the run, or null when unknown.</summary>
    public BindingRun? End(string executionId)
    {
        if (!_runs.Remove(executionId, out var run)) return null;
        var id = run.BindingId ?? 0;
        if (_inFlight.GetValueOrDefault((id, run.Key))?.Remove(executionId) == true) _inFlightTotal[id] = _inFlightTotal.GetValueOrDefault(id) - 1;
        return run;
    }

    public void Save(PlaybookBinding binding)
    {
        _bindings[binding.Id] = binding;
        NextId = Math.Max(NextId, binding.Id + 1);
        _index = null;
    }

    public void Delete(int id)
    {
        _bindings.Remove(id);
        _openCircuits.Remove(id);
        _pauses.Remove((PauseScope.Binding, id.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        _index = null;
    }

    /// <summary>Turns a kill switch on or off. Turning a binding's switch off also closes its circuit.</summary>
    public void SetPause(PauseState state, bool paused)
    {
        if (paused)
        {
            _pauses[(state.Scope, state.Target)] = state;
            return;
        }
        _pauses.Remove((state.Scope, state.Target));
        if (state.Scope == PauseScope.Binding && int.TryParse(state.Target, out var id))
        {
            _openCircuits.Remove(id);
            _trips.Remove(id);
        }
    }

    // ---- reading ----------------------------------------------------------------------------------------------

    public PauseState? PausedFor(int? bindingId, string playbookId) =>
        _pauses.GetValueOrDefault((PauseScope.Global, ""))
        ?? _pauses.GetValueOrDefault((PauseScope.Playbook, playbookId))
        ?? (bindingId is { } id ? _pauses.GetValueOrDefault((PauseScope.Binding, id.ToString(System.Globalization.CultureInfo.InvariantCulture))) : null);

    /// <summary>Runs in flight for a binding (all keys).</summary>
    public int InFlightCount(int bindingId) => _inFlightTotal.GetValueOrDefault(bindingId);

    /// <summary>Runs left today for a binding (-1: unlimited); with a key, for its most used key.</summary>
    public int QuotaRemaining(int bindingId, DateTimeOffset now)
    {
        if (_bindings.GetValueOrDefault(bindingId) is not { } binding || binding.Spec.Effective.DailyQuota is not { } quota) return -1;
        var used = _mostUsed.TryGetValue(bindingId, out var most) && most.Day == Day(binding.Spec.Effective, now) ? most.Used : 0;
        return Math.Max(0, quota - used);
    }

    /// <summary>The usage of a binding and key as of <paramref name="now"/> (bucket refilled, quota day rolled over).</summary>
    public UsageSnapshot Current(int bindingId, string key, GuardrailSpec g, DateTimeOffset now) =>
        _usage.TryGetValue((bindingId, key), out var usage)
            ? Refreshed(usage, g, now)
            : new UsageSnapshot(g.MaxPerMinute ?? -1, now, Day(g, now), 0, null);

    /// <summary>Token bucket: capacity max_per_minute, refilled evenly (capacity per 60 s), never above capacity. Quota: per local day.</summary>
    public static UsageSnapshot Refreshed(UsageSnapshot u, GuardrailSpec g, DateTimeOffset now)
    {
        var tokens = g.MaxPerMinute is { } cap
            ? Math.Min(cap, (u.Tokens < 0 ? cap : u.Tokens) + Math.Max(0, (now - u.RefilledAt).TotalSeconds) * cap / 60.0)
            : -1;
        var day = Day(g, now);
        return new UsageSnapshot(tokens, now, day, day == u.QuotaDay ? u.QuotaUsed : 0, u.LastRunAt);
    }

    public static DateOnly Day(GuardrailSpec g, DateTimeOffset now)
    {
        BindingValidator.TryZone(g.TimeZone, out var zone);
        return DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(now, zone).DateTime);
    }

    private static string KeyOf(GuardrailSpec g, Alert alert) =>
        g.Key is { } field ? AlertFields.Texts(alert.Document, field).FirstOrDefault() ?? "" : "";

    private static string KeyText(GuardrailSpec g, string key) => g.Key is null ? "the binding" : $"{g.Key}={(key.Length == 0 ? "(absent)" : key)}";

    private static string Yaml(TimeSpan t) => Domain.Yaml.YamlBinder.FormatDuration(t);

    private static string Describe(PauseState p) =>
        $"held: {(p.Scope == PauseScope.Global ? "everything" : $"{p.Scope.ToString().ToLowerInvariant()} {p.Target}")} paused by {p.By} at {p.At:u}" + (p.Reason is { Length: > 0 } r ? $" ({r})" : "");

    private bool Opens(int bindingId, GuardrailSpec g, DateTimeOffset now) =>
        g.Circuit is { } c && 1 + (_trips.GetValueOrDefault(bindingId)?.Count(t => t > now - c.Window) ?? 0) >= c.Trips;

    private HashSet<string> InFlight(int bindingId, string key) =>
        _inFlight.TryGetValue((bindingId, key), out var set) ? set : _inFlight[(bindingId, key)] = new HashSet<string>(StringComparer.Ordinal);

    /// <summary>Bindings by what they match on, so an alert is checked against a few candidates, not all of them.</summary>
    private sealed class Index
    {
        private readonly Dictionary<string, List<PlaybookBinding>> _byRule = new(StringComparer.Ordinal);
        private readonly Dictionary<string, List<PlaybookBinding>> _byType = new(StringComparer.OrdinalIgnoreCase);
        private readonly Dictionary<AlertSeverity, List<PlaybookBinding>> _bySeverity = [];
        private readonly Dictionary<string, List<PlaybookBinding>> _byTag = new(StringComparer.OrdinalIgnoreCase);
        private readonly List<PlaybookBinding> _global = [];

        public Index(IEnumerable<PlaybookBinding> bindings)
        {
            foreach (var b in bindings)
            {
                BoundPlaybooks.Add(b.PlaybookId);
                var m = b.Spec.Match;
                // Each binding is indexed under its most selective non-empty criterion; Matches checks the rest.
                if (m.RuleIds.Count > 0) foreach (var r in m.RuleIds) Add(_byRule, r, b);
                else if (m.Tags.Count > 0) Add(_byTag, m.Tags[0], b);
                else if (m.AlertTypes.Count > 0) foreach (var t in m.AlertTypes) Add(_byType, t, b);
                else if (m.Severities.Count > 0) foreach (var s in m.Severities) Add(_bySeverity, s, b);
                else _global.Add(b);
            }
        }

        public HashSet<string> BoundPlaybooks { get; } = new(StringComparer.Ordinal);

        public IEnumerable<PlaybookBinding> Candidates(Alert alert)
        {
            var found = new List<PlaybookBinding>(_global);
            foreach (var r in alert.RuleIds) if (_byRule.TryGetValue(r, out var l)) found.AddRange(l);
            foreach (var t in AlertFields.Texts(alert.Document, "tags")) if (_byTag.TryGetValue(t, out var l)) found.AddRange(l);
            foreach (var c in AlertFields.Texts(alert.Document, "event.category")) if (_byType.TryGetValue(c, out var l)) found.AddRange(l);
            if (alert.Severity is { } s && _bySeverity.TryGetValue(s, out var sl)) found.AddRange(sl);
            return found.Distinct().Where(b => b.Spec.Match.Matches(alert)).OrderByDescending(b => b.Spec.Priority).ThenBy(b => b.Id);
        }

        private static void Add<TKey>(Dictionary<TKey, List<PlaybookBinding>> map, TKey key, PlaybookBinding b) where TKey : notnull
        {
            if (!map.TryGetValue(key, out var list)) map[key] = list = [];
            list.Add(b);
        }
    }
}
