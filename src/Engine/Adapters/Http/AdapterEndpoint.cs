using System.Text.Json.Nodes;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using RunbookPilot.Domain.Adapters;
using RunbookPilot.Domain.Library;

namespace RunbookPilot.Engine.Adapters.Http;

/// <summary>
/// Where one vendor is and how to reach it: base URL, credentials (read from the environment variables adapters.yaml
/// names), an HttpClient that always verifies TLS (against the system store, or a configured CA bundle), and the
/// redaction of every secret value from anything logged or stored.
/// </summary>
public sealed class AdapterEndpoint : IDisposable
{
    private readonly IReadOnlyDictionary<string, string> _secrets;
    private IReadOnlyList<string> _spellings;
    private readonly Lock _protect = new();

    public AdapterEndpoint(string name, AdapterSettings settings, Func<string, string?> environment)
    {
        Name = name;
        BaseUrl = settings.BaseUrl.TrimEnd('/');
        Settings = settings;
        var secrets = new Dictionary<string, string>(StringComparer.Ordinal);
        var missing = new List<string>();
        foreach (var (credential, variable) in settings.Credentials)
        {
            if (environment(variable) is { Length: > 0 } value) secrets[credential] = value;
            else missing.Add(variable);
        }
        _secrets = secrets;
        _spellings = secrets.Values.Where(v => v.Length >= 4).SelectMany(Spellings).Distinct(StringComparer.Ordinal)
            .OrderByDescending(v => v.Length).ToList();
        MissingVariables = missing;
        Http = new HttpClient(Handler(settings.Tls?.CaBundle), disposeHandler: true) { Timeout = Timeout.InfiniteTimeSpan };
    }

    public string Name { get; }
    public string BaseUrl { get; }
    public AdapterSettings Settings { get; }
    public HttpClient Http { get; }

    /// <summary>Environment variables adapters.yaml names that are not set (reported by health checks).</summary>
    public IReadOnlyList<string> MissingVariables { get; }

    public string? Secret(string credential) => _secrets.GetValueOrDefault(credential);

    /// <summary>
    /// Replaces every secret value in <paramref name="text"/> with ***, in each encoding a vendor may reflect it in:
    /// raw, URL-escaped (either hex case, <c>+</c> for a space), JSON-escaped (<c>\u002B</c> in either case, <c>\/</c>,
    /// <c>\"</c>, <c>\\</c>, non-ASCII as <c>\uXXXX</c>) and base64 (standard and URL-safe, with or without padding).
    /// </summary>
    public string Redact(string text)
    {
        foreach (var spelling in _spellings) text = text.Replace(spelling, HttpCall.Redacted, StringComparison.Ordinal);
        return text;
    }

    /// <summary>Redacts a JSON document: as written, and every string value and key as read back (nested or re-escaped forms).</summary>
    public JsonNode? Redact(JsonNode? node)
    {
        var parsed = node is null ? null : JsonNode.Parse(Redact(node.ToJsonString()));
        return Walk(parsed);

        JsonNode? Walk(JsonNode? n)
        {
            switch (n)
            {
                case JsonObject o:
                    return new JsonObject(o.Select(p => KeyValuePair.Create(Redact(p.Key), Walk(p.Value?.DeepClone()))));
                case JsonArray a:
                    return new JsonArray(a.Select(x => Walk(x?.DeepClone())).ToArray());
                case JsonValue v when v.GetValueKind() == System.Text.Json.JsonValueKind.String:
                    return JsonValue.Create(Redact(v.GetValue<string>()));
                default:
                    return n;
            }
        }
    }

    /// <summary>A secret learned at run time (an OAuth access token): from now on redacted like the configured ones.</summary>
    public void Protect(string secret)
    {
        if (secret.Length < 4) return;
        lock (_protect)
            _spellings = _spellings.Concat(Spellings(secret)).Distinct(StringComparer.Ordinal).OrderByDescending(v => v.Length).ToList();
    }

    /// <summary>The spellings of <paramref name="secret"/> that <see cref="Redact"/> removes.</summary>
    public static IEnumerable<string> Spellings(string secret)
    {
        var url = Uri.EscapeDataString(secret);
        var form = System.Net.WebUtility.UrlEncode(secret);
        var strict = System.Text.Json.JsonSerializer.Serialize(secret)[1..^1]; // \u002B, \u0022, \uXXXX for non-ASCII
        var relaxed = System.Text.Json.JsonSerializer.Serialize(secret, RelaxedJson)[1..^1]; // \" and \\ only
        var base64 = Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(secret));
        string[] forms = [secret, url, LowerHex(url), form, LowerHex(form), strict, LowerHex(strict), relaxed, AsciiJson(secret), LowerHex(AsciiJson(secret)),
            base64, base64.TrimEnd('='), base64.Replace('+', '-').Replace('/', '_').TrimEnd('=')];
        return forms.Concat(forms.Where(f => f.Contains('/', StringComparison.Ordinal)).Select(f => f.Replace("/", "\\/", StringComparison.Ordinal)))
            .Where(f => f.Length >= 4);
    }

    private static readonly System.Text.Json.JsonSerializerOptions RelaxedJson = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>JSON with every non-ASCII or special character as \uXXXX (as some vendors write it).</summary>
    private static string AsciiJson(string s) => string.Concat(s.Select(c =>
        c is '"' or '\\' ? "\\" + c : c < 0x20 || c > 0x7E ? $"\\u{(int)c:X4}" : c.ToString()));

    /// <summary>Lower-case hex in %XX and \uXXXX escapes.</summary>
    private static string LowerHex(string s) =>
        System.Text.RegularExpressions.Regex.Replace(s, @"(%[0-9A-F]{2}|\\u[0-9A-F]{4})", m => m.Value.ToLowerInvariant());

    /// <summary>TLS is always verified. A CA bundle replaces the system roots for this vendor; there is no way to skip verification.</summary>
    private static SocketsHttpHandler Handler(string? caBundle)
    {
        var handler = new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5), AllowAutoRedirect = false };
        if (caBundle is null) return handler;
        var roots = new X509Certificate2Collection();
        roots.ImportFromPemFile(caBundle);
        handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
        {
            if (certificate is null) return false;
            if ((errors & ~SslPolicyErrors.RemoteCertificateChainErrors) != SslPolicyErrors.None) return false; // name mismatch etc.
            using var chain = new X509Chain();
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.AddRange(roots);
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            return chain.Build(new X509Certificate2(certificate));
        };
        return handler;
    }

    public void Dispose() => Http.Dispose();
}
