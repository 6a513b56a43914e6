using System.Security.Cryptography;
using System.Text;
using Microsoft.Data.Sqlite;
using RunbookPilot.Domain.Bindings;
using RunbookPilot.Domain.Execution;
using RunbookPilot.Engine.Execution;
using RunbookPilot.Engine.ReadModel;
using RunbookPilot.Engine.Tests.Execution;

namespace RunbookPilot.Engine.Tests.Safety;

/// <summary>
/// Someone who can write the database file (but does not hold RBPILOT_AUDIT_KEY) tries to rewrite history: re-chain
/// the execution log, cut its tail, edit the journal with or without rebuilding the read model, forge a checkpoint.
/// Each is found by verification, with the first mismatch named.
/// </summary>
public sealed class AuditTamperTests
{
    private const string Block = """
        id: block_src
        name: Block the source
        version: 1.0.0
        autonomy_level: L1
        trigger: { techniques: [T1110] }
        steps:
          - { id: lookup, name: Lookup, action_type: lookup_ip, adapter: virustotal, autonomy_level: L0, params: { ip: "{{source.ip}}" } }
          - { id: block, name: Block, action_type: block_ip, adapter: paloalto, autonomy_level: L1, params: { ip: "{{source.ip}}" } }
        """;

    private static async Task<(EngineFixture F, string ExecutionId)> RunAsync()
    {
        var f = new EngineFixture(Block);
        f.Options = f.Options with { AuditKey = TestAudit.Key };
        await f.StartAsync();
        await f.Engine.Bindings.SaveAsync(new BindingSpec { PlaybookId = "block_src", Mode = BindingMode.AutoRun, Match = new BindingMatch() }, "admin");
        var ids = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            var id = Assert.Single((await f.SubmitAsync("{\"event\":{\"id\":\"tamper-" + i + "\"},\"source\":{\"ip\":\"203.0.113." + (10 + i) + "\"},\"threat\":{\"technique\":{\"id\":\"T1110\"}}}")).Selected).ExecutionId;
            await f.Engine.Executions.WaitSettledAsync(id, TimeSpan.FromSeconds(20));
            Assert.True((await f.Engine.Executions.SendAsync(new ApproveStep(id, null, "alice", "ok"))).Ok);
            await f.Engine.Executions.WaitSettledAsync(id, TimeSpan.FromSeconds(20));
            ids.Add(id);
        }
        await f.Engine.Read.CatchUpAsync();
        f.Engine.Checkpoint();
        var ok = AuditChain.Verify(new ReadModelDb(f.Engine.Options));
        Assert.True(ok.Ok, ok.Message);
        return (f, ids[0]);
    }

    private static void Sql(EngineFixture f, string sql)
    {
        using var c = new SqliteConnection(f.Options.ConnectionString);
        c.Open();
        using var command = c.CreateCommand();
        command.CommandText = "DROP TRIGGER IF EXISTS execution_log_no_update; DROP TRIGGER IF EXISTS execution_log_no_delete; " +
            "DROP TRIGGER IF EXISTS playbook_run_audit_no_update; DROP TRIGGER IF EXISTS playbook_run_audit_no_delete; " + sql;
        command.ExecuteNonQuery();
    }

    private static AuditVerification Verify(EngineFixture f) => AuditChain.Verify(new ReadModelDb(f.Engine.Options));

    [Fact]
    public async Task Re_chaining_an_edited_row_without_the_key_is_found()
    {
        var (f, _) = await RunAsync();
        await using var _ = f;
        // Rewrite a detail and recompute every link the way the unkeyed chain of 0.2 did (SHA-256): the MAC gives it away.
        Sql(f, "UPDATE execution_log SET detail = 'approved by mallory' WHERE kind = 'step_approved'");
        using (var c = new SqliteConnection(f.Options.ConnectionString))
        {
            c.Open();
            var rows = new List<(long Index, string Detail)>();
            using (var read = c.CreateCommand())
            {
                read.CommandText = "SELECT chain_index, detail FROM execution_log ORDER BY chain_index";
                using var reader = read.ExecuteReader();
                while (reader.Read()) rows.Add((reader.GetInt64(0), reader.GetString(1)));
            }
            var previous = AuditChain.Genesis;
            foreach (var (index, detail) in rows)
            {
                var forged = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(previous + index + detail)));
                using var write = c.CreateCommand();
                write.CommandText = "UPDATE execution_log SET prev_hash = $p, hash = $h WHERE chain_index = $i";
                write.Parameters.AddWithValue("$p", previous);
                write.Parameters.AddWithValue("$h", forged);
                write.Parameters.AddWithValue("$i", index);
                write.ExecuteNonQuery();
                previous = forged;
            }
        }
        var result = Verify(f);
        Assert.False(result.Ok);
        Assert.Contains("execution_log row 1 was altered or re-chained", result.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cutting_the_tail_after_a_checkpoint_is_found()
    {
        var (f, _) = await RunAsync();
        await using var _ = f;
        Sql(f, "DELETE FROM execution_log WHERE chain_index > (SELECT MAX(chain_index) - 3 FROM execution_log)");
        var result = Verify(f);
        Assert.False(result.Ok);
        Assert.Contains("execution_log has", result.Message, StringComparison.Ordinal); // events without their rows

        // Also moving the projector's offset back (so the events look unprojected) leaves the checkpoint to find it.
        Sql(f, "UPDATE projection_offsets SET \"offset\" = (SELECT MAX(journal_ordering) FROM execution_log)");
        var behind = Verify(f);
        Assert.False(behind.Ok);
    }

    [Fact]
    public async Task An_edited_journal_is_found_with_or_without_a_rebuild()
    {
        var (f, _) = await RunAsync();
        await using var _ = f;
        // The approver's name in the journal event, same length so the JSON stays valid.
        Sql(f, "UPDATE journal SET message = CAST(REPLACE(CAST(message AS TEXT), '\"alice\"', '\"malry\"') AS BLOB) WHERE CAST(message AS TEXT) LIKE '%\"alice\"%'");
        var edited = Verify(f);
        Assert.False(edited.Ok);
        Assert.Contains("was edited", edited.Message, StringComparison.Ordinal);

        await f.Engine.Read.RebuildAsync(); // rebuilt from the edited journal: a fresh, self-consistent chain ...
        var rebuilt = Verify(f);
        Assert.False(rebuilt.Ok); // ... that the checkpoint taken before does not match
        Assert.Contains("differs from the checkpoint", rebuilt.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_run_audit_is_chained_and_a_rebuild_from_an_unedited_journal_still_verifies()
    {
        var (f, _) = await RunAsync();
        await using var _ = f;
        await f.Engine.Read.RebuildAsync();
        var same = Verify(f);
        Assert.True(same.Ok, same.Message);
        Sql(f, "UPDATE playbook_run_audit SET decided_by = 'mallory' WHERE chain_index = 1");
        var result = Verify(f);
        Assert.False(result.Ok);
        Assert.Contains("playbook_run_audit row 1 was altered", result.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_forged_checkpoint_line_is_found()
    {
        var (f, _) = await RunAsync();
        await using var _ = f;
        var file = f.Engine.Options.CheckpointFile;
        Assert.DoesNotContain(Path.GetDirectoryName(f.Options.Database)!, Path.GetDirectoryName(file)!, StringComparison.Ordinal); // outside the database folder
        await File.AppendAllTextAsync(file, """{"at":"2026-12-01T00:00:00.0000000+00:00","execution_log":{"index":1,"head":"00"},"playbook_run_audit":{"index":0,"head":"00"},"mac":"ff"}""" + "\n");
        var result = Verify(f);
        Assert.False(result.Ok);
        Assert.Contains("not signed with RBPILOT_AUDIT_KEY", result.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Checkpoints_are_written_every_five_minutes_of_the_engines_clock_when_the_chains_moved()
    {
        var (f, _) = await RunAsync();
        await using var _ = f;
        var file = f.Engine.Options.CheckpointFile;
        var before = File.ReadAllLines(file).Length;
        f.Clock.Advance(TimeSpan.FromMinutes(5)); // nothing moved: no new line
        Assert.Equal(before, File.ReadAllLines(file).Length);
        var id = Assert.Single((await f.SubmitAsync("{\"event\":{\"id\":\"tamper-x\"},\"source\":{\"ip\":\"203.0.113.99\"},\"threat\":{\"technique\":{\"id\":\"T1110\"}}}")).Selected).ExecutionId;
        await f.Engine.Executions.WaitSettledAsync(id, TimeSpan.FromSeconds(20));
        await f.Engine.Read.CatchUpAsync();
        f.Clock.Advance(TimeSpan.FromMinutes(5));
        for (var i = 0; i < 200 && File.ReadAllLines(file).Length == before; i++) await Task.Delay(25); // the timer runs on the thread pool
        Assert.Equal(before + 1, File.ReadAllLines(file).Length);
        Assert.True(Verify(f).Ok);
    }

    [Fact]
    public async Task Rotating_the_audit_key_re_signs_the_chains_from_the_journal()
    {
        var (f, _) = await RunAsync();
        await using var _ = f;
        var rotated = f.Engine.Options with { AuditKey = AuditKeys.FromSecret("the-next-audit-key-0123456789"), AuditCheckpointFile = f.Engine.Options.CheckpointFile + ".next" };
        var stale = AuditChain.Verify(new ReadModelDb(rotated));
        Assert.False(stale.Ok); // the old chain is not signed with the new key
        Assert.Contains("MAC mismatch", stale.Message, StringComparison.Ordinal);
        await f.Host.DisposeAsync();
        f.Options = rotated;
        await f.StartAsync();
        await f.Engine.Read.RebuildAsync();
        f.Engine.Checkpoint();
        var fresh = Verify(f);
        Assert.True(fresh.Ok, fresh.Message);
    }

    [Fact]
    public async Task Removing_the_checkpoint_file_or_a_line_of_it_is_found()
    {
        var (f, _) = await RunAsync();
        await using var _ = f;
        var file = f.Engine.Options.CheckpointFile;
        var id = Assert.Single((await f.SubmitAsync("{\"event\":{\"id\":\"tamper-y\"},\"source\":{\"ip\":\"203.0.113.98\"},\"threat\":{\"technique\":{\"id\":\"T1110\"}}}")).Selected).ExecutionId;
        await f.Engine.Executions.WaitSettledAsync(id, TimeSpan.FromSeconds(20));
        await f.Engine.Read.CatchUpAsync();
        f.Engine.Checkpoint();
        var lines = await File.ReadAllLinesAsync(file);
        Assert.True(lines.Length >= 3);
        await File.WriteAllLinesAsync(file, lines.Where((_, i) => i != 1));
        Assert.Contains("checkpoints were removed", Verify(f).Message, StringComparison.Ordinal);
        File.Delete(file);
        Assert.Contains("checkpoint file", Verify(f).Message, StringComparison.Ordinal);
        Assert.False(Verify(f).Ok);
    }

    [Fact]
    public async Task A_torn_last_checkpoint_line_neither_stops_the_engine_nor_passes_verification()
    {
        var (f, _) = await RunAsync();
        await using var _ = f;
        await File.AppendAllTextAsync(f.Engine.Options.CheckpointFile, "{\"seq\":");
        var id = Assert.Single((await f.SubmitAsync("{\"event\":{\"id\":\"tamper-z\"},\"source\":{\"ip\":\"203.0.113.97\"},\"threat\":{\"technique\":{\"id\":\"T1110\"}}}")).Selected).ExecutionId;
        await f.Engine.Executions.WaitSettledAsync(id, TimeSpan.FromSeconds(20));
        await f.Engine.Read.CatchUpAsync();
        f.Engine.Checkpoint(); // no exception: continues after the last whole line
        var result = Verify(f);
        Assert.False(result.Ok);
        Assert.Contains("not signed", result.Message, StringComparison.Ordinal);
    }
}
