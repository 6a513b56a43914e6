using Npgsql;
using RunbookPilot.Domain.Execution;
using RunbookPilot.Engine.Execution;
using RunbookPilot.Engine.ReadModel;

namespace RunbookPilot.Engine.Tests.Execution;

/// <summary>
/// The engine over PostgreSQL (the cluster configuration) instead of the SQLite file: journal, read model, append-only
/// audit triggers, restart. <c>./test.sh</c> starts the Debian PostgreSQL and sets RBPILOT_TEST_POSTGRES; each test
/// class gets a database of its own.
/// </summary>
#pragma warning disable CA1001 // the fixture is disposed in DisposeAsync (xunit calls it)
public sealed class PostgresTests : IAsyncLifetime
#pragma warning restore CA1001
{
    private const string Playbook = """
        id: pg_contain
        name: Contain
        version: 1.0.0
        autonomy_level: L1
        trigger:
          techniques: [T1110]
        steps:
          - { id: lookup, name: Lookup, action_type: lookup_ip, adapter: virustotal, autonomy_level: L0, params: { ip: "{{source.ip}}" } }
          - { id: block, name: Block, action_type: block_ip, adapter: paloalto, autonomy_level: L1, params: { ip: "{{source.ip}}" }, rollback_available: true }
        rollback:
          block: { action_type: unblock_ip, adapter: paloalto, params: { ip: "{{source.ip}}" } }
        """;

    private readonly string _database = TestPostgres.NewName("rbp_test_");
    private readonly EngineFixture _f = new(Playbook);

    private string Connection => TestPostgres.Connection(_database);

    public async Task InitializeAsync()
    {
        await TestPostgres.CreateAsync(_database);
        _f.Options = _f.Options with { Database = Connection };
        await _f.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _f.DisposeAsync();
        await TestPostgres.DropAsync(_database);
    }

    private async Task<PostgresException> RefusedAsync(string sql)
    {
        await using var db = new NpgsqlConnection(Connection);
        await db.OpenAsync();
        await using var command = new NpgsqlCommand(sql, db);
        return await Assert.ThrowsAsync<PostgresException>(() => command.ExecuteNonQueryAsync());
    }

    [Fact]
    public async Task Executions_run_project_resume_and_the_audit_tables_refuse_changes()
    {
        Assert.True(_f.Options.IsPostgres);
        const string alert = """{"event":{"id":"pg-1"},"rule":{"id":"r"},"source":{"ip":"203.0.113.44"},"threat":{"technique":{"id":"T1110"}}}""";
        var execution = (await _f.SubmitAsync(alert)).Selected.Single().ExecutionId;
        Assert.Equal("waiting_approval", (await _f.Engine.Executions.WaitSettledAsync(execution, TimeSpan.FromSeconds(30))).State.Status);

        await _f.RestartAsync(); // the journal and the read model are in PostgreSQL; the approval waits on
        Assert.True((await _f.SubmitAsync(alert)).Duplicate);
        Assert.True((await _f.Engine.Executions.SendAsync(new ApproveStep(execution, null, "alice", "ok"))).Ok);
        Assert.Equal(ExecutionOutcome.Completed, (await _f.Engine.Executions.WaitSettledAsync(execution, TimeSpan.FromSeconds(30))).State.Outcome);
        Assert.Equal(1, _f.Adapters["paloalto"].Effects.Values.Sum());

        await _f.Engine.Read.CatchUpAsync();
        Assert.Equal("completed", _f.Engine.Queries.Execution(execution)!.Status);
        Assert.Equal("approved", Assert.Single(_f.Engine.Queries.Approvals(null)).Status);
        Assert.Contains(_f.Engine.Queries.RunAudit("pg-1"), r => r.Decision == "ran");
        var verification = AuditChain.Verify(new ReadModelDb(_f.Options));
        Assert.True(verification.Ok, verification.Message);

        Assert.Contains("execution_log is append-only", (await RefusedAsync("UPDATE execution_log SET detail = 'edited'")).MessageText, StringComparison.Ordinal);
        Assert.Contains("execution_log is append-only", (await RefusedAsync("DELETE FROM execution_log")).MessageText, StringComparison.Ordinal);
        Assert.Contains("playbook_run_audit is append-only", (await RefusedAsync("DELETE FROM playbook_run_audit")).MessageText, StringComparison.Ordinal);
        Assert.True(AuditChain.Verify(new ReadModelDb(_f.Options)).Ok);
    }
}
