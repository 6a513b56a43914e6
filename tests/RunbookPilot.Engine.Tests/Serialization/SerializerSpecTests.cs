using RunbookPilot.Domain.Effects;
using System.Runtime.Serialization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Akka.Actor;
using RunbookPilot.Domain.Adapters;
using RunbookPilot.Domain.Bindings;
using RunbookPilot.Domain.Core;
using RunbookPilot.Domain.Execution;
using RunbookPilot.Domain.Intake;
using RunbookPilot.Domain.Playbooks;
using RunbookPilot.Engine.Hosting;

namespace RunbookPilot.Engine.Tests.Serialization;

/// <summary>The journal serializer, built by a real actor system as the engine builds it; shared by the spec's tests.</summary>
public sealed class SerializerSpecFixture : IDisposable
{
    private readonly ActorSystem _system = ActorSystem.Create("ser-spec");

    public SerializerSpecFixture() => Serializer = new RunbookJsonSerializer((ExtendedActorSystem)_system);

    public RunbookJsonSerializer Serializer { get; }

    /// <summary>Terminates the actor system and waits until it has (an ActorSystem's Dispose is Terminate().Wait()).</summary>
    public void Dispose() => _system.Dispose();
}

/// <summary>
/// The serializer spec: every event manifest (execution and intake journals, and the intake snapshot) round-trips a
/// realistic sample with every property set, a journal entry written today still reads, and an unknown manifest fails
/// loudly instead of guessing a type.
/// </summary>
public sealed class SerializerSpecTests(SerializerSpecFixture fixture) : IClassFixture<SerializerSpecFixture>
{
    private static readonly DateTimeOffset T0 = new(2026, 3, 10, 12, 0, 0, TimeSpan.Zero);

    private readonly RunbookJsonSerializer _serializer = fixture.Serializer;

    /// <summary>Every manifest of both maps, one test case each.</summary>
    public static TheoryData<string> AllManifests
    {
        get
        {
            var data = new TheoryData<string>();
            foreach (var manifest in Manifests().Values.Order(StringComparer.Ordinal)) data.Add(manifest);
            return data;
        }
    }

    private static IReadOnlyDictionary<Type, string> Manifests() => RunbookJsonSerializer.Manifests;

    [Fact]
    public void There_is_a_sample_for_every_manifested_type_and_for_no_other()
    {
        // A new event (or snapshot) type without a sample below fails here: add one to Samples().
        var mapped = Manifests().Keys.Select(t => t.FullName!).Order(StringComparer.Ordinal).ToList();
        var sampled = Samples().Select(s => s.GetType().FullName!).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(mapped, sampled);
    }

    [Theory]
    [MemberData(nameof(AllManifests))]
    public void Every_manifest_round_trips_a_sample_with_every_property_set(string manifest)
    {
        var type = Manifests().Single(kv => kv.Value == manifest).Key;
        var sample = Assert.Single(Samples(), s => s.GetType() == type);
        Assert.All(type.GetProperties(), p => Assert.True(p.GetValue(sample) is not null, $"the {manifest} sample leaves {p.Name} null: set it, so it is round-tripped too"));

        Assert.Equal(manifest, _serializer.Manifest(sample));
        var bytes = _serializer.ToBinary(sample);
        var back = _serializer.FromBinary(bytes, manifest);

        Assert.IsType(type, back);
        Assert.Equal(Encoding.UTF8.GetString(bytes), JsonSerializer.Serialize(back, back.GetType(), RunbookJsonSerializer.Options));
    }

    // ---- samples -------------------------------------------------------------------------------------------------

    private static JsonObject Alert() => (JsonObject)JsonNode.Parse("""
        {"@timestamp":"2026-03-10T11:59:58Z","event":{"id":"a-1","category":"intrusion_detection","severity":73},
         "threat":{"tactic":{"name":"Lateral Movement"},"technique":{"id":["T1021.001"]}},
         "source":{"ip":"203.0.113.5","host":{"name":"WS-042","id":"dev-9f2c"}},"destination":{"ip":"10.0.4.17"},"tags":["edge"]}
        """)!;

    private static JsonObject BlockParameters() => new() { ["ip"] = "203.0.113.5", ["zone"] = "external", ["policy_name"] = "AUTO_BLOCK_ex-1" };

    private static JsonNode Output() => JsonNode.Parse("""{"malicious":7,"harmless":61,"country":"NL","tags":["scanner"]}""")!;

    private static AdapterRequest Request() => new(
        "POST",
        "https://fw.example.internal/restapi/v10.2/Policies/SecurityRules?location=vsys&name=AUTO_BLOCK_ex-1",
        new Dictionary<string, string> { ["X-PAN-KEY"] = "***", ["Content-Type"] = "application/json", ["Idempotency-Key"] = "rbp-ex-1-step_3" },
        """{"entry":{"@name":"AUTO_BLOCK_ex-1","source":["203.0.113.5"],"action":"deny"}}""");

    /// <summary>The reference playbook from the repository, with what its file leaves out filled in, so the frozen copy has every field.</summary>
    private static Playbook ReferencePlaybook()
    {
        var result = PlaybookLoader.LoadFile(Path.Combine(Repo.Playbooks, "lateral_movement_L1.yaml"));
        Assert.True(result.Ok, string.Join("\n", result.Errors));
        var playbook = result.Value!;
        return playbook with
        {
            Trigger = playbook.Trigger with { Rules = ["abc123-lateral-rdp"], Severity = AlertSeverity.Medium },
            Steps = [.. playbook.Steps.Select(s => s.Id == "step_3" ? s with { Retry = new RetrySpec { MaxRetries = 2, InitialDelay = TimeSpan.FromSeconds(2) } } : s)],
            Extensions = new JsonObject { ["x-owner"] = "soc-tier2" },
        };
    }

    private static EffectKey Effect() => new("paloalto", "block_ip", "203.0.113.5");

    private static UsageSnapshot Usage() => new(4.5, T0, new DateOnly(2026, 3, 10), 12, T0.AddMinutes(-7));

    private static SelectedPlaybook Selected() => new("lateral_movement_L1", "1.0.0", "binding 3 (rule abc123-lateral-rdp)", "ex-1", false, 3);

    private static BindingDecision Decision() => new(3, "lateral_movement_L1", BindingMode.AutoRun, BindingDecisionKind.Ran, "rule abc123-lateral-rdp",
        "203.0.113.5", "ex-1", Usage(), true, false, "alice", T0);

    private static PlaybookBinding Binding() => new(3, new BindingSpec
    {
        Id = 3,
        PlaybookId = "lateral_movement_L1",
        Mode = BindingMode.AutoRun,
        Enabled = true,
        Priority = 10,
        Description = "Contain lateral movement at the edge",
        Match = new BindingMatch { RuleIds = ["abc123-lateral-rdp"], AlertTypes = ["intrusion_detection"], Severities = [AlertSeverity.High, AlertSeverity.Critical], Tags = ["edge"] },
        Preset = GuardrailPreset.CriticalEdge,
        Guardrails = new GuardrailSpec
        {
            MaxPerMinute = 10, MaxConcurrent = 2, DailyQuota = 100, Key = "source.ip", OnceWithin = TimeSpan.FromMinutes(10), TimeZone = "Europe/Berlin",
            Circuit = new CircuitSpec { Trips = 5, Window = TimeSpan.FromMinutes(10) },
        },
    }, "alice", T0.AddDays(-1), "bob", T0);

    /// <summary>One realistic instance of every type in the manifest maps, every property set (nested records included).</summary>
    private static List<object> Samples()
    {
        var playbook = ReferencePlaybook();
        return
        [
            // execution journal
            new ExecutionStarted("ex-1", "a-1", Alert(), playbook, "technique T1021.001 (binding 3)", T0, DryRun: true),
            new StepSucceeded("step_1", 2, Output(), Request(), 412, T0.AddSeconds(1), new JsonObject { ["ip"] = "203.0.113.5", ["tag"] = "runbookpilot-block" })
            {
                Effect = Effect() with { Kind = TargetKind.Cidr },
            },
            new StepAttemptFailed("step_2", 1, "splunk: 503 Service Unavailable", Request(), T0.AddSeconds(4), T0.AddSeconds(2)),
            new StepFailed("step_2", "splunk: 503 Service Unavailable (retries exhausted)", T0.AddSeconds(20)),
            new ApprovalRequested("step_3", "apr-1", ApprovalReason.L1Action, 2, Request(), BlockParameters(), T0.AddHours(4), T0.AddSeconds(21)),
            new ApprovalVoteRecorded("step_3", "apr-1", "alice", "VirusTotal: 7 malicious", T0.AddMinutes(2)),
            new StepApproved("step_3", "apr-1", "bob", "second pair of eyes", T0.AddMinutes(3)),
            new StepRejected("step_3", "apr-1", "carol", "known vulnerability scanner", T0.AddMinutes(3)),
            new ApprovalExpired("step_3", "apr-1", T0.AddHours(4)),
            new StepSimulated("step_4", "sim-1", new SimulationRecord("crowdstrike", "isolate_host", Request(),
                new JsonObject { ["hostname"] = "WS-042", ["device_id"] = "dev-9f2c" }, "WS-042 loses network access except to the Falcon cloud", 7,
                ["state-changing action", "workstation in production"], "promote after confirming with the host owner"), T0.AddMinutes(4)),
            new SimulationPromoted("step_4", "sim-1", "alice", "owner confirmed", T0.AddMinutes(5)),
            new SimulationDismissed("step_4", "sim-1", "bob", "false positive", T0.AddMinutes(5)),
            new StepRefused("step_3", "target 10.0.0.1 is on the allow-list", T0.AddMinutes(1)),
            new ExecutionCompleted(ExecutionOutcome.Completed, "5 steps: 4 succeeded, 1 simulated", T0.AddMinutes(6)),
            new RollbackRequested(["step_4", "step_3"], "alice", "false positive", T0.AddMinutes(30)),
            new StepRolledBack("step_3", Output(), Request(), T0.AddMinutes(31)),
            new StepRollbackFailed("step_4", "crowdstrike: 404 device not found", T0.AddMinutes(31)),
            new EnrichmentAttached("technique_context", "ready", "AI-GENERATED: T1021.001 is Remote Desktop Protocol...", "served from cache",
                "openrouter/some-model", true, 812, 164, T0.AddSeconds(9)),

            // effect ledger journal
            new EffectAcquiring(Effect(), "ex-1", "step_3", T0),
            new EffectHeld(Effect(), "ex-1", "step_3", T0.AddSeconds(1)),
            new EffectAbandoned(Effect(), "ex-2", "step_3", T0.AddSeconds(2)),
            new EffectReleasing(Effect(), "ex-1", "step_3", T0.AddMinutes(30)),
            new EffectReleased(Effect(), "ex-1", "step_3", true, T0.AddMinutes(31)),
            new EffectReleaseFailed(Effect(), "ex-1", "step_3", T0.AddMinutes(31)),
            new EffectLedgerSnapshot([new EffectSnapshotEntry(Effect(), new EffectHold("ex-1", "step_3", HoldState.Held, T0))]),

            // intake journal
            new AlertReceived("a-1", "ecs", "webhook", Alert(), [Selected()], T0, [Decision()]),
            new BindingsDecided("a-1#1", "a-1", "ecs", Alert(), [Decision()], [Selected()], T0.AddMinutes(10)),
            new AlertDispatched("a-1", T0.AddSeconds(1)),
            new BindingSaved(Binding(), true, T0),
            new BindingDeleted(3, "alice", T0.AddDays(1)),
            new BindingRunEnded("ex-1", 3, "203.0.113.5", "lateral_movement_L1", BindingMode.AutoRun, "a-1", "completed", T0, T0.AddMinutes(6)),
            new PauseChanged(PauseScope.Playbook, "lateral_movement_L1", true, "alice", "change freeze", T0),
            new IntakeSnapshot(
                [new SeenAlert(new AlertAccepted("a-1", false, [Selected()], [Decision()]), T0)],
                [new PendingBatch("a-1#1", "a-1", Alert(), [Selected()])],
                1,
                new BindingBookSnapshot(
                    [Binding()],
                    [new BindingUsageEntry(3, "203.0.113.5", Usage())],
                    [new BindingRun("ex-1", 3, "203.0.113.5", BindingMode.AutoRun, "lateral_movement_L1", "a-1", T0)],
                    [new BindingTrips(3, [T0, T0.AddSeconds(30)])],
                    [new BindingCircuit(3, T0.AddMinutes(1))],
                    [new PauseState(PauseScope.Global, "", "alice", "incident bridge", T0)],
                    [new HeldAlert("a-2", "ecs", Alert(), 3, "lateral_movement_L1", T0)],
                    4),
                T0.AddMinutes(10)),
        ];
    }

    // ---- old payloads --------------------------------------------------------------------------------------------
    // NEVER EDIT THESE LITERALS. Each is a journal entry exactly as RunbookPilot writes it today (snake_case names and
    // enums, nulls left out) and stands for every such entry already in a journal. If one stops reading, the change
    // broke old journals: make the change readable (an optional property, a default) or give the event a new manifest
    // (.v2) and keep this one reading. Add a new literal for a new shape; never rewrite an old one.

    private const string ExecutionStartedV1 = """{"execution_id":"ex-0001","alert_id":"a-0001","alert":{"event":{"id":"a-0001","category":"intrusion_detection"},"source":{"ip":"203.0.113.5"},"host":{"name":"WS-042"}},"playbook":{"id":"contain","name":"Contain","version":"1.0.0","autonomy_level":"l1","trigger":{"techniques":["T1021.001"],"conditions":[{"field":"event.category","operator":"equals","value":"intrusion_detection"}],"match":"all","rules":[]},"steps":[{"id":"lookup","name":"Reputation","action_type":"query","adapter":"virustotal","autonomy_level":"l0","params":{"resource":"{{source.ip}}"},"rollback_available":false,"on_failure":"halt"},{"id":"block","name":"Block","action_type":"block_ip","adapter":"paloalto","autonomy_level":"l1","params":{"ip":"{{source.ip}}"},"approval_required":true,"rollback_available":true,"timeout":"00:00:30","retry":{"max_retries":2,"initial_delay":"00:00:01"},"on_failure":"continue"}],"rollback":{"block":{"action_type":"unblock_ip","adapter":"paloalto","params":{"ip":"{{source.ip}}"}}}},"selection_reason":"technique T1021.001","at":"2026-03-10T12:00:00+00:00","dry_run":false}""";

    private const string StepSucceededV1 = """{"step_id":"lookup","attempt":2,"output":{"malicious":7,"harmless":61},"request":{"method":"GET","url":"https://www.virustotal.com/api/v3/ip_addresses/203.0.113.5","headers":{"x-apikey":"***"}},"duration_ms":412,"at":"2026-03-10T12:00:01+00:00"}""";

    private const string StepAttemptFailedV1 = """{"step_id":"block","attempt":1,"error":"paloalto: 503 Service Unavailable","retry_at":"2026-03-10T12:00:04+00:00","at":"2026-03-10T12:00:03+00:00"}""";

    private const string ApprovalRequestedV1 = """{"step_id":"block","approval_id":"apr-0001","reason":"l1_action","required_approvers":2,"request":{"method":"POST","url":"https://fw.example.internal/restapi/v10.2/Policies/SecurityRules?location=vsys","headers":{"X-PAN-KEY":"***","Content-Type":"application/json"},"body":"{\u0022entry\u0022:{\u0022@name\u0022:\u0022AUTO_BLOCK_ex-0001\u0022,\u0022source\u0022:[\u0022203.0.113.5\u0022],\u0022action\u0022:\u0022deny\u0022}}"},"parameters":{"ip":"203.0.113.5","zone":"external","policy_name":"AUTO_BLOCK_ex-0001"},"deadline":"2026-03-10T16:00:02+00:00","at":"2026-03-10T12:00:02+00:00"}""";

    private const string StepApprovedV1 = """{"step_id":"block","approval_id":"apr-0001","approver":"alice","comment":"reputation is bad","at":"2026-03-10T12:05:00+00:00"}""";

    private const string ExecutionCompletedV1 = """{"outcome":"completed","summary":"2 of 2 steps succeeded","at":"2026-03-10T12:06:00+00:00"}""";

    private const string AlertReceivedV1 = """{"alert_id":"a-0001","format":"ecs","source":"webhook","alert":{"event":{"id":"a-0001","severity":"high"},"source":{"ip":"203.0.113.5"}},"selected":[{"playbook_id":"contain","version":"1.0.0","reason":"binding 3 (rule abc123-lateral-rdp)","execution_id":"ex-0001","dry_run":false,"binding_id":3}],"at":"2026-03-10T12:00:00+00:00","decisions":[{"binding_id":3,"playbook_id":"contain","mode":"auto_run","decision":"ran","key":"203.0.113.5","execution_id":"ex-0001","usage":{"tokens":4.5,"refilled_at":"2026-03-10T12:00:00+00:00","quota_day":"2026-03-10","quota_used":12,"last_run_at":"2026-03-10T12:00:00+00:00"},"trip":false,"opens_circuit":false,"at":"2026-03-10T12:00:00+00:00"},{"binding_id":4,"playbook_id":"contain","mode":"dry_run","decision":"skipped_rate_limited","reason":"10/min reached","key":"203.0.113.5","trip":true,"opens_circuit":false,"at":"2026-03-10T12:00:00+00:00"}]}""";

    private const string BindingSavedV1 = """{"binding":{"id":3,"spec":{"id":3,"playbook_id":"contain","mode":"auto_run","enabled":true,"priority":10,"description":"Contain lateral movement at the edge","match":{"rule_ids":["abc123-lateral-rdp"],"alert_types":["intrusion_detection"],"severities":["high","critical"],"tags":["edge"]},"preset":"critical_edge","guardrails":{"max_per_minute":10,"max_concurrent":2,"daily_quota":100,"key":"source.ip","once_within":"00:10:00","time_zone":"Europe/Berlin","circuit":{"trips":5,"window":"00:10:00"}}},"created_by":"alice","created_at":"2026-03-09T12:00:00+00:00","updated_by":"bob","updated_at":"2026-03-10T12:00:00+00:00"},"created":false,"at":"2026-03-10T12:00:00+00:00"}""";

    private object Read(string manifest, string json) => _serializer.FromBinary(Encoding.UTF8.GetBytes(json), manifest);

    [Fact]
    public void An_old_execution_started_still_reads_with_its_frozen_playbook()
    {
        var started = Assert.IsType<ExecutionStarted>(Read("execution-started.v1", ExecutionStartedV1));
        Assert.Equal("ex-0001", started.ExecutionId);
        Assert.Equal("a-0001", started.AlertId);
        Assert.Equal("203.0.113.5", started.Alert["source"]!["ip"]!.GetValue<string>());
        Assert.Equal("technique T1021.001", started.SelectionReason);
        Assert.Equal(T0, started.At);
        Assert.False(started.DryRun);

        var playbook = started.Playbook;
        Assert.Equal(("contain", "1.0.0", AutonomyLevel.L1), (playbook.Id, playbook.Version, playbook.AutonomyLevel));
        Assert.Equal(new[] { "T1021.001" }, playbook.Trigger.Techniques);
        var condition = Assert.Single(playbook.Trigger.Conditions);
        Assert.Equal(ConditionOperator.Equals, condition.Operator);
        Assert.Equal("intrusion_detection", condition.Value!.GetValue<string>());
        Assert.Equal(new[] { "lookup", "block" }, playbook.Steps.Select(s => s.Id));
        Assert.Equal(new[] { AutonomyLevel.L0, AutonomyLevel.L1 }, playbook.Steps.Select(s => s.AutonomyLevel));
        var block = playbook.Steps[1];
        Assert.True(block.RollbackAvailable);
        Assert.True(block.ApprovalRequired);
        Assert.Equal(TimeSpan.FromSeconds(30), block.Timeout);
        Assert.Equal(2, block.Retry!.MaxRetries);
        Assert.Equal(OnFailure.Continue, block.OnFailure);
        Assert.Equal("{{source.ip}}", block.Params["ip"]!.GetValue<string>());
        Assert.Equal("unblock_ip", playbook.Rollback["block"].ActionType);
        Assert.Null(playbook.Enrichment);
    }

    [Fact]
    public void Old_step_results_and_completion_still_read()
    {
        var succeeded = Assert.IsType<StepSucceeded>(Read("step-succeeded.v1", StepSucceededV1));
        Assert.Equal(("lookup", 2, 412L), (succeeded.StepId, succeeded.Attempt, succeeded.DurationMs));
        Assert.Equal(7, succeeded.Output!["malicious"]!.GetValue<int>());
        var request = succeeded.Request!;
        Assert.Equal("GET", request.Method);
        Assert.Equal("***", request.Headers["x-apikey"]);
        Assert.Null(request.Body);
        Assert.Equal(T0.AddSeconds(1), succeeded.At);

        var failed = Assert.IsType<StepAttemptFailed>(Read("step-attempt-failed.v1", StepAttemptFailedV1));
        Assert.Equal(("block", 1), (failed.StepId, failed.Attempt));
        Assert.Equal("paloalto: 503 Service Unavailable", failed.Error);
        Assert.Null(failed.Request);
        Assert.Equal(T0.AddSeconds(4), failed.RetryAt);

        var completed = Assert.IsType<ExecutionCompleted>(Read("execution-completed.v1", ExecutionCompletedV1));
        Assert.Equal(ExecutionOutcome.Completed, completed.Outcome);
        Assert.Equal("2 of 2 steps succeeded", completed.Summary);
        Assert.Equal(T0.AddMinutes(6), completed.At);
    }

    [Fact]
    public void Old_approval_events_still_read()
    {
        var requested = Assert.IsType<ApprovalRequested>(Read("approval-requested.v1", ApprovalRequestedV1));
        Assert.Equal(("block", "apr-0001", ApprovalReason.L1Action, 2), (requested.StepId, requested.ApprovalId, requested.Reason, requested.RequiredApprovers));
        var request = requested.Request!;
        Assert.Equal("POST", request.Method);
        Assert.Equal("application/json", request.Headers["Content-Type"]);
        Assert.Equal("""{"entry":{"@name":"AUTO_BLOCK_ex-0001","source":["203.0.113.5"],"action":"deny"}}""", request.Body);
        Assert.Equal("AUTO_BLOCK_ex-0001", requested.Parameters["policy_name"]!.GetValue<string>());
        Assert.Equal(T0.AddHours(4).AddSeconds(2), requested.Deadline);
        Assert.Equal(T0.AddSeconds(2), requested.At);

        var approved = Assert.IsType<StepApproved>(Read("step-approved.v1", StepApprovedV1));
        Assert.Equal(new StepApproved("block", "apr-0001", "alice", "reputation is bad", T0.AddMinutes(5)), approved);
    }

    [Fact]
    public void An_old_alert_received_still_reads_with_its_binding_decisions()
    {
        var received = Assert.IsType<AlertReceived>(Read("alert-received.v1", AlertReceivedV1));
        Assert.Equal(("a-0001", "ecs", "webhook"), (received.AlertId, received.Format, received.Source));
        Assert.Equal("high", received.Alert["event"]!["severity"]!.GetValue<string>());
        Assert.Equal(new SelectedPlaybook("contain", "1.0.0", "binding 3 (rule abc123-lateral-rdp)", "ex-0001", false, 3), Assert.Single(received.Selected));
        Assert.Equal(T0, received.At);

        var decisions = received.Decisions!;
        Assert.Equal(2, decisions.Count);
        var ran = decisions[0];
        Assert.Equal(3, ran.BindingId);
        Assert.Equal((BindingMode.AutoRun, BindingDecisionKind.Ran), (ran.Mode, ran.Decision));
        Assert.Equal("ex-0001", ran.ExecutionId);
        Assert.Equal(new UsageSnapshot(4.5, T0, new DateOnly(2026, 3, 10), 12, T0), ran.Usage);
        Assert.Null(ran.Reason);
        Assert.Null(ran.By);
        var skipped = decisions[1];
        Assert.Equal(4, skipped.BindingId);
        Assert.Equal((BindingMode.DryRun, BindingDecisionKind.SkippedRateLimited), (skipped.Mode, skipped.Decision));
        Assert.Equal("10/min reached", skipped.Reason);
        Assert.Null(skipped.ExecutionId);
        Assert.Null(skipped.Usage);
        Assert.True(skipped.Trip);
    }

    [Fact]
    public void An_old_binding_saved_still_reads_with_its_guardrails()
    {
        var saved = Assert.IsType<BindingSaved>(Read("binding-saved.v1", BindingSavedV1));
        Assert.False(saved.Created);
        Assert.Equal(T0, saved.At);
        var binding = saved.Binding;
        Assert.Equal((3, "alice", T0.AddDays(-1), "bob", T0), (binding.Id, binding.CreatedBy, binding.CreatedAt, binding.UpdatedBy, binding.UpdatedAt));
        var spec = binding.Spec;
        Assert.Equal(("contain", BindingMode.AutoRun, true, 10), (spec.PlaybookId, spec.Mode, spec.Enabled, spec.Priority));
        Assert.Equal(GuardrailPreset.CriticalEdge, spec.Preset);
        Assert.Equal(new[] { "abc123-lateral-rdp" }, spec.Match.RuleIds);
        Assert.Equal(new[] { AlertSeverity.High, AlertSeverity.Critical }, spec.Match.Severities);
        Assert.Equal(new[] { "edge" }, spec.Match.Tags);
        Assert.Equal(new GuardrailSpec
        {
            MaxPerMinute = 10, MaxConcurrent = 2, DailyQuota = 100, Key = "source.ip", OnceWithin = TimeSpan.FromMinutes(10), TimeZone = "Europe/Berlin",
            Circuit = new CircuitSpec { Trips = 5, Window = TimeSpan.FromMinutes(10) },
        }, spec.Guardrails);
    }

    // ---- unknown manifests ---------------------------------------------------------------------------------------

    [Fact]
    public void An_unknown_manifest_fails_loudly()
    {
        var payload = Encoding.UTF8.GetBytes(StepApprovedV1);

        var unknown = Assert.Throws<SerializationException>(() => _serializer.FromBinary(payload, "step-teleported.v1"));
        Assert.Contains("step-teleported.v1", unknown.Message, StringComparison.Ordinal);

        // A later version of a known event is a manifest of its own: unregistered, it fails; it never falls back to v1.
        Assert.Throws<SerializationException>(() => _serializer.FromBinary(payload, "step-approved.v99"));
        // Nor is a CLR type name taken for a manifest.
        Assert.Throws<SerializationException>(() => _serializer.FromBinary(payload, typeof(StepApproved).FullName!));
        // A type without a manifest is refused when written, rather than journaled under a name nothing can read back.
        Assert.Throws<SerializationException>(() => _serializer.Manifest(new AlertAccepted("a-1", false, [])));
    }
}
