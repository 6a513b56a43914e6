using RunbookPilot.Domain.Core;
using RunbookPilot.Domain.Execution;
using RunbookPilot.Engine.Execution;
using RunbookPilot.Domain.Playbooks;
using RunbookPilot.Domain.Library;

namespace RunbookPilot.Engine.Configuration;

/// <summary>
/// Where things are, the same for the CLI and the server (issue "one way to point at things"): <c>--db</c> /
/// <c>RBPILOT_DB</c> (a SQLite file, or a PostgreSQL connection string), <c>--playbooks</c> / <c>RBPILOT_PLAYBOOKS</c>
/// (its <c>sigma/</c> subfolder is the Sigma index unless <c>--sigma</c>), <c>--policy</c> / <c>RBPILOT_POLICY</c>,
/// <c>--adapters</c> / <c>RBPILOT_ADAPTERS</c>.
/// </summary>
public sealed record RunbookPilotOptions
{
    public const string DefaultDatabase = "./data/runbookpilot.db";

    public string Database { get; init; } = DefaultDatabase;
    public string PlaybooksFolder { get; init; } = "./playbooks";
    public string? PolicyFile { get; init; }
    public string? AdaptersFile { get; init; }
    public string? SigmaFolder { get; init; }
    /// <summary>Folder of adapter plugin DLLs (default ./plugins, RBPILOT_PLUGINS).</summary>
    public string PluginsFolder { get; init; } = "./plugins";

    /// <summary>Address the node binds (loopback by default; RBPILOT_CLUSTER_HOSTNAME) and its port (0: any free port, single node; RBPILOT_CLUSTER_PORT).</summary>
    public string Hostname { get; init; } = "127.0.0.1";
    public int Port { get; init; }
    /// <summary>The host name other nodes reach this one at, when it differs from the bound one (a container: bind 0.0.0.0, public "node2"; RBPILOT_CLUSTER_PUBLIC_HOSTNAME).</summary>
    public string? PublicHostname { get; init; }
    /// <summary>Seed nodes of a multi-node cluster (RBPILOT_CLUSTER_SEEDS: host:port or akka.ssl.tcp://runbookpilot@host:port, comma-separated); empty: the node forms a cluster of its own.</summary>
    public IReadOnlyList<string> SeedNodes { get; init; } = [];
    /// <summary>Cluster roles of this node besides "runbookpilot" (RBPILOT_CLUSTER_ROLES, comma-separated).</summary>
    public IReadOnlyList<string> Roles { get; init; } = [];

    /// <summary>A member that could not write its heartbeat for this long downs itself (<see cref="Hosting.ClusterJoiner"/>;
    /// 15 s, 5 s before the others count it as gone; shorter in tests).</summary>
    public TimeSpan ClusterFence { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>A node started with seeds is one of several: it needs a shared database and operator certificates.</summary>
    public bool IsClusterMember => SeedNodes.Count > 0;

    /// <summary>A cluster's CA certificate (PEM) and this node's certificate (PKCS#12) for mutual TLS between nodes
    /// (RBPILOT_TLS_CA, RBPILOT_TLS_CERT, RBPILOT_TLS_CERT_PASSWORD); a single node without them makes its own in the data folder.</summary>
    public string? TlsAuthority { get; init; }
    public string? TlsCertificate { get; init; }
    public string? TlsCertificatePassword { get; init; }

    public ExecutionDefaults Defaults { get; init; } = new();

    /// <summary>The read-model projector's settings.</summary>
    public ReadModelOptions ReadModel { get; init; } = new();

    /// <summary>The model endpoint for enrichment (RBPILOT_LLM_*, OPENROUTER_API_KEY); null: no enrichment at all.</summary>
    public LlmOptions? Llm { get; init; }

    /// <summary>Playbooks whose trigger matches and that no binding names run as an implicit auto_run binding (RBPILOT_IMPLICIT_BINDINGS=false turns it off).</summary>
    public bool ImplicitBindings { get; init; } = true;

    /// <summary>The alert intake saves a snapshot every this many events (a restart reads it and what followed).</summary>
    public int IntakeSnapshotEvery { get; init; } = 10_000;

    /// <summary>How long an alert id is remembered to answer a repeat with the first submission (RBPILOT_DEDUPE_DAYS, default 7).</summary>
    public TimeSpan DedupeWindow { get; init; } = TimeSpan.FromDays(7);

    /// <summary>Let the SQLite journal batch writes of many executions into one transaction (see bench/README.md).</summary>
    public bool BatchJournalWrites { get; init; } = true;

    /// <summary>Akka's own log level (the CLI uses Warning, the server Info).</summary>
    public Akka.Event.LogLevel AkkaLogLevel { get; init; } = Akka.Event.LogLevel.InfoLevel;

    /// <summary>The audit MAC key (<see cref="ReadModel.AuditKeys"/>); null: the engine uses the data folder's demo key.</summary>
    public byte[]? AuditKey { get; init; }

    /// <summary>Where signed checkpoints of the audit chains are appended (RBPILOT_AUDIT_CHECKPOINTS); outside the database folder.</summary>
    public string? AuditCheckpointFile { get; init; }

    /// <summary>How often the engine appends a checkpoint while running (and once at shutdown).</summary>
    public TimeSpan AuditCheckpointEvery { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>The checkpoint file: configured, or <c>audit-checkpoints/&lt;database&gt;.jsonl</c> beside the database's folder.</summary>
    public string CheckpointFile => AuditCheckpointFile ?? (IsPostgres
        ? Path.GetFullPath(Path.Combine("audit-checkpoints", $"postgres-{PostgresPart("Host")}-{PostgresPart("Port") ?? "5432"}-{PostgresPart("Database")}.jsonl"))
        : Path.Combine(Path.GetDirectoryName(Path.GetDirectoryName(Path.GetFullPath(Database))!) ?? "/", "audit-checkpoints",
            Path.GetFileNameWithoutExtension(Database) + ".jsonl"));

    /// <summary>One setting of the PostgreSQL connection string (file-name safe), or null.</summary>
    private string? PostgresPart(string key) =>
        Database.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(p => p.Split('=', 2)).Where(p => p.Length == 2 && p[0].Trim().Equals(key, StringComparison.OrdinalIgnoreCase))
            .Select(p => string.Concat(p[1].Trim().Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_'))).FirstOrDefault();

    public bool IsPostgres => Database.Contains("Host=", StringComparison.OrdinalIgnoreCase);

    public string ConnectionString => IsPostgres ? Database : $"Data Source={Path.GetFullPath(Database)}";

    public string ProviderName => IsPostgres ? "PostgreSQL.15" : "SQLite.MS";

    public LibraryPaths Library => new(PlaybooksFolder, PolicyFile, AdaptersFile, SigmaFolder);

    /// <summary>Options from RBPILOT_* environment variables, falling back to the defaults.</summary>
    public static RunbookPilotOptions FromEnvironment() => FromSettings(Environment.GetEnvironmentVariable);

    /// <summary>
    /// Options from settings named as the RBPILOT_* environment variables are (<see cref="SettingsFile"/> maps
    /// appsettings.json onto them), one record per area. A value that does not parse stops the start
    /// (<see cref="ConfigurationException"/>); it never falls back to the default.
    /// </summary>
    /// <summary>
    /// Why these cluster settings cannot run (empty when they can): several nodes share one journal, so a node with
    /// seeds needs PostgreSQL, not a SQLite file of its own. (Operator certificates are required too:
    /// <see cref="Hosting.NodeCertificates.Load"/>.)
    /// </summary>
    public IReadOnlyList<string> ClusterProblems()
    {
        if (!IsClusterMember) return [];
        var problems = new List<string>();
        if (!IsPostgres)
            problems.Add($"RBPILOT_CLUSTER_SEEDS is set but RBPILOT_DB is a SQLite file ({Database}): the nodes of a cluster share one journal, so a cluster needs PostgreSQL (RBPILOT_DB=\"Host=…;Database=…;Username=…;Password=…\"); leave the seeds out to run one node on SQLite");
        return problems;
    }

    /// <summary>A seed as an actor-system address: host:port becomes akka.ssl.tcp://runbookpilot@host:port.</summary>
    private static string? SeedAddress(string seed, List<string> problems)
    {
        var address = seed.Contains("://", StringComparison.Ordinal) ? seed : $"akka.ssl.tcp://runbookpilot@{seed}";
        if (Uri.TryCreate(address, UriKind.Absolute, out var uri) && uri.Scheme == "akka.ssl.tcp" && uri.UserInfo == "runbookpilot" && uri.Port > 0 && uri.AbsolutePath is "" or "/")
            return address.TrimEnd('/');
        problems.Add($"RBPILOT_CLUSTER_SEEDS: '{seed}' is not host:port or akka.ssl.tcp://runbookpilot@host:port (nodes talk over TLS only)");
        return null;
    }

    public static RunbookPilotOptions FromSettings(Func<string, string?> settings)
    {
        string? Get(string name) => settings(name) is { Length: > 0 } v ? v : null;
        var problems = new List<string>();
        double? Number(string name, double min)
        {
            if (Get(name) is not { } text) return null;
            if (double.TryParse(text, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var n) && n >= min) return n;
            problems.Add($"{name}: '{text}' is not a number of at least {min}");
            return null;
        }
        bool? Flag(string name)
        {
            if (Get(name) is not { } text) return null;
            if (bool.TryParse(text, out var b)) return b;
            problems.Add($"{name}: '{text}' is not true or false");
            return null;
        }
        var d = new RunbookPilotOptions();
        var options = d with
        {
            Database = Get("RBPILOT_DB") ?? d.Database,
            PlaybooksFolder = Get("RBPILOT_PLAYBOOKS") ?? d.PlaybooksFolder,
            PolicyFile = Get("RBPILOT_POLICY"),
            AdaptersFile = Get("RBPILOT_ADAPTERS"),
            SigmaFolder = Get("RBPILOT_SIGMA"),
            PluginsFolder = Get("RBPILOT_PLUGINS") ?? d.PluginsFolder,
            AuditCheckpointFile = Get("RBPILOT_AUDIT_CHECKPOINTS"),
            TlsAuthority = Get("RBPILOT_TLS_CA"),
            TlsCertificate = Get("RBPILOT_TLS_CERT"),
            TlsCertificatePassword = Get("RBPILOT_TLS_CERT_PASSWORD"),
            Llm = LlmOptions.FromEnvironment(settings),
            Defaults = new ExecutionDefaults(
                (int?)Number("RBPILOT_MAX_RETRIES", 0) ?? d.Defaults.MaxRetries,
                Number("RBPILOT_RETRY_DELAY_SECONDS", 0.001) is { } delay ? TimeSpan.FromSeconds(delay) : null,
                Number("RBPILOT_ATTEMPT_TIMEOUT_SECONDS", 0.001) is { } timeout ? TimeSpan.FromSeconds(timeout) : null),
            DedupeWindow = Number("RBPILOT_DEDUPE_DAYS", 0.001) is { } days ? TimeSpan.FromDays(days) : d.DedupeWindow,
            ImplicitBindings = Flag("RBPILOT_IMPLICIT_BINDINGS") ?? d.ImplicitBindings,
            IntakeSnapshotEvery = (int?)Number("RBPILOT_INTAKE_SNAPSHOT_EVERY", 1) ?? d.IntakeSnapshotEvery,
            ReadModel = new ReadModelOptions(Flag("RBPILOT_FOLLOW_JOURNAL") ?? d.ReadModel.FollowJournal),
            Hostname = Get("RBPILOT_CLUSTER_HOSTNAME") ?? d.Hostname,
            PublicHostname = Get("RBPILOT_CLUSTER_PUBLIC_HOSTNAME"),
            Port = (int?)Number("RBPILOT_CLUSTER_PORT", 0) ?? d.Port,
            SeedNodes = List("RBPILOT_CLUSTER_SEEDS").Select(s => SeedAddress(s, problems)).OfType<string>().ToList(),
            Roles = List("RBPILOT_CLUSTER_ROLES"),
        };
        problems.AddRange(options.ClusterProblems());
        return problems.Count == 0 ? options : throw new ConfigurationException(problems);

        List<string> List(string name) => Get(name)?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList() ?? [];
    }
}

/// <summary>The read-model projector: <see cref="FollowJournal"/> off projects only when a query asks (catch-up), as a
/// short-lived CLI command or a load driver that measures executions alone wants.</summary>
public sealed record ReadModelOptions(bool FollowJournal = true);
