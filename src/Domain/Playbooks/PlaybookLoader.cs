using RunbookPilot.Domain.Yaml;

namespace RunbookPilot.Domain.Playbooks;

/// <summary>Loads playbooks: shape (<see cref="YamlBinder"/>) then meaning (<see cref="PlaybookValidator"/>).</summary>
public static class PlaybookLoader
{
    public static LoadResult<Playbook> Parse(string text, string file, Adapters.AdapterCatalog? catalog = null) =>
        ModelLoader.Parse<Playbook>(text, file, (pb, ctx) => PlaybookValidator.Validate(pb, ctx, catalog ?? Adapters.AdapterCatalog.BuiltIn));

    public static LoadResult<Playbook> LoadFile(string path, Adapters.AdapterCatalog? catalog = null) =>
        ModelLoader.LoadFile<Playbook>(path, (pb, ctx) => PlaybookValidator.Validate(pb, ctx, catalog ?? Adapters.AdapterCatalog.BuiltIn));
}
