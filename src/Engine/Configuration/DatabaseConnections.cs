using System.Collections.Concurrent;
using System.Data.Common;
using System.Runtime.CompilerServices;
using LinqToDB;
using LinqToDB.Interceptors;
using Microsoft.Data.Sqlite;

namespace RunbookPilot.Engine.Configuration;

/// <summary>How every part of the engine connects to the database (journal, snapshots, read model).</summary>
public static class DatabaseConnections
{
    /// <summary>Data options for the database: on SQLite, every connection is set up by <see cref="Pragmas"/>.</summary>
    public static DataOptions DataOptions(RunbookPilotOptions options)
    {
        var data = new DataOptions().UseConnectionString(options.ProviderName, options.ConnectionString);
        return options.IsPostgres ? data : data.UseInterceptor(Pragmas.Instance);
    }

    /// <summary>
    /// SQLite has one write lock. Without a busy timeout, a connection that finds it taken gets SQLITE_BUSY at once and
    /// Microsoft.Data.Sqlite sleeps 150 ms before trying again: a journal write that met the projector's transaction waited
    /// 150 ms or more, which made the webhook's p99 and the throughput (issue 17). With SQLite's own busy handler the wait
    /// ends within milliseconds of the lock's release. The automatic WAL checkpoint is off as well: it ran inside the
    /// commit of whichever connection crossed 1,000 WAL pages, a journal write or a projector batch, which then took up to
    /// 600 ms; the server checkpoints beside the writers instead (<c>SqliteSetup.CheckpointWal</c>). Set once per physical connection
    /// (pooled handles keep both).
    /// </summary>
    private sealed class Pragmas : ConnectionInterceptor
    {
        public static readonly Pragmas Instance = new();

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
            command.CommandText = $"PRAGMA busy_timeout = {sqlite.DefaultTimeout * 1000}; PRAGMA wal_autocheckpoint = 0";
            command.ExecuteNonQuery();
            _set.AddOrUpdate(handle, handle);
        }
    }
}

/// <summary>
/// Turns at SQLite's one write lock. SQLite's busy handler is not fair: a writer waiting for the lock sleeps 1 to 100 ms
/// at a time and misses the short gaps in a stream of other writers' transactions, so a projector batch waited for
/// hundreds of milliseconds behind the journal's writes and the journal's writes up to 200 ms behind the projector's batches (issue 17).
/// While a priority turn is held (a projector batch, the server's WAL restart), the journal opens no new connection;
/// after a batch, the projector leaves the journal a moment before its next one (ReadModelProjection). One instance per
/// database file in the process.
/// </summary>
public sealed class WriteTurns
{
    private static readonly ConcurrentDictionary<string, WriteTurns> ByDatabase = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();
    private TaskCompletionSource? _held;
    private int _turns;

    public static WriteTurns For(RunbookPilotOptions options) => ByDatabase.GetOrAdd(options.ConnectionString, _ => new WriteTurns());

    /// <summary>Completes at once, or when the priority turns held now have ended.</summary>
    public Task JournalTurn()
    {
        lock (_lock) return _held?.Task ?? Task.CompletedTask;
    }

    /// <summary>A priority turn, until disposed: the journal's connections opened meanwhile wait for its end. Turns nest.</summary>
    public IDisposable PriorityTurn()
    {
        lock (_lock)
        {
            if (_turns++ == 0) _held = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        return new Turn(this);
    }

    private void End()
    {
        TaskCompletionSource? ended = null;
        lock (_lock)
        {
            if (--_turns == 0) (ended, _held) = (_held, null);
        }
        ended?.SetResult();
    }

    private sealed class Turn(WriteTurns turns) : IDisposable
    {
        private int _ended;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _ended, 1) == 0) turns.End();
        }
    }
}
