using System.Text.Json;
using RunbookPilot.Domain.Core;
using RunbookPilot.Domain.Execution;

namespace RunbookPilot.Engine.ReadModel;

/// <summary>How an approval request and a simulation read as rows: the projector writes these, the approval queue holds them.</summary>
public static class ReadModelRows
{
    public static ApprovalRow Approval(string executionId, ApprovalRequested a, ExecutionState state)
    {
        var pb = state.Playbook!;
        var step = pb.FindStep(a.StepId)!;
        return new ApprovalRow
        {
            ApprovalId = a.ApprovalId,
            ExecutionId = executionId,
            StepId = a.StepId,
            StepName = step.Name,
            PlaybookId = pb.Id,
            AutonomyLevel = a.Reason == ApprovalReason.SimulationPromoted ? "L2" : step.AutonomyLevel.ToString(),
            Action = $"{step.Adapter}.{step.ActionType}",
            Reason = Timeline.Reason(a.Reason),
            Status = "pending",
            RequiredApprovers = a.RequiredApprovers,
            RequestedAt = a.At,
            Deadline = a.Deadline,
            Request = a.Request is null ? null : JsonSerializer.Serialize(a.Request, JsonConventions.Options),
            RollbackAvailable = step.RollbackAvailable,
            AttackContext = JsonSerializer.Serialize(state.Techniques().Select(t => new { t.Id, t.Name, t.Tactics, t.Url }), JsonConventions.Options),
        };
    }

    public static SimulationRow Simulation(string executionId, StepSimulated s, ExecutionState state) => new()
    {
        SimulationId = s.SimulationId,
        ExecutionId = executionId,
        StepId = s.StepId,
        PlaybookId = state.Playbook!.Id,
        Adapter = s.Simulation.Adapter,
        Action = s.Simulation.Action,
        Method = s.Simulation.Request is { } r ? $"{r.Method} {r.Url}" : $"{s.Simulation.Adapter}.{s.Simulation.Action}",
        Request = JsonSerializer.Serialize(s.Simulation.Request is null ? (object)s.Simulation.Parameters : s.Simulation.Request, JsonConventions.Options),
        ExpectedOutcome = s.Simulation.ExpectedOutcome,
        RiskScore = s.Simulation.RiskScore,
        RiskFactors = JsonSerializer.Serialize(s.Simulation.RiskFactors),
        Recommendation = s.Simulation.Recommendation,
        CreatedAt = s.At,
    };
}
