using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using RunbookPilot.Engine.Configuration;

namespace RunbookPilot.VendorSim;

/// <summary>
/// What every simulated vendor route goes through (<see cref="VendorSimulator"/>'s request-safety step): the request is
/// recorded, an armed fault applied, else <paramref name="answer"/> answers as the vendor.
/// </summary>
internal delegate Task HandleRequest(HttpContext c, string vendor, Func<Task<IResult>> answer);

/// <summary>
/// Local stand-ins for the vendors, speaking their wire formats (as the vendors document them) on 127.0.0.1: VirusTotal v3,
/// PAN-OS XML API (User-ID, address objects and groups, security rules, commits), CrowdStrike Falcon (OAuth2, hosts, RTR
/// process kill), Splunk search, AbuseIPDB, Jira, MISP, PagerDuty Events API v2. Each checks credentials like its
/// vendor, keeps state (registered IPs, rules, containment, processes, PagerDuty alerts) readable at <c>/_admin/state</c>, records every request
/// (<c>/_admin/requests</c>) and injects faults on request (<c>POST /_admin/faults</c>: status, rate_limit, latency,
/// hang, malformed, drop). Each simulated vendor's routes are in a file of its own under <c>Vendors/</c>; this class
/// starts and stops them, and holds what they share: the request-safety step, the demo credentials and the settings
/// that point adapters at them.
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
        ["RBPILOT_SIM_PAGERDUTY_KEY"] = "sim-pagerduty-0123456789abcdef01", // 32 characters, like an Events API v2 integration key
        ["RBPILOT_SIM_LLM_KEY"] = "sim-llm-sk-or-v1-0123456789abcdef",
    };

    private readonly WebApplication _app;

    private readonly string? _stateFile;

    private VendorSimulator(WebApplication app, SimState state, string? stateFile)
    {
        _app = app;
        State = state;
        _stateFile = stateFile;
    }

    public SimState State { get; }
    public Uri BaseAddress { get; private set; } = null!;

    /// <summary>Base URL of one vendor (virustotal, paloalto, crowdstrike, splunk, pagerduty, ...) as an adapter should be configured.</summary>
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
        ["pagerduty"] = new() { BaseUrl = UrlOf("pagerduty"), Credentials = new Dictionary<string, string> { ["routing_key"] = "RBPILOT_SIM_PAGERDUTY_KEY" } },
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
        VirusTotalSim.Map(app, Handle);
        PaloAltoSim.Map(app, State, Handle);
        CrowdStrikeSim.Map(app, State, Handle);
        SplunkSim.Map(app, Handle);
        AbuseIpDbSim.Map(app, Handle);
        JiraSim.Map(app, () => BaseAddress, Handle);
        MispSim.Map(app, Handle);
        PagerDutySim.Map(app, State, Handle);
        LlmSim.Map(app, State, Handle);
        HttpTargetSim.Map(app, Handle);
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

    /// <summary>A JSON answer with the vendor's status (every simulated vendor answers through it).</summary>
    internal static Task<IResult> Json(int status, JsonNode body) => Task.FromResult(Results.Text(body.ToJsonString(), "application/json", Encoding.UTF8, status));

    public async ValueTask DisposeAsync()
    {
        if (_stateFile is not null) await File.WriteAllTextAsync(_stateFile, State.Snapshot().ToJsonString()).ConfigureAwait(false);
        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }
}
