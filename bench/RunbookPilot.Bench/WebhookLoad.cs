using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using RunbookPilot.Domain.Adapters;
using RunbookPilot.Engine.Adapters;
using RunbookPilot.Engine.Hosting;
using RunbookPilot.Host;
using RunbookPilot.Engine.Configuration;

namespace RunbookPilot.Bench;

/// <summary>
/// Issue 5: webhook alerts per second accepted durably (202 = journaled) over loopback, and latency at a fixed rate.
/// The server runs in this process on Kestrel (127.0.0.1) over a SQLite file; alerts select the three-step L0 playbook,
/// so executions run while alerts arrive (against an in-process adapter with no latency).
/// </summary>
public static class WebhookLoad
{
    public static async Task<int> RunAsync(string[] args)
    {
        var seconds = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 10;
        var batch = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 1;
        // "nomatch": alerts no playbook selects (the ingestion path alone); default: every alert starts an execution.
        var technique = args.Contains("nomatch") ? "T9999" : "T1071";
        var dir = Directory.CreateTempSubdirectory("rbp-webhook-").FullName;
        Directory.CreateDirectory(Path.Combine(dir, "playbooks"));
        await File.WriteAllTextAsync(Path.Combine(dir, "playbooks", "bench.yaml"), BenchFixtures.Playbook);
        var server = new ServerOptions { Urls = "http://127.0.0.1:0", User = "bench", Password = "bench-password-0123456789" };
        var engine = new RunbookPilotOptions { Database = Path.Combine(dir, "bench.db"), PlaybooksFolder = Path.Combine(dir, "playbooks"), AkkaLogLevel = Akka.Event.LogLevel.WarningLevel, AuditKey = BenchFixtures.AuditKey };
        var adapters = BenchFixtures.InstantAdapters();
        await using var app = await Server.StartAsync(server, engine, adapters);
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 256 }) { BaseAddress = Server.Address(app) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("bench:bench-password-0123456789")));

        var next = 0;
        var refused = 0;
        string Body()
        {
            var alerts = Enumerable.Range(0, batch).Select(_ =>
            {
                var i = Interlocked.Increment(ref next);
                return new JsonObject
                {
                    ["event"] = new JsonObject { ["id"] = $"load-{i}" },
                    ["source"] = new JsonObject { ["ip"] = $"198.51.100.{i % 250}" },
                    ["threat"] = new JsonObject { ["technique"] = new JsonObject { ["id"] = technique } },
                };
            }).ToArray();
            return batch == 1 ? alerts[0].ToJsonString() : new JsonArray(alerts).ToJsonString();
        }

        async Task<double> Post()
        {
            var started = Stopwatch.GetTimestamp();
            using var response = await http.PostAsync("/events", new StringContent(Body(), Encoding.UTF8, "application/json"));
            if ((int)response.StatusCode == 503)
            {
                Interlocked.Increment(ref refused); // admission control: the execution backlog is full
                await Task.Delay(100);
                return -1;
            }
            if ((int)response.StatusCode != 202) throw new InvalidOperationException($"HTTP {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
            return Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        }

        // Warm-up, then either throughput (64 concurrent clients for the given seconds) or latency at a fixed 1,000
        // alerts/s ("rate"), each on a fresh server so one phase's backlog does not distort the other.
        for (var i = 0; i < 200; i++) await Post();
        if (args.Contains("rate")) return await FixedRateAsync(Post, seconds, technique, () => refused);
        var accepted = 0L;
        var stop = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, 64).Select(async _ =>
        {
            while (stop.Elapsed.TotalSeconds < seconds)
            {
                if (await Post() >= 0) Interlocked.Add(ref accepted, batch);
            }
        }));
        var throughput = accepted / stop.Elapsed.TotalSeconds;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"technique={technique} alerts_per_request={batch} accepted_alerts_per_second={throughput:F0} (64 clients, {seconds}s, {refused} requests answered 503) " +
            $"peak_working_set_mb={Process.GetCurrentProcess().PeakWorkingSet64 / 1048576} (server and load driver in one process)"));
        return 0;
    }

    /// <summary>One alert per request at 1,000 requests/s; latency of each 202.</summary>
    private static async Task<int> FixedRateAsync(Func<Task<double>> post, int seconds, string technique, Func<int> refused)
    {
        var latencies = new List<double>();
        var tasks = new List<Task>();
        var clock = Stopwatch.StartNew();
        var total = seconds * 1000;
        for (var i = 0; i < total; i++)
        {
            var due = TimeSpan.FromMilliseconds(i);
            var wait = due - clock.Elapsed;
            if (wait > TimeSpan.Zero) await Task.Delay(wait);
            tasks.Add(Task.Run(async () =>
            {
                var ms = await post();
                if (ms >= 0) lock (latencies) latencies.Add(ms);
            }));
        }
        await Task.WhenAll(tasks);
        latencies.Sort();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"technique={technique} fixed_rate=1000/s for {seconds}s: p50_ms={latencies[latencies.Count / 2]:F1} p99_ms={latencies[(int)(latencies.Count * 0.99)]:F1} refused_503={refused()} " +
            $"achieved_rate={total / clock.Elapsed.TotalSeconds:F0}/s peak_working_set_mb={Process.GetCurrentProcess().PeakWorkingSet64 / 1048576}"));
        return 0;
    }
}
