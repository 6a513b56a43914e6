using System.Text.Json.Nodes;
using RunbookPilot.Domain.Adapters;
using RunbookPilot.Domain.Alerts;
using RunbookPilot.Domain.Playbooks;
using RunbookPilot.Domain.Policy;
using RunbookPilot.Domain.Core;

namespace RunbookPilot.Domain.Execution;

/// <summary>What a decision may depend on besides the state: the current policy, the time, the adapters (to describe requests) and defaults.</summary>
public sealed record DecisionContext(GlobalPolicy Policy, DateTimeOffset Now, AdapterRegistry Adapters, ExecutionDefaults Defaults);

/// <summary>Defaults a playbook step can override: 3 retries from 1 s doubling (1 s, 2 s, 4 s), 30 s per attempt.</summary>
public sealed record ExecutionDefaults(int MaxRetries = 3, TimeSpan? InitialRetryDelay = null, TimeSpan? AttemptTimeout = null)
{
    public TimeSpan RetryDelay => InitialRetryDelay ?? TimeSpan.FromSeconds(1);
    public TimeSpan Timeout => AttemptTimeout ?? TimeSpan.FromSeconds(30);
}

/// <summary>
/// The pure decider of an execution: <c>Decide(state, command) → events + effects + reply</c>. It never performs I/O;
/// the actor persists the events, applies them, then carries out the effects. Every transition of the state machine is
/// here, and the autonomy rules come from <see cref="AutonomyContract"/>.
/// </summary>
public static class ExecutionDecider
{
    public static string IdempotencyKey(string executionId, string stepId, bool rollback = false) =>
        $"rbp-{executionId}-{stepId}" + (rollback ? "-rollback" : "");

    public static Decision Decide(ExecutionState state, IExecutionCommand command, DecisionContext ctx)
    {
        if (command is StartExecution start) return Start(state, start, ctx);
        if (!state.Started)
            return Decision.Nothing(new CommandResult(false, "not_found", $"execution {command.ExecutionId} does not exist"));
        return command switch
        {
            RecordAttempt a => a.Rollback ? RollbackAttempt(state, a, ctx) : Attempt(state, a, ctx),
            RetryDue r => Retry(state, r, ctx),
            ApproveStep a => Approve(state, a, ctx),
            RejectStep r => Reject(state, r, ctx),
            DeadlineReached d => Deadline(state, d, ctx),
            ExecuteSimulation x => Promote(state, x, ctx),
            DismissSimulation d => Dismiss(state, d, ctx),
            RequestRollback r => Rollback(state, r, ctx),
            ResumeExecution => Resume(state, ctx),
            AttachEnrichment a => state.Started
                ? new Decision([a.Enrichment], [], CommandResult.Done($"{a.Enrichment.Type} enrichment attached"))
                : Decision.Nothing(new CommandResult(false, "not_found", $"no execution {a.ExecutionId}")),
            _ => Decision.Nothing(CommandResult.Invalid($"unknown command {command.GetType().Name}")),
        };
    }

    // ---- start and advance -------------------------------------------------------------------------------------

    private static Decision Start(ExecutionState state, StartExecution s, DecisionContext ctx)
    {
        if (state.Started) return Decision.Nothing(new CommandResult(true, "already_started", $"execution {s.ExecutionId} already exists"));
        var b = new Builder(state);
        b.Add(new ExecutionStarted(s.ExecutionId, s.AlertId, s.Alert, s.Playbook, s.SelectionReason, ctx.Now, s.DryRun));
        Advance(b, ctx);
        return b.Build(CommandResult.Done($"execution {s.ExecutionId} started ({s.Playbook.Id} {s.Playbook.Version})"));
    }

    /// <summary>Moves the execution forward from its cursor until it must run a step, wait, or is done.</summary>
    private static void Advance(Builder b, DecisionContext ctx)
    {
        while (!b.State.Finished)
        {
            var step = b.State.CurrentStep;
            if (step is null)
            {
                b.Add(new ExecutionCompleted(ExecutionOutcome.Completed, Summary(b.State), ctx.Now));
                return;
            }
            var st = b.State.Step(step.Id);
            switch (st.Status)
            {
                case StepStatus.Pending:
                    if (!Gate(b, step, ctx)) return;
                    break; // the step reached a final status (simulated, refused+continue): go on
                case StepStatus.Approved:
                    b.Effect(Run(b.State, step, st.Attempts + 1, ctx));
                    return;
                case StepStatus.RetryWaiting:
                    b.Effect(new ScheduleRetry(step.Id, st.Attempts + 1, false, st.RetryAt ?? ctx.Now));
                    return;
                case StepStatus.WaitingApproval:
                    b.Effect(new ArmDeadline(step.Id, st.Approval!.ApprovalId, st.Approval.Deadline));
                    return;
                default:
                    return; // unreachable: the cursor never rests on a final status
            }
        }
    }

    /// <summary>Applies the autonomy contract to a step reached for the first time. Returns true when the step is already final.</summary>
    private static bool Gate(Builder b, PlaybookStep step, DecisionContext ctx)
    {
        var state = b.State;
        var pb = state.Playbook!;
        var parameters = Render(state, step.Params, out var missing, ctx.Adapters.Find(step.Adapter) as ITemplateEscaper);
        var action = ctx.Adapters.Catalog.Find(step.Adapter)?.Find(step.ActionType);
        var empty = action?.RequiredParams.FirstOrDefault(p => AlertFields.AsText(parameters[p]) is null or "");
        if (empty is not null)
        {
            var why = missing.Count > 0 ? $": {string.Join(", ", missing.Select(m => "{{" + m + "}}"))} has no value in this alert" : "";
            return Refuse(b, step, $"parameter '{empty}' is empty{why}; refused before any call", ctx);
        }
        var guard = TargetGuard.Check(action, parameters, ctx.Policy);
        if (guard.Refusal is { } refusal) return Refuse(b, step, refusal, ctx);
        parameters = guard.Parameters; // canonical targets: what approvers see is what the vendor receives

        var gate = AutonomyContract.Decide(step, pb.Id, ctx.Policy, state.DryRun);
        var call = new AdapterCall(step.ActionType, parameters, IdempotencyKey(state.ExecutionId, step.Id));
        switch (gate.Kind)
        {
            case GateKind.Run or GateKind.DryRun:
                b.Effect(Run(state, step, state.Step(step.Id).Attempts + 1, ctx));
                return false;
            case GateKind.Simulate:
                var request = ctx.Adapters.Find(step.Adapter)?.Describe(call);
                var sim = RiskScorer.Simulate(step, parameters, request, action, new Alert(state.AlertId, state.Alert, "ecs"));
                b.Add(new StepSimulated(step.Id, $"sim-{state.ExecutionId}-{step.Id}", sim, ctx.Now));
                return true;
            default:
                var approvalId = $"apr-{state.ExecutionId}-{step.Id}";
                var described = ctx.Adapters.Find(step.Adapter)?.Describe(call);
                b.Add(new ApprovalRequested(step.Id, approvalId, gate.Reason, AutonomyContract.RequiredApprovers(step, ctx.Policy), described, parameters,
                    ctx.Now + ctx.Policy.Approval.Timeout, ctx.Now));
                if (gate.Kind == GateKind.AutoApprove)
                {
                    b.Add(new StepApproved(step.Id, approvalId, "policy:auto_approve", gate.Explanation, ctx.Now));
                    b.Effect(Run(b.State, step, b.State.Step(step.Id).Attempts + 1, ctx));
                }
                else b.Effect(new ArmDeadline(step.Id, approvalId, ctx.Now + ctx.Policy.Approval.Timeout));
                return false;
        }
    }

    private static bool Refuse(Builder b, PlaybookStep step, string reason, DecisionContext ctx)
    {
        b.Add(new StepRefused(step.Id, reason, ctx.Now));
        return !Halt(b, step, ExecutionOutcome.Refused, ctx);
    }

    /// <summary>After a step of the step order ended badly: halt the execution (on_failure: halt) or go on. Returns true when halted.</summary>
    private static bool Halt(Builder b, PlaybookStep step, ExecutionOutcome outcome, DecisionContext ctx)
    {
        if (step.OnFailure == OnFailure.Halt)
        {
            b.Add(new ExecutionCompleted(outcome, $"halted at step {step.Id}: {b.State.Step(step.Id).Error}", ctx.Now));
            return true;
        }
        return false;
    }

    private static RunStep Run(ExecutionState state, PlaybookStep step, int attempt, DecisionContext ctx) =>
        new(step.Id, attempt, false, step.Adapter, step.ActionType, Render(state, step.Params, out _, ctx.Adapters.Find(step.Adapter) as ITemplateEscaper),
            IdempotencyKey(state.ExecutionId, step.Id), step.Timeout ?? ctx.Defaults.Timeout, state.DryRun)
        {
            Effect = state.DryRun ? null : EffectOf(state, step, ctx),
        };

    /// <summary>
    /// The shared effect a reversible step makes, from its rendered parameters in canonical spelling. Its rollback
    /// undoes the same key, computed the same way, so make and undo meet in the effect ledger however the rollback's
    /// own parameters are spelled.
    /// </summary>
    public static Effects.EffectKey? EffectOf(ExecutionState state, PlaybookStep step, DecisionContext ctx)
    {
        var adapter = ctx.Adapters.Catalog.Find(step.Adapter);
        var parameters = state.Step(step.Id).Simulation?.Parameters ?? Render(state, step.Params, out _, ctx.Adapters.Find(step.Adapter) as ITemplateEscaper);
        return Effects.EffectKey.For(adapter, step.ActionType, TargetGuard.Check(adapter?.Find(step.ActionType), parameters, ctx.Policy).Parameters);
    }

    /// <summary>Fills the templates of <paramref name="parameters"/>; an adapter that is an <see cref="ITemplateEscaper"/> escapes inserted values.</summary>
    private static JsonObject Render(ExecutionState state, IReadOnlyDictionary<string, JsonNode?> parameters, out List<string> missing, ITemplateEscaper? escaper = null)
    {
        missing = [];
        var renderer = new TemplateRenderer(state.ExecutionId, state.Playbook!, state.Alert, id =>
        {
            var st = state.Steps.GetValueOrDefault(id);
            return (st?.Status.ToString().ToLowerInvariant(), st?.Output);
        });
        return renderer.Render(parameters, missing, escaper is null ? null : escaper.EscapeTemplateValue);
    }

    // ---- attempts and retries ----------------------------------------------------------------------------------

    private static Decision Attempt(ExecutionState state, RecordAttempt a, DecisionContext ctx)
    {
        var step = state.Playbook!.FindStep(a.StepId);
        var st = state.Step(a.StepId);
        var atCursor = state.CurrentStep?.Id == a.StepId && !state.Finished;
        var running = (atCursor || st.Promoted) && st.Status is StepStatus.Pending or StepStatus.Approved or StepStatus.RetryWaiting;
        if (step is null || !running || a.Attempt != st.Attempts + 1)
            return Decision.Nothing(Stale(a));

        var b = new Builder(state);
        if (a.Result.Success)
        {
            b.Add(new StepSucceeded(a.StepId, a.Attempt, a.Result.Output, a.Result.Request, a.DurationMs, ctx.Now, state.DryRun ? null : a.Result.Undo) { Effect = a.Effect });
            if (!st.Promoted) Advance(b, ctx);
            return b.Build(CommandResult.Done($"step {a.StepId} succeeded"));
        }

        var maxRetries = step.Retry?.MaxRetries ?? ctx.Defaults.MaxRetries;
        if (a.Result.Retryable && a.Attempt <= maxRetries)
        {
            var at = ctx.Now + RetryDelay(step, a.Attempt, a.Result.RetryAfter, ctx);
            b.Add(new StepAttemptFailed(a.StepId, a.Attempt, a.Result.Error ?? "failed", a.Result.Request, at, ctx.Now));
            b.Effect(new ScheduleRetry(a.StepId, a.Attempt + 1, false, at));
            return b.Build(CommandResult.Done($"step {a.StepId} attempt {a.Attempt} failed; retry at {at:O}"));
        }

        if (a.Result.Refused)
        {
            // The engine refused the call where the adapter is called (a target resolved to a protected host, or one
            // that cannot be resolved): nothing was sent.
            b.Add(new StepRefused(a.StepId, a.Result.Error ?? "refused", ctx.Now));
            if (!st.Promoted && !Halt(b, step, ExecutionOutcome.Refused, ctx)) Advance(b, ctx);
            return b.Build(new CommandResult(false, "refused", $"step {a.StepId} refused: {a.Result.Error}"));
        }

        var error = a.Result.Error ?? "failed";
        b.Add(new StepAttemptFailed(a.StepId, a.Attempt, error, a.Result.Request, null, ctx.Now));
        var final = a.Attempt > 1 ? $"{error} (after {a.Attempt} attempts)" : error;
        b.Add(new StepFailed(a.StepId, final, ctx.Now));
        if (!st.Promoted && !Halt(b, step, ExecutionOutcome.Failed, ctx)) Advance(b, ctx);
        return b.Build(CommandResult.Done($"step {a.StepId} failed: {final}"));
    }

    /// <summary>Exponential backoff: initial delay × 2^(attempt−1) (1 s, 2 s, 4 s), never shorter than a vendor's Retry-After.</summary>
    public static TimeSpan RetryDelay(PlaybookStep step, int failedAttempt, TimeSpan? retryAfter, DecisionContext ctx)
    {
        var initial = step.Retry?.InitialDelay ?? ctx.Defaults.RetryDelay;
        var delay = TimeSpan.FromTicks(initial.Ticks * (1L << Math.Min(failedAttempt - 1, 20)));
        return retryAfter is { } ra && ra > delay ? ra : delay;
    }

    private static Decision Retry(ExecutionState state, RetryDue r, DecisionContext ctx)
    {
        var step = state.Playbook!.FindStep(r.StepId);
        if (step is null) return Decision.Nothing(Stale(r));
        if (r.Rollback)
        {
            if (state.RollbackQueue.FirstOrDefault() != r.StepId) return Decision.Nothing(Stale(r));
            var rb = RollbackRun(state, r.StepId, r.Attempt, ctx);
            return rb is null ? Decision.Nothing(Stale(r)) : new Decision([], [rb], null);
        }
        var st = state.Step(r.StepId);
        if (st.Status != StepStatus.RetryWaiting || r.Attempt != st.Attempts + 1) return Decision.Nothing(Stale(r));
        return new Decision([], [Run(state, step, r.Attempt, ctx)], null);
    }

    private static CommandResult Stale(IExecutionCommand c) => new(true, "stale", $"ignored a stale {c.GetType().Name}");

    // ---- approvals -----------------------------------------------------------------------------------------------

    private static (PlaybookStep? Step, CommandResult? Problem) PendingApproval(ExecutionState state, string? stepId)
    {
        var pending = state.Playbook!.Steps.Where(s => state.Step(s.Id).Status == StepStatus.WaitingApproval).ToList();
        if (stepId is not null)
        {
            var step = state.Playbook.FindStep(stepId);
            if (step is null) return (null, new CommandResult(false, "not_found", $"execution {state.ExecutionId} has no step '{stepId}'"));
            var st = state.Step(stepId);
            if (st.Status == StepStatus.WaitingApproval) return (step, null);
            return (null, AlreadyDecided(stepId, st));
        }
        if (pending.Count == 1) return (pending[0], null);
        if (pending.Count > 1)
            return (null, new CommandResult(false, "invalid", $"several approvals are pending ({string.Join(", ", pending.Select(p => p.Id))}); name one with --step"));
        var decided = state.Playbook.Steps.LastOrDefault(s => state.Step(s.Id).Approval is not null);
        return (null, decided is not null
            ? AlreadyDecided(decided.Id, state.Step(decided.Id))
            : new CommandResult(false, "not_pending", $"execution {state.ExecutionId} has no pending approval"));
    }

    /// <summary>The first decision wins: a second answer to an approval is reported, not an error, and runs nothing.</summary>
    private static CommandResult AlreadyDecided(string stepId, StepState st)
    {
        var what = st.Status switch
        {
            StepStatus.Approved or StepStatus.Succeeded or StepStatus.Failed or StepStatus.RetryWaiting => "was already approved" + (st.Approval is { } ap ? " by " + string.Join(" and ", ap.Approvers) : ""),
            StepStatus.Rejected => "was already rejected",
            StepStatus.Expired => "already expired",
            StepStatus.Refused => "was refused by policy: " + st.Error,
            StepStatus.Simulated => "is a simulation; use execute-simulation",
            _ => $"is not waiting for approval (status {st.Status.ToString().ToLowerInvariant()})",
        };
        return new CommandResult(true, "already_decided", $"step {stepId} {what}");
    }

    private static Decision Approve(ExecutionState state, ApproveStep a, DecisionContext ctx)
    {
        var (step, problem) = PendingApproval(state, a.StepId);
        if (step is null) return Decision.Nothing(problem);
        var b = new Builder(state);
        Vote(b, step, a.Approver, a.Comment, ctx, out var reply);
        return b.Build(reply);
    }

    /// <summary>Records an approval by <paramref name="approver"/>: a vote while four-eyes needs another analyst, else the approval and the run.</summary>
    private static void Vote(Builder b, PlaybookStep step, string approver, string? comment, DecisionContext ctx, out CommandResult reply)
    {
        var st = b.State.Step(step.Id);
        var approval = st.Approval!;
        if (ctx.Now >= approval.Deadline)
        {
            b.Add(new ApprovalExpired(step.Id, approval.ApprovalId, ctx.Now));
            if (!st.Promoted && !Halt(b, step, ExecutionOutcome.Expired, ctx)) Advance(b, ctx);
            reply = new CommandResult(false, "expired", $"the approval of step {step.Id} expired at {approval.Deadline:O}");
            return;
        }
        if (approval.Approvers.Contains(approver, StringComparer.OrdinalIgnoreCase))
        {
            reply = new CommandResult(false, "invalid", $"{approver} already approved step {step.Id}; four-eyes policy needs a second, different analyst");
            return;
        }
        if (AutonomyContract.RefuseApproved(approval.Reason, ctx.Policy) is { } refusal)
        {
            b.Add(new StepRefused(step.Id, refusal, ctx.Now));
            if (!st.Promoted && !Halt(b, step, ExecutionOutcome.Refused, ctx)) Advance(b, ctx);
            reply = new CommandResult(false, "refused", refusal);
            return;
        }
        if (approval.Approvers.Count + 1 < approval.RequiredApprovers)
        {
            b.Add(new ApprovalVoteRecorded(step.Id, approval.ApprovalId, approver, comment, ctx.Now));
            reply = new CommandResult(true, "vote_recorded", $"approval of step {step.Id} recorded for {approver}; {approval.RequiredApprovers - approval.Approvers.Count - 1} more distinct approver(s) needed (four-eyes)");
            return;
        }
        b.Add(new StepApproved(step.Id, approval.ApprovalId, approver, comment, ctx.Now));
        b.Effect(Run(b.State, step, b.State.Step(step.Id).Attempts + 1, ctx));
        reply = CommandResult.Done($"step {step.Id} approved by {approver}; running");
    }

    private static Decision Reject(ExecutionState state, RejectStep r, DecisionContext ctx)
    {
        var (step, problem) = PendingApproval(state, r.StepId);
        if (step is null) return Decision.Nothing(problem);
        var st = state.Step(step.Id);
        var b = new Builder(state);
        b.Add(new StepRejected(step.Id, st.Approval!.ApprovalId, r.By, r.Comment, ctx.Now));
        if (!st.Promoted && !Halt(b, step, ExecutionOutcome.Rejected, ctx)) Advance(b, ctx);
        return b.Build(CommandResult.Done($"step {step.Id} rejected by {r.By}"));
    }

    private static Decision Deadline(ExecutionState state, DeadlineReached d, DecisionContext ctx)
    {
        var step = state.Playbook!.FindStep(d.StepId);
        var st = state.Step(d.StepId);
        if (step is null || st.Status != StepStatus.WaitingApproval || st.Approval?.ApprovalId != d.ApprovalId) return Decision.Nothing(Stale(d));
        if (ctx.Now < st.Approval.Deadline) return new Decision([], [new ArmDeadline(d.StepId, d.ApprovalId, st.Approval.Deadline)], null);
        var b = new Builder(state);
        b.Add(new ApprovalExpired(d.StepId, d.ApprovalId, ctx.Now));
        if (!st.Promoted && !Halt(b, step, ExecutionOutcome.Expired, ctx)) Advance(b, ctx);
        return b.Build(new CommandResult(true, "expired", $"approval of step {d.StepId} expired"));
    }

    // ---- simulations ---------------------------------------------------------------------------------------------

    private static (PlaybookStep? Step, CommandResult? Problem) Simulation(ExecutionState state, string simulationId)
    {
        var step = state.Playbook!.Steps.FirstOrDefault(s => state.Step(s.Id).SimulationId == simulationId);
        if (step is null) return (null, new CommandResult(false, "not_found", $"no simulation {simulationId} in execution {state.ExecutionId}"));
        var st = state.Step(step.Id);
        if (st.Status == StepStatus.Simulated && !st.Promoted) return (step, null);
        return (null, st.Status == StepStatus.SimulationDismissed
            ? new CommandResult(true, "already_decided", $"simulation {simulationId} was dismissed")
            : AlreadyDecided(step.Id, st));
    }

    /// <summary>"Execute Now": the simulation becomes an L1 approval, and the analyst who pressed it is its (first) approver.</summary>
    private static Decision Promote(ExecutionState state, ExecuteSimulation x, DecisionContext ctx)
    {
        var (step, problem) = Simulation(state, x.SimulationId);
        if (step is null) return Decision.Nothing(problem);
        var b = new Builder(state);
        if (AutonomyContract.RefuseApproved(ApprovalReason.SimulationPromoted, ctx.Policy) is { } refusal)
        {
            b.Add(new StepRefused(step.Id, refusal, ctx.Now));
            return b.Build(new CommandResult(false, "refused", refusal));
        }
        var sim = state.Step(step.Id).Simulation!;
        if (TargetGuard.Check(ctx.Adapters.Catalog.Find(step.Adapter)?.Find(step.ActionType), sim.Parameters, ctx.Policy).Refusal is { } protectedTarget)
        {
            b.Add(new StepRefused(step.Id, protectedTarget, ctx.Now));
            return b.Build(new CommandResult(false, "refused", protectedTarget));
        }
        b.Add(new SimulationPromoted(step.Id, x.SimulationId, x.By, x.Comment, ctx.Now));
        b.Add(new ApprovalRequested(step.Id, $"apr-{state.ExecutionId}-{step.Id}", ApprovalReason.SimulationPromoted, AutonomyContract.RequiredApprovers(step, ctx.Policy),
            sim.Request, sim.Parameters, ctx.Now + ctx.Policy.Approval.Timeout, ctx.Now));
        Vote(b, step, x.By, x.Comment, ctx, out var reply);
        if (reply.Code == "vote_recorded")
            b.Effect(new ArmDeadline(step.Id, b.State.Step(step.Id).Approval!.ApprovalId, b.State.Step(step.Id).Approval!.Deadline));
        return b.Build(reply);
    }

    private static Decision Dismiss(ExecutionState state, DismissSimulation d, DecisionContext ctx)
    {
        var (step, problem) = Simulation(state, d.SimulationId);
        if (step is null) return Decision.Nothing(problem);
        var b = new Builder(state);
        b.Add(new SimulationDismissed(step.Id, d.SimulationId, d.By, d.Comment, ctx.Now));
        return b.Build(CommandResult.Done($"simulation {d.SimulationId} dismissed by {d.By}"));
    }

    // ---- rollback ------------------------------------------------------------------------------------------------

    private static Decision Rollback(ExecutionState state, RequestRollback r, DecisionContext ctx)
    {
        var pb = state.Playbook!;
        if (state.DryRun) return Decision.Nothing(new CommandResult(false, "refused", $"execution {state.ExecutionId} was a dry run: nothing was changed, so nothing can be rolled back"));
        // Only the step's declared inverse on the same adapter undoes it (checked again here: a playbook frozen in the
        // journal before the validator required it must not run another action on an analyst's rollback).
        bool Inverse(PlaybookStep s) => pb.Rollback.TryGetValue(s.Id, out var spec) && spec.Adapter == s.Adapter
            && spec.ActionType == ctx.Adapters.Catalog.Find(s.Adapter)?.Find(s.ActionType)?.Inverse;
        bool Eligible(PlaybookStep s) => s.RollbackAvailable && Inverse(s) && state.Step(s.Id) is { Status: StepStatus.Succeeded, Rollback: RollbackStatus.None or RollbackStatus.Failed };
        List<string> targets;
        if (r.StepId is not null)
        {
            var step = pb.FindStep(r.StepId);
            if (step is null) return Decision.Nothing(new CommandResult(false, "not_found", $"execution {state.ExecutionId} has no step '{r.StepId}'"));
            if (state.Step(step.Id).Rollback == RollbackStatus.RolledBack)
                return Decision.Nothing(new CommandResult(true, "already_decided", $"step {step.Id} was already rolled back"));
            if (!Eligible(step))
                return Decision.Nothing(new CommandResult(false, "invalid", $"step {step.Id} cannot be rolled back: it must be reversible (rollback_available with a rollback entry) and have run successfully"));
            targets = [step.Id];
        }
        else
        {
            targets = pb.Steps.Where(Eligible).Select(s => s.Id).Reverse().ToList(); // newest first
            if (targets.Count == 0)
                return Decision.Nothing(new CommandResult(false, "invalid", $"execution {state.ExecutionId} has no executed reversible step to roll back"));
        }
        var b = new Builder(state);
        b.Add(new RollbackRequested(targets, r.By, r.Reason, ctx.Now));
        if (state.RollbackQueue.Count == 0 && RollbackRun(b.State, b.State.RollbackQueue[0], 1, ctx) is { } run) b.Effect(run);
        return b.Build(CommandResult.Done($"rolling back {string.Join(", ", targets)} (newest first), requested by {r.By}"));
    }

    private static RunStep? RollbackRun(ExecutionState state, string stepId, int attempt, DecisionContext ctx)
    {
        var step = state.Playbook!.FindStep(stepId);
        if (step is null || !state.Playbook.Rollback.TryGetValue(stepId, out var spec)) return null;
        var parameters = Render(state, spec.Params, out _, ctx.Adapters.Find(spec.Adapter) as ITemplateEscaper);
        // What the forward call resolved and recorded wins over the templates: the un-isolate uses the device id that
        // containment found by host name, even when the alert carried none.
        if (state.Step(stepId).Undo is { } undo)
            foreach (var (key, value) in undo) parameters[key] = value?.DeepClone();
        return new RunStep(stepId, attempt, true, spec.Adapter, spec.ActionType, parameters,
            IdempotencyKey(state.ExecutionId, stepId, rollback: true), step.Timeout ?? TimeSpan.FromSeconds(30))
        {
            // The key the ledger recorded when the step ran (journals from before the ledger: computed as the step ran).
            Effect = state.Step(stepId).Effect ?? EffectOf(state, step, ctx),
        };
    }

    private static Decision RollbackAttempt(ExecutionState state, RecordAttempt a, DecisionContext ctx)
    {
        if (state.RollbackQueue.FirstOrDefault() != a.StepId) return Decision.Nothing(Stale(a));
        var step = state.Playbook!.FindStep(a.StepId)!;
        var b = new Builder(state);
        if (a.Result.Success) b.Add(new StepRolledBack(a.StepId, a.Result.Output, a.Result.Request, ctx.Now));
        else if (a.Result.Retryable && a.Attempt <= (step.Retry?.MaxRetries ?? ctx.Defaults.MaxRetries))
        {
            var at = ctx.Now + RetryDelay(step, a.Attempt, a.Result.RetryAfter, ctx);
            return new Decision([], [new ScheduleRetry(a.StepId, a.Attempt + 1, true, at)], null);
        }
        else b.Add(new StepRollbackFailed(a.StepId, a.Result.Error ?? "failed", ctx.Now));
        if (b.State.RollbackQueue.Count > 0 && RollbackRun(b.State, b.State.RollbackQueue[0], 1, ctx) is { } next) b.Effect(next);
        return b.Build(CommandResult.Done(a.Result.Success ? $"step {a.StepId} rolled back" : $"rollback of step {a.StepId} failed: {a.Result.Error}"));
    }

    // ---- resume --------------------------------------------------------------------------------------------------

    /// <summary>Re-issues every piece of open work after a restart: the step at the cursor, promoted simulations, rollbacks.</summary>
    private static Decision Resume(ExecutionState state, DecisionContext ctx)
    {
        var b = new Builder(state);
        Advance(b, ctx);
        foreach (var step in state.Playbook!.Steps)
        {
            var st = state.Step(step.Id);
            if (!st.Promoted) continue;
            switch (st.Status)
            {
                case StepStatus.Approved or StepStatus.Pending:
                    b.Effect(Run(state, step, st.Attempts + 1, ctx));
                    break;
                case StepStatus.RetryWaiting:
                    b.Effect(new ScheduleRetry(step.Id, st.Attempts + 1, false, st.RetryAt ?? ctx.Now));
                    break;
                case StepStatus.WaitingApproval:
                    b.Effect(new ArmDeadline(step.Id, st.Approval!.ApprovalId, st.Approval.Deadline));
                    break;
            }
        }
        if (state.RollbackQueue.Count > 0 && RollbackRun(state, state.RollbackQueue[0], 1, ctx) is { } rollback) b.Effect(rollback);
        return b.Build(null);
    }

    private static string Summary(ExecutionState state)
    {
        var counts = state.Steps.Values.GroupBy(s => s.Status).OrderBy(g => g.Key).Select(g => $"{g.Count()} {g.Key.ToString().ToLowerInvariant()}");
        return string.Join(", ", counts);
    }

    /// <summary>Collects events (applying each, so later decisions see the new state) and effects.</summary>
    private sealed class Builder(ExecutionState state)
    {
        private readonly List<IExecutionEvent> _events = [];
        private readonly List<Effect> _effects = [];

        public ExecutionState State { get; private set; } = state;

        public void Add(IExecutionEvent e)
        {
            _events.Add(e);
            State = State.Apply(e);
        }

        public void Effect(Effect e) => _effects.Add(e);

        public Decision Build(CommandResult? reply) => new(_events, _effects, reply);
    }
}
