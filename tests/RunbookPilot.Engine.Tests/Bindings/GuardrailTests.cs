using System.Text.Json.Nodes;
using RunbookPilot.Domain.Alerts;
using RunbookPilot.Domain.Bindings;
using RunbookPilot.Domain.Playbooks;
using RunbookPilot.Domain.Core;

namespace RunbookPilot.Engine.Tests.Bindings;

/// <summary>The guardrails as pure functions of journaled decisions and a clock the test sets (no wall clock).</summary>
public class GuardrailTests
{
    private static readonly Playbook Enrich = PlaybookLoader.Parse("""
        id: ip_enrichment
        name: IP Enrichment
        version: 1.0.0
        autonomy_level: L0
        trigger:
          techniques: [T1071]
        steps:
          - id: vt
            name: VT
            action_type: lookup_ip
            adapter: virustotal
            autonomy_level: L0
            params: { ip: "{{source.ip}}" }
        """, "ip_enrichment.yaml").Value!;

    private static Playbook? Find(string id) => id == Enrich.Id ? Enrich : null;

    private static int _alerts;

    private static Alert Alert(string host = "WS-1", string rule = "rule-high") =>
        new($"a{Interlocked.Increment(ref _alerts)}", new JsonObject { ["rule"] = new JsonObject { ["id"] = rule }, ["host"] = new JsonObject { ["name"] = host }, ["source"] = new JsonObject { ["ip"] = "203.0.113.7" } }, "ecs");

    private static (BindingBook Book, PlaybookBinding Binding) Book(GuardrailSpec guardrails, BindingMode mode = BindingMode.DryRun)
    {
        var book = new BindingBook();
        var binding = new PlaybookBinding(1, new BindingSpec
        {
            Id = 1, PlaybookId = Enrich.Id, Mode = mode, Match = new BindingMatch { RuleIds = ["rule-high"] }, Guardrails = guardrails,
        }, "alice", DateTimeOffset.UnixEpoch, "alice", DateTimeOffset.UnixEpoch);
        book.Save(binding);
        return (book, binding);
    }

    /// <summary>Evaluates and applies, as the intake does for a journaled alert.</summary>
    private static BindingDecisionKind Submit(BindingBook book, DateTimeOffset at, Alert? alert = null)
    {
        alert ??= Alert();
        var d = Assert.Single(book.Evaluate(alert, [], Find, at));
        book.Apply(d, alert);
        return d.Decision;
    }

    private static readonly DateTimeOffset Noon = new(2026, 3, 10, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Token_bucket_allows_a_burst_of_its_size_and_no_second_burst_across_the_minute_boundary()
    {
        var (book, _) = Book(new GuardrailSpec { MaxPerMinute = 10 });
        var late = Noon.AddSeconds(59);
        for (var i = 0; i < 10; i++) Assert.Equal(BindingDecisionKind.DryRan, Submit(book, late));
        Assert.Equal(BindingDecisionKind.SkippedRateLimited, Submit(book, late));
        // A fixed per-minute window would allow ten more at 12:01:00; the bucket has refilled a third of a token.
        Assert.Equal(BindingDecisionKind.SkippedRateLimited, Submit(book, Noon.AddSeconds(61)));
        Assert.Equal(BindingDecisionKind.DryRan, Submit(book, Noon.AddSeconds(65))); // 6 s = one token
        Assert.Equal(BindingDecisionKind.SkippedRateLimited, Submit(book, Noon.AddSeconds(65)));
        // A quiet minute refills the bucket to its size, never beyond.
        var later = Noon.AddMinutes(10);
        for (var i = 0; i < 10; i++) Assert.Equal(BindingDecisionKind.DryRan, Submit(book, later));
        Assert.Equal(BindingDecisionKind.SkippedRateLimited, Submit(book, later));
    }

    [Fact]
    public void Daily_quota_resets_at_midnight_in_the_configured_time_zone_not_at_utc_midnight()
    {
        var (book, binding) = Book(new GuardrailSpec { DailyQuota = 2, TimeZone = "Europe/Berlin" });
        var beforeBerlinMidnight = new DateTimeOffset(2026, 3, 10, 22, 59, 0, TimeSpan.Zero); // 23:59 in Berlin (CET, +1)
        Assert.Equal(BindingDecisionKind.DryRan, Submit(book, beforeBerlinMidnight));
        Assert.Equal(BindingDecisionKind.DryRan, Submit(book, beforeBerlinMidnight));
        Assert.Equal(BindingDecisionKind.SkippedQuota, Submit(book, beforeBerlinMidnight.AddSeconds(59)));
        Assert.Equal(0, book.QuotaRemaining(binding.Id, beforeBerlinMidnight));

        var berlinMidnight = new DateTimeOffset(2026, 3, 10, 23, 0, 0, TimeSpan.Zero);
        Assert.Equal(2, book.QuotaRemaining(binding.Id, berlinMidnight));
        Assert.Equal(BindingDecisionKind.DryRan, Submit(book, berlinMidnight));
        Assert.Equal(BindingDecisionKind.DryRan, Submit(book, berlinMidnight));
        // UTC midnight (01:00 in Berlin) is not a new day for this binding.
        Assert.Equal(BindingDecisionKind.SkippedQuota, Submit(book, new DateTimeOffset(2026, 3, 11, 0, 0, 1, TimeSpan.Zero)));
    }

    [Fact]
    public void Concurrency_cap_counts_runs_in_flight_and_a_run_that_ends_frees_its_slot()
    {
        var (book, binding) = Book(new GuardrailSpec { MaxConcurrent = 2 });
        var first = Alert();
        var d1 = Assert.Single(book.Evaluate(first, [], Find, Noon));
        book.Apply(d1, first);
        Assert.Equal(BindingDecisionKind.DryRan, Submit(book, Noon));
        Assert.Equal(BindingDecisionKind.SkippedConcurrency, Submit(book, Noon));
        Assert.Equal(2, book.InFlightCount(binding.Id));

        Assert.NotNull(book.End(d1.ExecutionId!));
        Assert.Null(book.End(d1.ExecutionId!)); // a second report of the same end frees nothing more
        Assert.Equal(1, book.InFlightCount(binding.Id));
        Assert.Equal(BindingDecisionKind.DryRan, Submit(book, Noon));
    }

    [Fact]
    public void Suggest_mode_uses_rate_and_quota_but_no_concurrency_slot()
    {
        var (book, binding) = Book(new GuardrailSpec { MaxConcurrent = 1, DailyQuota = 3 }, BindingMode.Suggest);
        for (var i = 0; i < 3; i++) Assert.Equal(BindingDecisionKind.Suggested, Submit(book, Noon));
        Assert.Equal(BindingDecisionKind.SkippedQuota, Submit(book, Noon));
        Assert.Equal(0, book.InFlightCount(binding.Id));
    }

    [Fact]
    public void Keyed_guardrails_keep_one_noisy_host_from_using_up_the_budget_of_the_others()
    {
        var (book, binding) = Book(new GuardrailSpec { MaxPerMinute = 2, DailyQuota = 5, Key = "host.name" });
        Assert.Equal(BindingDecisionKind.DryRan, Submit(book, Noon, Alert("noisy")));
        Assert.Equal(BindingDecisionKind.DryRan, Submit(book, Noon, Alert("noisy")));
        Assert.Equal(BindingDecisionKind.SkippedRateLimited, Submit(book, Noon, Alert("noisy")));
        Assert.Equal(BindingDecisionKind.DryRan, Submit(book, Noon, Alert("quiet")));
        // The gauges: runs in flight over all keys, quota left for the most used key.
        Assert.Equal(3, book.InFlightCount(binding.Id));
        Assert.Equal(3, book.QuotaRemaining(binding.Id, Noon));
        Assert.Equal(5, book.QuotaRemaining(binding.Id, Noon.AddDays(1)));
    }

    [Fact]
    public void Once_within_drops_a_repeat_for_the_same_key_inside_the_window()
    {
        var (book, _) = Book(new GuardrailSpec { Key = "host.name", OnceWithin = TimeSpan.FromMinutes(10) });
        Assert.Equal(BindingDecisionKind.DryRan, Submit(book, Noon, Alert("WS-1")));
        Assert.Equal(BindingDecisionKind.SkippedDuplicate, Submit(book, Noon.AddMinutes(9), Alert("WS-1")));
        Assert.Equal(BindingDecisionKind.DryRan, Submit(book, Noon.AddMinutes(9), Alert("WS-2")));
        Assert.Equal(BindingDecisionKind.DryRan, Submit(book, Noon.AddMinutes(10), Alert("WS-1")));
    }

    [Fact]
    public void A_guardrail_that_keeps_tripping_opens_the_circuit_until_the_binding_is_resumed()
    {
        var (book, binding) = Book(new GuardrailSpec { MaxPerMinute = 1, Circuit = new CircuitSpec { Trips = 3, Window = TimeSpan.FromMinutes(10) } });
        Assert.Equal(BindingDecisionKind.DryRan, Submit(book, Noon));
        var trips = Enumerable.Range(0, 3).Select(_ =>
        {
            var alert = Alert();
            var d = Assert.Single(book.Evaluate(alert, [], Find, Noon));
            book.Apply(d, alert);
            return d;
        }).ToList();
        Assert.All(trips, t => Assert.Equal(BindingDecisionKind.SkippedRateLimited, t.Decision));
        Assert.Equal([false, false, true], trips.Select(t => t.OpensCircuit));
        // Open: even with tokens back, the binding skips until someone closes it.
        Assert.Equal(BindingDecisionKind.SkippedCircuitOpen, Submit(book, Noon.AddMinutes(5)));
        book.SetPause(new PauseState(PauseScope.Binding, binding.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), "bob", null, Noon), paused: false);
        Assert.Equal(BindingDecisionKind.DryRan, Submit(book, Noon.AddMinutes(5)));
    }

    [Fact]
    public void Paused_decisions_are_held_and_decided_again_on_resume()
    {
        var (book, _) = Book(new GuardrailSpec { MaxPerMinute = 5 });
        var pause = new PauseState(PauseScope.Playbook, Enrich.Id, "bob", "change freeze", Noon);
        book.SetPause(pause, paused: true);
        Assert.Equal(BindingDecisionKind.Held, Submit(book, Noon));
        Assert.Equal(BindingDecisionKind.Held, Submit(book, Noon));
        Assert.Equal(2, book.Held.Count);
        Assert.Empty(book.Release(Find, Noon)); // still paused

        book.SetPause(pause, paused: false);
        var released = book.Release(Find, Noon.AddSeconds(1));
        Assert.Equal(2, released.Count);
        foreach (var (held, d) in released) book.Apply(d, new Alert(held.AlertId, held.Alert, held.Format));
        Assert.All(released, r => Assert.Equal(BindingDecisionKind.DryRan, r.Decision.Decision));
        Assert.Empty(book.Held);
    }

    [Fact]
    public void A_manual_run_bypasses_the_guardrails_but_still_counts_in_them()
    {
        var (book, binding) = Book(new GuardrailSpec { MaxConcurrent = 1, DailyQuota = 1 }, BindingMode.Suggest);
        Assert.Equal(BindingDecisionKind.Suggested, Submit(book, Noon));
        var alert = Alert();
        var forced = book.Override(binding, alert, BindingMode.AutoRun, "carol", "confirmed phishing", Noon);
        Assert.Equal(BindingDecisionKind.Ran, forced.Decision);
        Assert.Equal("carol", forced.By);
        Assert.Contains("confirmed phishing", forced.Reason, StringComparison.Ordinal);
        book.Apply(forced, alert);
        Assert.Equal(1, book.InFlightCount(binding.Id));
        Assert.Equal(0, book.QuotaRemaining(binding.Id, Noon));
    }

    [Fact]
    public void Bindings_match_by_rule_type_severity_and_tags_or_globally_highest_priority_first()
    {
        var book = new BindingBook();
        PlaybookBinding Bind(int id, BindingMatch match, int priority = 0) => new(id, new BindingSpec { Id = id, PlaybookId = Enrich.Id, Mode = BindingMode.Suggest, Match = match, Priority = priority },
            "a", Noon, "a", Noon);
        book.Save(Bind(1, new BindingMatch { RuleIds = ["r1"] }));
        book.Save(Bind(2, new BindingMatch { AlertTypes = ["malware"], Severities = [AlertSeverity.High] }));
        book.Save(Bind(3, new BindingMatch { Tags = ["edge", "prod"] }, priority: 5));
        book.Save(Bind(4, new BindingMatch(), priority: -1));
        var alert = new Alert("x", JsonNode.Parse("""{"rule":{"id":"r1"},"event":{"category":["malware"],"severity":"high"},"tags":["prod","edge"]}""")!.AsObject(), "ecs");
        Assert.Equal([3, 1, 2, 4], book.Evaluate(alert, [Enrich], Find, Noon).Select(d => d.BindingId!.Value));
        var other = new Alert("y", JsonNode.Parse("""{"event":{"category":["malware"],"severity":"low"},"tags":["edge"]}""")!.AsObject(), "ecs");
        Assert.Equal([4], book.Evaluate(other, [Enrich], Find, Noon).Select(d => d.BindingId!.Value));
    }

    [Fact]
    public void A_playbook_no_binding_names_runs_as_the_implicit_binding_unless_that_is_turned_off()
    {
        var alert = Alert();
        var implicitDecision = Assert.Single(new BindingBook().Evaluate(alert, [Enrich], Find, Noon));
        Assert.Equal((null, BindingDecisionKind.Ran), (implicitDecision.BindingId, implicitDecision.Decision));
        var off = Assert.Single(new BindingBook { ImplicitBindings = false }.Evaluate(alert, [Enrich], Find, Noon));
        Assert.Equal(BindingDecisionKind.SkippedDisabled, off.Decision);
        // A binding naming the playbook replaces the implicit one, even when it does not fit this alert.
        var (book, _) = Book(new GuardrailSpec());
        Assert.Empty(book.Evaluate(Alert(rule: "another-rule"), [Enrich], Find, Noon));
    }

    [Fact]
    public void Presets_fill_what_the_binding_does_not_set()
    {
        var spec = new BindingSpec { PlaybookId = "p", Mode = BindingMode.AutoRun, Preset = GuardrailPreset.CriticalEdge, Guardrails = new GuardrailSpec { MaxPerMinute = 1 } };
        Assert.Equal(1, spec.Effective.MaxPerMinute);
        Assert.Equal(2, spec.Effective.MaxConcurrent);
        Assert.Equal(50, spec.Effective.DailyQuota);
        Assert.Equal("source.ip", spec.Effective.Key);
        Assert.Equal(30, new BindingSpec { PlaybookId = "p", Mode = BindingMode.AutoRun, Preset = GuardrailPreset.SocHigh }.Effective.MaxPerMinute);
    }

    [Fact]
    public void Validation_names_the_field_of_each_problem()
    {
        var spec = new BindingSpec
        {
            PlaybookId = "ip_enrichmnt", Mode = BindingMode.AutoRun,
            Guardrails = new GuardrailSpec { Key = "host..name", TimeZone = "Mars/Olympus", OnceWithin = TimeSpan.Zero },
        };
        var problems = BindingValidator.Check(spec, [Enrich.Id]).ToDictionary(p => p.Path, p => p.Message);
        Assert.Contains("did you mean 'ip_enrichment'", problems["playbook_id"], StringComparison.Ordinal);
        Assert.Contains("not an alert field path", problems["guardrails.key"], StringComparison.Ordinal);
        Assert.Contains("unknown time zone", problems["guardrails.time_zone"], StringComparison.Ordinal);
        Assert.Contains("more than 0", problems["guardrails.once_within"], StringComparison.Ordinal);
    }
}
