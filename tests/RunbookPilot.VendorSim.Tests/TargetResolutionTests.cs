using System.Text.Json.Nodes;
using RunbookPilot.Domain.Adapters;
using RunbookPilot.Engine.Adapters;
using RunbookPilot.Domain.Execution;
using RunbookPilot.Engine.Execution;
using RunbookPilot.Domain.Policy;
using RunbookPilot.Domain.Library;

namespace RunbookPilot.VendorSim.Tests;

/// <summary>
/// A containment aimed at a device id is decided on the host the EDR says it is (the CrowdStrike adapter against its
/// simulator, over HTTP on 127.0.0.1): a protected host's device id is refused, an unknown device id or host is refused
/// with the reason, and nothing is contained.
/// </summary>
public sealed class TargetResolutionTests : IAsyncLifetime
{
    private VendorSimulator _sim = null!;
    private IAdapter _falcon = null!;
    private AdapterRegistry _registry = null!;

    public async Task InitializeAsync()
    {
        _sim = await VendorSimulator.StartAsync();
        _falcon = AdapterFactory.Create(new Dictionary<string, AdapterSettings> { ["crowdstrike"] = _sim.DemoSettings()["crowdstrike"] },
            n => VendorSimulator.Credentials.GetValueOrDefault(n), TimeProvider.System).Single();
        _registry = new AdapterRegistry([_falcon]);
    }

    public async Task DisposeAsync()
    {
        (_falcon as IDisposable)?.Dispose();
        await _sim.DisposeAsync();
    }

    private static readonly GlobalPolicy Policy = GlobalPolicy.Parse("allow_list:\n  hosts: [dc01]\n", "global_policy.yaml").Value!;

    private Task<AdapterResult> Isolate(JsonObject parameters) =>
        AdapterInvoker.InvokeAsync(_falcon, new AdapterCall("isolate_host", parameters, "rbp-ex-1-isolate"), Policy, _registry, CancellationToken.None);

    [Fact]
    public async Task The_device_id_of_a_protected_host_is_refused_and_nothing_is_contained()
    {
        var dc = _sim.State.AddDevice("DC01.corp.example");
        var result = await Isolate(new JsonObject { ["device_id"] = dc.Id });
        Assert.True(result.Refused, result.Error);
        Assert.Contains("DC01.corp.example", result.Error, StringComparison.Ordinal);
        Assert.Equal("normal", dc.Status);
    }

    [Fact]
    public async Task An_unknown_device_id_or_host_is_refused_with_the_reason()
    {
        var unknown = await Isolate(new JsonObject { ["device_id"] = "0123456789abcdef0123456789abcdef" });
        Assert.True(unknown.Refused);
        Assert.Contains("unknown to the EDR", unknown.Error, StringComparison.Ordinal);
        var nohost = await Isolate(new JsonObject { ["hostname"] = "ghost-17" });
        Assert.True(nohost.Refused);
        Assert.Contains("no device with host name ghost-17", nohost.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_device_id_of_an_unprotected_host_is_contained()
    {
        var ws = _sim.State.AddDevice("WS-17");
        var result = await Isolate(new JsonObject { ["device_id"] = ws.Id });
        Assert.True(result.Success, result.Error);
        Assert.Equal("contained", ws.Status);
    }

    [Fact]
    public async Task Without_an_EDR_that_resolves_device_ids_a_device_id_is_refused()
    {
        var plugin = new Engine.Tests.Safety.RoguePlugin();
        var edrless = new AdapterRegistry([plugin]);
        var descriptor = new AdapterDescriptor("rogue", "", [new ActionDescriptor("contain", ActionKind.Reversible, "", ["device_id"], [], Targets: new Dictionary<string, TargetKind> { ["device_id"] = TargetKind.DeviceId })]);
        var result = await AdapterInvoker.InvokeAsync(new Renamed(plugin, descriptor), new AdapterCall("contain", new JsonObject { ["device_id"] = "abc123" }, "k"), Policy, edrless, CancellationToken.None);
        Assert.True(result.Refused);
        Assert.Empty(plugin.Executed);
    }

    private sealed class Renamed(IAdapter inner, AdapterDescriptor descriptor) : IAdapter
    {
        public AdapterDescriptor Descriptor => descriptor;
        public AdapterRequest Describe(AdapterCall call) => inner.Describe(call);
        public Task<AdapterResult> ExecuteAsync(AdapterCall call, CancellationToken cancellationToken) => inner.ExecuteAsync(call, cancellationToken);
    }
}
