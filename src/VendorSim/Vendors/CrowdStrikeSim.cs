using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using static RunbookPilot.VendorSim.VendorSimulator;

namespace RunbookPilot.VendorSim;

/// <summary>CrowdStrike Falcon (<c>/crowdstrike/...</c>): OAuth2 client credentials, bearer tokens, host lookup and containment.</summary>
internal sealed class CrowdStrikeSim
{
    private readonly HashSet<string> _tokens = [];

    private CrowdStrikeSim(SimState state) => State = state;

    private SimState State { get; }

    public static void Map(WebApplication app, SimState state, HandleRequest handle)
    {
        var sim = new CrowdStrikeSim(state);
        app.Map("/crowdstrike/{**path}", (HttpContext c, string path) => handle(c, "crowdstrike", () => sim.CrowdStrike(c, path)));
    }

    private static JsonObject Envelope(JsonArray resources, JsonArray? errors = null) => new()
    {
        ["meta"] = new JsonObject { ["query_time"] = 0.004, ["powered_by"] = "device-api", ["trace_id"] = Guid.NewGuid().ToString() },
        ["resources"] = resources,
        ["errors"] = errors ?? [],
    };

    private async Task<IResult> CrowdStrike(HttpContext c, string path)
    {
        if (path == "oauth2/token")
        {
            var form = await c.Request.ReadFormAsync(c.RequestAborted).ConfigureAwait(false);
            if (form["client_id"] != Credentials["RBPILOT_SIM_FALCON_ID"] || form["client_secret"] != Credentials["RBPILOT_SIM_FALCON_SECRET"])
                return await Json(403, Envelope([], [new JsonObject { ["code"] = 403, ["message"] = "access denied, authorization failed" }])).ConfigureAwait(false);
            var token = "sim-" + Guid.NewGuid().ToString("N");
            lock (_tokens) _tokens.Add(token);
            c.Response.Headers["X-Cs-Region"] = "us-1";
            return await Json(201, new JsonObject { ["access_token"] = token, ["token_type"] = "bearer", ["expires_in"] = 1799 }).ConfigureAwait(false);
        }
        var bearer = c.Request.Headers.Authorization.ToString();
        bool known;
        lock (_tokens) known = bearer.StartsWith("Bearer ", StringComparison.Ordinal) && _tokens.Contains(bearer[7..]);
        if (!known) return await Json(401, Envelope([], [new JsonObject { ["code"] = 401, ["message"] = "access denied, invalid bearer token" }])).ConfigureAwait(false);

        if (path == "devices/queries/devices/v1")
        {
            var filter = c.Request.Query["filter"].ToString();
            const string prefix = "hostname:'";
            var hostname = filter.StartsWith(prefix, StringComparison.Ordinal) && filter.EndsWith('\'') ? filter[prefix.Length..^1].Replace("\\'", "'", StringComparison.Ordinal) : "";
            var ids = State.Devices.TryGetValue(hostname, out var device) ? new JsonArray(device.Id) : [];
            return await Json(200, Envelope(ids)).ConfigureAwait(false);
        }
        if (path == "devices/entities/devices/v2" && c.Request.Method == "GET")
        {
            var ids = c.Request.Query["ids"].Select(i => i ?? "").ToHashSet(StringComparer.Ordinal);
            var details = new JsonArray(State.Devices.Values.Where(d => ids.Contains(d.Id))
                .Select(d => (JsonNode)new JsonObject { ["device_id"] = d.Id, ["hostname"] = d.Hostname, ["status"] = d.Status }).ToArray());
            return await Json(details.Count == 0 ? 404 : 200, details.Count == 0
                ? Envelope([], [new JsonObject { ["code"] = 404, ["message"] = "no devices found for the given ids" }])
                : Envelope(details)).ConfigureAwait(false);
        }
        if (path == "devices/entities/devices-actions/v2")
        {
            var action = c.Request.Query["action_name"].ToString();
            var body = JsonNode.Parse(await new StreamReader(c.Request.Body).ReadToEndAsync(c.RequestAborted).ConfigureAwait(false));
            if (action is not ("contain" or "lift_containment") || body?["ids"] is not JsonArray ids || ids.Count == 0)
                return await Json(400, Envelope([], [new JsonObject { ["code"] = 400, ["message"] = "Provided data does not match expected 'Action Parameter' format" }])).ConfigureAwait(false);
            var resources = new JsonArray();
            foreach (var id in ids.Select(i => i?.ToString()))
            {
                var device = State.Devices.Values.FirstOrDefault(d => d.Id == id);
                if (device is null)
                    return await Json(404, Envelope([], [new JsonObject { ["code"] = 404, ["message"] = $"No matching device found for ID {id}" }])).ConfigureAwait(false);
                device.Status = action == "contain" ? "contained" : "normal";
                resources.Add(new JsonObject { ["id"] = device.Id, ["path"] = "" });
            }
            return await Json(202, Envelope(resources)).ConfigureAwait(false);
        }
        return await Json(404, Envelope([], [new JsonObject { ["code"] = 404, ["message"] = "route not found" }])).ConfigureAwait(false);
    }
}
