using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using System.Web;
using System.Xml.Linq;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using RunbookPilot.Engine.Configuration;

namespace RunbookPilot.VendorSim;

/// <summary>
/// Local stand-ins for the vendors, speaking their wire formats (shared/docs/vendor-apis.md) on 127.0.0.1: VirusTotal v3,
/// PAN-OS User-ID XML API, CrowdStrike Falcon (OAuth2, hosts), Splunk oneshot search. Each checks credentials like its
/// vendor, keeps state (registered IPs, containment) readable at <c>/_admin/state</c>, records every request
/// (<c>/_admin/requests</c>) and injects faults on request (<c>POST /_admin/faults</c>: status, rate_limit, latency,
/// hang, malformed, drop).
/// </summary>
public sealed class VendorSimulator : IAsyncDisposable
{
    /// <summary>The demo credentials the simulators accept (what demo mode puts in the adapters' environment).</summary>
    public static readonly IReadOnlyDictionary<string, string> Credentials = new Dictionary<string, string>
    {
        ["RBPILOT_SIM_VT_KEY"] = "sim-vt-0123456789abcdef0123456789abcdef",
        ["RBPILOT_SIM_PANOS_KEY"] = "sim-panos-LUFRPT1abcDEF123ghiJKL456",
        ["RBPILOT_SIM_FALCON_ID"] = "sim-falcon-client-0123456789",
        ["RBPILOT_SIM_FALCON_SECRET"] = "sim-falcon-secret-AbCdEfGhIjKl",
        ["RBPILOT_SIM_SPLUNK_TOKEN"] = "sim-splunk-token-eyJraWQiOiJzcGx1bmsi",
        ["RBPILOT_SIM_ABUSEIPDB_KEY"] = "sim-abuseipdb-1b2c3d4e5f60718293a4",
        ["RBPILOT_SIM_JIRA_EMAIL"] = "soc-bot@example.com",
        ["RBPILOT_SIM_JIRA_TOKEN"] = "sim-jira-ATATT3xFfGF0T1m2n3",
        ["RBPILOT_SIM_MISP_KEY"] = "sim-misp-0123456789abcdefABCDEF01234567",
        ["RBPILOT_SIM_LLM_KEY"] = "sim-llm-sk-or-v1-0123456789abcdef",
    };

    private readonly WebApplication _app;
    private readonly HashSet<string> _tokens = [];

    private readonly string? _stateFile;

    private VendorSimulator(WebApplication app, SimState state, string? stateFile)
    {
        _app = app;
        State = state;
        _stateFile = stateFile;
    }

    public SimState State { get; }
    public Uri BaseAddress { get; private set; } = null!;

    /// <summary>Base URL of one vendor (virustotal, paloalto, crowdstrike, splunk) as an adapter should be configured.</summary>
    public string UrlOf(string vendor) => new Uri(BaseAddress, vendor switch
    {
        "virustotal" => "virustotal/api/v3",
        "abuseipdb" => "abuseipdb/api/v2",
        "jira" => "jira/rest/api/3",
        "llm" => "llm/v1",
        _ => vendor,
    }).ToString().TrimEnd('/');

    /// <summary>Adapter settings pointing at these simulators, with the demo credentials' variable names.</summary>
    public IReadOnlyDictionary<string, RunbookPilot.Domain.Library.AdapterSettings> DemoSettings() => new Dictionary<string, RunbookPilot.Domain.Library.AdapterSettings>
    {
        ["virustotal"] = new() { BaseUrl = UrlOf("virustotal"), Credentials = new Dictionary<string, string> { ["api_key"] = "RBPILOT_SIM_VT_KEY" } },
        ["paloalto"] = new() { BaseUrl = UrlOf("paloalto"), Credentials = new Dictionary<string, string> { ["api_key"] = "RBPILOT_SIM_PANOS_KEY" } },
        ["crowdstrike"] = new() { BaseUrl = UrlOf("crowdstrike"), Credentials = new Dictionary<string, string> { ["client_id"] = "RBPILOT_SIM_FALCON_ID", ["client_secret"] = "RBPILOT_SIM_FALCON_SECRET" } },
        ["splunk"] = new() { BaseUrl = UrlOf("splunk"), Credentials = new Dictionary<string, string> { ["token"] = "RBPILOT_SIM_SPLUNK_TOKEN" } },
        ["abuseipdb"] = new() { BaseUrl = UrlOf("abuseipdb"), Credentials = new Dictionary<string, string> { ["api_key"] = "RBPILOT_SIM_ABUSEIPDB_KEY" } },
        ["jira"] = new() { BaseUrl = UrlOf("jira"), Credentials = new Dictionary<string, string> { ["email"] = "RBPILOT_SIM_JIRA_EMAIL", ["api_token"] = "RBPILOT_SIM_JIRA_TOKEN" } },
        ["misp"] = new() { BaseUrl = UrlOf("misp"), Credentials = new Dictionary<string, string> { ["auth_key"] = "RBPILOT_SIM_MISP_KEY" } },
        ["http"] = new()
        {
            BaseUrl = UrlOf("http"),
            Options = new Dictionary<string, JsonNode?> { ["allowed_hosts"] = new JsonArray(new Uri(UrlOf("http")).GetLeftPart(UriPartial.Authority)) },
        },
    };

    /// <summary>Enrichment through this simulator's OpenAI-compatible endpoint (demo mode when no model is configured).</summary>
    public RunbookPilot.Engine.Configuration.LlmOptions DemoLlm() => new()
    {
        BaseUrl = UrlOf("llm"), Model = "sim/gpt-4o-mini", ApiKey = Credentials["RBPILOT_SIM_LLM_KEY"],
    };

    /// <param name="stateFile">Where the vendors' state is kept between runs (demo mode); null keeps it in memory only.</param>
    public static async Task<VendorSimulator> StartAsync(int port = 0, X509Certificate2? certificate = null, string? stateFile = null, CancellationToken ct = default)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, port, o =>
        {
            if (certificate is not null) o.UseHttps(certificate);
        }));
        var app = builder.Build();
        var sim = new VendorSimulator(app, new SimState(), stateFile);
        foreach (var host in new[] { "WS-1", "WS-042", "LAPTOP-9023", "WIN-SRV-01", "SRV-1" }) sim.State.AddDevice(host);
        if (stateFile is not null && File.Exists(stateFile) && JsonNode.Parse(await File.ReadAllTextAsync(stateFile, ct).ConfigureAwait(false)) is JsonObject saved)
            sim.State.Restore(saved);
        sim.Map(app);
        await app.StartAsync(ct).ConfigureAwait(false);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        sim.BaseAddress = new Uri(address.Replace("[::]", "127.0.0.1", StringComparison.Ordinal).TrimEnd('/') + "/");
        return sim;
    }

    private void Map(WebApplication app)
    {
        app.MapGet("/_admin/state", () => Results.Text(State.Snapshot().ToJsonString(), "application/json"));
        app.MapGet("/_admin/requests", (string? vendor) => Results.Json(State.Requests(vendor)));
        app.MapPost("/_admin/faults", (Fault fault) =>
        {
            State.AddFault(fault);
            return Results.Ok();
        });
        app.MapDelete("/_admin/faults", () =>
        {
            State.ClearFaults();
            return Results.Ok();
        });
        app.Map("/virustotal/api/v3/{collection}/{id}", (HttpContext c, string collection, string id) => Handle(c, "virustotal", () => VirusTotal(c, collection, id)));
        app.Map("/paloalto/api", (RequestDelegate)(c => Handle(c, "paloalto", () => PanOs(c))));
        app.Map("/crowdstrike/{**path}", (HttpContext c, string path) => Handle(c, "crowdstrike", () => CrowdStrike(c, path)));
        app.Map("/splunk/services/search/jobs", (RequestDelegate)(c => Handle(c, "splunk", () => Splunk(c))));
        app.Map("/splunk/services/search/jobs/export", (RequestDelegate)(c => Handle(c, "splunk", () => SplunkExport(c))));
        app.Map("/splunk/services/search/jobs/{sid}/results", (HttpContext c, string sid) => Handle(c, "splunk", () => SplunkJob(c, sid, results: true)));
        app.Map("/splunk/services/search/jobs/{sid}", (HttpContext c, string sid) => Handle(c, "splunk", () => SplunkJob(c, sid, results: false)));
        app.Map("/abuseipdb/api/v2/check", (RequestDelegate)(c => Handle(c, "abuseipdb", () => AbuseIpDb(c))));
        app.Map("/jira/rest/api/3/{**path}", (HttpContext c, string path) => Handle(c, "jira", () => Jira(c, path)));
        app.Map("/misp/{**path}", (HttpContext c, string path) => Handle(c, "misp", () => Misp(c, path)));
        app.MapPost("/_admin/llm/replies", (LlmScript script) =>
        {
            foreach (var reply in script.Replies) State.LlmReplies.Enqueue(reply);
            return Results.Json(new { queued = State.LlmReplies.Count });
        });
        app.MapPost("/llm/v1/chat/completions", (HttpContext c) => Handle(c, "llm", () => ChatCompletion(c)));
        app.Map("/http/{**path}", (RequestDelegate)(c => Handle(c, "http", () => Json(200, new JsonObject { ["ok"] = true, ["received"] = c.Request.Method + " " + c.Request.Path }))));
    }

    /// <summary>Records the request, applies an armed fault, else answers as the vendor.</summary>
    private async Task Handle(HttpContext c, string vendor, Func<Task<IResult>> answer)
    {
        c.Request.EnableBuffering();
        var body = await new StreamReader(c.Request.Body, Encoding.UTF8).ReadToEndAsync(c.RequestAborted).ConfigureAwait(false);
        c.Request.Body.Position = 0;
        State.Record(new ReceivedRequest(vendor, c.Request.Method, c.Request.Path + c.Request.QueryString,
            c.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase), body));

        if (State.TakeFault(vendor) is { } fault)
        {
            switch (fault.Kind)
            {
                case "status":
                    c.Response.StatusCode = fault.Status;
                    await c.Response.WriteAsync("""{"error":{"code":"TransientError","message":"simulated server error"}}""", c.RequestAborted).ConfigureAwait(false);
                    return;
                case "rate_limit":
                    c.Response.StatusCode = 429;
                    c.Response.Headers.RetryAfter = fault.RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
                    c.Response.Headers["X-RateLimit-Remaining"] = "0";
                    await c.Response.WriteAsync("""{"error":{"code":"QuotaExceededError","message":"Quota exceeded"}}""", c.RequestAborted).ConfigureAwait(false);
                    return;
                case "hang":
                    await Task.Delay(Timeout.Infinite, c.RequestAborted).ConfigureAwait(false);
                    return;
                case "malformed":
                    c.Response.StatusCode = 200;
                    await c.Response.WriteAsync("<html>502 Bad Gateway from a proxy</html>", c.RequestAborted).ConfigureAwait(false);
                    return;
                case "drop":
                    c.Abort();
                    return;
                case "latency":
                    await Task.Delay(fault.LatencyMs, c.RequestAborted).ConfigureAwait(false);
                    break;
            }
        }
        await (await answer().ConfigureAwait(false)).ExecuteAsync(c).ConfigureAwait(false);
    }

    /// <summary>Scripted replies for the OpenAI-compatible endpoint.</summary>
    public sealed record LlmScript(IReadOnlyList<string> Replies);

    // ---- OpenAI-compatible chat completions (OpenRouter, Ollama, vLLM, LM Studio) -------------------------------

    private async Task<IResult> ChatCompletion(HttpContext c)
    {
        if (c.Request.Headers.Authorization.ToString() != "Bearer " + Credentials["RBPILOT_SIM_LLM_KEY"])
            return await Json(401, new JsonObject { ["error"] = new JsonObject { ["message"] = "No auth credentials found", ["code"] = 401 } });
        JsonNode? request;
        try
        {
            request = JsonNode.Parse(await new StreamReader(c.Request.Body).ReadToEndAsync(c.RequestAborted));
        }
        catch (System.Text.Json.JsonException)
        {
            return await Json(400, new JsonObject { ["error"] = new JsonObject { ["message"] = "invalid JSON", ["code"] = 400 } });
        }
        var messages = request?["messages"]?.AsArray().Select(m => (string?)m?["content"] ?? "").ToList() ?? [];
        var prompt = string.Concat(messages);
        var reply = State.LlmReplies.TryDequeue(out var scripted) ? scripted : DefaultReply(messages.LastOrDefault() ?? "");
        return await Json(200, new JsonObject
        {
            ["id"] = "gen-sim-" + Guid.NewGuid().ToString("N")[..12],
            ["object"] = "chat.completion",
            ["model"] = (string?)request?["model"] ?? "sim",
            ["choices"] = new JsonArray(new JsonObject
            {
                ["index"] = 0, ["finish_reason"] = "stop", ["message"] = new JsonObject { ["role"] = "assistant", ["content"] = reply },
            }),
            ["usage"] = new JsonObject { ["prompt_tokens"] = prompt.Length / 4, ["completion_tokens"] = reply.Length / 4, ["total_tokens"] = (prompt.Length + reply.Length) / 4 },
        });
    }

    /// <summary>A plain answer built from the prompt's data block (the techniques it names), marked as simulated.</summary>
    private static string DefaultReply(string user)
    {
        var task = user.Split('\n')[0].Replace("Task: ", "", StringComparison.Ordinal);
        var techniques = "";
        var begin = user.IndexOf("<<<ALERT_DATA\n", StringComparison.Ordinal);
        var end = user.LastIndexOf("\nALERT_DATA>>>", StringComparison.Ordinal);
        if (begin >= 0 && end > begin && JsonNode.Parse(user[(begin + 14)..end]) is JsonObject data && data["techniques"] is JsonArray list)
            techniques = " Techniques: " + string.Join("; ", list.Select(t => $"{(string?)t?["id"]} {(string?)t?["name"]} ({(string?)t?["tactics"]})")) + ".";
        return $"[simulated model] {task}{techniques} Review the evidence before acting.";
    }

    private static Task<IResult> Json(int status, JsonNode body) => Task.FromResult(Results.Text(body.ToJsonString(), "application/json", Encoding.UTF8, status));

    // ---- VirusTotal v3 ------------------------------------------------------------------------------------------

    private static Task<IResult> VirusTotal(HttpContext c, string collection, string id)
    {
        var key = c.Request.Headers["x-apikey"].ToString();
        if (key.Length == 0) return Json(401, new JsonObject { ["error"] = new JsonObject { ["code"] = "AuthenticationRequiredError", ["message"] = "X-Apikey header is missing" } });
        if (key != Credentials["RBPILOT_SIM_VT_KEY"]) return Json(401, new JsonObject { ["error"] = new JsonObject { ["code"] = "WrongCredentialsError", ["message"] = $"Wrong API key {key}" } }); // some vendors echo what they got: adapters must redact it
        if (id.StartsWith("192.0.2.", StringComparison.Ordinal) || id.StartsWith("unknown", StringComparison.Ordinal))
            return Json(404, new JsonObject { ["error"] = new JsonObject { ["code"] = "NotFoundError", ["message"] = $"\"{id}\" not found" } });
        var bad = id.StartsWith("203.0.113.", StringComparison.Ordinal) || id.Contains("evil", StringComparison.OrdinalIgnoreCase);
        var stats = new JsonObject { ["harmless"] = bad ? 55 : 70, ["malicious"] = bad ? 7 : 0, ["suspicious"] = bad ? 2 : 0, ["undetected"] = 20, ["timeout"] = 0 };
        var type = collection switch { "domains" => "domain", "files" => "file", _ => "ip_address" };
        if (type == "file")
        {
            stats["confirmed-timeout"] = 0;
            stats["failure"] = 0;
            stats["type-unsupported"] = 4;
        }
        return Json(200, new JsonObject
        {
            ["data"] = new JsonObject
            {
                ["id"] = id,
                ["type"] = type,
                ["links"] = new JsonObject { ["self"] = $"https://www.virustotal.com/api/v3/{collection}/{id}" },
                ["attributes"] = new JsonObject { ["last_analysis_stats"] = stats, ["reputation"] = bad ? -40 : 0, ["last_analysis_date"] = 1716200000 },
            },
        });
    }

    // ---- PAN-OS XML API (User-ID) -------------------------------------------------------------------------------

    private async Task<IResult> PanOs(HttpContext c)
    {
        static IResult Xml(int status, XElement x) => Results.Text(x.ToString(SaveOptions.DisableFormatting), "application/xml", Encoding.UTF8, status);
        var key = c.Request.Headers["X-PAN-KEY"].ToString();
        if (key != Credentials["RBPILOT_SIM_PANOS_KEY"])
            return Xml(403, new XElement("response", new XAttribute("status", "error"), new XAttribute("code", "403"), new XElement("result", new XElement("msg", "Invalid Credential"))));
        var form = c.Request.HasFormContentType ? await c.Request.ReadFormAsync(c.RequestAborted).ConfigureAwait(false) : null;
        string Param(string name) => form is not null && form.ContainsKey(name) ? form[name].ToString() : c.Request.Query[name].ToString();
        var type = Param("type");
        var cmd = Param("cmd");
        if (type is "config" or "commit" || (type == "op" && cmd.Contains("<jobs>", StringComparison.Ordinal)))
            return PanConfigCall(type, Param("action"), Param("xpath"), Param("element"), cmd);
        if (type == "op" && cmd.Contains("registered-ip", StringComparison.Ordinal))
        {
            var result = new XElement("result", State.RegisteredIps.OrderBy(kv => kv.Key).Select(kv =>
                new XElement("entry", new XAttribute("ip", kv.Key), new XAttribute("persistent", "1"), new XElement("tag", kv.Value.Keys.Select(t => new XElement("member", t))))));
            result.Add(new XElement("count", State.RegisteredIps.Count));
            return Xml(200, new XElement("response", new XAttribute("status", "success"), result));
        }
        if (type != "user-id") return Xml(400, new XElement("response", new XAttribute("status", "error"), new XAttribute("code", "1"), new XElement("msg", "Unknown command")));
        XElement message;
        try
        {
            message = XElement.Parse(cmd);
        }
        catch (System.Xml.XmlException)
        {
            return Xml(400, new XElement("response", new XAttribute("status", "error"), new XAttribute("code", "18"), new XElement("msg", "Malformed Command")));
        }
        var failures = new List<XElement>();
        foreach (var op in message.Element("payload")?.Elements() ?? [])
        {
            foreach (var entry in op.Elements("entry"))
            {
                var ip = (string?)entry.Attribute("ip") ?? "";
                foreach (var tag in entry.Descendants("member").Select(m => m.Value))
                {
                    if (op.Name == "register")
                    {
                        if (!State.RegisteredIps.GetOrAdd(ip, _ => new()).TryAdd(tag, 0))
                            failures.Add(new XElement("entry", new XAttribute("ip", ip), new XAttribute("message", $"tag {tag} already exists, ignore")));
                    }
                    else if (op.Name == "unregister")
                    {
                        if (!State.RegisteredIps.TryGetValue(ip, out var tags) || !tags.TryRemove(tag, out _))
                            failures.Add(new XElement("entry", new XAttribute("ip", ip), new XAttribute("message", $"tag {tag} does not exist, ignore unreg")));
                        else if (tags.IsEmpty) State.RegisteredIps.TryRemove(ip, out _);
                    }
                }
            }
        }
        var payload = new XElement("payload", new XElement("register"));
        return failures.Count == 0
            ? Xml(200, new XElement("response", new XAttribute("status", "success"), new XElement("result", new XElement("uid-response", new XElement("version", "2.0"), payload))))
            : Xml(200, new XElement("response", new XAttribute("status", "error"), new XElement("msg", new XElement("line",
                new XElement("uid-response", new XElement("version", "2.0"), new XElement("payload", new XElement("register", failures)))))));
    }

    private readonly Dictionary<string, int> _commitJobs = [];

    /// <summary>XML API configuration (§4.2): set/delete of address objects and static group members, commit jobs.</summary>
    private IResult PanConfigCall(string type, string action, string xpath, string element, string cmd)
    {
        static IResult Xml(XElement x) => Results.Text(x.ToString(SaveOptions.DisableFormatting), "application/xml", Encoding.UTF8, 200);
        static XElement Error(string code, string msg) => new("response", new XAttribute("status", "error"), new XAttribute("code", code), new XElement("msg", new XElement("line", msg)));
        static XElement Ok(string code) => new("response", new XAttribute("status", "success"), new XAttribute("code", code), new XElement("msg", "command succeeded"));
        static string? Name(string xpath, string attribute) => // the last (innermost) @name / text() of the path
            System.Text.RegularExpressions.Regex.Matches(xpath, attribute + @"=(?:'([^']*)'|""([^""]*)"")").LastOrDefault() is { } m ? (m.Groups[1].Success ? m.Groups[1].Value : m.Groups[2].Value) : null;
        lock (State.Candidate)
        {
            var config = State.Candidate;
            if (type == "commit")
            {
                if (config.Fingerprint() == State.Running.Fingerprint())
                    return Xml(new XElement("response", new XAttribute("status", "success"), new XAttribute("code", "19"), new XElement("msg", "There are no changes to commit.")));
                var job = (_commitJobs.Count + 100).ToString(System.Globalization.CultureInfo.InvariantCulture);
                _commitJobs[job] = 1; // one "ACT" poll, then FIN
                State.Running = config.Copy();
                return Xml(new XElement("response", new XAttribute("status", "success"), new XAttribute("code", "19"),
                    new XElement("result", new XElement("msg", new XElement("line", $"Commit job enqueued with jobid {job}")), new XElement("job", job))));
            }
            if (type == "op")
            {
                var id = XElement.Parse(cmd).Descendants("id").First().Value;
                if (!_commitJobs.TryGetValue(id, out var pending)) return Xml(Error("7", "job not found"));
                _commitJobs[id] = Math.Max(0, pending - 1);
                var state = pending > 0 ? "ACT" : "FIN";
                return Xml(new XElement("response", new XAttribute("status", "success"), new XElement("result", new XElement("job",
                    new XElement("id", id), new XElement("type", "Commit"), new XElement("status", state), new XElement("result", state == "FIN" ? "OK" : "PEND"),
                    new XElement("details", new XElement("line", "Configuration committed successfully"))))));
            }
            var group = xpath.Contains("/address-group/", StringComparison.Ordinal) ? Name(xpath, "@name") : null;
            if (action == "set" && group is null && Name(xpath, "@name") is { } address)
            {
                config.Addresses[address] = XElement.Parse("<e>" + element + "</e>").Element("ip-netmask")?.Value ?? "";
                return Xml(Ok("20"));
            }
            if (action == "set" && group is not null)
            {
                var member = XElement.Parse("<e>" + element + "</e>").Element("member")?.Value ?? "";
                if (!config.Addresses.ContainsKey(member)) return Xml(Error("12", $"{member} is not a valid reference"));
                if (!config.Groups.TryGetValue(group, out var members)) config.Groups[group] = members = new(StringComparer.Ordinal);
                members.Add(member);
                return Xml(Ok("20"));
            }
            if (action == "delete" && group is not null && Name(xpath, "text\\(\\)") is { } removed)
            {
                return config.Groups.TryGetValue(group, out var members) && members.Remove(removed) ? Xml(Ok("20")) : Xml(Error("7", "No such node"));
            }
            if (action == "delete" && Name(xpath, "@name") is { } deleted)
            {
                if (config.Groups.Values.Any(g => g.Contains(deleted))) return Xml(Error("10", $"{deleted} cannot be deleted because of references"));
                return config.Addresses.Remove(deleted) ? Xml(Ok("20")) : Xml(Error("7", "No such node"));
            }
            return Xml(Error("6", "Bad Xpath"));
        }
    }

    // ---- CrowdStrike Falcon -------------------------------------------------------------------------------------

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

    // ---- Splunk oneshot search ----------------------------------------------------------------------------------

    private readonly ConcurrentDictionary<string, (string Search, int Polls)> _jobs = new(StringComparer.Ordinal);

    private static bool SplunkAuthorized(HttpContext c) => c.Request.Headers.Authorization.ToString() == "Bearer " + Credentials["RBPILOT_SIM_SPLUNK_TOKEN"];

    private static Task<IResult> SplunkUnauthorized() =>
        Json(401, new JsonObject { ["messages"] = new JsonArray(new JsonObject { ["type"] = "WARN", ["text"] = "call not properly authenticated" }) });

    private static Task<IResult> SplunkBadSearch() =>
        Json(400, new JsonObject { ["messages"] = new JsonArray(new JsonObject { ["type"] = "FATAL", ["text"] = "Error in 'search' command: Unable to parse the search" }) });

    private static JsonArray SplunkResults(string search) => new(Enumerable.Range(0, 3).Select(i => (JsonNode)new JsonObject
    {
        ["_time"] = $"2026-02-10T15:{30 + i}:00.000+00:00",
        ["_raw"] = $"simulated event {i} for: {search}",
        ["host"] = "sim-host",
    }).ToArray());

    private static JsonObject SplunkResultsDocument(string search) =>
        new() { ["preview"] = false, ["init_offset"] = 0, ["messages"] = new JsonArray(), ["fields"] = new JsonArray(new JsonObject { ["name"] = "_raw" }), ["results"] = SplunkResults(search) };

    private static bool ValidSearch(string search) => search.StartsWith("search ", StringComparison.Ordinal) || search.StartsWith('|');

    /// <summary>POST search/jobs: oneshot answers with results; normal creates a job (201 {sid}).</summary>
    private async Task<IResult> Splunk(HttpContext c)
    {
        if (!SplunkAuthorized(c)) return await SplunkUnauthorized().ConfigureAwait(false);
        var form = await c.Request.ReadFormAsync(c.RequestAborted).ConfigureAwait(false);
        var search = form["search"].ToString();
        if (!ValidSearch(search)) return await SplunkBadSearch().ConfigureAwait(false);
        if (form["exec_mode"] == "oneshot") return await Json(200, SplunkResultsDocument(search)).ConfigureAwait(false);
        var sid = $"1716200000.{_jobs.Count + 4242}";
        _jobs[sid] = (search, 0);
        return await Json(201, new JsonObject { ["sid"] = sid }).ConfigureAwait(false);
    }

    /// <summary>GET search/jobs/{sid}: QUEUED, RUNNING, then DONE; /results once done.</summary>
    private async Task<IResult> SplunkJob(HttpContext c, string sid, bool results)
    {
        if (!SplunkAuthorized(c)) return await SplunkUnauthorized().ConfigureAwait(false);
        if (!_jobs.TryGetValue(sid, out var job))
            return await Json(404, new JsonObject { ["messages"] = new JsonArray(new JsonObject { ["type"] = "FATAL", ["text"] = "Unknown sid." }) }).ConfigureAwait(false);
        if (results) return job.Polls >= 2 ? await Json(200, SplunkResultsDocument(job.Search)).ConfigureAwait(false) : Results.StatusCode(204);
        _jobs[sid] = job with { Polls = job.Polls + 1 };
        var state = job.Polls switch { 0 => "QUEUED", 1 => "RUNNING", _ => "DONE" };
        return await Json(200, new JsonObject
        {
            ["entry"] = new JsonArray(new JsonObject
            {
                ["name"] = job.Search,
                ["content"] = new JsonObject { ["sid"] = sid, ["dispatchState"] = state, ["isDone"] = state == "DONE", ["isFailed"] = false, ["resultCount"] = 3, ["messages"] = new JsonArray() },
            }),
        }).ConfigureAwait(false);
    }

    /// <summary>POST search/jobs/export: newline-delimited JSON, a preview row first.</summary>
    private static async Task<IResult> SplunkExport(HttpContext c)
    {
        if (!SplunkAuthorized(c)) return await SplunkUnauthorized().ConfigureAwait(false);
        var form = await c.Request.ReadFormAsync(c.RequestAborted).ConfigureAwait(false);
        var search = form["search"].ToString();
        if (!ValidSearch(search) || form.ContainsKey("exec_mode")) return await SplunkBadSearch().ConfigureAwait(false);
        var lines = new List<string> { new JsonObject { ["preview"] = true, ["offset"] = 0, ["result"] = new JsonObject { ["_raw"] = "partial" } }.ToJsonString() };
        var rows = SplunkResults(search);
        for (var i = 0; i < rows.Count; i++)
            lines.Add(new JsonObject { ["preview"] = false, ["offset"] = i, ["result"] = rows[i]!.DeepClone() }.ToJsonString());
        return Results.Text(string.Join("\n", lines) + "\n", "application/json", Encoding.UTF8, 200);
    }

    // ---- AbuseIPDB v2 -------------------------------------------------------------------------------------------

    private static Task<IResult> AbuseIpDb(HttpContext c)
    {
        if (c.Request.Headers["Key"] != Credentials["RBPILOT_SIM_ABUSEIPDB_KEY"])
            return Json(401, new JsonObject { ["errors"] = new JsonArray(new JsonObject { ["detail"] = "Authentication failed. Your API key is either missing, incorrect, or revoked.", ["status"] = 401 }) });
        var ip = c.Request.Query["ipAddress"].ToString();
        if (!IPAddress.TryParse(ip, out _))
            return Json(422, new JsonObject { ["errors"] = new JsonArray(new JsonObject { ["detail"] = "The ip address must be a valid IPv4 or IPv6 address.", ["status"] = 422, ["source"] = new JsonObject { ["parameter"] = "ipAddress" } }) });
        var bad = ip.StartsWith("203.0.113.", StringComparison.Ordinal);
        c.Response.Headers["X-RateLimit-Limit"] = "1000";
        c.Response.Headers["X-RateLimit-Remaining"] = "999";
        return Json(200, new JsonObject
        {
            ["data"] = new JsonObject
            {
                ["ipAddress"] = ip, ["isPublic"] = true, ["ipVersion"] = 4, ["isWhitelisted"] = false, ["abuseConfidenceScore"] = bad ? 100 : 0,
                ["countryCode"] = "NL", ["usageType"] = "Data Center/Web Hosting/Transit", ["isTor"] = false, ["totalReports"] = bad ? 1523 : 0,
                ["numDistinctUsers"] = bad ? 311 : 0, ["lastReportedAt"] = bad ? "2026-02-10T09:14:02+00:00" : null,
            },
        });
    }

    // ---- Jira Cloud v3 ------------------------------------------------------------------------------------------

    private readonly List<JsonObject> _issues = [];

    private async Task<IResult> Jira(HttpContext c, string path)
    {
        var expected = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{Credentials["RBPILOT_SIM_JIRA_EMAIL"]}:{Credentials["RBPILOT_SIM_JIRA_TOKEN"]}"));
        if (c.Request.Headers.Authorization != expected)
            return await Json(401, new JsonObject { ["errorMessages"] = new JsonArray("Client must be authenticated to access this resource."), ["errors"] = new JsonObject() }).ConfigureAwait(false);
        var body = await new StreamReader(c.Request.Body).ReadToEndAsync(c.RequestAborted).ConfigureAwait(false);
        lock (_issues)
        {
            if (path == "issue" && c.Request.Method == "POST")
            {
                var fields = JsonNode.Parse(body)?["fields"] as JsonObject;
                if (fields?["summary"] is null)
                    return Json(400, new JsonObject { ["errorMessages"] = new JsonArray(), ["errors"] = new JsonObject { ["summary"] = "You must specify a summary of the issue." } }).Result;
                if (fields["description"] is JsonValue)
                    return Json(400, new JsonObject { ["errorMessages"] = new JsonArray(), ["errors"] = new JsonObject { ["description"] = "Operation value must be an Atlassian Document" } }).Result;
                var key = $"{fields["project"]?["key"]}-{_issues.Count + 1}";
                _issues.Add(new JsonObject { ["key"] = key, ["status"] = "To Do", ["fields"] = fields.DeepClone() });
                return Json(201, new JsonObject { ["id"] = (10000 + _issues.Count).ToString(System.Globalization.CultureInfo.InvariantCulture), ["key"] = key, ["self"] = $"{BaseAddress}jira/rest/api/3/issue/{key}" }).Result;
            }
            if (path == "search/jql")
            {
                var jql = c.Request.Query["jql"].ToString();
                var label = jql.Split('"').ElementAtOrDefault(1) ?? "";
                var found = _issues.Where(i => (i["fields"]?["labels"] as JsonArray)?.Any(l => l?.ToString() == label) == true).Select(i => (JsonNode)new JsonObject { ["key"] = i["key"]!.ToString() });
                return Json(200, new JsonObject { ["issues"] = new JsonArray(found.ToArray()) }).Result;
            }
            var parts = path.Split('/');
            var issue = parts.Length >= 2 ? _issues.FirstOrDefault(i => i["key"]!.ToString() == parts[1]) : null;
            if (issue is null)
                return Json(404, new JsonObject { ["errorMessages"] = new JsonArray("Issue does not exist or you do not have permission to see it."), ["errors"] = new JsonObject() }).Result;
            if (parts is [_, _, "comment"]) return Json(201, new JsonObject { ["id"] = "10100", ["body"] = JsonNode.Parse(body)?["body"]?.DeepClone() }).Result;
            var transitions = issue["status"]!.ToString() == "Done"
                ? new JsonArray(new JsonObject { ["id"] = "11", ["name"] = "Reopen", ["to"] = new JsonObject { ["name"] = "To Do" } })
                : new JsonArray(new JsonObject { ["id"] = "21", ["name"] = "In Progress", ["to"] = new JsonObject { ["name"] = "In Progress" } },
                    new JsonObject { ["id"] = "31", ["name"] = "Done", ["to"] = new JsonObject { ["name"] = "Done" } });
            if (parts is [_, _, "transitions"] && c.Request.Method == "GET") return Json(200, new JsonObject { ["transitions"] = transitions }).Result;
            var id = JsonNode.Parse(body)?["transition"]?["id"]?.ToString();
            var target = transitions.FirstOrDefault(t => t?["id"]?.ToString() == id);
            if (target is null) return Json(400, new JsonObject { ["errorMessages"] = new JsonArray("Transition id is not valid for this issue."), ["errors"] = new JsonObject() }).Result;
            issue["status"] = target["to"]!["name"]!.ToString();
            return Task.FromResult(Results.StatusCode(204)).Result;
        }
    }

    // ---- MISP ---------------------------------------------------------------------------------------------------

    private int _sightings;

    private async Task<IResult> Misp(HttpContext c, string path)
    {
        if (c.Request.Headers.Authorization != Credentials["RBPILOT_SIM_MISP_KEY"])
        {
            const string text = "Authentication failed. Please make sure you pass the API key of an API enabled user along in the Authorization header.";
            return await Json(403, new JsonObject { ["name"] = text, ["message"] = text, ["url"] = "/" + path }).ConfigureAwait(false);
        }
        var body = JsonNode.Parse(await new StreamReader(c.Request.Body).ReadToEndAsync(c.RequestAborted).ConfigureAwait(false));
        var value = body?["value"]?.ToString() ?? "";
        if (path == "sightings/add")
        {
            var id = Interlocked.Increment(ref _sightings);
            return await Json(200, new JsonObject { ["Sighting"] = new JsonObject { ["id"] = id.ToString(System.Globalization.CultureInfo.InvariantCulture), ["value"] = value, ["source"] = body?["source"]?.DeepClone(), ["type"] = "0" } }).ConfigureAwait(false);
        }
        var attributes = new JsonArray();
        if (value.StartsWith("203.0.113.", StringComparison.Ordinal) || value.Contains("evil", StringComparison.Ordinal))
            attributes.Add(new JsonObject
            {
                ["id"] = "12345", ["event_id"] = "678", ["category"] = "Network activity", ["type"] = "ip-dst", ["to_ids"] = true, ["value"] = value,
                ["Event"] = new JsonObject { ["id"] = "678", ["info"] = "Cobalt Strike C2 infrastructure" },
            });
        return await Json(200, new JsonObject { ["response"] = new JsonObject { ["Attribute"] = attributes } }).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        if (_stateFile is not null) await File.WriteAllTextAsync(_stateFile, State.Snapshot().ToJsonString()).ConfigureAwait(false);
        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }
}
