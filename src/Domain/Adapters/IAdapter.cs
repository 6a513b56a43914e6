using System.Text.Json.Nodes;
using RunbookPilot.Domain.Core;

namespace RunbookPilot.Domain.Adapters;

/// <summary>The exact HTTP request an adapter sends (secrets redacted as ***): shown to approvers and stored in simulations.</summary>
public sealed record AdapterRequest(string Method, string Url, IReadOnlyDictionary<string, string> Headers, string? Body);

/// <summary>One call of an adapter action. The idempotency key is stable per execution and step (rbp-&lt;executionId&gt;-&lt;stepId&gt;).</summary>
public sealed record AdapterCall(string Action, JsonObject Parameters, string IdempotencyKey, bool DryRun = false);

/// <summary>What a call returned. A failure says whether a retry may help and, for 429, how long the vendor asked to wait.</summary>
public sealed record AdapterResult(bool Success, JsonNode? Output, string? Error, bool Retryable, TimeSpan? RetryAfter, AdapterRequest? Request)
{
    /// <summary>The engine refused the call before sending anything (a protected or invalid target): the step is refused, not failed.</summary>
    public bool Refused { get; init; }

    /// <summary>
    /// For a reversible action that succeeded: the parameters its inverse needs to undo exactly what this call did, as
    /// the vendor resolved them (the device id containment found by host name, the tag an IP was registered with). The
    /// engine records them with the step and a rollback uses them before the playbook's templates.
    /// </summary>
    public JsonObject? Undo { get; init; }

    public static AdapterResult Ok(JsonNode? output, AdapterRequest? request = null) => new(true, output, null, false, null, request);

    public static AdapterResult Refuse(string reason, AdapterRequest? request = null) => new(false, null, reason, false, null, request) { Refused = true };

    public static AdapterResult Fail(string error, bool retryable, TimeSpan? retryAfter = null, AdapterRequest? request = null) =>
        new(false, null, error, retryable, retryAfter, request);
}

/// <summary>
/// The adapter contract (PRD F5.1). An adapter performs its descriptor's actions against one vendor, describes the
/// exact request it would send (the approval UI and simulations show it), and checks its own health.
/// Calls with the same idempotency key must be safe to repeat (re-registering a blocked IP, re-containing a host).
/// </summary>
public interface IAdapter
{
    AdapterDescriptor Descriptor { get; }

    /// <summary>The request <see cref="ExecuteAsync"/> would send for this call, byte for byte, with secrets redacted.</summary>
    AdapterRequest Describe(AdapterCall call);

    Task<AdapterResult> ExecuteAsync(AdapterCall call, CancellationToken cancellationToken);
}

/// <summary>The result of a health check (PRD F5.5): reachable, HTTP status, authentication accepted, API version.</summary>
public sealed record AdapterHealth(string Adapter, string Url, bool Healthy, int? HttpStatus, bool? Authenticated, string ApiVersion, long LatencyMs, string? Error);

/// <summary>
/// What a target resolves to at the vendor: for a device id its host names, for a host name its device ids. (The
/// addresses a sensor reports are not used: a compromised host controls them and could refuse its own isolation.)
/// </summary>
public sealed record TargetLookup(IReadOnlyList<string> Found, string? Error = null, bool Retryable = false);

/// <summary>
/// An adapter (an EDR) that can tell which host a device id is and which device ids a host has, read-only. The engine
/// asks it before a state-changing call on a device id or a host, so the allow-list decides on the host the vendor
/// will act on.
/// </summary>
public interface ITargetResolver
{
    bool Resolves(TargetKind kind);

    Task<TargetLookup> ResolveAsync(TargetKind kind, string value, CancellationToken cancellationToken);
}

/// <summary>An adapter that can check its vendor without changing anything.</summary>
public interface IHealthCheck
{
    Task<AdapterHealth> CheckHealthAsync(CancellationToken cancellationToken);
}

/// <summary>The adapters available to executions, by name.</summary>
public sealed class AdapterRegistry
{
    private readonly Dictionary<string, IAdapter> _adapters;

    public AdapterRegistry(IEnumerable<IAdapter> adapters)
    {
        _adapters = adapters.ToDictionary(a => a.Descriptor.Name, StringComparer.Ordinal);
        var undeclared = _adapters.Values.SelectMany(a => a.Descriptor.Actions.Where(x => x.Undeclared.Count > 0)
            .Select(x => $"adapter {a.Descriptor.Name}, action {x.Name}: parameter(s) {string.Join(", ", x.Undeclared)} of a state-changing action are declared neither as targets nor as not targets (ActionDescriptor Targets / NotTargets); the allow-list could not see them")).ToList();
        if (undeclared.Count > 0) throw new Core.ConfigurationException(undeclared);
        Catalog = _adapters.Values.Aggregate(AdapterCatalog.BuiltIn, (c, a) => c.With(a.Descriptor));
    }

    public IAdapter? Find(string name) => _adapters.GetValueOrDefault(name);

    public IReadOnlyCollection<IAdapter> All => _adapters.Values;

    /// <summary>The catalogue the validator checks playbooks against: built-in descriptors plus every registered adapter's.</summary>
    public AdapterCatalog Catalog { get; }
}
