using Npgsql;

namespace RunbookPilot.Engine.Tests.Execution;

/// <summary>Databases of their own on the PostgreSQL server ./test.sh starts (RBPILOT_TEST_POSTGRES), one per test, dropped after it.</summary>
public static class TestPostgres
{
    public static string Server => Environment.GetEnvironmentVariable("RBPILOT_TEST_POSTGRES")
        ?? throw new InvalidOperationException("RBPILOT_TEST_POSTGRES is not set: run the tests with ./test.sh, which starts PostgreSQL for them");

    /// <summary>A fresh database name with this prefix.</summary>
    public static string NewName(string prefix) => prefix + Guid.NewGuid().ToString("N")[..12];

    /// <summary>The connection string of the named database on the test server.</summary>
    public static string Connection(string name) => new NpgsqlConnectionStringBuilder(Server) { Database = name }.ConnectionString;

    /// <summary>Creates the database; its connection string.</summary>
    public static async Task<string> CreateAsync(string name)
    {
        await using var admin = new NpgsqlConnection(Server);
        await admin.OpenAsync();
        await using var create = new NpgsqlCommand($"CREATE DATABASE {name}", admin);
        await create.ExecuteNonQueryAsync();
        return Connection(name);
    }

    /// <summary>Drops the database, closing what still uses it.</summary>
    public static async Task DropAsync(string name)
    {
        NpgsqlConnection.ClearAllPools();
        await using var admin = new NpgsqlConnection(Server);
        await admin.OpenAsync();
        await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS {name} WITH (FORCE)", admin);
        await drop.ExecuteNonQueryAsync();
    }
}
