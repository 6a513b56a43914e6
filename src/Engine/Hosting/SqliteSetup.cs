using System.Data.Common;
using System.Runtime.CompilerServices;
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
    /// Data options for the SQL journal. On SQLite, Microsoft.Data.Sqlite completes "async" calls synchronously, so the
    /// journal's write queue never sees two writes at once and never batches them (one INSERT transaction per event,
    /// measured in bench/README.md). Yielding when a connection opens makes each write truly asynchronous: while one
    /// transaction runs, the writes of other executions queue up and go into the next one.
    /// </summary>
    public static DataOptions JournalDataOptions(RunbookPilotOptions options)
    {
        var data = DataOptions(options);
        return options.BatchJournalWrites && !options.IsPostgres ? data.UseInterceptor(new YieldOnOpen()) : data;
    }

    /// <summary>Data options for the database: on SQLite, every connection waits for the write lock inside SQLite (<see cref="BusyTimeout"/>).</summary>
    public static DataOptions DataOptions(RunbookPilotOptions options)
    {
        var data = new DataOptions().UseConnectionString(options.ProviderName, options.ConnectionString);
        return options.IsPostgres ? data : data.UseInterceptor(BusyTimeout.Instance);
    }

    private sealed class YieldOnOpen : ConnectionInterceptor
    {
        public override async Task ConnectionOpeningAsync(ConnectionEventData eventData, DbConnection connection, CancellationToken cancellationToken) =>
            await Task.Yield();
    }

    /// <summary>
    /// SQLite has one write lock. Without a busy timeout, a connection that finds it taken gets SQLITE_BUSY at once and
    /// Microsoft.Data.Sqlite sleeps 150 ms before trying again: a journal write that met the projector's transaction waited
    /// 150 ms or more, which made the webhook's p99 and the throughput (issue 17). With SQLite's own busy handler the wait
    /// ends within milliseconds of the lock's release. Set once per physical connection (pooled handles keep it).
    /// </summary>
    private sealed class BusyTimeout : ConnectionInterceptor
    {
        public static readonly BusyTimeout Instance = new();

        private readonly ConditionalWeakTable<object, object> _set = [];

        public override void ConnectionOpened(ConnectionEventData eventData, DbConnection connection) => Set(connection);

        public override Task ConnectionOpenedAsync(ConnectionEventData eventData, DbConnection connection, CancellationToken cancellationToken)
        {
            Set(connection);
            return Task.CompletedTask;
        }

        private void Set(DbConnection connection)
        {
            if (connection is not SqliteConnection { Handle: { } handle } sqlite || _set.TryGetValue(handle, out _)) return;
            using var command = sqlite.CreateCommand();
            command.CommandText = $"PRAGMA busy_timeout = {sqlite.DefaultTimeout * 1000}";
            command.ExecuteNonQuery();
            _set.AddOrUpdate(handle, handle);
        }
    }
}
