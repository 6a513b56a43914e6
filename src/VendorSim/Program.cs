using RunbookPilot.VendorSim;

// dotnet run --project src/VendorSim [-- port]   (default 5199; loopback only)
var port = args.Length > 0 && int.TryParse(args[0], out var p) ? p : 5199;
await using var sim = await VendorSimulator.StartAsync(port);
Console.WriteLine($"RunbookPilot vendor simulators on {sim.BaseAddress} (virustotal, abuseipdb, splunk, paloalto, crowdstrike, jira, misp, pagerduty, http); state at {sim.BaseAddress}_admin/state");
foreach (var (name, value) in VendorSimulator.Credentials) Console.WriteLine($"  {name}={value}");
var done = new TaskCompletionSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    done.TrySetResult();
};
await done.Task;
