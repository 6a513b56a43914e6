using Akka.Cluster.Sharding;
using RunbookPilot.Domain.Adapters;
using RunbookPilot.Domain.Execution;
using RunbookPilot.Domain.Policy;

namespace RunbookPilot.Engine.Execution;

/// <summary>What an execution needs from its surroundings: adapters, the current policy, the clock, defaults and the log.</summary>
public sealed record ExecutionRuntime(AdapterRegistry Adapters, Func<GlobalPolicy> Policy, TimeProvider Time, ExecutionDefaults Defaults)
{
    /// <summary>How soon a crashed step runner is started again: doubling from the first delay to the second (with 20 % jitter).</summary>
    public (TimeSpan Min, TimeSpan Max) RunnerBackoff { get; init; } = (TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(10));

    /// <summary>Structured engine log lines (execution, alert, playbook, step as properties): the server's log and <c>runbookpilot ops log</c>.</summary>
    public Microsoft.Extensions.Logging.ILogger Log { get; init; } = Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;
}

/// <summary>Registry key of the <c>execution</c> shard region.</summary>
public sealed class ExecutionRegion;

/// <summary>Routes execution messages to entities by execution id over 100 shards.</summary>
public sealed class ExecutionMessageExtractor() : HashCodeMessageExtractor(100)
{
    public override string? EntityId(object message) => (message as IWithExecutionId)?.ExecutionId;
}

/// <summary>Published once when an execution reaches its outcome (completed, failed, rejected, expired or refused): binding runs end.</summary>
public sealed record ExecutionEnded(string ExecutionId, string Status) : Domain.Core.IClusterMessage
{
    /// <summary>The node it happened on, when relayed from another node of the cluster (<see cref="Hosting.ClusterFeed"/>); null on its own node.</summary>
    public string? Origin { get; init; }
}

/// <summary>Published on the event stream after every persisted decision (live views, the CLI's wait for settled executions).</summary>
public sealed record ExecutionUpdated(string ExecutionId, string PlaybookId, string Status, bool Settled, IReadOnlyList<IExecutionEvent> Events) : Domain.Core.IClusterMessage
{
    /// <summary>The node it happened on, when relayed from another node of the cluster (<see cref="Hosting.ClusterFeed"/>); null on its own node.</summary>
    public string? Origin { get; init; }

    /// <summary>The execution's state after these events (for live views on this node: the approval queue, enrichment).</summary>
    public ExecutionState? State { get; init; }
}
