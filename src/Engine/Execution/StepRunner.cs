using System.Diagnostics;
using Akka.Actor;
using Polly;
using Polly.Timeout;
using RunbookPilot.Domain.Adapters;
using RunbookPilot.Engine.Adapters;
using RunbookPilot.Domain.Execution;

namespace RunbookPilot.Engine.Execution;

/// <summary>
/// Runs one attempt of a step (or of its rollback) as a child of the execution: calls the adapter through
/// <see cref="AdapterInvoker"/> (allow-list on canonical targets, dry-run) under a per-attempt timeout (Polly), reports a <see cref="RecordAttempt"/> to its parent and stops. Vendor failures (HTTP errors,
/// timeouts) become failed attempts; anything else is a crash, and the parent's supervision restarts the runner,
/// which repeats the attempt with the same idempotency key.
/// </summary>
public sealed class StepRunner : UntypedActor
{
    private readonly string _executionId;
    private readonly RunStep _work;
    private readonly ExecutionRuntime _runtime;
    private readonly TimeProvider _time;

    public StepRunner(string executionId, RunStep work, ExecutionRuntime runtime)
    {
        _executionId = executionId;
        _work = work;
        _runtime = runtime;
        _time = runtime.Time;
    }

    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case AttemptDone done:
                Context.Parent.Tell(new RecordAttempt(_executionId, _work.StepId, _work.Attempt, _work.Rollback, done.Result, done.DurationMs), Self);
                Context.Stop(Self);
                break;
            case Status.Failure f:
                throw new StepRunnerCrashedException($"step runner for {_work.StepId} crashed: {f.Cause.Message}", f.Cause);
            default:
                Unhandled(message);
                break;
        }
    }

    public static Props Props(string executionId, RunStep work, ExecutionRuntime runtime) =>
        Akka.Actor.Props.Create<StepRunner>(executionId, work, runtime);

    protected override void PreStart() => RunAsync().PipeTo(Self);

    private async Task<AttemptDone> RunAsync()
    {
        var started = _time.GetTimestamp();
        var adapter = _runtime.Adapters.Find(_work.Adapter);
        if (adapter is null)
            return new AttemptDone(AdapterResult.Fail($"adapter {_work.Adapter} is not configured (adapters.yaml); nothing was sent", retryable: false), 0);

        var call = new AdapterCall(_work.Action, _work.Parameters, _work.IdempotencyKey, _work.DryRun);
        var pipeline = Pipelines.GetOrAdd((_time, _work.Timeout), key => new ResiliencePipelineBuilder { TimeProvider = key.Time }.AddTimeout(key.Timeout).Build());
        AdapterResult result;
        try
        {
            var policy = _runtime.Policy();
            result = await pipeline.ExecuteAsync(async ct =>
                await AdapterInvoker.InvokeAsync(adapter, call, policy, _runtime.Adapters, ct).ConfigureAwait(false)).ConfigureAwait(false);
        }
        catch (TimeoutRejectedException)
        {
            result = AdapterResult.Fail($"timed out after {_work.Timeout.TotalSeconds:0.###}s", retryable: true, request: adapter.Describe(call));
        }
        catch (HttpRequestException ex)
        {
            result = AdapterResult.Fail("connection failed: " + ex.Message, retryable: true, request: adapter.Describe(call));
        }
        catch (IOException ex)
        {
            result = AdapterResult.Fail("I/O failed: " + ex.Message, retryable: true, request: adapter.Describe(call));
        }
        return new AttemptDone(result, (long)_time.GetElapsedTime(started).TotalMilliseconds);
    }

    private sealed record AttemptDone(AdapterResult Result, long DurationMs);

    /// <summary>One timeout pipeline per clock and timeout, built once.</summary>
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<(TimeProvider Time, TimeSpan Timeout), ResiliencePipeline> Pipelines = new();
}

public sealed class StepRunnerCrashedException(string message, Exception inner) : Exception(message, inner);
