using Microsoft.Extensions.Time.Testing;
using RunbookPilot.Domain.Adapters;
using RunbookPilot.Engine.Adapters;
using RunbookPilot.Domain.Alerts;
using RunbookPilot.Engine.Hosting;
using RunbookPilot.Domain.Intake;
using RunbookPilot.Engine.Ingestion;
using RunbookPilot.Engine.Configuration;

namespace RunbookPilot.Engine.Tests.Execution;

/// <summary>
/// A real engine over a SQLite file in a temporary folder, with test adapters and a fake clock. <see cref="RestartAsync"/>
/// stops the whole actor system and starts a new one over the same file.
/// </summary>
public sealed class EngineFixture : IAsyncDisposable
{
    private readonly TempDir _dir = new();

    public EngineFixture(params string[] playbooks)
    {
        for (var i = 0; i < playbooks.Length; i++) _dir.Write($"playbooks/pb{i}.yaml", playbooks[i]);
        Options = new RunbookPilotOptions
        {
            Database = Path.Combine(_dir.Path, "data", "rbp.db"),
            PlaybooksFolder = Path.Combine(_dir.Path, "playbooks"),
        };
        foreach (var name in AdapterCatalog.BuiltIn.Adapters.Select(a => a.Name)) Adapters[name] = TestAdapter.For(name);
    }

    public RunbookPilotOptions Options { get; set; }
    public FakeTimeProvider Clock { get; } = new(new DateTimeOffset(2026, 2, 10, 15, 30, 0, TimeSpan.Zero));
    public Dictionary<string, TestAdapter> Adapters { get; } = [];
    /// <summary>Adapters from outside the built-in catalogue (plugins), registered beside the test adapters.</summary>
    public List<IAdapter> Plugins { get; } = [];

    public RunbookPilotEngine Engine => Host.Engine;

    /// <summary>The generic host running the engine (<c>services.AddRunbookPilot</c>).</summary>
    public RunbookPilotHost Host { get; private set; } = null!;
    public string Dir => _dir.Path;

    public void WritePolicy(string yaml) => _dir.Write("playbooks/global_policy.yaml", yaml);

    public async Task<EngineFixture> StartAsync()
    {
        Host = await RunbookPilotHost.StartAsync(Options, Adapters.Values.Concat(Plugins).ToList(), Clock, "test", FileLog.FromEnvironment());
        return this;
    }

    public async Task RestartAsync()
    {
        await Host.DisposeAsync();
        await StartAsync();
    }

    public async Task<AlertAccepted> SubmitAsync(string json) =>
        await Engine.Alerts.SubmitAsync(AlertNormalizers.Default.Normalize(AlertJson.ParseObject(json, out _)!), "test");

    public async ValueTask DisposeAsync()
    {
        if (Host is not null) await Host.DisposeAsync();
        _dir.Dispose();
    }
}
