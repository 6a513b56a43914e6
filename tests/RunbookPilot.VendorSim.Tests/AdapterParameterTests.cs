using System.Text.Json.Nodes;
using RunbookPilot.Domain.Adapters;
using RunbookPilot.Engine.Adapters;
using RunbookPilot.VendorSim;

namespace RunbookPilot.VendorSim.Tests;

/// <summary>
/// No silently ignored parameters (issue 14, item 6): every parameter an action declares changes the request its
/// adapter sends. A playbook may only name declared parameters, so a parameter the adapter does not read would be
/// accepted and then ignored.
/// </summary>
public sealed class AdapterParameterTests : IAsyncLifetime
{
    private VendorSimulator _sim = null!;

    public async Task InitializeAsync() => _sim = await VendorSimulator.StartAsync();

    public async Task DisposeAsync() => await _sim.DisposeAsync();

    /// <summary>Two different valid values of a parameter, by its name.</summary>
    private static (JsonNode A, JsonNode B) Values(string name) => name switch
    {
        "ip" or "resource" or "value" or "source" => ("203.0.113.7", "198.51.100.8"),
        "hostname" => ("ws-fin-1", "ws-fin-2"),
        "device_id" => ("0a1b2c3d4e5f", "9f8e7d6c5b4a"),
        "domain" => ("a.example", "b.example"),
        "hash" => (new string('a', 64), new string('b', 64)),
        "url" => ("https://hooks.example.internal/a", "https://hooks.example.internal/b"),
        "method" => ("POST", "PUT"),
        "headers" => (new JsonObject { ["X-Case"] = "1" }, new JsonObject { ["X-Case"] = "2" }),
        "body" or "custom_details" => (new JsonObject { ["a"] = 1 }, new JsonObject { ["a"] = 2 }),
        "labels" => (new JsonArray("a"), new JsonArray("b")),
        "max_results" or "max_age_days" or "limit" or "timeout" or "pid" => (7, 9),
        "resource_type" => ("ip-address", "domain"),
        "severity" => ("critical", "warning"),
        "rule_action" => ("deny", "drop"),
        _ => ("v-" + name + "-1", "v-" + name + "-2"),
    };

    public static IEnumerable<object[]> Parameters() =>
        AdapterCatalog.BuiltIn.Adapters.SelectMany(a => a.Actions.SelectMany(x => x.AllParams.Select(p => new object[] { a.Name, x.Name, p })));

    [Theory]
    [MemberData(nameof(Parameters))]
    public void Every_declared_parameter_changes_the_request(string adapterName, string action, string parameter)
    {
        var adapter = AdapterFactory.Create(new Dictionary<string, Domain.Library.AdapterSettings> { [adapterName] = _sim.DemoSettings()[adapterName] },
            n => VendorSimulator.Credentials.GetValueOrDefault(n), TimeProvider.System).Single();
        var descriptor = adapter.Descriptor.Find(action)!;
        var baseline = new JsonObject();
        foreach (var p in descriptor.RequiredParams) baseline[p] = Values(p).A.DeepClone();
        var (a, b) = Values(parameter);
        var one = (JsonObject)baseline.DeepClone();
        one[parameter] = a.DeepClone();
        var other = (JsonObject)baseline.DeepClone();
        other[parameter] = b.DeepClone();
        string Request(JsonObject parameters)
        {
            var r = adapter.Describe(new AdapterCall(action, parameters, "rbp-ex-1-s1"));
            return $"{r.Method} {r.Url} {string.Join(",", r.Headers.Select(h => h.Key + "=" + h.Value))} {r.Body}";
        }
        Assert.NotEqual(Request(one), Request(other));
    }
}
