using System.Text.Json.Nodes;
using RunbookPilot.Engine.Adapters.Http;
using RunbookPilot.Domain.Adapters;

namespace RunbookPilot.Engine.Adapters.Vendors;

/// <summary>MISP: attribute restSearch (paged) and sightings; the raw auth key in Authorization.</summary>
public sealed class MispAdapter(AdapterEndpoint endpoint) : HttpAdapter(AdapterCatalog.BuiltIn.Find("misp")!, endpoint)
{
    protected override AdapterCall HealthProbe => new("search_attributes", new JsonObject { ["value"] = "health-check.invalid", ["limit"] = 1 }, "health");


    /// <summary>MISP reports its version in <c>servers/getVersion</c> (version).</summary>
    protected override HttpCall? VersionProbe => new(HttpMethod.Get, $"{Endpoint.BaseUrl}/servers/getVersion",
        [("Authorization", Endpoint.Secret("auth_key") ?? "", true), ("Accept", "application/json", false)], null, null);

    protected override string? ParseVersion(string body) => JsonNode.Parse(body)?["version"]?.ToString();

    protected override HttpCall Build(AdapterCall call)
    {
        IReadOnlyList<(string, string, bool)> headers = [("Authorization", Endpoint.Secret("auth_key") ?? "", true), ("Accept", "application/json", false)];
        if (call.Action == "add_sighting")
            return new HttpCall(HttpMethod.Post, $"{Endpoint.BaseUrl}/sightings/add", headers,
                new JsonObject { ["value"] = Text(call, "value"), ["type"] = "0", ["source"] = call.Parameters["source"]?.ToString() ?? "RunbookPilot" }.ToJsonString(), "application/json");
        var body = new JsonObject { ["returnFormat"] = "json", ["value"] = Text(call, "value"), ["limit"] = call.Parameters["limit"]?.DeepClone() ?? 50, ["page"] = 1 };
        if (call.Parameters["type"] is { } type) body["type"] = type.ToString();
        return new HttpCall(HttpMethod.Post, $"{Endpoint.BaseUrl}/attributes/restSearch", headers, body.ToJsonString(), "application/json");
    }

    protected override async Task<AdapterResult> RunAsync(AdapterCall call, CancellationToken cancellationToken)
    {
        var http = Build(call);
        var request = http.Describe(Endpoint.Redact);
        var answer = await SendAsync(http, cancellationToken).ConfigureAwait(false);
        if (Failure(answer, request) is { } failure) return failure;
        var json = answer.Json();
        if (call.Action == "add_sighting")
            return json?["Sighting"] is JsonObject s ? Ok(new JsonObject { ["sighting_id"] = s["id"]?.DeepClone() }, request) : Malformed(answer, request);
        if (json?["response"]?["Attribute"] is not JsonArray attributes) return Malformed(answer, request);
        return Ok(new JsonObject
        {
            ["count"] = attributes.Count,
            ["events"] = new JsonArray(attributes.Select(a => a?["Event"]?["info"]?.DeepClone()).Distinct().ToArray()),
            ["attributes"] = new JsonArray(attributes.Select(a => (JsonNode)new JsonObject
            {
                ["id"] = a?["id"]?.DeepClone(), ["type"] = a?["type"]?.DeepClone(), ["category"] = a?["category"]?.DeepClone(), ["event_id"] = a?["event_id"]?.DeepClone(),
            }).ToArray()),
        }, request);
    }
}
