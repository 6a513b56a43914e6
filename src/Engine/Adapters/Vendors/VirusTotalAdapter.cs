using System.Text.Json.Nodes;
using RunbookPilot.Engine.Adapters.Http;
using RunbookPilot.Domain.Adapters;

namespace RunbookPilot.Engine.Adapters.Vendors;

/// <summary>VirusTotal API v3: IP, domain and file reports. Read-only GETs; 404 means "not seen".</summary>
public sealed class VirusTotalAdapter(AdapterEndpoint endpoint) : HttpAdapter(AdapterCatalog.BuiltIn.Find("virustotal")!, endpoint)
{
    protected override AdapterCall HealthProbe => new("lookup_ip", new JsonObject { ["ip"] = "8.8.8.8" }, "health");


    protected override HttpCall Build(AdapterCall call)
    {
        var (collection, id) = call.Action switch
        {
            "lookup_ip" => ("ip_addresses", Text(call, "ip")),
            "lookup_domain" => ("domains", Text(call, "domain")),
            "lookup_hash" => ("files", Text(call, "hash")),
            _ => Text(call, "resource_type") switch
            {
                "domain" => ("domains", Text(call, "resource")),
                "file" or "hash" => ("files", Text(call, "resource")),
                _ => ("ip_addresses", Text(call, "resource")),
            },
        };
        return new HttpCall(HttpMethod.Get, $"{Endpoint.BaseUrl}/{collection}/{Q(id)}",
            [("x-apikey", Endpoint.Secret("api_key") ?? "", true), ("accept", "application/json", false)], null, null);
    }

    protected override async Task<AdapterResult> RunAsync(AdapterCall call, CancellationToken cancellationToken)
    {
        var http = Build(call);
        var request = http.Describe(Endpoint.Redact);
        var answer = await SendAsync(http, cancellationToken).ConfigureAwait(false);
        if (answer.Code == 404 && answer.Json()?["error"]?["code"]?.ToString() == "NotFoundError")
            return Ok(new JsonObject { ["found"] = false, ["malicious"] = 0, ["suspicious"] = 0 }, request);
        if (Failure(answer, request) is { } failure) return failure;
        var data = answer.Json()?["data"];
        if (data?["attributes"]?["last_analysis_stats"] is not JsonObject stats) return Malformed(answer, request);
        return Ok(new JsonObject
        {
            ["found"] = true,
            ["id"] = data["id"]?.DeepClone(),
            ["type"] = data["type"]?.DeepClone(),
            ["malicious"] = stats["malicious"]?.DeepClone(),
            ["suspicious"] = stats["suspicious"]?.DeepClone(),
            ["harmless"] = stats["harmless"]?.DeepClone(),
            ["undetected"] = stats["undetected"]?.DeepClone(),
            ["reputation"] = data["attributes"]?["reputation"]?.DeepClone(),
        }, request);
    }
}
