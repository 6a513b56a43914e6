using RunbookPilot.Domain.Adapters;
using RunbookPilot.Domain.Playbooks;
using RunbookPilot.Engine.Hosting;

namespace RunbookPilot.Host;

/// <summary>REST for the playbook library, the adapters, alerts as received, the audit check, summary figures and the read-model rebuild.</summary>
public static class LibraryEndpoints
{
    public static void Map(RouteGroupBuilder api, IReadOnlyList<IAdapter> adapters)
    {
        api.MapGet("/audit/verify", async (RunbookPilotEngine engine, CancellationToken ct) =>
        {
            var result = await engine.Read.VerifyAuditAsync(ct);
            return Results.Json(new { ok = result.Ok, rows = result.Rows, broken_at = result.BrokenAt, execution_id = result.ExecutionId, seq = result.Seq, message = result.Message });
        });
        api.MapGet("/events", async (RunbookPilotEngine engine, int? limit, CancellationToken ct) =>
            Results.Json(new { events = await engine.Read.EventsAsync(Math.Clamp(limit ?? 100, 1, 1000), ct) }));
        api.MapGet("/playbooks", (RunbookPilotEngine engine) => Results.Json(new
        {
            playbooks = engine.Library.Playbooks.Select(p => new { id = p.Id, name = p.Name, version = p.Version, autonomy_level = p.AutonomyLevel.ToString(), steps = p.Steps.Count, techniques = p.Trigger.Techniques }),
            invalid_files = engine.Library.Files.Where(f => !f.Ok).Select(f => new { path = f.Path, errors = f.Errors.Select(e => e.ToString()) }),
        }));
        api.MapGet("/playbooks/{id}", async (RunbookPilotEngine engine, string id, CancellationToken ct) =>
        {
            if (engine.Library.Find(id) is not { } pb) return Http.Problem(404, $"no playbook {id}");
            var file = engine.Library.FileOf(id);
            return Results.Json(new
            {
                playbook = pb,
                file,
                yaml = file is null ? null : await File.ReadAllTextAsync(file, ct),
                recent_executions = await engine.Read.ExecutionsAsync(playbook: id, limit: 20, ct: ct),
            });
        });
        api.MapGet("/metrics/summary", async (RunbookPilotEngine engine, CancellationToken ct) =>
        {
            var executions = await engine.Read.ExecutionsAsync(limit: 1000, ct: ct);
            return Results.Json(new
            {
                executions_by_status = executions.GroupBy(e => e.Status).ToDictionary(g => g.Key, g => g.Count()),
                pending_approvals = (await engine.Read.ApprovalsAsync("pending", ct: ct)).Count,
                simulations_by_status = (await engine.Read.SimulationsAsync(ct: ct)).GroupBy(s => s.Status).ToDictionary(g => g.Key, g => g.Count()),
                projector_lag_events = (await engine.Read.PositionAsync(ct)).Lag,
                window = "last 1000 executions",
            });
        });
        api.MapPost("/playbooks/validate", async (HttpContext c, RunbookPilotEngine engine) =>
        {
            var yaml = await new StreamReader(c.Request.Body).ReadToEndAsync(c.RequestAborted);
            var result = PlaybookLoader.Parse(yaml, "playbook.yaml", engine.AdapterCatalog);
            return Results.Json(new { ok = result.Ok, errors = result.Errors.Select(e => new { line = e.Line, column = e.Column, path = e.Path, message = e.Message }) },
                statusCode: result.Ok ? 200 : 400);
        });
        api.MapPost("/adapters/{name}/test", async (string name, CancellationToken ct) =>
            adapters.FirstOrDefault(a => a.Descriptor.Name == name) is IHealthCheck adapter
                ? Results.Json(await adapter.CheckHealthAsync(ct))
                : Http.Problem(404, $"no adapter '{name}' is configured on this server"));
        var admin = api.MapGroup("/admin").AddEndpointFilter<AdminOnly>();
        admin.MapPost("/rebuild-read-model", async (RunbookPilotEngine engine, CancellationToken ct) =>
        {
            var offset = await engine.Read.RebuildAsync(ct);
            var verification = await engine.Read.VerifyAuditAsync(ct);
            return Results.Json(new { offset, audit_ok = verification.Ok, message = verification.Message });
        });
    }
}
