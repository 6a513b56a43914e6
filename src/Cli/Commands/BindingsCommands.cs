using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using RunbookPilot.Domain.Bindings;
using RunbookPilot.Domain.Playbooks;
using RunbookPilot.Domain.Yaml;
using RunbookPilot.Domain.Core;
using RunbookPilot.Engine.Api;
using RunbookPilot.Cli.Backends;

namespace RunbookPilot.Cli.Commands;

/// <summary>
/// <c>runbookpilot bindings list|show|create|update|delete|evaluate|run|audit|export|import</c> and the kill switch
/// <c>runbookpilot pause|resume</c> — embedded over the database, or through a server with <c>--server</c>.
/// </summary>
internal static class BindingsCommands
{
    public static IEnumerable<Command> Build(CliServices services) => [Bindings(services), Pause(services, paused: true), Pause(services, paused: false)];

    private static Command Bindings(CliServices services)
    {
        var bindings = new Command("bindings", """
            Playbook bindings: which playbook runs for which alerts, in which mode (suggest, dry_run, auto_run), within which
            guardrails (max per minute, max concurrent, daily quota, per-key limits, once_within, circuit).

            Examples:
              runbookpilot bindings create --playbook ip_enrichment --mode dry_run --rule rbp-high-sev --max-per-minute 10 --max-concurrent 2 --daily-quota 100
              runbookpilot bindings list
              runbookpilot bindings evaluate <alert_id>          what every binding would decide now (changes nothing)
              runbookpilot bindings run <alert_id> --binding 3 --reason "confirmed"
              runbookpilot bindings export > bindings.yaml && runbookpilot bindings import bindings.yaml
            """);
        bindings.Subcommands.Add(List(services));
        bindings.Subcommands.Add(Show(services));
        bindings.Subcommands.Add(Save(services, create: true));
        bindings.Subcommands.Add(Save(services, create: false));
        bindings.Subcommands.Add(Delete(services));
        bindings.Subcommands.Add(Evaluate(services));
        bindings.Subcommands.Add(Run(services));
        bindings.Subcommands.Add(Audit(services));
        bindings.Subcommands.Add(Export(services));
        bindings.Subcommands.Add(Import(services));
        return bindings;
    }

    private static Command List(CliServices services)
    {
        var shared = EngineCommands.Shared.Create();
        var command = new Command("list", "List bindings with their guardrails, runs in flight, quota left today and state (paused, circuit open).");
        shared.AddTo(command);
        command.SetAction((p, ct) => EngineCommands.WithBackend(services, p, shared, async (backend, output) =>
        {
            var view = await backend.BindingsAsync(ct);
            if (p.GetValue(shared.Output) == OutputFormat.Json)
            {
                output.WriteLine(view.ToJsonString(Common.Json));
                return 0;
            }
            Common.WriteTable(output, ["ID", "PLAYBOOK", "MODE", "MATCH", "GUARDRAILS", "INFLIGHT", "QUOTA LEFT", "STATE"],
                view["bindings"]!.AsArray().Select(b => (IReadOnlyList<string>)
                [
                    Text(b!["id"]), Text(b["spec"]!["playbook_id"]), Text(b["spec"]!["mode"]), Match(b["spec"]!["match"]), Guardrails(b["effective_guardrails"]),
                    Text(b["inflight"]), b["quota_remaining"]!.GetValue<int>() < 0 ? "unlimited" : Text(b["quota_remaining"]), State(b),
                ]).ToList());
            WriteControl(output, view);
            return 0;
        }));
        return command;
    }

    private static Command Show(CliServices services)
    {
        var shared = EngineCommands.Shared.Create();
        var id = new Argument<int>("binding_id") { Description = "The binding" };
        var command = new Command("show", "Show a binding (as stored, and the guardrails in force after its preset) and its recent decisions.") { id };
        shared.AddTo(command);
        command.SetAction((p, ct) => EngineCommands.WithBackend(services, p, shared, async (backend, output) =>
        {
            var binding = (await backend.BindingsAsync(ct))["bindings"]!.AsArray().FirstOrDefault(b => b!["id"]!.GetValue<int>() == p.GetValue(id))
                ?? throw new BackendException($"no binding {p.GetValue(id)}");
            var audit = await backend.RunAuditAsync(null, p.GetValue(id), ct);
            if (p.GetValue(shared.Output) == OutputFormat.Json)
            {
                output.WriteLine(new JsonObject { ["binding"] = binding.DeepClone(), ["audit"] = audit.DeepClone() }.ToJsonString(Common.Json));
                return 0;
            }
            output.WriteLine($"Binding {binding["id"]}: {binding["spec"]!["playbook_id"]} in mode {binding["spec"]!["mode"]} — {State(binding)}");
            output.WriteLine($"Created by {binding["created_by"]} at {binding["created_at"]}; changed by {binding["updated_by"]} at {binding["updated_at"]}");
            output.WriteLine($"Match: {Match(binding["spec"]!["match"])}");
            output.WriteLine($"Guardrails in force: {Guardrails(binding["effective_guardrails"])}");
            output.WriteLine($"In flight: {binding["inflight"]}; quota left today: {(binding["quota_remaining"]!.GetValue<int>() < 0 ? "unlimited" : Text(binding["quota_remaining"]))}");
            output.WriteLine();
            WriteAudit(output, audit);
            return 0;
        }));
        return command;
    }

    /// <summary>create, or update (the flags given change the stored binding; the others stay).</summary>
    private static Command Save(CliServices services, bool create)
    {
        var shared = EngineCommands.Shared.Create();
        var id = new Argument<int>("binding_id") { Description = "The binding to change" };
        var playbook = new Option<string?>("--playbook") { Description = "The playbook to run", Required = create };
        var mode = new Option<string?>("--mode") { Description = "suggest, dry_run or auto_run", Required = create };
        mode.AcceptOnlyFromAmong("suggest", "dry_run", "auto_run");
        var rules = new Option<string[]>("--rule") { Description = "Match alerts of this rule id (repeatable)" };
        var types = new Option<string[]>("--type") { Description = "Match alerts of this type, event.category (repeatable)" };
        var severities = new Option<string[]>("--severity") { Description = "Match this severity: low, medium, high, critical (repeatable)" };
        var tags = new Option<string[]>("--tag") { Description = "Match alerts carrying this tag (repeatable; all must be present)" };
        var perMinute = new Option<int?>("--max-per-minute") { Description = "Runs per minute (token bucket)" };
        var concurrent = new Option<int?>("--max-concurrent") { Description = "Runs in flight at once" };
        var quota = new Option<int?>("--daily-quota") { Description = "Runs per day" };
        var key = new Option<string?>("--key") { Description = "Apply the limits per value of this alert field (host.name, source.ip, user.name)" };
        var onceWithin = new Option<string?>("--once-within") { Description = "Drop a repeat for the same key within this window, such as 10m" };
        var zone = new Option<string?>("--time-zone") { Description = "Time zone of the daily quota's day (IANA, default UTC)" };
        var preset = new Option<string?>("--preset") { Description = "soc_high or critical_edge: guardrail values not set here" };
        preset.AcceptOnlyFromAmong("soc_high", "critical_edge");
        var priority = new Option<int?>("--priority") { Description = "Higher first when several bindings fit" };
        var enabled = new Option<bool?>("--enabled") { Description = "true or false" };
        var description = new Option<string?>("--description") { Description = "What the binding is for" };
        var analyst = EngineCommands.Analyst();
        var command = new Command(create ? "create" : "update", create
            ? "Create a binding.\n\nExample:\n  runbookpilot bindings create --playbook ip_enrichment --mode dry_run --rule rbp-high-sev --max-per-minute 10 --max-concurrent 2 --daily-quota 100"
            : "Change a binding: the options given replace those values, the rest stays.\n\nExample:\n  runbookpilot bindings update 3 --mode auto_run --daily-quota 50")
        {
            playbook, mode, rules, types, severities, tags, perMinute, concurrent, quota, key, onceWithin, zone, preset, priority, enabled, description, analyst,
        };
        if (!create) command.Arguments.Add(id);
        shared.AddTo(command);
        command.SetAction((p, ct) => EngineCommands.WithBackend(services, p, shared, async (backend, output) =>
        {
            BindingSpec spec;
            if (create) spec = new BindingSpec { PlaybookId = p.GetValue(playbook)!, Mode = Mode(p.GetValue(mode)!) };
            else
            {
                var stored = (await backend.BindingsAsync(ct))["bindings"]!.AsArray().FirstOrDefault(b => b!["id"]!.GetValue<int>() == p.GetValue(id))
                    ?? throw new BackendException($"no binding {p.GetValue(id)}");
                spec = BindingJson.Read(stored["spec"]!.ToJsonString(), out _)! with { Id = p.GetValue(id) };
                if (p.GetValue(playbook) is { } pb) spec = spec with { PlaybookId = pb };
                if (p.GetValue(mode) is { } m) spec = spec with { Mode = Mode(m) };
            }
            var match = spec.Match;
            if (p.GetValue(rules) is { Length: > 0 } r) match = match with { RuleIds = r };
            if (p.GetValue(types) is { Length: > 0 } t) match = match with { AlertTypes = t };
            if (p.GetValue(severities) is { Length: > 0 } s) match = match with { Severities = s.Select(Severity).ToList() };
            if (p.GetValue(tags) is { Length: > 0 } tg) match = match with { Tags = tg };
            var g = spec.Guardrails;
            g = g with
            {
                MaxPerMinute = p.GetValue(perMinute) ?? g.MaxPerMinute,
                MaxConcurrent = p.GetValue(concurrent) ?? g.MaxConcurrent,
                DailyQuota = p.GetValue(quota) ?? g.DailyQuota,
                Key = p.GetValue(key) ?? g.Key,
                OnceWithin = p.GetValue(onceWithin) is { } w ? Duration(w, "--once-within") : g.OnceWithin,
                TimeZone = p.GetValue(zone) ?? g.TimeZone,
            };
            spec = spec with
            {
                Match = match,
                Guardrails = g,
                Preset = p.GetValue(preset) is { } pr ? (pr == "soc_high" ? GuardrailPreset.SocHigh : GuardrailPreset.CriticalEdge) : spec.Preset,
                Priority = p.GetValue(priority) ?? spec.Priority,
                Enabled = p.GetValue(enabled) ?? spec.Enabled,
                Description = p.GetValue(description) ?? spec.Description,
            };
            var saved = (await backend.SaveBindingAsync(spec, p.GetValue(analyst)!, ct))["binding"]!;
            if (p.GetValue(shared.Output) == OutputFormat.Json) output.WriteLine(saved.ToJsonString(Common.Json));
            else output.WriteLine($"binding {saved["id"]} {(create ? "created" : "updated")}: {saved["spec"]!["playbook_id"]} in mode {saved["spec"]!["mode"]}; guardrails {Guardrails(saved["effective_guardrails"])}");
            return 0;
        }));
        return command;
    }

    private static Command Delete(CliServices services)
    {
        var shared = EngineCommands.Shared.Create();
        var id = new Argument<int>("binding_id") { Description = "The binding to delete" };
        var analyst = EngineCommands.Analyst();
        var command = new Command("delete", "Delete a binding (its audit rows stay).\n\nExample:\n  runbookpilot bindings delete 3") { id, analyst };
        shared.AddTo(command);
        command.SetAction((p, ct) => EngineCommands.WithBackend(services, p, shared, async (backend, output) =>
        {
            await backend.DeleteBindingAsync(p.GetValue(id), p.GetValue(analyst)!, ct);
            output.WriteLine($"binding {p.GetValue(id)} deleted");
            return 0;
        }));
        return command;
    }

    private static Command Evaluate(CliServices services)
    {
        var shared = EngineCommands.Shared.Create();
        var alert = new Argument<string>("alert_id") { Description = "An accepted alert (its event.id)" };
        var command = new Command("evaluate", "What every binding would decide for an alert now. Changes nothing (no run, no quota used).\n\nExample:\n  runbookpilot bindings evaluate evt-123")
        {
            alert,
        };
        shared.AddTo(command);
        command.SetAction((p, ct) => EngineCommands.WithBackend(services, p, shared, async (backend, output) =>
        {
            var decisions = await backend.EvaluateBindingsAsync(p.GetValue(alert)!, ct);
            if (p.GetValue(shared.Output) == OutputFormat.Json) output.WriteLine(new JsonObject { ["decisions"] = decisions.DeepClone() }.ToJsonString(Common.Json));
            else WriteDecisions(output, decisions);
            return 0;
        }));
        return command;
    }

    private static Command Run(CliServices services)
    {
        var shared = EngineCommands.Shared.Create();
        var alert = new Argument<string>("alert_id") { Description = "An accepted alert (its event.id)" };
        var binding = new Option<int>("--binding") { Description = "The binding to run", Required = true };
        var mode = new Option<string?>("--mode") { Description = "auto_run (default: the real playbook, autonomy contract kept) or dry_run" };
        mode.AcceptOnlyFromAmong("dry_run", "auto_run");
        var reason = new Option<string?>("--reason") { Description = "Why (kept in the audit trail)" };
        var analyst = EngineCommands.Analyst();
        var command = new Command("run", """
            Run a binding for an alert now, bypassing its guardrails (rate, concurrency, quota) but not the autonomy contract:
            L1 steps still wait for approval, L2 steps are still simulated. Audited with who and why.

            Example:
              runbookpilot bindings run evt-123 --binding 3 --reason "confirmed with the asset owner"
            """) { alert, binding, mode, reason, analyst };
        shared.AddTo(command);
        command.SetAction((p, ct) => EngineCommands.WithBackend(services, p, shared, async (backend, output) =>
        {
            var decision = await backend.RunBindingAsync(p.GetValue(alert)!, p.GetValue(binding), p.GetValue(mode) is { } m ? Mode(m) : null, p.GetValue(analyst)!, p.GetValue(reason), ct);
            if (p.GetValue(shared.Output) == OutputFormat.Json) output.WriteLine(decision.ToJsonString(Common.Json));
            else output.WriteLine($"{decision["decision"]}: execution {decision["execution_id"]} ({decision["reason"]})");
            return 0;
        }));
        return command;
    }

    private static Command Audit(CliServices services)
    {
        var shared = EngineCommands.Shared.Create();
        var alert = new Option<string?>("--alert") { Description = "Only this alert's decisions" };
        var binding = new Option<int?>("--binding") { Description = "Only this binding's decisions" };
        var command = new Command("audit", "Binding decisions and finished runs (playbook_run_audit), oldest first.\n\nExample:\n  runbookpilot bindings audit --binding 3") { alert, binding };
        shared.AddTo(command);
        command.SetAction((p, ct) => EngineCommands.WithBackend(services, p, shared, async (backend, output) =>
        {
            var rows = await backend.RunAuditAsync(p.GetValue(alert), p.GetValue(binding), ct);
            if (p.GetValue(shared.Output) == OutputFormat.Json) output.WriteLine(new JsonObject { ["audit"] = rows.DeepClone() }.ToJsonString(Common.Json));
            else WriteAudit(output, rows);
            return 0;
        }));
        return command;
    }

    private static Command Export(CliServices services)
    {
        var shared = EngineCommands.Shared.Create();
        var file = new Option<string?>("--file", "-f") { Description = "Write to this file instead of standard output" };
        var command = new Command("export", "Write every binding as bindings.yaml (to keep in git; 'import' reads it back).\n\nExample:\n  runbookpilot bindings export -f bindings.yaml")
        {
            file,
        };
        shared.AddTo(command);
        command.SetAction((p, ct) => EngineCommands.WithBackend(services, p, shared, async (backend, output) =>
        {
            var specs = (await backend.BindingsAsync(ct))["bindings"]!.AsArray().Select(b => BindingJson.Read(b!["spec"]!.ToJsonString(), out _)!).ToList();
            var yaml = "# RunbookPilot playbook bindings (runbookpilot bindings export); import with: runbookpilot bindings import <file>\n" + ToYaml(specs);
            if (p.GetValue(file) is { } path)
            {
                await File.WriteAllTextAsync(path, yaml, ct);
                output.WriteLine($"{specs.Count} binding(s) written to {path}");
            }
            else output.Write(yaml);
            return 0;
        }));
        return command;
    }

    private static Command Import(CliServices services)
    {
        var shared = EngineCommands.Shared.Create();
        var file = new Argument<string>("file") { Description = "A bindings.yaml" };
        var replace = new Option<bool>("--replace") { Description = "Also delete bindings that the file does not list" };
        var analyst = EngineCommands.Analyst();
        var command = new Command("import", """
            Create or update bindings from a bindings.yaml: an entry whose id exists is updated, any other is created. The whole
            file is checked first (line and column for every problem); nothing is changed unless all of it is valid.

            Example:
              runbookpilot bindings import bindings.yaml --replace
            """) { file, replace, analyst };
        shared.AddTo(command);
        command.SetAction((p, ct) => EngineCommands.WithBackend(services, p, shared, async (backend, output) =>
        {
            var path = p.GetValue(file)!;
            var playbooks = await backend.PlaybookIdsAsync(ct);
            var loaded = ModelLoader.LoadFile<BindingsFile>(path, (f, ctx) =>
            {
                for (var i = 0; i < f.Bindings.Count; i++)
                    foreach (var (field, message) in BindingValidator.Check(f.Bindings[i], playbooks, $"bindings[{i}]."))
                        ctx.Error(field, message);
                foreach (var dup in f.Bindings.Where(b => b.Id is not null).GroupBy(b => b.Id).Where(g => g.Count() > 1))
                    ctx.Error($"bindings[{f.Bindings.ToList().FindLastIndex(b => b.Id == dup.Key)}].id", $"id {dup.Key} appears more than once");
            });
            if (!loaded.Ok)
            {
                foreach (var e in loaded.Errors) await p.InvocationConfiguration.Error.WriteLineAsync(e.ToString());
                await p.InvocationConfiguration.Error.WriteLineAsync($"error: {path} has {loaded.Errors.Count} problem(s); nothing was imported");
                return 1;
            }
            var existing = (await backend.BindingsAsync(ct))["bindings"]!.AsArray().Select(b => b!["id"]!.GetValue<int>()).ToHashSet();
            int created = 0, updated = 0, deleted = 0;
            var kept = new HashSet<int>();
            foreach (var spec in loaded.Value!.Bindings)
            {
                var isUpdate = spec.Id is { } id && existing.Contains(id);
                var saved = (await backend.SaveBindingAsync(isUpdate ? spec : spec with { Id = null }, p.GetValue(analyst)!, ct))["binding"]!;
                kept.Add(saved["id"]!.GetValue<int>());
                if (isUpdate) updated++;
                else created++;
            }
            if (p.GetValue(replace))
            {
                foreach (var id in existing.Where(id => !kept.Contains(id)))
                {
                    await backend.DeleteBindingAsync(id, p.GetValue(analyst)!, ct);
                    deleted++;
                }
            }
            output.WriteLine($"{path}: {created} created, {updated} updated, {deleted} deleted");
            return 0;
        }));
        return command;
    }

    private static Command Pause(CliServices services, bool paused)
    {
        var shared = EngineCommands.Shared.Create();
        var playbook = new Option<string?>("--playbook") { Description = "Only this playbook" };
        var binding = new Option<int?>("--binding") { Description = "Only this binding (resuming a binding also closes its circuit)" };
        var reason = new Option<string?>("--reason") { Description = "Why (shown everywhere the pause is shown)" };
        var analyst = EngineCommands.Analyst();
        var command = paused
            ? new Command("pause", """
                Kill switch: stop starting new executions at once — everywhere, for one playbook or for one binding. Alerts keep
                being accepted and are held (nothing is lost); resuming decides them. Survives restarts.

                Examples:
                  runbookpilot pause --reason "firewall change freeze"
                  runbookpilot pause --playbook lateral_movement_L1
                """) { playbook, binding, reason, analyst }
            : new Command("resume", "Turn a kill switch off; alerts held meanwhile are decided now, in arrival order.\n\nExample:\n  runbookpilot resume --playbook lateral_movement_L1")
            {
                playbook, binding, reason, analyst,
            };
        shared.AddTo(command);
        command.SetAction(async (p, ct) =>
        {
            if (p.GetValue(playbook) is not null && p.GetValue(binding) is not null)
            {
                await p.InvocationConfiguration.Error.WriteLineAsync("error: give --playbook or --binding, not both");
                return 2;
            }
            var (scope, target) = p.GetValue(playbook) is { } pb ? (PauseScope.Playbook, pb)
                : p.GetValue(binding) is { } b ? (PauseScope.Binding, b.ToString(CultureInfo.InvariantCulture))
                : (PauseScope.Global, "");
            return await EngineCommands.WithBackend(services, p, shared, async (backend, output) =>
            {
                output.WriteLine(await backend.PauseAsync(scope, target, paused, p.GetValue(analyst)!, p.GetValue(reason), ct));
                WriteControl(output, await backend.BindingsAsync(ct));
                return 0;
            });
        });
        return command;
    }

    // ---- helpers ----------------------------------------------------------------------------------------------

    private static BindingMode Mode(string text) => text switch
    {
        "suggest" => BindingMode.Suggest,
        "dry_run" => BindingMode.DryRun,
        _ => BindingMode.AutoRun,
    };

    private static AlertSeverity Severity(string text) =>
        Enum.TryParse<AlertSeverity>(text, ignoreCase: true, out var s) && Enum.IsDefined(s) ? s : throw new BackendException($"--severity: '{text}' is not low, medium, high or critical");

    private static TimeSpan Duration(string text, string option) =>
        YamlBinder.TryParseDuration(text, out var t) ? t : throw new BackendException($"{option}: '{text}' is not a duration such as 30s, 10m or 4h");

    private static string Text(JsonNode? node) => node switch
    {
        null => "-",
        JsonValue v when v.TryGetValue<string>(out var s) => s,
        _ => node.ToJsonString(),
    };

    private static string Match(JsonNode? m) => m.Deserialize<BindingMatch>(BindingJson.Options)?.Describe() ?? "global";

    private static string Guardrails(JsonNode? g) => g.Deserialize<GuardrailSpec>(BindingJson.Options)?.Describe() ?? "none";

    private static string State(JsonNode b) =>
        b["circuit_open"]!.GetValue<bool>() ? "CIRCUIT OPEN"
        : b["paused"] is { } paused ? $"PAUSED ({Text(paused["scope"])} by {Text(paused["by"])})"
        : b["spec"]!["enabled"]!.GetValue<bool>() ? "active" : "disabled";

    private static void WriteControl(TextWriter output, JsonObject view)
    {
        foreach (var p in view["paused"]!.AsArray())
            output.WriteLine($"PAUSED: {(Text(p!["scope"]) == "global" ? "everything" : $"{Text(p["scope"])} {Text(p["target"])}")} by {Text(p["by"])} at {Text(p["at"])}"
                + (p["reason"] is { } r ? $" — {Text(r)}" : ""));
        if (view["held_decisions"]!.GetValue<int>() is var held and > 0) output.WriteLine($"{held} decision(s) held until resume");
    }

    private static void WriteDecisions(TextWriter output, JsonArray decisions) =>
        Common.WriteTable(output, ["BINDING", "PLAYBOOK", "MODE", "DECISION", "KEY", "REASON"],
            decisions.Select(d => (IReadOnlyList<string>)[d!["binding_id"] is null ? "implicit" : Text(d["binding_id"]), Text(d["playbook_id"]), Text(d["mode"]), Text(d["decision"]),
                Text(d["key"]) is { Length: > 0 } k ? k : "-", Text(d["reason"])]).ToList());

    private static void WriteAudit(TextWriter output, JsonArray rows) =>
        Common.WriteTable(output, ["STARTED", "ALERT", "BINDING", "PLAYBOOK", "MODE", "DECISION", "PHASE", "SUCCESS", "BY", "REASON"],
            rows.Select(r => (IReadOnlyList<string>)[Text(r!["started_at"]), Text(r["alert_id"]), r["binding_id"] is null ? "implicit" : Text(r["binding_id"]), Text(r["playbook_id"]),
                Text(r["mode"]), Text(r["decision"]), Text(r["phase"]), Text(r["success"]), Text(r["by"]), Text(r["reason"])]).ToList());

    /// <summary>bindings.yaml: the same keys and values as the binding JSON, without nulls and empty lists.</summary>
    private static string ToYaml(IReadOnlyList<BindingSpec> specs)
    {
        var node = JsonSerializer.SerializeToNode(new BindingsFile { Bindings = specs }, BindingJson.Options);
        return new YamlDotNet.Serialization.SerializerBuilder().Build().Serialize(Plain(node));
    }

    private static object? Plain(JsonNode? node) => node switch
    {
        JsonObject o => o.Where(kv => kv.Value is not null && kv.Value is not JsonArray { Count: 0 } && kv.Value is not JsonObject { Count: 0 })
            .ToDictionary(kv => kv.Key, kv => Plain(kv.Value)),
        JsonArray a => a.Select(Plain).ToList(),
        JsonValue v when v.TryGetValue<bool>(out var b) => b,
        JsonValue v when v.TryGetValue<int>(out var i) => i,
        JsonValue v when v.TryGetValue<double>(out var d) => d,
        JsonValue v => v.GetValue<string>(),
        _ => null,
    };
}
