using System.Net;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using RunbookPilot.Domain.Adapters;
using RunbookPilot.Domain.Yaml;

namespace RunbookPilot.Domain.Playbooks;

/// <summary>
/// The checks that need more than the shape of the document: step references, the autonomy rules, adapters and
/// their actions, rollback, templates and condition values. Reports through the binder so every error is located.
/// </summary>
public static class PlaybookValidator
{
    private static readonly TimeSpan MaxStepTimeout = TimeSpan.FromHours(1);

    public static void Validate(Playbook pb, YamlBinder ctx, AdapterCatalog catalog)
    {
        ValidateTrigger(pb.Trigger, ctx);

        if (pb.Steps.Count == 0) ctx.Error("steps", "a playbook needs at least one step");

        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < pb.Steps.Count; i++)
        {
            var step = pb.Steps[i];
            var path = YamlBinder.Index("steps", i);
            if (!index.TryAdd(step.Id, i))
                ctx.Error(path + ".id", $"duplicate step id '{step.Id}' (first used by steps[{index[step.Id]}])");
            ValidateStep(pb, step, i, path, index, ctx, catalog);
        }

        foreach (var (stepId, rollback) in pb.Rollback)
            ValidateRollback(pb, stepId, rollback, ctx, catalog);

        if (pb.Enrichment is { } enrichment)
        {
            for (var i = 0; i < enrichment.Prompts.Count; i++)
            {
                var path = $"enrichment.prompts[{i}].template";
                CheckTemplates(enrichment.Prompts[i].Template, path, ctx, stepRef: id => pb.FindStep(id) is null ? UnknownStep(id, pb) : null);
            }
        }
    }

    private static void ValidateTrigger(Trigger trigger, YamlBinder ctx)
    {
        if (trigger.Techniques.Count == 0 && trigger.Conditions.Count == 0 && trigger.Rules.Count == 0)
            ctx.Error("trigger", "the trigger matches nothing: give at least one of techniques, conditions or rules");

        for (var i = 0; i < trigger.Conditions.Count; i++)
            ValidateCondition(trigger.Conditions[i], $"trigger.conditions[{i}]", ctx);
    }

    private static void ValidateCondition(TriggerCondition c, string path, YamlBinder ctx)
    {
        var valuePath = path + ".value";
        var op = ModelShape.EnumName(c.Operator);
        switch (c.Operator)
        {
            case ConditionOperator.Exists:
                if (c.Value is not null && c.Value.GetValueKind() is not (System.Text.Json.JsonValueKind.True or System.Text.Json.JsonValueKind.False))
                    ctx.Error(valuePath, "'exists' takes true, false or no value");
                break;
            case ConditionOperator.In:
                if (c.Value is not JsonArray { Count: > 0 })
                    ctx.Error(c.Value is null ? path : valuePath, "'in' needs a non-empty list as its value");
                break;
            case ConditionOperator.Gt or ConditionOperator.Gte or ConditionOperator.Lt or ConditionOperator.Lte:
                if (c.Value is not JsonValue v || v.GetValueKind() != System.Text.Json.JsonValueKind.Number)
                    ctx.Error(c.Value is null ? path : valuePath, $"'{op}' needs a number as its value");
                break;
            case ConditionOperator.Regex:
                if (ScalarText(c.Value) is not { } pattern)
                    ctx.Error(c.Value is null ? path : valuePath, "'regex' needs a regular expression as its value");
                else
                {
                    try
                    {
                        _ = new Regex(pattern, RegexOptions.CultureInvariant, TimeSpan.FromMilliseconds(100));
                    }
                    catch (ArgumentException ex)
                    {
                        ctx.Error(valuePath, $"regular expression does not compile: {ex.Message}");
                    }
                }
                break;
            case ConditionOperator.Cidr:
                var cidrs = c.Value is JsonArray arr ? arr.Select(ScalarText).ToList() : [ScalarText(c.Value)];
                if (cidrs.Count == 0 || cidrs.Any(x => x is null || !IPNetwork.TryParse(x, out _)))
                    ctx.Error(c.Value is null ? path : valuePath, "'cidr' needs a network such as 10.0.0.0/8 (or a list of them)");
                break;
            default:
                if (c.Value is null or JsonObject or JsonArray)
                    ctx.Error(c.Value is null ? path : valuePath, $"'{op}' needs a single value to compare with");
                break;
        }
    }

    private static void ValidateStep(Playbook pb, PlaybookStep step, int position, string path, Dictionary<string, int> index, YamlBinder ctx, AdapterCatalog catalog)
    {
        if (step.AutonomyLevel > pb.AutonomyLevel)
            ctx.Error(path + ".autonomy_level", $"step '{step.Id}' is {step.AutonomyLevel} but the playbook's autonomy_level is {pb.AutonomyLevel}; raise the playbook's level or lower the step's");

        if (step.AutonomyLevel == AutonomyLevel.L2 && step.SimulationMode == false)
            ctx.Error(path + ".simulation_mode", $"step '{step.Id}' is L2, and L2 steps only run as simulations (auto-executing L2 is out of scope); remove 'simulation_mode: false'");

        if (step.Timeout is { } timeout && (timeout <= TimeSpan.Zero || timeout > MaxStepTimeout))
            ctx.Error(path + ".timeout", $"timeout must be more than 0 and at most {YamlBinder.FormatDuration(MaxStepTimeout)}");

        if (step.Retry is { } retry && (retry.InitialDelay < TimeSpan.Zero || retry.InitialDelay > MaxStepTimeout))
            ctx.Error(path + ".retry.initial_delay", $"initial_delay must be between 0 and {YamlBinder.FormatDuration(MaxStepTimeout)}");

        var action = CheckAction(step.Adapter, step.ActionType, step.Params, path, ctx, catalog);
        if (action is not null)
        {
            if (step.AutonomyLevel == AutonomyLevel.L0 && action.Kind != ActionKind.ReadOnly)
                ctx.Error(path + ".autonomy_level", $"step '{step.Id}' is L0, but {step.Adapter}.{step.ActionType} changes state; L0 is for read-only actions (use L1 or L2)");
            if (action.SimulateFirst && step.AutonomyLevel < AutonomyLevel.L2)
                ctx.Error(path + ".autonomy_level", $"step '{step.Id}' is {step.AutonomyLevel}, but {step.Adapter}.{step.ActionType} must be L2 at least"
                    + (action.Kind == ActionKind.Irreversible ? " (it cannot be undone: it is simulated first and only an analyst's 'Execute Now' runs it)" : "")
                    + "; set autonomy_level: L2 (and the playbook's autonomy_level too)");
            if (step.RollbackAvailable && action.Kind != ActionKind.Reversible)
                ctx.Error(path + ".rollback_available", $"{step.Adapter}.{step.ActionType} cannot be undone, so rollback_available must not be true");
        }

        if (step.RollbackAvailable && !pb.Rollback.ContainsKey(step.Id))
            ctx.Error(path + ".rollback_available", $"step '{step.Id}' says rollback_available: true but 'rollback' has no entry '{step.Id}'");

        foreach (var (name, value) in step.Params)
        {
            foreach (var (p, text) in Templates.Strings(value, YamlBinder.Child(path + ".params", name)))
            {
                CheckTemplates(text, p, ctx, stepRef: id =>
                {
                    if (!index.TryGetValue(id, out var at) || at > position)
                        return pb.FindStep(id) is null ? UnknownStep(id, pb) : $"refers to step '{id}', which runs after step '{step.Id}'";
                    return at == position ? $"refers to its own step '{id}'; a step can only use the output of earlier steps" : null;
                });
            }
        }
    }

    private static void ValidateRollback(Playbook pb, string stepId, RollbackSpec rollback, YamlBinder ctx, AdapterCatalog catalog)
    {
        var path = YamlBinder.Child("rollback", stepId);
        var step = pb.FindStep(stepId);
        if (step is null)
        {
            ctx.Error(path, $"rollback entry for unknown step '{stepId}'{DidYouMean.Hint(stepId, pb.Steps.Select(s => s.Id))}");
            return;
        }
        if (!step.RollbackAvailable)
            ctx.Error(path, $"step '{stepId}' has a rollback entry but is not marked rollback_available: true");
        else if (catalog.Find(step.Adapter)?.Find(step.ActionType) is { Kind: not ActionKind.Reversible })
            ctx.Error(path, $"step '{stepId}' ({step.Adapter}.{step.ActionType}) is not reversible, so it cannot have a rollback entry");

        CheckAction(rollback.Adapter, rollback.ActionType, rollback.Params, path, ctx, catalog);
        // A rollback undoes its step: the same adapter and the action's declared inverse, nothing else (a rollback entry
        // naming another action would run it on an analyst's rollback, outside approvals).
        if (step.RollbackAvailable && catalog.Find(step.Adapter)?.Find(step.ActionType) is { Kind: ActionKind.Reversible } forward
            && (rollback.Adapter != step.Adapter || rollback.ActionType != forward.Inverse))
            ctx.Error(path + ".action_type", $"the rollback of step '{stepId}' must be {step.Adapter}.{forward.Inverse} (the inverse of {step.Adapter}.{step.ActionType}), not {rollback.Adapter}.{rollback.ActionType}");
        foreach (var (name, value) in rollback.Params)
            foreach (var (p, text) in Templates.Strings(value, YamlBinder.Child(path + ".params", name)))
                CheckTemplates(text, p, ctx, stepRef: id => pb.FindStep(id) is null ? UnknownStep(id, pb) : null);
    }

    private static ActionDescriptor? CheckAction(string adapterName, string actionName, IReadOnlyDictionary<string, JsonNode?> parameters, string path, YamlBinder ctx, AdapterCatalog catalog)
    {
        var adapter = catalog.Find(adapterName);
        if (adapter is null)
        {
            ctx.Error(path + ".adapter", $"unknown adapter '{adapterName}'{DidYouMean.Hint(adapterName, catalog.Adapters.Select(a => a.Name))}; known: {string.Join(", ", catalog.Adapters.Select(a => a.Name).Order(StringComparer.Ordinal))}");
            return null;
        }
        var action = adapter.Find(actionName);
        if (action is null)
        {
            ctx.Error(path + ".action_type", $"adapter '{adapterName}' has no action '{actionName}'{DidYouMean.Hint(actionName, adapter.Actions.Select(a => a.Name))}; it has: {string.Join(", ", adapter.Actions.Select(a => a.Name))}");
            return null;
        }
        foreach (var required in action.RequiredParams)
            if (!parameters.TryGetValue(required, out var v) || v is null)
                ctx.Error(path + ".params", $"{adapterName}.{actionName} needs the parameter '{required}'");
        foreach (var name in parameters.Keys)
            if (!action.AllParams.Contains(name, StringComparer.Ordinal))
                ctx.Error(YamlBinder.Child(path + ".params", name), $"{adapterName}.{actionName} has no parameter '{name}'{DidYouMean.Hint(name, action.AllParams)}");
        return action;
    }

    private static void CheckTemplates(string text, string path, YamlBinder ctx, Func<string, string?> stepRef)
    {
        foreach (var t in Templates.Scan(text, problem => ctx.Error(path, problem)))
        {
            if (t.StepId is not { } id) continue;
            var segments = t.Segments;
            if (segments.Length < 3 || segments[2] is not ("output" or "status"))
            {
                ctx.Error(path, $"template '{{{{{t.Expression}}}}}' must look like steps.<id>.output.<path> or steps.<id>.status");
                continue;
            }
            if (stepRef(id) is { } problem) ctx.Error(path, $"template '{{{{{t.Expression}}}}}' {problem}");
        }
    }

    private static string UnknownStep(string id, Playbook pb) => $"refers to unknown step '{id}'{DidYouMean.Hint(id, pb.Steps.Select(s => s.Id))}";

    private static string? ScalarText(JsonNode? node) => node is JsonValue v ? v.ToString() : null;
}
