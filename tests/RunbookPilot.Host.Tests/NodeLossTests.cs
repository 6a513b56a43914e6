using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Npgsql;
using RunbookPilot.Engine.Hosting;
using RunbookPilot.Engine.Tests;
using RunbookPilot.Engine.Tests.Execution;
using RunbookPilot.VendorSim;
using Xunit.Abstractions;

namespace RunbookPilot.Host.Tests;

/// <summary>
/// Three server processes on 127.0.0.1 in one cluster over one PostgreSQL database (the Debian package ./test.sh
/// starts), with operator certificates. 1,000 alerts are posted across the three webhooks; the node hosting the
/// singletons (the oldest) is killed with SIGKILL in the middle of the burst and started again. Every alert answered
/// 202 ends in an execution, none runs twice, no step that had succeeded runs again, approvals are decided from a
/// surviving node, every node's API shows the same pending queue, and the audit chain verifies.
/// </summary>
public sealed class NodeLossTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string Password = "node-loss-password-0123456789";
    private readonly TempDir _dir = new();
    private readonly string _database = TestPostgres.NewName("rbp_nodeloss_");
    private readonly int[] _http = [FreePort(), FreePort(), FreePort()];
    private readonly int[] _remote = [FreePort(), FreePort(), FreePort()];
    private readonly Process?[] _nodes = new Process?[3];
    private VendorSimulator _sim = null!;

    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    public async Task InitializeAsync()
    {
        _sim = await VendorSimulator.StartAsync();
        _dir.Write("playbooks/loss.yaml", """
            id: loss_block
            name: Block on sight
            version: 1.0.0
            autonomy_level: L1
            trigger: { techniques: [T1110] }
            steps:
              - { id: vt, name: Reputation, action_type: lookup_ip, adapter: virustotal, autonomy_level: L0, params: { ip: "{{source.ip}}" } }
              - { id: block, name: Block, action_type: block_ip, adapter: paloalto, autonomy_level: L1, rollback_available: true, params: { ip: "{{source.ip}}" } }
            rollback:
              block: { action_type: unblock_ip, adapter: paloalto, params: { ip: "{{source.ip}}" } }
            """);
        _dir.Write("playbooks/global_policy.yaml", "approval:\n  timeout: 4h\n");
        var settings = _sim.DemoSettings();
        _dir.Write("playbooks/adapters.yaml", $"adapters:\n  virustotal:\n    base_url: {settings["virustotal"].BaseUrl}\n    credentials: {{ api_key: RBPILOT_SIM_VT_KEY }}\n" +
            $"  paloalto:\n    base_url: {settings["paloalto"].BaseUrl}\n    credentials: {{ api_key: RBPILOT_SIM_PANOS_KEY }}\n");
        NodeCertificates.CreateCluster(Path.Combine(_dir.Path, "certs"), 3);
        await TestPostgres.CreateAsync(_database);
    }

    public async Task DisposeAsync()
    {
        foreach (var node in _nodes.OfType<Process>())
            if (!node.HasExited) node.Kill(entireProcessTree: true);
        await _sim.DisposeAsync();
        _dir.Dispose();
        await TestPostgres.DropAsync(_database);
    }

    private Process Start(int n)
    {
        var info = new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "RunbookPilot.Host.dll"), "--urls", $"http://127.0.0.1:{_http[n]}"])
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = _dir.Path,
        };
        info.Environment["RBPILOT_DB"] = TestPostgres.Connection(_database);
        info.Environment["RBPILOT_PLAYBOOKS"] = Path.Combine(_dir.Path, "playbooks");
        info.Environment["RBPILOT_USER"] = "soc";
        info.Environment["RBPILOT_PASS"] = Password;
        info.Environment["RBPILOT_AUDIT_KEY"] = TestAudit.Secret;
        info.Environment["RBPILOT_AUDIT_CHECKPOINTS"] = Path.Combine(_dir.Path, "audit", $"node{n + 1}.jsonl");
        // Every node is a seed: a restarted first node joins the running cluster instead of forming a second one.
        info.Environment["RBPILOT_CLUSTER_SEEDS"] = string.Join(",", _remote.Select(p => $"127.0.0.1:{p}"));
        info.Environment["RBPILOT_CLUSTER_PORT"] = _remote[n].ToString(System.Globalization.CultureInfo.InvariantCulture);
        info.Environment["RBPILOT_TLS_CA"] = Path.Combine(_dir.Path, "certs", NodeCertificates.CaFile);
        info.Environment["RBPILOT_TLS_CERT"] = Path.Combine(_dir.Path, "certs", $"node-{n + 1}.pfx");
        foreach (var (name, value) in VendorSimulator.Credentials) info.Environment[name] = value;
        var process = Process.Start(info)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return _nodes[n] = process;
    }

    private HttpClient Client(int n)
    {
        var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{_http[n]}"), Timeout = TimeSpan.FromSeconds(30) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("soc:" + Password)));
        return http;
    }

    private static async Task<JsonElement> GetAsync(HttpClient http, string path) =>
        JsonDocument.Parse(await http.GetStringAsync(path)).RootElement.Clone();

    private static async Task WaitAsync(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout)
        {
            try
            {
                if (await condition()) return;
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or JsonException)
            {
                // not up yet, or a singleton moving
            }
            await Task.Delay(250);
        }
        throw new TimeoutException(what);
    }

    private static async Task<int> UpMembersAsync(HttpClient http) =>
        (await GetAsync(http, "/api/v1/ops/cluster")).GetProperty("members").EnumerateArray().Count(m => m.GetProperty("status").GetString() == "up");

    /// <summary>Approves these alerts' executions through a surviving node until every one is decided; how long that took after the kill.</summary>
    private static async Task<long> ApproveAsync(HttpClient http, IReadOnlyList<string> alertIds, Stopwatch sinceKill)
    {
        var left = alertIds.Select(a => Domain.Bindings.BindingBook.ExecutionIdFor(a, "loss_block")).ToHashSet();
        while (left.Count > 0 && sinceKill.Elapsed < TimeSpan.FromMinutes(2))
        {
            foreach (var id in left.ToList())
            {
                try
                {
                    using var response = await http.PostAsync($"/api/v1/executions/{id}/approve", new StringContent("{\"comment\":\"during the node loss\"}", Encoding.UTF8, "application/json"));
                    var answer = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
                    if (answer.GetProperty("ok").GetBoolean()) left.Remove(id);
                }
                catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or JsonException or KeyNotFoundException)
                {
                    // the shard is moving
                }
            }
            if (left.Count > 0) await Task.Delay(250);
        }
        return sinceKill.ElapsedMilliseconds;
    }

    /// <summary>Posts alerts that match no playbook to a surviving node until one is journaled (202): how long the intake singleton was away.</summary>
    private static async Task<long> ProbeAsync(HttpClient http, Stopwatch sinceKill)
    {
        for (var i = 0; ; i++)
        {
            var body = "{\"event\":{\"id\":\"probe-" + i + "\"},\"threat\":{\"technique\":{\"id\":\"T1595\"}}}";
            try
            {
                using var response = await http.PostAsync("/events", new StringContent(body, Encoding.UTF8, "application/json"));
                if (response.StatusCode == HttpStatusCode.Accepted) return sinceKill.ElapsedMilliseconds;
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                // the singleton is still moving
            }
            await Task.Delay(100);
        }
    }

    [Fact]
    public async Task Losing_the_node_of_the_singletons_mid_burst_loses_no_accepted_alert_and_runs_nothing_twice()
    {
        var clients = Enumerable.Range(0, 3).Select(Client).ToArray();
        try
        {
            Start(0);
            await WaitAsync(async () => (await clients[0].GetAsync("/health")).IsSuccessStatusCode, TimeSpan.FromSeconds(90), "node 1 up");
            Start(1);
            Start(2);
            await WaitAsync(async () => await UpMembersAsync(clients[0]) == 3, TimeSpan.FromSeconds(90), "three members up");

            var accepted = new ConcurrentDictionary<string, byte>();
            var killAt = Random.Shared.Next(250, 500);
            var killed = 0;
            var killClock = new Stopwatch();
            Task<long>? singletonsBack = null;
            Task<long>? approvedBack = null;
            var next = 0;
            await Task.WhenAll(Enumerable.Range(0, 9).Select(async worker =>
            {
                while (true)
                {
                    var i = Interlocked.Increment(ref next);
                    if (i > 1000) return;
                    var id = $"loss-{i}";
                    var body = "{\"event\":{\"id\":\"" + id + "\",\"severity\":\"high\"},\"source\":{\"ip\":\"198.18." + (i / 250) + "." + (i % 250) + "\"},\"threat\":{\"technique\":{\"id\":\"T1110\"}}}";
                    // A webhook sender retries on another node until one answers 202 (or gives up after a minute).
                    for (var attempt = 0; attempt < 240 && !accepted.ContainsKey(id); attempt++)
                    {
                        var node = (i + attempt) % 3;
                        if (Volatile.Read(ref killed) == 1 && node == 0) continue;
                        try
                        {
                            using var response = await clients[node].PostAsync("/events", new StringContent(body, Encoding.UTF8, "application/json"));
                            if (response.StatusCode == HttpStatusCode.Accepted)
                            {
                                accepted.TryAdd(id, 0);
                                break;
                            }
                        }
                        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
                        {
                            // that node is gone or busy: the next attempt goes to another
                        }
                        await Task.Delay(250);
                    }
                    if (accepted.Count >= killAt && Interlocked.CompareExchange(ref killed, 1, 0) == 0)
                    {
                        _nodes[0]!.Kill(entireProcessTree: true); // SIGKILL: no leave, no handover
                        killClock.Start();
                        singletonsBack = ProbeAsync(clients[1], killClock);
                        approvedBack = ApproveAsync(clients[1], accepted.Keys.Order(StringComparer.Ordinal).Take(10).ToList(), killClock);
                    }
                }
            }));
            output.WriteLine($"{accepted.Count} alerts accepted; node 1 killed after {killAt}; the intake answered a new alert again {await singletonsBack!} ms after the kill");
            // Approvals pending before the kill, wherever their shards were, were decided from a surviving node within 30 s.
            var approvedMs = await approvedBack!;
            output.WriteLine($"10 approvals pending before the kill decided from a surviving node {approvedMs} ms after the kill");
            Assert.True(approvedMs < 30_000, $"approvals took {approvedMs} ms");
            Assert.Equal(1000, accepted.Count);

            // Before the lost node returns: the survivors took over its executions (woken when it was removed), so every
            // accepted alert's execution has reached its approval without it.
            var survivorsClock = Stopwatch.StartNew();
            await WaitAsync(async () => (await GetAsync(clients[1], "/api/v1/approvals?status=pending")).GetProperty("approvals").GetArrayLength() == 990,
                TimeSpan.FromMinutes(3), "990 pending approvals on the survivors alone");
            output.WriteLine($"every execution reached its approval on the survivors {killClock.ElapsedMilliseconds} ms after the kill (waited {survivorsClock.ElapsedMilliseconds} ms after the burst)");

            Start(0); // the lost node comes back with the same address
            await WaitAsync(async () => (await clients[0].GetAsync("/health")).IsSuccessStatusCode, TimeSpan.FromSeconds(90), "node 1 back");
            // It rejoined the one cluster (the survivors see three members up again), not a cluster of its own.
            await WaitAsync(async () => await UpMembersAsync(clients[1]) == 3 && await UpMembersAsync(clients[0]) == 3, TimeSpan.FromSeconds(90), "node 1 rejoined");

            // Every accepted alert ends in one execution, waiting for the block's approval (nothing lost, nothing doubled).
            var drainClock = Stopwatch.StartNew();
            await WaitAsync(async () => (await GetAsync(clients[1], "/api/v1/approvals?status=pending")).GetProperty("approvals").GetArrayLength() == 990,
                TimeSpan.FromMinutes(4), "990 pending approvals (and the 10 approved)");
            output.WriteLine($"backlog drained {drainClock.ElapsedMilliseconds} ms after node 1 was started again ({killClock.ElapsedMilliseconds} ms after the kill)");
            var executions = new List<JsonElement>();
            for (var offset = 0; offset < 2000; offset += 1000)
                executions.AddRange((await GetAsync(clients[2], $"/api/v1/executions?limit=1000&offset={offset}")).GetProperty("executions").EnumerateArray());
            Assert.Equal(1000, executions.Count);
            Assert.Equal(accepted.Keys.Order(StringComparer.Ordinal), executions.Select(e => e.GetProperty("alert_id").GetString()!).Order(StringComparer.Ordinal));

            // No step that had succeeded ran again (one success per step in the timelines of a sample), and the
            // reputation service was asked at most once per address apart from calls in flight when the node died.
            foreach (var execution in executions.Take(100))
            {
                var timeline = (await GetAsync(clients[1], $"/api/v1/executions/{execution.GetProperty("execution_id").GetString()}")).GetProperty("timeline");
                var successes = timeline.EnumerateArray().Where(t => t.GetProperty("kind").GetString() == "step_succeeded").GroupBy(t => t.GetProperty("step_id").GetString());
                Assert.All(successes, g => Assert.Single(g));
            }
            var repeated = _sim.State.Requests("virustotal").GroupBy(r => r.PathAndQuery).Count(g => g.Count() > 1);
            output.WriteLine($"reputation lookups repeated (in flight at the kill): {repeated}");
            Assert.True(repeated <= 100, $"{repeated} lookups repeated");

            // Every node's API shows the same pending queue; approvals are decided from the surviving nodes.
            var queues = await Task.WhenAll(clients.Select(async c => (await GetAsync(c, "/api/v1/approvals?status=pending")).GetProperty("approvals")
                .EnumerateArray().Select(a => a.GetProperty("approval_id").GetString()!).Order(StringComparer.Ordinal).ToList()));
            Assert.Equal(queues[0], queues[1]);
            Assert.Equal(queues[0], queues[2]);
            // `ops cluster show` from any node: every member up, reachable, with its execution shards and live entities.
            var members = (await GetAsync(clients[2], "/api/v1/ops/cluster")).GetProperty("members").EnumerateArray().ToList();
            Assert.Equal(3, members.Count(m => m.GetProperty("status").GetString() == "up" && m.GetProperty("reachable").GetBoolean()));
            Assert.All(members, m => Assert.Equal(JsonValueKind.Number, m.GetProperty("shards").ValueKind));
            Assert.True(members.Sum(m => m.GetProperty("entities").GetInt32()) > 0);
            foreach (var execution in executions.Take(20))
            {
                var id = execution.GetProperty("execution_id").GetString();
                using var approve = await clients[1 + (id!.Length % 2)].PostAsync($"/api/v1/executions/{id}/approve?wait=30",
                    new StringContent("{\"comment\":\"after the node loss\"}", Encoding.UTF8, "application/json"));
                var answer = JsonDocument.Parse(await approve.Content.ReadAsStringAsync()).RootElement;
                Assert.True(answer.GetProperty("ok").GetBoolean(), answer.GetRawText());
            }

            // The whole chain, from a node that did not die (it reads every row: allow it more than a request's 30 s).
            using var verifier = Client(2);
            verifier.Timeout = TimeSpan.FromMinutes(3);
            var verifyClock = Stopwatch.StartNew();
            using var verified = await verifier.GetAsync("/api/v1/audit/verify");
            var body = await verified.Content.ReadAsStringAsync();
            output.WriteLine($"audit verify: {(int)verified.StatusCode} in {verifyClock.ElapsedMilliseconds} ms: {body}");
            Assert.True(verified.IsSuccessStatusCode, body);
            var audit = JsonDocument.Parse(body).RootElement;
            Assert.True(audit.GetProperty("ok").GetBoolean(), audit.GetProperty("message").GetString());
        }
        finally
        {
            foreach (var c in clients) c.Dispose();
        }
    }

    [Fact]
    public async Task A_rolling_restart_under_a_trickle_of_alerts_loses_nothing_and_doubles_nothing()
    {
        var clients = Enumerable.Range(0, 3).Select(Client).ToArray();
        var down = -1;
        try
        {
            Start(0);
            await WaitAsync(async () => (await clients[0].GetAsync("/health")).IsSuccessStatusCode, TimeSpan.FromSeconds(90), "node 1 up");
            Start(1);
            Start(2);
            await WaitAsync(async () => await UpMembersAsync(clients[0]) == 3, TimeSpan.FromSeconds(90), "three members up");
            foreach (var c in clients) await WaitAsync(async () => (await c.GetAsync("/health")).IsSuccessStatusCode, TimeSpan.FromSeconds(90), "every node serving");

            var accepted = new ConcurrentDictionary<string, byte>();
            using var stop = new CancellationTokenSource();
            var trickle = Task.Run(async () =>
            {
                for (var i = 1; !stop.IsCancellationRequested; i++)
                {
                    var id = $"roll-{i}";
                    var body = "{\"event\":{\"id\":\"" + id + "\"},\"source\":{\"ip\":\"198.19." + (i / 250) + "." + (i % 250) + "\"},\"threat\":{\"technique\":{\"id\":\"T1110\"}}}";
                    for (var attempt = 0; attempt < 600 && !accepted.ContainsKey(id); attempt++)
                    {
                        var node = (i + attempt) % 3;
                        if (node == Volatile.Read(ref down)) continue;
                        try
                        {
                            using var response = await clients[node].PostAsync("/events", new StringContent(body, Encoding.UTF8, "application/json"));
                            if (response.StatusCode == HttpStatusCode.Accepted) accepted.TryAdd(id, 0);
                        }
                        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
                        {
                            // leaving or restarting: the next attempt goes to another node
                        }
                        if (!accepted.ContainsKey(id)) await Task.Delay(100);
                    }
                    await Task.Delay(100);
                }
            });

            // Node by node, the seed last: leave (its shards and singletons hand over), stop, start again, wait until it is up.
            foreach (var n in new[] { 1, 2, 0 })
            {
                Volatile.Write(ref down, n);
                var other = clients[(n + 1) % 3];
                using var leave = await other.PostAsync($"/api/v1/ops/cluster/leave?address={Uri.EscapeDataString($"akka.ssl.tcp://runbookpilot@127.0.0.1:{_remote[n]}")}",
                    new StringContent("{}", Encoding.UTF8, "application/json"));
                Assert.True(leave.IsSuccessStatusCode, await leave.Content.ReadAsStringAsync());
                // A node that left stops its own process (its actor system ends); the test waits for that.
                Assert.True(_nodes[n]!.WaitForExit(TimeSpan.FromSeconds(60)), $"node {n + 1} did not stop after leaving");
                Start(n);
                await WaitAsync(async () => (await clients[n].GetAsync("/health")).IsSuccessStatusCode, TimeSpan.FromSeconds(90), $"node {n + 1} back");
                await WaitAsync(async () => await UpMembersAsync(other) == 3, TimeSpan.FromSeconds(90), $"node {n + 1} rejoined");
                Volatile.Write(ref down, -1);
            }
            await stop.CancelAsync();
            await trickle;
            output.WriteLine($"{accepted.Count} alerts accepted during the rolling restart");
            Assert.True(accepted.Count > 50, $"only {accepted.Count} alerts");

            await WaitAsync(async () => (await GetAsync(clients[2], "/api/v1/approvals?status=pending")).GetProperty("approvals").GetArrayLength() == accepted.Count,
                TimeSpan.FromMinutes(2), "every accepted alert waiting for approval");
            var executions = (await GetAsync(clients[0], "/api/v1/executions?limit=1000")).GetProperty("executions").EnumerateArray()
                .Select(e => e.GetProperty("alert_id").GetString()!).ToList();
            Assert.Equal(accepted.Keys.Order(StringComparer.Ordinal), executions.Order(StringComparer.Ordinal)); // nothing lost, nothing doubled
            using var verifier = Client(1);
            verifier.Timeout = TimeSpan.FromMinutes(3);
            var audit = JsonDocument.Parse(await verifier.GetStringAsync("/api/v1/audit/verify")).RootElement;
            Assert.True(audit.GetProperty("ok").GetBoolean(), audit.GetProperty("message").GetString());
        }
        finally
        {
            foreach (var c in clients) c.Dispose();
        }
    }
}
