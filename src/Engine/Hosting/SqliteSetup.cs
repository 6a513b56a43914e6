using System.Data.Common;
using LinqToDB;
using LinqToDB.Interceptors;
using Microsoft.Data.Sqlite;
using RunbookPilot.Engine.Configuration;

namespace RunbookPilot.Engine.Hosting;

/// <summary>SQLite preparation: the folder, WAL mode (5× faster one-by-one writes, persistent on the file) and the journal's data options.</summary>
public static class SqliteSetup
{
    public static void Prepare(RunbookPilotOptions options)
    {
        if (options.IsPostgres) return;
        var full = Path.GetFullPath(options.Database);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        using var connection = new SqliteConnection(options.ConnectionString);
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA journal_mode=WAL;";
        command.ExecuteNonQuery();
    }

    /// <summary>
    /// Checkpoints the write-ahead log beside the writers (their connections do not: <see cref="DatabaseConnections"/>).
    /// First a passive checkpoint, which copies what it can into the database file without waiting for anyone; then,
    /// in a priority turn (the journal opens no connection meanwhile, <see cref="WriteTurns"/>), a restart checkpoint,
    /// which copies the few pages written since and makes the next writer start the log from its beginning. Without the
    /// restart the log never started over under steady writes: it grew for as long as the load lasted (issue 17).
    /// </summary>
    public static void CheckpointWal(RunbookPilotOptions options)
    {
        using var connection = new SqliteConnection(options.ConnectionString + ";Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandTimeout = 2; // a busy checkpoint reports it in its result, never waits longer than its busy timeout
        command.CommandText = "PRAGMA wal_checkpoint(PASSIVE);";
        command.ExecuteNonQuery();
        using (WriteTurns.For(options).PriorityTurn())
        {
            // Waits at most 100 ms for a writer's transaction or a reader (a long dashboard query) to end, then gives up
            // until the next second: the journal waits no longer than that.
            command.CommandText = "PRAGMA busy_timeout = 100; PRAGMA wal_checkpoint(RESTART);";
            command.ExecuteNonQuery();
        }
    }

    /// <summary>
    /// Data options for the SQL journal. On SQLite, Microsoft.Data.Sqlite completes "async" calls synchronously, so the
    /// journal's write queue never sees two writes at once and never batches them (one INSERT transaction per event,
    /// measured in bench/README.md). Yielding when a connection opens makes each write truly asynchronous: while one
    /// transaction runs, the writes of other executions queue up and go into the next one.
    /// </summary>
    public static DataOptions JournalDataOptions(RunbookPilotOptions options)
    {
        var data = DatabaseConnections.DataOptions(options);
        return options.IsPostgres ? data : data.UseInterceptor(new JournalOpening(WriteTurns.For(options), options.BatchJournalWrites));
    }

    /// <summary>Before a journal connection opens: waits for the priority turns at the write lock to end (<see cref="WriteTurns"/>), and yields.</summary>
    private sealed class JournalOpening(WriteTurns turns, bool yield) : ConnectionInterceptor
    {
        public override async Task ConnectionOpeningAsync(ConnectionEventData eventData, DbConnection connection, CancellationToken cancellationToken)
        {
            await turns.JournalTurn().WaitAsync(cancellationToken).ConfigureAwait(false);
            if (yield) await Task.Yield();
        }
    }
}
