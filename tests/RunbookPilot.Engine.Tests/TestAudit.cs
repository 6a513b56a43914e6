using RunbookPilot.Engine.ReadModel;

namespace RunbookPilot.Engine.Tests;

/// <summary>The audit key tests run with (the server and the CLI require RBPILOT_AUDIT_KEY outside --demo).</summary>
public static class TestAudit
{
    public const string Secret = "test-audit-key-not-for-production-0123456789";

    public static byte[] Key { get; } = AuditKeys.FromSecret(Secret);

    /// <summary>The process environment, with <see cref="Secret"/> as RBPILOT_AUDIT_KEY.</summary>
    public static string? Environment(string name) => name == AuditKeys.Variable ? Secret : System.Environment.GetEnvironmentVariable(name);
}
