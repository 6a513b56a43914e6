using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using RunbookPilot.Engine.Tests;
using RunbookPilot.VendorSim;

namespace RunbookPilot.Host.Tests;

/// <summary>
/// The server process is killed (not stopped) while 1,000 alerts arrive, then started again over the same file: every
/// alert that got a 202 ends in an execution, no step that had succeeded runs again, and the audit chain verifies.
/// </summary>
public sealed class CrashTests : IAsyncLifetime
{
    private const string Password = "crash-test-password-0123456789";
    private readonly TempDir _dir = new();
    private VendorSimulator _sim = null!;
    private int _port;

    public async Task InitializeAsync()
    {
        _sim = await VendorSimulator.StartAsync();
        _dir.Write("playbooks/crash.yaml", """
            id: crash_block
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
        _dir.Write("playbooks/global_policy.yaml", "auto_approve:\n  playbooks: [crash_block]\n");
        var settings = _sim.DemoSettings();
        _dir.Write("playbooks/adapters.yaml", $"adapters:\n  virustotal:\n    base_url: {settings["virustotal"].BaseUrl}\n    credentials: {{ api_key: RBPILOT_SIM_VT_KEY }}\n" +
            $"  paloalto:\n    base_url: {settings["paloalto"].BaseUrl}\n    credentials: {{ api_key: RBPILOT_SIM_PANOS_KEY }}\n");
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        _port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
    }

    public async Task DisposeAsync()
    {
        await _sim.DisposeAsync();
        _dir.Dispose();
    }

    private Process StartServer()
    {
        var info = new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "RunbookPilot.Host.dll"), "--urls", $"http://127.0.0.1:{_port}"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = _dir.Path,
        };
        info.Environment["RBPILOT_DB"] = Path.Combine(_dir.Path, "data", "rbp.db");
        info.Environment["RBPILOT_PLAYBOOKS"] = Path.Combine(_dir.Path, "playbooks");
        info.Environment["RBPILOT_USER"] = "soc";
        info.Environment["RBPILOT_PASS"] = Password;
        info.Environment["RBPILOT_AUDIT_KEY"] = TestAudit.Secret;
        foreach (var (name, value) in VendorSimulator.Credentials) info.Environment[name] = value;
        var process = Process.Start(info)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private HttpClient Client()
    {
        var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{_port}"), Timeout = TimeSpan.FromSeconds(30) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("soc:" + Password)));
        return http;
    }

    private static async Task WaitHealthy(HttpClient http)
    {
        for (var i = 0; i < 240; i++)
        {
            try
            {
                if ((await http.GetAsync("/health")).IsSuccessStatusCode) return;
            }
            catch (HttpRequestException)
            {
                // not listening yet
            }
            await Task.Delay(250);
        }
        throw new TimeoutException("server did not become healthy");
    }

    [Fact]
    public async Task Killing_the_server_under_load_loses_no_accepted_alert_and_repeats_no_succeeded_step()
    {
        using var http = Client();
        var server = StartServer();
        await WaitHealthy(http);

        var accepted = new System.Collections.Concurrent.ConcurrentBag<string>();
        var killAfter = Random.Shared.Next(150, 700);
        var next = 0;
        var killed = false;
        await Task.WhenAll(Enumerable.Range(0, 8).Select(async _ =>
        {
            while (true)
            {
                var i = Interlocked.Increment(ref next);
                if (i > 1000 || Volatile.Read(ref killed)) return;
                var body = "{\"event\":{\"id\":\"crash-" + i + "\",\"severity\":\"high\"},\"source\":{\"ip\":\"198.18." + (i / 250) + "." + (i % 250) + "\"},\"threat\":{\"technique\":{\"id\":\"T1110\"}}}";
                try
                {
                    using var response = await http.PostAsync("/events", new StringContent(body, Encoding.UTF8, "application/json"));
                    if (response.StatusCode == HttpStatusCode.Accepted) accepted.Add($"crash-{i}");
                }
                catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
                {
                    return; // the server is gone
                }
                if (accepted.Count >= killAfter && !Interlocked.Exchange(ref killed, true))
                    server.Kill(entireProcessTree: true); // no graceful stop
            }
        }));
        if (!killed) server.Kill(entireProcessTree: true);
        await server.WaitForExitAsync();
        Assert.NotEmpty(accepted);

        var restarted = StartServer();
        try
        {
            await WaitHealthy(http);
            JsonElement events = default;
            for (var i = 0; i < 480; i++)
            {
                events = JsonDocument.Parse(await http.GetStringAsync("/api/v1/events?limit=1000")).RootElement.GetProperty("events");
                var statuses = events.EnumerateArray().ToDictionary(e => e.GetProperty("alert_id").GetString()!, e => e.GetProperty("status").GetString());
                if (accepted.All(a => statuses.GetValueOrDefault(a) == "completed")) break;
                await Task.Delay(250);
            }
            var final = events.EnumerateArray().ToDictionary(e => e.GetProperty("alert_id").GetString()!, e => e.GetProperty("status").GetString());
            Assert.All(accepted, a => Assert.Equal("completed", final.GetValueOrDefault(a)));

            // No step that had succeeded ran again: one success per step in every timeline.
            var executions = JsonDocument.Parse(await http.GetStringAsync("/api/v1/executions?limit=1000")).RootElement.GetProperty("executions");
            foreach (var execution in executions.EnumerateArray().Take(200))
            {
                var id = execution.GetProperty("execution_id").GetString();
                var timeline = JsonDocument.Parse(await http.GetStringAsync($"/api/v1/executions/{id}")).RootElement.GetProperty("timeline");
                var successes = timeline.EnumerateArray().Where(t => t.GetProperty("kind").GetString() == "step_succeeded").GroupBy(t => t.GetProperty("step_id").GetString());
                Assert.All(successes, g => Assert.Single(g));
            }
            // The firewall saw each block at most once as a change (a repeat with the same key is answered "already exists").
            Assert.All(accepted, a =>
            {
                var i = int.Parse(a["crash-".Length..], System.Globalization.CultureInfo.InvariantCulture);
                Assert.True(_sim.State.RegisteredIps.ContainsKey($"198.18.{i / 250}.{i % 250}"));
            });

            var audit = JsonDocument.Parse(await http.GetStringAsync("/api/v1/audit/verify")).RootElement;
            Assert.True(audit.GetProperty("ok").GetBoolean(), audit.GetProperty("message").GetString());
        }
        finally
        {
            restarted.Kill(entireProcessTree: true);
            await restarted.WaitForExitAsync();
        }
    }
}
