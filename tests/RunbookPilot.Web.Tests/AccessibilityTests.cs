using System.Net;
using Deque.AxeCore.Playwright;
using Microsoft.Playwright;
using Xunit.Abstractions;

namespace RunbookPilot.Web.Tests;

/// <summary>
/// Every page of the dashboard at 1280 × 900 and at 768 × 1024 in Chromium: axe-core finds no serious or critical
/// violation (WCAG 2.1 A and AA rules), no element's right edge passes the viewport, there is one <c>main</c> landmark
/// and one h1, the navigation marks the current page, a focused control shows a ring, and the favicon is served.
/// A screenshot of each page at each width goes to artifacts/screenshots/page-*.png.
/// </summary>
[Collection("dashboard")]
public sealed class AccessibilityTests(DashboardServer server, ITestOutputHelper output)
{
    private static readonly (int Width, int Height)[] Sizes = [(1280, 900), (768, 1024)];

    [Fact]
    public async Task Every_page_at_both_widths_has_no_serious_accessibility_violation_and_no_horizontal_overflow()
    {
        var (alertId, execution) = await server.PostAlertAsync("198.51.100.61", "WS-042");
        var pages = new (string Path, string Name, string Nav)[]
        {
            ("", "approvals", "/"), ("executions", "executions", "/executions"), ($"executions/{execution}", "execution", "/executions"),
            ("alerts", "alerts", "/alerts"), ($"alerts/{alertId}", "alert", "/alerts"), ("insights", "metrics", "/insights"),
            ("playbooks", "playbooks", "/playbooks"), ("playbooks/contain_source", "playbook", "/playbooks"), ("bindings", "bindings", "/bindings"),
        };
        var problems = new List<string>();
        foreach (var (width, height) in Sizes)
        {
            var page = await server.PageAsync(width, height);
            foreach (var (path, name, nav) in pages)
            {
                await server.OpenAsync(page, path);
                await page.WaitForLoadStateAsync(LoadState.NetworkIdle);
                await page.WaitForTimeoutAsync(300); // MudBlazor's breakpoint service settles the layout after the circuit connects
                var where = $"{name} at {width} px";

                var axe = await page.RunAxe(new Deque.AxeCore.Commons.AxeRunOptions
                {
                    RunOnly = new Deque.AxeCore.Commons.RunOnlyOptions { Type = "tag", Values = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"] },
                });
                foreach (var v in axe.Violations.Where(v => v.Impact is "serious" or "critical"))
                    problems.Add($"{where}: axe {v.Impact} {v.Id} ({v.Help}) at {string.Join(" | ", v.Nodes.Take(3).Select(n => n.Target.ToString()))}");

                var overflow = await page.EvaluateAsync<string[]>("""
                    () => [...document.querySelectorAll('body *')].filter(e => {
                        const r = e.getBoundingClientRect(), s = getComputedStyle(e);
                        return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && r.right > window.innerWidth + 0.5;
                    }).slice(0, 5).map(e => e.tagName.toLowerCase() + (e.className && typeof e.className === 'string' ? '.' + e.className.trim().split(/\s+/).slice(0, 2).join('.') : '')
                        + ' right=' + Math.round(e.getBoundingClientRect().right))
                    """);
                if (overflow.Length > 0) problems.Add($"{where}: elements pass the viewport's right edge: {string.Join(", ", overflow)}");

                var landmarks = await page.EvaluateAsync<int[]>("() => [document.querySelectorAll('main').length, document.querySelectorAll('h1').length]");
                if (landmarks[0] != 1 || landmarks[1] != 1) problems.Add($"{where}: {landmarks[0]} main landmark(s) and {landmarks[1]} h1(s), not one of each");
                var current = await page.EvaluateAsync<string?>("() => document.querySelector('nav [aria-current=page]')?.getAttribute('href') ?? null");
                if (current != nav) problems.Add($"{where}: the navigation marks {current ?? "no page"} as current, not {nav}");
                await server.ShotAsync(page, $"page-{name}-{width}");
            }

            // A focused control shows a ring of at least 2 px that contrasts with the bar it sits on.
            await server.OpenAsync(page, "");
            var link = page.Locator("nav a[href='/executions'] >> visible=true");
            var ring = "no visible navigation link";
            // MudHidden places the navigation once the browser has reported its width.
            await page.WaitForSelectorAsync("nav a[href='/executions'] >> visible=true", new PageWaitForSelectorOptions { Timeout = 10000 });
            if (await link.CountAsync() > 0)
            {
                await link.First.FocusAsync();
                await page.Keyboard.PressAsync("Shift+Tab"); // a keyboard user's focus (:focus-visible), back onto the link
                await page.Keyboard.PressAsync("Tab");
                ring = await page.EvaluateAsync<string>("() => { const s = getComputedStyle(document.activeElement); return s.outlineStyle + ' ' + s.outlineWidth; }");
            }
            if (!ring.StartsWith("solid", StringComparison.Ordinal) || !ring.EndsWith("px", StringComparison.Ordinal) || double.Parse(ring.Split(' ')[1].Replace("px", "", StringComparison.Ordinal), System.Globalization.CultureInfo.InvariantCulture) < 2)
                problems.Add($"at {width} px the focused navigation link's outline is '{ring}', not a solid ring of 2 px or more");
            await page.Context.CloseAsync();
        }
        foreach (var p in problems) output.WriteLine(p);
        Assert.Empty(problems);

        using var favicon = await server.Http.GetAsync("_content/RunbookPilot.Web/favicon.svg");
        Assert.Equal(HttpStatusCode.OK, favicon.StatusCode);
        Assert.Equal("image/svg+xml", favicon.Content.Headers.ContentType?.MediaType);
    }
}
