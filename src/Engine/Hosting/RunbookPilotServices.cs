using System.Net;
using Akka.Actor;
using Akka.Cluster;
using Akka.Event;
using Akka.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using RunbookPilot.Domain.Adapters;
using RunbookPilot.Domain.Core;
using RunbookPilot.Domain.Execution;
using RunbookPilot.Engine.Api;
using RunbookPilot.Engine.Configuration;
using RunbookPilot.Engine.Enrichment;
using RunbookPilot.Engine.Execution;
using RunbookPilot.Engine.Ingestion;
using RunbookPilot.Engine.Live;
using RunbookPilot.Engine.Metrics;
using RunbookPilot.Engine.ReadModel;

namespace RunbookPilot.Engine.Hosting;

/// <summary>
/// <c>services.AddRunbookPilot(options, adapters)</c>: the engine on the application's own host (the web host, or the
/// CLI's generic host). The library, policy and adapters are checked here, before anything starts (a
/// <see cref="ConfigurationException"/> stops the process; TLS material is read when the actor system is built); the database lock is taken before the actor system starts and released after it stopped;
/// open executions are resumed and the audit checkpoint written once the node is up.
/// </summary>
public static class RunbookPilotServices
{
    public static IServiceCollection AddRunbookPilot(this IServiceCollection services, RunbookPilotOptions options, IReadOnlyList<IAdapter> adapters,
        TimeProvider? time = null, string purpose = "runbookpilot")
    {
        options = options with { AuditKey = options.AuditKey ?? AuditKeys.DemoKey(options) };
        if (options.SeedNodes.Count == 0 && !IPAddress.TryParse(options.Hostname, out var bind) | !IPAddress.IsLoopback(bind ?? IPAddress.Any))
            throw new ConfigurationException([$"remoting binds to {options.Hostname}, but a node without a cluster binds to the loopback interface only"]);
        var registry = new AdapterRegistry(adapters);
        var catalog = PlaybookCatalog.Load(options, registry.Catalog);
        var clock = time ?? TimeProvider.System;
        var readModel = new ReadModelDb(options);
        var metrics = new EngineMetrics();
        var joining = new ClusterJoinStatus();

        services.AddSingleton(options);
        services.AddSingleton(registry);
        services.AddSingleton(catalog);
        services.AddSingleton(readModel);
        services.AddSingleton(metrics);
        services.AddSingleton(joining);
        services.AddSingleton<LiveUpdates>();
        services.AddSingleton(sp => new ExecutionRuntime(registry, () => catalog.Current.Library.Policy, clock, options.Defaults)
        {
            Log = sp.GetRequiredService<ILoggerFactory>().CreateLogger("RunbookPilot.Engine"),
        });
        services.AddSingleton<AuditCheckpoints>();
        // Before the actor system: the database lock and the SQLite file's settings; released after it stopped.
        services.AddHostedService(sp => new NodeStorage(options, purpose, sp.GetService<ILoggerFactory>()?.CreateLogger<NodeStorage>()));
        services.AddAkka(AkkaHostingExtensions.SystemName, (b, sp) =>
        {
            var runtime = sp.GetRequiredService<ExecutionRuntime>();
            b.WithRunbookPilotNode(options, NodeCertificates.Load(options), joining)
                .WithExecutions(runtime)
                .WithAlertIntake(() => catalog.Current, clock, new IntakeSettings(options.ImplicitBindings, new BindingMetrics(metrics.Factory))
                {
                    Log = runtime.Log,
                    SnapshotEvery = options.IntakeSnapshotEvery,
                    DedupeWindow = options.DedupeWindow,
                })
                .WithEffectLedger(clock)
                .WithReadModelProjector(readModel, options.ReadModel.FollowJournal)
                .WithApprovalQueue(readModel, options.IsClusterMember ? TimeSpan.FromSeconds(30) : null)
                .WithMetrics(metrics.Factory, clock)
                .WithLiveUpdates(sp.GetRequiredService<LiveUpdates>());
            if (options.IsClusterMember) b.WithClusterFeed();
            if (options.Llm is { Enabled: true } llm)
                b.WithEnrichment(new LlmClient(llm, sp.GetRequiredService<LlmHttp>().Client), readModel, clock);
        });
        services.AddSingleton<LlmHttp>();
        services.AddSingleton(clock);
        services.AddSingleton<ReadApi>();
        services.AddSingleton<AlertsApi>();
        services.AddSingleton<ExecutionsApi>();
        services.AddSingleton<ApprovalsApi>();
        services.AddSingleton<EffectsApi>();
        services.AddSingleton<SelectionApi>();
        services.AddSingleton<BindingsApi>();
        services.AddSingleton<RunbookPilotEngine>();
        // After the actor system: the node is up, open executions resume, checkpoints are written (the last at shutdown).
        services.AddHostedService<EngineStartup>();
        return services;
    }
}

/// <summary>The HTTP client of the model endpoint, disposed with the host.</summary>
public sealed class LlmHttp : IDisposable
{
    public HttpClient Client { get; } = new();

    public void Dispose() => Client.Dispose();
}

/// <summary>
/// Holds the database lock for the host's lifetime (one engine per database file), prepares the SQLite file, and on
/// SQLite checkpoints its write-ahead log once a second (<see cref="SqliteSetup.CheckpointWal"/>).
/// </summary>
public sealed class NodeStorage(RunbookPilotOptions options, string purpose, ILogger? log) : IHostedService, IDisposable
{
    private DatabaseLock? _lock;
    private Timer? _checkpoints;
    private string? _lastProblem;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _lock = DatabaseLock.Acquire(options, purpose);
        SqliteSetup.Prepare(options);
        if (!options.IsPostgres) _checkpoints = new Timer(_ => CheckpointWal(), null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
        return Task.CompletedTask;
    }

    /// <summary>A checkpoint that fails is tried again a second later (the log only grows meanwhile); a new reason is logged once.</summary>
    private void CheckpointWal()
    {
        try
        {
            SqliteSetup.CheckpointWal(options);
            _lastProblem = null;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            if (ex.Message != _lastProblem) log?.LogWarning("SQLite write-ahead log not checkpointed: {Error}; trying again every second", ex.Message);
            _lastProblem = ex.Message;
        }
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        Dispose();
        return Task.CompletedTask;
    }

    public void Dispose()
    {
        _checkpoints?.Dispose();
        _checkpoints = null;
        _lock?.Dispose();
        _lock = null;
    }
}

/// <summary>
/// Once the actor system runs: waits for the node to be up, wakes every execution that had open work when the system
/// stopped (the read model is caught up with the journal first, so nothing journaled is missed; each execution then
/// re-issues its own work on recovery), and writes the audit checkpoints. At shutdown it writes the last checkpoint
/// before the actor system stops.
/// </summary>
public sealed class EngineStartup(IServiceProvider services, AuditCheckpoints checkpoints, RunbookPilotOptions options, ExecutionRuntime runtime)
    : IHostedService, IAsyncDisposable
{
    private ITimer? _timer;
    private bool _started;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        // Resolved here, not in the constructor: the host builds every hosted service before it starts the first one, and
        // the actor system must not exist before NodeStorage holds the database lock.
        var system = services.GetRequiredService<ActorSystem>();
        var read = services.GetRequiredService<ReadApi>();
        var executions = services.GetRequiredService<IRequiredActor<ExecutionRegion>>();
        var up = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Cluster.Get(system).RegisterOnMemberUp(() => up.TrySetResult());
        // A node the cluster downed (or whose actor system failed) stops the whole process, so a supervisor (compose's
        // restart policy, systemd) starts it again and it rejoins; it never serves an API without an engine behind it.
        var lifetime = services.GetService<Microsoft.Extensions.Hosting.IHostApplicationLifetime>();
        _ = system.WhenTerminated.ContinueWith(_ =>
        {
            if (lifetime is not null && !lifetime.ApplicationStopping.IsCancellationRequested)
            {
                runtime.Log.LogCritical("The actor system stopped (this node was removed from the cluster, or failed); stopping the process");
                lifetime.StopApplication();
            }
        }, TaskScheduler.Default);
        // A cluster node may first wait for a lost member's heartbeat to go stale (ClusterJoiner.Fresh) before it forms the cluster.
        await up.Task.WaitAsync(TimeSpan.FromSeconds(30) + (options.IsClusterMember ? ClusterJoiner.Fresh : TimeSpan.Zero), cancellationToken).ConfigureAwait(false);
        _started = true;
        await read.CatchUpAsync(TimeSpan.FromMinutes(2), cancellationToken).ConfigureAwait(false); // as long as a large backlog needs
        var open = read.Tables.OpenExecutionIds();
        var region = await executions.GetAsync(cancellationToken).ConfigureAwait(false);
        foreach (var id in open) region.Tell(new ResumeExecution(id));
        // When a member leaves or is lost, its executions with open work are woken on the survivors at once (their
        // shards move there on the first message), not only when that node starts again.
        if (options.IsClusterMember) system.ActorOf(Akka.Actor.Props.Create(() => new ResumeOnMemberRemoved(read, region)), "resume-on-member-removed");
        // Started only once they answer: each has recovered and re-armed its deadlines and retries on the clock (a shard
        // region buffers messages until its shards are placed, which can take seconds on a busy node).
        try
        {
            await Task.WhenAll(open.Select(id => region.Ask<ExecutionSnapshot>(new GetExecution(id), TimeSpan.FromMinutes(1), cancellationToken))).ConfigureAwait(false);
        }
        catch (AskTimeoutException ex)
        {
            runtime.Log.LogWarning("Not every execution with open work answered within a minute of start-up; they resume when they do: {Error}", ex.Message);
        }
        if (open.Count > 0) runtime.Log.LogInformation("Resumed {Count} execution(s) with open work", open.Count);
        checkpoints.Write(); // at every start, so the file exists (and records where this run began)
        _timer = runtime.Time.CreateTimer(_ => checkpoints.Write(), null, options.AuditCheckpointEvery, options.AuditCheckpointEvery);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await DisposeAsync().ConfigureAwait(false);
        if (_started) checkpoints.Write(); // a node that never came up (the database was locked by another) writes nothing
    }

    public async ValueTask DisposeAsync()
    {
        if (_timer is not null) await _timer.DisposeAsync().ConfigureAwait(false);
        _timer = null;
    }
}

/// <summary>
/// On every member removed from the cluster: catches the read model up and wakes every execution with open work (a
/// running one ignores the wake-up; one whose shard was on the lost node recovers on a survivor and resumes its work).
/// One wake-up runs at a time; a removal during one, or a wake-up that failed (the projector may itself be moving),
/// runs another 5 s later.
/// </summary>
public sealed class ResumeOnMemberRemoved : ReceiveActor, IWithTimers
{
    private static readonly TimeSpan Again = TimeSpan.FromSeconds(5);
    private bool _running;
    private bool _again;

    public ITimerScheduler Timers { get; set; } = null!;

    private sealed record Wake;

    public ResumeOnMemberRemoved(ReadApi read, IActorRef region)
    {
        var log = Akka.Event.Logging.GetLogger(Context);
        Receive<ClusterEvent.MemberRemoved>(removed =>
        {
            log.Info("Member {0} removed: waking the executions with open work on the survivors", removed.Member.Address);
            Self.Tell(new Wake());
        });
        Receive<Wake>(_ =>
        {
            // One survivor wakes them (the oldest), not every node at once.
            var cluster = Cluster.Get(Context.System);
            var oldest = cluster.State.Members.Where(m => m.Status == MemberStatus.Up).Aggregate((Member?)null, (o, m) => o is null || m.IsOlderThan(o) ? m : o);
            if (oldest?.Address != cluster.SelfAddress) return;
            if (_running)
            {
                _again = true;
                return;
            }
            _running = true;
            WakeAsync(read, region).PipeTo(Self);
        });
        Receive<int>(count =>
        {
            log.Info("Woke {0} execution(s) with open work", count);
            Done(retry: false);
        });
        Receive<Status.Failure>(f =>
        {
            log.Warning("Waking executions after a member was removed failed ({0}); trying again in {1}", f.Cause.Message, Again);
            Done(retry: true);
        });
    }

    private void Done(bool retry)
    {
        _running = false;
        if (retry || _again) Timers.StartSingleTimer("again", new Wake(), Again);
        _again = false;
    }

    protected override void PreStart() => Cluster.Get(Context.System).Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents, typeof(ClusterEvent.MemberRemoved));

    protected override void PostStop() => Cluster.Get(Context.System).Unsubscribe(Self);

    /// <summary>Wakes them 20 at a time, each batch once the last has recovered, so that decisions and new alerts reaching
    /// the survivors meanwhile are not queued behind hundreds of recoveries.</summary>
    private static async Task<int> WakeAsync(ReadApi read, IActorRef region)
    {
        await read.CatchUpAsync(TimeSpan.FromMinutes(2)).ConfigureAwait(false);
        var open = read.Tables.OpenExecutionIds();
        foreach (var batch in open.Chunk(20))
        {
            foreach (var id in batch) region.Tell(new ResumeExecution(id));
            try
            {
                await Task.WhenAll(batch.Select(id => region.Ask<ExecutionSnapshot>(new GetExecution(id), TimeSpan.FromSeconds(30)))).ConfigureAwait(false);
            }
            catch (AskTimeoutException)
            {
                // a slow recovery: it resumes when it has recovered; the next batch goes on
            }
        }
        return open.Count;
    }
}
