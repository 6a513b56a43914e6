using System.Text.Json;
using System.Text.Json.Nodes;
using RunbookPilot.Engine.Adapters.Http;
using RunbookPilot.Domain.Adapters;

namespace RunbookPilot.Engine.Adapters.Vendors;

/// <summary>
/// PagerDuty Events API v2 (PRD I5.3): one endpoint, <c>POST {base}/v2/enqueue</c> (base https://events.pagerduty.com),
/// with a JSON event <c>{routing_key, event_action, dedup_key, payload}</c>. The integration's routing key (credential
/// <c>routing_key</c>) travels in the body and is redacted like every secret. Trigger, acknowledge and resolve name the
/// alert by its dedup key; a trigger's dedup key defaults to the call's idempotency key, so a retried trigger lands on
/// the alert it opened instead of paging twice, and the key is what its resolve needs (<see cref="AdapterResult.Undo"/>).
/// 202 <c>{status: "success", message, dedup_key}</c> is success; 400 "invalid event" fails at once with the vendor's
/// <c>errors</c>; 429 (after Retry-After) and 5xx are retried.
/// </summary>
public sealed class PagerDutyAdapter(AdapterEndpoint endpoint) : HttpAdapter(AdapterCatalog.BuiltIn.Find("pagerduty")!, endpoint)
{
    /// <summary>The severities the Events API accepts in <c>payload.severity</c>.</summary>
    public static readonly IReadOnlySet<string> Severities = new HashSet<string>(StringComparer.Ordinal) { "critical", "error", "warning", "info" };

    /// <summary><c>payload.source</c> is required by the Events API; a trigger that names none is sent with this one.</summary>
    public const string DefaultSource = "runbookpilot";

    /// <summary>
    /// The health probe posts an empty event object (no routing key, no action) to <c>/v2/enqueue</c>. The Events API
    /// has no call that checks a routing key without sending an event, and any valid event with the real key would reach
    /// the service (a trigger pages someone). PagerDuty refuses the empty object with 400 "invalid event", which proves
    /// the endpoint is reachable and is the Events API, and nothing is created. What it cannot prove is that the routing
    /// key is accepted: the health check reports authentication as not checked (null, shown as "-"), and the version as
    /// "not reported" (the API reports none; there is no <see cref="HttpAdapter.VersionProbe"/>). A missing routing key
    /// variable still makes the check unhealthy.
    /// </summary>
    protected override AdapterCall HealthProbe => new("health", [], "health");

    /// <summary>Reachable when the Events API itself refused the empty probe event (400 with status "invalid event").</summary>
    protected override bool ProbeHealthy(int status, string body) => status == 400 && Envelope(body)?["status"]?.ToString() == "invalid event";

    /// <summary>The probe sends no routing key, so it cannot tell whether the key is accepted.</summary>
    protected override bool? ProbeAuthenticated(int status, string body) => null;

    private static JsonObject? Envelope(string body)
    {
        try
        {
            return JsonNode.Parse(body) as JsonObject;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string EventAction(string action) => action switch
    {
        "trigger_incident" => "trigger",
        "acknowledge_incident" => "acknowledge",
        _ => "resolve",
    };

    /// <summary>A parameter's text, or null when it is absent or empty.</summary>
    private static string? Optional(AdapterCall call, string name) => call.Parameters[name] is { } value && value.ToString() is { Length: > 0 } text ? text : null;

    /// <summary>The dedup key: the parameter, or for a trigger without one the call's idempotency key (a retry re-triggers the same alert).</summary>
    private static string DedupKey(AdapterCall call) =>
        Optional(call, "dedup_key") ?? (call.Action == "trigger_incident" ? call.IdempotencyKey : "");

    private HttpCall Enqueue(JsonObject body) =>
        new(HttpMethod.Post, $"{Endpoint.BaseUrl}/v2/enqueue", [("Accept", "application/json", false)], body.ToJsonString(), "application/json");

    protected override HttpCall Build(AdapterCall call)
    {
        if (call.Action == "health") return Enqueue(new JsonObject());
        var body = new JsonObject
        {
            ["routing_key"] = Endpoint.Secret("routing_key") ?? "",
            ["event_action"] = EventAction(call.Action),
            ["dedup_key"] = DedupKey(call),
        };
        if (call.Action == "trigger_incident")
        {
            var payload = new JsonObject
            {
                ["summary"] = Text(call, "summary"),
                ["source"] = Optional(call, "source") ?? DefaultSource,
                ["severity"] = Text(call, "severity"),
            };
            if (Optional(call, "component") is { } component) payload["component"] = component;
            if (Optional(call, "group") is { } group) payload["group"] = group;
            if (Optional(call, "class") is { } eventClass) payload["class"] = eventClass;
            // custom_details is an object at PagerDuty; a plain value (a rendered template) is sent as {"details": value}.
            if (call.Parameters["custom_details"] is { } details)
                payload["custom_details"] = details is JsonObject ? details.DeepClone() : new JsonObject { ["details"] = details.DeepClone() };
            body["payload"] = payload;
        }
        return Enqueue(body);
    }

    /// <summary>Why this call must not be sent (checked before anything goes out), or null.</summary>
    private static string? Problem(AdapterCall call)
    {
        if (call.Action == "trigger_incident")
        {
            if (Optional(call, "summary") is null) return "trigger_incident needs a summary";
            if (!Severities.Contains(Text(call, "severity")))
                return $"severity '{Text(call, "severity")}' is not one PagerDuty accepts (critical, error, warning or info)";
        }
        else if (Optional(call, "dedup_key") is null) return $"{call.Action} needs the dedup_key of the alert";
        return DedupKey(call).Length > 255 ? "dedup_key is longer than the 255 characters PagerDuty accepts" : null;
    }

    protected override async Task<AdapterResult> RunAsync(AdapterCall call, CancellationToken cancellationToken)
    {
        var http = Build(call);
        var request = http.Describe(Endpoint.Redact);
        if (Problem(call) is { } problem) return AdapterResult.Fail($"pagerduty: {problem}; refused before any call", retryable: false, request: request);
        var answer = await SendAsync(http, cancellationToken).ConfigureAwait(false);
        if (answer.Code == 400)
            return AdapterResult.Fail($"pagerduty: event refused (HTTP 400): {Endpoint.Redact(Refusal(answer))}", retryable: false, request: request);
        if (Failure(answer, request) is { } failure) return failure;
        if (answer.Json() is not JsonObject json || json["status"]?.ToString() != "success" || json["dedup_key"]?.ToString() is not { Length: > 0 } dedup)
            return Malformed(answer, request);
        var result = Ok(new JsonObject
        {
            ["dedup_key"] = dedup,
            ["event_action"] = EventAction(call.Action),
            ["status"] = "success",
            ["message"] = json["message"]?.ToString(),
        }, request);
        // The resolve must name exactly the alert this trigger opened: the key we sent, which PagerDuty must echo.
        if (!string.Equals(dedup, DedupKey(call), StringComparison.Ordinal))
            return AdapterResult.Fail($"pagerduty: answered with dedup_key '{dedup}' for '{DedupKey(call)}'", retryable: false, request: request);
        return call.Action == "trigger_incident" ? result with { Undo = new JsonObject { ["dedup_key"] = DedupKey(call) } } : result;
    }

    /// <summary>PagerDuty's 400: <c>{"status":"invalid event","message":"Event object is invalid","errors":["..."]}</c>, as one line.</summary>
    private static string Refusal(HttpAnswer answer)
    {
        if (answer.Json() is not JsonObject json)
        {
            var text = answer.Body.Trim();
            return text.Length > 200 ? text[..200] + "…" : text;
        }
        var message = json["message"]?.ToString() ?? "invalid event";
        List<string> errors = json["errors"] switch
        {
            JsonArray list => list.Select(e => e?.ToString()).OfType<string>().ToList(),
            JsonValue one => [one.ToString()],
            _ => [],
        };
        return errors.Count == 0 ? message : $"{message}: {string.Join("; ", errors)}";
    }
}
