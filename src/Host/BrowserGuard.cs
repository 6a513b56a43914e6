namespace RunbookPilot.Host;

/// <summary>
/// Keeps browsers from being used against the API by another site (CSRF). Basic auth is sent by the browser on its own
/// once the dashboard is signed in, so the API must tell a request made by our pages from one a foreign page makes:
/// <list type="bullet">
/// <item>a request whose <c>Origin</c> is another origin, or whose <c>Sec-Fetch-Site</c> says cross-site or same-site,
/// is refused (403) on every state-changing method and on the WebSocket and Blazor circuit endpoints. Non-browser
/// clients (curl, SIEM webhooks, the CLI) send neither header and pass;</item>
/// <item>every POST, PUT and PATCH must say <c>Content-Type: application/json</c> (the playbook validator also takes
/// YAML), else 415: a cross-site HTML form or a no-cors fetch can only send form encodings, <c>text/plain</c> or no
/// type at all. DELETE has no body; a browser cannot send it cross-site without a CORS preflight, which this server
/// never grants.</item>
/// </list>
/// The dashboard's own circuit keeps its antiforgery protection.
/// </summary>
public sealed class BrowserGuard(RequestDelegate next, ServerOptions options)
{
    public async Task InvokeAsync(HttpContext context)
    {
        var request = context.Request;
        var path = request.Path;
        var changesState = !HttpMethods.IsGet(request.Method) && !HttpMethods.IsHead(request.Method) && !HttpMethods.IsOptions(request.Method);
        var live = path.StartsWithSegments("/ws", StringComparison.Ordinal) || path.StartsWithSegments("/_blazor", StringComparison.Ordinal);
        if ((changesState || live) && CrossSite(request) is { } why)
        {
            await Refuse(context, StatusCodes.Status403Forbidden, $"cross-site request refused: {why}");
            return;
        }
        if ((HttpMethods.IsPost(request.Method) || HttpMethods.IsPut(request.Method) || HttpMethods.IsPatch(request.Method))
            && !path.StartsWithSegments("/_blazor", StringComparison.Ordinal) && !Accepted(request))
        {
            await Refuse(context, StatusCodes.Status415UnsupportedMediaType,
                $"Content-Type must be application/json{(IsValidator(request) ? " or application/yaml" : "")} (was '{request.ContentType ?? "none"}')");
            return;
        }
        await next(context);
    }

    /// <summary>Why the request comes from another site, or null (same origin, or no browser headers at all).</summary>
    private string? CrossSite(HttpRequest request)
    {
        var site = request.Headers["Sec-Fetch-Site"].ToString();
        if (site is "cross-site" or "same-site") return $"Sec-Fetch-Site: {site}";
        var origin = request.Headers.Origin.ToString();
        if (origin.Length == 0) return null;
        var own = $"{request.Scheme}://{request.Host}";
        return string.Equals(origin, own, StringComparison.OrdinalIgnoreCase) || options.AllowedOrigins.Contains(origin, StringComparer.OrdinalIgnoreCase)
            ? null
            : $"Origin {origin} is not {own} (RBPILOT_ALLOWED_ORIGINS lists other origins a browser may call from)";
    }

    private static bool IsValidator(HttpRequest request) => request.Path.Equals("/api/v1/playbooks/validate", StringComparison.Ordinal);

    private static bool Accepted(HttpRequest request)
    {
        var type = request.ContentType?.Split(';')[0].Trim();
        return string.Equals(type, "application/json", StringComparison.OrdinalIgnoreCase)
            || (IsValidator(request) && type is not null && (type.Equals("application/yaml", StringComparison.OrdinalIgnoreCase)
                || type.Equals("application/x-yaml", StringComparison.OrdinalIgnoreCase) || type.Equals("text/yaml", StringComparison.OrdinalIgnoreCase)));
    }

    private static async Task Refuse(HttpContext context, int status, string error)
    {
        context.Response.StatusCode = status;
        await context.Response.WriteAsJsonAsync(new { error });
    }
}
