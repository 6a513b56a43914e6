using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.Features;
using RunbookPilot.Domain.Adapters;
using RunbookPilot.Engine.Adapters;
using RunbookPilot.Domain.Alerts;
using RunbookPilot.Domain.Bindings;
using RunbookPilot.Domain.Execution;
using RunbookPilot.Engine.Execution;
using RunbookPilot.Engine.Hosting;
using RunbookPilot.Domain.Intake;
using RunbookPilot.Engine.Ingestion;
using RunbookPilot.Domain.Playbooks;
using RunbookPilot.Engine.ReadModel;
using RunbookPilot.VendorSim;
using Prometheus;
using Serilog;
using RunbookPilot.Domain.Core;
using RunbookPilot.Engine.Configuration;

namespace RunbookPilot.Host;

/// <summary>
/// The RunbookPilot server: the engine (actor system over the database) plus the webhook, the REST API and /health,
/// behind basic authentication. <see cref="StartAsync"/> is what <c>dotnet run --project src/Host</c> and the tests run.
/// </summary>
public static class Server
{
    public static async Task<WebApplication> StartAsync(ServerOptions server, RunbookPilotOptions engineOptions, IReadOnlyList<IAdapter>? adapterOverrides = null,
        TimeProvider? time = null)
    {
        if (server.Refusal() is { } refusal) throw new InvalidOperationException(refusal);
        // The audit MAC key: RBPILOT_AUDIT_KEY, required outside --demo (ConfigurationException: the server does not start).
        if (engineOptions.AuditKey is null)
            engineOptions = engineOptions with { AuditKey = RunbookPilot.Engine.ReadModel.AuditKeys.Resolve(Environment.GetEnvironmentVariable, engineOptions, server.Demo) };
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls(server.Urls);
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = server.MaxBodyBytes);
        // One log for the web host and the engine: console (JSON lines with --json-logs), and the recent lines for `ops log`.
        var recentLog = new RecentLog();
        var logConfig = new LoggerConfiguration().WriteTo.Sink(recentLog)
            .MinimumLevel.Information().MinimumLevel.Override("Microsoft", Serilog.Events.LogEventLevel.Warning)
            .MinimumLevel.Override("Akka", Serilog.Events.LogEventLevel.Warning);
        var serilog = (server.JsonLogs ? logConfig.WriteTo.Console(new Serilog.Formatting.Compact.CompactJsonFormatter()) : logConfig.WriteTo.Console()).CreateLogger();
        builder.Services.AddSerilog(serilog, dispose: false);
        builder.Services.AddSingleton(server);
        builder.Services.AddSingleton(time ?? TimeProvider.System);
        builder.Services.AddSingleton<LoginThrottle>();
        builder.Services.AddSingleton(recentLog);
        builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower);
        builder.Services.AddOpenApi();
        builder.WebHost.UseStaticWebAssets();
        builder.Services.AddRazorComponents().AddInteractiveServerComponents();
        MudBlazor.Services.ServiceCollectionExtensions.AddMudServices(builder.Services);

        var startupLog = new StringWriter();
        var adapters = await DemoMode.AdaptersAsync(engineOptions, adapterOverrides ?? [], startupLog, server.Demo);
        var engine = await RunbookPilotEngine.StartAsync(engineOptions with { Llm = adapters.Llm }, adapters.Adapters, time, purpose: "runbookpilot server",
            logging: l => l.AddSerilog(serilog));
        var projection = engine.Projector.StartLive();
        builder.Services.AddSingleton(engine);
        builder.Services.AddSingleton(new RunbookPilot.Web.Services.DashboardOptions(adapters.Simulated));
        builder.Services.AddSingleton(new RunbookPilot.Web.Services.DashboardData(engine));
        builder.Services.AddSingleton(new RunbookPilot.Web.Services.LiveFeed(engine.System));

        var app = builder.Build();
        var log = app.Services.GetRequiredService<ILogger<WebApplication>>();
        if (server.Demo && string.IsNullOrEmpty(server.Password))
            log.LogWarning("DEMO MODE: no RBPILOT_PASS set; the API and dashboard accept {User}/{Password}. Never expose this server.", server.User, ServerOptions.DemoPassword);
        if (startupLog.ToString().Trim() is { Length: > 0 } demoLine) log.LogWarning("{Message}", demoLine);
        foreach (var name in engine.UnconfiguredAdapters)
            log.LogError("Adapter {Adapter} is used by a playbook but not configured in adapters.yaml: its steps fail until it is (start with --demo to use the local simulators)", name);
        app.Lifetime.ApplicationStopped.Register(() =>
        {
            projection.Shutdown();
            engine.DisposeAsync().AsTask().GetAwaiter().GetResult();
            adapters.DisposeAsync().AsTask().GetAwaiter().GetResult();
            serilog.Dispose();
        });

        engine.System.ActorOf(RunbookPilot.Engine.Metrics.MetricsActor.Props(engine.MetricFactory), "metrics");
        var lag = engine.MetricFactory.CreateGauge("runbookpilot_projector_lag_events", "Journal events not yet in the read tables.");
        engine.Metrics.AddBeforeCollectCallback(() => lag.Set(engine.Projector.Lag()));
        DotNetStats.Register(engine.Metrics);

        var live = new LiveUpdates(engine.System);
        app.UseWebSockets();
        app.UseMiddleware<BrowserGuard>();
        app.UseMiddleware<AuthMiddleware>();
        app.MapMetrics("/metrics", engine.Metrics);
        app.MapOpenApi(); // /openapi/v1.json
        app.Map("/ws", async (HttpContext c) =>
        {
            if (!c.WebSockets.IsWebSocketRequest)
            {
                c.Response.StatusCode = StatusCodes.Status400BadRequest;
                await c.Response.WriteAsJsonAsync(new { error = "connect with a WebSocket" });
                return;
            }
            using var socket = await c.WebSockets.AcceptWebSocketAsync();
            await live.ServeAsync(socket, c.RequestAborted);
        });
        app.UseAntiforgery();
        // Named after this assembly, not the entry one, so tests and the bench that host the server in-process find it too.
        var assets = Path.Combine(AppContext.BaseDirectory, "RunbookPilot.Host.staticwebassets.endpoints.json");
        if (File.Exists(assets)) app.MapStaticAssets(assets);
        else log.LogWarning("Dashboard static assets manifest {Manifest} not found: pages render without their styles and scripts", assets);
        app.MapRazorComponents<RunbookPilot.Web.App>().AddInteractiveServerRenderMode();
        var graphql = new BindingsGraphQL(engine);
        app.MapPost("/graphql", graphql.ExecuteAsync);
        HealthApi.Map(app, engine, adapters.Adapters);
        Map(app, engine, server, adapters.Adapters);
        await app.StartAsync();
        return app;
    }

    /// <summary>The address the server listens on (the real port when started on port 0).</summary>
    public static Uri Address(WebApplication app) =>
        new(app.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>().Features
            .Get<Microsoft.AspNetCore.Hosting.Server.Features.IServerAddressesFeature>()!.Addresses.First());

    private static string Analyst(HttpContext c) => c.Items[AuthMiddleware.AnalystItem] as string ?? "unknown";

    private static IResult Problem(int status, string error, IEnumerable<AlertProblem>? details = null) =>
        Results.Json(new { error, details = details?.Select(d => new { path = d.Path, message = d.Message }) }, statusCode: status);

    private static void Map(WebApplication app, RunbookPilotEngine engine, ServerOptions server, IReadOnlyList<IAdapter> adapters)
    {
        var inFlight = 0; // webhook submissions waiting for the journal
        app.MapPost("/events", (Delegate)((HttpContext c) => Events(c, dryRun: false)));
        // The CLI's execute --dry-run through the server (a route of its own: a server that does not know it answers 404,
        // never a real run).
        app.MapPost("/events/dry-run", (Delegate)((HttpContext c) => Events(c, dryRun: true)));

        async Task<IResult> Events(HttpContext c, bool dryRun)
        {
            byte[] body;
            try
            {
                using var buffer = new MemoryStream();
                await c.Request.Body.CopyToAsync(buffer, c.RequestAborted);
                body = buffer.ToArray();
            }
            catch (Microsoft.AspNetCore.Http.BadHttpRequestException ex) when (ex.StatusCode == 413)
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
                return Problem(400, "body is not valid UTF-8", [new AlertProblem("$", $"invalid byte at offset {ex.Index}")]);
            }
            JsonNode? root;
            try
            {
                root = JsonNode.Parse(text, documentOptions: AlertJson.Options);
            }
            catch (JsonException ex)
            {
                return Problem(400, "body is not valid JSON", [new AlertProblem("$", AlertJson.Describe(ex))]);
            }
            catch (InvalidOperationException)
            {
                // Checking keys for duplicates reads them: a key with a lone surrogate escape cannot be read as text.
                return Problem(400, "body is not valid JSON", [new AlertProblem("$", "a key is not valid UTF-16 text: a lone surrogate escape such as \\ud800")]);
            }
            var documents = root switch
            {
                JsonObject o => [("$", o)],
                JsonArray a => a.Select((x, i) => ($"$[{i}]", x as JsonObject)).ToList(),
                _ => [],
            };
            if (documents.Count == 0) return Problem(400, "expected one ECS alert object or a non-empty array of them");
            // A batch no retry could ever get in is refused as too large (413 with the maximum), not as busy (503).
            var maxBatch = Math.Min(server.MaxBacklog, server.MaxInFlight);
            if (documents.Count > maxBatch)
                return Results.Json(new { error = $"{documents.Count} alerts in one request; at most {maxBatch} are accepted at once: split the batch", max_alerts = maxBatch }, statusCode: 413);
            var problems = new List<AlertProblem>();
            var alerts = new List<Alert>();
            foreach (var (path, doc) in documents)
            {
                if (doc is null)
                {
                    problems.Add(new AlertProblem(path, "expected an alert object"));
                    continue;
                }
                var (alert, found) = EcsValidator.Prepare(doc, path);
                problems.AddRange(found);
                if (alert is not null) alerts.Add(alert);
            }
            if (problems.Count > 0) return Problem(400, "malformed alert(s); nothing was stored", problems);

            // Admission control: when executions cannot keep up, refuse before storing anything; SIEMs retry, and a retried
            // alert that did get in is recognised by its event.id.
            var backlog = await engine.BacklogAsync(c.RequestAborted);
            if (backlog + documents.Count > server.MaxBacklog || Volatile.Read(ref inFlight) + documents.Count > server.MaxInFlight)
            {
                c.Response.Headers.RetryAfter = "5";
                return Problem(503, $"busy: {backlog} accepted alerts wait for their executions to start (limit {server.MaxBacklog}), " +
                    $"{Volatile.Read(ref inFlight)} are being journaled (limit {server.MaxInFlight}); retry later");
            }

            // All alerts of a request go to the intake at once (in order); it journals them in one batch.
            Interlocked.Add(ref inFlight, documents.Count);
            AlertAccepted[] results;
            try
            {
                results = await Task.WhenAll(alerts.Select(a => dryRun ? engine.DryRunAsync(a, "webhook", c.RequestAborted) : engine.SubmitAsync(a, "webhook", c.RequestAborted)));
            }
            finally
            {
                Interlocked.Add(ref inFlight, -documents.Count);
            }
            var accepted = results.Select(result => new
            {
                alert_id = result.AlertId,
                duplicate = result.Duplicate,
                executions = result.Selected.Select(s => new { execution_id = s.ExecutionId, playbook_id = s.PlaybookId, reason = s.Reason }),
            });
            return Results.Json(new { accepted }, statusCode: 202);
        }

        var api = app.MapGroup("/api/v1");
        api.MapGet("/executions", (string? playbook, string? status, DateTimeOffset? since, int? limit, int? offset) =>
            Results.Json(new { executions = engine.Queries.Executions(playbook, status, since, Math.Clamp(limit ?? 100, 1, 1000), Math.Max(offset ?? 0, 0)) }));
        // ?wait=N (seconds, at most 120): answer once the execution is settled — finished, or waiting only for people.
        api.MapGet("/executions/{id}", async (string id, int? wait, CancellationToken ct) =>
        {
            if (engine.Queries.Execution(id) is null && wait is null) return Problem(404, $"no execution {id}");
            var snapshot = wait is { } seconds
                ? await SettledOrCurrentAsync(engine, id, TimeSpan.FromSeconds(Math.Clamp(seconds, 0, 120)), ct)
                : await engine.GetAsync(id, ct);
            if (!snapshot.State.Started) return Problem(404, $"no execution {id}");
            if (wait is not null) await engine.Projector.CatchUpAsync(TimeSpan.FromSeconds(10), ct);
            return engine.Queries.Execution(id) is { } row
                ? Results.Json(new
                {
                    execution = row, settled = snapshot.Settled, steps = StepView.Of(snapshot.State), timeline = engine.Queries.Log(id),
                    attack = snapshot.State.Techniques().Select(t => new { t.Id, t.Name, t.Tactics, t.Url }),
                    enrichments = snapshot.State.Enrichments.Select(e => new
                    {
                        label = e.Status == "ready" ? "AI-GENERATED" : "enrichment unavailable", e.Type, e.Status, e.Text, e.Reason, e.Model, e.Cached, e.At,
                    }),
                })
                : Problem(404, $"no execution {id}");
        });
        api.MapGet("/approvals", (string? status, string? playbook) => Results.Json(new { approvals = engine.Queries.Approvals(status == "all" ? null : status ?? "pending", playbook) }));
        api.MapGet("/simulations", (string? status) => Results.Json(new { simulations = engine.Queries.Simulations(status) }));
        api.MapGet("/audit/verify", () =>
        {
            var result = AuditChain.Verify(new ReadModelDb(engine.Options));
            return Results.Json(new { ok = result.Ok, rows = result.Rows, broken_at = result.BrokenAt, execution_id = result.ExecutionId, seq = result.Seq, message = result.Message });
        });
        api.MapGet("/events", (int? limit) => Results.Json(new { events = engine.Queries.Events(Math.Clamp(limit ?? 100, 1, 1000)) }));
        api.MapGet("/playbooks", () => Results.Json(new
        {
            playbooks = engine.Library.Playbooks.Select(p => new { id = p.Id, name = p.Name, version = p.Version, autonomy_level = p.AutonomyLevel.ToString(), steps = p.Steps.Count, techniques = p.Trigger.Techniques }),
            invalid_files = engine.Library.Files.Where(f => !f.Ok).Select(f => new { path = f.Path, errors = f.Errors.Select(e => e.ToString()) }),
        }));
        api.MapGet("/playbooks/{id}", (string id) =>
        {
            if (engine.Library.Find(id) is not { } pb) return Problem(404, $"no playbook {id}");
            var file = engine.Library.FileOf(id);
            return Results.Json(new
            {
                playbook = pb,
                file,
                yaml = file is null ? null : File.ReadAllText(file),
                recent_executions = engine.Queries.Executions(playbook: id, limit: 20),
            });
        });
        api.MapGet("/metrics/summary", () =>
        {
            var executions = engine.Queries.Executions(limit: 1000);
            return Results.Json(new
            {
                executions_by_status = executions.GroupBy(e => e.Status).ToDictionary(g => g.Key, g => g.Count()),
                pending_approvals = engine.Queries.Approvals("pending").Count,
                simulations_by_status = engine.Queries.Simulations().GroupBy(s => s.Status).ToDictionary(g => g.Key, g => g.Count()),
                projector_lag_events = engine.Projector.Lag(),
                window = "last 1000 executions",
            });
        });
        api.MapPost("/playbooks/validate", async (HttpContext c) =>
        {
            var yaml = await new StreamReader(c.Request.Body).ReadToEndAsync(c.RequestAborted);
            var result = PlaybookLoader.Parse(yaml, "playbook.yaml", engine.AdapterCatalog);
            return Results.Json(new { ok = result.Ok, errors = result.Errors.Select(e => new { line = e.Line, column = e.Column, path = e.Path, message = e.Message }) },
                statusCode: result.Ok ? 200 : 400);
        });

        api.MapPost("/executions/{id}/approve", (HttpContext c, string id, DecisionBody? d) => Send(engine, new ApproveStep(id, d?.Step, Analyst(c), d?.Comment)));
        api.MapPost("/executions/{id}/reject", (HttpContext c, string id, DecisionBody? d) => Send(engine, new RejectStep(id, d?.Step, Analyst(c), d?.Comment)));
        api.MapPost("/executions/{id}/rollback", (HttpContext c, string id, DecisionBody? d) => Send(engine, new RequestRollback(id, d?.Step, Analyst(c), d?.Comment)));
        api.MapPost("/approvals/bulk-approve", async (HttpContext c, BulkApproval bulk) =>
        {
            await engine.Projector.CatchUpAsync(TimeSpan.FromSeconds(10));
            var results = new List<object>();
            foreach (var a in engine.Queries.Approvals("pending", bulk.Playbook))
            {
                var r = await engine.SendAsync(new ApproveStep(a.ExecutionId, a.StepId, Analyst(c), bulk.Comment));
                results.Add(new { execution_id = a.ExecutionId, step_id = a.StepId, ok = r.Ok, code = r.Code, message = r.Message });
            }
            return Results.Json(new { results });
        });
        api.MapPost("/adapters/{name}/test", async (string name, CancellationToken ct) =>
            adapters.FirstOrDefault(a => a.Descriptor.Name == name) is IHealthCheck adapter
                ? Results.Json(await adapter.CheckHealthAsync(ct))
                : Problem(404, $"no adapter '{name}' is configured on this server"));
        BindingsApi.Map(api, engine);
        OperatorApi.Map(api, engine, app.Services.GetRequiredService<RecentLog>());
        var admin = api.MapGroup("/admin").AddEndpointFilter<AdminOnly>();
        admin.MapPost("/rebuild-read-model", async (CancellationToken ct) =>
        {
            await engine.Projector.RebuildAsync(ct);
            var verification = AuditChain.Verify(new ReadModelDb(engine.Options));
            return Results.Json(new { offset = engine.Projector.Offset, audit_ok = verification.Ok, message = verification.Message });
        });
        api.MapPost("/simulations/{id}/execute", (HttpContext c, string id, DecisionBody? d) => OnSimulation(engine, id, ex => new ExecuteSimulation(ex, id, Analyst(c), d?.Comment)));
        api.MapPost("/simulations/{id}/dismiss", (HttpContext c, string id, DecisionBody? d) => OnSimulation(engine, id, ex => new DismissSimulation(ex, id, Analyst(c), d?.Comment)));
    }

    private static async Task<IResult> OnSimulation(RunbookPilotEngine engine, string simulationId, Func<string, IExecutionCommand> command)
    {
        await engine.Projector.CatchUpAsync(TimeSpan.FromSeconds(10));
        return engine.Queries.Simulation(simulationId) is { } row ? await Send(engine, command(row.ExecutionId)) : Problem(404, $"no simulation {simulationId}");
    }

    private static async Task<ExecutionSnapshot> SettledOrCurrentAsync(RunbookPilotEngine engine, string id, TimeSpan timeout, CancellationToken ct)
    {
        try
        {
            return await engine.WaitSettledAsync(id, timeout, ct);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return await engine.GetAsync(id, ct);
        }
    }

    /// <summary>Sends a decision to its execution and answers with the result (409 when refused, 404 when unknown, 400 when invalid).</summary>
    private static async Task<IResult> Send(RunbookPilotEngine engine, IExecutionCommand command)
    {
        var result = await engine.SendAsync(command);
        var status = result.Code switch
        {
            "not_found" => 404,
            "refused" or "expired" => 409,
            _ when !result.Ok => 400,
            _ => 200,
        };
        return Results.Json(new { ok = result.Ok, code = result.Code, message = result.Message, execution_id = command.ExecutionId }, statusCode: status);
    }

    /// <summary>Body of an analyst decision: the step (optional when one waits) and a comment.</summary>
    public sealed record DecisionBody(string? Step, string? Comment);

    public sealed record BulkApproval(string? Playbook, string? Comment);
}
