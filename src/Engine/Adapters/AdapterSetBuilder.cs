using RunbookPilot.Domain.Adapters;
using RunbookPilot.Domain.Core;
using RunbookPilot.Domain.Library;

namespace RunbookPilot.Engine.Adapters;

/// <summary>
/// Settings for the built-in vendors adapters.yaml does not configure (demo mode: the local simulators), and where the
/// credentials they name are looked up when the environment has no such variable.
/// </summary>
public sealed record StandInSettings(IReadOnlyDictionary<string, AdapterSettings> Settings, Func<string, string?> Credentials);

/// <summary>
/// The one place the adapters a command or the server runs with are assembled: plugins (the plugins folder), adapters.yaml
/// (validated with global_policy.yaml before anything starts; a problem is a <see cref="ConfigurationException"/>, never a
/// fallback to defaults), and credentials (the environment variables adapters.yaml names). <see cref="Missing"/> says which
/// built-in vendors adapters.yaml leaves out; <see cref="Build"/> may give them stand-in settings.
/// </summary>
public sealed class AdapterSetBuilder
{
    private readonly IReadOnlyList<IAdapterPlugin> _plugins;
    private readonly AdaptersConfig _config;

    private AdapterSetBuilder(IReadOnlyList<IAdapterPlugin> plugins, AdaptersConfig config)
    {
        _plugins = plugins;
        _config = config;
        Missing = AdapterFactory.Implemented.Where(n => !config.Adapters.ContainsKey(n)).Order(StringComparer.Ordinal).ToList();
    }

    /// <summary>The built-in vendors adapters.yaml does not configure, in ordinal order.</summary>
    public IReadOnlyList<string> Missing { get; }

    /// <summary>Checks the policy file and adapters.yaml and loads the plugins; nothing is started.</summary>
    /// <param name="warnings">Where plugins that do not load are reported (<c>warning: plugin ...</c>).</param>
    /// <param name="requirePolicy">
    /// A missing policy file stops the start: no policy file means no allow-list, no compliance mode, no four-eyes. Only a
    /// demo may run without one.
    /// </param>
    /// <exception cref="ConfigurationException">No policy file (when required), or global_policy.yaml or adapters.yaml does not validate.</exception>
    public static async Task<AdapterSetBuilder> LoadAsync(LibraryPaths library, string pluginsFolder, TextWriter warnings, bool requirePolicy = true)
    {
        if (requirePolicy && !File.Exists(library.Policy))
            throw new ConfigurationException([$"{library.Policy}: no global policy file (a renamed or mistyped file would silently drop the allow-list); create it (for example with the line require_approval: false, the default) or start with --demo"]);
        var (plugins, pluginErrors) = AdapterPlugins.Load(pluginsFolder);
        foreach (var e in pluginErrors) await warnings.WriteLineAsync("warning: plugin " + e).ConfigureAwait(false);
        var catalog = plugins.Aggregate(AdapterCatalog.BuiltIn, (c, p) => c.With(p.Descriptor));
        var loaded = PlaybookLibrary.Load(library, catalog);
        if (loaded.ConfigurationErrors.Count > 0) throw ConfigurationException.From(loaded.ConfigurationErrors);
        return new AdapterSetBuilder(plugins, loaded.Adapters);
    }

    /// <summary>
    /// The built-in adapters adapters.yaml configures, plus one per plugin; with <paramref name="standIns"/>, also the
    /// <see cref="Missing"/> vendors it has settings for. Credentials come from the environment, then from the stand-ins.
    /// </summary>
    public IReadOnlyList<IAdapter> Build(StandInSettings? standIns = null, TimeProvider? time = null)
    {
        var settings = _config.Adapters.ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
        if (standIns is not null)
        {
            foreach (var name in Missing)
                if (standIns.Settings.TryGetValue(name, out var standIn)) settings[name] = standIn;
        }
        string? Credential(string name) => Environment.GetEnvironmentVariable(name) ?? (standIns is null ? null : standIns.Credentials(name));
        return AdapterFactory.Create(settings, Credential, time ?? TimeProvider.System)
            .Concat(_plugins.Select(p => p.Create(_config.Adapters.GetValueOrDefault(p.Descriptor.Name), Credential)))
            .ToList();
    }
}
