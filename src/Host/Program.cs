using RunbookPilot.Engine.Hosting;
using RunbookPilot.Host;
using RunbookPilot.Domain.Core;
using RunbookPilot.Engine.Configuration;

// dotnet run --project src/Host [-- --demo] [--urls http://127.0.0.1:8080] [--json-logs]
var server = ServerOptions.From(args);
if (args.Contains("--healthcheck"))
{
    // For container health checks: ask the running server's /health.
    using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
    var url = server.Urls.Split(';')[0].Replace("0.0.0.0", "127.0.0.1", StringComparison.Ordinal).TrimEnd('/') + "/health";
    try
    {
        return (await http.GetAsync(new Uri(url))).IsSuccessStatusCode ? 0 : 1;
    }
    catch (HttpRequestException)
    {
        return 1;
    }
}
if (server.Refusal() is { } refusal)
{
    await Console.Error.WriteLineAsync("error: " + refusal);
    return 1;
}
// appsettings.json (next to the server): one section per area; RBPILOT_* environment variables win, and keys and
// passwords come only from the environment. A key that is not a setting, or a value that does not parse, stops the start.
var settings = new ConfigurationBuilder().SetBasePath(AppContext.BaseDirectory).AddJsonFile("appsettings.json", optional: true).Build();
WebApplication app;
try
{
    app = await Server.StartAsync(server, SettingsFile.Load(settings, Environment.GetEnvironmentVariable));
}
catch (ConfigurationException ex)
{
    // Fail closed: a policy or adapters file that does not validate never falls back to defaults.
    foreach (var problem in ex.Problems) await Console.Error.WriteLineAsync(problem);
    await Console.Error.WriteLineAsync($"error: {ex.Problems.Count} configuration problem(s); RunbookPilot did not start");
    return 1;
}
Console.WriteLine($"RunbookPilot is listening on {Server.Address(app)}");
await app.WaitForShutdownAsync();
return Environment.ExitCode; // non-zero when the cluster downed this node (set by Akka.Hosting), so a restart policy on failure restarts it
