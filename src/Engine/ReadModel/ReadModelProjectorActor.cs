using Akka.Actor;
using Akka.Event;
using Akka.Streams;

namespace RunbookPilot.Engine.ReadModel;

/// <summary>Registry key of the read-model projector (a cluster singleton: exactly one node projects).</summary>
public sealed class ReadModelProjector
{
    /// <summary>Applies everything journaled before the request, then answers <see cref="Done"/> (or a failure after <see cref="Budget"/>).</summary>
    public sealed record CatchUp(TimeSpan Budget) : Domain.Core.IClusterMessage
    {
        public static readonly CatchUp Instance = new(TimeSpan.FromSeconds(25));
    }

    public sealed record Done : Domain.Core.IClusterMessage
    {
        public static readonly Done Instance = new();
    }

    /// <summary>Drops the read tables and projects the whole journal again; answered with the offset reached.</summary>
    public sealed record Rebuild : Domain.Core.IClusterMessage
    {
        public static readonly Rebuild Instance = new();
    }

    /// <summary>Answered with <see cref="Position"/>.</summary>
    public sealed record GetPosition : Domain.Core.IClusterMessage
    {
        public static readonly GetPosition Instance = new();
    }

    /// <summary>The offset projected and how many journal events are not in the read tables yet.</summary>
    public sealed record Position(long Offset, long Lag) : Domain.Core.IClusterMessage;
}

/// <summary>
/// The read-model projector (design step 6): the writer of the read tables (enrichments aside). It owns its offset — the offset row is
/// written in the same transaction as the rows it projected, and nothing else reads or writes it — follows the journal
/// live, and answers catch-up requests (queries of the application layer catch up through it). Catch-up requests that
/// arrive while one runs are served together by the next run. A failing stream crashes the actor; it runs under a
/// backoff supervisor and, in a cluster, as a singleton.
/// </summary>
public sealed class ReadModelProjectorActor : ReceiveActor
{
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly ReadModelProjection _projection;
    private readonly bool _followLive;
    private UniqueKillSwitch? _live;
    private List<IActorRef> _waiting = [];
    private List<IActorRef> _served = [];
    private TimeSpan _budget = TimeSpan.Zero;
    private bool _running;

    public ReadModelProjectorActor(ReadModelProjection projection, bool followLive)
    {
        _projection = projection;
        _followLive = followLive;
        Receive<ReadModelProjector.CatchUp>(c =>
        {
            _waiting.Add(Sender);
            if (c.Budget > _budget) _budget = c.Budget;
            if (!_running) Run();
        });
        Receive<RunEnded>(ended =>
        {
            foreach (var w in _served) w.Tell(ended.Error is null ? ReadModelProjector.Done.Instance : new Status.Failure(ended.Error));
            _served = [];
            _running = false;
            if (_waiting.Count > 0) Run();
        });
        Receive<ReadModelProjector.Rebuild>(_ =>
        {
            var replyTo = Sender;
            _projection.RebuildAsync().PipeTo(replyTo, success: () => _projection.Offset);
        });
        Receive<ReadModelProjector.GetPosition>(_ => Sender.Tell(new ReadModelProjector.Position(_projection.Offset, _projection.Lag())));
        Receive<LiveEnded>(ended =>
        {
            if (ended.Error is not null) throw new InvalidOperationException("the live projection of the journal failed: " + ended.Error.Message, ended.Error);
        });
    }

    public static Props Props(ReadModelProjection projection, bool followLive) => Akka.Actor.Props.Create(() => new ReadModelProjectorActor(projection, followLive));

    protected override void PreStart()
    {
        if (!_followLive) return;
        var (killSwitch, done) = _projection.FollowLive(Context.Materializer());
        _live = killSwitch;
        done.PipeTo(Self, success: () => new LiveEnded(null), failure: ex => new LiveEnded(ex));
        _log.Info("Read-model projector following the journal from offset {0}", _projection.Offset);
    }

    /// <summary>Stopped or crashed (the backoff supervisor starts another): whoever waits is told now, not left to time out.</summary>
    protected override void PostStop()
    {
        _live?.Shutdown();
        foreach (var w in _served.Concat(_waiting)) w.Tell(new Status.Failure(new InvalidOperationException("the read-model projector restarted; ask again")));
    }

    private void Run()
    {
        _running = true;
        _served = _waiting;
        _waiting = [];
        var budget = _budget;
        _budget = TimeSpan.Zero;
        _projection.CatchUpAsync(budget).PipeTo(Self, success: () => new RunEnded(null), failure: ex => new RunEnded(ex));
    }

    private sealed record RunEnded(Exception? Error);

    private sealed record LiveEnded(Exception? Error);
}
