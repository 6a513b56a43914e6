using RunbookPilot.Engine.Hosting;
using RunbookPilot.Host;

// dotnet run --project src/Host [-- --demo] [--urls http://127.0.0.1:8080] [--json-logs]
var server = ServerOptions.From(args);
if (server.Refusal() is { } refusal)
{
    await Console.Error.WriteLineAsync("error: " + refusal);
    return 1;
}
var app = await Server.StartAsync(server, RunbookPilotOptions.FromEnvironment());
Console.WriteLine($"RunbookPilot is listening on {Server.Address(app)}");
await app.WaitForShutdownAsync();
return 0;
