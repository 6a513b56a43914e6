using Akka.Actor;
using RunbookPilot.Domain.Intake;
using RunbookPilot.Engine.Approvals;

namespace RunbookPilot.Engine.Live;

/// <summary>
/// Live changes for the front ends of this process (the dashboard's pages, <c>/ws</c>): every execution update as the
/// approval queue passed it on (in decision order), every binding decision and every kill-switch or circuit change.
/// Handlers run on an actor's thread; a page marshals to its renderer, a socket to its own queue.
/// </summary>
public sealed class LiveUpdates
{
    /// <summary>An <see cref="Execution.ExecutionUpdated"/>, a <see cref="BindingAudited"/>, a <see cref="ControlChanged"/> or an <see cref="ApprovalQueue.Healed"/>.</summary>
    public event Action<object>? Published;

    internal void Publish(object message) => Published?.Invoke(message);
}

/// <summary>Feeds <see cref="LiveUpdates"/> from the event stream: the approval queue's updates and the intake's notifications.</summary>
public sealed class LiveUpdatesActor : ReceiveActor
{
    public LiveUpdatesActor(LiveUpdates hub)
    {
        Receive<ApprovalQueue.Updated>(u => hub.Publish(u.Update));
        Receive<ApprovalQueue.Healed>(hub.Publish);
        Receive<BindingAudited>(hub.Publish);
        Receive<ControlChanged>(hub.Publish);
    }

    public static Props Props(LiveUpdates hub) => Akka.Actor.Props.Create(() => new LiveUpdatesActor(hub));

    protected override void PreStart()
    {
        Context.System.EventStream.Subscribe(Self, typeof(ApprovalQueue.Updated));
        Context.System.EventStream.Subscribe(Self, typeof(ApprovalQueue.Healed));
        Context.System.EventStream.Subscribe(Self, typeof(BindingAudited));
        Context.System.EventStream.Subscribe(Self, typeof(ControlChanged));
    }
}
