using System.Net;
using Akka.Actor;
using LinqToDB.Data;
using Akka.Cluster;
using Akka.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using RunbookPilot.Domain.Adapters;
using RunbookPilot.Engine.Adapters;
using RunbookPilot.Domain.Alerts;
using RunbookPilot.Domain.Bindings;
using RunbookPilot.Domain.Execution;
using RunbookPilot.Engine.Execution;
using RunbookPilot.Domain.Intake;
using RunbookPilot.Engine.Ingestion;
using RunbookPilot.Domain.Playbooks;
using RunbookPilot.Engine.ReadModel;
using RunbookPilot.Domain.Library;
using RunbookPilot.Domain.Core;
using RunbookPilot.Engine.Configuration;

namespace RunbookPilot.Engine.Hosting;

/// <summary>
/// The engine as one object: the actor system over the database, the playbook library, the read model. The CLI runs it
/// embedded; tests start and stop it over a temporary SQLite file to prove restarts. Disposing stops the system
/// gracefully and releases the database lock.
/// </summary>
public sealed class RunbookPilotEngine : IAsyncDisposable
{
    private readonly IHost _host;
    private readonly DatabaseLock? _lock;
    private PlaybookCatalogSnapshot _catalog;

    private RunbookPilotEngine(IHost host, DatabaseLock? dbLock, PlaybookCatalogSnapshot catalog, RunbookPilotOptions options, ActorSystem system,
        IActorRef executions, IActorRef intake, ReadModelProjector projector)
    {
        _host = host;
        _lock = dbLock;
        _catalog = catalog;
        Options = options;
        System = system;
        Executions = executions;
        Intake = intake;
        Projector = projector;
    }

    public RunbookPilotOptions Options { get; }
    public ActorSystem System { get; }
    public IActorRef Executions { get; }
    public IActorRef Intake { get; }
    public ReadModelProjector Projector { get; }
    public PlaybookLibrary Library => _catalog.Library;
    public ReadModelQueries Queries => new(new ReadModelDb(Options));

    /// <summary>Names of the adapters this node can call.</summary>
    public IReadOnlySet<string> AdapterNames { get; private init; } = new HashSet<string>();

    /// <summary>Adapters that a loaded playbook (a step or a rollback) uses but that this node cannot call: their steps fail
    /// with "adapter X is not configured"; reported at start and by /health.</summary>
    public IReadOnlyList<string> UnconfiguredAdapters =>
        Library.Playbooks.SelectMany(p => p.Steps.Select(s => s.Adapter).Concat(p.Rollback.Values.Select(r => r.Adapter)))
            .Distinct(StringComparer.Ordinal).Where(a => !AdapterNames.Contains(a)).Order(StringComparer.Ordinal).ToList();

    /// <summary>What playbooks may name: the built-in catalogue plus every registered adapter (plugins).</summary>
    public AdapterCatalog AdapterCatalog { get; private init; } = AdapterCatalog.BuiltIn;

    /// <summary>This engine's Prometheus instruments (its own registry, so two engines in one process never mix their figures).</summary>
    public Prometheus.CollectorRegistry Metrics { get; private init; } = null!;

    public Prometheus.IMetricFactory MetricFactory { get; private init; } = null!;

    /// <summary>The engine's clock (deadlines, retries, quotas); views compare against it, not the wall clock.</summary>
    public TimeProvider Time { get; private init; } = TimeProvider.System;

    public static async Task<RunbookPilotEngine> StartAsync(RunbookPilotOptions options, IEnumerable<IAdapter> adapters, TimeProvider? time = null,
        string purpose = "runbookpilot", Action<ILoggingBuilder>? logging = null, CancellationToken ct = default)
    {
        var dbLock = DatabaseLock.Acquire(options, purpose);
        try
        {
            options = options with { AuditKey = options.AuditKey ?? ReadModel.AuditKeys.DemoKey(options) };
            SqliteSetup.Prepare(options);
            var registry = new AdapterRegistry(adapters);
            var library = PlaybookLibrary.Load(options.Library, registry.Catalog);
            if (library.ConfigurationErrors.Count > 0) throw ConfigurationException.From(library.ConfigurationErrors);
            PlaybookCatalogSnapshot catalog = PlaybookCatalogSnapshot.From(library);
            RunbookPilotEngine? engine = null;
            var loggers = LoggerFactory.Create(l => logging?.Invoke(l));
            var engineLog = loggers.CreateLogger("RunbookPilot.Engine");
            var runtime = new ExecutionRuntime(registry, () => (engine?._catalog ?? catalog).Library.Policy, time ?? TimeProvider.System, options.Defaults) { Log = engineLog };

            var metrics = Prometheus.Metrics.NewCustomRegistry();
            var factory = Prometheus.Metrics.WithCustomRegistry(metrics);
            var intake = new IntakeSettings(options.ImplicitBindings, new Metrics.BindingMetrics(factory))
            {
                Log = engineLog,
                SnapshotEvery = options.IntakeSnapshotEvery,
                DedupeWindow = options.DedupeWindow,
            };
            var builder = Host.CreateApplicationBuilder();
            builder.Logging.ClearProviders();
            if (logging is not null) logging(builder.Logging);
            if (options.SeedNodes.Count == 0 && !IPAddress.TryParse(options.Hostname, out var bind) | !IPAddress.IsLoopback(bind ?? IPAddress.Any))
                throw new ConfigurationException([$"remoting binds to {options.Hostname}, but a node without a cluster binds to the loopback interface only"]);
            var identity = NodeCertificates.Load(options);
            builder.Services.AddAkka(AkkaHostingExtensions.SystemName, (b, _) => b.WithRunbookPilot(options, runtime, () => engine?._catalog ?? catalog, intake, identity));
            var host = builder.Build();
            await host.StartAsync(ct).ConfigureAwait(false);

            var system = host.Services.GetRequiredService<ActorSystem>();
            var up = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            Cluster.Get(system).RegisterOnMemberUp(() => up.TrySetResult());
            await up.Task.WaitAsync(TimeSpan.FromSeconds(30), ct).ConfigureAwait(false);

            var actors = host.Services.GetRequiredService<IActorRegistry>();
            var projector = new ReadModelProjector(system, new ReadModelDb(options));
            engine = new RunbookPilotEngine(host, dbLock, catalog, options, system,
                await actors.GetAsync<ExecutionRegion>(ct).ConfigureAwait(false), await actors.GetAsync<AlertIntake>(ct).ConfigureAwait(false), projector)
            {
                AdapterNames = registry.All.Select(a => a.Descriptor.Name).ToHashSet(StringComparer.Ordinal),
                AdapterCatalog = registry.Catalog,
                Metrics = metrics,
                MetricFactory = factory,
                Time = runtime.Time,
                _loggers = loggers,
                Log = engineLog,
            };
            if (options.Llm is { Enabled: true } llm)
            {
                engine._llmHttp = new HttpClient();
                system.ActorOf(Enrichment.EnrichmentActor.Props(new Enrichment.LlmClient(llm, engine._llmHttp), new ReadModelDb(options), engine.Executions, time ?? TimeProvider.System),
                    "enrichment");
            }
            await engine.ResumeOpenExecutionsAsync(ct).ConfigureAwait(false);
            engine.Checkpoint(); // at every start, so the file exists (and records where this run began)
            engine._checkpoints = engine.Time.CreateTimer(_ => engine.Checkpoint(), null, options.AuditCheckpointEvery, options.AuditCheckpointEvery);
            return engine;
        }
        catch
        {
            dbLock?.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Wakes every execution that had open work when the system stopped (a step in flight, a retry waiting, an approval
    /// deadline armed): the read model is caught up with the journal first, so nothing journaled is missed. Each
    /// execution then re-issues its own work on recovery.
    /// </summary>
    public async Task<int> ResumeOpenExecutionsAsync(CancellationToken ct = default)
    {
        await Projector.CatchUpAsync(TimeSpan.FromMinutes(2), ct).ConfigureAwait(false);
        var open = Queries.OpenExecutionIds();
        foreach (var id in open) Executions.Tell(new ResumeExecution(id));
        return open.Count;
    }

    /// <summary>
    /// Reloads playbooks, policy and Sigma rules; running executions keep the playbook version they started with. When
    /// global_policy.yaml or adapters.yaml no longer validates, the last valid version stays in force and the problems
    /// are kept in <see cref="ConfigurationProblems"/> (shown by /health, which then answers 503) and logged.
    /// </summary>
    public PlaybookLibrary Reload(AdapterCatalog? catalog = null)
    {
        var library = PlaybookLibrary.Load(Options.Library, catalog ?? AdapterCatalog);
        if (library.ConfigurationErrors.Count > 0)
        {
            ConfigurationProblems = library.ConfigurationErrors.Select(e => e.ToString()).ToList();
            foreach (var problem in ConfigurationProblems)
                Log.LogError("Configuration reload refused, the last valid configuration stays in force: {Problem}", problem);
            return _catalog.Library;
        }
        ConfigurationProblems = [];
        _catalog = PlaybookCatalogSnapshot.From(library);
        return library;
    }

    /// <summary>Why the last reload was refused (empty when the configuration in force is the newest).</summary>
    public IReadOnlyList<string> ConfigurationProblems { get; private set; } = [];

    public Task<AlertAccepted> SubmitAsync(Alert alert, string source, CancellationToken ct = default) =>
        Intake.Ask<AlertAccepted>(new SubmitAlert(alert, source), TimeSpan.FromSeconds(30), ct);

    /// <summary>
    /// A dry run of an alert (PRD F5.4): the playbooks that fit run with every step recorded, none sent. The alert gets
    /// an id of its own (<c>&lt;id&gt;~dry-&lt;ticks&gt;</c>), so a dry run never makes the real alert a duplicate.
    /// </summary>
    public Task<AlertAccepted> DryRunAsync(Alert alert, string source, CancellationToken ct = default) =>
        Intake.Ask<AlertAccepted>(new SubmitAlert(alert with { Id = $"{alert.Id}~dry-{Time.GetUtcNow().UtcTicks}" }, source, DryRun: true), TimeSpan.FromSeconds(30), ct);

    /// <summary>Accepted alerts whose executions have not confirmed their start yet (the engine's backlog).</summary>
    public async Task<int> BacklogAsync(CancellationToken ct = default) =>
        (await Intake.Ask<Backlog>(GetBacklog.Instance, TimeSpan.FromSeconds(10), ct).ConfigureAwait(false)).AlertsWaitingForExecutions;

    public Task<BindingResult> SaveBindingAsync(BindingSpec spec, string by, CancellationToken ct = default) =>
        Intake.Ask<BindingResult>(new SaveBinding(spec, by), AskTimeout, ct);

    public Task<BindingResult> DeleteBindingAsync(int bindingId, string by, CancellationToken ct = default) =>
        Intake.Ask<BindingResult>(new DeleteBinding(bindingId, by), AskTimeout, ct);

    /// <summary>The bindings with their live guardrail state, the kill switches that are on and how many decisions are held.</summary>
    public Task<BindingsView> BindingsAsync(CancellationToken ct = default) => Intake.Ask<BindingsView>(GetBindings.Instance, AskTimeout, ct);

    /// <summary>What the bindings would decide for an alert now (no side effects).</summary>
    public Task<List<BindingDecision>> PreviewBindingsAsync(Alert alert, CancellationToken ct = default) =>
        Intake.Ask<List<BindingDecision>>(new PreviewBindings(alert), AskTimeout, ct);

    /// <summary>A manual run of a binding for an alert: guardrails bypassed, the autonomy contract kept; audited with who and why.</summary>
    public Task<BindingRunResult> RunBindingAsync(Alert alert, int bindingId, BindingMode? mode, string by, string? reason, CancellationToken ct = default) =>
        Intake.Ask<BindingRunResult>(new RunBinding(alert, bindingId, mode, by, reason), AskTimeout, ct);

    /// <summary>Turns a kill switch on or off (globally: target ignored; a playbook id; a binding id).</summary>
    public Task<PauseResult> SetPauseAsync(PauseScope scope, string target, bool paused, string by, string? reason, CancellationToken ct = default) =>
        Intake.Ask<PauseResult>(new SetPause(scope, target, paused, by, reason), AskTimeout, ct);

    /// <summary>An accepted alert as stored in the read model (after catching up when it is not there yet), or null.</summary>
    public async Task<Alert?> StoredAlertAsync(string alertId, CancellationToken ct = default)
    {
        if (Queries.Event(alertId) is null) await Projector.CatchUpAsync(TimeSpan.FromSeconds(10), ct).ConfigureAwait(false);
        return Queries.Event(alertId) is { } row && global::System.Text.Json.Nodes.JsonNode.Parse(row.Document) is global::System.Text.Json.Nodes.JsonObject doc
            ? new Alert(row.AlertId, doc, row.Format)
            : null;
    }

    private static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(30);

    private HttpClient? _llmHttp;
    private ILoggerFactory? _loggers;

    /// <summary>The engine's structured log (the server's log sinks; <c>runbookpilot ops log</c>).</summary>
    public ILogger Log { get; private init; } = Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;

    /// <summary>
    /// Sends a command to its execution. An id that names no execution is answered not_found here, without creating an
    /// entity for it (a lookup of random ids must not leave live actors behind); starting one is the intake's job.
    /// </summary>
    public async Task<CommandResult> SendAsync(IExecutionCommand command, CancellationToken ct = default) =>
        command is StartExecution || Exists(command.ExecutionId)
            ? await Executions.Ask<CommandResult>(command, TimeSpan.FromSeconds(30), ct).ConfigureAwait(false)
            : new CommandResult(false, "not_found", $"execution {command.ExecutionId} does not exist");

    /// <summary>The execution's state; an unknown id gives the empty state without creating an entity.</summary>
    public async Task<ExecutionSnapshot> GetAsync(string executionId, CancellationToken ct = default) =>
        Exists(executionId) ? await AskAsync(executionId, ct).ConfigureAwait(false) : new ExecutionSnapshot(ExecutionState.Empty, false);

    private Task<ExecutionSnapshot> AskAsync(string executionId, CancellationToken ct) =>
        Executions.Ask<ExecutionSnapshot>(new GetExecution(executionId), TimeSpan.FromSeconds(30), ct);

    /// <summary>Whether the journal holds an execution with this id (its first event is journaled before anyone learns its id).</summary>
    public bool Exists(string executionId)
    {
        using var db = new ReadModelDb(Options).Open();
        return db.Execute<long?>("SELECT 1 FROM journal WHERE persistence_id = @p LIMIT 1",
            new LinqToDB.Data.DataParameter("p", "execution-" + executionId, LinqToDB.DataType.NVarChar)) is not null;
    }

    /// <summary>Waits until the execution is settled: finished, or waiting only for people.</summary>
    public async Task<ExecutionSnapshot> WaitSettledAsync(string executionId, TimeSpan timeout, CancellationToken ct = default)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(timeout);
        var exists = false; // the journal is asked only until the execution exists, not on every poll
        while (true)
        {
            try
            {
                exists = exists || Exists(executionId);
                var snapshot = exists ? await AskAsync(executionId, cts.Token).ConfigureAwait(false) : new ExecutionSnapshot(ExecutionState.Empty, false);
                if (snapshot.State.Started && snapshot.Settled) return snapshot;
            }
            catch (AskTimeoutException) when (!cts.IsCancellationRequested)
            {
                // A busy or restarting entity: ask again until the overall timeout.
            }
            await Task.Delay(20, cts.Token).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Appends a signed checkpoint of the audit chains' heads to the checkpoint file (outside the database folder) and to
    /// the log, when they moved since the last one. Runs every <see cref="RunbookPilotOptions.AuditCheckpointEvery"/> and at shutdown.
    /// </summary>
    public void Checkpoint()
    {
        lock (_checkpointLock)
        {
            try
            {
                var readModel = new ReadModelDb(Options);
                using (var db = readModel.Open())
                {
                    var (log, runs) = AuditChain.Heads(db);
                    if ((log.Hash, runs.Hash) == _lastCheckpoint) return;
                    _lastCheckpoint = (log.Hash, runs.Hash);
                }
                if (AuditChain.WriteCheckpoint(readModel, Time.GetUtcNow(), out var problem) is { } line)
                    Log.LogInformation("Audit checkpoint written to {File}: {Checkpoint}", Options.CheckpointFile, line);
                else
                {
                    _lastCheckpoint = default; // try again next time
                    Log.LogError("Audit checkpoint not written: {Problem} (rebuild the read model after a key rotation, or run 'runbookpilot audit verify')", problem);
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or global::System.Data.Common.DbException or global::System.Text.Json.JsonException)
            {
                Log.LogError("Audit checkpoint not written to {File}: {Error}", Options.CheckpointFile, ex.Message);
            }
        }
    }

    private ITimer? _checkpoints;
    private readonly Lock _checkpointLock = new();
    private (string, string) _lastCheckpoint;

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (_checkpoints is not null) await _checkpoints.DisposeAsync().ConfigureAwait(false);
            Checkpoint();
            await _host.StopAsync().ConfigureAwait(false);
            _host.Dispose();
            Projector.Dispose();
            _llmHttp?.Dispose();
            _loggers?.Dispose();
        }
        finally
        {
            _lock?.Dispose();
        }
    }
}
