using Akka.Actor;
using Akka.Cluster;
using Akka.Event;
using Npgsql;
using RunbookPilot.Engine.Configuration;

namespace RunbookPilot.Engine.Hosting;

/// <summary>What this node's <see cref="ClusterJoiner"/> is waiting for, shown by <c>/health</c> until the node is up.</summary>
public sealed class ClusterJoinStatus
{
    private volatile string? _waiting;

    /// <summary>Null once the node is a member; otherwise why it is not one yet.</summary>
    public string? Waiting
    {
        get => _waiting;
        internal set => _waiting = value;
    }
}

/// <summary>
/// Joins or forms the cluster with the shared PostgreSQL database as witness, so a node never forms a second cluster
/// beside a running one. Every member that is up writes a heartbeat row (<c>cluster_member</c>, every 2 s, on the
/// database's clock). A starting node joins the members whose heartbeat is fresh (under 20 s) and keeps trying them —
/// it never forms a cluster of its own while they live, even when it cannot reach them (a partition): after 60 s it
/// stops (<c>shutdown-after-unsuccessful-join-seed-nodes</c>) and its supervisor starts it again. Only when no member
/// is alive does a seed form the cluster, under an advisory lock so that two seeds starting together form one, and even
/// then it first asks the other seeds (Akka's first-seed process) and joins one that answers. Akka's own seed process
/// alone would let the first seed form a cluster of its own whenever the others do not answer within 5 s, which a
/// restarted seed on a busy or cut-off host does. The heartbeat is a lease: a member whose heartbeat has not been
/// written for <see cref="RunbookPilotOptions.ClusterFence"/> (15 s by its own clock) downs itself before the others may count it as gone.
/// </summary>
public sealed class ClusterJoiner : ReceiveActor, IWithTimers
{
    /// <summary>How often an up member writes its heartbeat, and how often a starting node looks again.</summary>
    public static readonly TimeSpan Beat = TimeSpan.FromSeconds(2);

    /// <summary>A heartbeat younger than this is a live member.</summary>
    public static readonly TimeSpan Fresh = TimeSpan.FromSeconds(20);

    private const string Table = """
        CREATE TABLE IF NOT EXISTS cluster_member (address text PRIMARY KEY, seen_at timestamptz NOT NULL)
        """;

    // clock_timestamp(), not now(): now() is when the transaction began, before the wait for the advisory lock.
    private const string Upsert = "INSERT INTO cluster_member (address, seen_at) VALUES (@a, clock_timestamp()) ON CONFLICT (address) DO UPDATE SET seen_at = clock_timestamp()";

    private readonly string _connection;
    private readonly IReadOnlyList<Address> _seeds;
    private readonly ClusterJoinStatus _status;
    private readonly TimeSpan _fence;
    private readonly Cluster _cluster = Cluster.Get(Context.System);
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private bool _forming;
    private bool _up;
    private bool _leaving;
    private bool _busy;
    private string _joining = "";
    private readonly System.Diagnostics.Stopwatch _sinceBeat = new();

    public ITimerScheduler Timers { get; set; } = null!;

    private sealed record Tick;

    private sealed record Decided(IReadOnlyList<Address> Live, bool Formed);

    private sealed record Done;

    public ClusterJoiner(RunbookPilotOptions options, ClusterJoinStatus status)
    {
        _connection = options.ConnectionString;
        _seeds = options.SeedNodes.Select(Address.Parse).ToList();
        _status = status;
        _fence = options.ClusterFence;
        _status.Waiting = "this node is not a member of the cluster yet: looking for live members in the database";
        Receive<Tick>(_ => OnTick());
        Receive<Decided>(OnDecided);
        Receive<Done>(_ =>
        {
            _busy = false;
            _sinceBeat.Restart();
        });
        Receive<ClusterEvent.MemberUp>(m =>
        {
            if (m.Member.Address != _cluster.SelfAddress) return;
            _up = true;
            _sinceBeat.Restart();
            _status.Waiting = null;
            _log.Info("This node is up in the cluster; its heartbeat goes to the database every {0}", Beat);
        });
        Receive<Status.Failure>(f =>
        {
            _busy = false;
            _log.Warning("The cluster's membership table could not be read or written: {0}", f.Cause.Message);
            if (!_up) _status.Waiting = "this node is not a member of the cluster yet: the database does not answer (" + f.Cause.Message + ")";
        });
    }

    public static Props Props(RunbookPilotOptions options, ClusterJoinStatus status) => Akka.Actor.Props.Create(() => new ClusterJoiner(options, status));

    protected override void PreStart()
    {
        _cluster.Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents, typeof(ClusterEvent.MemberUp));
        Self.Tell(new Tick());
        Timers.StartPeriodicTimer("tick", new Tick(), Beat);
    }

    protected override void PostStop()
    {
        _cluster.Unsubscribe(Self);
        if (_up || _forming) RemoveBeat();
    }

    /// <summary>A member that leaves takes its heartbeat with it, so a cluster shut down in order can be started again at once.</summary>
    private void RemoveBeat()
    {
        try
        {
            using var connection = new NpgsqlConnection(_connection);
            connection.Open();
            using var delete = new NpgsqlCommand("DELETE FROM cluster_member WHERE address = @a", connection);
            delete.Parameters.AddWithValue("a", _cluster.SelfAddress.ToString());
            delete.CommandTimeout = 5;
            delete.ExecuteNonQuery();
        }
        catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException)
        {
            _log.Warning("This node's heartbeat row could not be removed ({0}); it goes stale in {1}", ex.Message, Fresh);
        }
    }

    private void OnTick()
    {
        if (_leaving) return;
        if (_up && _cluster.SelfMember.Status is not (MemberStatus.Up or MemberStatus.WeaklyUp))
        {
            // Leaving, exiting or downed: it no longer counts as a live member for a starting node.
            _leaving = true;
            RemoveBeat();
            return;
        }
        if (_up && _sinceBeat.Elapsed > _fence)
        {
            // Fail closed: without its heartbeat the others may soon form a cluster without this node, so it steps out.
            _leaving = true;
            _log.Error("This node could not write its heartbeat to the database for {0}: it downs itself, so no second cluster can form beside it", _sinceBeat.Elapsed);
            _cluster.Down(_cluster.SelfAddress);
            return;
        }
        if (_busy) return;
        _busy = true;
        var self = _cluster.SelfAddress.ToString();
        if (_up || _forming)
            BeatAsync(self).PipeTo(Self, success: () => new Done());
        else
            DecideAsync(_connection, self, mayForm: _seeds.Contains(_cluster.SelfAddress)).PipeTo(Self);
    }

    private void OnDecided(Decided decided)
    {
        _busy = false;
        if (decided.Formed)
        {
            _forming = true;
            _status.Waiting = "this node is forming the cluster (no member is alive in the database)";
            _log.Info("No live member in the database: this node forms the cluster unless another seed answers within 5 s");
            // Itself first: Akka's first-seed process asks the other seeds and joins one that answers, else forms it.
            _cluster.JoinSeedNodes(_seeds.Where(s => s != _cluster.SelfAddress).Prepend(_cluster.SelfAddress).ToList());
            return;
        }
        // The live members first, then the configured seeds (a seed that is starting too answers once it is up).
        var targets = decided.Live.Concat(_seeds.Where(s => s != _cluster.SelfAddress)).Distinct().ToList();
        var key = string.Join(",", targets);
        _status.Waiting = decided.Live.Count > 0
            ? $"this node is not a member of the cluster yet: joining the live members {string.Join(", ", decided.Live)} (it never forms a cluster of its own while they have a heartbeat)"
            : $"this node is not a member of the cluster yet: waiting for a seed ({string.Join(", ", targets)}) to form it";
        if (key == _joining || targets.Count == 0) return;
        _joining = key;
        _log.Info("Joining the cluster through {0}", key);
        _cluster.JoinSeedNodes(targets);
    }

    private async Task BeatAsync(string self)
    {
        await using var connection = new NpgsqlConnection(_connection);
        await connection.OpenAsync().ConfigureAwait(false);
        await using var upsert = new NpgsqlCommand(Upsert, connection);
        upsert.Parameters.AddWithValue("a", self);
        await upsert.ExecuteNonQueryAsync().ConfigureAwait(false);
    }

    /// <summary>The live members other than this node; when there is none and this node is a seed, it records itself as forming the cluster (under the lock, so one seed forms it).</summary>
    private static async Task<Decided> DecideAsync(string connectionString, string self, bool mayForm)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync().ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync().ConfigureAwait(false);
        await using (var setup = new NpgsqlCommand("SELECT pg_advisory_xact_lock(hashtext('runbookpilot-cluster-form')); " + Table, connection, transaction))
            await setup.ExecuteNonQueryAsync().ConfigureAwait(false);
        var live = new List<Address>();
        // Rows of addresses gone for a day are pruned (a node started with port 0 gets a new address each time).
        await using (var query = new NpgsqlCommand("DELETE FROM cluster_member WHERE seen_at < clock_timestamp() - interval '1 day';" +
            "SELECT address FROM cluster_member WHERE address <> @a AND seen_at > clock_timestamp() - @fresh ORDER BY address", connection, transaction))
        {
            query.Parameters.AddWithValue("a", self);
            query.Parameters.AddWithValue("fresh", Fresh);
            await using var reader = await query.ExecuteReaderAsync().ConfigureAwait(false);
            while (await reader.ReadAsync().ConfigureAwait(false))
            {
                // A row that is not an address (written by hand) is skipped, not fatal to every start.
                try
                {
                    live.Add(Address.Parse(reader.GetString(0)));
                }
                catch (UriFormatException)
                {
                }
            }
        }
        var form = live.Count == 0 && mayForm;
        if (form)
        {
            await using var claim = new NpgsqlCommand(Upsert, connection, transaction);
            claim.Parameters.AddWithValue("a", self);
            await claim.ExecuteNonQueryAsync().ConfigureAwait(false);
        }
        await transaction.CommitAsync().ConfigureAwait(false);
        return new Decided(live, form);
    }
}
