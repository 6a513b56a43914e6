using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Hosting;
using Akka.Cluster.Sharding;
using Akka.Hosting;
using Akka.Persistence.Sql;
using Akka.Persistence.Sql.Config;
using Akka.Remote.Hosting;
using RunbookPilot.Domain.Execution;
using RunbookPilot.Engine.Execution;
using RunbookPilot.Domain.Intake;
using RunbookPilot.Domain.Library;
using RunbookPilot.Engine.Ingestion;
using RunbookPilot.Engine.Configuration;

namespace RunbookPilot.Engine.Hosting;

/// <summary>Registry key of the <c>execution</c> shard region.</summary>
public sealed class ExecutionRegion;

/// <summary>Registry key of the alert intake (a cluster singleton).</summary>
public sealed class AlertIntake;

/// <summary>Routes execution messages to entities by execution id over 100 shards.</summary>
public sealed class ExecutionMessageExtractor() : HashCodeMessageExtractor(100)
{
    public override string? EntityId(object message) => (message as IWithExecutionId)?.ExecutionId;
}

/// <summary>
/// The actor system of RunbookPilot, wired through Akka.Hosting: the SQL journal and snapshot store (SQLite file by
/// default, PostgreSQL by connection string), the JSON event serializer, remoting on loopback and a cluster (a node on
/// its own unless seed nodes are given), the <c>execution</c> shard region and the alert intake singleton.
/// </summary>
public static class AkkaHostingExtensions
{
    public const string SystemName = "runbookpilot";

    public static AkkaConfigurationBuilder WithRunbookPilot(this AkkaConfigurationBuilder builder, RunbookPilotOptions options,
        ExecutionRuntime runtime, Func<PlaybookCatalogSnapshot> catalog, IntakeSettings intake, NodeIdentity identity)
    {
        builder
            .AddHocon(PersistenceHocon(options), HoconAddMode.Prepend)
            .AddHocon(SqlPersistence.DefaultConfiguration, HoconAddMode.Append)
            .AddSetup(new DataOptionsSetup(SqliteSetup.JournalDataOptions(options)))
            .WithCustomSerializer("runbook-json", RunbookJsonSerializer.BoundTypes, s => new RunbookJsonSerializer(s))
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
                Port = options.Port,
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
            .WithClustering(new ClusterOptions
            {
                SeedNodes = options.SeedNodes.ToArray(),
                Roles = ["runbookpilot"],
            })
            .WithShardRegion<ExecutionRegion>("execution", id => ExecutionActor.Props(id, runtime), new ExecutionMessageExtractor(),
                new ShardOptions
                {
                    // Executions with open work are resumed from the read model at start-up (RunbookPilotEngine.ResumeOpenExecutionsAsync)
                    // rather than by remember-entities, which would cost two more journal writes per execution.
                    RememberEntities = false,
                    StateStoreMode = StateStoreMode.DData,
                    Role = "runbookpilot",
                })
            .WithSingleton<AlertIntake>("alert-intake",
                (_, registry, _) => AlertIntakeActor.Props(catalog, registry.Get<ExecutionRegion>(), runtime.Time, intake),
                new ClusterSingletonOptions { Role = "runbookpilot" });

        if (options.SeedNodes.Count == 0)
        {
            // A single node joins itself; its port may be 0, so the address is only known once remoting is up.
            builder.AddStartup((system, _) => Cluster.Get(system).Join(Cluster.Get(system).SelfAddress));
        }
        return builder;
    }

    private static string PersistenceHocon(RunbookPilotOptions options)
    {
        var cs = Quote(options.ConnectionString);
        var provider = Quote(options.ProviderName);
        return $$"""
            akka.persistence {
              journal.plugin = "akka.persistence.journal.sql"
              journal.sql {
                connection-string = {{cs}}
                provider-name = {{provider}}
                auto-initialize = on
                parallelism = {{(options.IsPostgres ? 3 : 1)}}
              }
              snapshot-store.plugin = "akka.persistence.snapshot-store.sql"
              snapshot-store.sql {
                connection-string = {{cs}}
                provider-name = {{provider}}
                auto-initialize = on
              }
              query.journal.sql {
                connection-string = {{cs}}
                provider-name = {{provider}}
                refresh-interval = 200ms
                journal-sequence-retrieval.query-delay = 100ms
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

    private static string Quote(string s) => "\"" + s.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";
}
