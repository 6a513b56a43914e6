using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using LinqToDB;
using LinqToDB.Data;
using Microsoft.Extensions.DependencyInjection;
using RunbookPilot.Engine.Hosting;
using RunbookPilot.Engine.ReadModel;
using RunbookPilot.Host;
using RunbookPilot.Web.Services;
using RunbookPilot.Engine.Configuration;

namespace RunbookPilot.Bench;

/// <summary>
/// Issue 7: the executions page and the metrics page answered server-side with 100,000 executions in the read model
/// (target &lt; 300 ms each). The read tables are filled directly (executions spread over 30 days and 3 playbooks, with their
/// alerts, approvals, simulations and rollbacks); then the data each page loads is timed, and the whole page as the server
/// renders it over HTTP (Kestrel on 127.0.0.1, basic auth, prerendered HTML).
/// </summary>
public static class DashboardLoad
{
    public static async Task<int> RunAsync(string[] args)
    {
        var count = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 100_000;
        var dir = Directory.CreateTempSubdirectory("rbp-dashboard-").FullName;
        Directory.CreateDirectory(Path.Combine(dir, "playbooks"));
        await File.WriteAllTextAsync(Path.Combine(dir, "playbooks", "bench.yaml"), BenchFixtures.Playbook);
        var engine = new RunbookPilotOptions { Database = Path.Combine(dir, "bench.db"), PlaybooksFolder = Path.Combine(dir, "playbooks"), AkkaLogLevel = Akka.Event.LogLevel.WarningLevel, AuditKey = BenchFixtures.AuditKey };
        var server = new ServerOptions { Urls = "http://127.0.0.1:0", User = "bench", Password = "bench-password-0123456789" };
        await using var app = await Server.StartAsync(server, engine, BenchFixtures.InstantAdapters());
        Seed(new ReadModelDb(engine), count);

        var data = app.Services.GetRequiredService<DashboardData>();
        using var http = new HttpClient { BaseAddress = Server.Address(app) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("bench:bench-password-0123456789")));
        var results = new List<string>
        {
            Time("executions page data (newest 100)", () => data.ExecutionsAsync(null, null, 0, 100)),
            Time("executions page data (page 500, status filter)", () => data.ExecutionsAsync(null, "completed", 500, 100)),
            Time("metrics page data", () => data.MetricsAsync()),
            Time("GET /executions (rendered)", () => http.GetStringAsync("executions")),
            Time("GET /insights (rendered)", () => http.GetStringAsync("insights")),
        };
        foreach (var line in results) Console.WriteLine(line);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"executions={count} peak_working_set_mb={Process.GetCurrentProcess().PeakWorkingSet64 / 1024 / 1024}"));
        return 0;
    }

    private static string Time<T>(string name, Func<Task<T>> work)
    {
        for (var i = 0; i < 3; i++) work().GetAwaiter().GetResult(); // warm-up
        const int runs = 30;
        var samples = new double[runs];
        for (var i = 0; i < runs; i++)
        {
            var start = Stopwatch.GetTimestamp();
            work().GetAwaiter().GetResult();
            samples[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }
        Array.Sort(samples);
        return string.Create(CultureInfo.InvariantCulture, $"{name}: p50_ms={samples[runs / 2]:F1} p99_ms={samples[^1]:F1}");
    }

    private static void Seed(ReadModelDb readModel, int count)
    {
        var now = DateTimeOffset.UtcNow;
        var statuses = new[] { "completed", "completed", "completed", "failed", "waiting_approval", "rejected" };
        var playbooks = new[] { "bench_three_steps", "lateral_movement_L1", "c2_beaconing_L2" };
        var events = new List<EventRow>(count);
        var executions = new List<ExecutionRow>(count);
        var approvals = new List<ApprovalRow>();
        var simulations = new List<SimulationRow>();
        var log = new List<ExecutionLogRow>();
        for (var i = 0; i < count; i++)
        {
            var at = now.AddSeconds(-i * 26.0); // 100,000 over 30 days
            var id = $"ex-bench-{i:D7}";
            var status = statuses[i % statuses.Length];
            events.Add(new EventRow { AlertId = $"a-{i:D7}", Format = "ecs", Source = "webhook", ReceivedAt = at.AddMilliseconds(-40), Status = status, Playbooks = playbooks[i % 3], Document = "{}" });
            executions.Add(new ExecutionRow
            {
                ExecutionId = id, AlertId = $"a-{i:D7}", PlaybookId = playbooks[i % 3], PlaybookVersion = "1.0.0", Status = status, SelectionReason = "technique",
                StartedAt = at, CompletedAt = status == "waiting_approval" ? null : at.AddSeconds(3 + i % 50), UpdatedAt = at, Summary = "3 succeeded",
            });
            if (i % 3 == 1)
                approvals.Add(new ApprovalRow
                {
                    ApprovalId = "apr-" + id, ExecutionId = id, StepId = "step_3", StepName = "Block", PlaybookId = playbooks[1], AutonomyLevel = "L1", Action = "paloalto.block_ip",
                    Reason = "L1 action", Status = status == "waiting_approval" ? "pending" : status == "rejected" ? "rejected" : "approved", RequestedAt = at,
                    Deadline = at.AddHours(4), DecidedAt = status == "waiting_approval" ? null : at.AddMinutes(2),
                });
            if (i % 3 == 2)
                simulations.Add(new SimulationRow
                {
                    SimulationId = "sim-" + id, ExecutionId = id, StepId = "step_2", PlaybookId = playbooks[2], Adapter = "crowdstrike", Action = "isolate_host", Method = "POST",
                    Request = "{}", ExpectedOutcome = "isolated", RiskScore = 6, RiskFactors = "[]", Recommendation = "review", Status = i % 4 == 0 ? "executed" : "dismissed", CreatedAt = at,
                });
            if (i % 40 == 0)
                log.Add(new ExecutionLogRow { ChainIndex = log.Count + 1, ExecutionId = id, Seq = 9, At = at.AddMinutes(5), StepId = "step_3", Kind = "step_rolled_back", Status = "ok", Detail = "rolled back" });
        }
        using var db = readModel.Open();
        readModel.UnprotectAuditTables(db);
        var options = new BulkCopyOptions { BulkCopyType = BulkCopyType.MultipleRows };
        db.BulkCopy(options, events);
        db.BulkCopy(options, executions);
        db.BulkCopy(options, approvals);
        db.BulkCopy(options, simulations);
        db.BulkCopy(options, log);
        readModel.ProtectAuditTables(db);
        db.Execute("ANALYZE");
    }
}
