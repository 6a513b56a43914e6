using System.Diagnostics;
using System.Text.Json.Nodes;
using Akka.Actor;
using Akka.Hosting;
using Polly;
using Polly.Timeout;
using RunbookPilot.Domain.Adapters;
using RunbookPilot.Engine.Adapters;
using RunbookPilot.Domain.Execution;
using RunbookPilot.Domain.Effects;
using RunbookPilot.Engine.Effects;

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
    private readonly IActorRef? _ledger;
    private static readonly TimeSpan LedgerTimeout = TimeSpan.FromSeconds(10);

    public StepRunner(string executionId, RunStep work, ExecutionRuntime runtime)
    {
        _executionId = executionId;
        _work = work;
        _runtime = runtime;
        _time = runtime.Time;
        _ledger = ActorRegistry.For(Context.System).TryGet<EffectLedger>(out var ledger) ? ledger : null;
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
        if (_work.Effect is { } effect && !_work.DryRun && _ledger is { } ledger)
            return new AttemptDone(await WithLedgerAsync(ledger, effect, () => CallAsync(adapter, call, pipeline)).ConfigureAwait(false),
                (long)_time.GetElapsedTime(started).TotalMilliseconds);
        return new AttemptDone(await CallAsync(adapter, call, pipeline).ConfigureAwait(false), (long)_time.GetElapsedTime(started).TotalMilliseconds);
    }

    /// <summary>
    /// Around a call that makes or undoes a shared effect, asks the effect ledger first: a making call records its hold
    /// (and waits while the effect is being undone); an undoing call is made only by the effect's last holder, and
    /// otherwise releases this execution's hold and calls nothing, saying who still holds it. Fails closed: a ledger
    /// that does not answer fails the attempt (retryable) before any vendor call.
    /// </summary>
    private async Task<AdapterResult> WithLedgerAsync(IActorRef ledger, EffectKey effect, Func<Task<AdapterResult>> call)
    {
        var (executionId, stepId) = (_executionId, _work.StepId);
        LedgerReply answer;
        try
        {
            answer = await ledger.Ask<LedgerReply>(_work.Rollback ? new ReleaseEffect(effect, executionId, stepId) : new AcquireEffect(effect, executionId, stepId), LedgerTimeout)
                .ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is AskTimeoutException or TaskCanceledException)
        {
            return AdapterResult.Fail($"the effect ledger did not answer about {effect}; nothing was sent", retryable: true);
        }
        switch (answer.Answer)
        {
            case LedgerAnswer.Busy:
                return AdapterResult.Fail(answer.Message, retryable: true, retryAfter: TimeSpan.FromSeconds(2));
            case LedgerAnswer.StillHeld:
                return AdapterResult.Ok(new JsonObject
                {
                    ["effect"] = effect.ToString(),
                    ["still_held_by"] = new JsonArray(answer.Others.Select(o => (JsonNode)o.ExecutionId).Distinct().ToArray()),
                    ["vendor_called"] = false,
                    ["note"] = answer.Message,
                });
        }
        var result = await call().ConfigureAwait(false);
        // Recorded before the result is reported: a hold the ledger has not stored is never shown as held.
        IEffectCommand after = _work.Rollback ? new FinishRelease(effect, executionId, stepId, result.Success)
            : result.Success ? new ConfirmEffect(effect, executionId, stepId) : new AbandonEffect(effect, executionId, stepId);
        try
        {
            await ledger.Ask<LedgerReply>(after, LedgerTimeout).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is AskTimeoutException or TaskCanceledException)
        {
            // The vendor call happened; the hold stays "acquiring"/"releasing", which keeps others from undoing it, and
            // the execution's retry repeats the call (same idempotency key) and this record.
            return result.Success ? AdapterResult.Fail($"{effect}: done at the vendor, but the effect ledger did not record it; repeating", retryable: true) : result;
        }
        if (result.Success && answer.Others.Count > 0 && result.Output is JsonObject output)
            output["also_held_by"] = new JsonArray(answer.Others.Select(o => (JsonNode)o.ExecutionId).Distinct().ToArray());
        return result;
    }

    private async Task<AdapterResult> CallAsync(IAdapter adapter, AdapterCall call, ResiliencePipeline pipeline)
    {
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
        return result;
    }

    private sealed record AttemptDone(AdapterResult Result, long DurationMs);

    /// <summary>One timeout pipeline per clock and timeout, built once.</summary>
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<(TimeProvider Time, TimeSpan Timeout), ResiliencePipeline> Pipelines = new();
}

public sealed class StepRunnerCrashedException(string message, Exception inner) : Exception(message, inner);
