using System.Text.Json.Nodes;
using RunbookPilot.Engine.Adapters.Http;
using RunbookPilot.Domain.Adapters;
using RunbookPilot.Domain.Library;

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

    /// <summary>
    /// Where requests may go: each <c>allowed_hosts</c> entry names scheme, host and port (<c>https://dns-fw.example:8443</c>;
    /// without a port, the scheme's default). Without the option, only the base URL's origin.
    /// </summary>
    private IReadOnlyList<Uri> AllowedOrigins =>
        Endpoint.Settings.Options.GetValueOrDefault("allowed_hosts") is JsonArray hosts
            ? hosts.Select(h => AdaptersConfig.AllowedOrigin(h?.ToString()) ?? throw new InvalidOperationException($"allowed_hosts entry '{h}' is invalid")).ToList()
            : [new Uri(Endpoint.BaseUrl)];

    /// <summary>An <c>allowed_hosts</c> entry as an origin (scheme://host[:port], nothing else), or null when it is not one.</summary>
    private bool Allowed(Uri uri) => AllowedOrigins.Any(o =>
        o.Scheme == uri.Scheme && string.Equals(o.IdnHost, uri.IdnHost, StringComparison.OrdinalIgnoreCase) && o.Port == uri.Port);

    protected override AdapterCall HealthProbe => new("get", new JsonObject { ["url"] = "" }, "health");


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
        if (http.Problem() is { } problem) throw new UnsafeRequestException(problem);
        if (!Uri.TryCreate(http.Url, UriKind.Absolute, out var uri) || !Allowed(uri))
            return AdapterResult.Fail($"http: {(uri is null ? http.Url : $"{uri.Scheme}://{uri.Authority}")} is not in options.allowed_hosts; refused before any call (entries name scheme, host and port)", retryable: false, request: request);
        var answer = await SendAsync(http, cancellationToken).ConfigureAwait(false);
        if (Failure(answer, request) is { } failure) return failure;
        return Ok(new JsonObject { ["status"] = answer.Code, ["body"] = answer.Json() ?? JsonValue.Create(answer.Body.Length > 4096 ? answer.Body[..4096] : answer.Body) }, request);
    }
}
