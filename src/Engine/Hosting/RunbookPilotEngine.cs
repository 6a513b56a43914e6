using Akka.Actor;
using Microsoft.Extensions.Logging;
using RunbookPilot.Domain.Adapters;
using RunbookPilot.Domain.Library;
using RunbookPilot.Engine.Api;
using RunbookPilot.Engine.Configuration;
using RunbookPilot.Engine.Execution;
using RunbookPilot.Engine.Live;
using RunbookPilot.Engine.ReadModel;

namespace RunbookPilot.Engine.Hosting;

/// <summary>
/// The engine of this process, as the front ends see it: the application layer by area (<see cref="Alerts"/>,
/// <see cref="Executions"/>, <see cref="Approvals"/>, <see cref="Bindings"/>, <see cref="Read"/>), the playbook library in
/// force and its reload, the node's metrics and audit checkpoints. A singleton of whichever host runs the engine (the web
/// host, or the CLI's generic host), registered by <see cref="RunbookPilotServices.AddRunbookPilot"/>; it owns no host.
/// </summary>
public sealed class RunbookPilotEngine(
    RunbookPilotOptions options,
    PlaybookCatalog catalog,
    AdapterRegistry adapters,
    EngineMetrics metrics,
    ExecutionRuntime runtime,
    AuditCheckpoints checkpoints,
    ActorSystem system,
    AlertsApi alerts,
    ExecutionsApi executions,
    ApprovalsApi approvals,
    BindingsApi bindings,
    ReadApi read,
    EffectsApi effects,
    SelectionApi selection,
    LiveUpdates live,
    ClusterJoinStatus joining)
{
    public RunbookPilotOptions Options { get; } = options;
    public ActorSystem System { get; } = system;
    public AlertsApi Alerts { get; } = alerts;
    public ExecutionsApi Executions { get; } = executions;
    public ApprovalsApi Approvals { get; } = approvals;
    public BindingsApi Bindings { get; } = bindings;
    public ReadApi Read { get; } = read;

    /// <summary>The effect ledger: which executions hold a live effect at a vendor.</summary>
    public EffectsApi Effects { get; } = effects;

    /// <summary>Why an alert ran what it ran (every playbook's verdict, near misses, binding decisions).</summary>
    public SelectionApi Selection { get; } = selection;

    /// <summary>Live changes for the front ends of this process.</summary>
    public LiveUpdates Live { get; } = live;

    /// <summary>The read tables as they stand (no catch-up): the engine's start-up work and tests.</summary>
    public ReadModelQueries Queries => Read.Tables;

    public PlaybookLibrary Library => catalog.Current.Library;

    /// <summary>Names of the adapters this node can call.</summary>
    public IReadOnlySet<string> AdapterNames { get; } = adapters.All.Select(a => a.Descriptor.Name).ToHashSet(StringComparer.Ordinal);

    /// <summary>What playbooks may name: the built-in catalogue plus every registered adapter (plugins).</summary>
    public AdapterCatalog AdapterCatalog => adapters.Catalog;

    /// <summary>Adapters that a loaded playbook (a step or a rollback) uses but that this node cannot call: their steps fail
    /// with "adapter X is not configured"; reported at start and by /health.</summary>
    public IReadOnlyList<string> UnconfiguredAdapters =>
        Library.Playbooks.SelectMany(p => p.Steps.Select(s => s.Adapter).Concat(p.Rollback.Values.Select(r => r.Adapter)))
            .Distinct(StringComparer.Ordinal).Where(a => !AdapterNames.Contains(a)).Order(StringComparer.Ordinal).ToList();

    /// <summary>This engine's Prometheus instruments (its own registry, so two engines in one process never mix their figures).</summary>
    public Prometheus.CollectorRegistry Metrics => metrics.Registry;

    public Prometheus.IMetricFactory MetricFactory => metrics.Factory;

    /// <summary>The engine's clock (deadlines, retries, quotas); views compare against it, not the wall clock.</summary>
    public TimeProvider Time => runtime.Time;

    /// <summary>The engine's structured log (the host's log sinks; <c>runbookpilot ops log</c>).</summary>
    public ILogger Log => runtime.Log;

    /// <summary>Reloads playbooks, policy and Sigma rules (<see cref="PlaybookCatalog.Reload"/>).</summary>
    public PlaybookLibrary Reload(AdapterCatalog? catalogOverride = null) => catalog.Reload(catalogOverride ?? AdapterCatalog, runtime.Log);

    /// <summary>Why the last reload was refused (empty when the configuration in force is the newest).</summary>
    public IReadOnlyList<string> ConfigurationProblems => catalog.Problems;

    /// <summary>Why this node is not a member of its cluster yet (null once it is, and always for a single node).</summary>
    public string? ClusterWaiting => joining.Waiting;

    /// <summary>Appends a signed checkpoint of the audit chains' heads (<see cref="AuditCheckpoints"/>).</summary>
    public void Checkpoint() => checkpoints.Write();
}
