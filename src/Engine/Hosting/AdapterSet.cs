using RunbookPilot.Domain.Adapters;
using RunbookPilot.Engine.Configuration;

namespace RunbookPilot.Engine.Hosting;

/// <summary>
/// The adapters a command or the server runs with (built by <c>AdapterSetBuilder</c>), what stands in for the vendors
/// adapters.yaml does not configure (demo mode: the vendor simulators, disposed with the set), and the model endpoint.
/// </summary>
public sealed class AdapterSet(IReadOnlyList<IAdapter> adapters, IAsyncDisposable? standIns, LlmOptions? llm = null) : IAsyncDisposable
{
    public IReadOnlyList<IAdapter> Adapters { get; } = adapters;

    /// <summary>Simulators stand in for at least one vendor (the dashboard shows the demo banner).</summary>
    public bool Simulated => standIns is not null;

    /// <summary>The model endpoint to use: the configured one, or in demo mode the simulator's.</summary>
    public LlmOptions? Llm { get; } = llm;

    public async ValueTask DisposeAsync()
    {
        foreach (var a in Adapters.OfType<IDisposable>()) a.Dispose();
        if (standIns is not null) await standIns.DisposeAsync().ConfigureAwait(false);
    }
}
