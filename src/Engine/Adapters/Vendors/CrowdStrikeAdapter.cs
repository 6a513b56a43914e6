using System.Globalization;
using System.Text.Json.Nodes;
using RunbookPilot.Engine.Adapters.Http;
using RunbookPilot.Domain.Adapters;

namespace RunbookPilot.Engine.Adapters.Vendors;

/// <summary>
/// CrowdStrike Falcon: OAuth2 client credentials with a cached token renewed before it expires (and
/// once more on a 401), hostname → device id through FQL, then contain / lift containment (202 Accepted).
/// Process kill (PRD I3.1) goes through Real Time Response: open a session on the device
/// (<c>POST /real-time-response/entities/sessions/v1</c>), send the admin command <c>kill &lt;pid&gt;</c>
/// (<c>POST /real-time-response/entities/admin-command/v1</c>), then read the command's status by its
/// <c>cloud_request_id</c> until it is complete (<c>options.poll_interval_ms</c> between reads, default 1000); a
/// complete command with <c>stderr</c> is a failure. The pid is checked to be a whole number before any call, since
/// it becomes part of the command string.
/// </summary>
public sealed class CrowdStrikeAdapter(AdapterEndpoint endpoint, TimeProvider time) : HttpAdapter(AdapterCatalog.BuiltIn.Find("crowdstrike")!, endpoint), IDisposable, ITargetResolver
{
    private readonly SemaphoreSlim _tokenGate = new(1, 1);
    private (string Token, DateTimeOffset Expires)? _token;

    private static string ActionName(AdapterCall call) => call.Action == "isolate_host" ? "contain" : "lift_containment";

    protected override AdapterCall HealthProbe => new("health", [], "health");


    protected override HttpCall Build(AdapterCall call)
    {
        if (call.Action == "health") return TokenCall();
        if (call.Action == "find_device") return DeviceQuery(Text(call, "hostname"), _token?.Token ?? "");
        var device = call.Parameters["device_id"]?.ToString() is { Length: > 0 } id ? id : $"<device id of host {Text(call, "hostname")}>";
        if (call.Action == "kill_process") return KillCall(device, "<RTR session id>", Pid(call)?.ToString(CultureInfo.InvariantCulture) ?? Text(call, "pid"), _token?.Token ?? "");
        return ActionCall(call, device, _token?.Token ?? "");
    }

    /// <summary>The pid as a positive whole number, or null (then nothing is sent: it would become part of an RTR command line).</summary>
    private static long? Pid(AdapterCall call) =>
        long.TryParse(Text(call, "pid"), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) && pid > 0 ? pid : null;

    private static IReadOnlyList<(string, string, bool)> Bearer(string token) => [("Authorization", "Bearer " + token, true), ("Accept", "application/json", false)];

    private HttpCall SessionCall(string deviceId, string token) =>
        new(HttpMethod.Post, $"{Endpoint.BaseUrl}/real-time-response/entities/sessions/v1", Bearer(token),
            new JsonObject { ["device_id"] = deviceId, ["queue_offline"] = false }.ToJsonString(), "application/json");

    private HttpCall KillCall(string deviceId, string sessionId, string pid, string token) =>
        new(HttpMethod.Post, $"{Endpoint.BaseUrl}/real-time-response/entities/admin-command/v1", Bearer(token),
            new JsonObject
            {
                ["base_command"] = "kill", ["command_string"] = "kill " + pid, ["session_id"] = sessionId, ["device_id"] = deviceId, ["persist"] = false,
            }.ToJsonString(), "application/json");

    private HttpCall CommandStatusCall(string cloudRequestId, string token) =>
        new(HttpMethod.Get, $"{Endpoint.BaseUrl}/real-time-response/entities/admin-command/v1?cloud_request_id={Q(cloudRequestId)}&sequence_id=0", Bearer(token), null, null);

    /// <summary>
    /// RTR kill: device id (looked up by host name when not given), session, admin command, then its status until complete.
    /// Not undoable; the engine has already checked the host against the allow-list (device ids resolved through the EDR).
    /// </summary>
    private async Task<AdapterResult> KillAsync(AdapterCall call, CancellationToken ct)
    {
        var described = Describe(call);
        var hostname = Text(call, "hostname");
        var device = Text(call, "device_id");
        if (device.Length == 0 && hostname.Length == 0)
            return AdapterResult.Fail("crowdstrike: kill_process needs hostname or device_id (neither was given); refused before any call", retryable: false, request: described);
        if (Pid(call) is not { } pid)
            return AdapterResult.Fail($"crowdstrike: pid '{Text(call, "pid")}' is not a process id (a positive whole number); refused before any call", retryable: false, request: described);
        for (var attempt = 0; attempt < 2; attempt++)
        {
            var token = await TokenAsync(renew: attempt > 0, ct).ConfigureAwait(false);
            if (token.Failure is { } tokenFailure) return tokenFailure with { Request = described };
            if (device.Length == 0)
            {
                var query = DeviceQuery(hostname, token.Value!);
                var found = await SendAsync(query, ct).ConfigureAwait(false);
                if (found.Code == 401 && attempt == 0) continue;
                if (Failure(found, query.Describe(Endpoint.Redact)) is { } f) return f;
                if (found.Json()?["resources"] is not JsonArray ids) return Malformed(found, query.Describe(Endpoint.Redact));
                if (ids.Count == 0) return AdapterResult.Fail($"crowdstrike: no device with hostname '{hostname}'", retryable: false, request: described);
                device = ids[0]!.ToString();
            }

            var init = SessionCall(device, token.Value!);
            var opened = await SendAsync(init, ct).ConfigureAwait(false);
            if (opened.Code == 401 && attempt == 0) continue;
            if (Failure(opened, init.Describe(Endpoint.Redact)) is { } sessionFailure) return sessionFailure;
            if (First(opened)?["session_id"]?.ToString() is not { Length: > 0 } session) return Malformed(opened, init.Describe(Endpoint.Redact));

            var kill = KillCall(device, session, pid.ToString(CultureInfo.InvariantCulture), token.Value!);
            var request = kill.Describe(Endpoint.Redact);
            var sent = await SendAsync(kill, ct).ConfigureAwait(false);
            if (sent.Code == 401 && attempt == 0) continue;
            if (Failure(sent, request) is { } killFailure) return killFailure;
            if (First(sent)?["cloud_request_id"]?.ToString() is not { Length: > 0 } cloudRequest) return Malformed(sent, request);

            var interval = TimeSpan.FromMilliseconds(double.TryParse(Endpoint.Settings.Options.GetValueOrDefault("poll_interval_ms")?.ToString(), CultureInfo.InvariantCulture, out var ms) ? ms : 1000);
            while (true)
            {
                var status = CommandStatusCall(cloudRequest, token.Value!);
                var answer = await SendAsync(status, ct).ConfigureAwait(false);
                if (Failure(answer, status.Describe(Endpoint.Redact)) is { } statusFailure) return statusFailure;
                if (First(answer) is not { } result) return Malformed(answer, status.Describe(Endpoint.Redact));
                if (result["complete"] is JsonValue complete && complete.TryGetValue<bool>(out var done) && done)
                {
                    var stderr = result["stderr"]?.ToString() ?? "";
                    if (stderr.Length > 0)
                        return AdapterResult.Fail($"crowdstrike: kill {pid} on device {device} failed: {Endpoint.Redact(stderr)}", retryable: false, request: request);
                    return Ok(new JsonObject
                    {
                        ["device_id"] = device, ["hostname"] = hostname.Length > 0 ? hostname : null, ["pid"] = pid, ["killed"] = true,
                        ["session_id"] = session, ["cloud_request_id"] = cloudRequest, ["stdout"] = result["stdout"]?.ToString() ?? "",
                    }, request);
                }
                await Task.Delay(interval, ct).ConfigureAwait(false);
            }
        }
        return AdapterResult.Fail("crowdstrike: access denied after renewing the token", retryable: false, request: described);
    }

    /// <summary>The first entry of a Falcon envelope's <c>resources</c>, or null.</summary>
    private static JsonObject? First(HttpAnswer answer) => answer.Json()?["resources"] is JsonArray { Count: > 0 } resources ? resources[0] as JsonObject : null;

    private HttpCall ActionCall(AdapterCall call, string deviceId, string token) =>
        new(HttpMethod.Post, $"{Endpoint.BaseUrl}/devices/entities/devices-actions/v2?action_name={ActionName(call)}",
            [("Authorization", "Bearer " + token, true), ("Accept", "application/json", false)],
            new JsonObject { ["ids"] = new JsonArray(deviceId) }.ToJsonString(), "application/json");

    protected override async Task<AdapterResult> RunAsync(AdapterCall call, CancellationToken cancellationToken)
    {
        if (call.Action == "kill_process") return await KillAsync(call, cancellationToken).ConfigureAwait(false);
        var described = Describe(call);
        for (var attempt = 0; attempt < 2; attempt++)
        {
            var token = await TokenAsync(renew: attempt > 0, cancellationToken).ConfigureAwait(false);
            if (token.Failure is { } tokenFailure) return tokenFailure with { Request = described };

            var device = call.Parameters["device_id"]?.ToString();
            if (string.IsNullOrEmpty(device))
            {
                var query = DeviceQuery(Text(call, "hostname"), token.Value!);
                var found = await SendAsync(query, cancellationToken).ConfigureAwait(false);
                if (found.Code == 401 && attempt == 0) continue;
                if (Failure(found, query.Describe(Endpoint.Redact)) is { } f) return f;
                if (found.Json()?["resources"] is not JsonArray ids) return Malformed(found, query.Describe(Endpoint.Redact));
                if (call.Action == "find_device")
                    return Ok(new JsonObject { ["hostname"] = Text(call, "hostname"), ["device_id"] = ids.Count > 0 ? ids[0]!.ToString() : null, ["found"] = ids.Count > 0 }, query.Describe(Endpoint.Redact));
                if (ids.Count == 0) return AdapterResult.Fail($"crowdstrike: no device with hostname '{Text(call, "hostname")}'", retryable: false, request: described);
                device = ids[0]!.ToString();
            }

            var http = ActionCall(call, device, token.Value!);
            var request = http.Describe(Endpoint.Redact);
            var answer = await SendAsync(http, cancellationToken).ConfigureAwait(false);
            if (answer.Code == 401 && attempt == 0) continue; // token revoked or expired early: renew once
            if (Failure(answer, request) is { } failure) return failure;
            if (answer.Json()?["resources"] is not JsonArray) return Malformed(answer, request);
            return Ok(new JsonObject { ["device_id"] = device, ["action"] = ActionName(call), ["accepted"] = answer.Code == 202 }, request) with
            {
                Undo = call.Action == "isolate_host" ? new JsonObject { ["device_id"] = device } : null, // lift exactly the device contained
            };
        }
        return AdapterResult.Fail("crowdstrike: access denied after renewing the token", retryable: false, request: described);
    }

    public void Dispose() => _tokenGate.Dispose();

    public bool Resolves(TargetKind kind) => kind is TargetKind.DeviceId or TargetKind.Host;

    /// <summary>
    /// A device id's host name (device details, <c>GET /devices/entities/devices/v2</c>), or a host name's device ids (FQL
    /// query, then their details, so only devices the EDR knows count). Read-only.
    /// </summary>
    public async Task<TargetLookup> ResolveAsync(TargetKind kind, string value, CancellationToken cancellationToken)
    {
        List<string> ids = [value];
        if (kind == TargetKind.Host)
        {
            var query = await ReadAsync(token => DeviceQuery(value, token), cancellationToken).ConfigureAwait(false);
            if (query.Lookup is { } failed) return failed;
            ids = query.Resources!.Select(r => r?.ToString() ?? "").Where(r => r.Length > 0).ToList();
            if (ids.Count == 0) return new TargetLookup([]);
        }
        var details = await ReadAsync(token => new HttpCall(HttpMethod.Get, $"{Endpoint.BaseUrl}/devices/entities/devices/v2?{string.Join("&", ids.Select(i => "ids=" + Q(i)))}",
            [("Authorization", "Bearer " + token, true), ("Accept", "application/json", false)], null, null), cancellationToken, notFoundIsEmpty: true).ConfigureAwait(false);
        if (details.Lookup is { } none) return kind == TargetKind.DeviceId || none.Error is not null ? none : new TargetLookup(ids);
        var devices = details.Resources!.OfType<JsonObject>().Where(r => ids.Contains(r["device_id"]?.ToString() ?? "")).ToList();
        return new TargetLookup(kind == TargetKind.DeviceId ? devices.Select(d => d["hostname"]?.ToString() ?? "").ToList() : ids);
    }

    /// <summary>A read-only call with the token (renewed once on 401): its resources, or the lookup to return instead.</summary>
    private async Task<(JsonArray? Resources, TargetLookup? Lookup)> ReadAsync(Func<string, HttpCall> build, CancellationToken ct, bool notFoundIsEmpty = false)
    {
        for (var attempt = 0; attempt < 2; attempt++)
        {
            var token = await TokenAsync(renew: attempt > 0, ct).ConfigureAwait(false);
            if (token.Failure is { } tokenFailure) return (null, new TargetLookup([], tokenFailure.Error, tokenFailure.Retryable));
            var http = build(token.Value!);
            var answer = await SendAsync(http, ct).ConfigureAwait(false);
            if (answer.Code == 401 && attempt == 0) continue;
            if (answer.Code == 404 && notFoundIsEmpty) return (null, new TargetLookup([]));
            if (Failure(answer, http.Describe(Endpoint.Redact)) is { } failure) return (null, new TargetLookup([], failure.Error, failure.Retryable));
            return answer.Json()?["resources"] is JsonArray resources ? (resources, null) : (null, new TargetLookup([], "malformed response: no resources", true));
        }
        return (null, new TargetLookup([], "crowdstrike: access denied after renewing the token"));
    }

    /// <summary>FQL exact-match on the hostname; quotes in the value are escaped so it stays one string.</summary>
    private HttpCall DeviceQuery(string hostname, string token) =>
        new(HttpMethod.Get, $"{Endpoint.BaseUrl}/devices/queries/devices/v1?filter={Q($"hostname:'{hostname.Replace("'", "\\'", StringComparison.Ordinal)}'")}&sort={Q("last_seen.desc")}&limit=1",
            [("Authorization", "Bearer " + token, true), ("Accept", "application/json", false)], null, null);

    private HttpCall TokenCall() =>
        new(HttpMethod.Post, $"{Endpoint.BaseUrl}/oauth2/token", [("Accept", "application/json", false)],
            $"client_id={Q(Endpoint.Secret("client_id") ?? "")}&client_secret={Q(Endpoint.Secret("client_secret") ?? "")}", "application/x-www-form-urlencoded");

    private async Task<(string? Value, AdapterResult? Failure)> TokenAsync(bool renew, CancellationToken ct)
    {
        await _tokenGate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            if (!renew && _token is { } cached && cached.Expires > time.GetUtcNow()) return (cached.Token, null);
            var http = TokenCall();
            var answer = await SendAsync(http, ct).ConfigureAwait(false);
            if (Failure(answer, http.Describe(Endpoint.Redact)) is { } failure) return (null, failure);
            var json = answer.Json();
            if (json?["access_token"]?.ToString() is not { Length: > 0 } token) return (null, Malformed(answer, http.Describe(Endpoint.Redact)));
            Endpoint.Protect(token); // a vendor reflecting the bearer token never gets it stored
            var lifetime = TimeSpan.FromSeconds((double?)json["expires_in"] ?? 1799);
            _token = (token, time.GetUtcNow() + lifetime - TimeSpan.FromSeconds(60)); // renew a minute early
            return (token, null);
        }
        finally
        {
            _tokenGate.Release();
        }
    }
}
