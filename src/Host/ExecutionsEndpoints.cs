using RunbookPilot.Engine.Api;
using RunbookPilot.Engine.Hosting;

namespace RunbookPilot.Host;

/// <summary>REST for executions, approvals and simulations: what they are, and the decisions analysts take on them.</summary>
public static class ExecutionsEndpoints
{
    /// <summary>Body of an analyst decision: the step (optional when one waits) and a comment.</summary>
    public sealed record DecisionBody(string? Step, string? Comment);

    public sealed record BulkApproval(string? Playbook, string? Comment);

    public static void Map(RouteGroupBuilder api)
    {
        api.MapGet("/executions", async (RunbookPilotEngine engine, string? playbook, string? status, DateTimeOffset? since, int? limit, int? offset, CancellationToken ct) =>
            Results.Json(new { executions = await engine.Read.ExecutionsAsync(playbook, status, since, Math.Clamp(limit ?? 100, 1, 1000), Math.Max(offset ?? 0, 0), ct) }));
        // ?wait=N (seconds, at most 120): answer once the execution is settled — finished, or waiting only for people.
        api.MapGet("/executions/{id}", async (RunbookPilotEngine engine, string id, int? wait, CancellationToken ct) =>
        {
            if (wait is null && engine.Queries.Execution(id) is null && !engine.Executions.Exists(id)) return Http.Problem(404, $"no execution {id}");
            var snapshot = wait is { } seconds
                ? await engine.Executions.SettledOrCurrentAsync(id, TimeSpan.FromSeconds(Math.Clamp(seconds, 0, 120)), ct)
                : await engine.Executions.GetAsync(id, ct);
            if (!snapshot.State.Started) return Http.Problem(404, $"no execution {id}");
            return await engine.Executions.DetailAsync(id, snapshot, ct) is { } d
                ? Results.Json(new
                {
                    execution = d.Row, settled = d.Settled, steps = d.Steps, timeline = d.Timeline,
                    attack = d.Attack.Select(t => new { t.Id, t.Name, t.Tactics, t.Url }),
                    enrichments = d.Enrichments.Select(e => new { label = e.Label, e.Type, e.Status, e.Text, e.Reason, e.Model, e.Cached, e.At }),
                    effects = d.Effects.Select(e => new { step_id = e.StepId, effect = e.Effect.ToString(), also_held_by = e.OtherHolders, notice = e.Notice(rollingBack: true) }),
                })
                : Http.Problem(404, $"no execution {id}");
        });
        api.MapGet("/approvals", async (RunbookPilotEngine engine, string? status, string? playbook, CancellationToken ct) =>
            Results.Json(new { approvals = await engine.Read.ApprovalsAsync(status == "all" ? null : status ?? "pending", playbook, ct: ct) }));
        api.MapGet("/simulations", async (RunbookPilotEngine engine, string? status, CancellationToken ct) =>
            Results.Json(new { simulations = await engine.Read.SimulationsAsync(status, ct: ct) }));

        api.MapPost("/executions/{id}/approve", (HttpContext c, RunbookPilotEngine engine, string id, DecisionBody? d) => Decide(c, engine, DecisionKind.Approve, id, d));
        api.MapPost("/executions/{id}/reject", (HttpContext c, RunbookPilotEngine engine, string id, DecisionBody? d) => Decide(c, engine, DecisionKind.Reject, id, d));
        api.MapPost("/executions/{id}/rollback", (HttpContext c, RunbookPilotEngine engine, string id, DecisionBody? d) => Decide(c, engine, DecisionKind.Rollback, id, d));
        api.MapPost("/approvals/bulk-approve", async (HttpContext c, RunbookPilotEngine engine, BulkApproval bulk) =>
        {
            var outcomes = await engine.Executions.BulkApproveAsync(bulk.Playbook, Http.Analyst(c), bulk.Comment, c.RequestAborted);
            return Results.Json(new
            {
                results = outcomes.Select(o => new { execution_id = o.ExecutionId, step_id = o.StepId, ok = o.Result.Ok, code = o.Result.Code, message = o.Result.Message }),
            });
        });
        api.MapPost("/simulations/{id}/execute", async (HttpContext c, RunbookPilotEngine engine, string id, DecisionBody? d) =>
            Simulation(await WithResultAsync(c, engine, await engine.Executions.DecideSimulationAsync(true, id, Http.Analyst(c), d?.Comment, c.RequestAborted), rollback: false), id));
        api.MapPost("/simulations/{id}/dismiss", async (HttpContext c, RunbookPilotEngine engine, string id, DecisionBody? d) =>
            Simulation(await engine.Executions.DecideSimulationAsync(false, id, Http.Analyst(c), d?.Comment, c.RequestAborted), id));
    }

    private static async Task<IResult> Decide(HttpContext c, RunbookPilotEngine engine, DecisionKind kind, string id, DecisionBody? d)
    {
        var outcome = await engine.Executions.DecideAsync(kind, id, d?.Step, Http.Analyst(c), d?.Comment, c.RequestAborted);
        return Http.Decision(kind == DecisionKind.Reject ? outcome : await WithResultAsync(c, engine, outcome, kind == DecisionKind.Rollback));
    }

    /// <summary>With <c>?wait=N</c> (seconds, at most 120): the answer waits for the step the decision ran and says its result.</summary>
    private static async Task<DecisionOutcome> WithResultAsync(HttpContext c, RunbookPilotEngine engine, DecisionOutcome outcome, bool rollback) =>
        int.TryParse(c.Request.Query["wait"], System.Globalization.CultureInfo.InvariantCulture, out var seconds) && seconds > 0
            ? outcome with { Result = await engine.Executions.ResultAsync(outcome, rollback, TimeSpan.FromSeconds(Math.Min(seconds, 120)), c.RequestAborted) }
            : outcome;

    private static IResult Simulation(DecisionOutcome outcome, string simulationId) =>
        outcome.ExecutionId == "-" ? Http.Problem(404, $"no simulation {simulationId}") : Http.Decision(outcome);
}
