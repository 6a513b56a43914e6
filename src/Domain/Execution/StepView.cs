using System.Text.Json.Nodes;
namespace RunbookPilot.Domain.Execution;

/// <summary>Where one step of an execution stands, as the API, the CLI and the dashboard show it.</summary>
public sealed record StepView(string Id, string Name, string AutonomyLevel, string Adapter, string ActionType, string Status, int Attempts,
    string? Error, string Rollback, string? SimulationId)
{
    public static IReadOnlyList<StepView> Of(ExecutionState state) =>
        state.Playbook is not { } playbook ? [] : playbook.Steps.Select(s =>
        {
            var st = state.Step(s.Id);
            return new StepView(s.Id, s.Name, s.AutonomyLevel.ToString(), s.Adapter, s.ActionType, StatusName(st.Status), st.Attempts, st.Error,
                Yaml.ModelShape.SnakeCase(st.Rollback.ToString()), st.SimulationId);
        }).ToList();

    public static string StatusName(StepStatus s) => s switch
    {
        StepStatus.RetryWaiting => "retry_waiting",
        StepStatus.WaitingApproval => "waiting_approval",
        StepStatus.SimulationDismissed => "simulation_dismissed",
        _ => s.ToString().ToLowerInvariant(),
    };
}

/// <summary>
/// What a person who approved, executed or rolled back a step is told once the result is known: "step block
/// (paloalto.block_ip) succeeded", "isolate_host failed: crowdstrike: no device with hostname 'X'" — never only
/// "running" when the result is there.
/// </summary>
public static class StepOutcome
{
    /// <summary>The result of step <paramref name="stepId"/> (or of its rollback) as it stands: whether it went well, and what to say.</summary>
    public static (bool Ok, string Message) Describe(ExecutionState state, string stepId, bool rollback)
    {
        var step = state.Playbook?.FindStep(stepId);
        if (step is null) return (false, $"execution {state.ExecutionId} has no step '{stepId}'");
        var st = state.Step(stepId);
        var what = $"step {stepId} ({step.Adapter}.{step.ActionType})";
        if (rollback)
            return st.Rollback switch
            {
                RollbackStatus.RolledBack when st.RollbackOutput?["note"] is { } note => (true, $"rollback of {what}: {note}"),
                RollbackStatus.RolledBack => (true, $"{what} rolled back"),
                RollbackStatus.Failed => (false, $"rollback of {what} failed: {st.RollbackError}"),
                _ => (true, $"rollback of {what} is still running; its result will show on the execution page"),
            };
        return st.Status switch
        {
            StepStatus.Succeeded when st.Output?["vendor_called"] is JsonValue called && called.GetValueKind() == System.Text.Json.JsonValueKind.False =>
                (true, $"{what}: {st.Output["note"]}"),
            StepStatus.Succeeded => (true, $"{what} succeeded" + (state.DryRun ? " (dry run: nothing was sent)" : "")
                + (st.Output?["also_held_by"] is { } held ? $"; the same effect is also held by {string.Join(", ", held.AsArray().Select(h => h?.ToString()))}" : "")),
            StepStatus.Failed => (false, $"{what} failed: {st.Error}"),
            StepStatus.Refused => (false, $"{what} refused: {st.Error}"),
            StepStatus.Rejected or StepStatus.Expired or StepStatus.Simulated => (false, $"{what}: {st.Error ?? StepView.StatusName(st.Status)}"),
            StepStatus.RetryWaiting => (false, $"{what}: attempt {st.Attempts} failed ({st.Error}); retrying at {st.RetryAt:u}"),
            StepStatus.WaitingApproval => (true, $"{what}: approval recorded; waiting for another approver"),
            _ => (true, $"{what} is running; its result will show on the execution page"),
        };
    }
}
