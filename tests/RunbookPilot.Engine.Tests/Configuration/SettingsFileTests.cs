using Microsoft.Extensions.Configuration;
using RunbookPilot.Domain.Core;
using RunbookPilot.Domain.Execution;
using RunbookPilot.Engine.Configuration;

namespace RunbookPilot.Engine.Tests.Configuration;

/// <summary>appsettings.json binds into one options record per area; RBPILOT_* wins; nothing misspelt or malformed is ignored.</summary>
public sealed class SettingsFileTests
{
    private static IConfiguration Json(string json) =>
        new ConfigurationBuilder().AddJsonStream(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(json))).Build();

    private static readonly Func<string, string?> NoEnvironment = _ => null;

    [Fact]
    public void Each_area_binds_from_its_section()
    {
        var options = SettingsFile.Load(Json("""
            { "Paths": { "Database": "/srv/rbp/rbp.db", "Playbooks": "/srv/rbp/playbooks" },
              "Execution": { "MaxRetries": 5, "RetryDelaySeconds": 2, "AttemptTimeoutSeconds": 10 },
              "Intake": { "DedupeDays": 2, "ImplicitBindings": false, "SnapshotEvery": 500 },
              "ReadModel": { "FollowJournal": false },
              "Llm": { "Model": "local/llama", "BaseUrl": "http://127.0.0.1:11434/v1", "TimeoutSeconds": 9, "Enabled": true } }
            """), NoEnvironment);

        Assert.Equal(("/srv/rbp/rbp.db", "/srv/rbp/playbooks"), (options.Database, options.PlaybooksFolder));
        Assert.Equal(new ExecutionDefaults(5, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(10)), options.Defaults);
        Assert.Equal((TimeSpan.FromDays(2), false, 500), (options.DedupeWindow, options.ImplicitBindings, options.IntakeSnapshotEvery));
        Assert.False(options.ReadModel.FollowJournal);
        Assert.Equal(("local/llama", "http://127.0.0.1:11434/v1", TimeSpan.FromSeconds(9)), (options.Llm!.Model, options.Llm.BaseUrl, options.Llm.Timeout));
    }

    [Fact]
    public void The_environment_wins_over_the_file()
    {
        var options = SettingsFile.Load(Json("""{ "Execution": { "MaxRetries": 5 }, "Paths": { "Database": "/from/file.db" } }"""),
            name => name switch { "RBPILOT_MAX_RETRIES" => "1", "RBPILOT_DB" => "/from/env.db", _ => null });

        Assert.Equal((1, "/from/env.db"), (options.Defaults.MaxRetries, options.Database));
    }

    [Theory]
    [InlineData("""{ "Execution": { "MaxRetrys": 5 } }""", "'Execution:MaxRetrys' is not a setting")]
    [InlineData("""{ "Llm": { "ApiKey": "sk-in-a-file" } }""", "'Llm:ApiKey' is not a setting")] // secrets only from the environment
    [InlineData("""{ "Intake": { "DedupeDays": "a week" } }""", "RBPILOT_DEDUPE_DAYS: 'a week' is not a number")]
    [InlineData("""{ "Intake": { "ImplicitBindings": "no" } }""", "RBPILOT_IMPLICIT_BINDINGS: 'no' is not true or false")]
    [InlineData("""{ "Execution": { "MaxRetries": -1 } }""", "RBPILOT_MAX_RETRIES: '-1' is not a number of at least 0")]
    public void A_misspelt_key_or_a_malformed_value_stops_the_start(string json, string expected)
    {
        var ex = Assert.Throws<ConfigurationException>(() => SettingsFile.Load(Json(json), NoEnvironment));
        Assert.Contains(ex.Problems, p => p.Contains(expected, StringComparison.Ordinal));
    }

    [Fact]
    public void The_shipped_appsettings_json_loads_and_means_the_defaults()
    {
        var shipped = new ConfigurationBuilder().AddJsonFile(Path.Combine(Repo.Root, "src", "Host", "appsettings.json")).Build();
        var options = SettingsFile.Load(shipped, NoEnvironment);
        var defaults = RunbookPilotOptions.FromSettings(NoEnvironment);

        Assert.Equal((defaults.Database, defaults.PlaybooksFolder, defaults.DedupeWindow, defaults.ImplicitBindings), (options.Database, options.PlaybooksFolder, options.DedupeWindow, options.ImplicitBindings));
        Assert.Equal((defaults.Defaults.MaxRetries, defaults.Defaults.RetryDelay, defaults.Defaults.Timeout), (options.Defaults.MaxRetries, options.Defaults.RetryDelay, options.Defaults.Timeout));
        Assert.Equal(defaults.Llm, options.Llm);
    }

    [Fact]
    public void Cluster_settings_bind_from_the_file_and_seeds_may_be_host_and_port()
    {
        var options = SettingsFile.Load(Json("""
            { "Paths": { "Database": "Host=db;Database=rbp;Username=rbp;Password=x" },
              "Cluster": { "Seeds": "node1:4053, akka.ssl.tcp://runbookpilot@node2:4053", "Hostname": "0.0.0.0", "PublicHostname": "node3", "Port": 4053, "Roles": "edge" } }
            """), NoEnvironment);
        Assert.Equal(["akka.ssl.tcp://runbookpilot@node1:4053", "akka.ssl.tcp://runbookpilot@node2:4053"], options.SeedNodes);
        Assert.Equal(("0.0.0.0", "node3", 4053), (options.Hostname, options.PublicHostname, options.Port));
        Assert.Equal(["edge"], options.Roles);
    }

    [Theory]
    [InlineData("RBPILOT_CLUSTER_SEEDS", "node1:4053", "a cluster needs PostgreSQL")] // several nodes on SQLite files of their own
    [InlineData("RBPILOT_CLUSTER_SEEDS", "akka.tcp://runbookpilot@node1:4053", "nodes talk over TLS only")] // no plain TCP seeds
    [InlineData("RBPILOT_CLUSTER_SEEDS", "node1", "is not host:port")]
    [InlineData("RBPILOT_CLUSTER_PORT", "eighty", "RBPILOT_CLUSTER_PORT: 'eighty' is not a number")]
    public void A_cluster_that_cannot_work_stops_the_start_with_a_clear_message(string name, string value, string expected)
    {
        var ex = Assert.Throws<ConfigurationException>(() => RunbookPilotOptions.FromSettings(n => n == name ? value : null));
        Assert.Contains(ex.Problems, p => p.Contains(expected, StringComparison.Ordinal));
    }
}
