using System.Text.Json.Nodes;
using RunbookPilot.Engine.Execution;
using RunbookPilot.Engine.Hosting;
using RunbookPilot.Engine.Ingestion;
using RunbookPilot.Engine.Playbooks;

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
        Assert.Equal(19, manifests.Count);
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
