using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using static RunbookPilot.VendorSim.VendorSimulator;

namespace RunbookPilot.VendorSim;

/// <summary>
/// PagerDuty Events API v2 (<c>POST /pagerduty/v2/enqueue</c>): the routing key in the JSON body, trigger / acknowledge /
/// resolve by dedup key, 202 <c>{"status":"success","message":"Event processed","dedup_key":...}</c>, and 400
/// <c>{"status":"invalid event","message":"Event object is invalid","errors":[...]}</c> for an event it refuses (the
/// shape PagerDuty documents and its clients parse; the exact <c>errors</c> texts other than the routing-key length are
/// the simulator's own). A trigger without a dedup key gets a new one; acknowledge and resolve of no open alert are
/// accepted and dropped, as PagerDuty does. The alerts are in <c>/_admin/state</c> (<c>pagerduty</c>).
/// </summary>
internal sealed class PagerDutySim
{
    private static readonly HashSet<string> Actions = new(StringComparer.Ordinal) { "trigger", "acknowledge", "resolve" };
    private static readonly HashSet<string> Severities = new(StringComparer.Ordinal) { "critical", "error", "warning", "info" };

    private PagerDutySim(SimState state) => State = state;

    private SimState State { get; }

    public static void Map(WebApplication app, SimState state, HandleRequest handle)
    {
        var sim = new PagerDutySim(state);
        app.Map("/pagerduty/{**path}", (HttpContext c, string path) => handle(c, "pagerduty", () => sim.Events(c, path)));
    }

    private static Task<IResult> Invalid(params string[] errors) =>
        Json(400, new JsonObject
        {
            ["status"] = "invalid event", ["message"] = "Event object is invalid", ["errors"] = new JsonArray(errors.Select(e => (JsonNode)e).ToArray()),
        });

    private async Task<IResult> Events(HttpContext c, string path)
    {
        if (path != "v2/enqueue" || c.Request.Method != "POST")
            return await Json(404, new JsonObject { ["status"] = "not found", ["message"] = "Not Found" }).ConfigureAwait(false);
        JsonObject? body;
        try
        {
            body = JsonNode.Parse(await new StreamReader(c.Request.Body).ReadToEndAsync(c.RequestAborted).ConfigureAwait(false)) as JsonObject;
        }
        catch (System.Text.Json.JsonException)
        {
            body = null;
        }
        if (body is null) return await Invalid("Event object is not valid JSON").ConfigureAwait(false);

        var routingKey = body["routing_key"]?.ToString() ?? "";
        if (routingKey.Length != 32) return await Invalid("Length of 'routing_key' is incorrect (should be 32 characters)").ConfigureAwait(false);
        if (routingKey != Credentials["RBPILOT_SIM_PAGERDUTY_KEY"]) return await Invalid("Invalid routing key").ConfigureAwait(false);
        var action = body["event_action"]?.ToString() ?? "";
        if (!Actions.Contains(action)) return await Invalid("'event_action' is invalid (must be one of: trigger, acknowledge, resolve)").ConfigureAwait(false);
        var dedupKey = body["dedup_key"]?.ToString() ?? "";
        if (dedupKey.Length > 255) return await Invalid("'dedup_key' is longer than 255 characters").ConfigureAwait(false);

        JsonObject? payload = null;
        if (action == "trigger")
        {
            payload = body["payload"] as JsonObject;
            var errors = new List<string>();
            if (payload?["summary"]?.ToString() is not { Length: > 0 }) errors.Add("'payload.summary' is missing or blank");
            if (payload?["source"]?.ToString() is not { Length: > 0 }) errors.Add("'payload.source' is missing or blank");
            if (!Severities.Contains(payload?["severity"]?.ToString() ?? "")) errors.Add("'payload.severity' is invalid (must be one of: critical, error, warning, info)");
            if (errors.Count > 0) return await Invalid(errors.ToArray()).ConfigureAwait(false);
            if (dedupKey.Length == 0) dedupKey = Guid.NewGuid().ToString("N"); // PagerDuty makes one and returns it
        }
        else if (dedupKey.Length == 0) return await Invalid("'dedup_key' is required for acknowledge and resolve events").ConfigureAwait(false);

        State.PagerDuty.Apply(action, dedupKey, (JsonObject?)payload?.DeepClone());
        return await Json(202, new JsonObject { ["status"] = "success", ["message"] = "Event processed", ["dedup_key"] = dedupKey }).ConfigureAwait(false);
    }
}
