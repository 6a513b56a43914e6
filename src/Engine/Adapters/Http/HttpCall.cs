using System.Net.Http.Headers;
using System.Text;
using RunbookPilot.Domain.Adapters;

namespace RunbookPilot.Engine.Adapters.Http;

/// <summary>
/// One HTTP request as an adapter builds it: every adapter's requests are built as this record and sent only through
/// <see cref="ToMessage"/>, the one request builder. The same object is described (to approvers, simulations and the
/// journal, with secrets shown as ***) and sent, so what people approve is byte for byte what goes out. A request with
/// a control character in its URL, host, a header name or value, or a header name that is not an HTTP token, is never
/// built: <see cref="ToMessage"/> throws <see cref="UnsafeRequestException"/>, and the step fails with the reason.
/// </summary>
public sealed record HttpCall(HttpMethod Method, string Url, IReadOnlyList<(string Name, string Value, bool Secret)> Headers, string? Body, string? ContentType)
{
    public const string Redacted = "***";

    /// <summary>Why this request must not be sent (request splitting, header injection), or null.</summary>
    public string? Problem()
    {
        if (!IsToken(Method.Method)) return $"method '{Printable(Method.Method)}' is not an HTTP method name";
        if (Url.Any(char.IsControl)) return $"the URL contains a control character (CR, LF, NUL or another): {Printable(Url)}";
        if (!Uri.TryCreate(Url, UriKind.Absolute, out var uri) || uri.Scheme is not ("https" or "http"))
            return $"'{Printable(Url)}' is not an absolute http(s) URL";
        if (uri.Host.Length == 0 || uri.Host.Any(c => char.IsControl(c) || char.IsWhiteSpace(c))) return $"the host of '{Printable(Url)}' is not a host name";
        foreach (var (name, value, secret) in Headers)
        {
            if (!IsToken(name)) return $"header name '{Printable(name)}' is not an HTTP token";
            if (Reserved.Contains(name) || name.StartsWith("X-Forwarded-", StringComparison.OrdinalIgnoreCase) || name.StartsWith("Proxy-", StringComparison.OrdinalIgnoreCase))
                return $"header {name} is set by the transport, not by a step (it could reach another virtual host or smuggle a request)";
            if (value.Any(c => char.IsControl(c) && c != '\t'))
                return $"header {name} contains a control character (CR, LF, NUL or another){(secret ? "" : ": " + Printable(value))}";
        }
        if (ContentType is { } type && type.Any(char.IsControl)) return "the content type contains a control character";
        return null;
    }

    private static readonly HashSet<string> Reserved = new(StringComparer.OrdinalIgnoreCase)
    {
        "Host", "Connection", "Content-Length", "Transfer-Encoding", "TE", "Trailer", "Upgrade", "Keep-Alive", "Forwarded", "Via", "Expect",
    };

    private static bool IsToken(string s) => s.Length > 0 && s.All(c => c < 127 && (char.IsAsciiLetterOrDigit(c) || "!#$%&'*+-.^_`|~".Contains(c, StringComparison.Ordinal)));

    private static string Printable(string s) => string.Concat(s.Take(200).Select(c => c switch
    {
        '\r' => "\\r", '\n' => "\\n", '\0' => "\\0", _ when char.IsControl(c) => $"\\u{(int)c:x4}", _ => c.ToString(),
    }));

    public AdapterRequest Describe(Func<string, string> redact) => new(
        Method.Method,
        redact(Url),
        Headers.ToDictionary(h => h.Name, h => h.Secret ? Redacted : redact(h.Value), StringComparer.OrdinalIgnoreCase),
        Body is null ? null : redact(Body));

    public HttpRequestMessage ToMessage()
    {
        if (Problem() is { } problem) throw new UnsafeRequestException(problem);
        var message = new HttpRequestMessage(Method, Url);
        foreach (var (name, value, _) in Headers) message.Headers.TryAddWithoutValidation(name, value);
        if (Body is not null)
        {
            message.Content = new ByteArrayContent(Encoding.UTF8.GetBytes(Body));
            message.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(ContentType ?? "application/json");
        }
        return message;
    }
}

/// <summary>A request that must not go on the wire (see <see cref="HttpCall.Problem"/>); the step fails, nothing is sent.</summary>
public sealed class UnsafeRequestException(string message) : Exception(message);
