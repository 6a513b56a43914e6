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
/// is alive does a seed form the cluster, under an advisory lock so that two seeds starting together form one. Akka's
/// own seed process would instead let the first seed form a cluster of its own when the others do not answer within
/// 5 s, which a restarted seed on a busy or cut-off host does.
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

    private const string Upsert = "INSERT INTO cluster_member (address, seen_at) VALUES (@a, now()) ON CONFLICT (address) DO UPDATE SET seen_at = now()";

    private readonly string _connection;
    private readonly IReadOnlyList<Address> _seeds;
    private readonly ClusterJoinStatus _status;
    private readonly Cluster _cluster = Cluster.Get(Context.System);
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private bool _forming;
    private bool _up;
    private bool _busy;
    private string _joining = "";

    public ITimerScheduler Timers { get; set; } = null!;

    private sealed record Tick;

    private sealed record Decided(IReadOnlyList<Address> Live, bool Formed);

    private sealed record Done;

    public ClusterJoiner(RunbookPilotOptions options, ClusterJoinStatus status)
    {
        _connection = options.ConnectionString;
        _seeds = options.SeedNodes.Select(Address.Parse).ToList();
        _status = status;
        _status.Waiting = "this node is not a member of the cluster yet: looking for live members in the database";
        Receive<Tick>(_ => OnTick());
        Receive<Decided>(OnDecided);
        Receive<Done>(_ => _busy = false);
        Receive<ClusterEvent.MemberUp>(m =>
        {
            if (m.Member.Address != _cluster.SelfAddress) return;
            _up = true;
            _status.Waiting = null;
            _log.Info("This node is up in the cluster; its heartbeat goes to the database every {0}", Beat);
        });
        Receive<ClusterEvent.CurrentClusterState>(_ => { });
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
        // A member that leaves takes its heartbeat with it, so a cluster shut down in order can be started again at once.
        if (!_up && !_forming) return;
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
            _log.Info("No live member in the database: this node forms the cluster");
            _cluster.Join(_cluster.SelfAddress);
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
        await using (var query = new NpgsqlCommand("SELECT address FROM cluster_member WHERE address <> @a AND seen_at > now() - @fresh ORDER BY address", connection, transaction))
        {
            query.Parameters.AddWithValue("a", self);
            query.Parameters.AddWithValue("fresh", Fresh);
            await using var reader = await query.ExecuteReaderAsync().ConfigureAwait(false);
            while (await reader.ReadAsync().ConfigureAwait(false)) live.Add(Address.Parse(reader.GetString(0)));
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
