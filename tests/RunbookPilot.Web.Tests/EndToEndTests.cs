using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using RunbookPilot.Engine.Tests;
using Xunit.Abstractions;

namespace RunbookPilot.Web.Tests;

/// <summary>
/// The real server process (built output of src/Host, demo simulators for the vendors, a SQLite file) and headless Debian
/// Chromium driven by Playwright. Screenshots of every page go to artifacts/screenshots.
/// </summary>
public sealed class DashboardServer : IAsyncLifetime
{
    public const string Admin = "admin";
    public const string Password = "e2e-admin-password-7c1";
    private readonly TempDir _dir = new();
    private readonly StringBuilder _log = new();
    private Process? _process;

    public const string Playbook = """
        id: contain_source
        name: Contain source
        version: 1.0.0
        autonomy_level: L2
        trigger:
          techniques: [T1110]
        steps:
          - { id: block, name: Block source IP, action_type: block_ip, adapter: paloalto, autonomy_level: L1, params: { ip: "{{source.ip}}" }, rollback_available: true }
          - { id: isolate, name: Isolate host, action_type: isolate_host, adapter: crowdstrike, autonomy_level: L2, params: { hostname: "{{host.name}}" }, rollback_available: true }
        rollback:
          block: { action_type: unblock_ip, adapter: paloalto, params: { ip: "{{source.ip}}" } }
          isolate: { action_type: un_isolate_host, adapter: crowdstrike, params: { hostname: "{{host.name}}" } }
        """;

    public Uri Address { get; private set; } = null!;
    public Uri Simulators { get; private set; } = null!;
    public IPlaywright Playwright { get; private set; } = null!;
    public IBrowser Browser { get; private set; } = null!;
    public HttpClient Http { get; } = new();
    public string Screenshots { get; } = Path.Combine(Repo.Root, "artifacts", "screenshots");

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(Screenshots);
        _dir.Write("playbooks/contain_source.yaml", Playbook);
        _dir.Write("playbooks/vet_and_block.yaml", """
            id: vet_and_block
            name: Vet the source, then block it
            version: 1.0.0
            autonomy_level: L1
            trigger:
              techniques: [T1078]
            steps:
              - { id: reputation, name: Reputation, action_type: lookup_ip, adapter: virustotal, autonomy_level: L0, params: { ip: "{{source.ip}}" } }
              - { id: block, name: Block source IP, action_type: block_ip, adapter: paloalto, autonomy_level: L1, params: { ip: "{{source.ip}}" }, rollback_available: true }
            rollback:
              block: { action_type: unblock_ip, adapter: paloalto, params: { ip: "{{source.ip}}" } }
            """);
        _dir.Write("playbooks/lookup_source.yaml", """
            id: lookup_source
            name: Look up the source
            version: 1.0.0
            autonomy_level: L0
            trigger:
              techniques: [T1071]
            steps:
              - { id: reputation, name: Reputation, action_type: lookup_ip, adapter: virustotal, autonomy_level: L0, params: { ip: "{{source.ip}}" } }
            """);
        var port = FreePort();
        Address = new Uri($"http://127.0.0.1:{port}/");
        var configuration = AppContext.BaseDirectory.Contains("/Release/", StringComparison.Ordinal) ? "Release" : "Debug";
        var dll = Path.Combine(Repo.Root, "src", "Host", "bin", configuration, "net10.0", "RunbookPilot.Host.dll");
        var info = new ProcessStartInfo("dotnet", [dll, "--demo", "--urls", Address.ToString().TrimEnd('/')])
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = _dir.Path,
        };
        info.Environment["RBPILOT_DB"] = Path.Combine(_dir.Path, "data", "rbp.db");
        info.Environment["RBPILOT_PLAYBOOKS"] = Path.Combine(_dir.Path, "playbooks");
        info.Environment["RBPILOT_USER"] = Admin;
        info.Environment["RBPILOT_PASS"] = Password;
        info.Environment["RBPILOT_ANALYSTS"] = "ana:e2e-analyst-password-9d2";
        _process = Process.Start(info)!;
        var simulators = new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously);
        void Read(string? line)
        {
            if (line is null) return;
            lock (_log) _log.AppendLine(line);
            if (Regex.Match(line, @"local vendor simulators at (http://127\.0\.0\.1:\d+/)") is { Success: true } m) simulators.TrySetResult(new Uri(m.Groups[1].Value));
        }
        _process.OutputDataReceived += (_, e) => Read(e.Data);
        _process.ErrorDataReceived += (_, e) => Read(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        Http.BaseAddress = Address;
        Http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{Admin}:{Password}")));
        for (var i = 0; ; i++)
        {
            try
            {
                if ((await Http.GetAsync("health")).StatusCode == HttpStatusCode.OK) break;
            }
            catch (HttpRequestException) when (i < 600)
            {
                // not listening yet
            }
            if (_process.HasExited || i >= 600) throw new InvalidOperationException("the server did not start:\n" + Log);
            await Task.Delay(100);
        }
        Simulators = await simulators.Task.WaitAsync(TimeSpan.FromSeconds(10));

        Playwright = await Microsoft.Playwright.Playwright.CreateAsync();
        Browser = await Playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = "/usr/bin/chromium",
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"],
        });
    }

    public string Log
    {
        get
        {
            lock (_log) return _log.ToString();
        }
    }

    public async Task<IPage> PageAsync(int width = 1280, int height = 900, bool signedIn = true)
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions
        {
            ViewportSize = new ViewportSize { Width = width, Height = height },
            HttpCredentials = signedIn ? new HttpCredentials { Username = Admin, Password = Password } : null,
        });
        return await context.NewPageAsync();
    }

    /// <summary>Opens a page and waits until it is interactive (its circuit connected), so clicks reach the server.</summary>
    public async Task OpenAsync(IPage page, string path)
    {
        await page.GotoAsync(new Uri(Address, path).ToString());
        await page.WaitForSelectorAsync("[data-testid=interactive]", new PageWaitForSelectorOptions { State = WaitForSelectorState.Attached, Timeout = 30000 });
    }

    /// <summary>Posts a brute-force alert (T1110, high) from <paramref name="ip"/> on <paramref name="host"/>: its id and the execution it started.</summary>
    public async Task<(string AlertId, string ExecutionId)> PostAlertAsync(string ip, string host)
    {
        var id = $"e2e-{Guid.NewGuid():N}"[..20];
        var body = JsonSerializer.Serialize(new
        {
            @event = new { id, category = new[] { "authentication" }, severity = "high" },
            source = new { ip },
            host = new { name = host },
            threat = new { technique = new { id = "T1110" } },
        });
        var response = await Http.PostAsync("events", new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var accepted = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("accepted")[0];
        return (id, accepted.GetProperty("executions")[0].GetProperty("execution_id").GetString()!);
    }

    public Task ShotAsync(IPage page, string name) => page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(Screenshots, name + ".png"), FullPage = true });

    public async Task DisposeAsync()
    {
        if (Browser is not null) await Browser.DisposeAsync();
        Playwright?.Dispose();
        Http.Dispose();
        if (_process is { HasExited: false }) _process.Kill(entireProcessTree: true);
        _process?.Dispose();
        _dir.Dispose();
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

[CollectionDefinition("dashboard")]
public sealed class DashboardCollection : ICollectionFixture<DashboardServer>;

[Collection("dashboard")]
public sealed class EndToEndTests(DashboardServer server, ITestOutputHelper output)
{
    private Task<(string AlertId, string ExecutionId)> PostAlertAsync(string ip, string host) => server.PostAlertAsync(ip, host);

    /// <summary>Answers the open confirmation: checks that it names <paramref name="names"/> and says whether it can be undone, gives the reason when asked.</summary>
    private static async Task ConfirmAsync(IPage page, string names, string undo, string? reason = null)
    {
        await page.WaitForSelectorAsync("[data-testid=confirm-dialog]", new() { Timeout = 5000 });
        Assert.Contains(names, await page.InnerTextAsync("[data-testid=confirm-message]"), StringComparison.Ordinal);
        Assert.Contains(undo, await page.InnerTextAsync("[data-testid=confirm-undo]"), StringComparison.Ordinal);
        if (reason is not null)
        {
            Assert.True(await page.IsDisabledAsync("[data-testid=confirm-ok]"), "confirmed without a reason");
            await page.Locator("[data-testid=confirm-reason]").Locator("xpath=descendant-or-self::input").First.FillAsync(reason);
        }
        await page.ClickAsync("[data-testid=confirm-ok]");
        await page.WaitForSelectorAsync("[data-testid=confirm-dialog]", new() { State = WaitForSelectorState.Detached, Timeout = 5000 });
    }

    private async Task<JsonElement> SimStateAsync()
    {
        using var http = new HttpClient();
        return JsonDocument.Parse(await http.GetStringAsync(new Uri(server.Simulators, "_admin/state"))).RootElement.Clone();
    }

    [Fact]
    public async Task Without_credentials_every_page_is_refused()
    {
        var page = await server.PageAsync(signedIn: false);
        foreach (var path in new[] { "", "executions", "insights", "bindings", "playbooks", "_blazor/negotiate" })
        {
            var url = new Uri(server.Address, path).ToString();
            var response = await page.Context.APIRequest.GetAsync(url);
            Assert.Equal(401, response.Status);
            Assert.StartsWith("Basic", response.Headers["www-authenticate"], StringComparison.Ordinal);
            // The browser, asked for credentials it does not have, shows nothing of the page.
            var refused = await Assert.ThrowsAsync<PlaywrightException>(() => page.GotoAsync(url));
            Assert.Contains("ERR_INVALID_AUTH_CREDENTIALS", refused.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task An_alert_appears_live_is_approved_promoted_completed_and_rolled_back()
    {
        var page = await server.PageAsync();
        await server.OpenAsync(page, "");
        await page.WaitForSelectorAsync("[data-testid=pending-count]");
        Assert.Contains(DashboardServer.Admin, await page.InnerTextAsync("[data-testid=signed-in]"), StringComparison.Ordinal);
        await server.ShotAsync(page, "01-approval-queue");

        var (alertId, execution) = await PostAlertAsync("198.51.100.23", "WS-042"); // a host the CrowdStrike simulator knows
        var clock = Stopwatch.StartNew();
        var card = $"[data-testid=approval-card][data-execution='{execution}']";
        await page.WaitForSelectorAsync(card, new PageWaitForSelectorOptions { Timeout = 5000 });
        output.WriteLine($"approval visible {clock.ElapsedMilliseconds} ms after the webhook answered");
        await File.AppendAllTextAsync(Path.Combine(server.Screenshots, "live-latency.txt"),
            $"{DateTimeOffset.UtcNow:u} approval card visible {clock.ElapsedMilliseconds} ms after the webhook's 202\n");
        Assert.Contains("198.51.100.23", await page.InnerTextAsync($"{card} [data-testid=request]"), StringComparison.Ordinal);
        await server.ShotAsync(page, "02-approval-pending");

        await page.ClickAsync($"{card} [data-testid=approve]");
        var simulation = $"[data-testid=simulation-card][data-execution='{execution}']";
        await page.WaitForSelectorAsync(simulation, new PageWaitForSelectorOptions { Timeout = 5000 });
        Assert.Contains("198.51.100.23", (await SimStateAsync()).GetRawText(), StringComparison.Ordinal); // blocked at the (simulated) firewall
        await server.ShotAsync(page, "03-simulation");
        await page.ClickAsync($"{simulation} [data-testid=execute-now]");
        // Execute Now asks first, naming the host and whether it can be undone.
        await ConfirmAsync(page, "Isolate WS-042 on CrowdStrike Falcon", "Can be undone: rollback runs crowdstrike.un_isolate_host");
        await page.WaitForSelectorAsync(simulation, new PageWaitForSelectorOptions { State = WaitForSelectorState.Detached, Timeout = 5000 });
        // The card leaves as soon as the simulation is promoted; the isolation itself follows (the step runs after the approval).
        var contained = (await SimStateAsync()).GetRawText();
        for (var i = 0; i < 50 && !System.Text.RegularExpressions.Regex.IsMatch(contained, "WS-042[^}]*contained|contained[^}]*WS-042"); i++)
        {
            await Task.Delay(100);
            contained = (await SimStateAsync()).GetRawText();
        }
        Assert.Matches("WS-042[^}]*contained|contained[^}]*WS-042", contained); // the promoted simulation really ran

        await server.OpenAsync(page, $"executions/{execution}");
        await page.WaitForFunctionAsync("() => document.querySelector('[data-testid=execution-status]')?.innerText.includes('completed')", null, new PageWaitForFunctionOptions { Timeout = 10000 });
        await server.ShotAsync(page, "04-execution-completed");
        await page.ClickAsync("tr#block [data-testid=rollback]");
        await ConfirmAsync(page, "Block 198.51.100.23 on the PAN-OS firewall", "cannot itself be rolled back", reason: "false positive: scanner");
        await page.WaitForFunctionAsync("() => [...document.querySelectorAll('tr#block td')].some(td => td.innerText.includes('rolled_back'))", null,
            new PageWaitForFunctionOptions { Timeout = 10000 });
        Assert.DoesNotContain("198.51.100.23", (await SimStateAsync()).GetRawText(), StringComparison.Ordinal); // the simulator's firewall state is restored
        await server.ShotAsync(page, "05-rolled-back");

        foreach (var (path, name) in new[] { ("executions", "06-executions"), ("insights", "07-metrics"), ("playbooks/contain_source", "08-playbook"), ($"alerts/{alertId}", "09-alert") })
        {
            await server.OpenAsync(page, path);
            await server.ShotAsync(page, name);
        }
        // The alert's run timeline names the execution (waited for: the live page loads its data after it connects).
        await page.GetByRole(AriaRole.Tab, new() { Name = "Bindings" }).ClickAsync();
        await page.WaitForFunctionAsync($"() => [...document.querySelectorAll('[data-testid=run-timeline]')].some(e => e.innerText.includes('{execution}'))", null,
            new PageWaitForFunctionOptions { Timeout = 15000 });
        // The Selection tab explains why the alert ran its playbook, condition by condition.
        await page.GetByRole(AriaRole.Tab, new() { Name = "Selection" }).ClickAsync();
        await page.WaitForSelectorAsync("[data-testid=selection-summary]", new() { Timeout = 10000 });
        Assert.Contains("Selected: contain_source", await page.InnerTextAsync("[data-testid=selection-summary]"), StringComparison.Ordinal);
        await server.ShotAsync(page, "10-alert-selection");
    }

    [Fact]
    public async Task Two_alerts_block_one_address_the_second_card_and_the_rollback_say_who_else_holds_it()
    {
        var page = await server.PageAsync();
        const string ip = "198.51.100.77";
        var (_, first) = await PostAlertAsync(ip, "WS-042");
        await server.OpenAsync(page, "");
        var firstCard = $"[data-testid=approval-card][data-execution='{first}']";
        await page.WaitForSelectorAsync(firstCard, new PageWaitForSelectorOptions { Timeout = 10000 });
        await page.ClickAsync($"{firstCard} [data-testid=approve]");
        // The analyst is told the block's result, not only "running".
        await page.WaitForFunctionAsync("() => document.querySelector('[data-testid=message]')?.innerText.includes('succeeded')", null, new PageWaitForFunctionOptions { Timeout = 20000 });
        Assert.Contains("step block (paloalto.block_ip) succeeded", await page.InnerTextAsync("[data-testid=message]"), StringComparison.Ordinal);

        var (_, second) = await PostAlertAsync(ip, "WS-042");
        var secondCard = $"[data-testid=approval-card][data-execution='{second}']";
        await page.WaitForSelectorAsync($"{secondCard} [data-testid=effect-notice]", new PageWaitForSelectorOptions { Timeout = 10000 });
        Assert.Contains($"{ip} blocked on paloalto: already held by {first}", await page.InnerTextAsync($"{secondCard} [data-testid=effect-notice]"), StringComparison.Ordinal);
        await server.ShotAsync(page, "12-effect-already-held");
        await page.ClickAsync($"{secondCard} [data-testid=approve]");
        await page.WaitForFunctionAsync("() => document.querySelector('[data-testid=message]')?.innerText.includes('also held')", null, new PageWaitForFunctionOptions { Timeout = 20000 });

        // Rolling back the first execution releases only its hold: the address stays blocked for the second.
        await server.OpenAsync(page, $"executions/{first}");
        await page.WaitForSelectorAsync("tr#block [data-testid=effect-notice]", new PageWaitForSelectorOptions { Timeout = 10000 });
        Assert.Contains($"also held by {second}", await page.InnerTextAsync("tr#block [data-testid=effect-notice]"), StringComparison.Ordinal);
        await server.ShotAsync(page, "13-rollback-also-held");
        await page.ClickAsync("tr#block [data-testid=rollback]");
        await ConfirmAsync(page, $"Block {ip} on the PAN-OS firewall", "cannot itself be rolled back", reason: "test of the shared hold");
        await page.WaitForFunctionAsync("() => document.querySelector('[data-testid=message]')?.innerText.includes('still held by')", null, new PageWaitForFunctionOptions { Timeout = 20000 });
        Assert.Contains(ip, (await SimStateAsync()).GetRawText(), StringComparison.Ordinal);
        await server.ShotAsync(page, "14-rollback-still-held");
    }

    [Fact]
    public async Task A_binding_is_edited_in_the_rule_editor()
    {
        var create = await server.Http.PostAsync("api/v1/bindings", new StringContent(
            """{"playbook_id":"lookup_source","mode":"suggest","match":{"rule_ids":["e2e-rule"]},"guardrails":{"max_per_minute":10,"max_concurrent":2,"daily_quota":100}}""",
            Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Created, create.StatusCode);
        var id = JsonDocument.Parse(await create.Content.ReadAsStringAsync()).RootElement.GetProperty("binding").GetProperty("id").GetInt32();

        var page = await server.PageAsync();
        await server.OpenAsync(page, "bindings");
        await page.WaitForSelectorAsync("[data-testid=binding-row]");
        await page.ClickAsync("[data-testid=binding-row] [data-testid=edit-binding]");
        var rate = page.Locator("[data-testid=form-rate]").Locator("xpath=descendant-or-self::input").First;
        await page.WaitForFunctionAsync("() => document.querySelector('[data-testid=binding-editor]')?.innerText.includes('Edit binding')", null,
            new PageWaitForFunctionOptions { Timeout = 10000 });
        await rate.FillAsync("7");
        await rate.PressAsync("Tab");
        await server.ShotAsync(page, "10-binding-editor");
        await page.ClickAsync("[data-testid=save-binding]");
        await page.WaitForFunctionAsync($"() => document.querySelector('[data-testid=message]')?.innerText.includes('binding {id} saved')", null,
            new PageWaitForFunctionOptions { Timeout = 5000 });

        var binding = JsonDocument.Parse(await server.Http.GetStringAsync($"api/v1/bindings/{id}")).RootElement.GetProperty("binding");
        Assert.Equal(7, binding.GetProperty("spec").GetProperty("guardrails").GetProperty("max_per_minute").GetInt32());
        Assert.Equal(2, binding.GetProperty("spec").GetProperty("guardrails").GetProperty("max_concurrent").GetInt32());
        Assert.Equal(DashboardServer.Admin, binding.GetProperty("updated_by").GetString());

        // Delete asks first and says it cannot be undone; cancelled, the binding stays; confirmed, it is gone.
        await page.ClickAsync("[data-testid=binding-row] [data-testid=delete-binding]");
        await page.WaitForSelectorAsync("[data-testid=confirm-dialog]", new() { Timeout = 5000 });
        Assert.Contains("Cannot be undone", await page.InnerTextAsync("[data-testid=confirm-undo]"), StringComparison.Ordinal);
        await page.ClickAsync("[data-testid=confirm-cancel]");
        Assert.Equal(HttpStatusCode.OK, (await server.Http.GetAsync($"api/v1/bindings/{id}")).StatusCode);
        await page.ClickAsync("[data-testid=binding-row] [data-testid=delete-binding]");
        await ConfirmAsync(page, $"Binding {id} (suggest lookup_source)", "Cannot be undone");
        await page.WaitForFunctionAsync($"() => document.querySelector('[data-testid=message]')?.innerText.includes('binding {id} deleted')", null, new() { Timeout = 5000 });
        Assert.Equal(HttpStatusCode.NotFound, (await server.Http.GetAsync($"api/v1/bindings/{id}")).StatusCode);
    }

    [Fact]
    public async Task The_dashboard_is_usable_at_tablet_width()
    {
        var page = await server.PageAsync(width: 768, height: 1024);
        await server.OpenAsync(page, "");
        await page.WaitForSelectorAsync("[data-testid=pending-count]");
        Assert.True(await page.EvaluateAsync<bool>("() => document.documentElement.scrollWidth <= 768"), "the page scrolls sideways at 768 px");
        // MudHidden picks the navigation for the breakpoint once the browser reports its width: wait for it.
        await page.WaitForSelectorAsync("[data-testid=nav-queue] >> visible=true", new PageWaitForSelectorOptions { Timeout = 10000 });
        Assert.True(await page.IsVisibleAsync("[data-testid=demo-banner]"));

        // A level chip is reachable by keyboard and by a tap: its explanation opens on focus and on a click.
        var (_, execution) = await PostAlertAsync("198.51.100.140", "WS-042");
        var chip = $"[data-testid=approval-card][data-execution='{execution}'] [data-testid=level-focus]";
        await page.WaitForSelectorAsync(chip, new() { Timeout = 10000 });
        var tip = $"{chip} [data-testid=level-tip]";
        Assert.False(await page.IsVisibleAsync(tip));
        await page.FocusAsync(chip);
        Assert.True(await page.IsVisibleAsync(tip));
        Assert.Contains("L1 reversible", await page.InnerTextAsync(tip), StringComparison.Ordinal);
        await page.Locator(chip).BlurAsync();
        Assert.False(await page.IsVisibleAsync(tip));
        await page.ClickAsync(chip); // a tap focuses it
        Assert.True(await page.IsVisibleAsync(tip));
        await server.ShotAsync(page, "11-tablet-768");
    }

    [Fact]
    public async Task The_alerts_list_shows_every_alerts_fate_and_opens_one_in_a_drawer()
    {
        var (ran, _) = await PostAlertAsync("198.51.100.90", "WS-042");
        var quiet = $"quiet-{Guid.NewGuid():N}"[..16];
        using (var none = await server.Http.PostAsync("events", new StringContent(
            "{\"event\":{\"id\":\"" + quiet + "\"},\"host\":{\"name\":\"WS-7\"},\"threat\":{\"technique\":{\"id\":\"T1595\"}}}", Encoding.UTF8, "application/json")))
            Assert.Equal(HttpStatusCode.Accepted, none.StatusCode);
        var page = await server.PageAsync();
        await server.OpenAsync(page, "alerts");
        string Row(string id) => $"[data-testid=alert-row][data-alert='{id}']";
        await page.WaitForSelectorAsync(Row(quiet), new() { Timeout = 10000 });
        await page.WaitForFunctionAsync($"() => document.querySelector(\"{Row(ran)} [data-testid=alert-decision-cell]\")?.innerText.includes('ran')", null, new() { Timeout = 10000 });
        Assert.Contains("no match", await page.InnerTextAsync($"{Row(quiet)} [data-testid=alert-decision-cell]"), StringComparison.Ordinal);
        // "ran" is not "done": the row says where its execution stands (waiting for the block's approval).
        await page.WaitForFunctionAsync($"() => document.querySelector(\"{Row(ran)} [data-testid=alert-execution]\")?.innerText === 'waiting_approval'", null, new() { Timeout = 10000 });
        Assert.Contains("WS-7", await page.InnerTextAsync(Row(quiet)), StringComparison.Ordinal);
        await server.ShotAsync(page, "15-alerts");

        // Searched: only that alert is left of the two.
        await page.Locator("[data-testid=alert-search]").Locator("xpath=descendant-or-self::input").First.FillAsync(quiet);
        await page.WaitForSelectorAsync(Row(ran), new() { State = WaitForSelectorState.Detached, Timeout = 5000 });
        Assert.Equal(1, await page.Locator(Row(quiet)).CountAsync());

        // The alert opens in a drawer, not a page: its key fields first, then selection, bindings and the raw document.
        await page.ClickAsync($"{Row(quiet)} [data-testid=open-alert]");
        await page.WaitForSelectorAsync("[data-testid=alert-fields]", new() { Timeout = 10000 });
        Assert.EndsWith("/alerts", new Uri(page.Url).AbsolutePath, StringComparison.Ordinal);
        var fields = await page.InnerTextAsync("[data-testid=alert-fields]");
        Assert.Contains("host.name", fields, StringComparison.Ordinal);
        Assert.Contains("T1595", fields, StringComparison.Ordinal);
        await page.GetByRole(AriaRole.Tab, new() { Name = "Selection" }).ClickAsync();
        await page.WaitForSelectorAsync("[data-testid=selection-summary]", new() { Timeout = 10000 });
        Assert.Contains("No playbook matched", await page.InnerTextAsync("[data-testid=selection-summary]"), StringComparison.Ordinal);
        await server.ShotAsync(page, "16-alert-drawer");
        await page.ClickAsync("[data-testid=close-drawer]");
        await page.WaitForSelectorAsync("[data-testid=alert-fields]", new() { State = WaitForSelectorState.Hidden, Timeout = 5000 });
    }

    [Fact]
    public async Task An_approval_card_says_what_it_does_shows_the_evidence_and_several_are_approved_only_after_a_preview()
    {
        var page = await server.PageAsync();
        await server.OpenAsync(page, "");
        var ids = new List<(string Ip, string Execution)>();
        foreach (var ip in new[] { "198.51.100.131", "198.51.100.132" })
        {
            var id = $"vet-{Guid.NewGuid():N}"[..16];
            var body = "{\"event\":{\"id\":\"" + id + "\",\"severity\":\"high\"},\"source\":{\"ip\":\"" + ip + "\"},\"threat\":{\"technique\":{\"id\":\"T1078\"}}}";
            var response = await server.Http.PostAsync("events", new StringContent(body, Encoding.UTF8, "application/json"));
            var accepted = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("accepted")[0];
            ids.Add((ip, accepted.GetProperty("executions")[0].GetProperty("execution_id").GetString()!));
        }
        var card = $"[data-testid=approval-card][data-execution='{ids[0].Execution}']";
        await page.WaitForSelectorAsync($"{card} [data-testid=evidence]", new() { Timeout = 15000 });
        // One plain line first; the reputation lookup that ran before it as evidence; the AI text folded away.
        Assert.StartsWith($"Block {ids[0].Ip} on the PAN-OS firewall · undo: unblock_ip · expires in 3 h 59 min", (await page.InnerTextAsync($"{card} [data-testid=decision-line]")).Trim(), StringComparison.Ordinal);
        var evidence = await page.InnerTextAsync($"{card} [data-testid=evidence]");
        Assert.Contains("virustotal.lookup_ip", evidence, StringComparison.Ordinal);
        Assert.Contains("malicious", evidence, StringComparison.Ordinal);
        Assert.Null(await page.GetAttributeAsync($"{card} [data-testid=ai-details]", "open"));
        // PAN-OS's form-encoded command, decoded and indented; the key stays redacted.
        var request = await page.InnerTextAsync($"{card} [data-testid=request]");
        Assert.Contains("cmd =", request, StringComparison.Ordinal);
        Assert.Contains($"<entry ip=\"{ids[0].Ip}\"", request, StringComparison.Ordinal);
        Assert.DoesNotContain("%3C", request, StringComparison.Ordinal);
        await server.ShotAsync(page, "02b-approval-card");

        // "Approve several" lists what it would do before anything happens, narrowed here to this playbook.
        await page.ClickAsync("[data-testid=bulk-review]");
        await page.WaitForSelectorAsync("[data-testid=bulk-preview]");
        await page.ClickAsync("[data-testid=bulk-playbook]");
        await page.ClickAsync(".mud-popover-open .mud-list-item >> text=vet_and_block");
        await page.WaitForFunctionAsync("() => document.querySelector('[data-testid=bulk-summary]')?.innerText.startsWith('2 action(s): 2 × paloalto.block_ip')", null, new() { Timeout = 5000 });
        var items = await page.InnerTextAsync("[data-testid=bulk-items]");
        foreach (var (ip, execution) in ids) Assert.Contains($"Block {ip} on the PAN-OS firewall ({execution})", items, StringComparison.Ordinal);
        Assert.DoesNotContain(ids[0].Ip, (await SimStateAsync()).GetRawText(), StringComparison.Ordinal); // nothing ran while the list was shown
        await server.ShotAsync(page, "02c-bulk-preview");
        await page.ClickAsync("[data-testid=bulk-approve]");
        await page.WaitForFunctionAsync("() => document.querySelector('[data-testid=message]')?.innerText.includes('2 of 2 approval(s) approved')", null, new() { Timeout = 20000 });
        var state = "";
        for (var i = 0; i < 100 && !(state.Contains(ids[0].Ip, StringComparison.Ordinal) && state.Contains(ids[1].Ip, StringComparison.Ordinal)); i++)
        {
            await Task.Delay(100);
            state = (await SimStateAsync()).GetRawText();
        }
        Assert.Contains(ids[1].Ip, state, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Outcomes_are_told_apart_dry_runs_are_marked_and_a_waiting_executions_duration_counts_up()
    {
        var (_, rejected) = await PostAlertAsync("198.51.100.150", "WS-042");
        var answer = "";
        for (var i = 0; i < 100 && !answer.Contains("\"ok\":true", StringComparison.Ordinal); i++) // once the execution has asked for its approval
        {
            if (i > 0) await Task.Delay(100);
            using var reject = await server.Http.PostAsync($"api/v1/executions/{rejected}/reject", new StringContent("{\"comment\":\"not ours\"}", Encoding.UTF8, "application/json"));
            answer = await reject.Content.ReadAsStringAsync();
        }
        Assert.Contains("\"ok\":true", answer, StringComparison.Ordinal);
        var dryId = $"dry-{Guid.NewGuid():N}"[..16];
        using (var dry = await server.Http.PostAsync("events/dry-run", new StringContent(
            "{\"event\":{\"id\":\"" + dryId + "\"},\"source\":{\"ip\":\"198.51.100.151\"},\"threat\":{\"technique\":{\"id\":\"T1071\"}}}", Encoding.UTF8, "application/json")))
            Assert.True(dry.IsSuccessStatusCode, await dry.Content.ReadAsStringAsync());
        var (_, waiting) = await PostAlertAsync("198.51.100.152", "WS-042");

        var page = await server.PageAsync();
        await server.OpenAsync(page, "executions");
        string Row(string id) => $"[data-testid=executions] tr:has(a[href='/executions/{id}'])";
        await page.WaitForFunctionAsync($"() => document.querySelector(\"{Row(rejected)} [data-testid=status]\")?.innerText.includes('rejected')", null, new() { Timeout = 10000 });
        // Rejected is not shown as a failure: its own colour.
        var rejectedClass = await page.GetAttributeAsync($"{Row(rejected)} [data-testid=status]", "class");
        Assert.Contains("mud-chip-color-dark", rejectedClass, StringComparison.Ordinal);
        Assert.DoesNotContain("mud-chip-color-error", rejectedClass, StringComparison.Ordinal);
        // The dry run is marked as one.
        await page.WaitForSelectorAsync("[data-testid=executions] tr:has([data-testid=dry-run])", new() { Timeout = 10000 });
        Assert.Contains(dryId, await page.InnerTextAsync("[data-testid=executions] tr:has([data-testid=dry-run])"), StringComparison.Ordinal);
        // A waiting execution's duration counts up while the page is open.
        var first = await page.InnerTextAsync($"{Row(waiting)} [data-testid=duration]");
        await page.WaitForFunctionAsync($"() => document.querySelector(\"{Row(waiting)} [data-testid=duration]\")?.innerText !== '{first}'", null, new() { Timeout = 5000 });
        await server.ShotAsync(page, "06b-executions-outcomes");
    }

    [Fact]
    public async Task The_queue_announces_new_approvals_groups_duplicates_and_works_from_the_keyboard()
    {
        const string ip = "198.51.100.160";
        var page = await server.PageAsync();
        await server.OpenAsync(page, "");
        await page.WaitForSelectorAsync("[data-testid=pending-count]");
        var (_, first) = await PostAlertAsync(ip, "WS-042");
        var (_, second) = await PostAlertAsync(ip, "WS-042");
        string Card(string id) => $"[data-testid=approval-card][data-execution='{id}']";
        await page.WaitForSelectorAsync(Card(second), new() { Timeout = 10000 });
        await page.WaitForSelectorAsync(Card(first), new() { Timeout = 10000 });
        // Arrivals: highlighted, announced (aria-live) and counted in the tab title; the two blocks of one address are flagged.
        await page.WaitForFunctionAsync("() => document.querySelector('[data-testid=announce]')?.innerText.includes('new approval(s)')", null, new() { Timeout = 5000 });
        Assert.Contains($"Block {ip} on the PAN-OS firewall", await page.InnerTextAsync("[data-testid=announce]"), StringComparison.Ordinal);
        Assert.Equal("polite", await page.GetAttributeAsync("[data-testid=announce]", "aria-live"));
        Assert.Matches(@"^\(\d+\) Approvals", await page.TitleAsync());
        Assert.Contains("rbp-new", await page.GetAttributeAsync($"div.rbp-card-slot:has({Card(first)})", "class"), StringComparison.Ordinal);
        Assert.Contains("Same target as 1 other", await page.InnerTextAsync($"div.rbp-card-slot:has({Card(first)}) [data-testid=duplicates]"), StringComparison.Ordinal);

        // Filtered to the address, then the keyboard: j and k move, r rejects after a confirmation naming the target.
        await page.Locator("[data-testid=queue-filter]").Locator("xpath=descendant-or-self::input").First.FillAsync(ip);
        await page.WaitForFunctionAsync("() => document.querySelectorAll('[data-testid=approval-card]').length === 2", null, new() { Timeout = 5000 });
        await page.ClickAsync("h1");
        await page.Keyboard.PressAsync("j");
        await page.WaitForSelectorAsync("div.rbp-card-slot[data-selected=true]", new() { Timeout = 5000 });
        var selected = await page.GetAttributeAsync("div.rbp-card-slot[data-selected=true] [data-testid=approval-card]", "data-execution");
        await page.Keyboard.PressAsync("j");
        await page.WaitForFunctionAsync($"() => document.querySelector('div.rbp-card-slot[data-selected=true] [data-testid=approval-card]')?.dataset.execution !== '{selected}'", null, new() { Timeout = 5000 });
        await page.Keyboard.PressAsync("k");
        await page.WaitForFunctionAsync($"() => document.querySelector('div.rbp-card-slot[data-selected=true] [data-testid=approval-card]')?.dataset.execution === '{selected}'", null, new() { Timeout = 5000 });
        await server.ShotAsync(page, "02d-queue-keyboard");
        // Letters typed into a field are text, not shortcuts: nothing asks to approve or reject.
        var comment = page.Locator("div.rbp-card-slot[data-selected=true] input").First;
        await comment.PressSequentiallyAsync("ar");
        await page.WaitForTimeoutAsync(300);
        Assert.Equal(0, await page.Locator("[data-testid=confirm-dialog]").CountAsync());
        Assert.Equal("ar", await comment.InputValueAsync());
        await page.ClickAsync("h1");
        await page.Keyboard.PressAsync("r");
        await ConfirmAsync(page, $"Block {ip} on the PAN-OS firewall ({selected}", "rejection ends the step");
        await page.WaitForSelectorAsync(Card(selected!), new() { State = WaitForSelectorState.Detached, Timeout = 10000 });
        var other = selected == first ? second : first;

        // Approve is also on the execution's page, and tells the step's result.
        await server.OpenAsync(page, $"executions/{other}");
        await page.ClickAsync("tr#block [data-testid=approve]");
        await page.WaitForFunctionAsync("() => document.querySelector('[data-testid=message]')?.innerText.includes('succeeded')", null, new() { Timeout = 20000 });
    }

    [Fact]
    public async Task A_suggestion_shows_a_toast_on_the_open_dashboard()
    {
        using var create = await server.Http.PostAsync("api/v1/bindings", new StringContent(
            """{"playbook_id":"lookup_source","mode":"suggest","match":{"rule_ids":["toast-rule"]}}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Created, create.StatusCode);
        var binding = JsonDocument.Parse(await create.Content.ReadAsStringAsync()).RootElement.GetProperty("binding").GetProperty("id").GetInt32();
        try
        {
            var page = await server.PageAsync();
            await server.OpenAsync(page, "executions");
            var id = $"toast-{Guid.NewGuid():N}"[..18];
            using (var posted = await server.Http.PostAsync("events", new StringContent(
                "{\"event\":{\"id\":\"" + id + "\"},\"rule\":{\"id\":\"toast-rule\"},\"source\":{\"ip\":\"198.51.100.170\"},\"threat\":{\"technique\":{\"id\":\"T1071\"}}}",
                Encoding.UTF8, "application/json")))
                Assert.Equal(HttpStatusCode.Accepted, posted.StatusCode);
            await page.WaitForSelectorAsync($".mud-snackbar >> text=Suggested: run lookup_source for alert {id}", new() { Timeout = 10000 });
            await server.ShotAsync(page, "17-suggestion-toast");
        }
        finally
        {
            await server.Http.DeleteAsync($"api/v1/bindings/{binding}");
        }
    }

    [Fact]
    public async Task The_binding_editor_warns_before_saving_and_shows_every_problem_at_once()
    {
        var page = await server.PageAsync();
        await server.OpenAsync(page, "bindings");
        await page.WaitForSelectorAsync("[data-testid=binding-editor]");
        await page.ClickAsync("[data-testid=form-playbook]");
        await page.ClickAsync(".mud-popover-open .mud-list-item >> text=vet_and_block");
        // vet_and_block has no binding: a first one ends its implicit auto_run; and with nothing to match on it takes every alert.
        await page.WaitForFunctionAsync("() => [...document.querySelectorAll('[data-testid=binding-warning]')].some(w => w.innerText.includes('implicit auto_run ends'))", null, new() { Timeout = 5000 });
        var warnings = string.Join("\n", await page.Locator("[data-testid=binding-warning]").AllInnerTextsAsync());
        Assert.Contains("takes every alert that arrives (global)", warnings, StringComparison.Ordinal);

        // Two fields the API refuses: both problems are listed at once, each with its path.
        var key = page.Locator("xpath=//label[contains(., 'Per key')]/ancestor::div[contains(@class,'mud-input-control')]//input").First;
        await key.FillAsync("not a field!");
        var zone = page.Locator("xpath=//label[contains(., 'Quota time zone')]/ancestor::div[contains(@class,'mud-input-control')]//input").First;
        await zone.FillAsync("Mars/Olympus");
        await zone.PressAsync("Tab");
        await page.ClickAsync("[data-testid=save-binding]");
        await page.WaitForSelectorAsync("[data-testid=binding-errors]", new() { Timeout = 5000 });
        var errors = await page.InnerTextAsync("[data-testid=binding-errors]");
        Assert.Contains("guardrails.key", errors, StringComparison.Ordinal);
        Assert.Contains("guardrails.time_zone", errors, StringComparison.Ordinal);
        Assert.Contains("2 problem(s)", errors, StringComparison.Ordinal);
        await server.ShotAsync(page, "10b-binding-errors");
        Assert.DoesNotContain("vet_and_block", await server.Http.GetStringAsync("api/v1/bindings"), StringComparison.Ordinal); // nothing saved
    }

    [Fact]
    public async Task The_queue_as_a_compact_list_opens_an_approval_in_a_side_drawer_and_decides_it_there()
    {
        const string ip = "198.51.100.180";
        var (_, execution) = await PostAlertAsync(ip, "WS-042");
        foreach (var width in new[] { 1280, 768 })
        {
            var page = await server.PageAsync(width, width == 768 ? 1024 : 900);
            await server.OpenAsync(page, "");
            await page.WaitForSelectorAsync($"[data-testid=approval-card][data-execution='{execution}']", new() { Timeout = 10000 });
            await page.ClickAsync("[data-testid=view-list]");
            var row = $"[data-testid=queue-row][data-execution='{execution}']";
            await page.WaitForSelectorAsync(row, new() { Timeout = 5000 });
            Assert.Contains($"Block {ip} on the PAN-OS firewall", await page.InnerTextAsync(row), StringComparison.Ordinal);
            Assert.Equal(0, await page.Locator("[data-testid=approval-card]").CountAsync()); // a list, not cards
            Assert.True(await page.EvaluateAsync<bool>("() => document.documentElement.scrollWidth <= window.innerWidth"), $"the list scrolls sideways at {width} px");
            await page.ClickAsync($"{row} [data-testid=open-approval]");
            var card = $"[data-testid=approval-drawer] [data-testid=approval-card][data-execution='{execution}']";
            await page.WaitForSelectorAsync(card, new() { Timeout = 5000 });
            Assert.EndsWith("/", new Uri(page.Url).AbsolutePath, StringComparison.Ordinal); // a drawer, not another page
            // Once it has slid in, the whole drawer is within the viewport.
            await page.WaitForFunctionAsync("() => { const r = document.querySelector('[data-testid=approval-drawer]').getBoundingClientRect(); return r.left >= 0 && r.right <= window.innerWidth + 1; }",
                null, new() { Timeout = 5000 });
            await page.WaitForTimeoutAsync(300); // the slide's last frames
            await server.ShotAsync(page, $"02e-queue-list-drawer-{width}");
            if (width == 768)
            {
                await page.ClickAsync($"{card} [data-testid=approve]");
                await page.WaitForFunctionAsync("() => document.querySelector('[data-testid=message]')?.innerText.includes('succeeded')", null, new() { Timeout = 20000 });
            }
            await page.Context.CloseAsync();
        }
    }
}
