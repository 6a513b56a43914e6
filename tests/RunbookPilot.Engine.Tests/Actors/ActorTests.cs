using System.Text.Json.Nodes;
using Akka.Actor;
using Akka.TestKit;
using Akka.TestKit.Xunit2;
using Microsoft.Extensions.Time.Testing;
using RunbookPilot.Domain.Adapters;
using RunbookPilot.Domain.Alerts;
using RunbookPilot.Domain.Bindings;
using RunbookPilot.Domain.Execution;
using RunbookPilot.Domain.Intake;
using RunbookPilot.Domain.Library;
using RunbookPilot.Domain.Playbooks;
using RunbookPilot.Domain.Policy;
using RunbookPilot.Engine.Approvals;
using RunbookPilot.Engine.Configuration;
using RunbookPilot.Engine.Execution;
using RunbookPilot.Engine.Ingestion;
using RunbookPilot.Engine.ReadModel;
using RunbookPilot.Engine.Tests.Execution;

namespace RunbookPilot.Engine.Tests.Actors;

/// <summary>Shared pieces of the actor-level tests: a playbook with an L0, an L1 and an L2 step, and the runtime around test adapters.</summary>
internal static class ActorFixtures
{
    public const string Yaml = """
        id: lateral
        name: Lateral
        version: 1.0.0
        autonomy_level: L2
        trigger: { techniques: [T1021] }
        steps:
          - { id: vt, name: VT, action_type: lookup_ip, adapter: virustotal, autonomy_level: L0, params: { ip: "{{source.ip}}" } }
          - { id: block, name: Block, action_type: block_ip, adapter: paloalto, autonomy_level: L1, rollback_available: true, params: { ip: "{{source.ip}}" } }
          - { id: isolate, name: Isolate, action_type: isolate_host, adapter: crowdstrike, autonomy_level: L2, rollback_available: true, params: { hostname: "{{host.name}}" } }
        rollback:
          block: { action_type: unblock_ip, adapter: paloalto, params: { ip: "{{source.ip}}" } }
          isolate: { action_type: un_isolate_host, adapter: crowdstrike, params: { hostname: "{{host.name}}" } }
        """;

    public static Playbook Playbook { get; } = PlaybookLoader.Parse(Yaml, "lateral.yaml").Value!;

    public static JsonObject Alert(string id) => new()
    {
        ["event"] = new JsonObject { ["id"] = id },
        ["source"] = new JsonObject { ["ip"] = "203.0.113.5" },
        ["host"] = new JsonObject { ["name"] = "WS-7" },
        ["threat"] = new JsonObject { ["technique"] = new JsonObject { ["id"] = "T1021.001" } },
    };

    public static Dictionary<string, TestAdapter> Adapters() =>
        AdapterCatalog.BuiltIn.Adapters.ToDictionary(a => a.Name, a => TestAdapter.For(a.Name), StringComparer.Ordinal);

    public static ExecutionRuntime Runtime(IEnumerable<TestAdapter> adapters, TimeProvider time, GlobalPolicy? policy = null) =>
        new(new AdapterRegistry(adapters), () => policy ?? GlobalPolicy.Default, time, new ExecutionDefaults())
        {
            RunnerBackoff = (TimeSpan.FromMilliseconds(1), TimeSpan.FromMilliseconds(5)), // crashes are restarted at once in tests
        };

    /// <summary>The effect ledger the step runners of <paramref name="system"/> ask around reversible calls (they fail closed without one).</summary>
    public static void StartLedger(ActorSystem system, TimeProvider time) =>
        Akka.Hosting.ActorRegistry.For(system).Register<Engine.Effects.EffectLedger>(system.ActorOf(Engine.Effects.EffectLedgerActor.Props(time), "effect-ledger"));
}

/// <summary>The execution actor through the TestKit: no shard region, no host, the in-memory journal.</summary>
public sealed class ExecutionActorTests : TestKit
{
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 2, 10, 15, 30, 0, TimeSpan.Zero));

    public ExecutionActorTests() => ActorFixtures.StartLedger(Sys, _clock);

    [Fact]
    public async Task Runs_the_read_only_step_then_waits_for_the_L1_approval_and_publishes_each_decision()
    {
        var adapters = ActorFixtures.Adapters();
        var updates = CreateTestProbe();
        Sys.EventStream.Subscribe(updates.Ref, typeof(ExecutionUpdated));
        var execution = Sys.ActorOf(ExecutionActor.Props("ex-1", ActorFixtures.Runtime(adapters.Values, _clock), sharded: false));

        execution.Tell(new StartExecution("ex-1", "a1", ActorFixtures.Alert("a1"), ActorFixtures.Playbook, "test"));
        Assert.True(ExpectMsg<CommandResult>().Ok);
        var waiting = updates.FishForMessage<ExecutionUpdated>(u => u.Events.OfType<ApprovalRequested>().Any(), TimeSpan.FromSeconds(10));

        Assert.Equal("waiting_approval", waiting.Status);
        Assert.True(waiting.Settled);
        Assert.Equal("block", waiting.State!.CurrentStep?.Id);
        Assert.Single(adapters["virustotal"].Calls);
        Assert.Empty(adapters["paloalto"].Calls); // the L1 step waits for a person

        execution.Tell(new GetExecution("ex-1"));
        var snapshot = ExpectMsg<ExecutionSnapshot>();
        Assert.Equal(StepStatus.Succeeded, snapshot.State.Step("vt").Status);
        Assert.Equal(StepStatus.WaitingApproval, snapshot.State.Step("block").Status);
        await Task.CompletedTask;
    }

    [Fact]
    public void A_crashing_step_runner_is_restarted_under_backoff_and_its_attempt_repeated_not_counted()
    {
        var adapters = ActorFixtures.Adapters();
        adapters["virustotal"].ThenCrash();
        var updates = CreateTestProbe();
        Sys.EventStream.Subscribe(updates.Ref, typeof(ExecutionUpdated));
        var execution = Sys.ActorOf(ExecutionActor.Props("ex-2", ActorFixtures.Runtime(adapters.Values, _clock), sharded: false));

        execution.Tell(new StartExecution("ex-2", "a2", ActorFixtures.Alert("a2"), ActorFixtures.Playbook, "test"));
        ExpectMsg<CommandResult>();
        var done = updates.FishForMessage<ExecutionUpdated>(u => u.Events.OfType<StepSucceeded>().Any(s => s.StepId == "vt"), TimeSpan.FromSeconds(10));

        Assert.Equal(1, done.State!.Step("vt").Attempts); // the crash was not a failed attempt: the supervisor repeated it
        Assert.Equal(2, adapters["virustotal"].Calls.Count);
    }

    [Fact]
    public void A_step_runner_that_keeps_crashing_is_given_up_and_the_attempt_recorded_as_failed()
    {
        var adapters = ActorFixtures.Adapters();
        for (var i = 0; i < 10; i++) adapters["virustotal"].ThenCrash();
        var updates = CreateTestProbe();
        Sys.EventStream.Subscribe(updates.Ref, typeof(ExecutionUpdated));
        var execution = Sys.ActorOf(ExecutionActor.Props("ex-3", ActorFixtures.Runtime(adapters.Values, _clock), sharded: false));

        execution.Tell(new StartExecution("ex-3", "a3", ActorFixtures.Alert("a3"), ActorFixtures.Playbook, "test"));
        ExpectMsg<CommandResult>();
        var failed = updates.FishForMessage<ExecutionUpdated>(u => u.Events.OfType<StepAttemptFailed>().Any(), TimeSpan.FromSeconds(10));

        Assert.Contains("step runner crashed repeatedly", failed.Events.OfType<StepAttemptFailed>().Single().Error, StringComparison.Ordinal);
        Assert.Equal(4, adapters["virustotal"].Calls.Count); // the first run and three restarts
    }
}

/// <summary>The alert intake through the TestKit: a probe stands in for the execution region.</summary>
public sealed class AlertIntakeActorTests : TestKit, IDisposable
{
    private readonly TempDir _dir = new();
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 2, 10, 15, 30, 0, TimeSpan.Zero));
    private readonly PlaybookCatalogSnapshot _catalog;

    public AlertIntakeActorTests()
    {
        _dir.Write("playbooks/lateral.yaml", ActorFixtures.Yaml);
        var library = PlaybookLibrary.Load(new RunbookPilotOptions { PlaybooksFolder = Path.Combine(_dir.Path, "playbooks") }.Library, AdapterCatalog.BuiltIn);
        _catalog = PlaybookCatalogSnapshot.From(library);
    }

    private IActorRef Intake(IActorRef executions) => Sys.ActorOf(AlertIntakeActor.Props(() => _catalog, executions, _clock,
        new IntakeSettings(true, new Metrics.BindingMetrics(Prometheus.Metrics.WithCustomRegistry(Prometheus.Metrics.NewCustomRegistry())))));

    private static Alert Alert(string id) => AlertNormalizers.Default.Normalize(ActorFixtures.Alert(id));

    [Fact]
    public void Journals_selects_and_starts_one_execution_and_a_repeat_is_answered_with_the_first_submission()
    {
        var executions = CreateTestProbe();
        var intake = Intake(executions.Ref);

        intake.Tell(new SubmitAlert(Alert("a1"), "test"));
        var accepted = ExpectMsg<AlertAccepted>(TimeSpan.FromSeconds(10));
        var start = executions.FishForMessage<StartExecution>(_ => true, TimeSpan.FromSeconds(10));
        executions.Reply(new CommandResult(true, "started", "started"));

        Assert.False(accepted.Duplicate);
        Assert.Equal("lateral", Assert.Single(accepted.Selected).PlaybookId);
        Assert.Equal(accepted.Selected[0].ExecutionId, start.ExecutionId);

        intake.Tell(new SubmitAlert(Alert("a1"), "webhook retry"));
        var repeat = ExpectMsg<AlertAccepted>();
        Assert.True(repeat.Duplicate);
        Assert.Equal(start.ExecutionId, Assert.Single(repeat.Selected).ExecutionId);
        executions.ExpectNoMsg(TimeSpan.FromMilliseconds(300)); // no second execution
        intake.Tell(GetBacklog.Instance);
        Assert.Equal(0, ExpectMsg<Backlog>().AlertsWaitingForExecutions);
    }

    [Fact]
    public void An_execution_that_does_not_confirm_its_start_keeps_the_alert_in_the_backlog()
    {
        var executions = CreateTestProbe();
        var intake = Intake(executions.Ref);

        intake.Tell(new SubmitAlert(Alert("a2"), "test"));
        ExpectMsg<AlertAccepted>(TimeSpan.FromSeconds(10));
        executions.FishForMessage<StartExecution>(_ => true, TimeSpan.FromSeconds(10)); // never answered

        intake.Tell(GetBacklog.Instance);
        Assert.Equal(1, ExpectMsg<Backlog>().AlertsWaitingForExecutions);
    }

    [Fact]
    public void A_binding_that_does_not_validate_is_refused_with_its_field_and_nothing_changes()
    {
        var intake = Intake(CreateTestProbe().Ref);

        intake.Tell(new SaveBinding(new BindingSpec { PlaybookId = "no-such-playbook", Mode = BindingMode.AutoRun }, "alice"));
        var refused = ExpectMsg<BindingResult>(TimeSpan.FromSeconds(10));

        Assert.Null(refused.Binding);
        Assert.Contains(refused.Problems, p => p.Path == "playbook_id");
        intake.Tell(GetBindings.Instance);
        Assert.Empty(ExpectMsg<BindingsView>().Bindings);
    }

    void IDisposable.Dispose()
    {
        _dir.Dispose();
        Dispose();
    }
}

/// <summary>
/// The approval-queue actor through the TestKit, fed by a real execution actor: it waits for the projector before it
/// loads, then follows the executions' events — approvals arrive and leave, simulations too — and tells its subscribers.
/// </summary>
public sealed class ApprovalQueueActorTests : TestKit, IDisposable
{
    private readonly TempDir _dir = new();
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 2, 10, 15, 30, 0, TimeSpan.Zero));
    private readonly ReadModelDb _db;

    public ApprovalQueueActorTests()
    {
        Directory.CreateDirectory(Path.Combine(_dir.Path, "data"));
        _db = new ReadModelDb(new RunbookPilotOptions { Database = Path.Combine(_dir.Path, "data", "rbp.db"), AuditKey = TestAudit.Key });
        _db.EnsureCreated();
        ActorFixtures.StartLedger(Sys, _clock);
    }

    private (IActorRef Queue, TestProbe Projector) Queue()
    {
        var projector = CreateTestProbe();
        var queue = Sys.ActorOf(ApprovalQueueActor.Props(projector.Ref, _db));
        projector.ExpectMsg<ReadModelProjector.CatchUp>(c => Assert.True(c.Budget >= TimeSpan.FromMinutes(1)));
        projector.Reply(ReadModelProjector.Done.Instance);
        return (queue, projector);
    }

    private IActorRef Execution(string id, GlobalPolicy? policy = null) =>
        Sys.ActorOf(ExecutionActor.Props(id, ActorFixtures.Runtime(ActorFixtures.Adapters().Values, _clock, policy), sharded: false));

    private QueueView View(IActorRef queue)
    {
        queue.Tell(new ApprovalQueue.Get(200));
        return ExpectMsg<QueueView>();
    }

    [Fact]
    public void Holds_nothing_and_answers_nothing_until_the_projector_caught_up_then_loads_what_is_pending()
    {
        using (var db = _db.Open())
            LinqToDB.DataExtensions.Insert(db, new ApprovalRow { ApprovalId = "apr-old-block", ExecutionId = "old", StepId = "block", PlaybookId = "lateral", Status = "pending" });
        var projector = CreateTestProbe();
        var queue = Sys.ActorOf(ApprovalQueueActor.Props(projector.Ref, _db));
        projector.ExpectMsg<ReadModelProjector.CatchUp>(c => Assert.True(c.Budget >= TimeSpan.FromMinutes(1)));

        queue.Tell(new ApprovalQueue.Get(200));
        ExpectNoMsg(TimeSpan.FromMilliseconds(300)); // stashed: the tables may not show everything journaled yet
        projector.Reply(ReadModelProjector.Done.Instance);

        var view = ExpectMsg<QueueView>();
        Assert.Equal("apr-old-block", Assert.Single(view.Pending).Approval.ApprovalId);
        Assert.Null(view.Pending[0].State); // not seen on this node yet: the application layer asks the execution
    }

    [Fact]
    public void An_approval_arrives_with_its_execution_state_and_leaves_when_decided_and_subscribers_follow_in_order()
    {
        var (queue, _) = Queue();
        var subscriber = CreateTestProbe();
        Sys.EventStream.Subscribe(subscriber.Ref, typeof(ApprovalQueue.Updated));
        var execution = Execution("ex-q1");

        execution.Tell(new StartExecution("ex-q1", "a1", ActorFixtures.Alert("a1"), ActorFixtures.Playbook, "test"));
        ExpectMsg<CommandResult>();
        subscriber.FishForMessage<ApprovalQueue.Updated>(u => u.QueueChanged, TimeSpan.FromSeconds(10));
        var pending = Assert.Single(View(queue).Pending);
        Assert.Equal(("ex-q1", "block", "L1"), (pending.Approval.ExecutionId, pending.Approval.StepId, pending.Approval.AutonomyLevel));
        Assert.Equal("a1", pending.State!.AlertId);

        execution.Tell(new ApproveStep("ex-q1", "block", "bob", null));
        Assert.True(ExpectMsg<CommandResult>().Ok);
        var decided = subscriber.FishForMessage<ApprovalQueue.Updated>(u => u.Update.Events.OfType<StepApproved>().Any(), TimeSpan.FromSeconds(10));
        Assert.True(decided.QueueChanged);
        // The L2 step after it is only simulated: the approval left, the simulation arrived.
        subscriber.FishForMessage<ApprovalQueue.Updated>(u => u.Update.Events.OfType<StepSimulated>().Any(), TimeSpan.FromSeconds(10));
        var view = View(queue);
        Assert.Empty(view.Pending);
        Assert.Equal("isolate", Assert.Single(view.Simulations).Simulation.StepId);
    }

    [Fact]
    public void A_refused_execute_now_leaves_the_simulation_waiting_as_the_read_model_shows_it()
    {
        var (queue, _) = Queue();
        var subscriber = CreateTestProbe();
        Sys.EventStream.Subscribe(subscriber.Ref, typeof(ApprovalQueue.Updated));
        var execution = Execution("ex-q2", GlobalPolicy.Default with { BlockL2Execution = true });
        execution.Tell(new StartExecution("ex-q2", "a2", ActorFixtures.Alert("a2"), ActorFixtures.Playbook, "test"));
        ExpectMsg<CommandResult>();
        subscriber.FishForMessage<ApprovalQueue.Updated>(u => u.Update.Events.OfType<ApprovalRequested>().Any(), TimeSpan.FromSeconds(10));
        execution.Tell(new ApproveStep("ex-q2", "block", "bob", null));
        Assert.True(ExpectMsg<CommandResult>().Ok);
        subscriber.FishForMessage<ApprovalQueue.Updated>(u => u.Update.Events.OfType<StepSimulated>().Any(), TimeSpan.FromSeconds(10));
        var simulation = Assert.Single(View(queue).Simulations).Simulation.SimulationId;

        execution.Tell(new ExecuteSimulation("ex-q2", simulation, "bob", null));
        Assert.False(ExpectMsg<CommandResult>().Ok); // compliance mode
        subscriber.FishForMessage<ApprovalQueue.Updated>(u => u.Update.Events.OfType<StepRefused>().Any(), TimeSpan.FromSeconds(10));

        var view = View(queue);
        Assert.Equal(simulation, Assert.Single(view.Simulations).Simulation.SimulationId); // shown (with the compliance notice), not hidden
        Assert.Empty(view.RefusedSimulations);
    }

    void IDisposable.Dispose()
    {
        _dir.Dispose();
        Dispose();
    }
}
