using System.Text.Json.Nodes;
using RunbookPilot.Engine.Adapters.Http;
using RunbookPilot.Domain.Adapters;

namespace RunbookPilot.Engine.Adapters.Vendors;

/// <summary>
/// Splunk log pulls, results as JSON. <c>options.search_mode</c>: <c>oneshot</c> (default: one
/// form-encoded POST), <c>job</c> (create a search job, poll it until done, read its results) or <c>export</c> (streamed
/// newline-delimited JSON, final rows only). Values from alerts are inserted into SPL as quoted string literals
/// (<see cref="EscapeTemplateValue"/>), so they cannot add commands.
/// </summary>
public sealed class SplunkAdapter(AdapterEndpoint endpoint) : HttpAdapter(AdapterCatalog.BuiltIn.Find("splunk")!, endpoint), ITemplateEscaper
{
    /// <summary>An alert value inside a query becomes one SPL string literal: quotes and backslashes escaped, line breaks removed.</summary>
    public string EscapeTemplateValue(string parameter, string value) =>
        parameter == "query"
            ? "\"" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\r", " ", StringComparison.Ordinal).Replace("\n", " ", StringComparison.Ordinal) + "\""
            : value;

    protected override AdapterCall HealthProbe => new("query", new JsonObject { ["query"] = "| makeresults count=1" }, "health");


    private string Mode => Endpoint.Settings.Options.GetValueOrDefault("search_mode")?.ToString() ?? "oneshot";

    /// <summary>Splunk reports its version in <c>server/info</c> (entry[0].content.version).</summary>
    protected override HttpCall? VersionProbe => new(HttpMethod.Get, $"{Endpoint.BaseUrl}/services/server/info?output_mode=json", Auth(), null, null);

    protected override string? ParseVersion(string body) => JsonNode.Parse(body)?["entry"]?[0]?["content"]?["version"]?.ToString();

    private IReadOnlyList<(string, string, bool)> Auth() => [("Authorization", "Bearer " + (Endpoint.Secret("token") ?? ""), true)];

    protected override HttpCall Build(AdapterCall call)
    {
        var search = Text(call, "query").Trim();
        if (!search.StartsWith("search ", StringComparison.Ordinal) && !search.StartsWith('|')) search = "search " + search;
        var form = new List<string> { "search=" + Q(search) };
        if (Mode != "export") form.Add("exec_mode=" + (Mode == "job" ? "normal" : "oneshot"));
        form.Add("output_mode=json");
        if (call.Parameters["earliest"] is { } earliest) form.Add("earliest_time=" + Q(earliest.ToString()));
        if (call.Parameters["latest"] is { } latest) form.Add("latest_time=" + Q(latest.ToString()));
        if (Mode == "oneshot") form.Add("count=" + Q(MaxResults(call)));
        return new HttpCall(HttpMethod.Post, $"{Endpoint.BaseUrl}/services/search/jobs{(Mode == "export" ? "/export" : "")}", Auth(),
            string.Join("&", form), "application/x-www-form-urlencoded");
    }

    private static string MaxResults(AdapterCall call) => call.Parameters["max_results"]?.ToString() ?? "1000";

    protected override async Task<AdapterResult> RunAsync(AdapterCall call, CancellationToken cancellationToken)
    {
        var http = Build(call);
        var request = http.Describe(Endpoint.Redact);
        var answer = await SendAsync(http, cancellationToken).ConfigureAwait(false);
        if (Failure(answer, request) is { } failure) return failure;
        JsonArray? results;
        switch (Mode)
        {
            case "export":
                results = new JsonArray();
                foreach (var line in answer.Body.Split('\n', StringSplitOptions.RemoveEmptyEntries))
                {
                    JsonNode? row;
                    try
                    {
                        row = JsonNode.Parse(line);
                    }
                    catch (System.Text.Json.JsonException)
                    {
                        return Malformed(answer, request);
                    }
                    if (row?["preview"]?.GetValue<bool>() == true) continue;
                    if (row?["result"] is JsonObject one) results.Add(one.DeepClone());
                    if (row?["results"] is JsonArray many) foreach (var r in many) results.Add(r?.DeepClone());
                }
                break;
            case "job":
                if (answer.Json()?["sid"]?.ToString() is not { Length: > 0 } sid) return Malformed(answer, request);
                var done = await WaitForJobAsync(sid, request, cancellationToken).ConfigureAwait(false);
                if (done is not null) return done;
                var fetch = new HttpCall(HttpMethod.Get, $"{Endpoint.BaseUrl}/services/search/jobs/{Q(sid)}/results?output_mode=json&count={Q(MaxResults(call))}&offset=0", Auth(), null, null);
                var page = await SendAsync(fetch, cancellationToken).ConfigureAwait(false);
                if (Failure(page, fetch.Describe(Endpoint.Redact)) is { } pageFailure) return pageFailure;
                results = page.Json()?["results"] as JsonArray;
                if (results is null) return Malformed(page, request);
                break;
            default:
                results = answer.Json()?["results"] as JsonArray;
                if (results is null) return Malformed(answer, request);
                break;
        }
        return Ok(new JsonObject { ["count"] = results.Count, ["results"] = results.DeepClone() }, request);
    }

    /// <summary>Polls a search job until it is done (null) or failed (the failure).</summary>
    private async Task<AdapterResult?> WaitForJobAsync(string sid, AdapterRequest request, CancellationToken ct)
    {
        var interval = TimeSpan.FromMilliseconds(double.TryParse(Endpoint.Settings.Options.GetValueOrDefault("poll_interval_ms")?.ToString(), System.Globalization.CultureInfo.InvariantCulture, out var ms) ? ms : 500);
        while (true)
        {
            var poll = new HttpCall(HttpMethod.Get, $"{Endpoint.BaseUrl}/services/search/jobs/{Q(sid)}?output_mode=json", Auth(), null, null);
            var status = await SendAsync(poll, ct).ConfigureAwait(false);
            if (status.Code != 204)
            {
                if (Failure(status, poll.Describe(Endpoint.Redact)) is { } failure) return failure;
                var content = status.Json()?["entry"]?[0]?["content"];
                if (content is null) return Malformed(status, request);
                if (content["isFailed"]?.ToString() is "true" or "True" or "1")
                    return AdapterResult.Fail($"splunk: search job {sid} failed: {Endpoint.Redact(content["messages"]?.ToJsonString() ?? "")}", retryable: false, request: request);
                if (content["isDone"]?.ToString() is "true" or "True" or "1") return null;
            }
            await Task.Delay(interval, ct).ConfigureAwait(false);
        }
    }
}
