using Microsoft.Extensions.Logging;
using RunbookPilot.Engine.Execution;
using RunbookPilot.Engine.ReadModel;

namespace RunbookPilot.Engine.Hosting;

/// <summary>
/// Appends a signed checkpoint of the audit chains' heads to the checkpoint file (outside the database folder) and to
/// the log, when they moved since the last one. Written at start, every
/// <see cref="Configuration.RunbookPilotOptions.AuditCheckpointEvery"/> and at shutdown (<see cref="EngineStartup"/>).
/// </summary>
public sealed class AuditCheckpoints(ReadModelDb readModel, ExecutionRuntime runtime)
{
    private readonly Lock _lock = new();
    private (string, string) _last;

    public void Write()
    {
        lock (_lock)
        {
            try
            {
                using (var db = readModel.Open())
                {
                    var (log, runs) = AuditChain.Heads(db);
                    if ((log.Hash, runs.Hash) == _last) return;
                    _last = (log.Hash, runs.Hash);
                }
                if (AuditChain.WriteCheckpoint(readModel, runtime.Time.GetUtcNow(), out var problem) is { } line)
                    runtime.Log.LogInformation("Audit checkpoint written to {File}: {Checkpoint}", readModel.Options.CheckpointFile, line);
                else
                {
                    _last = default; // try again next time
                    runtime.Log.LogError("Audit checkpoint not written: {Problem} (rebuild the read model after a key rotation, or run 'runbookpilot audit verify')", problem);
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or System.Data.Common.DbException or System.Text.Json.JsonException)
            {
                runtime.Log.LogError("Audit checkpoint not written to {File}: {Error}", readModel.Options.CheckpointFile, ex.Message);
            }
        }
    }
}
