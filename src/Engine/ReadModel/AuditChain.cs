using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using LinqToDB;
using LinqToDB.Data;

namespace RunbookPilot.Engine.ReadModel;

/// <summary>The result of checking the audit chain: where it first breaks, if it does.</summary>
public sealed record AuditVerification(bool Ok, long Rows, long? BrokenAt, string? ExecutionId, long? Seq, string Message);

/// <summary>SHA-256 hash chain over <c>execution_log</c> (design "Durability and safety rules").</summary>
public static class AuditChain
{
    public const string Genesis = "0000000000000000000000000000000000000000000000000000000000000000";

    public static string HashOf(ExecutionLogRow r) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join('\u001f',
            r.PrevHash, r.ChainIndex.ToString(CultureInfo.InvariantCulture), r.ExecutionId, r.Seq.ToString(CultureInfo.InvariantCulture),
            r.At.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture), r.StepId ?? "", r.Kind, r.Status,
            r.Attempt?.ToString(CultureInfo.InvariantCulture) ?? "", r.Actor ?? "", r.Detail, r.Request ?? "", r.Response ?? ""))));

    /// <summary>The last link of the chain: its index and hash (genesis when empty).</summary>
    public static (long Index, string Hash) Tail(DataConnection db)
    {
        var last = db.GetTable<ExecutionLogRow>().OrderByDescending(r => r.ChainIndex).Select(r => new { r.ChainIndex, r.Hash }).FirstOrDefault();
        return last is null ? (0, Genesis) : (last.ChainIndex, last.Hash);
    }

    /// <summary>Walks the chain in order and reports the first row whose hash or link does not match.</summary>
    public static AuditVerification Verify(ReadModelDb readModel)
    {
        using var db = readModel.Open();
        var previous = Genesis;
        long expectedIndex = 0, rows = 0;
        foreach (var row in db.GetTable<ExecutionLogRow>().OrderBy(r => r.ChainIndex))
        {
            rows++;
            expectedIndex++;
            if (row.ChainIndex != expectedIndex)
                return new AuditVerification(false, rows, expectedIndex, row.ExecutionId, row.Seq, $"row {expectedIndex} is missing (found {row.ChainIndex} next)");
            if (row.PrevHash != previous)
                return new AuditVerification(false, rows, row.ChainIndex, row.ExecutionId, row.Seq, $"row {row.ChainIndex} does not link to the row before it");
            if (HashOf(row) != row.Hash)
                return new AuditVerification(false, rows, row.ChainIndex, row.ExecutionId, row.Seq, $"row {row.ChainIndex} was altered (hash mismatch)");
            previous = row.Hash;
        }
        return new AuditVerification(true, rows, null, null, null, $"audit chain intact: {rows} rows");
    }
}
