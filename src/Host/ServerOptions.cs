namespace RunbookPilot.Host;

/// <summary>How the server is reached and who may use it (RBPILOT_* environment variables or command-line flags).</summary>
public sealed record ServerOptions
{
    public string Urls { get; init; } = "http://127.0.0.1:8080";
    public string User { get; init; } = "admin";
    public string? Password { get; init; }
    /// <summary>Analyst accounts besides the admin (RBPILOT_ANALYSTS="alice:secret,bob:secret"): they decide approvals and simulations, but
    /// change no configuration (bindings, pause/resume, rebuilding the read model are for the admin).</summary>
    public IReadOnlyDictionary<string, string> Analysts { get; init; } = new Dictionary<string, string>();
    /// <summary>Start without a configured password (admin/demo) and with the vendor simulators; said loudly in the log.</summary>
    public bool Demo { get; init; }
    /// <summary>Bearer token SIEM webhooks may send instead of basic auth (RBPILOT_WEBHOOK_TOKEN).</summary>
    public string? WebhookToken { get; init; }
    /// <summary>Secret for an HMAC-SHA256 signature of the webhook body in X-RunbookPilot-Signature: sha256=&lt;hex&gt; (RBPILOT_WEBHOOK_SECRET).</summary>
    public string? WebhookSecret { get; init; }
    public long MaxBodyBytes { get; init; } = 1024 * 1024;
    /// <summary>Above this many accepted alerts waiting for their executions, the webhook answers 503 with Retry-After (RBPILOT_MAX_BACKLOG).</summary>
    public int MaxBacklog { get; init; } = 5000;
    /// <summary>Above this many alerts being journaled at once, the webhook answers 503 with Retry-After, so latency stays bounded.</summary>
    public int MaxInFlight { get; init; } = 2000;
    public bool JsonLogs { get; init; }
    /// <summary>Other origins browsers may call the API from (RBPILOT_ALLOWED_ORIGINS, comma-separated, e.g. the address a reverse proxy serves).</summary>
    public IReadOnlyList<string> AllowedOrigins { get; init; } = [];
    /// <summary>Failed sign-ins per user or per address before answers slow down, and before they are refused (429) for <see cref="LockoutWindow"/>.</summary>
    public int SlowAfterFailures { get; init; } = 3;
    public int LockAfterFailures { get; init; } = 10;
    public TimeSpan LockoutWindow { get; init; } = TimeSpan.FromMinutes(15);

    public const string DemoPassword = "demo";
    private static readonly string[] WeakPasswords = ["", "admin", "password", "changeme", "demo", "runbookpilot"];

    /// <summary>Why the server must not start with these options, or null.</summary>
    public string? Refusal() =>
        !Demo && (Password is null || WeakPasswords.Contains(Password, StringComparer.OrdinalIgnoreCase))
            ? "RBPILOT_PASS is empty or a default password: set RBPILOT_USER and RBPILOT_PASS, or start with --demo to try RunbookPilot with admin/demo"
            : Analysts.FirstOrDefault(a => WeakPasswords.Contains(a.Value, StringComparer.OrdinalIgnoreCase) || a.Key == User) is { Key: { } weak }
                ? $"RBPILOT_ANALYSTS: analyst '{weak}' has a default password or the admin's name; give each analyst an own name and a real password"
                : !Demo && (WebhookToken is { Length: < 16 } || WebhookSecret is { Length: < 16 })
                    ? "RBPILOT_WEBHOOK_TOKEN / RBPILOT_WEBHOOK_SECRET must be at least 16 characters (use a long random value)"
                    : null;

    public string EffectivePassword => Demo && string.IsNullOrEmpty(Password) ? DemoPassword : Password!;

    /// <summary>Reads <c>name:password</c> pairs separated by commas; a pair without a password is refused at start.</summary>
    public static IReadOnlyDictionary<string, string> ParseAnalysts(string? value)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in (value ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var colon = pair.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0 || colon == pair.Length - 1)
                throw new InvalidOperationException($"RBPILOT_ANALYSTS: '{pair.Split(':')[0]}' needs the form name:password (pairs separated by commas)");
            result[pair[..colon]] = pair[(colon + 1)..];
        }
        return result;
    }

    public static ServerOptions From(string[] args)
    {
        static string? Env(string name) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } v ? v : null;
        string? Arg(string name) => Array.IndexOf(args, name) is var i and >= 0 && i + 1 < args.Length ? args[i + 1] : null;
        return new ServerOptions
        {
            Urls = Arg("--urls") ?? Env("RBPILOT_URLS") ?? "http://127.0.0.1:8080",
            User = Env("RBPILOT_USER") ?? "admin",
            Password = Env("RBPILOT_PASS"),
            Demo = args.Contains("--demo"),
            Analysts = ParseAnalysts(Env("RBPILOT_ANALYSTS")),
            WebhookToken = Env("RBPILOT_WEBHOOK_TOKEN"),
            WebhookSecret = Env("RBPILOT_WEBHOOK_SECRET"),
            JsonLogs = args.Contains("--json-logs") || Env("RBPILOT_LOG_FORMAT") == "json",
            AllowedOrigins = (Env("RBPILOT_ALLOWED_ORIGINS") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
            MaxBacklog = int.TryParse(Env("RBPILOT_MAX_BACKLOG"), out var backlog) && backlog > 0 ? backlog : 5000,
        };
    }
}
