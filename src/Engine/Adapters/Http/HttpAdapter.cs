using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using RunbookPilot.Domain.Adapters;

namespace RunbookPilot.Engine.Adapters.Http;

/// <summary>A vendor's answer, read once.</summary>
public sealed record HttpAnswer(HttpStatusCode Status, string Body, HttpResponseMessage Response)
{
    public int Code => (int)Status;

    public JsonNode? Json()
    {
        try
        {
            return JsonNode.Parse(Body);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

/// <summary>
/// Base of the vendor adapters: builds <see cref="HttpCall"/>s (described and sent alike), sends them, and turns the
/// common failures into results — 401/403 not retryable, 429 retryable after Retry-After (or the vendor's header),
/// 5xx and broken connections retryable, a body that is not what the vendor sends retryable with a clear message.
/// Secret values never leave it: outputs and errors are redacted.
/// </summary>
public abstract class HttpAdapter(AdapterDescriptor descriptor, AdapterEndpoint endpoint) : IAdapter, IHealthCheck
{
    /// <summary>A read-only action and parameters that prove the vendor answers and accepts the credentials.</summary>
    protected abstract AdapterCall HealthProbe { get; }

    /// <summary>The API version this adapter speaks.</summary>
    /// <summary>The request that asks the vendor which version it runs (null: the vendor reports none).</summary>
    protected virtual HttpCall? VersionProbe => null;

    /// <summary>The version in the vendor's answer to <see cref="VersionProbe"/>, or null.</summary>
    protected virtual string? ParseVersion(string body) => null;

    public const string NotReported = "not reported";

    /// <summary>Whether the answer to <see cref="HealthProbe"/> shows the vendor reachable (default: 2xx, or 404 for a lookup of nothing).</summary>
    protected virtual bool ProbeHealthy(int status, string body) => status is >= 200 and < 300 || status == 404;

    /// <summary>Whether the answer to <see cref="HealthProbe"/> shows the credentials accepted (default: not 401 or 403); null when the probe cannot tell.</summary>
    protected virtual bool? ProbeAuthenticated(int status, string body) => status is not (401 or 403);

    /// <summary>What the vendor itself says it runs, or <see cref="NotReported"/>; never a string of our own.</summary>
    private async Task<string> ReportedVersionAsync(CancellationToken ct)
    {
        if (VersionProbe is not { } probe || probe.Problem() is not null) return NotReported;
        try
        {
            using var message = probe.ToMessage();
            using var response = await Endpoint.Http.SendAsync(message, ct).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode) return NotReported;
            var version = ParseVersion(await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false));
            return string.IsNullOrWhiteSpace(version) ? NotReported : version.Trim();
        }
        catch (Exception ex) when (ex is HttpRequestException or System.Text.Json.JsonException or System.Xml.XmlException or InvalidOperationException)
        {
            return NotReported;
        }
    }

    public async Task<AdapterHealth> CheckHealthAsync(CancellationToken cancellationToken)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var missing = Endpoint.MissingVariables.Count > 0 ? $"environment variable(s) not set: {string.Join(", ", Endpoint.MissingVariables)}" : null;
        try
        {
            var http = Build(HealthProbe);
            if (http.Problem() is { } problem)
                return new AdapterHealth(Descriptor.Name, Endpoint.BaseUrl, false, null, null, NotReported, 0, Endpoint.Redact("request refused before sending: " + problem));
            using var message = http.ToMessage();
            using var response = await Endpoint.Http.SendAsync(message, cancellationToken).ConfigureAwait(false);
            var code = (int)response.StatusCode;
            var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            var authenticated = ProbeAuthenticated(code, body);
            var healthy = ProbeHealthy(code, body);
            var error = missing ?? (healthy ? null : $"HTTP {code}");
            var version = healthy && authenticated != false ? await ReportedVersionAsync(cancellationToken).ConfigureAwait(false) : NotReported;
            return new AdapterHealth(Descriptor.Name, Endpoint.BaseUrl, healthy && missing is null, code, authenticated, version,
                (long)System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds, error);
        }
        catch (HttpRequestException ex)
        {
            return new AdapterHealth(Descriptor.Name, Endpoint.BaseUrl, false, null, null, NotReported,
                (long)System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds, Endpoint.Redact("unreachable: " + ex.Message));
        }
    }

    public AdapterDescriptor Descriptor { get; } = descriptor;
    protected AdapterEndpoint Endpoint { get; } = endpoint;

    /// <summary>The state-changing (or, for lookups, the only) request of an action.</summary>
    protected abstract HttpCall Build(AdapterCall call);

    public AdapterRequest Describe(AdapterCall call) => Build(call).Describe(Endpoint.Redact);

    /// <summary>
    /// Performs the call; a dry-run call (PRD F5.4) is only described: the request is logged in the result, nothing is
    /// sent, and the result says it was simulated.
    /// </summary>
    public async Task<AdapterResult> ExecuteAsync(AdapterCall call, CancellationToken cancellationToken)
    {
        if (call.DryRun) return AdapterResult.Ok(new JsonObject { ["simulated"] = true, ["adapter"] = Descriptor.Name, ["action"] = call.Action }, Describe(call));
        try
        {
            return await RunAsync(call, cancellationToken).ConfigureAwait(false);
        }
        catch (UnsafeRequestException ex)
        {
            return AdapterResult.Fail($"{Descriptor.Name}: request refused before sending: {Endpoint.Redact(ex.Message)}", retryable: false, request: Describe(call));
        }
    }

    /// <summary>The real call (never reached in dry-run).</summary>
    protected abstract Task<AdapterResult> RunAsync(AdapterCall call, CancellationToken cancellationToken);

    protected async Task<HttpAnswer> SendAsync(HttpCall call, CancellationToken ct)
    {
        using var message = call.ToMessage();
        var response = await Endpoint.Http.SendAsync(message, ct).ConfigureAwait(false);
        var body = await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
        return new HttpAnswer(response.StatusCode, body, response);
    }

    /// <summary>The failure result for a non-success answer, or null when the answer is a success.</summary>
    protected AdapterResult? Failure(HttpAnswer answer, AdapterRequest request)
    {
        var code = answer.Code;
        if (code is >= 200 and < 300) return null;
        var detail = Endpoint.Redact(VendorMessage(answer));
        return code switch
        {
            401 or 403 => AdapterResult.Fail($"{Descriptor.Name}: authentication refused (HTTP {code}): {detail}", retryable: false, request: request),
            429 => AdapterResult.Fail($"{Descriptor.Name}: rate limited (HTTP 429): {detail}", retryable: true, RetryAfter(answer.Response), request),
            >= 500 => AdapterResult.Fail($"{Descriptor.Name}: server error (HTTP {code}): {detail}", retryable: true, request: request),
            _ => AdapterResult.Fail($"{Descriptor.Name}: request refused (HTTP {code}): {detail}", retryable: false, request: request),
        };
    }

    protected AdapterResult Malformed(HttpAnswer answer, AdapterRequest request) =>
        AdapterResult.Fail($"{Descriptor.Name}: malformed response (HTTP {answer.Code}, {answer.Body.Length} bytes): not the vendor's documented format", retryable: true, request: request);

    protected AdapterResult Ok(JsonNode? output, AdapterRequest request) => AdapterResult.Ok(Endpoint.Redact(output), request);

    /// <summary>Retry-After (seconds or HTTP date), X-RateLimit-RetryAfter (epoch seconds), or X-RateLimit-Reset (epoch seconds).</summary>
    public static TimeSpan? RetryAfter(HttpResponseMessage response)
    {
        if (response.Headers.RetryAfter is { } ra)
        {
            if (ra.Delta is { } delta) return delta;
            if (ra.Date is { } date) return date - DateTimeOffset.UtcNow;
        }
        foreach (var header in new[] { "X-RateLimit-RetryAfter", "X-RateLimit-Reset" })
        {
            if (response.Headers.TryGetValues(header, out var values)
                && long.TryParse(values.FirstOrDefault(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var epoch))
                return DateTimeOffset.FromUnixTimeSeconds(epoch) - DateTimeOffset.UtcNow;
        }
        return null;
    }

    private static string VendorMessage(HttpAnswer answer)
    {
        static JsonNode? First(JsonNode? node) => node is JsonArray { Count: > 0 } a ? a[0] : null;
        var json = answer.Json() as JsonObject;
        var message = (json?["error"] as JsonObject)?["message"]
            ?? (First(json?["errors"]) as JsonObject)?["message"] ?? (First(json?["errors"]) as JsonObject)?["detail"]
            ?? First(json?["errorMessages"])
            ?? (json?["errors"] as JsonObject)?.FirstOrDefault().Value
            ?? (First(json?["messages"]) as JsonObject)?["text"]
            ?? json?["message"];
        if (message is not null) return message.ToString();
        var text = answer.Body.Trim();
        return text.Length > 200 ? text[..200] + "…" : text;
    }

    protected static string Q(string value) => Uri.EscapeDataString(value);

    protected static string Text(AdapterCall call, string name) => call.Parameters[name]?.ToString() ?? "";
}
