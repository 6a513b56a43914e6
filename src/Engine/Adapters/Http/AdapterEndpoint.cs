using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace RunbookPilot.Engine.Adapters.Http;

/// <summary>
/// Where one vendor is and how to reach it: base URL, credentials (read from the environment variables adapters.yaml
/// names), an HttpClient that always verifies TLS (against the system store, or a configured CA bundle), and the
/// redaction of every secret value from anything logged or stored.
/// </summary>
public sealed class AdapterEndpoint : IDisposable
{
    private readonly IReadOnlyDictionary<string, string> _secrets;

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

    /// <summary>Replaces every secret value in <paramref name="text"/> with ***.</summary>
    public string Redact(string text)
    {
        foreach (var secret in _secrets.Values.Where(s => s.Length >= 4).OrderByDescending(s => s.Length))
        {
            text = text.Replace(secret, HttpCall.Redacted, StringComparison.Ordinal);
            text = text.Replace(Uri.EscapeDataString(secret), HttpCall.Redacted, StringComparison.Ordinal); // as sent in a form or a URL
        }
        return text;
    }

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
