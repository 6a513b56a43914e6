using System.ComponentModel;
using RunbookPilot.Domain.Adapters;
using RunbookPilot.Domain.Playbooks;
using RunbookPilot.Domain.Yaml;

namespace RunbookPilot.Domain.Library;

/// <summary>
/// adapters.yaml: where each vendor lives and which environment variables hold its credentials. Secrets never
/// appear in this file. TLS is always verified; a private CA bundle may be named, verification cannot be turned off.
/// An adapter that is not configured runs against the local vendor simulator (demo mode).
/// </summary>
[Description("RunbookPilot adapter configuration (adapters.yaml).")]
public sealed record AdaptersConfig
{
    /// <summary>An <c>allowed_hosts</c> entry of the generic HTTP adapter as an origin (scheme, host, port; no path), or null.</summary>
    public static Uri? AllowedOrigin(string? entry) =>
        Uri.TryCreate(entry, UriKind.Absolute, out var uri) && uri.Scheme is "https" or "http" && uri.AbsolutePath == "/" && uri.Query.Length == 0
        && uri.Fragment.Length == 0 && uri.UserInfo.Length == 0 && !entry!.Any(char.IsControl)
            ? uri
            : null;

    [Description("Adapter settings keyed by adapter name (virustotal, abuseipdb, splunk, paloalto, crowdstrike, jira, misp, pagerduty, http).")]
    public IReadOnlyDictionary<string, AdapterSettings> Adapters { get; init; } = new Dictionary<string, AdapterSettings>();

    public static AdaptersConfig Empty { get; } = new();

    public static LoadResult<AdaptersConfig> Parse(string text, string file, AdapterCatalog? catalog = null) =>
        ModelLoader.Parse<AdaptersConfig>(text, file, (c, ctx) => Validate(c, ctx, catalog ?? AdapterCatalog.BuiltIn));

    public static LoadResult<AdaptersConfig> LoadFile(string path, AdapterCatalog? catalog = null) =>
        ModelLoader.LoadFile<AdaptersConfig>(path, (c, ctx) => Validate(c, ctx, catalog ?? AdapterCatalog.BuiltIn));

    private static void Validate(AdaptersConfig config, YamlBinder ctx, AdapterCatalog catalog)
    {
        foreach (var (name, settings) in config.Adapters)
        {
            var path = YamlBinder.Child("adapters", name);
            if (catalog.Find(name) is null)
                ctx.Error(path, $"unknown adapter '{name}'{DidYouMean.Hint(name, catalog.Adapters.Select(a => a.Name))}");
            if (!Uri.TryCreate(settings.BaseUrl, UriKind.Absolute, out var uri) || uri.Scheme is not ("https" or "http"))
                ctx.Error(path + ".base_url", $"base_url '{settings.BaseUrl}' is not an absolute http(s) URL");
            else if (uri.Scheme == "http" && !uri.IsLoopback)
                ctx.Error(path + ".base_url", "base_url must use https (plain http is only allowed for loopback addresses such as the local simulators)");
            if (settings.Timeout is { } t && (t <= TimeSpan.Zero || t > TimeSpan.FromMinutes(10)))
                ctx.Error(path + ".timeout", "timeout must be more than 0 and at most 10m");
            if (settings.Options.GetValueOrDefault("allowed_hosts") is { } allowed)
            {
                if (allowed is not System.Text.Json.Nodes.JsonArray entries)
                    ctx.Error(path + ".options.allowed_hosts", "allowed_hosts must be a list of origins such as https://dns-fw.example:8443");
                else
                    for (var i = 0; i < entries.Count; i++)
                        if (AllowedOrigin(entries[i]?.ToString()) is null)
                            ctx.Error($"{path}.options.allowed_hosts[{i}]", $"'{entries[i]}' must name scheme, host and port, e.g. https://dns-fw.example:8443 (no path)");
            }
            if (settings.Tls?.CaBundle is { } ca && !Path.IsPathRooted(ca) && !ca.StartsWith("./", StringComparison.Ordinal))
                ctx.Error(path + ".tls.ca_bundle", "ca_bundle must be a file path (absolute, or relative starting with ./)");
        }
    }
}

[Description("Settings of one adapter.")]
public sealed record AdapterSettings
{
    [Description("Base URL of the vendor API, e.g. https://www.virustotal.com/api/v3.")]
    public required string BaseUrl { get; init; }

    [Description("Credential names mapped to the ENVIRONMENT VARIABLES that hold them (never the secret itself), e.g. api_key: VT_API_KEY.")]
    [Pattern("^[A-Z_][A-Z0-9_]*$", "the NAME of an environment variable (upper case, e.g. VT_API_KEY), never the secret itself")]
    public IReadOnlyDictionary<string, string> Credentials { get; init; } = new Dictionary<string, string>();

    [Description("Time allowed for one call (default 30s).")]
    public TimeSpan? Timeout { get; init; }

    [Description("Default retry policy for this adapter's steps.")]
    public RetrySpec? Retry { get; init; }

    [Description("TLS settings. Certificates are always verified; there is no switch to turn that off.")]
    public TlsSettings? Tls { get; init; }

    [Description("Vendor-specific options (e.g. paloalto block_mode: dag | address_group, http allowed_hosts).")]
    public IReadOnlyDictionary<string, System.Text.Json.Nodes.JsonNode?> Options { get; init; } = new Dictionary<string, System.Text.Json.Nodes.JsonNode?>();
}

[Description("TLS settings.")]
public sealed record TlsSettings
{
    [Description("PEM file of a private CA that signs the vendor's certificate.")]
    public string? CaBundle { get; init; }
}
