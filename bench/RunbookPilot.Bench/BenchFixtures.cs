using System.Text.Json.Nodes;
using RunbookPilot.Domain.Adapters;
using RunbookPilot.Engine.Adapters;

namespace RunbookPilot.Bench;

/// <summary>What the load drivers run: a three-step L0 playbook and in-process adapters with no latency.</summary>
internal static class BenchFixtures
{
    /// <summary>The audit key of the benchmark servers (RBPILOT_AUDIT_KEY is required outside --demo).</summary>
    public static byte[] AuditKey { get; } = RunbookPilot.Engine.ReadModel.AuditKeys.FromSecret("bench-audit-key-0123456789");

    public const string Playbook = """
        id: bench_l0
        name: Three read-only lookups
        version: 1.0.0
        autonomy_level: L0
        trigger: { techniques: [T1071] }
        steps:
          - { id: vt, name: VirusTotal, action_type: lookup_ip, adapter: virustotal, autonomy_level: L0, params: { ip: "{{source.ip}}" } }
          - { id: abuse, name: AbuseIPDB, action_type: check_ip, adapter: abuseipdb, autonomy_level: L0, params: { ip: "{{source.ip}}" } }
          - { id: logs, name: Splunk, action_type: query, adapter: splunk, autonomy_level: L0, params: { query: "index=net src={{source.ip}}" } }
        """;

    private static readonly string[] AdapterNames = ["virustotal", "abuseipdb", "splunk", "paloalto"];

    /// <summary>The adapters the playbook calls, answering at once: the cost measured is the engine's, not a vendor's.</summary>
    public static List<IAdapter> InstantAdapters() =>
        AdapterNames.Select(n => (IAdapter)new InstantAdapter(AdapterCatalog.BuiltIn.Find(n)!)).ToList();

    private sealed class InstantAdapter(AdapterDescriptor descriptor) : IAdapter
    {
        public AdapterDescriptor Descriptor { get; } = descriptor;

        public AdapterRequest Describe(AdapterCall call) => new("GET", $"https://{Descriptor.Name}.invalid/{call.Action}", new Dictionary<string, string>(), null);

        public Task<AdapterResult> ExecuteAsync(AdapterCall call, CancellationToken cancellationToken) =>
            Task.FromResult(AdapterResult.Ok(new JsonObject { ["verdict"] = "clean" }));
    }
}
