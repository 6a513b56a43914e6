using System.Security.Cryptography;
using System.Text;

namespace RunbookPilot.Host;

/// <summary>
/// Basic authentication on everything but /health (constant-time comparison); webhooks may instead send the configured
/// bearer token or an HMAC-SHA256 signature of their body. The authenticated name is who decides in the audit trail.
/// </summary>
public sealed class AuthMiddleware(RequestDelegate next, ServerOptions options)
{
    public const string AnalystItem = "rbp.analyst";

    public async Task InvokeAsync(HttpContext context)
    {
        if (context.Request.Path.Equals("/health", StringComparison.Ordinal))
        {
            await next(context);
            return;
        }
        if (Basic(context.Request.Headers.Authorization.ToString()) is { } user)
        {
            context.Items[AnalystItem] = user;
            await next(context);
            return;
        }
        if (context.Request.Path.Equals("/events", StringComparison.Ordinal) && await WebhookAsync(context))
        {
            context.Items[AnalystItem] = "webhook";
            await next(context);
            return;
        }
        context.Response.StatusCode = StatusCodes.Status401Unauthorized;
        context.Response.Headers.WWWAuthenticate = "Basic realm=\"RunbookPilot\", charset=\"UTF-8\"";
        await context.Response.WriteAsJsonAsync(new { error = "authentication required: basic auth (RBPILOT_USER / RBPILOT_PASS), or the webhook token or signature on /events" });
    }

    private string? Basic(string header)
    {
        if (!header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase)) return null;
        string decoded;
        try
        {
            decoded = Encoding.UTF8.GetString(Convert.FromBase64String(header[6..].Trim()));
        }
        catch (FormatException)
        {
            return null;
        }
        var colon = decoded.IndexOf(':', StringComparison.Ordinal);
        if (colon < 0) return null;
        var ok = Same(decoded[..colon], options.User) & Same(decoded[(colon + 1)..], options.EffectivePassword);
        return ok ? decoded[..colon] : null;
    }

    private async Task<bool> WebhookAsync(HttpContext context)
    {
        var auth = context.Request.Headers.Authorization.ToString();
        if (options.WebhookToken is { } token && auth.StartsWith("Bearer ", StringComparison.Ordinal) && Same(auth[7..], token)) return true;
        if (options.WebhookSecret is not { } secret || context.Request.Headers["X-RunbookPilot-Signature"].ToString() is not { Length: > 7 } signature
            || !signature.StartsWith("sha256=", StringComparison.Ordinal)) return false;
        context.Request.EnableBuffering();
        using var buffer = new MemoryStream();
        await context.Request.Body.CopyToAsync(buffer, context.RequestAborted);
        context.Request.Body.Position = 0;
        var expected = Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), buffer.ToArray()));
        return Same(signature[7..].ToLowerInvariant(), expected);
    }

    /// <summary>Constant-time comparison (no early exit on the first differing byte).</summary>
    private static bool Same(string a, string b) =>
        CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(a)), SHA256.HashData(Encoding.UTF8.GetBytes(b)));
}
