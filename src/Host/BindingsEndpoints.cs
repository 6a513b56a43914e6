using System.Text.Json.Nodes;
using RunbookPilot.Domain.Bindings;
using RunbookPilot.Engine.Hosting;
using RunbookPilot.Domain.Intake;
using RunbookPilot.Engine.Ingestion;
using RunbookPilot.Engine.Api;

namespace RunbookPilot.Host;

/// <summary>
/// REST for playbook bindings (seed phase 7B): CRUD (admin), per-alert preview / manual run / audit (analysts too), and the
/// kill switch (anyone may pause; resuming is for the admin).
/// </summary>
public static class BindingsEndpoints
{
    public static void Map(RouteGroupBuilder api)
    {
        var admin = api.MapGroup("").AddEndpointFilter<AdminOnly>();

        api.MapGet("/bindings", async (RunbookPilotEngine engine, CancellationToken ct) => Results.Json(BindingJson.Write(await engine.Bindings.ListAsync(ct))));
        api.MapGet("/bindings/{id:int}", async (RunbookPilotEngine engine, int id, CancellationToken ct) =>
            (await engine.Bindings.ListAsync(ct)).Bindings.FirstOrDefault(b => b.Binding.Id == id) is { } view
                ? Results.Json(new JsonObject { ["binding"] = BindingJson.Write(view), ["usage"] = await Usage(engine, id, ct), ["recent_audit"] = BindingJson.Write(await engine.Read.RunAuditAsync(bindingId: id, limit: 50, ct: ct)) })
                : Problem(404, $"no binding {id}"));
        admin.MapPost("/bindings", (RunbookPilotEngine engine, HttpContext c, CancellationToken ct) => SaveAsync(c, engine, null, ct));
        admin.MapPut("/bindings/{id:int}", (RunbookPilotEngine engine, HttpContext c, int id, CancellationToken ct) => SaveAsync(c, engine, id, ct));
        admin.MapDelete("/bindings/{id:int}", async (RunbookPilotEngine engine, HttpContext c, int id, CancellationToken ct) =>
        {
            var result = await engine.Bindings.DeleteAsync(id, Http.Analyst(c), ct);
            return result.NotFound ? Problem(404, $"no binding {id}") : Results.Json(new { deleted = id });
        });
        api.MapGet("/bindings/audit", async (RunbookPilotEngine engine, int? binding_id, int? limit, CancellationToken ct) =>
            Results.Json(new JsonObject { ["audit"] = BindingJson.Write(await engine.Read.RunAuditAsync(bindingId: binding_id, limit: Math.Clamp(limit ?? 100, 1, 1000), ct: ct)) }));

        api.MapPost("/alerts/{id}/bindings/evaluate", async (RunbookPilotEngine engine, string id, CancellationToken ct) =>
        {
            if (await engine.Read.StoredAlertAsync(id, ct) is not { } alert) return Problem(404, $"no alert {id}");
            var decisions = await engine.Bindings.PreviewAsync(alert, ct);
            return Results.Json(new JsonObject { ["alert_id"] = id, ["preview"] = true, ["decisions"] = new JsonArray([.. decisions.Select(d => (JsonNode)BindingJson.Write(d))]) });
        });
        api.MapPost("/alerts/{id}/bindings/run", async (RunbookPilotEngine engine, HttpContext c, string id, RunBody body, CancellationToken ct) =>
        {
            if (await engine.Read.StoredAlertAsync(id, ct) is not { } alert) return Problem(404, $"no alert {id}");
            BindingMode? mode = body.Mode switch
            {
                null => null,
                "dry_run" => BindingMode.DryRun,
                "auto_run" => BindingMode.AutoRun,
                _ => (BindingMode?)(-1),
            };
            if (mode == (BindingMode)(-1)) return Problem(400, "malformed run request", [("$.mode", "expected dry_run or auto_run")]);
            var result = await engine.Bindings.RunAsync(alert, body.BindingId, mode, Http.Analyst(c), body.Reason, ct);
            return result.Decision is { } d
                ? Results.Json(new JsonObject { ["decision"] = BindingJson.Write(d) })
                : Problem(result.Error!.StartsWith("no binding", StringComparison.Ordinal) ? 404 : 400, result.Error);
        });
        api.MapGet("/alerts/{id}/selection", async (RunbookPilotEngine engine, string id, CancellationToken ct) =>
            await engine.Selection.ExplainAsync(id, ct) is { } selection ? Results.Json(selection.ToJson()) : Problem(404, $"no alert {id}"));
        api.MapGet("/alerts/{id}/bindings/audit", async (RunbookPilotEngine engine, string id, CancellationToken ct) =>
            Results.Json(new JsonObject { ["alert_id"] = id, ["audit"] = BindingJson.Write(await engine.Read.RunAuditAsync(alertId: id, ct: ct)) }));

        api.MapGet("/control", async (RunbookPilotEngine engine, CancellationToken ct) =>
        {
            var view = BindingJson.Write(await engine.Bindings.ListAsync(ct));
            view.Remove("bindings");
            return Results.Json(view);
        });
        api.MapPost("/control/pause", (RunbookPilotEngine engine, HttpContext c, PauseBody body, CancellationToken ct) => SetPauseAsync(c, engine, body, paused: true, ct));
        admin.MapPost("/control/resume", (RunbookPilotEngine engine, HttpContext c, PauseBody body, CancellationToken ct) => SetPauseAsync(c, engine, body, paused: false, ct));
    }

    /// <summary>Body of a manual run: the binding, optionally the mode (dry_run or auto_run; default: the binding's, auto_run for suggest), and why.</summary>
    public sealed record RunBody(int BindingId, string? Mode, string? Reason);

    /// <summary>Body of pause / resume: scope global (default), playbook or binding, the target (playbook or binding id), and why.</summary>
    public sealed record PauseBody(string? Scope, string? Target, string? Reason);

    private static async Task<IResult> SaveAsync(HttpContext c, RunbookPilotEngine engine, int? id, CancellationToken ct)
    {
        var text = await new StreamReader(c.Request.Body).ReadToEndAsync(ct);
        if (BindingJson.Read(text, out var problem) is not { } spec) return Problem(400, "malformed binding; nothing was changed", [problem!.Value]);
        if (id is not null) spec = spec with { Id = id };
        else if (spec.Id is not null) return Problem(400, "malformed binding; nothing was changed", [("$.id", "a new binding gets its id; use PUT /api/v1/bindings/{id} to change one")]);
        var (result, saved) = await engine.Bindings.SaveAndViewAsync(spec, Http.Analyst(c), ct);
        if (result.NotFound) return Problem(404, $"no binding {id}");
        if (result.Problems.Count > 0) return Problem(400, "invalid binding; nothing was changed", result.Problems.Select(p => ("$." + p.Path, p.Message)));
        return Results.Json(new JsonObject { ["binding"] = BindingJson.Write(saved!) }, statusCode: id is null ? 201 : 200);
    }

    private static async Task<IResult> SetPauseAsync(HttpContext c, RunbookPilotEngine engine, PauseBody? body, bool paused, CancellationToken ct)
    {
        var scope = (body?.Scope ?? "global") switch
        {
            "global" => PauseScope.Global,
            "playbook" => PauseScope.Playbook,
            "binding" => PauseScope.Binding,
            _ => (PauseScope)(-1),
        };
        if (scope == (PauseScope)(-1)) return Problem(400, "malformed request", [("$.scope", "expected global, playbook or binding")]);
        if (scope != PauseScope.Global && string.IsNullOrWhiteSpace(body?.Target)) return Problem(400, "malformed request", [("$.target", $"name the {body!.Scope} to {(paused ? "pause" : "resume")}")]);
        var result = await engine.Bindings.PauseAsync(scope, body?.Target ?? "", paused, Http.Analyst(c), body?.Reason, ct);
        return result.Ok ? Results.Json(new { ok = true, message = result.Message, released = result.Released }) : Problem(404, result.Message);
    }

    private static async Task<JsonArray> Usage(RunbookPilotEngine engine, int id, CancellationToken ct) => new([.. (await engine.Read.BindingUsageAsync(id, ct)).Select(u => (JsonNode)new JsonObject
    {
        ["key"] = u.Key, ["tokens"] = u.Tokens, ["refilled_at"] = u.RefilledAt, ["quota_day"] = u.QuotaDay, ["quota_used"] = u.QuotaUsed, ["inflight"] = u.InFlight,
        ["last_run_at"] = u.LastRunAt, ["circuit_open"] = u.CircuitOpen,
    })]);

    private static IResult Problem(int status, string error, IEnumerable<(string Path, string Message)>? details = null) =>
        Http.Problem(status, error, details?.Select(d => new RunbookPilot.Domain.Alerts.AlertProblem(d.Path, d.Message)));
}
