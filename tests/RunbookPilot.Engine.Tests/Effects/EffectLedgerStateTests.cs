using RunbookPilot.Domain.Adapters;
using RunbookPilot.Domain.Effects;

namespace RunbookPilot.Engine.Tests.Effects;

/// <summary>The ledger's rules, as an adversary would try to cross them: undo and make of one effect never overlap.</summary>
public class EffectLedgerStateTests
{
    private static readonly EffectKey Ip = new("paloalto", "block_ip", "203.0.113.9");
    private static readonly DateTimeOffset Now = new(2026, 12, 1, 8, 0, 0, TimeSpan.Zero);

    private static EffectLedgerState Run(EffectLedgerState state, IEffectCommand command, out LedgerReply reply)
    {
        var (events, r) = state.Decide(command, Now);
        reply = r;
        return events.Aggregate(state, (s, e) => s.Apply(e));
    }

    [Fact]
    public void The_last_holder_undoes_at_the_vendor_and_an_earlier_one_only_lets_go()
    {
        var s = Run(EffectLedgerState.Empty, new AcquireEffect(Ip, "ex-a", "block"), out _);
        s = Run(s, new ConfirmEffect(Ip, "ex-a", "block"), out _);
        s = Run(s, new AcquireEffect(Ip, "ex-b", "block"), out var granted);
        Assert.Equal(LedgerAnswer.Granted, granted.Answer);
        Assert.Contains("already held by ex-a", granted.Message);
        s = Run(s, new ConfirmEffect(Ip, "ex-b", "block"), out _);

        s = Run(s, new ReleaseEffect(Ip, "ex-a", "block"), out var first);
        Assert.Equal(LedgerAnswer.StillHeld, first.Answer);
        Assert.Equal("203.0.113.9 blocked on paloalto is still held by ex-b: released this execution's hold, no vendor call", first.Message);
        s = Run(s, new ReleaseEffect(Ip, "ex-b", "block"), out var last);
        Assert.Equal(LedgerAnswer.Last, last.Answer);
        s = Run(s, new FinishRelease(Ip, "ex-b", "block", Undone: true), out _);
        Assert.Empty(s.Holds(Ip));
    }

    [Fact]
    public void A_release_waits_while_another_execution_is_making_the_same_effect()
    {
        var s = Run(EffectLedgerState.Empty, new AcquireEffect(Ip, "ex-a", "block"), out _);
        s = Run(s, new ConfirmEffect(Ip, "ex-a", "block"), out _);
        s = Run(s, new AcquireEffect(Ip, "ex-b", "block"), out _); // ex-b's block call is in flight
        Run(s, new ReleaseEffect(Ip, "ex-a", "block"), out var reply);
        Assert.Equal(LedgerAnswer.Busy, reply.Answer);
        // ex-b's call failed: now ex-a is the last holder and undoes it.
        s = Run(s, new AbandonEffect(Ip, "ex-b", "block"), out _);
        Run(s, new ReleaseEffect(Ip, "ex-a", "block"), out reply);
        Assert.Equal(LedgerAnswer.Last, reply.Answer);
    }

    [Fact]
    public void A_make_waits_while_the_effect_is_being_undone_and_a_failed_undo_keeps_the_hold()
    {
        var s = Run(EffectLedgerState.Empty, new AcquireEffect(Ip, "ex-a", "block"), out _);
        s = Run(s, new ConfirmEffect(Ip, "ex-a", "block"), out _);
        s = Run(s, new ReleaseEffect(Ip, "ex-a", "block"), out _);
        Run(s, new AcquireEffect(Ip, "ex-b", "block"), out var reply);
        Assert.Equal(LedgerAnswer.Busy, reply.Answer);
        Assert.Contains("being undone by ex-a", reply.Message);
        s = Run(s, new FinishRelease(Ip, "ex-a", "block", Undone: false), out _);
        Assert.Equal(HoldState.Held, Assert.Single(s.Holds(Ip)).State);
    }

    [Fact]
    public void Repeated_commands_from_a_restarted_step_are_harmless_and_the_snapshot_round_trips()
    {
        var s = Run(EffectLedgerState.Empty, new AcquireEffect(Ip, "ex-a", "block"), out _);
        var (again, _) = s.Decide(new AcquireEffect(Ip, "ex-a", "block"), Now);
        Assert.Empty(again);
        s = Run(s, new ConfirmEffect(Ip, "ex-a", "block"), out _);
        Assert.Empty(s.Decide(new ConfirmEffect(Ip, "ex-a", "block"), Now).Events);
        var restored = EffectLedgerSnapshot.Of(s).ToState();
        Assert.Equal(s.Holds(Ip), restored.Holds(Ip));
    }

    [Fact]
    public void The_key_is_the_canonical_target_of_the_making_action_for_make_and_undo_alike()
    {
        var paloalto = AdapterCatalog.BuiltIn.Find("paloalto");
        var make = EffectKey.For(paloalto, "block_ip", new() { ["ip"] = "::ffff:203.0.113.9" });
        var undo = EffectKey.For(paloalto, "unblock_ip", new() { ["ip"] = "203.0.113.9" });
        Assert.Equal(Ip, make);
        Assert.Equal(Ip, undo);
        Assert.Null(EffectKey.For(AdapterCatalog.BuiltIn.Find("virustotal"), "lookup_ip", new() { ["ip"] = "203.0.113.9" }));
        Assert.Null(EffectKey.For(AdapterCatalog.BuiltIn.Find("jira"), "create_issue", new() { ["project"] = "SOC", ["summary"] = "x" }));
    }

    [Fact]
    public void One_host_is_one_key_whatever_its_case_or_domain_and_a_device_id_is_keyed_until_resolved()
    {
        var crowdstrike = AdapterCatalog.BuiltIn.Find("crowdstrike");
        var shortName = EffectKey.For(crowdstrike, "isolate_host", new() { ["hostname"] = "WS-01" });
        var fqdn = EffectKey.For(crowdstrike, "un_isolate_host", new() { ["hostname"] = "ws-01.corp.example" });
        Assert.Equal(shortName, fqdn);
        Assert.Equal("ws-01", shortName!.Target);
        // The adapter acts on the device id when both are given: so does the key, until the runner resolves it to its host.
        var both = EffectKey.For(crowdstrike, "isolate_host", new() { ["hostname"] = "WS-01", ["device_id"] = "ABC123" })!;
        Assert.Equal((TargetKind.DeviceId, "abc123"), (both.Kind!.Value, both.Target));
        Assert.Equal(shortName, both.ForHost("WS-01.corp.example"));
    }

    [Fact]
    public void A_call_in_flight_past_the_limit_no_longer_makes_others_wait_and_counts_as_held()
    {
        var s = Run(EffectLedgerState.Empty, new AcquireEffect(Ip, "ex-a", "block"), out _); // ex-a's process died mid-call
        s = Run(s, new AcquireEffect(Ip, "ex-b", "block"), out _);
        s = Run(s, new ConfirmEffect(Ip, "ex-b", "block"), out _);
        Run(s, new ReleaseEffect(Ip, "ex-b", "block"), out var waiting);
        Assert.Equal(LedgerAnswer.Busy, waiting.Answer);
        var (_, later) = s.Decide(new ReleaseEffect(Ip, "ex-b", "block"), Now + EffectLedgerState.InFlightLimit + TimeSpan.FromMinutes(1));
        Assert.Equal(LedgerAnswer.StillHeld, later.Answer); // the effect may exist: ex-b's rollback does not remove it
        s = Run(s, new ForgetEffect(Ip, "ex-a", "block", "admin"), out var forgot); // an operator who checked the firewall
        Assert.Contains("forgotten by admin", forgot.Message);
        Run(s, new ReleaseEffect(Ip, "ex-b", "block"), out var last);
        Assert.Equal(LedgerAnswer.Last, last.Answer);
    }
}
