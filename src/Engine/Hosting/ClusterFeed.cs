using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Tools.PublishSubscribe;
using RunbookPilot.Domain.Intake;
using RunbookPilot.Engine.Execution;

namespace RunbookPilot.Engine.Hosting;

/// <summary>
/// Makes each node's event stream cluster-wide for what every node must see: executions' updates and ends (the approval
/// queue and the dashboard of every node show the same pending items; the intake singleton hears every end), binding
/// audit and control changes (every node's <c>/ws</c>). What happens on this node is published to the other nodes
/// (DistributedPubSub); what arrives from another node is put on this node's event stream marked with its origin, so
/// consumers that must act once (metrics, enrichment) skip it. Runs only on a node with seeds.
/// </summary>
public sealed class ClusterFeed : ReceiveActor
{
    public const string Topic = "runbookpilot-feed";
    private readonly IActorRef _mediator = DistributedPubSub.Get(Context.System).Mediator;
    private readonly string _self = Cluster.Get(Context.System).SelfAddress.ToString();

    public ClusterFeed()
    {
        // Outbound: what happened on this node (a relayed copy carries its origin and is not sent on again).
        // With the state: the approval queue builds its rows from it (the cost is in bench/README.md, "A cluster on PostgreSQL").
        Receive<ExecutionUpdated>(u => u.Origin is null, u => Publish(u with { Origin = _self }));
        Receive<ExecutionEnded>(e => e.Origin is null, e => Publish(e with { Origin = _self }));
        Receive<BindingAudited>(a => a.Origin is null, a => Publish(a with { Origin = _self }));
        Receive<ControlChanged>(c => c.Origin is null, c => Publish(c with { Origin = _self }));
        ReceiveAny(_ => { });
    }

    public static Props Props() => Akka.Actor.Props.Create(() => new ClusterFeed());

    protected override void PreStart()
    {
        foreach (var type in new[] { typeof(ExecutionUpdated), typeof(ExecutionEnded), typeof(BindingAudited), typeof(ControlChanged) })
            Context.System.EventStream.Subscribe(Self, type);
        Context.ActorOf(Akka.Actor.Props.Create(() => new Inbound(_self)), "inbound");
    }

    private void Publish(object message) => _mediator.Tell(new Publish(Topic, message));

    /// <summary>Inbound: the topic's messages from the other nodes onto this node's event stream (this node's own come back too and are dropped).</summary>
    private sealed class Inbound : ReceiveActor
    {
        public Inbound(string self)
        {
            Receive<SubscribeAck>(_ => { });
            Receive<ExecutionUpdated>(u => Relay(u.Origin, u, self));
            Receive<ExecutionEnded>(e => Relay(e.Origin, e, self));
            Receive<BindingAudited>(a => Relay(a.Origin, a, self));
            Receive<ControlChanged>(c => Relay(c.Origin, c, self));
        }

        protected override void PreStart() => DistributedPubSub.Get(Context.System).Mediator.Tell(new Subscribe(Topic, Self));

        private static void Relay(string? origin, object message, string self)
        {
            if (origin is not null && origin != self) Context.System.EventStream.Publish(message);
        }
    }
}
