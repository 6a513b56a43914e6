using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using RunbookPilot.Domain.Adapters;
using RunbookPilot.Engine.Adapters;
using RunbookPilot.Domain.Alerts;
using RunbookPilot.Engine.Hosting;
using RunbookPilot.VendorSim;
using RunbookPilot.Engine.Configuration;
using RunbookPilot.Domain.Library;

namespace RunbookPilot.VendorSim.Tests;

/// <summary>A vendor that echoes the credential it was given: the secret reaches no log line, stored result or read table.</summary>
public sealed class LogRedactionTests : IAsyncLifetime
{
    private const string Secret = "leaky-secret-value-0123456789";
    private VendorSimulator _sim = null!;
    private string _dir = "";

    public async Task InitializeAsync()
    {
        _sim = await VendorSimulator.StartAsync();
        _dir = Directory.CreateTempSubdirectory("rbp-redact-").FullName;
        Directory.CreateDirectory(Path.Combine(_dir, "playbooks"));
        await File.WriteAllTextAsync(Path.Combine(_dir, "playbooks", "vt.yaml"), """
            id: vt_only
            name: Reputation
            version: 1.0.0
            autonomy_level: L0
            trigger: { techniques: [T1071] }
            steps:
              - { id: vt, name: VT, action_type: lookup_ip, adapter: virustotal, autonomy_level: L0, params: { ip: "{{source.ip}}" } }
            """);
    }

    public async Task DisposeAsync()
    {
        await _sim.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public async Task Secrets_never_reach_logs_results_or_the_read_model()
    {
        var lines = new ConcurrentQueue<string>();
        var adapters = AdapterFactory.Create(new Dictionary<string, AdapterSettings> { ["virustotal"] = _sim.DemoSettings()["virustotal"] },
            name => name == "RBPILOT_SIM_VT_KEY" ? Secret : null, TimeProvider.System);
        var options = new RunbookPilotOptions { Database = Path.Combine(_dir, "data", "rbp.db"), PlaybooksFolder = Path.Combine(_dir, "playbooks") };
        await using (var host = await RunbookPilotHost.StartAsync(options, adapters, logging: l => l.AddProvider(new Capture(lines)).SetMinimumLevel(LogLevel.Debug)))
        {
            var engine = host.Engine;
            var accepted = await engine.Alerts.SubmitAsync(AlertNormalizers.Default.Normalize((JsonObject)JsonNode.Parse("""{"event":{"id":"r1"},"source":{"ip":"203.0.113.5"},"threat":{"technique":{"id":"T1071"}}}""")!), "test");
            var id = Assert.Single(accepted.Selected).ExecutionId;
            var state = (await engine.Executions.WaitSettledAsync(id, TimeSpan.FromSeconds(20))).State;
            Assert.Contains("***", state.Step("vt").Error, StringComparison.Ordinal);
            await engine.Read.CatchUpAsync();
            var stored = string.Join("\n", engine.Queries.Log(id).Select(l => l.Detail + l.Request + l.Response));
            Assert.DoesNotContain(Secret, stored, StringComparison.Ordinal);
        }
        Assert.Contains(_sim.State.Requests("virustotal"), r => r.Headers["x-apikey"] == Secret); // the secret was really sent
        Assert.Contains(lines, l => l.Contains("vt failed", StringComparison.Ordinal) && l.Contains("***", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.Contains(Secret, StringComparison.Ordinal));
        foreach (var file in Directory.GetFiles(Path.Combine(_dir, "data"))) // the journal, the read model, the WAL
            Assert.Equal(-1, System.Text.Encoding.UTF8.GetString(await File.ReadAllBytesAsync(file)).IndexOf(Secret, StringComparison.Ordinal));
    }

    private sealed class Capture(ConcurrentQueue<string> lines) : ILoggerProvider, ILogger
    {
        public ILogger CreateLogger(string categoryName) => this;

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            lines.Enqueue(formatter(state, exception) + exception);

        public void Dispose()
        {
        }
    }
}
