using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using Npgsql;
using RunbookPilot.Engine.Hosting;
using RunbookPilot.VendorSim;

namespace RunbookPilot.Bench;

/// <summary>
/// <c>cluster &lt;nodes&gt; [alerts] [sqlite]</c>: real server processes (the Release build of src/Host) on 127.0.0.1 over one
/// PostgreSQL database (RBPILOT_TEST_POSTGRES, as ./test.sh sets it) — or, with <c>sqlite</c>, one node over a SQLite file —
/// and the vendor simulator in this process. Every alert starts a one-step L0 playbook (a VirusTotal lookup against the
/// simulator). After 100 warm-up alerts, posts the alerts over 16 connections spread across the nodes' webhooks and
/// reports: completed executions/s (until the read model shows every one completed), CPU ms per alert of each node
/// process and in all (from /proc), and PostgreSQL commits and rows inserted per second (pg_stat_database).
/// </summary>
public static class ClusterLoad
{
    private const string Password = "bench-cluster-password-0123456789";
    private const string Token = "bench-webhook-token-0123456789abcdef";

    /// <summary>One run's figures (the server processes together).</summary>
    public sealed record Figures(double CompletedPerSecond, double CpuMsPerAlert, double P50, double P95, double P99, double PeakRssMb, double LongestWaitMs);

    /// <summary>
    /// <c>job [alerts]</c> (issue 17): the job n8n was measured on — one server on SQLite, the webhook with its bearer
    /// token, one alert per request over 16 keep-alive connections, a VirusTotal lookup per alert against the simulator
    /// (in this process, not the server's) — three runs of 100 warm-up and <c>alerts</c> measured alerts, and their medians.
    /// </summary>
    /// <remarks><c>job [alerts] [rate]</c>: with a rate (alerts/s), the alerts are sent at that pace instead of as fast as the
    /// 16 connections go, and the run also reports how long the read model trailed: the longest time an accepted alert
    /// (202) waited to be shown completed, sampled every 50 ms.</remarks>
    public static async Task<int> JobAsync(string[] args)
    {
        var alerts = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 2000;
        double? rate = args.Length > 1 ? double.Parse(args[1], CultureInfo.InvariantCulture) : null;
        var runs = new List<Figures>();
        for (var run = 0; run < 3; run++) runs.Add(await MeasureAsync(1, alerts, sqlite: true, token: true, rate));
        double Median(Func<Figures, double> f) => runs.Select(f).Order().ElementAt(1);
        Console.WriteLine($"job alerts={alerts}{(rate is { } r ? $" at {r:0}/s" : "")}, medians of 3 runs: {Median(r => r.CompletedPerSecond):0} completed alerts/s end to end; CPU {Median(r => r.CpuMsPerAlert):0.00} ms per alert " +
            $"(server process); webhook p50 {Median(r => r.P50):0} ms, p95 {Median(r => r.P95):0} ms, p99 {Median(r => r.P99):0} ms; peak RSS {Median(r => r.PeakRssMb):0} MB" +
            $"; longest wait of an accepted alert for its completion in the read model {Median(r => r.LongestWaitMs):0} ms");
        return 0;
    }

    public static async Task<int> RunAsync(string[] args)
    {
        var nodes = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 3;
        var alerts = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 2000;
        await MeasureAsync(nodes, alerts, args.Contains("sqlite"), token: false);
        return 0;
    }

    private static async Task<Figures> MeasureAsync(int nodes, int alerts, bool sqlite, bool token, double? rate = null)
    {
        if (sqlite) nodes = 1;
        var server = Environment.GetEnvironmentVariable("RBPILOT_TEST_POSTGRES") ?? "Host=127.0.0.1;Port=5432;Username=postgres;Password=rbp-test;Database=postgres";
        var database = "rbp_bench_" + Guid.NewGuid().ToString("N")[..10];
        var dir = Directory.CreateTempSubdirectory("rbp-cluster-bench-").FullName;
        await using var sim = await VendorSimulator.StartAsync();
        Directory.CreateDirectory(Path.Combine(dir, "playbooks"));
        await File.WriteAllTextAsync(Path.Combine(dir, "playbooks", "bench.yaml"), """
            id: bench_lookup
            name: Reputation
            version: 1.0.0
            autonomy_level: L0
            trigger: { techniques: [T1071] }
            steps:
              - { id: vt, name: Reputation, action_type: lookup_ip, adapter: virustotal, autonomy_level: L0, params: { ip: "{{source.ip}}" } }
            """);
        await File.WriteAllTextAsync(Path.Combine(dir, "playbooks", "global_policy.yaml"), "require_approval: false\n");
        await File.WriteAllTextAsync(Path.Combine(dir, "playbooks", "adapters.yaml"),
            $"adapters:\n  virustotal:\n    base_url: {sim.DemoSettings()["virustotal"].BaseUrl}\n    credentials: {{ api_key: RBPILOT_SIM_VT_KEY }}\n");
        NodeCertificates.CreateCluster(Path.Combine(dir, "certs"), nodes);
        var connection = new NpgsqlConnectionStringBuilder(server) { Database = database }.ConnectionString;
        if (!sqlite) await Sql(server, $"CREATE DATABASE {database}");
        var http = Enumerable.Range(0, nodes).Select(_ => FreePort()).ToArray();
        var remote = Enumerable.Range(0, nodes).Select(_ => FreePort()).ToArray();
        var processes = new List<Process>();
        var host = Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", "..", "src", "Host", "bin", "Release", "net10.0", "RunbookPilot.Host.dll");
        try
        {
            for (var n = 0; n < nodes; n++)
            {
                var info = new ProcessStartInfo("dotnet", [Path.GetFullPath(host), "--urls", $"http://127.0.0.1:{http[n]}"])
                {
                    RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = dir,
                };
                info.Environment["RBPILOT_DB"] = sqlite ? Path.Combine(dir, "data", "bench.db") : connection;
                info.Environment["RBPILOT_PLAYBOOKS"] = Path.Combine(dir, "playbooks");
                info.Environment["RBPILOT_USER"] = "bench";
                info.Environment["RBPILOT_PASS"] = Password;
                info.Environment["RBPILOT_WEBHOOK_TOKEN"] = Token;
                info.Environment["RBPILOT_AUDIT_KEY"] = "bench-cluster-audit-key-0123456789abcdef";
                info.Environment["RBPILOT_AUDIT_CHECKPOINTS"] = Path.Combine(dir, "audit", $"node{n + 1}.jsonl");
                if (!sqlite)
                {
                    info.Environment["RBPILOT_CLUSTER_SEEDS"] = string.Join(",", remote.Select(p => $"127.0.0.1:{p}"));
                    info.Environment["RBPILOT_CLUSTER_PORT"] = remote[n].ToString(CultureInfo.InvariantCulture);
                    info.Environment["RBPILOT_TLS_CA"] = Path.Combine(dir, "certs", NodeCertificates.CaFile);
                    info.Environment["RBPILOT_TLS_CERT"] = Path.Combine(dir, "certs", $"node-{n + 1}.pfx");
                }
                foreach (var (name, value) in VendorSimulator.Credentials) info.Environment[name] = value;
                var process = Process.Start(info)!;
                process.OutputDataReceived += (_, _) => { };
                process.ErrorDataReceived += (_, _) => { };
                process.BeginOutputReadLine();
                process.BeginErrorReadLine();
                processes.Add(process);
            }
            var clients = http.Select(p =>
            {
                var c = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 64 }) { BaseAddress = new Uri($"http://127.0.0.1:{p}"), Timeout = TimeSpan.FromSeconds(60) };
                c.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("bench:" + Password)));
                return c;
            }).ToArray();
            foreach (var c in clients)
                await Until(async () => (await c.GetAsync("/health")).IsSuccessStatusCode, TimeSpan.FromMinutes(2));
            if (!sqlite)
                await Until(async () => (await clients[0].GetStringAsync("/api/v1/ops/cluster")).Split("\"up\"").Length - 1 == nodes, TimeSpan.FromMinutes(2));

            Func<Task<long>> completed = sqlite
                ? () => Task.FromResult(SqliteCount(Path.Combine(dir, "data", "bench.db")))
                : async () => await ScalarAsync(connection, "SELECT COUNT(*) FROM executions WHERE status = 'completed'");
            var webhook = token ? clients.Select(c => WithToken(c.BaseAddress!)).ToArray() : clients;
            await PostAsync(webhook, 0, 100);
            await Until(async () => await completed() >= 100, TimeSpan.FromMinutes(2));

            var cpuBefore = processes.Select(Cpu).ToArray();
            var pgBefore = sqlite ? (0L, 0L) : await PgStatsAsync(server, database);
            var clock = Stopwatch.StartNew();
            var acceptedAt = new List<double>(alerts); // ms since the clock started, in the order the 202s came
            using var stop = new CancellationTokenSource();
            var longestWait = 0.0;
            var wal = new FileInfo(Path.Combine(dir, "data", "bench.db-wal"));
            long walPeak = 0;
            var watch = Task.Run(async () =>
            {
                while (!stop.IsCancellationRequested)
                {
                    if (sqlite)
                    {
                        wal.Refresh();
                        if (wal.Exists) walPeak = Math.Max(walPeak, wal.Length);
                    }
                    var shown = await completed() - 100;
                    var now = clock.Elapsed.TotalMilliseconds;
                    lock (acceptedAt)
                        if (shown < acceptedAt.Count) longestWait = Math.Max(longestWait, now - acceptedAt[(int)Math.Max(0, shown)]);
                    await Task.Delay(50);
                }
            });
            var latencies = await PostAsync(webhook, 100, alerts, rate, () =>
            {
                lock (acceptedAt) acceptedAt.Add(clock.Elapsed.TotalMilliseconds);
            });
            var posted = clock.Elapsed;
            await Until(async () => await completed() >= 100 + alerts, TimeSpan.FromMinutes(10));
            var elapsed = clock.Elapsed;
            await stop.CancelAsync();
            await watch;
            var cpu = processes.Select((p, i) => Cpu(p) - cpuBefore[i]).ToArray();
            var pgAfter = sqlite ? (0L, 0L) : await PgStatsAsync(server, database);
            latencies.Sort();
            var rss = processes.Sum(PeakRssMb);
            Console.WriteLine($"{(sqlite ? "sqlite" : "postgresql")} nodes={nodes} alerts={alerts}: {alerts / elapsed.TotalSeconds:0} completed/s end to end " +
                $"(posted in {posted.TotalSeconds:0.0} s, all completed in {elapsed.TotalSeconds:0.0} s); webhook p50 {latencies[latencies.Count / 2]:0} ms, " +
                $"p95 {latencies[(int)(latencies.Count * 0.95)]:0} ms, p99 {latencies[(int)(latencies.Count * 0.99)]:0} ms; peak RSS {rss:0} MB{(token ? " (webhook token)" : "")}; " +
                $"an accepted alert waited at most {longestWait:0} ms to be shown completed{(sqlite ? $"; write-ahead log at most {walPeak / 1048576.0:0} MB" : "")}");
            Console.WriteLine($"  CPU per alert: {string.Join(", ", cpu.Select((c, i) => $"node{i + 1} {c / alerts:0.00} ms"))}; all nodes {cpu.Sum() / alerts:0.00} ms");
            if (!sqlite)
                Console.WriteLine($"  PostgreSQL: {(pgAfter.Item1 - pgBefore.Item1) / elapsed.TotalSeconds:0} commits/s, {(pgAfter.Item2 - pgBefore.Item2) / elapsed.TotalSeconds:0} rows inserted/s");
            foreach (var c in clients.Concat(webhook).Distinct()) c.Dispose();
            return new Figures(alerts / elapsed.TotalSeconds, cpu.Sum() / alerts, latencies[latencies.Count / 2], latencies[(int)(latencies.Count * 0.95)],
                latencies[(int)(latencies.Count * 0.99)], rss, longestWait);
        }
        finally
        {
            foreach (var p in processes.Where(p => !p.HasExited)) p.Kill(entireProcessTree: true);
            NpgsqlConnection.ClearAllPools();
            if (!sqlite) await Sql(server, $"DROP DATABASE IF EXISTS {database} WITH (FORCE)");
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>Posts alerts [from, from + count) over 16 connections, round-robin over the nodes, as fast as they go or at
    /// <paramref name="rate"/> alerts/s; the webhook latency of each (ms).</summary>
    private static async Task<List<double>> PostAsync(HttpClient[] clients, int from, int count, double? rate = null, Action? accepted = null)
    {
        var latencies = new System.Collections.Concurrent.ConcurrentBag<double>();
        var next = from;
        var start = Stopwatch.GetTimestamp();
        await Task.WhenAll(Enumerable.Range(0, 16).Select(async _ =>
        {
            while (true)
            {
                var i = Interlocked.Increment(ref next) - 1;
                if (i >= from + count) return;
                if (rate is { } r && TimeSpan.FromSeconds((i - from) / r) - Stopwatch.GetElapsedTime(start) is { Ticks: > 0 } early) await Task.Delay(early);
                var body = "{\"event\":{\"id\":\"bench-" + i + "\"},\"source\":{\"ip\":\"198.51.100." + (i % 250) + "\"},\"threat\":{\"technique\":{\"id\":\"T1071\"}}}";
                var started = Stopwatch.GetTimestamp();
                using var response = await clients[i % clients.Length].PostAsync("/events", new StringContent(body, Encoding.UTF8, "application/json"));
                if (response.StatusCode != HttpStatusCode.Accepted) throw new InvalidOperationException($"alert {i}: HTTP {(int)response.StatusCode}");
                latencies.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                accepted?.Invoke();
            }
        }));
        return [.. latencies];
    }

    /// <summary>A client of one node's webhook that authenticates with the bearer token, as a SIEM does.</summary>
    private static HttpClient WithToken(Uri address)
    {
        var c = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 64 }) { BaseAddress = address, Timeout = TimeSpan.FromSeconds(60) };
        c.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Token);
        return c;
    }

    /// <summary>The process's peak resident set (VmHWM in /proc/&lt;pid&gt;/status), in MB.</summary>
    private static double PeakRssMb(Process p) =>
        File.ReadLines($"/proc/{p.Id}/status").Where(l => l.StartsWith("VmHWM:", StringComparison.Ordinal))
            .Select(l => long.Parse(l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024.0).FirstOrDefault();

    /// <summary>User + system CPU time of a process, in ms (from /proc/&lt;pid&gt;/stat, in clock ticks of 10 ms).</summary>
    private static double Cpu(Process p)
    {
        var stat = File.ReadAllText($"/proc/{p.Id}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) * 10.0;
    }

    private static async Task<(long Commits, long Inserted)> PgStatsAsync(string server, string database)
    {
        await using var db = new NpgsqlConnection(server);
        await db.OpenAsync();
        await using var query = new NpgsqlCommand("SELECT xact_commit, tup_inserted FROM pg_stat_database WHERE datname = @d", db);
        query.Parameters.AddWithValue("d", database);
        await using var reader = await query.ExecuteReaderAsync();
        await reader.ReadAsync();
        return (reader.GetInt64(0), reader.GetInt64(1));
    }

    private static async Task<long> ScalarAsync(string connection, string sql)
    {
        await using var db = new NpgsqlConnection(connection);
        await db.OpenAsync();
        await using var query = new NpgsqlCommand(sql, db);
        return Convert.ToInt64(await query.ExecuteScalarAsync(), CultureInfo.InvariantCulture);
    }

    private static long SqliteCount(string file)
    {
        using var db = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={file};Mode=ReadOnly");
        db.Open();
        using var query = db.CreateCommand();
        query.CommandText = "SELECT COUNT(*) FROM executions WHERE status = 'completed'";
        return (long)query.ExecuteScalar()!;
    }

    private static async Task Sql(string server, string sql)
    {
        await using var db = new NpgsqlConnection(server);
        await db.OpenAsync();
        await using var command = new NpgsqlCommand(sql, db);
        await command.ExecuteNonQueryAsync();
    }

    private static async Task Until(Func<Task<bool>> condition, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout)
        {
            try
            {
                if (await condition()) return;
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or NpgsqlException or Microsoft.Data.Sqlite.SqliteException)
            {
                // not up yet
            }
            await Task.Delay(200);
        }
        throw new TimeoutException("the cluster did not get there in time");
    }

    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }
}
