using System.Text;
using RunbookPilot.Domain.Alerts;
using RunbookPilot.Domain.Intake;
using RunbookPilot.Engine.Api;
using RunbookPilot.Engine.Hosting;

namespace RunbookPilot.Host;

/// <summary>
/// The webhook: <c>POST /events</c> (one ECS alert or a JSON array of them) and <c>POST /events/dry-run</c> (the CLI's
/// <c>execute --dry-run</c> through the server: a route of its own, so a server that does not know it answers 404, never
/// a real run). Nothing is stored unless every alert of the request is well-formed; admission control refuses before
/// storing when executions cannot keep up (SIEMs retry, and a retried alert that did get in is recognised by its event.id).
/// </summary>
public static class WebhookApi
{
    /// <summary>Submissions of this server waiting for the journal.</summary>
    public sealed class InFlight
    {
        private int _count;

        public int Count => Volatile.Read(ref _count);

        public void Add(int n) => Interlocked.Add(ref _count, n);
    }

    public static void Map(WebApplication app)
    {
        app.MapPost("/events", (HttpContext c, RunbookPilotEngine engine, ServerOptions server, InFlight inFlight) => Events(c, engine, server, inFlight, dryRun: false));
        app.MapPost("/events/dry-run", (HttpContext c, RunbookPilotEngine engine, ServerOptions server, InFlight inFlight) => Events(c, engine, server, inFlight, dryRun: true));
    }

    private static async Task<IResult> Events(HttpContext c, RunbookPilotEngine engine, ServerOptions server, InFlight inFlight, bool dryRun)
    {
        byte[] body;
        try
        {
            using var buffer = new MemoryStream();
            await c.Request.Body.CopyToAsync(buffer, c.RequestAborted);
            body = buffer.ToArray();
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == 413)
        {
            return Results.Json(new { error = $"body larger than {server.MaxBodyBytes} bytes", max_bytes = server.MaxBodyBytes }, statusCode: 413);
        }
        string text;
        try
        {
            text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(body);
        }
        catch (DecoderFallbackException ex)
        {
            return Http.Problem(400, "body is not valid UTF-8", [new AlertProblem("$", $"invalid byte at offset {ex.Index}")]);
        }
        var batch = AlertBatch.Parse(text, jsonLines: false);
        if (batch.Refusal is { } refusal) return Http.Problem(400, refusal, batch.Problems.Select(p => new AlertProblem(p.Path, p.Message)));
        // A batch no retry could ever get in is refused as too large (413 with the maximum), not as busy (503).
        var maxBatch = Math.Min(server.MaxBacklog, server.MaxInFlight);
        if (batch.Count > maxBatch)
            return Results.Json(new { error = $"{batch.Count} alerts in one request; at most {maxBatch} are accepted at once: split the batch", max_alerts = maxBatch }, statusCode: 413);
        var (alerts, problems) = batch.Prepare();
        if (problems.Count > 0) return Http.Problem(400, "malformed alert(s); nothing was stored", problems.Select(p => new AlertProblem(p.Path, p.Message)));

        var backlog = await engine.Alerts.BacklogAsync(c.RequestAborted);
        if (backlog + batch.Count > server.MaxBacklog || inFlight.Count + batch.Count > server.MaxInFlight)
        {
            c.Response.Headers.RetryAfter = "5";
            return Http.Problem(503, $"busy: {backlog} accepted alerts wait for their executions to start (limit {server.MaxBacklog}), " +
                $"{inFlight.Count} are being journaled (limit {server.MaxInFlight}); retry later");
        }

        // All alerts of a request go to the intake at once (in order); it journals them in one batch.
        inFlight.Add(batch.Count);
        AlertAccepted[] results;
        try
        {
            results = await Task.WhenAll(alerts.Select(a => engine.Alerts.SubmitAsync(a.Alert, "webhook", dryRun, c.RequestAborted)));
        }
        finally
        {
            inFlight.Add(-batch.Count);
        }
        var accepted = results.Select(result => new
        {
            alert_id = result.AlertId,
            duplicate = result.Duplicate,
            executions = result.Selected.Select(s => new { execution_id = s.ExecutionId, playbook_id = s.PlaybookId, reason = s.Reason }),
        });
        return Results.Json(new { accepted }, statusCode: 202);
    }
}

/// <summary>Answers shared by the REST endpoints.</summary>
public static class Http
{
    public static string Analyst(HttpContext c) => c.Items[AuthMiddleware.AnalystItem] as string ?? "unknown";

    public static IResult Problem(int status, string error, IEnumerable<AlertProblem>? details = null) =>
        Results.Json(new { error, details = details?.Select(d => new { path = d.Path, message = d.Message }) }, statusCode: status);

    /// <summary>A decision's answer: 409 when refused or expired, 404 when the execution is unknown, 400 when invalid.</summary>
    public static IResult Decision(DecisionOutcome outcome)
    {
        var r = outcome.Result;
        var status = r.Code switch
        {
            "not_found" => 404,
            "refused" or "expired" => 409,
            "step_failed" => 200, // the decision was taken; the step it ran failed (the body says how)
            _ when !r.Ok => 400,
            _ => 200,
        };
        return Results.Json(new { ok = r.Ok, code = r.Code, message = r.Message, execution_id = outcome.ExecutionId }, statusCode: status);
    }
}
