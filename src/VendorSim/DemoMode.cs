using RunbookPilot.Domain.Adapters;
using RunbookPilot.Engine.Adapters;
using RunbookPilot.Engine.Hosting;
using RunbookPilot.Domain.Library;
using RunbookPilot.Domain.Core;
using RunbookPilot.Engine.Configuration;

namespace RunbookPilot.VendorSim;

/// <summary>The adapters a command runs with, and the vendor simulators started for the vendors adapters.yaml does not configure.</summary>
public sealed class AdapterSet(IReadOnlyList<IAdapter> adapters, VendorSimulator? simulator, RunbookPilot.Engine.Configuration.LlmOptions? llm = null) : IAsyncDisposable
{
    public IReadOnlyList<IAdapter> Adapters { get; } = adapters;

    /// <summary>Simulators stand in for at least one vendor (the dashboard shows the demo banner).</summary>
    public bool Simulated => simulator is not null;

    /// <summary>The model endpoint to use: the configured one, or in demo mode the simulator's.</summary>
    public RunbookPilot.Engine.Configuration.LlmOptions? Llm { get; } = llm;

    public async ValueTask DisposeAsync()
    {
        foreach (var a in Adapters.OfType<IDisposable>()) a.Dispose();
        if (simulator is not null) await simulator.DisposeAsync();
    }
}

/// <summary>
/// The adapters a command or the server runs with. Vendors come from adapters.yaml (credentials from the environment
/// variables it names) plus plugins. Only under an explicit <c>--demo</c> do the local simulators (127.0.0.1, demo
/// credentials) stand in for the vendors adapters.yaml does not configure, and the command says so on standard error.
/// Without it an unconfigured vendor that a playbook uses is reported here and by /health, and its steps fail with
/// "adapter X is not configured": nothing ever runs against a simulator by accident. An adapters.yaml that does not
/// validate stops the start (<see cref="ConfigurationException"/>); it never falls back to defaults or simulators.
/// </summary>
public static class DemoMode
{
    /// <param name="overrides">Adapters to use instead (tests drive the engine through their own adapters); empty: build them.</param>
    /// <param name="demo">Start the vendor simulators for what adapters.yaml does not configure.</param>
    public static async Task<AdapterSet> AdaptersAsync(RunbookPilotOptions options, IReadOnlyList<IAdapter> overrides, TextWriter error, bool demo = false)
    {
        if (overrides.Count > 0) return new AdapterSet(overrides, null, options.Llm);
        // No policy file means no allow-list, no compliance mode, no four-eyes: only a demo may run without one.
        if (!demo && !File.Exists(options.Library.Policy))
            throw new ConfigurationException([$"{options.Library.Policy}: no global policy file (a renamed or mistyped file would silently drop the allow-list); create it (for example with the line require_approval: false, the default) or start with --demo"]);
        var (plugins, pluginErrors) = AdapterPlugins.Load(options.PluginsFolder);
        foreach (var e in pluginErrors) await error.WriteLineAsync("warning: plugin " + e);
        var catalog = plugins.Aggregate(AdapterCatalog.BuiltIn, (c, p) => c.With(p.Descriptor));
        // The policy and adapters.yaml are checked before anything starts: a broken file never brings up simulators.
        var library = RunbookPilot.Domain.Library.PlaybookLibrary.Load(options.Library, catalog);
        if (library.ConfigurationErrors.Count > 0) throw ConfigurationException.From(library.ConfigurationErrors);
        var config = library.Adapters;
        var missing = AdapterFactory.Implemented.Where(n => !config.Adapters.ContainsKey(n)).Order(StringComparer.Ordinal).ToList();
        VendorSimulator? sim = null;
        var settings = config.Adapters.ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
        if (demo && missing.Count > 0)
        {
            var stateFile = options.IsPostgres ? null : Path.Combine(Path.GetDirectoryName(Path.GetFullPath(options.Database))!, "vendorsim-state.json");
            if (stateFile is not null) Directory.CreateDirectory(Path.GetDirectoryName(stateFile)!);
            sim = await VendorSimulator.StartAsync(stateFile: stateFile);
            var demoSettings = sim.DemoSettings();
            foreach (var name in missing) settings[name] = demoSettings[name];
            await error.WriteLineAsync($"DEMO MODE: {string.Join(", ", missing)} not configured in adapters.yaml; local vendor simulators at {sim.BaseAddress} stand in for them (their state is kept in the data folder).");
        }
        string? Env(string name) => Environment.GetEnvironmentVariable(name) ?? (sim is null ? null : VendorSimulator.Credentials.GetValueOrDefault(name));
        var adapters = AdapterFactory.Create(settings, Env, TimeProvider.System)
            .Concat(plugins.Select(p => p.Create(config.Adapters.GetValueOrDefault(p.Descriptor.Name), Env)))
            .ToList();
        var llm = options.Llm;
        if (sim is not null && llm is { Enabled: true, Configured: false })
        {
            llm = sim.DemoLlm();
            await error.WriteLineAsync($"DEMO MODE: no model configured (OPENROUTER_API_KEY or RBPILOT_LLM_BASE_URL); enrichment comes from the simulator's OpenAI-compatible endpoint at {llm.BaseUrl}.");
        }
        return new AdapterSet(adapters, sim, llm);
    }

}
