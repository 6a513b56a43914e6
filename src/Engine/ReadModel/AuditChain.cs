using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using LinqToDB;
using LinqToDB.Data;

namespace RunbookPilot.Engine.ReadModel;

/// <summary>The result of checking the audit trail: where it first breaks, if it does.</summary>
public sealed record AuditVerification(bool Ok, long Rows, long? BrokenAt, string? ExecutionId, long? Seq, string Message);

/// <summary>The end of one audit chain: its last row's index and MAC (genesis when empty).</summary>
public sealed class ChainHead
{
    public long Index { get; set; }
    public string Hash { get; set; } = AuditChain.Genesis;
}

/// <summary>
/// Tamper evidence that holds outside the database (design "Durability and safety rules"):
/// <list type="bullet">
/// <item>the audit tables <c>execution_log</c> and <c>playbook_run_audit</c> are each a chain of HMAC-SHA256 links keyed
/// with <c>RBPILOT_AUDIT_KEY</c>, which is not in the database: whoever can write the file cannot re-chain them;</item>
/// <item>each row carries the SHA-256 of the journal event it was projected from, inside its MAC: an edited journal no
/// longer matches its rows, and a read model rebuilt from it no longer matches the checkpoints;</item>
/// <item>signed checkpoints of both chain heads are appended to a file outside the database folder (and logged);
/// verification compares the chains with every checkpoint, so truncation after a checkpoint is found too.</item>
/// </list>
/// </summary>
public static class AuditChain
{
    public const string Genesis = "0000000000000000000000000000000000000000000000000000000000000000";

    private static string Mac(byte[] key, params string?[] fields) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(string.Join('\u001f', fields.Select(f => f ?? "")))));

    private static string N(long? n) => n?.ToString(CultureInfo.InvariantCulture) ?? "";

    private static string T(DateTimeOffset? t) => t?.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture) ?? "";

    public static string MacOf(ExecutionLogRow r, byte[] key) => Mac(key, "execution_log", r.PrevHash, N(r.ChainIndex), r.ExecutionId, N(r.Seq), T(r.At), r.StepId,
        r.Kind, r.Status, N(r.Attempt), r.Actor, r.Detail, r.Request, r.Response, N(r.JournalOrdering), r.JournalHash);

    public static string MacOf(RunAuditRow r, byte[] key) => Mac(key, "playbook_run_audit", r.PrevHash, N(r.ChainIndex), r.AuditId, N(r.Seq), r.AlertId,
        N(r.BindingId), r.PlaybookId, r.Mode, r.Decision, r.Phase, r.Success?.ToString(), r.Reason, r.Key, r.ExecutionId, r.By, T(r.StartedAt), T(r.FinishedAt),
        r.OutputRef, N(r.JournalOrdering), r.JournalHash);

    /// <summary>SHA-256 of a journal event as stored (its serialized bytes).</summary>
    public static string JournalHash(byte[] message) => Convert.ToHexStringLower(SHA256.HashData(message));

    /// <summary>The last link of each chain.</summary>
    public static (ChainHead Log, ChainHead Runs) Heads(DataConnection db)
    {
        var log = db.GetTable<ExecutionLogRow>().OrderByDescending(r => r.ChainIndex).Select(r => new { r.ChainIndex, r.Hash }).FirstOrDefault();
        var runs = db.GetTable<RunAuditRow>().Where(r => r.ChainIndex != null).OrderByDescending(r => r.ChainIndex).Select(r => new { r.ChainIndex, r.Hash }).FirstOrDefault();
        return (log is null ? new ChainHead() : new ChainHead { Index = log.ChainIndex, Hash = log.Hash },
            runs is null ? new ChainHead() : new ChainHead { Index = runs.ChainIndex!.Value, Hash = runs.Hash! });
    }

    /// <summary>The stored bytes' hashes of the journal events with ordering in [from, to].</summary>
    public static Dictionary<long, string> JournalHashes(DataConnection db, long from, long to) =>
        db.Query<JournalBytes>("SELECT ordering AS Ordering, message AS Message FROM journal WHERE ordering >= @from AND ordering <= @to",
                new DataParameter("from", from, DataType.Int64), new DataParameter("to", to, DataType.Int64))
            .ToDictionary(j => j.Ordering, j => JournalHash(j.Message));

    /// <summary>One journal row's ordering and stored bytes.</summary>
    public sealed class JournalBytes
    {
        public long Ordering { get; set; }
        public byte[] Message { get; set; } = [];
    }

    /// <summary>Why the last row of a chain does not carry a valid MAC for this key (written with another key, or forged), or null.</summary>
    public static string? HeadProblem(DataConnection db, byte[] key)
    {
        if (db.GetTable<ExecutionLogRow>().OrderByDescending(r => r.ChainIndex).FirstOrDefault() is { } log && MacOf(log, key) != log.Hash)
            return $"execution_log row {log.ChainIndex} is not signed with this RBPILOT_AUDIT_KEY";
        if (db.GetTable<RunAuditRow>().Where(r => r.ChainIndex != null).OrderByDescending(r => r.ChainIndex).FirstOrDefault() is { } run && MacOf(run, key) != run.Hash)
            return $"playbook_run_audit row {run.ChainIndex} is not signed with this RBPILOT_AUDIT_KEY";
        return null;
    }

    /// <summary>
    /// Appends a signed checkpoint of both chain heads to the checkpoint file and returns its line (also for the log); a
    /// chain whose last row is not signed with this key is never vouched for (null, and <paramref name="problem"/> says why).
    /// </summary>
    public static string? WriteCheckpoint(ReadModelDb readModel, DateTimeOffset at, out string? problem)
    {
        using var db = readModel.Open();
        problem = HeadProblem(db, readModel.AuditKey);
        if (problem is not null) return null;
        var (log, runs) = Heads(db);
        var stamp = T(at);
        var file = readModel.Options.CheckpointFile;
        // Each line names the one before it (its number and MAC), so a line cannot be removed from the middle unseen.
        var (seq, prev) = (1L, "");
        if (File.Exists(file) && File.ReadLines(file).Reverse().Select(Parsed).FirstOrDefault(p => p is not null) is { } previous)
            (seq, prev) = (((long?)previous["seq"] ?? 0) + 1, (string?)previous["mac"] ?? ""); // a torn last line is skipped (verify reports it)
        var line = new JsonObject
        {
            ["seq"] = seq,
            ["at"] = stamp,
            ["execution_log"] = new JsonObject { ["index"] = log.Index, ["head"] = log.Hash },
            ["playbook_run_audit"] = new JsonObject { ["index"] = runs.Index, ["head"] = runs.Hash },
            ["prev"] = prev,
            ["mac"] = Mac(readModel.AuditKey, "checkpoint", N(seq), stamp, N(log.Index), log.Hash, N(runs.Index), runs.Hash, prev),
        }.ToJsonString();
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        using (var stream = new FileStream(file, AuditKeys.OwnerOnly(FileMode.Append)))
        using (var writer = new StreamWriter(stream))
            writer.WriteLine(line);
        return line;
    }

    private static JsonObject? Parsed(string line)
    {
        try
        {
            return line.Trim().Length == 0 ? null : JsonNode.Parse(line) as JsonObject;
        }
        catch (System.Text.Json.JsonException)
        {
            return null;
        }
    }

    /// <summary>Walks both chains, the journal they came from and every checkpoint, and reports the first mismatch.</summary>
    public static AuditVerification Verify(ReadModelDb readModel)
    {
        var key = readModel.AuditKey;
        using var db = readModel.Open();
        var journal = new Dictionary<long, (string Hash, string What)>();
        var previous = Genesis;
        long expected = 0, rows = 0;
        var logHashes = new Dictionary<long, string>();
        foreach (var row in db.GetTable<ExecutionLogRow>().OrderBy(r => r.ChainIndex))
        {
            rows++;
            expected++;
            if (row.ChainIndex != expected)
                return new AuditVerification(false, rows, expected, row.ExecutionId, row.Seq, $"execution_log row {expected} is missing (found {row.ChainIndex} next)");
            if (row.PrevHash != previous)
                return new AuditVerification(false, rows, row.ChainIndex, row.ExecutionId, row.Seq, $"execution_log row {row.ChainIndex} does not link to the row before it");
            if (row.JournalHash is null)
                return new AuditVerification(false, rows, row.ChainIndex, row.ExecutionId, row.Seq,
                    $"execution_log row {row.ChainIndex} has no journal hash (written by an older version): run 'runbookpilot admin rebuild-read-model' once");
            if (MacOf(row, key) != row.Hash)
                return new AuditVerification(false, rows, row.ChainIndex, row.ExecutionId, row.Seq,
                    $"execution_log row {row.ChainIndex} was altered or re-chained (MAC mismatch; or RBPILOT_AUDIT_KEY is not the key it was written with)");
            journal.TryAdd(row.JournalOrdering!.Value, (row.JournalHash, $"execution_log row {row.ChainIndex}"));
            logHashes[row.ChainIndex] = row.Hash;
            previous = row.Hash;
        }
        previous = Genesis;
        expected = 0;
        var runHashes = new Dictionary<long, string>();
        foreach (var row in db.GetTable<RunAuditRow>().OrderBy(r => r.ChainIndex))
        {
            rows++;
            expected++;
            if (row.ChainIndex is null || row.JournalHash is null)
                return new AuditVerification(false, rows, null, row.ExecutionId, row.Seq,
                    $"playbook_run_audit row {row.AuditId} is not chained (written by an older version): run 'runbookpilot admin rebuild-read-model' once");
            if (row.ChainIndex != expected)
                return new AuditVerification(false, rows, expected, row.ExecutionId, row.Seq, $"playbook_run_audit row {expected} is missing (found {row.ChainIndex} next)");
            if (row.PrevHash != previous || MacOf(row, key) != row.Hash)
                return new AuditVerification(false, rows, row.ChainIndex, row.ExecutionId, row.Seq, $"playbook_run_audit row {row.ChainIndex} was altered or re-chained (MAC mismatch)");
            journal.TryAdd(row.JournalOrdering!.Value, (row.JournalHash, $"playbook_run_audit row {row.ChainIndex}"));
            runHashes[row.ChainIndex.Value] = row.Hash!;
            previous = row.Hash!;
        }

        var seen = 0;
        foreach (var j in db.Query<JournalBytes>("SELECT ordering AS Ordering, message AS Message FROM journal ORDER BY ordering"))
        {
            if (!journal.TryGetValue(j.Ordering, out var want)) continue;
            seen++;
            if (JournalHash(j.Message) != want.Hash)
                return new AuditVerification(false, rows, j.Ordering, null, null, $"the journal event at ordering {j.Ordering} was edited: it no longer matches {want.What}");
        }
        if (seen != journal.Count)
        {
            var present = db.Query<long>("SELECT ordering FROM journal").ToHashSet();
            var missing = journal.Keys.Where(o => !present.Contains(o)).Order().First();
            return new AuditVerification(false, rows, missing, null, null, $"the journal event at ordering {missing} is gone: {journal[missing].What} was projected from it");
        }

        // Every execution event up to the projector's offset has its execution_log row (none was left unprojected).
        var offset = db.GetTable<ProjectionOffsetRow>().Where(r => r.Name == ReadModelProjection.Name).Select(r => (long?)r.Offset).FirstOrDefault() ?? 0;
        var executionEvents = db.Execute<long>("SELECT COUNT(*) FROM journal WHERE persistence_id LIKE 'execution-%' AND ordering <= @o",
            new DataParameter("o", offset, DataType.Int64));
        if (executionEvents != logHashes.Count)
            return new AuditVerification(false, rows, null, null, null,
                $"the journal holds {executionEvents} execution events up to the projected offset {offset}, but execution_log has {logHashes.Count} rows");

        var checkpoints = 0;
        var file = readModel.Options.CheckpointFile;
        if (!File.Exists(file) && (logHashes.Count > 0 || runHashes.Count > 0))
            return new AuditVerification(false, rows, null, null, null, $"the checkpoint file {file} is missing (the engine writes one at every start): it was removed or RBPILOT_AUDIT_CHECKPOINTS points elsewhere");
        if (File.Exists(file))
        {
            var number = 0;
            var prev = "";
            long expectedSeq = 0;
            foreach (var text in File.ReadLines(file))
            {
                number++;
                if (text.Trim().Length == 0) continue;
                JsonObject? c;
                try
                {
                    c = JsonNode.Parse(text) as JsonObject;
                }
                catch (System.Text.Json.JsonException)
                {
                    c = null;
                }
                var stamp = c?["at"]?.GetValue<string>();
                var seq = (long?)c?["seq"];
                var (li, lh) = ((long?)c?["execution_log"]?["index"], (string?)c?["execution_log"]?["head"]);
                var (ri, rh) = ((long?)c?["playbook_run_audit"]?["index"], (string?)c?["playbook_run_audit"]?["head"]);
                if (c is null || li is null || ri is null || seq is null || (string?)c["mac"] != Mac(key, "checkpoint", N(seq), stamp, N(li), lh, N(ri), rh, (string?)c["prev"]))
                    return new AuditVerification(false, rows, null, null, null, $"checkpoint line {number} of {file} is not signed with RBPILOT_AUDIT_KEY (altered or forged)");
                if (seq != ++expectedSeq || (string?)c["prev"] != prev)
                    return new AuditVerification(false, rows, null, null, null, $"checkpoint line {number} of {file} does not follow the line before it: checkpoints were removed");
                prev = (string)c["mac"]!;
                checkpoints++;
                if (li > 0 && (!logHashes.TryGetValue(li.Value, out var atLog) || atLog != lh))
                    return new AuditVerification(false, rows, li, null, null, logHashes.ContainsKey(li.Value)
                        ? $"execution_log row {li} differs from the checkpoint of {stamp}: the trail was rewritten (re-chained, or rebuilt from an edited journal)"
                        : $"execution_log ends at row {logHashes.Count}, but the checkpoint of {stamp} saw row {li}: rows were removed");
                if (ri > 0 && (!runHashes.TryGetValue(ri.Value, out var atRuns) || atRuns != rh))
                    return new AuditVerification(false, rows, ri, null, null, runHashes.ContainsKey(ri.Value)
                        ? $"playbook_run_audit row {ri} differs from the checkpoint of {stamp}: the trail was rewritten"
                        : $"playbook_run_audit ends at row {runHashes.Count}, but the checkpoint of {stamp} saw row {ri}: rows were removed");
            }
        }
        return new AuditVerification(true, rows, null, null, null,
            $"audit chain intact: {logHashes.Count} execution_log rows, {runHashes.Count} playbook_run_audit rows, {journal.Count} journal events, {checkpoints} checkpoint(s)");
    }
}
