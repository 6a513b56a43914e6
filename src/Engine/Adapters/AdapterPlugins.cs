using System.Reflection;
using System.Runtime.Loader;
using RunbookPilot.Domain.Adapters;
using RunbookPilot.Domain.Library;

namespace RunbookPilot.Engine.Adapters;

/// <summary>
/// An adapter from another assembly (NFR-5.3): drop its DLL into the <c>plugins/</c> folder. The descriptor joins the
/// catalogue (so playbooks that use it validate), and <see cref="Create"/> builds the adapter from its adapters.yaml entry.
/// </summary>
public interface IAdapterPlugin
{
    AdapterDescriptor Descriptor { get; }

    /// <param name="settings">The adapter's entry in adapters.yaml, or null when it has none.</param>
    /// <param name="environment">Reads an environment variable (credentials are named in adapters.yaml, never stored in it).</param>
    IAdapter Create(AdapterSettings? settings, Func<string, string?> environment);
}

/// <summary>Finds <see cref="IAdapterPlugin"/>s in the DLLs of a folder.</summary>
public static class AdapterPlugins
{
    public static (IReadOnlyList<IAdapterPlugin> Plugins, IReadOnlyList<string> Errors) Load(string folder)
    {
        var plugins = new List<IAdapterPlugin>();
        var errors = new List<string>();
        if (!Directory.Exists(folder)) return (plugins, errors);
        foreach (var dll in Directory.GetFiles(folder, "*.dll").Order(StringComparer.Ordinal))
        {
            Assembly assembly;
            try
            {
                var full = Path.GetFullPath(dll);
                var name = AssemblyName.GetAssemblyName(full);
                // An assembly already loaded (the engine copied beside a plugin, or a plugin loaded before) is used, not loaded twice.
                assembly = AssemblyLoadContext.Default.Assemblies.FirstOrDefault(a => a.GetName().Name == name.Name)
                    ?? AssemblyLoadContext.Default.LoadFromAssemblyPath(full);
            }
            catch (Exception ex) when (ex is BadImageFormatException or FileLoadException or IOException)
            {
                errors.Add($"{dll}: not a loadable .NET assembly ({ex.Message})");
                continue;
            }
            Type[] types;
            try
            {
                types = assembly.GetTypes();
            }
            catch (ReflectionTypeLoadException ex)
            {
                errors.Add($"{dll}: {ex.LoaderExceptions.FirstOrDefault()?.Message ?? ex.Message}");
                continue;
            }
            foreach (var type in types.Where(t => typeof(IAdapterPlugin).IsAssignableFrom(t) && t is { IsAbstract: false, IsInterface: false }))
            {
                if (type.GetConstructor(Type.EmptyTypes) is null)
                {
                    errors.Add($"{dll}: {type.FullName} needs a public parameterless constructor");
                    continue;
                }
                plugins.Add((IAdapterPlugin)Activator.CreateInstance(type)!);
            }
        }
        return (plugins, errors);
    }

    /// <summary>The built-in catalogue plus the descriptors of the plugins in <paramref name="folder"/>.</summary>
    public static AdapterCatalog Catalog(string folder) =>
        Load(folder).Plugins.Aggregate(AdapterCatalog.BuiltIn, (catalog, plugin) => catalog.With(plugin.Descriptor));
}
