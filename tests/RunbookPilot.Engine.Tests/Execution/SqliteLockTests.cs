using LinqToDB.Data;
using Microsoft.Data.Sqlite;
using RunbookPilot.Domain.Execution;
using RunbookPilot.Engine.Configuration;
using RunbookPilot.Engine.Hosting;

namespace RunbookPilot.Engine.Tests.Execution;

/// <summary>
/// SQLite has one write lock for the whole file (issue 17). Reading the journal must not take it, and a connection that
/// finds it taken waits inside SQLite (busy timeout) instead of Microsoft.Data.Sqlite's 150 ms sleep-and-retry.
/// </summary>
public class SqliteLockTests
{
    private const string Playbook = """
        id: lookup
        name: Lookup
        version: 1.0.0
        autonomy_level: L0
        trigger: { techniques: [T1071] }
        steps:
          - { id: vt, name: VT, action_type: lookup_ip, adapter: virustotal, autonomy_level: L0, params: { ip: "{{source.ip}}" } }
        """;

    [Fact]
    public async Task An_execution_recovers_from_the_journal_while_another_connection_holds_the_write_lock()
    {
        await using var f = await new EngineFixture(Playbook).StartAsync();
        var id = Assert.Single((await f.SubmitAsync("""{"event":{"id":"l1"},"source":{"ip":"203.0.113.9"},"threat":{"technique":{"id":"T1071"}}}""")).Selected).ExecutionId;
        Assert.Equal(ExecutionOutcome.Completed, (await f.Engine.Executions.WaitSettledAsync(id, TimeSpan.FromSeconds(20))).State.Outcome);
        await f.RestartAsync(); // the finished execution is not resumed: reading it starts its actor, which recovers from the journal

        await using var writer = new SqliteConnection(f.Options.ConnectionString);
        await writer.OpenAsync();
        await using (var begin = writer.CreateCommand())
        {
            begin.CommandText = "BEGIN IMMEDIATE";
            await begin.ExecuteNonQueryAsync();
        }
        // Recovery reads the highest sequence number and replays the events. Were those reads write transactions
        // (BEGIN IMMEDIATE, the plugin's default isolation on SQLite), they would wait for this lock and time out.
        var read = await f.Engine.Executions.GetAsync(id).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(ExecutionOutcome.Completed, read.State.Outcome);
        await using var rollback = writer.CreateCommand();
        rollback.CommandText = "ROLLBACK";
        await rollback.ExecuteNonQueryAsync();
    }

    [Fact]
    public async Task The_journals_and_the_read_models_connections_wait_for_the_write_lock_inside_sqlite_and_none_checkpoints_in_its_commits()
    {
        using var dir = new TempDir();
        var options = new RunbookPilotOptions { Database = Path.Combine(dir.Path, "rbp.db") };
        Directory.CreateDirectory(dir.Path);
        foreach (var data in new[] { DatabaseConnections.DataOptions(options), SqliteSetup.JournalDataOptions(options) })
        {
            using var db = new DataConnection(data);
            Assert.Equal(30_000L, db.Execute<long>("PRAGMA busy_timeout"));
            Assert.Equal(0L, db.Execute<long>("PRAGMA wal_autocheckpoint")); // the server checkpoints beside the writers
        }
        // A plain connection to the same file has none: the 150 ms retry the engine's connections avoid.
        await using var plain = new SqliteConnection(options.ConnectionString + ";Pooling=False");
        await plain.OpenAsync();
        await using var query = plain.CreateCommand();
        query.CommandText = "PRAGMA busy_timeout";
        Assert.Equal(0L, (long)(await query.ExecuteScalarAsync())!);
    }

    [Fact]
    public async Task The_server_checkpoints_the_write_ahead_log_into_the_database_file()
    {
        await using var f = await new EngineFixture(Playbook).StartAsync();
        var file = new FileInfo(f.Options.Database);
        var before = file.Length;
        for (var i = 0; i < 20; i++)
            await f.SubmitAsync("{\"event\":{\"id\":\"c" + i + "\"},\"source\":{\"ip\":\"203.0.113." + i + "\"},\"threat\":{\"technique\":{\"id\":\"T1071\"}}}");
        // No connection of the engine checkpoints in its commits, so only the server's checkpoint (once a second) can
        // move the pages written since the start from the write-ahead log into the database file.
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (new FileInfo(f.Options.Database).Length == before && DateTime.UtcNow < deadline) await Task.Delay(100);
        Assert.True(new FileInfo(f.Options.Database).Length > before, "the database file never grew: nothing was checkpointed");
    }

    [Fact]
    public async Task While_the_projector_has_its_turn_at_the_write_lock_the_journal_opens_no_connection()
    {
        await using var f = await new EngineFixture(Playbook).StartAsync();
        await f.SubmitAsync("""{"event":{"id":"t0"},"source":{"ip":"203.0.113.6"},"threat":{"technique":{"id":"T1071"}}}"""); // warm: the next one is quick
        var turns = WriteTurns.For(f.Options);
        Task<Domain.Intake.AlertAccepted> submit;
        using (turns.PriorityTurn())
        {
            Assert.False(turns.JournalTurn().IsCompleted);
            submit = f.SubmitAsync("""{"event":{"id":"t1"},"source":{"ip":"203.0.113.7"},"threat":{"technique":{"id":"T1071"}}}""");
            // The alert is accepted only once journaled: it cannot be while the turn is held.
            Assert.NotSame(submit, await Task.WhenAny(submit, Task.Delay(500)));
        }
        Assert.True(turns.JournalTurn().IsCompleted);
        Assert.Single((await submit.WaitAsync(TimeSpan.FromSeconds(20))).Selected);
    }

    [Fact]
    public async Task Under_steady_writes_the_servers_checkpoint_makes_the_write_ahead_log_start_over()
    {
        using var dir = new TempDir();
        var options = new RunbookPilotOptions { Database = Path.Combine(dir.Path, "rbp.db") };
        Directory.CreateDirectory(dir.Path);
        SqliteSetup.Prepare(options);
        using (var db = new DataConnection(DatabaseConnections.DataOptions(options))) db.Execute("CREATE TABLE t (v TEXT)");
        var rows = 0;
        using var stop = new CancellationTokenSource();
        var writer = Task.Run(async () =>
        {
            // Written as the journal writes: a connection of its own per write, opened through the journal's options.
            while (!stop.IsCancellationRequested)
            {
                await using var w = new DataConnection(SqliteSetup.JournalDataOptions(options));
                await w.ExecuteAsync("INSERT INTO t VALUES (@v)", new DataParameter("v", new string('x', 4000)));
                Interlocked.Increment(ref rows);
            }
        });
        while (Volatile.Read(ref rows) < 300) await Task.Delay(10);
        // New frames arrive while each checkpoint runs: a passive checkpoint never catches up, and the log never starts
        // over (it grew to 1.3 GB in 28 s of load); the restart checkpoint holds the journal's writers back (a priority
        // turn) for the few pages left.
        for (var i = 0; i < 3; i++) SqliteSetup.CheckpointWal(options);
        await stop.CancelAsync();
        await writer;
        Assert.True(LogFrames(options) < rows / 2, $"the log did not start over: {LogFrames(options)} frames for {rows} rows written");
    }

    /// <summary>Frames in the write-ahead log (a passive checkpoint reports them; it copies, never restarts the log).</summary>
    private static long LogFrames(RunbookPilotOptions options)
    {
        using var c = new SqliteConnection(options.ConnectionString + ";Pooling=False");
        c.Open();
        using var q = c.CreateCommand();
        q.CommandText = "PRAGMA wal_checkpoint(PASSIVE)";
        using var r = q.ExecuteReader();
        r.Read();
        return r.GetInt64(1);
    }

    [Fact]
    public void Turns_nest_and_end_with_the_last()
    {
        var turns = WriteTurns.For(new RunbookPilotOptions { Database = Path.Combine(Path.GetTempPath(), "rbp-turns-" + Guid.NewGuid().ToString("N") + ".db") });
        Assert.True(turns.JournalTurn().IsCompleted);
        var outer = turns.PriorityTurn();
        var inner = turns.PriorityTurn();
        var waiting = turns.JournalTurn();
        inner.Dispose();
        inner.Dispose(); // twice is once
        Assert.False(waiting.IsCompleted);
        outer.Dispose();
        Assert.True(waiting.IsCompleted);
        Assert.True(turns.JournalTurn().IsCompleted);
    }
}
