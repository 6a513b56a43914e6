using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using Microsoft.Playwright;

namespace RunbookPilot.Bench;

/// <summary>
/// Issue 16: the time from the webhook's 202 to the approval card in an open dashboard (Debian Chromium, headless, the
/// approval queue page connected), alert after alert on an idle machine. The server is the real one, started as its own
/// process from src/Host's Release build as the README starts it (<c>--demo</c>: the vendor simulators, SQLite, Kestrel on
/// 127.0.0.1) with one L1 playbook; the first alert is reported apart.
/// </summary>
public static class CardLatency
{
    public static async Task<int> RunAsync(string[] args)
    {
        var count = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 20;
        var dir = Directory.CreateTempSubdirectory("rbp-card-").FullName;
        Directory.CreateDirectory(Path.Combine(dir, "playbooks"));
        await File.WriteAllTextAsync(Path.Combine(dir, "playbooks", "bench.yaml"), ApprovalLatency.Playbook);
        const string password = "bench-password-0123456789";
        int port;
        using (var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((System.Net.IPEndPoint)probe.LocalEndpoint).Port;
        }
        var host = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", "..", "src", "Host", "bin", "Release", "net10.0", "RunbookPilot.Host.dll"));
        var info = new ProcessStartInfo("dotnet", [host, "--demo", "--urls", $"http://127.0.0.1:{port}"])
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = dir,
        };
        info.Environment["RBPILOT_DB"] = Path.Combine(dir, "data", "bench.db");
        info.Environment["RBPILOT_PLAYBOOKS"] = Path.Combine(dir, "playbooks");
        info.Environment["RBPILOT_USER"] = "bench";
        info.Environment["RBPILOT_PASS"] = password;
        using var process = Process.Start(info)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var address = new Uri($"http://127.0.0.1:{port}/");
        try
        {
            return await MeasureAsync(address, password, count);
        }
        finally
        {
            process.Kill(entireProcessTree: true);
        }
    }

    private static async Task<int> MeasureAsync(Uri address, string password, int count)
    {
        using var http = new HttpClient { BaseAddress = address };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("bench:" + password)));
        for (var i = 0; ; i++)
        {
            try
            {
                if ((await http.GetAsync("health")).IsSuccessStatusCode) break;
            }
            catch (HttpRequestException) when (i < 600)
            {
                // not listening yet
            }
            await Task.Delay(100);
        }

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = "/usr/bin/chromium", Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"],
        });
        var context = await browser.NewContextAsync(new BrowserNewContextOptions { HttpCredentials = new HttpCredentials { Username = "bench", Password = password } });
        var page = await context.NewPageAsync();
        await page.GotoAsync(address.ToString());
        await page.WaitForSelectorAsync("[data-testid=interactive]", new PageWaitForSelectorOptions { State = WaitForSelectorState.Attached, Timeout = 30000 });

        var samples = new List<double>();
        for (var i = 0; i <= count; i++)
        {
            var body = "{\"event\":{\"id\":\"card-" + i + "\"},\"source\":{\"ip\":\"198.51.100." + (i % 250) + "\"},\"threat\":{\"technique\":{\"id\":\"T1110\"}}}";
            var accepted = await (await http.PostAsync("events", new StringContent(body, Encoding.UTF8, "application/json"))).EnsureSuccessStatusCode().Content.ReadAsStringAsync();
            var clock = Stopwatch.StartNew();
            var execution = System.Text.Json.Nodes.JsonNode.Parse(accepted)!["accepted"]![0]!["executions"]![0]!["execution_id"]!.GetValue<string>();
            await page.WaitForSelectorAsync($"[data-testid=approval-card][data-execution='{execution}']", new PageWaitForSelectorOptions { Timeout = 30000 });
            samples.Add(clock.Elapsed.TotalMilliseconds);
            await Task.Delay(200); // alert after alert, on an idle machine
        }
        var warm = samples.Skip(1).Order().ToArray();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"first_alert_ms={samples[0]:F0} alerts={warm.Length} p50_ms={warm[warm.Length / 2]:F0} p99_ms={warm[Math.Min(warm.Length - 1, (int)(warm.Length * 0.99))]:F0} max_ms={warm[^1]:F0}"));
        return 0;
    }
}
