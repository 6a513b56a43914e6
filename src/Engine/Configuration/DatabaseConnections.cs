using System.Data.Common;
using System.Runtime.CompilerServices;
using LinqToDB;
using LinqToDB.Interceptors;
using Microsoft.Data.Sqlite;

namespace RunbookPilot.Engine.Configuration;

/// <summary>How every part of the engine connects to the database (journal, snapshots, read model).</summary>
public static class DatabaseConnections
{
    /// <summary>Data options for the database: on SQLite, every connection waits for the write lock inside SQLite (<see cref="BusyTimeout"/>).</summary>
    public static DataOptions DataOptions(RunbookPilotOptions options)
    {
        var data = new DataOptions().UseConnectionString(options.ProviderName, options.ConnectionString);
        return options.IsPostgres ? data : data.UseInterceptor(BusyTimeout.Instance);
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
