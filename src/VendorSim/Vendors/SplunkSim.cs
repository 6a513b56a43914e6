using System.Collections.Concurrent;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using static RunbookPilot.VendorSim.VendorSimulator;

namespace RunbookPilot.VendorSim;

/// <summary>Splunk search (<c>/splunk/services/search/jobs...</c>, bearer token): oneshot, search jobs polled to DONE, export.</summary>
internal sealed class SplunkSim
{
    private readonly ConcurrentDictionary<string, (string Search, int Polls)> _jobs = new(StringComparer.Ordinal);

    public static void Map(WebApplication app, HandleRequest handle)
    {
        var sim = new SplunkSim();
        app.Map("/splunk/services/server/info", (RequestDelegate)(c => handle(c, "splunk", () => SplunkAuthorized(c)
            ? Json(200, new JsonObject { ["entry"] = new JsonArray(new JsonObject { ["name"] = "server-info", ["content"] = new JsonObject { ["version"] = "9.3.1", ["serverName"] = "sim-splunk" } }) })
            : SplunkUnauthorized())));
        app.Map("/splunk/services/search/jobs", (RequestDelegate)(c => handle(c, "splunk", () => sim.Splunk(c))));
        app.Map("/splunk/services/search/jobs/export", (RequestDelegate)(c => handle(c, "splunk", () => SplunkExport(c))));
        app.Map("/splunk/services/search/jobs/{sid}/results", (HttpContext c, string sid) => handle(c, "splunk", () => sim.SplunkJob(c, sid, results: true)));
        app.Map("/splunk/services/search/jobs/{sid}", (HttpContext c, string sid) => handle(c, "splunk", () => sim.SplunkJob(c, sid, results: false)));
    }

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
}
