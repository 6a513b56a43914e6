using System.Text.Json.Nodes;

namespace RunbookPilot.Engine.Ingestion;

/// <summary>An event of the alert intake journal.</summary>
public interface IIntakeEvent
{
    DateTimeOffset At { get; }
}

/// <summary>A playbook chosen for an alert, and the execution that runs it.</summary>
public sealed record SelectedPlaybook(string PlaybookId, string Version, string Reason, string ExecutionId);

/// <summary>An alert was accepted, with the selection decision (an empty list records "no playbook matched").</summary>
public sealed record AlertReceived(string AlertId, string Format, string Source, JsonObject Alert, IReadOnlyList<SelectedPlaybook> Selected, DateTimeOffset At) : IIntakeEvent;

/// <summary>Every execution of an alert acknowledged its start; nothing is left to re-send after a restart.</summary>
public sealed record AlertDispatched(string AlertId, DateTimeOffset At) : IIntakeEvent;

public static class IntakeManifests
{
    public static readonly IReadOnlyDictionary<Type, string> ByType = new Dictionary<Type, string>
    {
        [typeof(AlertReceived)] = "alert-received.v1",
        [typeof(AlertDispatched)] = "alert-dispatched.v1",
    };
}
