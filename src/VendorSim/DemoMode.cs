using RunbookPilot.Domain.Adapters;
using RunbookPilot.Domain.Core;
using RunbookPilot.Engine.Adapters;
using RunbookPilot.Engine.Configuration;
using RunbookPilot.Engine.Hosting;

namespace RunbookPilot.VendorSim;

/// <summary>
/// The adapters a command or the server runs with. Vendors come from adapters.yaml (credentials from the environment
/// variables it names) plus plugins, assembled by <see cref="AdapterSetBuilder"/>. Only under an explicit <c>--demo</c> do
/// the local simulators (127.0.0.1, demo credentials) stand in for the vendors adapters.yaml does not configure, and the
/// command says so on standard error: demo mode only supplies the settings that point at them. Without it an unconfigured
/// vendor that a playbook uses is reported here and by /health, and its steps fail with "adapter X is not configured":
/// nothing ever runs against a simulator by accident. An adapters.yaml that does not validate stops the start
/// (<see cref="ConfigurationException"/>); it never falls back to defaults or simulators.
/// </summary>
public static class DemoMode
{
    /// <param name="overrides">Adapters to use instead (tests drive the engine through their own adapters); empty: build them.</param>
    /// <param name="demo">Start the vendor simulators for what adapters.yaml does not configure.</param>
    public static async Task<AdapterSet> AdaptersAsync(RunbookPilotOptions options, IReadOnlyList<IAdapter> overrides, TextWriter error, bool demo = false)
    {
        if (overrides.Count > 0) return new AdapterSet(overrides, null, options.Llm);
        // The policy and adapters.yaml are checked before anything starts: a broken file never brings up simulators.
        // No policy file means no allow-list, no compliance mode, no four-eyes: only a demo may run without one.
        var builder = await AdapterSetBuilder.LoadAsync(options.Library, options.PluginsFolder, error, requirePolicy: !demo);
        if (!demo || builder.Missing.Count == 0) return new AdapterSet(builder.Build(), null, options.Llm);

        var stateFile = options.IsPostgres ? null : Path.Combine(Path.GetDirectoryName(Path.GetFullPath(options.Database))!, "vendorsim-state.json");
        if (stateFile is not null) Directory.CreateDirectory(Path.GetDirectoryName(stateFile)!);
        var sim = await VendorSimulator.StartAsync(stateFile: stateFile);
        await error.WriteLineAsync($"DEMO MODE: {string.Join(", ", builder.Missing)} not configured in adapters.yaml; local vendor simulators at {sim.BaseAddress} stand in for them (their state is kept in the data folder).");
        var adapters = builder.Build(new StandInSettings(sim.DemoSettings(), name => VendorSimulator.Credentials.GetValueOrDefault(name)));
        var llm = options.Llm;
        if (llm is { Enabled: true, Configured: false })
        {
            llm = sim.DemoLlm();
            await error.WriteLineAsync($"DEMO MODE: no model configured (OPENROUTER_API_KEY or RBPILOT_LLM_BASE_URL); enrichment comes from the simulator's OpenAI-compatible endpoint at {llm.BaseUrl}.");
        }
        return new AdapterSet(adapters, sim, llm);
    }
}
