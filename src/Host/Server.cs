using System.Text.Json;
using RunbookPilot.Domain.Adapters;
using RunbookPilot.Engine.Hosting;
using RunbookPilot.VendorSim;
using Prometheus;
using Serilog;
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
        // No reload of the web host's configuration files: watching them meant watching the content root (the working
        // folder, which holds ./data) recursively, and every SQLite write woke the file-watch thread, 5.6 % of the
        // server's CPU under load (issue 17, bench/README.md). The server's settings are read once (Program.cs).
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = ["--hostBuilder:reloadConfigOnChange=false"] });
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
        try
        {
            builder.Services.AddRunbookPilot(engineOptions with { Llm = adapters.Llm }, adapters.Adapters, time, purpose: "runbookpilot server");
        }
        catch
        {
            await adapters.DisposeAsync();
            throw;
        }
        builder.Services.AddSingleton(new RunbookPilot.Web.Services.DashboardOptions(adapters.Simulated));
        builder.Services.AddSingleton<RunbookPilot.Web.Services.DashboardData>();
        builder.Services.AddSingleton<RunbookPilot.Web.Services.LiveFeed>();
        builder.Services.AddSingleton<WebSocketFeed>();
        builder.Services.AddSingleton<WebhookApi.InFlight>();
        builder.Services.AddSingleton<BindingsGraphQL>();

        var app = builder.Build();
        var log = app.Services.GetRequiredService<ILogger<WebApplication>>();
        if (server.Demo && string.IsNullOrEmpty(server.Password))
            log.LogWarning("DEMO MODE: no RBPILOT_PASS set; the API and dashboard accept {User}/{Password}. Never expose this server.", server.User, ServerOptions.DemoPassword);
        if (startupLog.ToString().Trim() is { Length: > 0 } demoLine) log.LogWarning("{Message}", demoLine);
        app.Lifetime.ApplicationStopped.Register(() =>
        {
            adapters.DisposeAsync().AsTask().GetAwaiter().GetResult();
            serilog.Dispose();
        });

        var metrics = app.Services.GetRequiredService<EngineMetrics>();
        var lag = metrics.Factory.CreateGauge("runbookpilot_projector_lag_events", "Journal events not yet in the read tables.");
        metrics.Registry.AddBeforeCollectCallback(async ct =>
        {
            // A projector that is restarting does not answer: the gauge keeps its last value rather than hold /metrics.
            using var quick = CancellationTokenSource.CreateLinkedTokenSource(ct);
            quick.CancelAfter(TimeSpan.FromSeconds(2));
            try
            {
                lag.Set((await app.Services.GetRequiredService<RunbookPilotEngine>().Read.PositionAsync(quick.Token)).Lag);
            }
            catch (Exception ex) when (ex is OperationCanceledException or Akka.Actor.AskTimeoutException)
            {
            }
        });
        DotNetStats.Register(metrics.Registry);

        app.UseWebSockets();
        app.UseMiddleware<BrowserGuard>();
        app.UseMiddleware<AuthMiddleware>();
        app.MapMetrics("/metrics", metrics.Registry);
        app.MapOpenApi(); // /openapi/v1.json
        app.Map("/ws", async (HttpContext c, WebSocketFeed feed) =>
        {
            if (!c.WebSockets.IsWebSocketRequest)
            {
                c.Response.StatusCode = StatusCodes.Status400BadRequest;
                await c.Response.WriteAsJsonAsync(new { error = "connect with a WebSocket" });
                return;
            }
            using var socket = await c.WebSockets.AcceptWebSocketAsync();
            await feed.ServeAsync(socket, c.RequestAborted);
        });
        app.UseAntiforgery();
        // Named after this assembly, not the entry one, so tests and the bench that host the server in-process find it too.
        var assets = Path.Combine(AppContext.BaseDirectory, "RunbookPilot.Host.staticwebassets.endpoints.json");
        if (File.Exists(assets)) app.MapStaticAssets(assets);
        else log.LogWarning("Dashboard static assets manifest {Manifest} not found: pages render without their styles and scripts", assets);
        app.MapRazorComponents<RunbookPilot.Web.App>().AddInteractiveServerRenderMode();
        app.MapPost("/graphql", (HttpContext c, BindingsGraphQL graphql) => graphql.ExecuteAsync(c));
        HealthApi.Map(app, adapters.Adapters);
        WebhookApi.Map(app);
        var api = app.MapGroup("/api/v1");
        ExecutionsEndpoints.Map(api);
        LibraryEndpoints.Map(api, adapters.Adapters);
        BindingsEndpoints.Map(api);
        OperatorApi.Map(api, app.Services.GetRequiredService<RecentLog>());
        await app.StartAsync();
        var engine = app.Services.GetRequiredService<RunbookPilotEngine>();
        foreach (var name in engine.UnconfiguredAdapters)
            log.LogError("Adapter {Adapter} is used by a playbook but not configured in adapters.yaml: its steps fail until it is (start with --demo to use the local simulators)", name);
        return app;
    }

    /// <summary>The address the server listens on (the real port when started on port 0).</summary>
    public static Uri Address(WebApplication app) =>
        new(app.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>().Features
            .Get<Microsoft.AspNetCore.Hosting.Server.Features.IServerAddressesFeature>()!.Addresses.First());
}
