using RunbookPilot.Engine.Adapters.Http;
using RunbookPilot.Engine.Adapters.Vendors;
using RunbookPilot.Domain.Adapters;
using RunbookPilot.Domain.Library;

namespace RunbookPilot.Engine.Adapters;

/// <summary>Builds the adapters named in adapters.yaml (credentials from the environment variables it names).</summary>
public static class AdapterFactory
{
    /// <summary>The vendor adapters built in (every adapter of the catalogue).</summary>
    public static readonly IReadOnlySet<string> Implemented = new HashSet<string>(StringComparer.Ordinal)
    {
        "virustotal", "abuseipdb", "splunk", "paloalto", "crowdstrike", "jira", "misp", "pagerduty", "http",
    };

    public static IReadOnlyList<IAdapter> Create(IReadOnlyDictionary<string, AdapterSettings> settings, Func<string, string?> environment, TimeProvider time)
    {
        var adapters = new List<IAdapter>();
        foreach (var (name, s) in settings)
        {
            if (!Implemented.Contains(name)) continue;
            var endpoint = new AdapterEndpoint(name, s, environment);
            adapters.Add(name switch
            {
                "virustotal" => new VirusTotalAdapter(endpoint),
                "paloalto" => new PaloAltoAdapter(endpoint),
                "crowdstrike" => new CrowdStrikeAdapter(endpoint, time),
                "abuseipdb" => new AbuseIpDbAdapter(endpoint),
                "jira" => new JiraAdapter(endpoint),
                "misp" => new MispAdapter(endpoint),
                "pagerduty" => new PagerDutyAdapter(endpoint),
                "http" => new GenericHttpAdapter(endpoint),
                _ => new SplunkAdapter(endpoint),
            });
        }
        return adapters;
    }
}
