using System.Text.Json.Nodes;
using RunbookPilot.Engine.Adapters.Http;
using RunbookPilot.Domain.Adapters;

namespace RunbookPilot.Engine.Adapters.Vendors;

/// <summary>AbuseIPDB v2 check: abuse confidence of an IP; 429 carries Retry-After.</summary>
public sealed class AbuseIpDbAdapter(AdapterEndpoint endpoint) : HttpAdapter(AdapterCatalog.BuiltIn.Find("abuseipdb")!, endpoint)
{
    protected override AdapterCall HealthProbe => new("check_ip", new JsonObject { ["ip"] = "127.0.0.1", ["max_age_days"] = 1 }, "health");


    protected override HttpCall Build(AdapterCall call) =>
        new(HttpMethod.Get, $"{Endpoint.BaseUrl}/check?ipAddress={Q(Text(call, "ip"))}&maxAgeInDays={Q(call.Parameters["max_age_days"]?.ToString() ?? "90")}",
            [("Key", Endpoint.Secret("api_key") ?? "", true), ("Accept", "application/json", false)], null, null);

    protected override async Task<AdapterResult> RunAsync(AdapterCall call, CancellationToken cancellationToken)
    {
        var http = Build(call);
        var request = http.Describe(Endpoint.Redact);
        var answer = await SendAsync(http, cancellationToken).ConfigureAwait(false);
        if (Failure(answer, request) is { } failure) return failure;
        if (answer.Json()?["data"] is not JsonObject data || data["abuseConfidenceScore"] is null) return Malformed(answer, request);
        return Ok(new JsonObject
        {
            ["ip"] = data["ipAddress"]?.DeepClone(),
            ["abuse_confidence"] = data["abuseConfidenceScore"]?.DeepClone(),
            ["total_reports"] = data["totalReports"]?.DeepClone(),
            ["country"] = data["countryCode"]?.DeepClone(),
            ["is_tor"] = data["isTor"]?.DeepClone(),
            ["whitelisted"] = data["isWhitelisted"]?.DeepClone(),
        }, request);
    }
}
