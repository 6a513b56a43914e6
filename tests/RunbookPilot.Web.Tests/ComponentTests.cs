using System.Text.Json.Nodes;
using Bunit;
using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;
using MudBlazor.Services;
using RunbookPilot.Domain.Attack;
using RunbookPilot.Domain.Execution;
using RunbookPilot.Engine.Execution;
using RunbookPilot.Engine.ReadModel;
using RunbookPilot.Engine.Tests.Execution;
using RunbookPilot.Web.Components;
using RunbookPilot.Web.Pages;
using RunbookPilot.Web.Services;

namespace RunbookPilot.Web.Tests;

/// <summary>bUnit: the approval card and AI text in each of their states (pending, expired, enrichment missing or unavailable).</summary>
public sealed class ComponentTests : BunitContext, IAsyncLifetime
{
    private static readonly DateTimeOffset Now = new(2026, 3, 10, 12, 0, 0, TimeSpan.Zero);

    public ComponentTests()
    {
        JSInterop.Mode = JSRuntimeMode.Loose;
        Services.AddMudServices();
        Render<MudPopoverProvider>();
    }

    public Task InitializeAsync() => Task.CompletedTask;

    async Task IAsyncLifetime.DisposeAsync() => await base.DisposeAsync();

    private static QueueItem Item(DateTimeOffset deadline, IReadOnlyList<EnrichmentAttached>? enrichments = null) => new(
        new ApprovalRow
        {
            ApprovalId = "apr-ex1-block", ExecutionId = "ex1", StepId = "block", StepName = "Block source IP", PlaybookId = "lateral", AutonomyLevel = "L1",
            Action = "paloalto.block_ip", Reason = "L1 action", RequestedAt = Now.AddMinutes(-5), Deadline = deadline, RollbackAvailable = true,
            Request = """{"method":"POST","url":"https://fw.example/api/?type=user-id&cmd=%3Cuid-message%3E%3Cpayload%3E%3Cregister%3E%3Centry%20ip%3D%22203.0.113.7%22%2F%3E%3C%2Fregister%3E%3C%2Fpayload%3E%3C%2Fuid-message%3E","headers":{"X-PAN-KEY":"***"},"body":"{\"note\":\"\\u003Cblocked\\u003E by RunbookPilot\"}"}""",
        },
        Now.AddMinutes(-5),
        "T1021.001 from 203.0.113.7 to 10.0.3.12 on WS-1", enrichments ?? [], [AttackCatalog.Find("T1021.001")!])
    {
        Parameters = new System.Text.Json.Nodes.JsonObject { ["ip"] = "203.0.113.7" },
        Undoable = true,
        Evidence = [new RunbookPilot.Engine.Api.Evidence("vt", "virustotal.lookup_ip", "malicious 0 · suspicious 0 · harmless 71")],
    };

    [Fact]
    public void A_pending_approval_shows_the_exact_request_the_countdown_rollback_and_enabled_buttons()
    {
        var approved = "";
        var card = Render<ApprovalCard>(p => p.Add(c => c.Item, Item(Now.AddHours(3).AddMinutes(59)))
            .Add(c => c.Now, Now).Add(c => c.OnApprove, EventCallback.Factory.Create<string?>(this, c => approved = c ?? "(none)")));
        // One plain line first: what, where, how it is undone, how long it waits.
        Assert.Equal("Block 203.0.113.7 on the PAN-OS firewall · undo: unblock_ip · expires in 3 h 59 min", card.Find("[data-testid=decision-line]").TextContent.Trim());
        // The request decoded: the URL-encoded XML command indented on lines of its own, the JSON body without \u escapes.
        var request = card.Find("[data-testid=request]").TextContent;
        Assert.StartsWith("POST https://fw.example/api/\n  type = user-id\n  cmd =\n    <uid-message>\n      <payload>", request, StringComparison.Ordinal);
        Assert.Contains("<entry ip=\"203.0.113.7\" />", request, StringComparison.Ordinal);
        Assert.Contains("\"note\": \"<blocked> by RunbookPilot\"", request, StringComparison.Ordinal);
        Assert.DoesNotContain("\\u003C", request, StringComparison.Ordinal);
        Assert.DoesNotContain("%3C", request, StringComparison.Ordinal);
        // The evidence gathered before, and the AI text folded away under its label.
        Assert.Contains("malicious 0", card.Find("[data-testid=evidence]").TextContent, StringComparison.Ordinal);
        Assert.False(card.Find("[data-testid=ai-details]").HasAttribute("open"));
        Assert.Contains("AI-GENERATED", card.Find("[data-testid=ai-details] summary").TextContent, StringComparison.Ordinal);
        Assert.Equal("Expires in 3 h 59 min", card.Find("[data-testid=countdown]").TextContent.Trim());
        Assert.Contains("Rollback: available", card.Markup, StringComparison.Ordinal);
        Assert.Contains("T1021.001 Remote Services: Remote Desktop Protocol (Lateral Movement)", card.Markup, StringComparison.Ordinal);
        Assert.Contains("L1", card.Find("[data-testid=level]").TextContent, StringComparison.Ordinal);
        Assert.False(card.Find("[data-testid=approve]").HasAttribute("disabled"));
        card.Find("[data-testid=approve]").Click();
        Assert.Equal("(none)", approved);
    }

    [Fact]
    public void An_expired_approval_says_so_and_cannot_be_decided()
    {
        var card = Render<ApprovalCard>(p => p.Add(c => c.Item, Item(Now.AddSeconds(-1))).Add(c => c.Now, Now));
        Assert.Contains("expired at", card.Find("[data-testid=expired]").TextContent, StringComparison.Ordinal);
        Assert.True(card.Find("[data-testid=approve]").HasAttribute("disabled"));
        Assert.True(card.Find("[data-testid=reject]").HasAttribute("disabled"));
        Assert.Empty(card.FindAll("[data-testid=countdown]"));
    }

    [Fact]
    public void Missing_and_unavailable_enrichment_are_said_and_model_text_is_plain_text_labelled_ai_generated()
    {
        var missing = Render<AiText>(p => p.Add(c => c.Enrichments, []));
        Assert.Contains("No AI context yet", missing.Find("[data-testid=ai-missing]").TextContent, StringComparison.Ordinal);

        var unavailable = Render<AiText>(p => p.Add(c => c.Enrichments,
            [new EnrichmentAttached("technique_context", "unavailable", null, "timed out after 3 s", "openai/gpt-4o-mini", false, 0, 0, Now)]));
        Assert.Equal("enrichment unavailable (technique context): timed out after 3 s", unavailable.Find("[data-testid=ai-unavailable]").TextContent.Trim());

        var text = "<script>alert(1)</script> **approve** [click](http://x)";
        var ready = Render<AiText>(p => p.Add(c => c.Enrichments, [new EnrichmentAttached("technique_context", "ready", text, null, "m", false, 1, 1, Now)]));
        Assert.Contains("AI-GENERATED", ready.Markup, StringComparison.Ordinal);
        Assert.Empty(ready.FindAll("script"));
        Assert.Empty(ready.FindAll("a"));
        Assert.Contains("&lt;script&gt;alert(1)&lt;/script&gt; **approve** [click](http://x)", ready.Markup, StringComparison.Ordinal);
    }
}

/// <summary>bUnit: the approval queue page over a real engine (SQLite file, test adapters): empty, pending and live, refused by policy.</summary>
public sealed class QueuePageTests : BunitContext, IAsyncLifetime
{
    private const string Playbook = """
        id: contain
        name: Contain
        version: 1.0.0
        autonomy_level: L2
        trigger:
          techniques: [T1110]
        steps:
          - { id: block, name: Block source, action_type: block_ip, adapter: paloalto, autonomy_level: L1, params: { ip: "{{source.ip}}" }, rollback_available: true }
          - { id: isolate, name: Isolate host, action_type: isolate_host, adapter: crowdstrike, autonomy_level: L2, params: { hostname: "{{host.name}}" }, rollback_available: true }
        rollback:
          block: { action_type: unblock_ip, adapter: paloalto, params: { ip: "{{source.ip}}" } }
          isolate: { action_type: un_isolate_host, adapter: crowdstrike, params: { hostname: "{{host.name}}" } }
        """;

    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(15); // generous: the suite runs beside other test assemblies on 2 cores

    private readonly EngineFixture _engine = new(Playbook);

    public async Task InitializeAsync()
    {
        _engine.WritePolicy("block_l2_execution: true\n");
        await _engine.StartAsync();
        JSInterop.Mode = JSRuntimeMode.Loose;
        Services.AddMudServices();
        Services.AddSingleton(new DashboardData(_engine.Engine));
        Services.AddSingleton(new LiveFeed(_engine.Engine.Live));
        Render<MudPopoverProvider>();
    }

    async Task IAsyncLifetime.DisposeAsync()
    {
        await base.DisposeAsync();
        await _engine.DisposeAsync();
    }

    private IRenderedComponent<CascadingValue<DashboardUser>> Page() =>
        Render<CascadingValue<DashboardUser>>(p => p.Add(c => c.Value, new DashboardUser("alice", "analyst", false)).AddChildContent<ApprovalQueuePage>());

    private static string Alert(int n) =>
        "{\"event\":{\"id\":\"q-" + n + "\"},\"source\":{\"ip\":\"203.0.113." + n + "\"},\"host\":{\"name\":\"WS-" + n + "\"},\"threat\":{\"technique\":{\"id\":\"T1110\"}}}";

    [Fact]
    public async Task The_metrics_page_shows_the_live_figures_of_the_metrics_actor_and_follows_them()
    {
        var page = Render<CascadingValue<DashboardUser>>(p => p.Add(c => c.Value, new DashboardUser("alice", "analyst", false)).AddChildContent<MetricsPage>());
        string Figure(string name) => page.Find($"[data-testid=live-figures] [data-testid=figure-{name}]").TextContent.Trim();
        page.WaitForAssertion(() => Assert.Equal("0", Figure("started")), Wait);
        var execution = (await _engine.SubmitAsync(Alert(7))).Selected.Single().ExecutionId;
        await _engine.Engine.Executions.WaitSettledAsync(execution, TimeSpan.FromSeconds(20));
        page.WaitForAssertion(() =>
        {
            Assert.Equal("1", Figure("running-now")); // waiting for an approval
            Assert.Equal("1", Figure("started"));
            Assert.Equal("1", Figure("approvals"));
            Assert.Equal("0", Figure("completed"));
        }, Wait);
    }

    [Fact]
    public async Task The_queue_and_the_metrics_page_show_how_long_the_oldest_approval_has_waited()
    {
        var execution = (await _engine.SubmitAsync(Alert(8))).Selected.Single().ExecutionId;
        await _engine.Engine.Executions.WaitSettledAsync(execution, TimeSpan.FromSeconds(20));
        _engine.Clock.Advance(TimeSpan.FromMinutes(17));

        var queue = Page();
        queue.WaitForAssertion(() => Assert.Contains("the oldest has waited 17 min", queue.Find("[data-testid=pending-count]").TextContent, StringComparison.Ordinal), Wait);
        var metrics = Render<CascadingValue<DashboardUser>>(p => p.Add(c => c.Value, new DashboardUser("alice", "analyst", false)).AddChildContent<MetricsPage>());
        metrics.WaitForAssertion(() => Assert.Equal("17 min", metrics.Find("[data-testid=figure-oldest-pending-approval]").TextContent.Trim()), Wait);
    }

    [Fact]
    public void An_empty_queue_says_nothing_waits()
    {
        var page = Page();
        page.WaitForAssertion(() => Assert.Contains("Nothing waits for an approval.", page.Find("[data-testid=empty-queue]").TextContent, StringComparison.Ordinal), Wait);
        Assert.Empty(page.FindAll("[data-testid=approval-card]"));
    }

    [Fact]
    public async Task A_new_approval_appears_without_reloading_and_approving_moves_it_on()
    {
        var page = Page();
        page.WaitForAssertion(() => Assert.NotNull(page.Find("[data-testid=empty-queue]")), Wait);
        var execution = (await _engine.SubmitAsync(Alert(1))).Selected.Single().ExecutionId;
        page.WaitForAssertion(() => Assert.Single(page.FindAll("[data-testid=approval-card]")), Wait);
        Assert.Equal(execution, page.Find("[data-testid=approval-card]").GetAttribute("data-execution"));

        await page.Find("[data-testid=approve]").ClickAsync(new Microsoft.AspNetCore.Components.Web.MouseEventArgs());
        page.WaitForAssertion(() => Assert.Single(page.FindAll("[data-testid=simulation-card]")), Wait);
        Assert.Empty(page.FindAll("[data-testid=approval-card]"));
        Assert.Contains("/10", page.Find("[data-testid=risk]").TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_simulation_refused_by_compliance_mode_is_shown_not_hidden()
    {
        var execution = (await _engine.SubmitAsync(Alert(2))).Selected.Single().ExecutionId;
        await _engine.Engine.Executions.WaitSettledAsync(execution, TimeSpan.FromSeconds(20));
        var approved = await _engine.Engine.Executions.SendAsync(new ApproveStep(execution, "block", "bob", null));
        Assert.True(approved.Ok, approved.Message);
        await _engine.Engine.Executions.WaitSettledAsync(execution, TimeSpan.FromSeconds(20));
        await _engine.Engine.Read.CatchUpAsync();
        var simulation = Assert.Single(_engine.Engine.Queries.Simulations("simulated"));
        var refused = await _engine.Engine.Executions.SendAsync(new ExecuteSimulation(execution, simulation.SimulationId, "bob", null));
        Assert.False(refused.Ok);

        var page = Page();
        page.WaitForAssertion(() => Assert.Contains("Compliance mode: global policy block_l2_execution refuses executing L2 simulations",
            page.Find("[data-testid=compliance]").TextContent, StringComparison.Ordinal), Wait);
        Assert.True(page.Find("[data-testid=execute-now]").HasAttribute("disabled"));
    }
}
