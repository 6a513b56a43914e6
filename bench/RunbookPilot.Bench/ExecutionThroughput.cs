using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Akka.Actor;
using Akka.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Data.Sqlite;
using RunbookPilot.Domain.Adapters;
using RunbookPilot.Engine.Adapters;
using RunbookPilot.Domain.Execution;
using RunbookPilot.Engine.Execution;
using RunbookPilot.Engine.Hosting;
using RunbookPilot.Domain.Playbooks;
using RunbookPilot.Engine.Configuration;

namespace RunbookPilot.Bench;

/// <summary>
/// Issue 3: completed executions per second of a three-step L0 playbook against an in-process adapter with no latency,
/// every event journaled to a SQLite file (WAL), executions as sharded persistent actors with remembered entities.
/// </summary>
public static class ExecutionThroughput
{
    public static async Task<int> RunAsync(string[] args)
    {
        var count = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 5000;
        var batch = !args.Contains("nobatch");

        var dir = Directory.CreateTempSubdirectory("rbp-throughput-").FullName;
        Directory.CreateDirectory(Path.Combine(dir, "playbooks"));
        await File.WriteAllTextAsync(Path.Combine(dir, "playbooks", "bench.yaml"), BenchFixtures.Playbook);
        var options = new RunbookPilotOptions
        {
            Database = Path.Combine(dir, "bench.db"),
            PlaybooksFolder = Path.Combine(dir, "playbooks"),
            BatchJournalWrites = batch,
            AkkaLogLevel = Akka.Event.LogLevel.WarningLevel,
        };
        var adapters = BenchFixtures.InstantAdapters();
        await using var host = await RunbookPilotHost.StartAsync(options with { ReadModel = new ReadModelOptions(FollowJournal: false) }, adapters);
        var engine = host.Engine;
        var region = host.Services.GetRequiredService<IRequiredActor<ExecutionRegion>>().ActorRef;
        var playbook = engine.Library.Find("bench_l0") ?? throw new InvalidOperationException(string.Join("\n", engine.Library.Errors));

        await RunBatch(engine, region, playbook, "warm", 300);
        var journalBefore = JournalRows(options);
        var sw = Stopwatch.StartNew();
        await RunBatch(engine, region, playbook, "run", count);
        sw.Stop();
        var journalRows = JournalRows(options) - journalBefore;
        var rate = count / sw.Elapsed.TotalSeconds;
        var process = Process.GetCurrentProcess();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"executions={count} batch_journal_writes={batch} seconds={sw.Elapsed.TotalSeconds:F2} executions_per_second={rate:F0} " +
            $"journal_rows={journalRows} ({journalRows / (double)count:F1} per execution, {journalRows / sw.Elapsed.TotalSeconds:F0} rows/s) " +
            $"working_set_mb={process.WorkingSet64 / 1048576} peak_working_set_mb={process.PeakWorkingSet64 / 1048576} " +
            $"gc_pause_ms={GC.GetTotalPauseDuration().TotalMilliseconds:F0} allocated_mb={GC.GetTotalAllocatedBytes() / 1048576}"));
        return 0;
    }

    private static async Task RunBatch(RunbookPilotEngine engine, IActorRef region, Playbook playbook, string prefix, int count)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var remaining = count;
        void Completed(object message)
        {
            if (message is ExecutionUpdated { Events: var events } u && u.ExecutionId.StartsWith(prefix, StringComparison.Ordinal)
                && events.OfType<ExecutionCompleted>().Any() && Interlocked.Decrement(ref remaining) == 0) done.TrySetResult();
        }
        engine.Live.Published += Completed;
        for (var i = 0; i < count; i++)
        {
            var alert = new JsonObject { ["event"] = new JsonObject { ["id"] = $"{prefix}-{i}" }, ["source"] = new JsonObject { ["ip"] = $"198.51.100.{i % 250}" } };
            region.Tell(new StartExecution($"{prefix}-{i}", $"{prefix}-{i}", alert, playbook, "bench"));
        }
        await done.Task.WaitAsync(TimeSpan.FromMinutes(10));
        engine.Live.Published -= Completed;
    }

    private static long JournalRows(RunbookPilotOptions options)
    {
        using var c = new SqliteConnection(options.ConnectionString);
        c.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT COUNT(*) FROM journal";
        return (long)cmd.ExecuteScalar()!;
    }
}
