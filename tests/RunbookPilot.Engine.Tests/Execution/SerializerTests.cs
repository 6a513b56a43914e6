using System.Text.Json.Nodes;
using RunbookPilot.Domain.Execution;
using RunbookPilot.Engine.Execution;
using RunbookPilot.Engine.Hosting;
using RunbookPilot.Domain.Intake;
using RunbookPilot.Engine.Ingestion;
using RunbookPilot.Domain.Playbooks;
using RunbookPilot.Domain.Core;

namespace RunbookPilot.Engine.Tests.Execution;

/// <summary>The journal's serializer: every event type has a stable manifest, and events survive a round trip.</summary>
public class SerializerTests
{
    private readonly RunbookJsonSerializer _serializer = new(null!);

    [Fact]
    public void Every_event_type_has_a_unique_manifest()
    {
        var eventTypes = typeof(IExecutionEvent).Assembly.GetTypes()
            .Where(t => t is { IsClass: true, IsAbstract: false } && (typeof(IExecutionEvent).IsAssignableFrom(t) || typeof(IIntakeEvent).IsAssignableFrom(t)))
            .ToList();
        var manifests = eventTypes.Select(t => _serializer.Manifest(System.Runtime.CompilerServices.RuntimeHelpers.GetUninitializedObject(t))).ToList();
        Assert.Equal(manifests.Count, manifests.Distinct(StringComparer.Ordinal).Count());
        Assert.All(manifests, m => Assert.Matches(@"^[a-z-]+\.v\d+$", m));
        Assert.Equal(25, manifests.Count);
    }

    [Fact]
    public void Binding_events_round_trip_and_an_alert_journaled_before_bindings_still_reads()
    {
        var at = new DateTimeOffset(2026, 3, 10, 12, 0, 0, TimeSpan.Zero);
        var spec = new RunbookPilot.Domain.Bindings.BindingSpec
        {
            Id = 3, PlaybookId = "ip_enrichment", Mode = RunbookPilot.Domain.Bindings.BindingMode.DryRun, Preset = RunbookPilot.Domain.Bindings.GuardrailPreset.CriticalEdge,
            Match = new RunbookPilot.Domain.Bindings.BindingMatch { Severities = [AlertSeverity.High], Tags = ["edge"] },
            Guardrails = new RunbookPilot.Domain.Bindings.GuardrailSpec { MaxPerMinute = 10, OnceWithin = TimeSpan.FromMinutes(10), TimeZone = "Europe/Berlin" },
        };
        var saved = new BindingSaved(new RunbookPilot.Domain.Bindings.PlaybookBinding(3, spec, "alice", at, "bob", at), true, at);
        var savedBack = (BindingSaved)_serializer.FromBinary(_serializer.ToBinary(saved), _serializer.Manifest(saved));
        Assert.Equal(spec.Guardrails, savedBack.Binding.Spec.Guardrails);
        Assert.Equal(spec.Match.Severities, savedBack.Binding.Spec.Match.Severities);
        Assert.Equal(spec.Effective, savedBack.Binding.Spec.Effective);

        var decision = new RunbookPilot.Domain.Bindings.BindingDecision(3, "ip_enrichment", RunbookPilot.Domain.Bindings.BindingMode.DryRun,
            RunbookPilot.Domain.Bindings.BindingDecisionKind.DryRan, null, "10.0.0.1", "ex-1", new RunbookPilot.Domain.Bindings.UsageSnapshot(8.5, at, new DateOnly(2026, 3, 10), 4, at),
            false, false, null, at);
        var received = new AlertReceived("a1", "ecs", "webhook", new JsonObject { ["x"] = 1 }, [new SelectedPlaybook("ip_enrichment", "1.0.0", "binding 3", "ex-1", true, 3)], at, [decision]);
        var back = (AlertReceived)_serializer.FromBinary(_serializer.ToBinary(received), _serializer.Manifest(received));
        Assert.Equal(decision, Assert.Single(back.Decisions!));
        Assert.True(back.Selected[0].DryRun);

        var old = System.Text.Encoding.UTF8.GetBytes("""{"alert_id":"a0","format":"ecs","source":"webhook","alert":{},"selected":[{"playbook_id":"p","version":"1.0.0","reason":"r","execution_id":"ex-0"}],"at":"2026-01-01T00:00:00+00:00"}""");
        var oldBack = (AlertReceived)_serializer.FromBinary(old, "alert-received.v1");
        Assert.Null(oldBack.Decisions);
        Assert.False(oldBack.Selected[0].DryRun);
    }

    [Fact]
    public void Events_round_trip_with_the_frozen_playbook()
    {
        var playbook = PlaybookLoader.Parse(Playbooks.Samples.Valid, "s.yaml").Value!;
        var started = new ExecutionStarted("ex1", "a1", (JsonObject)JsonNode.Parse("""{"source":{"ip":"1.2.3.4"}}""")!, playbook, "technique", DateTimeOffset.UnixEpoch);
        var back = (ExecutionStarted)_serializer.FromBinary(_serializer.ToBinary(started), _serializer.Manifest(started));
        Assert.Equal("execution-started.v1", _serializer.Manifest(started));
        Assert.Equal(playbook.Steps.Select(s => (s.Id, s.AutonomyLevel, s.RollbackAvailable)), back.Playbook.Steps.Select(s => (s.Id, s.AutonomyLevel, s.RollbackAvailable)));
        Assert.Equal(playbook.Rollback.Keys, back.Playbook.Rollback.Keys);
        Assert.Equal("1.2.3.4", back.Alert["source"]!["ip"]!.GetValue<string>());

        var approved = new StepApproved("block", "apr", "alice", "ok", DateTimeOffset.UnixEpoch);
        Assert.Equal(approved, _serializer.FromBinary(_serializer.ToBinary(approved), "step-approved.v1"));
        Assert.Throws<System.Runtime.Serialization.SerializationException>(() => _serializer.FromBinary([], "no-such-event.v1"));
    }
}
