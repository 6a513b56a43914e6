using System.Security.Cryptography;
using System.Text;

namespace RunbookPilot.Host;

/// <summary>
/// Basic authentication on everything but /health (constant-time comparison); webhooks may instead send the configured
/// bearer token or an HMAC-SHA256 signature of their body. The authenticated name is who decides in the audit trail.
/// </summary>
public sealed class AuthMiddleware(RequestDelegate next, ServerOptions options, LoginThrottle throttle, TimeProvider time, ILogger<AuthMiddleware> log)
{
    public const string AnalystItem = "rbp.analyst";
    public const string RoleItem = "rbp.role";
    public const string Admin = "admin";
    public const string AnalystRole = "analyst";

    public async Task InvokeAsync(HttpContext context)
    {
        var header = context.Request.Headers.Authorization.ToString();
        var address = context.Connection.RemoteIpAddress?.ToString() ?? "unknown";
        if (Credentials(header) is var (name, _) && throttle.Locked(name, address) is { } locked)
        {
            log.LogWarning("Sign-in refused for {User} from {Address}: too many failed attempts, locked for {Seconds} s", name, address, (int)Math.Ceiling(locked.TotalSeconds));
            context.Response.StatusCode = StatusCodes.Status429TooManyRequests;
            context.Response.Headers.RetryAfter = ((int)Math.Ceiling(locked.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
            await context.Response.WriteAsJsonAsync(new { error = $"too many failed sign-ins for this user or from this address; try again in {(int)Math.Ceiling(locked.TotalSeconds)} s" });
            return;
        }
        var signedIn = Basic(header);
        if (signedIn is var (user, role))
        {
            context.Items[AnalystItem] = user;
            context.Items[RoleItem] = role;
            throttle.Succeeded(user, address);
        }
        else if (Credentials(header) is var (failedUser, _))
        {
            // Who and from where, never the password.
            log.LogWarning("Sign-in failed for {User} from {Address}", failedUser, address);
            var delay = throttle.Failed(failedUser, address);
            if (delay > TimeSpan.Zero) await Task.Delay(delay, time, context.RequestAborted);
        }
        // /health answers anyone (ok or degraded only); its details need the credentials checked above.
        if (signedIn is not null || context.Request.Path.Equals("/health", StringComparison.Ordinal))
        {
            await next(context);
            return;
        }
        if (context.Request.Path.Equals("/events", StringComparison.Ordinal) && await WebhookAsync(context))
        {
            context.Items[AnalystItem] = "webhook";
            context.Items[RoleItem] = "webhook";
            await next(context);
            return;
        }
        if (context.Request.Path.Equals("/events", StringComparison.Ordinal) && WebhookCredentials(context) && signedIn is null && Credentials(header) is null)
        {
            log.LogWarning("Webhook credentials refused from {Address}", address);
            var delay = throttle.FailedWebhook(address);
            if (delay > TimeSpan.Zero) await Task.Delay(delay, time, context.RequestAborted);
        }
        context.Response.StatusCode = StatusCodes.Status401Unauthorized;
        context.Response.Headers.WWWAuthenticate = "Basic realm=\"RunbookPilot\", charset=\"UTF-8\"";
        await context.Response.WriteAsJsonAsync(new { error = "authentication required: basic auth (RBPILOT_USER / RBPILOT_PASS), or the webhook token or signature on /events" });
    }

    /// <summary>The user name and password of a basic-auth header, or null when there is none.</summary>
    private static (string User, string Password)? Credentials(string header)
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
        return colon < 0 ? null : (decoded[..colon], decoded[(colon + 1)..]);
    }

    /// <summary>Who the basic credentials name and their role, or null. Every account is compared, so timing says nothing about which exists.</summary>
    private (string User, string Role)? Basic(string header)
    {
        if (Credentials(header) is not var (name, password)) return null;
        (string, string)? match = Same(name, options.User) & Same(password, options.EffectivePassword) ? (name, Admin) : null;
        foreach (var (analyst, secret) in options.Analysts)
            if (Same(name, analyst) & Same(password, secret)) match ??= (name, AnalystRole);
        return match;
    }

    /// <summary>The request carries a webhook bearer token or signature (to count failures of).</summary>
    private static bool WebhookCredentials(HttpContext context) =>
        context.Request.Headers.Authorization.ToString().StartsWith("Bearer ", StringComparison.Ordinal) || context.Request.Headers.ContainsKey("X-RunbookPilot-Signature");

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

/// <summary>Admits only the admin account (configuration changes and operator commands); analysts get 403 with the reason.</summary>
public sealed class AdminOnly : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next) =>
        context.HttpContext.Items[AuthMiddleware.RoleItem] as string == AuthMiddleware.Admin
            ? await next(context)
            : Results.Json(new { error = "forbidden: this changes configuration or operates the server; sign in as the admin (RBPILOT_USER)" }, statusCode: 403);
}
