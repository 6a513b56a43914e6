using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using RunbookPilot.Engine.Hosting;
using RunbookPilot.Host;
using RunbookPilot.Engine.Configuration;

namespace RunbookPilot.Bench;

/// <summary>
/// Issue 7 ("a new approval appears within 1 s"): time from the webhook's 202 to the approval in the read model the
/// dashboard reads (polled every 5 ms over the API), alert after alert; the first alert after start is reported apart
/// (it also pays the shard's allocation and the first execution's start-up).
/// </summary>
public static class ApprovalLatency
{
    /// <summary>One L1 block: every alert waits for an approval (also the card benchmark's playbook).</summary>
    internal const string Playbook = """
        id: bench_l1
        name: Block the source
        version: 1.0.0
        autonomy_level: L1
        trigger: { techniques: [T1110] }
        steps:
          - { id: block, name: Block, action_type: block_ip, adapter: paloalto, autonomy_level: L1, params: { ip: "{{source.ip}}" } }
        """;

    public static async Task<int> RunAsync(string[] args)
    {
        var count = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 50;
        var dir = Directory.CreateTempSubdirectory("rbp-latency-").FullName;
        Directory.CreateDirectory(Path.Combine(dir, "playbooks"));
        await File.WriteAllTextAsync(Path.Combine(dir, "playbooks", "bench.yaml"), Playbook);
        var engine = new RunbookPilotOptions { Database = Path.Combine(dir, "bench.db"), PlaybooksFolder = Path.Combine(dir, "playbooks"), AkkaLogLevel = Akka.Event.LogLevel.WarningLevel, AuditKey = BenchFixtures.AuditKey };
        var server = new ServerOptions { Urls = "http://127.0.0.1:0", User = "bench", Password = "bench-password-0123456789" };
        await using var app = await Server.StartAsync(server, engine, BenchFixtures.InstantAdapters());
        using var http = new HttpClient { BaseAddress = Server.Address(app) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("bench:bench-password-0123456789")));

        var samples = new List<double>();
        for (var i = 0; i <= count; i++)
        {
            var body = "{\"event\":{\"id\":\"lat-" + i + "\"},\"source\":{\"ip\":\"198.51.100." + (i % 250) + "\"},\"threat\":{\"technique\":{\"id\":\"T1110\"}}}";
            var accepted = await (await http.PostAsync("events", new StringContent(body, Encoding.UTF8, "application/json"))).EnsureSuccessStatusCode().Content.ReadAsStringAsync();
            var clock = Stopwatch.StartNew();
            var execution = System.Text.Json.Nodes.JsonNode.Parse(accepted)!["accepted"]![0]!["executions"]![0]!["execution_id"]!.GetValue<string>();
            while (!(await http.GetStringAsync("api/v1/approvals")).Contains($"\"execution_id\":\"{execution}\"", StringComparison.Ordinal))
                await Task.Delay(5);
            samples.Add(clock.Elapsed.TotalMilliseconds);
        }
        var warm = samples.Skip(1).Order().ToArray();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"first_alert_ms={samples[0]:F0} alerts={warm.Length} p50_ms={warm[warm.Length / 2]:F0} p99_ms={warm[(int)(warm.Length * 0.99)]:F0} max_ms={warm[^1]:F0}"));
        return 0;
    }
}
