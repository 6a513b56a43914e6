using Akka.Actor;
using RunbookPilot.Domain.Execution;
using RunbookPilot.Engine.Execution;
using RunbookPilot.Domain.Intake;
using RunbookPilot.Engine.Ingestion;

namespace RunbookPilot.Web.Services;

/// <summary>
/// Tells open dashboard pages that something changed (an execution step, an approval, a binding decision, a kill
/// switch), straight from the actors' event stream — so a new approval shows within a second without reloading.
/// </summary>
public sealed class LiveFeed
{
    public LiveFeed(ActorSystem system) => system.ActorOf(Props.Create(() => new Forwarder(this)), "dashboard-live");

    /// <summary>Raised on the actor's thread; subscribers marshal to their renderer with InvokeAsync.</summary>
    public event Action? Changed;

    private void Raise() => Changed?.Invoke();

    private sealed class Forwarder : ReceiveActor
    {
        public Forwarder(LiveFeed feed)
        {
            Receive<ExecutionUpdated>(_ => feed.Raise());
            Receive<BindingAudited>(_ => feed.Raise());
            Receive<ControlChanged>(_ => feed.Raise());
        }

        protected override void PreStart()
        {
            Context.System.EventStream.Subscribe(Self, typeof(ExecutionUpdated));
            Context.System.EventStream.Subscribe(Self, typeof(BindingAudited));
            Context.System.EventStream.Subscribe(Self, typeof(ControlChanged));
        }
    }
}

/// <summary>Who is signed in (from basic authentication) and whether simulators stand in for vendors.</summary>
public sealed record DashboardUser(string Name, string Role, bool Demo)
{
    public bool IsAdmin => Role == "admin";
}
