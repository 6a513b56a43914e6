using RunbookPilot.Domain.Yaml;

namespace RunbookPilot.Domain.Core;

/// <summary>
/// The configuration that holds the safety controls does not validate: the process must not start (fail closed). Each
/// problem is located (file:line:column) so an operator can fix it; the CLI and the server print them and exit 1.
/// </summary>
public sealed class ConfigurationException(IReadOnlyList<string> problems)
    : Exception("configuration does not validate; refusing to start:" + Environment.NewLine + string.Join(Environment.NewLine, problems))
{
    public IReadOnlyList<string> Problems { get; } = problems;

    public static ConfigurationException From(IEnumerable<Diagnostic> errors) => new(errors.Select(e => e.ToString()).ToList());
}
