using System.Text.Json.Nodes;
using RunbookPilot.Domain.Adapters;
using RunbookPilot.Engine.Adapters;
using RunbookPilot.Domain.Library;

namespace RunbookPilot.Plugin.Echo;

/// <summary>Registers the "echo" adapter: one read-only action that returns its message (upper-cased when adapters.yaml says so).</summary>
public sealed class EchoPlugin : IAdapterPlugin
{
    public AdapterDescriptor Descriptor { get; } = new("echo", "Echoes a message (plugin example)",
        [new ActionDescriptor("echo", ActionKind.ReadOnly, "Return the message", ["message"], [])]);

    public IAdapter Create(AdapterSettings? settings, Func<string, string?> environment) =>
        new EchoAdapter(Descriptor, settings?.Options.GetValueOrDefault("upper")?.GetValue<bool>() == true);
}

public sealed class EchoAdapter(AdapterDescriptor descriptor, bool upper) : IAdapter
{
    public AdapterDescriptor Descriptor { get; } = descriptor;

    public AdapterRequest Describe(AdapterCall call) =>
        new("LOCAL", "echo://" + call.Action, new Dictionary<string, string>(), call.Parameters.ToJsonString());

    public Task<AdapterResult> ExecuteAsync(AdapterCall call, CancellationToken cancellationToken)
    {
        var message = call.Parameters["message"]?.ToString() ?? "";
        return Task.FromResult(AdapterResult.Ok(new JsonObject { ["echo"] = upper ? message.ToUpperInvariant() : message }, Describe(call)));
    }
}
