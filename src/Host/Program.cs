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
// appsettings.json (next to the server) may set the model endpoint; RBPILOT_* environment variables win, and keys come
// only from the environment (OPENROUTER_API_KEY, RBPILOT_LLM_API_KEY).
var settings = new ConfigurationBuilder().SetBasePath(AppContext.BaseDirectory).AddJsonFile("appsettings.json", optional: true).Build();
var fromSettings = new Dictionary<string, string>
{
    ["RBPILOT_LLM_BASE_URL"] = "Llm:BaseUrl", ["RBPILOT_LLM_MODEL"] = "Llm:Model", ["RBPILOT_LLM_TIMEOUT_SECONDS"] = "Llm:TimeoutSeconds", ["RBPILOT_LLM_ENABLED"] = "Llm:Enabled",
};
var llm = RunbookPilot.Engine.Configuration.LlmOptions.FromEnvironment(name =>
    Environment.GetEnvironmentVariable(name) is { Length: > 0 } v ? v : fromSettings.TryGetValue(name, out var key) ? settings[key] : null);
WebApplication app;
try
{
    app = await Server.StartAsync(server, RunbookPilotOptions.FromEnvironment() with { Llm = llm });
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
return 0;
