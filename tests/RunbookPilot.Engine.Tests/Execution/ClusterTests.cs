using System.Net;
using System.Net.Sockets;
using Npgsql;
using RunbookPilot.Domain.Execution;
using RunbookPilot.Engine.Hosting;

namespace RunbookPilot.Engine.Tests.Execution;

/// <summary>
/// Two nodes in one cluster over one PostgreSQL database, with operator certificates: an alert submitted on the second
/// node reaches the intake singleton on the first, its execution runs on whichever node holds its shard, and an approval
/// and the read model work from either node. Every message between the nodes goes through the remote serializer.
/// </summary>
#pragma warning disable CA1001 // disposed in DisposeAsync (xunit calls it)
public sealed class ClusterTests : IAsyncLifetime
#pragma warning restore CA1001
{
    private const string Playbook = """
        id: cl_contain
        name: Contain
        version: 1.0.0
        autonomy_level: L1
        trigger:
          techniques: [T1110]
        steps:
          - { id: lookup, name: Lookup, action_type: lookup_ip, adapter: virustotal, autonomy_level: L0, params: { ip: "{{source.ip}}" } }
          - { id: block, name: Block, action_type: block_ip, adapter: paloalto, autonomy_level: L1, params: { ip: "{{source.ip}}" }, rollback_available: true }
        rollback:
          block: { action_type: unblock_ip, adapter: paloalto, params: { ip: "{{source.ip}}" } }
        """;

    private readonly string _database = TestPostgres.NewName("rbp_cluster_");
    private readonly TempDir _certs = new();
    private readonly EngineFixture _first = new(Playbook);
    private readonly EngineFixture _second = new(Playbook);
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    private string Connection => TestPostgres.Connection(_database);

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async Task InitializeAsync()
    {
        await TestPostgres.CreateAsync(_database);
        NodeCertificates.CreateCluster(_certs.Path, 3);
        var seed = FreePort();
        var seeds = new[] { $"akka.ssl.tcp://runbookpilot@127.0.0.1:{seed}" };
        var i = 0;
        foreach (var (node, port) in new[] { (_first, seed), (_second, FreePort()) })
        {
            i++;
            node.Options = node.Options with
            {
                Database = Connection, Port = port, SeedNodes = seeds, AuditKey = TestAudit.Key,
                TlsAuthority = Path.Combine(_certs.Path, NodeCertificates.CaFile), TlsCertificate = Path.Combine(_certs.Path, $"node-{i}.pfx"),
            };
            await node.StartAsync();
        }
    }

    public async Task DisposeAsync()
    {
        await _second.DisposeAsync();
        await _first.DisposeAsync();
        _certs.Dispose();
        await TestPostgres.DropAsync(_database);
    }

    [Fact]
    public async Task An_alert_on_one_node_is_decided_run_approved_and_read_from_the_other()
    {
        var accepted = await _second.SubmitAsync("""{"event":{"id":"cl-1"},"source":{"ip":"203.0.113.61"},"threat":{"technique":{"id":"T1110"}}}""");
        var id = Assert.Single(accepted.Selected).ExecutionId;
        Assert.True(accepted.Decisions is { Count: > 0 }); // the intake singleton's answer crossed the nodes

        Assert.Equal("waiting_approval", (await _second.Engine.Executions.WaitSettledAsync(id, Wait)).State.Status);
        // Every node's approval queue shows it, whichever node runs the execution (the cluster feed).
        foreach (var node in new[] { _first, _second })
        {
            var shown = false;
            for (var i = 0; i < 100 && !shown; i++)
            {
                shown = (await node.Engine.Approvals.QueueAsync(50)).Pending.Any(p => p.Approval.ExecutionId == id);
                if (!shown) await Task.Delay(100);
            }
            Assert.True(shown, "the pending approval is missing from a node's queue");
        }
        var decided = await _first.Engine.Executions.DecideAsync(Api.DecisionKind.Approve, id, null, "alice", "from the other node");
        var told = await _first.Engine.Executions.ResultAsync(decided, rollback: false, Wait);
        Assert.True(told.Ok, told.Message);
        Assert.Equal(ExecutionOutcome.Completed, (await _second.Engine.Executions.WaitSettledAsync(id, Wait)).State.Outcome);
        foreach (var node in new[] { _first, _second })
        {
            var gone = false;
            for (var i = 0; i < 100 && !gone; i++)
            {
                gone = !(await node.Engine.Approvals.QueueAsync(50)).Pending.Any(p => p.Approval.ExecutionId == id);
                if (!gone) await Task.Delay(100);
            }
            Assert.True(gone, "a decided approval stays in a node's queue");
        }
        Assert.True(_first.Adapters["paloalto"].Applied.ContainsKey("203.0.113.61") || _second.Adapters["paloalto"].Applied.ContainsKey("203.0.113.61"));

        // The read model (one projector, a singleton) and the effect ledger (a singleton) answer on both nodes.
        Assert.Equal("completed", (await _second.Engine.Read.ExecutionAsync(id))!.Status);
        Assert.Equal("completed", (await _first.Engine.Read.ExecutionAsync(id))!.Status);
        var effect = new Domain.Effects.EffectKey("paloalto", "block_ip", "203.0.113.61");
        Assert.Equal([id], (await _second.Engine.Effects.HoldsAsync([effect])).For(effect).Select(h => h.ExecutionId));
        var preview = await _second.Engine.Bindings.PreviewAsync(Domain.Alerts.AlertNormalizers.Default.Normalize(
            Domain.Alerts.AlertJson.ParseObject("""{"event":{"id":"cl-2"},"source":{"ip":"203.0.113.62"},"threat":{"technique":{"id":"T1110"}}}""", out _)!));
        Assert.Equal("cl_contain", Assert.Single(preview).PlaybookId);
    }

    [Fact]
    public async Task A_third_node_with_the_clusters_certificate_joins()
    {
        await using var third = new EngineFixture(Playbook);
        third.Options = third.Options with
        {
            Database = Connection, Port = 0, SeedNodes = _first.Options.SeedNodes, AuditKey = TestAudit.Key,
            TlsAuthority = Path.Combine(_certs.Path, NodeCertificates.CaFile), TlsCertificate = Path.Combine(_certs.Path, "node-3.pfx"),
        };
        await third.StartAsync();
        int Up() => Akka.Cluster.Cluster.Get(_first.Engine.System).State.Members.Count(m => m.Status == Akka.Cluster.MemberStatus.Up);
        for (var i = 0; i < 100 && Up() < 3; i++) await Task.Delay(100); // the first node hears of it by gossip
        Assert.Equal(3, Up());
    }

    [Fact]
    public async Task A_node_with_a_certificate_from_another_ca_cannot_join_and_the_cluster_carries_on()
    {
        using var foreignCerts = new TempDir();
        NodeCertificates.CreateCluster(foreignCerts.Path, 1); // its own CA: the real cluster does not trust it
        await using var foreign = new EngineFixture(Playbook);
        foreign.Options = foreign.Options with
        {
            Database = Connection, Port = 0, SeedNodes = _first.Options.SeedNodes, AuditKey = TestAudit.Key,
            TlsAuthority = Path.Combine(foreignCerts.Path, NodeCertificates.CaFile), TlsCertificate = Path.Combine(foreignCerts.Path, "node-1.pfx"),
        };
        // It never becomes a member: its start fails (the TLS handshake with the seed fails both ways).
        await Assert.ThrowsAnyAsync<Exception>(foreign.StartAsync);

        var members = Akka.Cluster.Cluster.Get(_first.Engine.System).State.Members;
        Assert.Equal(2, members.Count(m => m.Status == Akka.Cluster.MemberStatus.Up));
        var accepted = await _second.SubmitAsync("""{"event":{"id":"cl-9"},"source":{"ip":"203.0.113.69"},"threat":{"technique":{"id":"T1110"}}}""");
        Assert.Equal("waiting_approval", (await _first.Engine.Executions.WaitSettledAsync(Assert.Single(accepted.Selected).ExecutionId, Wait)).State.Status);
    }

    private static int UpMembers(EngineFixture node) =>
        Akka.Cluster.Cluster.Get(node.Engine.System).State.Members.Count(m => m.Status == Akka.Cluster.MemberStatus.Up);

    private static async Task<long> RowsAsync(string connection, string address)
    {
        await using var db = new NpgsqlConnection(connection);
        await db.OpenAsync();
        await using var count = new NpgsqlCommand("SELECT count(*) FROM cluster_member WHERE address = @a", db);
        count.Parameters.AddWithValue("a", address);
        return (long)(await count.ExecuteScalarAsync())!;
    }

    [Fact]
    public async Task A_seed_that_hears_no_other_seed_joins_the_live_members_it_finds_in_the_database()
    {
        // Its seeds are itself (first) and an address where nothing listens: Akka's own seed process would form a second
        // cluster after 5 s of silence. The members' heartbeats in the database name the two live nodes, and it joins them.
        var own = FreePort();
        var third = new EngineFixture(Playbook);
        third.Options = third.Options with
        {
            Database = Connection, Port = own, AuditKey = TestAudit.Key,
            SeedNodes = [$"akka.ssl.tcp://runbookpilot@127.0.0.1:{own}", $"akka.ssl.tcp://runbookpilot@127.0.0.1:{FreePort()}"],
            TlsAuthority = Path.Combine(_certs.Path, NodeCertificates.CaFile), TlsCertificate = Path.Combine(_certs.Path, "node-3.pfx"),
        };
        try
        {
            await third.StartAsync();
            for (var i = 0; i < 100 && UpMembers(_first) < 3; i++) await Task.Delay(100);
            Assert.Equal(3, UpMembers(_first));
            Assert.Equal(3, UpMembers(third));
        }
        finally
        {
            await third.DisposeAsync();
        }
        // It left in order and took its heartbeat with it: a node starting now does not wait for it.
        Assert.Equal(0, await RowsAsync(Connection, third.Options.SeedNodes[0]));
    }

    [Fact]
    public async Task A_member_that_cannot_write_its_heartbeat_downs_itself_and_the_cluster_carries_on()
    {
        await using var third = new EngineFixture(Playbook);
        third.Options = third.Options with
        {
            Database = Connection, Port = 0, SeedNodes = _first.Options.SeedNodes, AuditKey = TestAudit.Key, ClusterFence = TimeSpan.FromSeconds(4),
            TlsAuthority = Path.Combine(_certs.Path, NodeCertificates.CaFile), TlsCertificate = Path.Combine(_certs.Path, "node-3.pfx"),
        };
        await third.StartAsync();
        var address = Akka.Cluster.Cluster.Get(third.Engine.System).SelfAddress.ToString();
        for (var i = 0; i < 100 && await RowsAsync(Connection, address) == 0; i++) await Task.Delay(100);
        // Its row is locked: every heartbeat it tries waits (as on a database that stopped answering it).
        await using var db = new NpgsqlConnection(Connection);
        await db.OpenAsync();
        await using var hold = await db.BeginTransactionAsync();
        await using (var lockRow = new NpgsqlCommand("SELECT 1 FROM cluster_member WHERE address = @a FOR UPDATE", db, hold))
        {
            lockRow.Parameters.AddWithValue("a", address);
            Assert.Equal(1, await lockRow.ExecuteScalarAsync());
        }
        // Fail closed: it downs itself rather than stay a member the others may soon count as gone.
        await third.Engine.System.WhenTerminated.WaitAsync(TimeSpan.FromSeconds(40));
        await hold.RollbackAsync();
        for (var i = 0; i < 300 && UpMembers(_first) != 2; i++) await Task.Delay(100);
        Assert.Equal(2, UpMembers(_first));
        var accepted = await _second.SubmitAsync("""{"event":{"id":"cl-fence"},"source":{"ip":"203.0.113.70"},"threat":{"technique":{"id":"T1110"}}}""");
        Assert.Equal("waiting_approval", (await _first.Engine.Executions.WaitSettledAsync(Assert.Single(accepted.Selected).ExecutionId, Wait)).State.Status);
    }

    [Fact]
    public async Task Two_seeds_starting_together_form_one_cluster()
    {
        var database = TestPostgres.NewName("rbp_cluster_");
        var connection = await TestPostgres.CreateAsync(database);
        try
        {
            var ports = new[] { FreePort(), FreePort() };
            var seeds = ports.Select(p => $"akka.ssl.tcp://runbookpilot@127.0.0.1:{p}").ToArray();
            await using var a = new EngineFixture(Playbook);
            await using var b = new EngineFixture(Playbook);
            var i = 0;
            foreach (var node in new[] { a, b })
            {
                node.Options = node.Options with
                {
                    Database = connection, Port = ports[i], SeedNodes = seeds, AuditKey = TestAudit.Key,
                    TlsAuthority = Path.Combine(_certs.Path, NodeCertificates.CaFile), TlsCertificate = Path.Combine(_certs.Path, $"node-{++i}.pfx"),
                };
            }
            await Task.WhenAll(a.StartAsync(), b.StartAsync());
            for (var n = 0; n < 100 && (UpMembers(a) < 2 || UpMembers(b) < 2); n++) await Task.Delay(100);
            Assert.Equal(2, UpMembers(a));
            Assert.Equal(2, UpMembers(b));
        }
        finally
        {
            await TestPostgres.DropAsync(database);
        }
    }

    [Fact]
    public async Task A_seed_does_not_form_a_cluster_while_a_member_it_cannot_reach_has_a_live_heartbeat()
    {
        // A database whose membership table shows one live member at an address this node cannot reach (a partition).
        var database = TestPostgres.NewName("rbp_cluster_");
        var connection = await TestPostgres.CreateAsync(database);
        var unreachable = $"akka.ssl.tcp://runbookpilot@127.0.0.1:{FreePort()}";
        async Task SqlAsync(string sql)
        {
            await using var db = new NpgsqlConnection(connection);
            await db.OpenAsync();
            await using var command = new NpgsqlCommand(sql, db);
            command.Parameters.AddWithValue("a", unreachable);
            await command.ExecuteNonQueryAsync();
        }
        try
        {
            await SqlAsync("CREATE TABLE cluster_member (address text PRIMARY KEY, seen_at timestamptz NOT NULL); INSERT INTO cluster_member VALUES (@a, now())");
            var own = FreePort();
            await using var lone = new EngineFixture(Playbook);
            lone.Options = lone.Options with
            {
                Database = connection, Port = own, AuditKey = TestAudit.Key, SeedNodes = [$"akka.ssl.tcp://runbookpilot@127.0.0.1:{own}"],
                TlsAuthority = Path.Combine(_certs.Path, NodeCertificates.CaFile), TlsCertificate = Path.Combine(_certs.Path, "node-3.pfx"),
            };
            var starting = lone.StartAsync();
            // Longer than Akka's 5 s seed-node timeout, after which its own seed process would have formed a cluster alone.
            await Task.WhenAny(starting, Task.Delay(TimeSpan.FromSeconds(8)));
            Assert.False(starting.IsCompleted, "the node formed a cluster of its own beside a live member");

            // The member's heartbeat goes stale (it is gone): the node forms the cluster.
            await SqlAsync("UPDATE cluster_member SET seen_at = now() - interval '1 hour' WHERE address = @a");
            await starting.WaitAsync(TimeSpan.FromSeconds(30));
            Assert.Equal(1, UpMembers(lone));
            Assert.Null(lone.Engine.ClusterWaiting);
        }
        finally
        {
            await TestPostgres.DropAsync(database);
        }
    }

    [Fact]
    public async Task A_nodes_approval_queue_takes_in_from_the_read_tables_what_the_cluster_feed_did_not_deliver()
    {
        // Without the feed each node hears only the executions it runs: relayed messages are lost.
        foreach (var node in new[] { _first, _second })
            await Akka.Actor.GracefulStopSupport.GracefulStop(await node.Engine.System.ActorSelection("/user/cluster-feed").ResolveOne(Wait), Wait);
        var ids = new List<string>();
        for (var i = 0; i < 8; i++)
        {
            var accepted = await (i % 2 == 0 ? _first : _second).SubmitAsync("{\"event\":{\"id\":\"heal-" + i + "\"},\"source\":{\"ip\":\"203.0.113." + (80 + i) + "\"},\"threat\":{\"technique\":{\"id\":\"T1110\"}}}");
            ids.Add(Assert.Single(accepted.Selected).ExecutionId);
        }
        foreach (var id in ids) Assert.Equal("waiting_approval", (await _first.Engine.Executions.WaitSettledAsync(id, Wait)).State.Status);
        async Task<HashSet<string>> QueueAsync(EngineFixture node)
        {
            var queue = Akka.Hosting.ActorRegistry.For(node.Engine.System).Get<Approvals.ApprovalQueue>();
            queue.Tell(new Approvals.ApprovalQueue.Heal(), Akka.Actor.ActorRefs.NoSender);
            return (await node.Engine.Approvals.QueueAsync(50)).Pending.Select(p => p.Approval.ExecutionId).Where(ids.Contains).ToHashSet();
        }
        async Task<HashSet<string>> HealedAsync(EngineFixture node, int expected)
        {
            var seen = await QueueAsync(node);
            for (var i = 0; i < 100 && seen.Count != expected; i++)
            {
                await Task.Delay(100);
                seen = await QueueAsync(node);
            }
            return seen;
        }
        // The shards of eight executions are spread over both nodes, so each queue missed some of them; a heal brings them in.
        var before = 0;
        foreach (var node in new[] { _first, _second }) before += (await node.Engine.Approvals.QueueAsync(50)).Pending.Count(p => ids.Contains(p.Approval.ExecutionId));
        Assert.True(before < 2 * ids.Count, $"the queues held {before} of {2 * ids.Count} before the heal: nothing was missing");
        Assert.Equal(ids.ToHashSet(), await HealedAsync(_first, ids.Count));
        Assert.Equal(ids.ToHashSet(), await HealedAsync(_second, ids.Count));

        // Decisions taken on one node: the other queue drops them at its next heal.
        foreach (var id in ids)
        {
            var decided = await _first.Engine.Executions.DecideAsync(Api.DecisionKind.Reject, id, null, "alice", "not ours");
            Assert.True(decided.Result.Ok, decided.Result.Message);
        }
        foreach (var id in ids) Assert.Equal("rejected", (await _first.Engine.Executions.WaitSettledAsync(id, Wait)).State.Status);
        Assert.Empty(await HealedAsync(_second, 0));
        Assert.Empty(await HealedAsync(_first, 0));
    }
}
