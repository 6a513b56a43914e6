using System.Text.Json.Nodes;
using RunbookPilot.Domain.Adapters;
using RunbookPilot.Engine.Adapters;
using RunbookPilot.Domain.Execution;
using RunbookPilot.Engine.Execution;
using RunbookPilot.Domain.Playbooks;
using RunbookPilot.Domain.Policy;
using RunbookPilot.Domain.Core;

namespace RunbookPilot.Engine.Tests.Execution;

/// <summary>The pure decider, transition by transition: no actors, no database, no clock but the one passed in.</summary>
public class DeciderTests
{
    private static readonly DateTimeOffset T0 = new(2026, 2, 10, 15, 30, 0, TimeSpan.Zero);

    private const string Lateral = """
        id: lateral
        name: Lateral
        version: 1.0.0
        autonomy_level: L2
        trigger: { techniques: [T1021] }
        steps:
          - id: vt
            name: VT
            action_type: lookup_ip
            adapter: virustotal
            autonomy_level: L0
            params: { ip: "{{source.ip}}" }
          - id: block
            name: Block
            action_type: block_ip
            adapter: paloalto
            autonomy_level: L1
            approval_required: false
            rollback_available: true
            params: { ip: "{{source.ip}}", tag: "AUTO_{{execution_id}}_{{steps.vt.output.malicious}}" }
          - id: isolate
            name: Isolate
            action_type: isolate_host
            adapter: crowdstrike
            autonomy_level: L2
            rollback_available: true
            params: { hostname: "{{host.name}}" }
          - id: ticket
            name: Ticket
            action_type: create_issue
            adapter: jira
            autonomy_level: L1
            on_failure: continue
            params: { project: SOC, summary: "x {{source.ip}}" }
        rollback:
          block:
            action_type: unblock_ip
            adapter: paloalto
            params: { ip: "{{source.ip}}" }
          isolate:
            action_type: un_isolate_host
            adapter: crowdstrike
            params: { hostname: "{{host.name}}" }
        """;

    private static readonly JsonObject Alert = (JsonObject)JsonNode.Parse("""{"event":{"id":"a1","severity":"high"},"source":{"ip":"203.0.113.5"},"host":{"name":"WS-042"}}""")!;

    private readonly AdapterRegistry _adapters = new(AdapterCatalog.BuiltIn.Adapters.Select(a => (IAdapter)new TestAdapter(a)));
    private GlobalPolicy _policy = GlobalPolicy.Default;
    private DateTimeOffset _now = T0;
    private ExecutionState _state = ExecutionState.Empty;

    private DecisionContext Ctx => new(_policy, _now, _adapters, new ExecutionDefaults());

    private static Playbook Load(string yaml)
    {
        var result = PlaybookLoader.Parse(yaml, "t.yaml");
        Assert.True(result.Ok, string.Join("\n", result.Errors));
        return result.Value!;
    }

    private Decision Do(IExecutionCommand command)
    {
        var d = ExecutionDecider.Decide(_state, command, Ctx);
        foreach (var e in d.Events) _state = _state.Apply(e);
        return d;
    }

    private Decision Start(string yaml = Lateral, JsonObject? alert = null) => Do(new StartExecution("ex1", "a1", alert ?? Alert, Load(yaml), "technique"));

    private Decision Ok(string step, int attempt, JsonNode? output = null) =>
        Do(new RecordAttempt("ex1", step, attempt, false, AdapterResult.Ok(output ?? new JsonObject { ["malicious"] = 3 }), 5));

    private Decision Fail(string step, int attempt, bool retryable = true, TimeSpan? retryAfter = null) =>
        Do(new RecordAttempt("ex1", step, attempt, false, AdapterResult.Fail("HTTP 503", retryable, retryAfter), 5));

    private static T Single<T>(Decision d) => Assert.Single(d.Effects.OfType<T>());

    [Fact]
    public void L0_runs_at_once_with_rendered_params_and_a_stable_idempotency_key()
    {
        var d = Start();
        Assert.IsType<ExecutionStarted>(Assert.Single(d.Events));
        var run = Single<RunStep>(d);
        Assert.Equal(("vt", 1, "rbp-ex1-vt"), (run.StepId, run.Attempt, run.IdempotencyKey));
        Assert.Equal("203.0.113.5", run.Parameters["ip"]!.GetValue<string>());
        Assert.Equal(TimeSpan.FromSeconds(30), run.Timeout);
        Assert.Equal("running", _state.Status);
    }

    [Fact]
    public void L1_waits_for_approval_even_when_the_playbook_says_approval_required_false()
    {
        Start();
        var d = Ok("vt", 1);
        var requested = Assert.IsType<ApprovalRequested>(d.Events[1]);
        Assert.Equal(("block", ApprovalReason.L1Action, 1), (requested.StepId, requested.Reason, requested.RequiredApprovers));
        Assert.Equal(T0 + TimeSpan.FromHours(4), requested.Deadline);
        Assert.Equal("AUTO_ex1_3", requested.Parameters["tag"]!.GetValue<string>());
        Assert.Contains("rbp-ex1-block", requested.Request!.Headers["Idempotency-Key"], StringComparison.Ordinal);
        Assert.Equal(T0 + TimeSpan.FromHours(4), Single<ArmDeadline>(d).At);
        Assert.Empty(d.Effects.OfType<RunStep>());
        Assert.Equal("waiting_approval", _state.Status);
        Assert.True(_state.Settled);
    }

    [Fact]
    public void Approve_resumes_the_step_then_L2_is_simulated_and_the_next_L1_waits()
    {
        Start();
        Ok("vt", 1);
        var approve = Do(new ApproveStep("ex1", null, "alice", "known bad"));
        Assert.Equal("ok", approve.Reply!.Code);
        Assert.IsType<StepApproved>(Assert.Single(approve.Events));
        Assert.Equal(("block", 1), (Single<RunStep>(approve).StepId, Single<RunStep>(approve).Attempt));

        var after = Ok("block", 1);
        var sim = Assert.IsType<StepSimulated>(after.Events[1]);
        Assert.Equal("isolate", sim.StepId);
        Assert.Equal("crowdstrike", sim.Simulation.Adapter);
        Assert.InRange(sim.Simulation.RiskScore, 1, 10);
        Assert.Contains(sim.Simulation.RiskFactors, f => f.Contains("isolation", StringComparison.Ordinal));
        Assert.Equal("WS-042", sim.Simulation.Parameters["hostname"]!.GetValue<string>());
        Assert.NotNull(sim.Simulation.Request);
        Assert.DoesNotContain(after.Effects.OfType<RunStep>(), r => r.StepId == "isolate");
        Assert.Equal("ticket", Assert.IsType<ApprovalRequested>(after.Events[2]).StepId);
    }

    [Fact]
    public void Failing_call_is_retried_three_times_with_exponential_backoff_then_marked_failed()
    {
        Start();
        var delays = new List<TimeSpan>();
        for (var attempt = 1; attempt <= 3; attempt++)
        {
            var d = Fail("vt", attempt);
            var failed = Assert.IsType<StepAttemptFailed>(Assert.Single(d.Events));
            delays.Add(failed.RetryAt!.Value - _now);
            var retry = Single<ScheduleRetry>(d);
            Assert.Equal(attempt + 1, retry.Attempt);
            _now = retry.At;
            Assert.Equal(attempt + 1, Single<RunStep>(Do(new RetryDue("ex1", "vt", attempt + 1, false))).Attempt);
        }
        Assert.Equal([TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(4)], delays);
        var last = Fail("vt", 4);
        Assert.Collection(last.Events,
            e => Assert.Null(Assert.IsType<StepAttemptFailed>(e).RetryAt),
            e => Assert.Contains("after 4 attempts", Assert.IsType<StepFailed>(e).Error, StringComparison.Ordinal),
            e => Assert.Equal(ExecutionOutcome.Failed, Assert.IsType<ExecutionCompleted>(e).Outcome));
        Assert.Equal(StepStatus.Failed, _state.Step("vt").Status);
    }

    [Fact]
    public void Not_retryable_failure_fails_at_once()
    {
        Start();
        var d = Fail("vt", 1, retryable: false);
        Assert.Equal(3, d.Events.Count);
        Assert.Equal(ExecutionOutcome.Failed, _state.Outcome);
    }

    [Fact]
    public void Retry_after_longer_than_the_backoff_is_honoured()
    {
        Start();
        var d = Fail("vt", 1, retryAfter: TimeSpan.FromSeconds(30));
        Assert.Equal(T0 + TimeSpan.FromSeconds(30), Single<ScheduleRetry>(d).At);
    }

    [Fact]
    public void Step_retry_policy_overrides_the_defaults()
    {
        var yaml = Lateral.Replace("    params: { ip: \"{{source.ip}}\" }\n  - id: block", "    params: { ip: \"{{source.ip}}\" }\n    retry: { max_retries: 1, initial_delay: 5s }\n  - id: block", StringComparison.Ordinal);
        Assert.NotEqual(Lateral, yaml);
        Start(yaml);
        Assert.Equal(T0 + TimeSpan.FromSeconds(5), Single<ScheduleRetry>(Fail("vt", 1)).At);
        Do(new RetryDue("ex1", "vt", 2, false));
        Assert.Contains(Fail("vt", 2).Events, e => e is StepFailed);
    }

    [Fact]
    public void On_failure_continue_goes_on_with_the_next_step()
    {
        Start();
        Ok("vt", 1);
        Do(new ApproveStep("ex1", "block", "alice", null));
        Ok("block", 1);
        Do(new ApproveStep("ex1", "ticket", "alice", null));
        var d = Fail("ticket", 1, retryable: false);
        Assert.Equal(ExecutionOutcome.Completed, Assert.IsType<ExecutionCompleted>(d.Events[^1]).Outcome);
    }

    [Fact]
    public void Stale_attempt_results_are_ignored()
    {
        Start();
        var d = Ok("vt", 7);
        Assert.Empty(d.Events);
        Assert.Equal("stale", d.Reply!.Code);
        Assert.Empty(Ok("block", 1).Events);
    }

    [Fact]
    public void Reject_halts_the_execution()
    {
        Start();
        Ok("vt", 1);
        var d = Do(new RejectStep("ex1", null, "bob", "false positive"));
        Assert.IsType<StepRejected>(d.Events[0]);
        Assert.Equal(ExecutionOutcome.Rejected, Assert.IsType<ExecutionCompleted>(d.Events[1]).Outcome);
        Assert.Empty(d.Effects.OfType<RunStep>());
    }

    [Fact]
    public void Approval_expires_at_its_deadline_and_not_before()
    {
        Start();
        Ok("vt", 1);
        var approvalId = _state.Step("block").Approval!.ApprovalId;
        _now = T0 + TimeSpan.FromHours(3);
        var early = Do(new DeadlineReached("ex1", "block", approvalId));
        Assert.Empty(early.Events);
        Assert.Equal(T0 + TimeSpan.FromHours(4), Single<ArmDeadline>(early).At);
        _now = T0 + TimeSpan.FromHours(4);
        var d = Do(new DeadlineReached("ex1", "block", approvalId));
        Assert.IsType<ApprovalExpired>(d.Events[0]);
        Assert.Equal(ExecutionOutcome.Expired, _state.Outcome);
        Assert.Equal("already_decided", Do(new ApproveStep("ex1", "block", "alice", null)).Reply!.Code);
    }

    [Fact]
    public void Approving_after_the_deadline_expires_instead()
    {
        Start();
        Ok("vt", 1);
        _now = T0 + TimeSpan.FromHours(5);
        var d = Do(new ApproveStep("ex1", null, "alice", null));
        Assert.Equal("expired", d.Reply!.Code);
        Assert.Empty(d.Effects.OfType<RunStep>());
        Assert.Equal(ExecutionOutcome.Expired, _state.Outcome);
    }

    [Fact]
    public void Configured_approval_timeout_is_used()
    {
        _policy = GlobalPolicy.Default with { Approval = new ApprovalPolicy { Timeout = TimeSpan.FromMinutes(15) } };
        Start();
        Assert.Equal(T0 + TimeSpan.FromMinutes(15), Single<ArmDeadline>(Ok("vt", 1)).At);
    }

    [Fact]
    public void First_decision_wins_a_second_answer_is_reported_and_runs_nothing()
    {
        Start();
        Ok("vt", 1);
        Assert.Single(Do(new ApproveStep("ex1", null, "alice", null)).Effects.OfType<RunStep>());
        var second = Do(new RejectStep("ex1", null, "bob", null));
        Assert.True(second.Reply!.Ok);
        Assert.Equal("already_decided", second.Reply.Code);
        Assert.Contains("already approved by alice", second.Reply.Message, StringComparison.Ordinal);
        Assert.Empty(second.Events);
        Assert.Empty(second.Effects);
        Assert.Empty(Do(new ApproveStep("ex1", "block", "carol", null)).Effects);
    }

    [Fact]
    public void Four_eyes_needs_two_distinct_approvers()
    {
        _policy = GlobalPolicy.Default with { Approval = new ApprovalPolicy { FourEyesActionTypes = ["block_ip"] } };
        Start();
        Assert.Equal(2, Assert.IsType<ApprovalRequested>(Ok("vt", 1).Events[1]).RequiredApprovers);
        var first = Do(new ApproveStep("ex1", null, "alice", null));
        Assert.Equal("vote_recorded", first.Reply!.Code);
        Assert.Empty(first.Effects);
        var again = Do(new ApproveStep("ex1", null, "ALICE", null));
        Assert.Equal("invalid", again.Reply!.Code);
        Assert.Empty(again.Events);
        var second = Do(new ApproveStep("ex1", null, "bob", null));
        Assert.IsType<StepApproved>(Assert.Single(second.Events));
        Assert.Single(second.Effects.OfType<RunStep>());
        Assert.Equal(["alice", "bob"], _state.Step("block").Approval!.Approvers);
    }

    [Fact]
    public void Several_pending_approvals_need_a_step_name()
    {
        _policy = GlobalPolicy.Default with { Approval = new ApprovalPolicy { FourEyesActionTypes = ["isolate_host"] } };
        Start();
        Ok("vt", 1);
        Do(new ApproveStep("ex1", null, "alice", null));
        Ok("block", 1); // the ticket now waits, and so will the promoted isolation
        Do(new ExecuteSimulation("ex1", _state.Step("isolate").SimulationId!, "carol", null));
        var d = Do(new ApproveStep("ex1", null, "dave", null));
        Assert.Equal("invalid", d.Reply!.Code);
        Assert.Contains("isolate, ticket", d.Reply.Message, StringComparison.Ordinal);
        Assert.Equal("not_found", Do(new ApproveStep("ex1", "nope", "x", null)).Reply!.Code);
        Assert.Single(Do(new ApproveStep("ex1", "isolate", "dave", null)).Effects.OfType<RunStep>());
    }

    [Fact]
    public void Execute_simulation_is_an_L1_approval_by_the_analyst()
    {
        Start();
        Ok("vt", 1);
        Do(new ApproveStep("ex1", null, "alice", null));
        Ok("block", 1);
        var sim = _state.Step("isolate").SimulationId!;
        var d = Do(new ExecuteSimulation("ex1", sim, "carol", "checked the host"));
        Assert.Collection(d.Events,
            e => Assert.IsType<SimulationPromoted>(e),
            e => Assert.Equal(ApprovalReason.SimulationPromoted, Assert.IsType<ApprovalRequested>(e).Reason),
            e => Assert.Equal("carol", Assert.IsType<StepApproved>(e).Approver));
        var run = Single<RunStep>(d);
        Assert.Equal(("isolate", "rbp-ex1-isolate"), (run.StepId, run.IdempotencyKey));
        var done = Ok("isolate", 1);
        Assert.IsType<StepSucceeded>(Assert.Single(done.Events));
        Assert.Equal(StepStatus.Succeeded, _state.Step("isolate").Status);
        Assert.Equal("waiting_approval", _state.Status); // the ticket still waits; the promoted step ran beside the order
        Assert.Equal("already_decided", Do(new ExecuteSimulation("ex1", sim, "dave", null)).Reply!.Code);
    }

    [Fact]
    public void Block_l2_execution_refuses_executing_a_simulation()
    {
        Start();
        Ok("vt", 1);
        Do(new ApproveStep("ex1", null, "alice", null));
        Ok("block", 1);
        _policy = GlobalPolicy.Default with { BlockL2Execution = true };
        var d = Do(new ExecuteSimulation("ex1", _state.Step("isolate").SimulationId!, "carol", null));
        Assert.Equal("refused", d.Reply!.Code);
        Assert.Contains("block_l2_execution", Assert.IsType<StepRefused>(Assert.Single(d.Events)).Reason, StringComparison.Ordinal);
        Assert.Empty(d.Effects);
    }

    [Fact]
    public void Block_l2_execution_refuses_even_an_approval_given_before_it_was_switched_on()
    {
        _policy = GlobalPolicy.Default with { Approval = new ApprovalPolicy { FourEyesActionTypes = ["isolate_host"] } };
        Start();
        Ok("vt", 1);
        Do(new ApproveStep("ex1", null, "alice", null));
        Ok("block", 1);
        Assert.Equal("vote_recorded", Do(new ExecuteSimulation("ex1", _state.Step("isolate").SimulationId!, "carol", null)).Reply!.Code);
        _policy = _policy with { BlockL2Execution = true };
        var d = Do(new ApproveStep("ex1", "isolate", "dave", null));
        Assert.Equal("refused", d.Reply!.Code);
        Assert.Empty(d.Effects.OfType<RunStep>());
    }

    [Fact]
    public void Dismissed_simulation_cannot_be_executed()
    {
        Start();
        Ok("vt", 1);
        Do(new ApproveStep("ex1", null, "alice", null));
        Ok("block", 1);
        var sim = _state.Step("isolate").SimulationId!;
        Assert.Equal("ok", Do(new DismissSimulation("ex1", sim, "carol", "benign")).Reply!.Code);
        Assert.Equal("already_decided", Do(new ExecuteSimulation("ex1", sim, "carol", null)).Reply!.Code);
        Assert.Equal("not_found", Do(new ExecuteSimulation("ex1", "sim-nope", "carol", null)).Reply!.Code);
    }

    [Fact]
    public void Require_approval_gates_L0_too()
    {
        _policy = GlobalPolicy.Default with { RequireApproval = true };
        var d = Start();
        Assert.Equal(ApprovalReason.PolicyRequireApproval, Assert.IsType<ApprovalRequested>(d.Events[1]).Reason);
        Assert.Empty(d.Effects.OfType<RunStep>());
    }

    [Fact]
    public void Auto_approve_runs_L1_of_listed_playbooks_and_records_who()
    {
        _policy = GlobalPolicy.Default with { AutoApprove = new AutoApprovePolicy { Playbooks = ["lateral"] } };
        Start();
        var d = Ok("vt", 1);
        Assert.Equal("policy:auto_approve", Assert.IsType<StepApproved>(d.Events[2]).Approver);
        Assert.Equal("block", Single<RunStep>(d).StepId);
    }

    [Fact]
    public void Auto_approve_never_approves_L2()
    {
        _policy = GlobalPolicy.Default with { AutoApprove = new AutoApprovePolicy { Playbooks = ["lateral"] } };
        Start();
        Ok("vt", 1);
        var d = Ok("block", 1);
        Assert.IsType<StepSimulated>(d.Events[1]);
        Assert.DoesNotContain(d.Effects.OfType<RunStep>(), r => r.StepId == "isolate");
    }

    [Theory]
    [InlineData("ips: [203.0.113.5]", "allow_list.ips")]
    [InlineData("cidrs: [203.0.113.0/24]", "allow_list.cidrs")]
    public void Allow_listed_targets_are_refused_before_any_call(string allow, string why)
    {
        _policy = GlobalPolicy.Parse("allow_list:\n  " + allow + "\n", "p.yaml").Value!;
        Start();
        var d = Ok("vt", 1);
        var refused = Assert.IsType<StepRefused>(d.Events[1]);
        Assert.Contains(why, refused.Reason, StringComparison.Ordinal);
        Assert.Equal(ExecutionOutcome.Refused, Assert.IsType<ExecutionCompleted>(d.Events[2]).Outcome);
        Assert.Empty(d.Effects);
    }

    [Fact]
    public void Allow_listed_host_cannot_be_isolated_even_from_a_simulation()
    {
        Start();
        Ok("vt", 1);
        Do(new ApproveStep("ex1", null, "alice", null));
        Ok("block", 1);
        _policy = GlobalPolicy.Parse("allow_list:\n  hosts: [ws-042]\n", "p.yaml").Value!;
        var d = Do(new ExecuteSimulation("ex1", _state.Step("isolate").SimulationId!, "carol", null));
        Assert.Contains("allow_list.hosts", Assert.IsType<StepRefused>(Assert.Single(d.Events)).Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Empty_target_is_refused_before_any_call()
    {
        var alert = (JsonObject)JsonNode.Parse("""{"event":{"id":"a2"}}""")!;
        var d = Start(alert: alert);
        var refused = Assert.IsType<StepRefused>(d.Events[1]);
        Assert.Contains("parameter 'ip' is empty: {{source.ip}} has no value in this alert", refused.Reason, StringComparison.Ordinal);
        Assert.Empty(d.Effects);
    }

    [Fact]
    public void Rollback_reverses_executed_reversible_steps_newest_first()
    {
        Start();
        Ok("vt", 1);
        Do(new ApproveStep("ex1", null, "alice", null));
        Ok("block", 1);
        Do(new ExecuteSimulation("ex1", _state.Step("isolate").SimulationId!, "carol", null));
        Ok("isolate", 1);
        var d = Do(new RequestRollback("ex1", null, "alice", "false positive"));
        Assert.Equal(["isolate", "block"], Assert.IsType<RollbackRequested>(Assert.Single(d.Events)).StepIds);
        var first = Single<RunStep>(d);
        Assert.Equal(("isolate", true, "un_isolate_host", "rbp-ex1-isolate-rollback"), (first.StepId, first.Rollback, first.Action, first.IdempotencyKey));
        var next = Do(new RecordAttempt("ex1", "isolate", 1, true, AdapterResult.Ok(null), 3));
        Assert.IsType<StepRolledBack>(Assert.Single(next.Events));
        var second = Single<RunStep>(next);
        Assert.Equal(("block", "unblock_ip", "203.0.113.5"), (second.StepId, second.Action, second.Parameters["ip"]!.GetValue<string>()));
        Do(new RecordAttempt("ex1", "block", 1, true, AdapterResult.Ok(null), 3));
        Assert.Equal(RollbackStatus.RolledBack, _state.Step("block").Rollback);
        Assert.Empty(_state.RollbackQueue);
        Assert.Equal("already_decided", Do(new RequestRollback("ex1", "block", "alice", null)).Reply!.Code);
        Assert.Equal("invalid", Do(new RequestRollback("ex1", null, "alice", null)).Reply!.Code);
    }

    [Fact]
    public void Rollback_of_one_step_and_of_a_step_that_never_ran()
    {
        Start();
        Ok("vt", 1);
        Assert.Equal("invalid", Do(new RequestRollback("ex1", "block", "alice", null)).Reply!.Code);
        Assert.Equal("invalid", Do(new RequestRollback("ex1", "vt", "alice", null)).Reply!.Code);
        Do(new ApproveStep("ex1", null, "alice", null));
        Ok("block", 1);
        var d = Do(new RequestRollback("ex1", "block", "alice", null));
        Assert.Equal(["block"], Assert.IsType<RollbackRequested>(Assert.Single(d.Events)).StepIds);
    }

    [Fact]
    public void Failed_rollback_is_retried_then_recorded()
    {
        Start();
        Ok("vt", 1);
        Do(new ApproveStep("ex1", null, "alice", null));
        Ok("block", 1);
        Do(new RequestRollback("ex1", "block", "alice", null));
        var retry = Do(new RecordAttempt("ex1", "block", 1, true, AdapterResult.Fail("HTTP 500", true), 3));
        Assert.Equal(T0 + TimeSpan.FromSeconds(1), Single<ScheduleRetry>(retry).At);
        Assert.Equal(2, Single<RunStep>(Do(new RetryDue("ex1", "block", 2, true))).Attempt);
        var d = Do(new RecordAttempt("ex1", "block", 2, true, AdapterResult.Fail("denied", false), 3));
        Assert.IsType<StepRollbackFailed>(Assert.Single(d.Events));
        Assert.Equal(RollbackStatus.Failed, _state.Step("block").Rollback);
    }

    [Fact]
    public void Resume_reissues_open_work_from_the_journaled_state()
    {
        Start();
        var run = Single<RunStep>(Do(new ResumeExecution("ex1")));
        Assert.Equal(("vt", 1, "rbp-ex1-vt"), (run.StepId, run.Attempt, run.IdempotencyKey));

        var retryAt = Single<ScheduleRetry>(Fail("vt", 1)).At;
        Assert.Equal(retryAt, Single<ScheduleRetry>(Do(new ResumeExecution("ex1"))).At);
        Do(new RetryDue("ex1", "vt", 2, false));
        Ok("vt", 2);
        var deadline = _state.Step("block").Approval!.Deadline;
        Assert.Equal(deadline, Single<ArmDeadline>(Do(new ResumeExecution("ex1"))).At);

        Do(new ApproveStep("ex1", null, "alice", null));
        Assert.Equal(("block", 1), (Single<RunStep>(Do(new ResumeExecution("ex1"))).StepId, 1));
        Ok("block", 1);
        Do(new RejectStep("ex1", "ticket", "bob", null));
        Assert.True(_state.Finished);
        Assert.Empty(Do(new ResumeExecution("ex1")).Effects);
    }

    [Fact]
    public void Start_twice_and_commands_to_unknown_executions()
    {
        Start();
        Assert.Equal("already_started", Start().Reply!.Code);
        Assert.Equal("not_found", ExecutionDecider.Decide(ExecutionState.Empty, new ApproveStep("zz", null, "a", null), Ctx).Reply!.Code);
    }

    [Fact]
    public void Outputs_of_earlier_steps_feed_later_templates()
    {
        Start();
        var d = Ok("vt", 1, new JsonObject { ["malicious"] = 42 });
        Assert.Equal("AUTO_ex1_42", Assert.IsType<ApprovalRequested>(d.Events[1]).Parameters["tag"]!.GetValue<string>());
    }

    [Fact]
    public void Simulation_mode_true_simulates_a_lower_level_step()
    {
        Start(Lateral.Replace("    approval_required: false\n", "    simulation_mode: true\n", StringComparison.Ordinal));
        var d = Ok("vt", 1);
        Assert.Equal("block", Assert.IsType<StepSimulated>(d.Events[1]).StepId);
    }

    [Fact]
    public void Risk_score_explains_itself()
    {
        var step = Load(Lateral).FindStep("isolate")!;
        var sim = RiskScorer.Simulate(step, new JsonObject { ["hostname"] = "SQL-PROD-01" }, null, AdapterCatalog.BuiltIn.Find("crowdstrike")!.Find("isolate_host"),
            new RunbookPilot.Domain.Alerts.Alert("a", (JsonObject)JsonNode.Parse("""{"event":{"severity":"medium"}}""")!, "ecs"));
        Assert.Equal(9, sim.RiskScore);
        Assert.Equal(4, sim.RiskFactors.Count);
        Assert.Contains("Review", sim.Recommendation, StringComparison.Ordinal);
    }
}
