using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Hosting;
using Akka.Cluster.Sharding;
using Akka.Hosting;
using Akka.Persistence.Sql;
using Akka.Persistence.Sql.Config;
using Akka.Pattern;
using Akka.Remote.Hosting;
using RunbookPilot.Engine.Approvals;
using RunbookPilot.Engine.Enrichment;
using RunbookPilot.Engine.Live;
using RunbookPilot.Engine.Metrics;
using RunbookPilot.Engine.ReadModel;
using RunbookPilot.Engine.Execution;
using RunbookPilot.Domain.Library;
using RunbookPilot.Engine.Ingestion;
using RunbookPilot.Engine.Configuration;

namespace RunbookPilot.Engine.Hosting;

/// <summary>
/// The actor system of RunbookPilot, wired through Akka.Hosting on the application's own host: one extension for the
/// node (the SQL journal and snapshot store — SQLite file by default, PostgreSQL by connection string — the JSON event
/// serializer, mutual-TLS remoting and the cluster), then one per area. <see cref="RunbookPilotServices.AddRunbookPilot"/>
/// calls them in order; no actor is started anywhere else.
/// </summary>
public static class AkkaHostingExtensions
{
    public const string SystemName = "runbookpilot";
    private const string Role = "runbookpilot";

    public static AkkaConfigurationBuilder WithRunbookPilotNode(this AkkaConfigurationBuilder builder, RunbookPilotOptions options, NodeIdentity identity, ClusterJoinStatus joining)
    {
        builder
            .AddHocon(PersistenceHocon(options), HoconAddMode.Prepend)
            .AddHocon(SqlPersistence.DefaultConfiguration, HoconAddMode.Append)
            .AddSetup(new DataOptionsSetup(SqliteSetup.JournalDataOptions(options)))
            .WithCustomSerializer("runbook-json", RunbookJsonSerializer.BoundTypes, s => new RunbookJsonSerializer(s))
            .WithCustomSerializer("runbook-remote", [typeof(Domain.Core.IClusterMessage)], s => new RemoteJsonSerializer(s))
            .ConfigureLoggers(l =>
            {
                l.LogLevel = options.AkkaLogLevel;
                l.ClearLoggers();
                l.AddLoggerFactory();
            })
            // Mutual TLS: a peer must present a certificate that chains to this node's CA, or it delivers nothing.
            .WithRemoting(new RemoteOptions
            {
                HostName = options.Hostname,
                PublicHostName = options.PublicHostname,
                Port = options.Port,
                // Alerts (up to 1 MiB), playbooks and step outputs travel between nodes: Akka's 128 kB default would drop them.
                MaxFrameSize = 16 * 1024 * 1024,
                SendBufferSize = 32 * 1024 * 1024,
                ReceiveBufferSize = 32 * 1024 * 1024,
                EnableSsl = true,
                Ssl = new SslOptions
                {
                    X509Certificate = identity.Certificate,
                    SuppressValidation = false,
                    RequireMutualAuthentication = true,
                    ValidateCertificateHostname = false,
                    CustomValidator = (certificate, chain, peer, errors, log) => NodeCertificates.Validator(identity.Authority)(certificate, chain, peer, errors, log),
                },
            })
            // No seed nodes here: Akka's seed process lets a seed that hears no answer within 5 s form a second cluster.
            // The ClusterJoiner joins (or forms) the cluster with the database as witness.
            .WithClustering(new ClusterOptions
            {
                Roles = [Role, .. options.Roles],
                // Keep-majority: on a partition the side with more nodes stays up and downs the other; with an even
                // split the side holding the lowest address stays. Decisions wait until membership has been stable
                // for `stable-after`; a downed node's shards and singletons move after `down-removal-margin` (below).
                SplitBrainResolver = new Akka.Cluster.Hosting.SBR.KeepMajorityOption(),
            })
            .AddHocon(ClusterTimingHocon, HoconAddMode.Prepend);
        if (options.SeedNodes.Count == 0)
        {
            // A single node joins itself; its port may be 0, so the address is only known once remoting is up.
            joining.Waiting = null;
            builder.AddStartup((system, _) => Cluster.Get(system).Join(Cluster.Get(system).SelfAddress));
        }
        else
        {
            builder.AddStartup((system, _) => system.ActorOf(ClusterJoiner.Props(options, joining), "cluster-joiner"));
        }
        return builder;
    }

    /// <summary>The <c>execution</c> shard region: one persistent actor per execution, by execution id over 100 shards.</summary>
    public static AkkaConfigurationBuilder WithExecutions(this AkkaConfigurationBuilder builder, ExecutionRuntime runtime) =>
        builder.WithShardRegion<ExecutionRegion>("execution", id => ExecutionActor.Props(id, runtime), new ExecutionMessageExtractor(),
            new ShardOptions
            {
                // Executions with open work are resumed from the read model at start-up (EngineStartup) rather than by
                // remember-entities, which would cost two more journal writes per execution.
                RememberEntities = false,
                StateStoreMode = StateStoreMode.DData,
                Role = Role,
            });

    /// <summary>The alert intake, a cluster singleton: every selection and binding decision is taken in one place, in order.</summary>
    public static AkkaConfigurationBuilder WithAlertIntake(this AkkaConfigurationBuilder builder, Func<PlaybookCatalogSnapshot> catalog, TimeProvider time, IntakeSettings settings) =>
        builder.WithSingleton<AlertIntake>("alert-intake",
            (_, registry, _) => AlertIntakeActor.Props(catalog, registry.Get<ExecutionRegion>(), time, settings),
            new ClusterSingletonOptions { Role = Role });

    /// <summary>The read-model projector, a cluster singleton under a backoff supervisor (1 s doubling to 30 s): exactly one node projects.</summary>
    public static AkkaConfigurationBuilder WithReadModelProjector(this AkkaConfigurationBuilder builder, ReadModelDb db, bool followLive) =>
        builder.WithSingleton<ReadModelProjector>("read-model-projector",
            (system, _, _) => BackoffSupervisor.Props(Backoff.OnFailure(ReadModelProjectorActor.Props(new ReadModelProjection(system, db), followLive), "projector",
                TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30), 0.2, -1)),
            new ClusterSingletonOptions { Role = Role });

    /// <summary>The ledger of live effects at vendors, a cluster singleton: every make and undo of a shared effect is decided in one place.</summary>
    public static AkkaConfigurationBuilder WithEffectLedger(this AkkaConfigurationBuilder builder, TimeProvider time) =>
        builder.WithSingleton<Effects.EffectLedger>("effect-ledger", (_, _, _) => Effects.EffectLedgerActor.Props(time), new ClusterSingletonOptions { Role = Role });

    /// <summary>The cluster-wide feed of execution, binding and control changes (a node with seeds only; a single node needs none).</summary>
    public static AkkaConfigurationBuilder WithClusterFeed(this AkkaConfigurationBuilder builder) =>
        builder.WithActors((system, _) => system.ActorOf(ClusterFeed.Props(), "cluster-feed"));

    /// <summary>The approval queue of this node (pending approvals and simulations, fed by the executions' events).</summary>
    /// <param name="healEvery">A cluster node's queue is compared with the read tables this often (the cluster feed delivers at most once).</param>
    public static AkkaConfigurationBuilder WithApprovalQueue(this AkkaConfigurationBuilder builder, ReadModelDb db, TimeSpan? healEvery) =>
        builder.WithActors((system, registry) =>
            registry.Register<ApprovalQueue>(system.ActorOf(ApprovalQueueActor.Props(registry.Get<ReadModelProjector>(), db, healEvery), "approval-queue")));

    /// <summary>The metrics actor: Prometheus instruments and the dashboard's live figures.</summary>
    public static AkkaConfigurationBuilder WithMetrics(this AkkaConfigurationBuilder builder, Prometheus.IMetricFactory factory, TimeProvider time) =>
        builder.WithActors((system, registry) => registry.Register<MetricsCollector>(system.ActorOf(MetricsActor.Props(factory, time), "metrics")));

    /// <summary>Live changes for the dashboard and <c>/ws</c> of this process.</summary>
    public static AkkaConfigurationBuilder WithLiveUpdates(this AkkaConfigurationBuilder builder, LiveUpdates hub) =>
        builder.WithActors((system, registry) =>
            registry.Register<LiveUpdatesActor>(system.ActorOf(LiveUpdatesActor.Props(hub), "live-updates")));

    /// <summary>Enrichment (AI-GENERATED summaries beside executions); only when a model is configured.</summary>
    public static AkkaConfigurationBuilder WithEnrichment(this AkkaConfigurationBuilder builder, LlmClient client, ReadModelDb db, TimeProvider time) =>
        builder.WithActors((system, registry) =>
            registry.Register<EnrichmentActor>(system.ActorOf(EnrichmentActor.Props(client, db, registry.Get<ExecutionRegion>(), time), "enrichment")));

    private static string PersistenceHocon(RunbookPilotOptions options)
    {
        var cs = Quote(options.ConnectionString);
        var provider = Quote(options.ProviderName);
        // On SQLite a transaction of another isolation level is BEGIN IMMEDIATE: it takes the database's one write lock, so
        // every read of the journal (a recovery's highest sequence number, a replay, the projector's polling) waited for
        // writes and made writes wait — Microsoft.Data.Sqlite retries a busy lock after sleeping 150 ms (issue 17). Read
        // uncommitted is a deferred BEGIN: a WAL snapshot of committed data (it reads uncommitted data only with a shared
        // cache, which is not used).
        var reads = options.IsPostgres ? "" : "read-isolation-level = read-uncommitted";
        return $$"""
            akka.persistence {
              journal.plugin = "akka.persistence.journal.sql"
              journal.sql {
                connection-string = {{cs}}
                provider-name = {{provider}}
                auto-initialize = on
                parallelism = {{(options.IsPostgres ? 3 : 1)}}
                {{reads}}
              }
              snapshot-store.plugin = "akka.persistence.snapshot-store.sql"
              snapshot-store.sql {
                connection-string = {{cs}}
                provider-name = {{provider}}
                auto-initialize = on
                {{reads}}
              }
              query.journal.sql {
                connection-string = {{cs}}
                provider-name = {{provider}}
                refresh-interval = 200ms
                journal-sequence-retrieval.query-delay = 100ms
                {{reads}}
              }
            }
            akka.cluster.sharding.passivation.default-idle-strategy.idle-entity.timeout = off
            # The proxy's identification-failure tick fires once at start, before any singleton can be found, so it logged
            # a false "failed to find singleton" warning at every start; /health reports an intake that does not answer.
            akka.cluster.singleton-proxy.log-singleton-identification-failure = off
            akka.coordinated-shutdown.exit-clr = off
            akka.persistence.max-concurrent-recoveries = 200
            akka.stdout-loglevel = ERROR
            akka.log-dead-letters-during-shutdown = off
            """;
    }

    /// <summary>
    /// How fast a lost node is taken out: unreachable after the failure detector's 3 s pause, downed by the split brain
    /// resolver once membership has been stable for 7 s, its shards and singletons started elsewhere after a further
    /// 7 s margin (so the lost node, if it is only cut off, has downed itself first). About 20 s in all.
    /// </summary>
    public const string ClusterTimingHocon = """
        akka.cluster.split-brain-resolver.stable-after = 7s
        # Not ¾ of stable-after (≈ 5 s): a CPU-starved host flapping for that long must not down the whole cluster.
        akka.cluster.split-brain-resolver.down-all-when-unstable = 15s
        akka.cluster.down-removal-margin = 7s
        akka.cluster.shutdown-after-unsuccessful-join-seed-nodes = 60s
        akka.coordinated-shutdown.run-by-actor-system-terminate = on
        """;

    private static string Quote(string s) => "\"" + s.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";
}
