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
