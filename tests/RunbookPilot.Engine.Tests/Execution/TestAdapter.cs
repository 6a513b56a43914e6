using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using RunbookPilot.Domain.Adapters;
using RunbookPilot.Engine.Adapters;

namespace RunbookPilot.Engine.Tests.Execution;

/// <summary>
/// An adapter for tests that implements the real adapter contract: records every call, keeps state like a vendor
/// (what is blocked or contained, keyed by target), and fails, stalls or crashes on demand.
/// </summary>
public sealed class TestAdapter(AdapterDescriptor descriptor) : IAdapter, ITargetResolver
{
    /// <summary>Devices an EDR test adapter knows (device id → host name): device ids resolve through it, as at a real EDR.</summary>
    public ConcurrentDictionary<string, string> Devices { get; } = new(StringComparer.Ordinal);

    public bool Resolves(TargetKind kind) => kind == TargetKind.DeviceId && Descriptor.Name == "crowdstrike";

    public Task<TargetLookup> ResolveAsync(TargetKind kind, string value, CancellationToken cancellationToken) =>
        Task.FromResult(new TargetLookup(Devices.TryGetValue(value, out var host) ? [host] : []));

    private readonly ConcurrentQueue<Func<AdapterCall, Task<AdapterResult>>> _script = new();

    public AdapterDescriptor Descriptor { get; } = descriptor;
    public ConcurrentQueue<AdapterCall> Calls { get; } = new();
    /// <summary>Targets currently blocked/contained (the vendor's state), by the target parameter.</summary>
    public ConcurrentDictionary<string, string> Applied { get; } = new();
    /// <summary>How often each idempotency key performed its side effect (re-applying the same key is a no-op, as vendors do).</summary>
    public ConcurrentDictionary<string, int> Effects { get; } = new();

    public static TestAdapter For(string name) => new(AdapterCatalog.BuiltIn.Find(name)!);

    public AdapterRequest Describe(AdapterCall call) =>
        new("POST", $"https://{Descriptor.Name}.test/api/{call.Action}", new Dictionary<string, string> { ["Authorization"] = "***", ["Idempotency-Key"] = call.IdempotencyKey },
            call.Parameters.ToJsonString());

    /// <summary>The next calls behave as scripted, in order; afterwards calls succeed.</summary>
    public TestAdapter Then(Func<AdapterCall, Task<AdapterResult>> behaviour)
    {
        _script.Enqueue(behaviour);
        return this;
    }

    public TestAdapter ThenFail(string error = "HTTP 503 Service Unavailable", bool retryable = true) =>
        Then(c => Task.FromResult(AdapterResult.Fail(error, retryable, request: Describe(c))));

    public TestAdapter ThenCrash() => Then(_ => throw new InvalidOperationException("adapter bug"));

    public TestAdapter ThenStall(TaskCompletionSource release) => Then(async c =>
    {
        await release.Task.ConfigureAwait(false);
        return Succeed(c);
    });

    public Task<AdapterResult> ExecuteAsync(AdapterCall call, CancellationToken cancellationToken)
    {
        Calls.Enqueue(call);
        if (call.DryRun) // as HttpAdapter: described, nothing applied
            return Task.FromResult(AdapterResult.Ok(new JsonObject { ["simulated"] = true, ["adapter"] = Descriptor.Name, ["action"] = call.Action }, Describe(call)));
        if (_script.TryDequeue(out var behaviour)) return behaviour(call);
        return Task.FromResult(Succeed(call));
    }

    private AdapterResult Succeed(AdapterCall call)
    {
        var action = Descriptor.Find(call.Action);
        var target = call.Parameters.Select(p => p.Value?.ToString()).FirstOrDefault(v => !string.IsNullOrEmpty(v)) ?? "";
        if (action?.Kind == ActionKind.Reversible)
        {
            var inverse = action.Name.StartsWith("un", StringComparison.Ordinal);
            if (inverse) Applied.TryRemove(target, out _);
            else if (Applied.TryAdd(target, call.IdempotencyKey)) Effects.AddOrUpdate(call.IdempotencyKey, 1, (_, n) => n + 1);
        }
        return AdapterResult.Ok(new JsonObject { ["action"] = call.Action, ["target"] = target, ["malicious"] = 3 }, Describe(call));
    }
}
