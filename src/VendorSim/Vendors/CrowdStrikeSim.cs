using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using static RunbookPilot.VendorSim.VendorSimulator;

namespace RunbookPilot.VendorSim;

/// <summary>
/// CrowdStrike Falcon (<c>/crowdstrike/...</c>): OAuth2 client credentials, bearer tokens, host lookup and containment,
/// and Real Time Response: sessions (<c>POST /real-time-response/entities/sessions/v1</c>, 201) and the admin command
/// <c>kill &lt;pid&gt;</c> (<c>POST /real-time-response/entities/admin-command/v1</c>, 201 with a <c>cloud_request_id</c>;
/// <c>GET</c> the same path for its status: incomplete once, then complete with stdout or stderr). A kill ends the
/// process in the device's process list (<c>/_admin/state</c>, <c>crowdstrike.processes</c>).
/// </summary>
internal sealed class CrowdStrikeSim
{
    private readonly HashSet<string> _tokens = [];

    /// <summary>RTR session id → device id.</summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, string> _sessions = new(StringComparer.Ordinal);

    /// <summary>RTR cloud request id → the command's outcome and how many status reads remain before it is complete.</summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, RtrCommand> _commands = new(StringComparer.Ordinal);

    private sealed record RtrCommand(string SessionId, string Stdout, string Stderr)
    {
        public int PendingReads { get; set; } = 1;
    }

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
        if (path == "real-time-response/entities/sessions/v1" && c.Request.Method == "POST")
            return await InitSession(c).ConfigureAwait(false);
        if (path == "real-time-response/entities/admin-command/v1" && c.Request.Method == "POST")
            return await AdminCommand(c).ConfigureAwait(false);
        if (path == "real-time-response/entities/admin-command/v1" && c.Request.Method == "GET")
            return await CommandStatus(c.Request.Query["cloud_request_id"].ToString()).ConfigureAwait(false);
        return await Json(404, Envelope([], [new JsonObject { ["code"] = 404, ["message"] = "route not found" }])).ConfigureAwait(false);
    }

    private static Task<IResult> RtrError(int code, string message) => Json(code, Envelope([], [new JsonObject { ["code"] = code, ["message"] = message }]));

    private static async Task<JsonObject?> Body(HttpContext c)
    {
        try
        {
            return JsonNode.Parse(await new StreamReader(c.Request.Body).ReadToEndAsync(c.RequestAborted).ConfigureAwait(false)) as JsonObject;
        }
        catch (System.Text.Json.JsonException)
        {
            return null;
        }
    }

    /// <summary>One session per call (the real API reuses the host's session; the id is all an adapter needs).</summary>
    private async Task<IResult> InitSession(HttpContext c)
    {
        var deviceId = (await Body(c).ConfigureAwait(false))?["device_id"]?.ToString() ?? "";
        if (deviceId.Length == 0)
            return await RtrError(400, "Invalid number of hosts in request: 0. Must be an integer greater than 0 and less than or equal to 10000").ConfigureAwait(false);
        if (!State.Devices.Values.Any(d => d.Id == deviceId))
            return await RtrError(404, "no successful hosts initialized on RTR").ConfigureAwait(false);
        var session = Guid.NewGuid().ToString();
        _sessions[session] = deviceId;
        return await Json(201, Envelope([new JsonObject
        {
            ["session_id"] = session, ["scripts"] = new JsonArray(), ["existing_aid_sessions"] = 1,
            ["created_at"] = DateTimeOffset.UtcNow.ToString("O", System.Globalization.CultureInfo.InvariantCulture), ["pwd"] = "C:\\", ["offline_queued"] = false,
        }])).ConfigureAwait(false);
    }

    /// <summary>The admin command <c>kill &lt;pid&gt;</c> (the only one simulated): ends the process, or reports on stderr that there is none.</summary>
    private async Task<IResult> AdminCommand(HttpContext c)
    {
        var body = await Body(c).ConfigureAwait(false);
        var session = body?["session_id"]?.ToString() ?? "";
        if (!_sessions.TryGetValue(session, out var deviceId))
            return await RtrError(404, $"session {session} not found").ConfigureAwait(false);
        if (body?["device_id"]?.ToString() is { Length: > 0 } named && named != deviceId)
            return await RtrError(400, "device_id does not match the session's device").ConfigureAwait(false);
        var command = body?["command_string"]?.ToString() ?? "";
        if (body?["base_command"]?.ToString() != "kill" || !command.StartsWith("kill ", StringComparison.Ordinal)
            || !int.TryParse(command.AsSpan(5), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var pid))
            return await RtrError(400, "the simulator runs only 'kill <pid>' (base_command kill)").ConfigureAwait(false);
        var device = State.Devices.Values.First(d => d.Id == deviceId);
        var outcome = device.Processes.TryRemove(pid, out var image)
            ? new RtrCommand(session, $"Process {pid} ({image}) killed", "")
            : new RtrCommand(session, "", $"Could not find a process with PID {pid}");
        var cloudRequest = Guid.NewGuid().ToString();
        _commands[cloudRequest] = outcome;
        return await Json(201, Envelope([new JsonObject { ["session_id"] = session, ["cloud_request_id"] = cloudRequest, ["queued_command_offline"] = false }])).ConfigureAwait(false);
    }

    private async Task<IResult> CommandStatus(string cloudRequest)
    {
        if (!_commands.TryGetValue(cloudRequest, out var command))
            return await RtrError(404, $"cloud request {cloudRequest} not found").ConfigureAwait(false);
        var complete = command.PendingReads <= 0;
        command.PendingReads--;
        return await Json(200, Envelope([new JsonObject
        {
            ["session_id"] = command.SessionId, ["task_id"] = cloudRequest, ["complete"] = complete, ["base_command"] = "kill",
            ["stdout"] = complete ? command.Stdout : "", ["stderr"] = complete ? command.Stderr : "",
        }])).ConfigureAwait(false);
    }
}
