using RunbookPilot.Engine.Hosting;
using RunbookPilot.Host;

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
var app = await Server.StartAsync(server, RunbookPilotOptions.FromEnvironment());
Console.WriteLine($"RunbookPilot is listening on {Server.Address(app)}");
await app.WaitForShutdownAsync();
return 0;
