using System.Text.Json.Nodes;
using RunbookPilot.Engine.Adapters.Http;

namespace RunbookPilot.Engine.Adapters.Vendors;

/// <summary>
/// A generic HTTP call for anything without an adapter: method, URL, headers and body from the step, sent only to hosts
/// listed in adapters.yaml <c>options.allowed_hosts</c>. Alert values inserted into the URL are URL-escaped
/// (<see cref="EscapeTemplateValue"/>); a JSON body is built from the parameters, so values stay values.
/// Credentials named in adapters.yaml are sent as headers of the same name (e.g. <c>Authorization</c>).
/// </summary>
public sealed class GenericHttpAdapter(AdapterEndpoint endpoint) : HttpAdapter(AdapterCatalog.BuiltIn.Find("http")!, endpoint), ITemplateEscaper
{
    public string EscapeTemplateValue(string parameter, string value) => parameter == "url" ? Uri.EscapeDataString(value) : value;

    private IReadOnlyList<string> AllowedHosts =>
        Endpoint.Settings.Options.GetValueOrDefault("allowed_hosts") is JsonArray hosts ? hosts.Select(h => h!.ToString()).ToList() : [new Uri(Endpoint.BaseUrl).Host];

    protected override AdapterCall HealthProbe => new("get", new JsonObject { ["url"] = "" }, "health");

    protected override string ApiVersion => "HTTP";

    protected override HttpCall Build(AdapterCall call)
    {
        var url = Text(call, "url");
        if (!url.Contains("://", StringComparison.Ordinal)) url = Endpoint.BaseUrl + "/" + url.TrimStart('/');
        var headers = new List<(string, string, bool)>();
        if (call.Parameters["headers"] is JsonObject h)
            foreach (var (name, value) in h) headers.Add((name, value?.ToString() ?? "", false));
        foreach (var (credential, _) in Endpoint.Settings.Credentials)
            if (Endpoint.Secret(credential) is { } secret) headers.Add((credential, secret, true));
        var body = call.Parameters["body"] switch
        {
            null => null,
            JsonValue v when v.TryGetValue<string>(out var s) => s,
            var node => node.ToJsonString(),
        };
        var method = call.Action == "get" ? HttpMethod.Get : new HttpMethod(Text(call, "method").ToUpperInvariant());
        return new HttpCall(method, url, headers, body, body is null ? null : "application/json");
    }

    protected override async Task<AdapterResult> RunAsync(AdapterCall call, CancellationToken cancellationToken)
    {
        var http = Build(call);
        var request = http.Describe(Endpoint.Redact);
        if (!Uri.TryCreate(http.Url, UriKind.Absolute, out var uri) || !AllowedHosts.Contains(uri.Host, StringComparer.OrdinalIgnoreCase))
            return AdapterResult.Fail($"http: host '{(uri?.Host ?? http.Url)}' is not in options.allowed_hosts; refused before any call", retryable: false, request: request);
        var answer = await SendAsync(http, cancellationToken).ConfigureAwait(false);
        if (Failure(answer, request) is { } failure) return failure;
        return Ok(new JsonObject { ["status"] = answer.Code, ["body"] = answer.Json() ?? JsonValue.Create(answer.Body.Length > 4096 ? answer.Body[..4096] : answer.Body) }, request);
    }
}
