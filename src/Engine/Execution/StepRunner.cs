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
    private static readonly TimeSpan BusyPoll = TimeSpan.FromSeconds(1);

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
                Context.Parent.Tell(new RecordAttempt(_executionId, _work.StepId, _work.Attempt, _work.Rollback, done.Result, done.DurationMs) { Effect = done.Effect }, Self);
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
            return new AttemptDone(AdapterResult.Fail($"adapter {_work.Adapter} is not configured (adapters.yaml); nothing was sent", retryable: false), 0, null);

        var call = new AdapterCall(_work.Action, _work.Parameters, _work.IdempotencyKey, _work.DryRun);
        var pipeline = Pipelines.GetOrAdd((_time, _work.Timeout), key => new ResiliencePipelineBuilder { TimeProvider = key.Time }.AddTimeout(key.Timeout).Build());
        if (_work.Effect is { } effect && !_work.DryRun)
        {
            if (_ledger is not { } ledger)
                return new AttemptDone(AdapterResult.Fail($"{effect}: the effect ledger is not running on this node; nothing was sent", retryable: true), 0, effect);
            var (result, recorded) = await WithLedgerAsync(ledger, adapter, effect, () => CallAsync(adapter, call, pipeline)).ConfigureAwait(false);
            return new AttemptDone(result, (long)_time.GetElapsedTime(started).TotalMilliseconds, recorded);
        }
        return new AttemptDone(await CallAsync(adapter, call, pipeline).ConfigureAwait(false), (long)_time.GetElapsedTime(started).TotalMilliseconds, null);
    }

    /// <summary>
    /// Around a call that makes or undoes a shared effect, asks the effect ledger first: a making call records its hold;
    /// an undoing call is made only by the effect's last holder, and otherwise releases this execution's hold and calls
    /// nothing, saying who still holds it. While the same effect is being made or undone elsewhere it waits (up to the
    /// attempt's timeout, not counted as an attempt). Fails closed: a ledger that does not answer fails the attempt
    /// before any vendor call; whatever the call does (crash included), the ledger hears how it ended.
    /// </summary>
    private async Task<(AdapterResult Result, EffectKey Effect)> WithLedgerAsync(IActorRef ledger, IAdapter adapter, EffectKey effect, Func<Task<AdapterResult>> call)
    {
        var (executionId, stepId) = (_executionId, _work.StepId);
        // The action called decides the direction: a rollback of a block unblocks (releases); a playbook step that
        // unblocks releases too, and the rollback of that step blocks again (makes).
        var releasing = adapter.Descriptor.Find(_work.Action)?.Releases ?? _work.Rollback;
        if (effect.Kind == Domain.Adapters.TargetKind.DeviceId) effect = await ByHostAsync(effect).ConfigureAwait(false);
        LedgerReply answer;
        var deadline = _time.GetUtcNow() + _work.Timeout;
        try
        {
            while (true)
            {
                answer = await ledger.Ask<LedgerReply>(releasing ? new ReleaseEffect(effect, executionId, stepId) : new AcquireEffect(effect, executionId, stepId), LedgerTimeout)
                    .ConfigureAwait(false);
                if (answer.Answer != LedgerAnswer.Busy || _time.GetUtcNow() >= deadline) break;
                await Task.Delay(BusyPoll, _time).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is AskTimeoutException or TaskCanceledException)
        {
            return (AdapterResult.Fail($"the effect ledger did not answer about {effect}; nothing was sent", retryable: true), effect);
        }
        switch (answer.Answer)
        {
            case LedgerAnswer.Busy:
                return (AdapterResult.Fail(answer.Message, retryable: true), effect);
            case LedgerAnswer.StillHeld:
                return (AdapterResult.Ok(new JsonObject
                {
                    ["effect"] = effect.ToString(),
                    ["still_held_by"] = new JsonArray(answer.Others.Select(o => (JsonNode)o.ExecutionId).Distinct().ToArray()),
                    ["vendor_called"] = false,
                    ["note"] = answer.Message,
                }), effect);
        }
        AdapterResult result;
        try
        {
            result = await call().ConfigureAwait(false);
        }
        catch
        {
            // The runner crashes (and is started again); the ledger must not keep an in-flight hold that blocks others.
            ledger.Tell(releasing ? new FinishRelease(effect, executionId, stepId, Undone: false) : new AbandonEffect(effect, executionId, stepId));
            throw;
        }
        // Recorded before the result is reported: a hold the ledger has not stored is never shown as held.
        IEffectCommand after = releasing ? new FinishRelease(effect, executionId, stepId, result.Success)
            : result.Success ? new ConfirmEffect(effect, executionId, stepId) : new AbandonEffect(effect, executionId, stepId);
        try
        {
            await ledger.Ask<LedgerReply>(after, LedgerTimeout).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is AskTimeoutException or TaskCanceledException)
        {
            // The vendor call happened; the hold stays in flight, which keeps others from undoing it, and the execution's
            // retry repeats the call (same idempotency key) and this record.
            return (result.Success ? AdapterResult.Fail($"{effect}: done at the vendor, but the effect ledger did not record it; repeating", retryable: true) : result, effect);
        }
        if (result.Success && answer.Others.Count > 0 && result.Output is JsonObject output)
            output["also_held_by"] = new JsonArray(answer.Others.Select(o => (JsonNode)o.ExecutionId).Distinct().ToArray());
        return (result, effect);
    }

    /// <summary>A device id's effect keyed by the host the EDR says it is (one containment, by name or by id); unchanged when it cannot tell.</summary>
    private async Task<EffectKey> ByHostAsync(EffectKey effect)
    {
        if (_runtime.Adapters.All.OfType<ITargetResolver>().FirstOrDefault(r => r.Resolves(Domain.Adapters.TargetKind.DeviceId)) is not { } resolver) return effect;
        try
        {
            var found = await resolver.ResolveAsync(Domain.Adapters.TargetKind.DeviceId, effect.Target, CancellationToken.None).WaitAsync(LedgerTimeout, _time).ConfigureAwait(false);
            return found.Error is null && found.Found.Count == 1 ? effect.ForHost(found.Found[0]) : effect;
        }
        catch (Exception ex) when (ex is HttpRequestException or TimeoutException or TaskCanceledException or IOException)
        {
            return effect;
        }
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

    private sealed record AttemptDone(AdapterResult Result, long DurationMs, EffectKey? Effect);

    /// <summary>One timeout pipeline per clock and timeout, built once.</summary>
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<(TimeProvider Time, TimeSpan Timeout), ResiliencePipeline> Pipelines = new();
}

public sealed class StepRunnerCrashedException(string message, Exception inner) : Exception(message, inner);
