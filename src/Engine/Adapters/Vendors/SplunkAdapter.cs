using System.Text.Json.Nodes;
using RunbookPilot.Engine.Adapters.Http;

namespace RunbookPilot.Engine.Adapters.Vendors;

/// <summary>
/// Splunk log pulls as a oneshot search (vendor-apis.md §3): one form-encoded POST, results as JSON. Values from alerts
/// are inserted into SPL as quoted string literals (<see cref="EscapeTemplateValue"/>), so they cannot add commands.
/// </summary>
public sealed class SplunkAdapter(AdapterEndpoint endpoint) : HttpAdapter(AdapterCatalog.BuiltIn.Find("splunk")!, endpoint), ITemplateEscaper
{
    /// <summary>An alert value inside a query becomes one SPL string literal: quotes and backslashes escaped, line breaks removed.</summary>
    public string EscapeTemplateValue(string parameter, string value) =>
        parameter == "query"
            ? "\"" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\r", " ", StringComparison.Ordinal).Replace("\n", " ", StringComparison.Ordinal) + "\""
            : value;

    protected override AdapterCall HealthProbe => new("query", new JsonObject { ["query"] = "| makeresults count=1" }, "health");

    protected override string ApiVersion => "REST (search/jobs oneshot)";

    protected override HttpCall Build(AdapterCall call)
    {
        var search = Text(call, "query").Trim();
        if (!search.StartsWith("search ", StringComparison.Ordinal) && !search.StartsWith('|')) search = "search " + search;
        var form = new List<string> { "search=" + Q(search), "exec_mode=oneshot", "output_mode=json" };
        if (call.Parameters["earliest"] is { } earliest) form.Add("earliest_time=" + Q(earliest.ToString()));
        if (call.Parameters["latest"] is { } latest) form.Add("latest_time=" + Q(latest.ToString()));
        form.Add("count=" + Q(call.Parameters["max_results"]?.ToString() ?? "1000"));
        return new HttpCall(HttpMethod.Post, $"{Endpoint.BaseUrl}/services/search/jobs",
            [("Authorization", "Bearer " + (Endpoint.Secret("token") ?? ""), true)], string.Join("&", form), "application/x-www-form-urlencoded");
    }

    protected override async Task<AdapterResult> RunAsync(AdapterCall call, CancellationToken cancellationToken)
    {
        var http = Build(call);
        var request = http.Describe(Endpoint.Redact);
        var answer = await SendAsync(http, cancellationToken).ConfigureAwait(false);
        if (Failure(answer, request) is { } failure) return failure;
        if (answer.Json()?["results"] is not JsonArray results) return Malformed(answer, request);
        return Ok(new JsonObject { ["count"] = results.Count, ["results"] = results.DeepClone() }, request);
    }
}
