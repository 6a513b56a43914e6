using Microsoft.Extensions.Logging;
using RunbookPilot.Domain.Adapters;
using RunbookPilot.Domain.Core;
using RunbookPilot.Domain.Library;
using RunbookPilot.Engine.Configuration;

namespace RunbookPilot.Engine.Configuration;

/// <summary>
/// The playbooks, policy and Sigma rules in force. Running executions keep the playbook version they started with. When
/// global_policy.yaml or adapters.yaml no longer validates, a reload keeps the last valid version in force, logs the
/// problems and keeps them in <see cref="Problems"/> (shown by /health, which then answers 503).
/// </summary>
public sealed class PlaybookCatalog
{
    private readonly LibraryPaths _paths;

    private PlaybookCatalog(LibraryPaths paths, PlaybookCatalogSnapshot current)
    {
        _paths = paths;
        Current = current;
    }

    public PlaybookCatalogSnapshot Current { get; private set; }

    public IReadOnlyList<string> Problems { get; private set; } = [];

    /// <summary>Loads the library; configuration that does not validate stops the start (<see cref="ConfigurationException"/>).</summary>
    public static PlaybookCatalog Load(RunbookPilotOptions options, AdapterCatalog adapters)
    {
        var library = PlaybookLibrary.Load(options.Library, adapters);
        if (library.ConfigurationErrors.Count > 0) throw ConfigurationException.From(library.ConfigurationErrors);
        return new PlaybookCatalog(options.Library, PlaybookCatalogSnapshot.From(library));
    }

    public PlaybookLibrary Reload(AdapterCatalog adapters, ILogger log)
    {
        var library = PlaybookLibrary.Load(_paths, adapters);
        if (library.ConfigurationErrors.Count > 0)
        {
            Problems = library.ConfigurationErrors.Select(e => e.ToString()).ToList();
            foreach (var problem in Problems)
                log.LogError("Configuration reload refused, the last valid configuration stays in force: {Problem}", problem);
            return Current.Library;
        }
        Problems = [];
        Current = PlaybookCatalogSnapshot.From(library);
        return library;
    }
}
