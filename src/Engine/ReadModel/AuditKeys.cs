using System.Security.Cryptography;
using System.Text;
using RunbookPilot.Engine.Hosting;
using RunbookPilot.Domain.Core;
using RunbookPilot.Engine.Configuration;

namespace RunbookPilot.Engine.ReadModel;

/// <summary>
/// The key of the audit MACs (<c>RBPILOT_AUDIT_KEY</c>). It lives outside the database, so someone who can write the
/// database file cannot re-chain the audit rows or sign checkpoints. Required by the server and the CLI outside
/// <c>--demo</c>; a demo (and the engine embedded in tests) uses a random key kept in the data folder, readable by the
/// service user only.
/// </summary>
public static class AuditKeys
{
    public const string Variable = "RBPILOT_AUDIT_KEY";
    public const int MinimumLength = 16;

    public static byte[] FromSecret(string secret) => SHA256.HashData(Encoding.UTF8.GetBytes("runbookpilot-audit-v1\n" + secret));

    /// <summary>The key from <see cref="Variable"/>; under <paramref name="demo"/> without it, the data folder's demo key; else a refusal.</summary>
    public static byte[] Resolve(Func<string, string?> environment, RunbookPilotOptions options, bool demo)
    {
        if (environment(Variable) is { Length: > 0 } secret)
            return secret.Length >= MinimumLength
                ? FromSecret(secret)
                : throw new ConfigurationException([$"{Variable} is shorter than {MinimumLength} characters: use a long random secret (e.g. openssl rand -base64 32)"]);
        if (demo) return DemoKey(options);
        throw new ConfigurationException([$"{Variable} is not set: the audit trail is signed with it (set a long random secret, keep it outside the database; --demo uses a throw-away key)"]);
    }

    /// <summary>A random key in <c>audit-demo.key</c> beside the database (created once, mode 0600).</summary>
    public static byte[] DemoKey(RunbookPilotOptions options)
    {
        var folder = options.IsPostgres ? Path.GetFullPath("data") : Path.GetDirectoryName(Path.GetFullPath(options.Database))!;
        Directory.CreateDirectory(folder);
        var file = Path.Combine(folder, "audit-demo.key");
        if (!File.Exists(file))
        {
            var key = RandomNumberGenerator.GetBytes(32);
            using (var stream = new FileStream(file, OwnerOnly(FileMode.CreateNew)))
                stream.Write(key);
        }
        return File.ReadAllBytes(file);
    }

    /// <summary>Options for a file only the service user may read or write (keys, checkpoints).</summary>
    public static FileStreamOptions OwnerOnly(FileMode mode)
    {
        var options = new FileStreamOptions { Mode = mode, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        return options;
    }
}
