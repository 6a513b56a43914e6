using System.Text.Json.Nodes;
using RunbookPilot.Domain.Adapters;
using RunbookPilot.Engine.Adapters;
using RunbookPilot.Domain.Policy;
using RunbookPilot.Domain.Execution;

namespace RunbookPilot.Engine.Execution;

/// <summary>
/// The one place where the engine calls an adapter, so the safety controls hold whatever the adapter does (a plugin
/// that ignores the dry-run flag included):
/// <list type="number">
/// <item>targets are parsed into their canonical spelling and checked against the allow-list (<see cref="TargetGuard"/>)
/// on the exact parameters the adapter receives;</item>
/// <item>in dry-run nothing is called: the described request (exactly what would be sent) is the step's output;</item>
/// <item>a device id is resolved to its host names, and a host name to its device ids, through the EDR before a
/// state-changing call; the allow-list decides on what was found, and a target that cannot be resolved is refused;</item>
/// <item>only then is the adapter's <see cref="IAdapter.ExecuteAsync"/> called, with the canonical parameters.</item>
/// </list>
/// </summary>
public static class AdapterInvoker
{
    public static async Task<AdapterResult> InvokeAsync(IAdapter adapter, AdapterCall call, GlobalPolicy policy, AdapterRegistry registry, CancellationToken ct)
    {
        var action = adapter.Descriptor.Find(call.Action);
        var guard = TargetGuard.Check(action, call.Parameters, policy);
        var canonical = call with { Parameters = guard.Parameters };
        if (guard.Refusal is { } refusal) return AdapterResult.Refuse(refusal, adapter.Describe(canonical));
        if (call.DryRun)
        {
            var described = adapter.Describe(canonical);
            return AdapterResult.Ok(new JsonObject
            {
                ["simulated"] = true, ["dry_run"] = true, ["adapter"] = adapter.Descriptor.Name, ["action"] = call.Action,
                ["note"] = "dry run: this request was recorded, not sent",
                ["request"] = new JsonObject
                {
                    ["method"] = described.Method, ["url"] = described.Url,
                    ["headers"] = new JsonObject(described.Headers.Select(h => KeyValuePair.Create(h.Key, (JsonNode?)JsonValue.Create(h.Value)))),
                    ["body"] = described.Body,
                },
            }, described);
        }
        if (action!.Protects)
        {
            foreach (var target in guard.Targets.Where(t => t.Kind is TargetKind.DeviceId or TargetKind.Host && t.Address is null))
            {
                var resolver = adapter is ITargetResolver own && own.Resolves(target.Kind)
                    ? own
                    : registry.All.OfType<ITargetResolver>().FirstOrDefault(r => r.Resolves(target.Kind));
                if (resolver is null)
                {
                    if (target.Kind == TargetKind.Host) continue; // the host name itself was checked
                    return AdapterResult.Refuse($"device id {target.Text} cannot be resolved to a host name (no EDR adapter that resolves device ids is configured), so the allow-list cannot decide; {action.Name} refused before any call",
                        adapter.Describe(canonical));
                }
                var lookup = await resolver.ResolveAsync(target.Kind, target.Text, ct).ConfigureAwait(false);
                if (lookup.Error is { } error)
                    return lookup.Retryable
                        ? AdapterResult.Fail($"resolving {Targets.Name(target.Kind)} {target.Text} failed: {error}", retryable: true, request: adapter.Describe(canonical))
                        : AdapterResult.Refuse($"{Targets.Name(target.Kind)} {target.Text} cannot be resolved: {error}; {action.Name} refused before any call", adapter.Describe(canonical));
                if (lookup.Found.Count == 0)
                    return AdapterResult.Refuse(target.Kind == TargetKind.DeviceId
                        ? $"device id {target.Text} is unknown to the EDR, so the allow-list cannot decide; {action.Name} refused before any call"
                        : $"no device with host name {target.Text} at the EDR; {action.Name} refused before any call", adapter.Describe(canonical));
                if (target.Kind != TargetKind.DeviceId) continue;
                foreach (var host in lookup.Found)
                {
                    if (!Targets.TryParse(TargetKind.Host, host, out var resolved, out _))
                        return AdapterResult.Refuse($"device id {target.Text} resolves to '{host}', which is not a host name; {action.Name} refused before any call", adapter.Describe(canonical));
                    if (TargetGuard.Protected(resolved, policy) is { } why)
                        return AdapterResult.Refuse($"device id {target.Text} is host {resolved.Text}: {why}; {action.Name} refused before any call", adapter.Describe(canonical));
                }
            }
        }
        return await adapter.ExecuteAsync(canonical, ct).ConfigureAwait(false);
    }
}
