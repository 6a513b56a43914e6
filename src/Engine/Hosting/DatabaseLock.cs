using System.Diagnostics;
using System.Globalization;
using RunbookPilot.Engine.Configuration;

namespace RunbookPilot.Engine.Hosting;

/// <summary>
/// Keeps two processes from writing one SQLite file: an exclusive lock on <c>&lt;db&gt;.lock</c>, and beside it a note
/// of who holds it, so the second process can say which one to stop.
/// </summary>
public sealed class DatabaseLock : IDisposable
{
    private readonly FileStream _lock;
    private readonly string _infoPath;

    private DatabaseLock(FileStream stream, string infoPath)
    {
        _lock = stream;
        _infoPath = infoPath;
    }

    /// <summary>Takes the lock or throws <see cref="DatabaseLockedException"/> naming the holder. PostgreSQL needs no lock (null).</summary>
    public static DatabaseLock? Acquire(RunbookPilotOptions options, string purpose)
    {
        if (options.IsPostgres) return null;
        var db = Path.GetFullPath(options.Database);
        Directory.CreateDirectory(Path.GetDirectoryName(db)!);
        var lockPath = db + ".lock";
        var infoPath = db + ".lock.info";
        FileStream stream;
        try
        {
            stream = new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException)
        {
            var holder = File.Exists(infoPath) ? File.ReadAllText(infoPath).Trim() : "another process";
            throw new DatabaseLockedException($"database {db} is in use by {holder}. Wait for it to finish or stop it; only one process may write the database.");
        }
        var process = Process.GetCurrentProcess();
        File.WriteAllText(infoPath, string.Create(CultureInfo.InvariantCulture, $"process {Environment.ProcessId} ({purpose}, {process.ProcessName}, started {process.StartTime.ToUniversalTime():u})"));
        return new DatabaseLock(stream, infoPath);
    }

    public void Dispose()
    {
        try { File.Delete(_infoPath); } catch (IOException) { }
        _lock.Dispose();
    }
}

public sealed class DatabaseLockedException(string message) : Exception(message);
