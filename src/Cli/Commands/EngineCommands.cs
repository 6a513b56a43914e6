using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using RunbookPilot.Engine.Api;
using RunbookPilot.Domain.Alerts;
using RunbookPilot.Domain.Execution;
using RunbookPilot.Engine.Execution;
using RunbookPilot.Engine.Hosting;
using RunbookPilot.Engine.ReadModel;
using RunbookPilot.Domain.Core;
using RunbookPilot.Engine.Configuration;
using RunbookPilot.Cli.Backends;

namespace RunbookPilot.Cli.Commands;

/// <summary>
/// The commands that run the engine embedded over the database file (PRD F2.1, F3, F4, F6): execute, approve, reject,
/// list-approvals, list-executions, show, rollback, list-simulations, execute-simulation, dismiss-simulation.
/// </summary>
internal static class EngineCommands
{
    internal sealed record Shared(Option<string> Db, Option<string> Playbooks, Option<string?> Policy, Option<string?> Adapters, Option<string?> Sigma, Option<string> Plugins, Option<OutputFormat> Output, Option<Uri?> Server, Option<bool> Demo)
    {
        public static Shared Create() => new(Common.DbOption(), Common.PlaybooksOption(), Common.PolicyOption(), Common.AdaptersOption(), Common.SigmaOption(),
            Common.PluginsOption(), Common.OutputOption(), Common.ServerOption(), Common.DemoOption());

        public void AddTo(Command c)
        {
            c.Options.Add(Server);
            c.Options.Add(Db);
            c.Options.Add(Playbooks);
            c.Options.Add(Policy);
            c.Options.Add(Adapters);
            c.Options.Add(Sigma);
            c.Options.Add(Plugins);
            c.Options.Add(Output);
            c.Options.Add(Demo);
        }

        public RunbookPilotOptions Options(ParseResult p) => RunbookPilotOptions.FromEnvironment() with
        {
            Database = p.GetValue(Db)!,
            PlaybooksFolder = p.GetValue(Playbooks)!,
            PolicyFile = p.GetValue(Policy),
            AdaptersFile = p.GetValue(Adapters),
            SigmaFolder = p.GetValue(Sigma),
            PluginsFolder = p.GetValue(Plugins)!,
            AkkaLogLevel = Akka.Event.LogLevel.WarningLevel,
        };
    }

    internal static Option<string> Analyst() => new("--as")
    {
        Description = "Who is deciding (recorded in the audit trail). Default: $RBPILOT_USER or the login name. With --server the server records the signed-in user",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("RBPILOT_USER") is { Length: > 0 } u ? u : Environment.UserName,
    };

    public static IEnumerable<Command> Build(CliServices services) =>
    [
        Execute(services), Approve(services), Reject(services), ListApprovals(services), ListExecutions(services), Show(services),
        Rollback(services), ListSimulations(services), ExecuteSimulation(services), DismissSimulation(services), Admin(services),
    ];

    private static Command Admin(CliServices services)
    {
        var shared = Shared.Create();
        var rebuild = new Command("rebuild-read-model", "Project the whole journal again into the read tables (and a fresh audit chain). The journal is the source of truth.\n\nExample:\n  runbookpilot admin rebuild-read-model");
        shared.AddTo(rebuild);
        rebuild.SetAction((p, ct) => WithBackend(services, p, shared, async (backend, output) =>
        {
            var offset = await backend.RebuildReadModelAsync(ct);
            var verification = await backend.VerifyAuditAsync(ct);
            output.WriteLine($"read model rebuilt up to journal offset {offset}; {verification.Message}");
            return verification.Ok ? 0 : 1;
        }));
        return new Command("admin", "Operator commands.") { rebuild };
    }

    /// <summary>
    /// Runs <paramref name="work"/> against the server given by --server / RBPILOT_SERVER, or else against the engine started here over
    /// the database file (its read model caught up before it stops). Lock, start-up and server errors become exit code 1.
    /// </summary>
    internal static async Task<int> WithBackend(CliServices services, ParseResult p, Shared shared, Func<IEngineBackend, TextWriter, Task<int>> work)
    {
        var output = p.InvocationConfiguration.Output;
        var error = p.InvocationConfiguration.Error;
        try
        {
            if (p.GetValue(shared.Server) is { } server)
            {
                await using var remote = Common.Connect(server, services);
                return await work(remote, output);
            }
            var options = shared.Options(p);
            options = options with { AuditKey = RunbookPilot.Engine.ReadModel.AuditKeys.Resolve(services.Environment, options, p.GetValue(shared.Demo)) };
            await using var adapters = await RunbookPilot.VendorSim.DemoMode.AdaptersAsync(options, services.Adapters, error, p.GetValue(shared.Demo));
            // A command projects what it reads when it reads it (the read side catches up); nothing follows the journal live.
            var host = await RunbookPilotHost.StartAsync(options with { Llm = adapters.Llm, ReadModel = new ReadModelOptions(FollowJournal: false) }, adapters.Adapters,
                purpose: "runbookpilot " + p.CommandResult.Command.Name,
                logging: l => l.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace).SetMinimumLevel(LogLevel.Warning)
                    .AddFilter("Akka", LogLevel.Error));
            await using var embedded = new EmbeddedBackend(host);
            var engine = host.Engine;
            foreach (var file in engine.Library.Files.Where(f => !f.Ok))
                await error.WriteLineAsync($"warning: {file.Path} is invalid and was not loaded (run 'runbookpilot validate')");
            foreach (var name in engine.UnconfiguredAdapters)
                await error.WriteLineAsync($"warning: adapter {name} is used by a playbook but not configured in adapters.yaml; its steps fail (--demo runs the local simulators instead)");
            return await work(embedded, output);
        }
        catch (Exception ex) when (ex is DatabaseLockedException or BackendException)
        {
            await error.WriteLineAsync("error: " + ex.Message);
            return 1;
        }
        catch (ConfigurationException ex)
        {
            foreach (var problem in ex.Problems) await error.WriteLineAsync(problem);
            await error.WriteLineAsync($"error: {ex.Problems.Count} configuration problem(s); nothing was run");
            return 1;
        }
    }

    private static Command Execute(CliServices services)
    {
        var shared = Shared.Create();
        var file = new Option<string?>("--file", "-f") { Description = "Read alerts from this file instead of standard input" };
        var dryRun = new Option<bool>("--dry-run") { Description = "Run the playbooks that fit in dry-run: every step's exact request is recorded as its output, nothing is sent to any vendor (PRD F5.4)" };
        var command = new Command("execute", """
            Run playbooks for alerts read from standard input: one JSON object, a JSON array, or JSON lines (ECS, Elastic Security
            alert documents and Splunk notable events are recognised). A malformed line is reported with its number; the others still run.
            The command returns when every execution finished or waits for an analyst.

            Examples:
              cat alert.json | runbookpilot execute
              runbookpilot execute -f alerts.jsonl --output json
              runbookpilot execute --dry-run < alert.json      what would be sent, nothing sent
            """) { file, dryRun };
        shared.AddTo(command);
        command.SetAction(async (p, ct) =>
        {
            var text = p.GetValue(file) is { } path ? await File.ReadAllTextAsync(path, ct) : await services.Input().ReadToEndAsync(ct);
            var error = p.InvocationConfiguration.Error;
            if (text.Trim().Length == 0)
            {
                await error.WriteLineAsync("error: no alert on standard input");
                return 1;
            }
            var batch = AlertBatch.Parse(text, jsonLines: true);
            var documents = batch.Documents.Select(d => (d.Line, Doc: d.Json)).ToList();
            var problems = batch.Problems.Select(x => (x.Line, Message: x.Path == "$" ? x.Message : $"{x.Path}: {x.Message}")).ToList();
            foreach (var (line, message) in problems) await error.WriteLineAsync($"line {line}: {message}");
            if (batch.Refusal is { } refusal)
            {
                await error.WriteLineAsync($"error: {refusal}; nothing was submitted");
                return 1;
            }
            return await WithBackend(services, p, shared, async (backend, output) =>
            {
                var results = new List<(int Line, SubmittedAlert Accepted)>();
                foreach (var (line, doc) in documents)
                    results.Add((line, await backend.SubmitAsync(doc, p.GetValue(dryRun), ct)));

                if (p.GetValue(shared.Output) == OutputFormat.Json)
                {
                    Common.WriteJson(output, new
                    {
                        alerts = results.Select(r => new
                        {
                            line = r.Line,
                            alert_id = r.Accepted.AlertId,
                            duplicate = r.Accepted.Duplicate,
                            executions = r.Accepted.Executions.Select(s => new { execution_id = s.ExecutionId, playbook_id = s.PlaybookId, status = s.Status, reason = s.Reason }),
                        }),
                        errors = problems.Select(x => new { line = x.Line, message = x.Message }),
                    });
                }
                else
                {
                    var rows = results.SelectMany(r => r.Accepted.Executions.Count == 0
                        ? [(IReadOnlyList<string>)[Num(r.Line), r.Accepted.AlertId, "-", "-", r.Accepted.Duplicate ? "duplicate" : "no playbook matched"]]
                        : r.Accepted.Executions.Select(s => (IReadOnlyList<string>)[Num(r.Line), r.Accepted.AlertId, s.PlaybookId, s.ExecutionId, (r.Accepted.Duplicate ? "duplicate, " : "") + s.Status]));
                    Common.WriteTable(output, ["LINE", "ALERT", "PLAYBOOK", "EXECUTION", "STATUS"], rows.ToList());
                }
                return problems.Count == 0 ? 0 : 1;
            });
        });
        return command;
    }

    private static Command Approve(CliServices services)
    {
        var shared = Shared.Create();
        var execution = new Argument<string?>("execution_id") { Description = "The execution to approve", Arity = ArgumentArity.ZeroOrOne };
        var step = new Option<string?>("--step") { Description = "The step to approve, when several wait" };
        var comment = new Option<string?>("--comment") { Description = "Why (kept in the audit trail)" };
        var all = new Option<bool>("--all-pending") { Description = "Approve every pending approval (of --playbook)" };
        var playbook = new Option<string?>("--playbook") { Description = "With --all-pending: only this playbook's approvals" };
        var analyst = Analyst();
        var command = new Command("approve", """
            Approve a pending L1 step (or a step gated by policy); the step then runs.

            Examples:
              runbookpilot approve ex-3f2a9c --comment "confirmed with the asset owner"
              runbookpilot approve --all-pending --playbook lateral_movement_L1
            """) { execution, step, comment, all, playbook, analyst };
        shared.AddTo(command);
        command.SetAction(async (p, ct) =>
        {
            var id = p.GetValue(execution);
            if (p.GetValue(all) == (id is not null))
            {
                await p.InvocationConfiguration.Error.WriteLineAsync("error: give an execution id, or --all-pending (with --playbook)");
                return 2;
            }
            return await WithBackend(services, p, shared, async (backend, output) =>
            {
                var targets = id is not null
                    ? [(id, p.GetValue(step))]
                    : (await backend.ApprovalsAsync("pending", p.GetValue(playbook), ct)).Select(a => (a.ExecutionId, (string?)a.StepId)).ToList();
                var results = new List<(string?, DecisionReport)>();
                foreach (var (ex, st) in targets)
                    results.Add((st, await backend.DecideAsync(DecisionKind.Approve, ex, st, p.GetValue(analyst)!, p.GetValue(comment), ct)));
                return await Report(backend, p, shared, output, results, ct);
            });
        });
        return command;
    }

    private static Command Reject(CliServices services) => ExecutionDecision(services, "reject", "The execution whose pending step to reject", "The step to reject, when several wait",
        "Reject a pending approval; the step does not run.\n\nExample:\n  runbookpilot reject ex-3f2a9c --comment \"false positive: pentest\"", DecisionKind.Reject);

    private static Command Rollback(CliServices services) => ExecutionDecision(services, "rollback", "The execution to roll back",
        "Roll back only this step (default: every executed reversible step, newest first)",
        "Undo executed reversible steps (unblock an IP, lift a containment), newest first.\n\nExamples:\n  runbookpilot rollback ex-3f2a9c\n  runbookpilot rollback ex-3f2a9c --step step_3", DecisionKind.Rollback);

    /// <summary>A command that sends one analyst decision to one execution: <c>&lt;execution_id&gt; [--step] [--comment] [--as]</c>.</summary>
    private static Command ExecutionDecision(CliServices services, string name, string executionHelp, string stepHelp, string description, DecisionKind kind)
    {
        var shared = Shared.Create();
        var execution = new Argument<string>("execution_id") { Description = executionHelp };
        var step = new Option<string?>("--step") { Description = stepHelp };
        var comment = new Option<string?>("--comment") { Description = "Why (kept in the audit trail)" };
        var analyst = Analyst();
        var command = new Command(name, description) { execution, step, comment, analyst };
        shared.AddTo(command);
        command.SetAction((p, ct) => WithBackend(services, p, shared, async (backend, output) =>
        {
            var result = await backend.DecideAsync(kind, p.GetValue(execution)!, p.GetValue(step), p.GetValue(analyst)!, p.GetValue(comment), ct);
            return await Report(backend, p, shared, output, [(p.GetValue(step), result)], ct);
        }));
        return command;
    }

    private static Command ExecuteSimulation(CliServices services) => SimulationDecision(services, "execute-simulation", "The simulation to execute (see list-simulations)",
        "Execute an L2 simulation: it counts as your L1 approval (refused when policy block_l2_execution is on).\n\nExample:\n  runbookpilot execute-simulation sim-ex-3f2a9c-step_4", execute: true);

    private static Command DismissSimulation(CliServices services) => SimulationDecision(services, "dismiss-simulation", "The simulation to dismiss",
        "Dismiss an L2 simulation (it will not be executed; counted for simulation precision).", execute: false);

    /// <summary>A command that decides on one simulation: <c>&lt;simulation_id&gt; [--comment] [--as]</c>.</summary>
    private static Command SimulationDecision(CliServices services, string name, string simulationHelp, string description, bool execute)
    {
        var shared = Shared.Create();
        var simulation = new Argument<string>("simulation_id") { Description = simulationHelp };
        var comment = new Option<string?>("--comment") { Description = "Why (kept in the audit trail)" };
        var analyst = Analyst();
        var command = new Command(name, description) { simulation, comment, analyst };
        shared.AddTo(command);
        command.SetAction((p, ct) => WithBackend(services, p, shared, async (backend, output) =>
        {
            var result = await backend.DecideSimulationAsync(execute, p.GetValue(simulation)!, p.GetValue(analyst)!, p.GetValue(comment), ct);
            return await Report(backend, p, shared, output, [(null, result)], ct);
        }));
        return command;
    }

    /// <summary>Prints what each command did and where its execution stands now; exit 1 when any was refused or invalid.</summary>
    private static async Task<int> Report(IEngineBackend backend, ParseResult p, Shared shared, TextWriter output, List<(string? StepId, DecisionReport Result)> results, CancellationToken ct)
    {
        var statuses = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var id in results.Where(r => r.Result.Ok || r.Result.Code == "step_failed").Select(r => r.Result.ExecutionId).Distinct())
            if (await backend.SettledStatusAsync(id, ct) is { } status) statuses[id] = status;
        if (p.GetValue(shared.Output) == OutputFormat.Json)
        {
            Common.WriteJson(output, new
            {
                results = results.Select(r => new
                {
                    execution_id = r.Result.ExecutionId,
                    step_id = r.StepId,
                    ok = r.Result.Ok,
                    code = r.Result.Code,
                    message = r.Result.Message,
                    execution_status = statuses.GetValueOrDefault(r.Result.ExecutionId),
                }),
            });
        }
        else
        {
            if (results.Count == 0) output.WriteLine("nothing to do: no matching pending approval");
            foreach (var r in results)
                output.WriteLine($"{r.Result.ExecutionId}: {r.Result.Message}" + (statuses.TryGetValue(r.Result.ExecutionId, out var s) ? $" (execution {s})" : ""));
        }
        return results.All(r => r.Result.Ok) ? 0 : 1;
    }

    private static Command ListApprovals(CliServices services)
    {
        var shared = Shared.Create();
        var status = new Option<string>("--status") { Description = "pending (default), approved, rejected, expired, refused or all", DefaultValueFactory = _ => "pending" };
        var playbook = new Option<string?>("--playbook") { Description = "Only this playbook" };
        var command = new Command("list-approvals", "List approvals (pending ones by default) with the exact request each would send.\n\nExample:\n  runbookpilot list-approvals --playbook lateral_movement_L1")
        {
            status, playbook,
        };
        shared.AddTo(command);
        command.SetAction((p, ct) => WithBackend(services, p, shared, async (backend, output) =>
        {
            var wanted = p.GetValue(status) is "all" ? null : p.GetValue(status);
            var rows = await backend.ApprovalsAsync(wanted, p.GetValue(playbook), ct);
            if (p.GetValue(shared.Output) == OutputFormat.Json)
            {
                Common.WriteJson(output, new
                {
                    approvals = rows.Select(a => new
                    {
                        approval_id = a.ApprovalId, execution_id = a.ExecutionId, step_id = a.StepId, step_name = a.StepName, playbook_id = a.PlaybookId,
                        autonomy_level = a.AutonomyLevel, action = a.Action, reason = a.Reason, status = a.Status, required_approvers = a.RequiredApprovers,
                        approvers = a.Approvers.Length == 0 ? [] : a.Approvers.Split(','), requested_at = a.RequestedAt, deadline = a.Deadline,
                        decided_at = a.DecidedAt, decided_by = a.DecidedBy, comment = a.Comment, rollback_available = a.RollbackAvailable,
                        request = a.Request is null ? null : JsonNode.Parse(a.Request),
                        attack_context = a.AttackContext is null ? null : JsonNode.Parse(a.AttackContext),
                    }),
                });
            }
            else
            {
                Common.WriteTable(output, ["EXECUTION", "STEP", "PLAYBOOK", "LEVEL", "ACTION", "STATUS", "EXPIRES"],
                    rows.Select(a => (IReadOnlyList<string>)[a.ExecutionId, a.StepId, a.PlaybookId, a.AutonomyLevel, a.Action, a.Status, a.Deadline.ToString("u", CultureInfo.InvariantCulture)]).ToList());
            }
            return 0;
        }));
        return command;
    }

    private static Command ListExecutions(CliServices services)
    {
        var shared = Shared.Create();
        var playbook = new Option<string?>("--playbook") { Description = "Only this playbook" };
        var status = new Option<string?>("--status") { Description = "running, waiting_approval, completed, failed, rejected, expired or refused" };
        var limit = new Option<int>("--limit") { Description = "How many (newest first)", DefaultValueFactory = _ => 100 };
        var command = new Command("list-executions", "List executions, newest first.\n\nExample:\n  runbookpilot list-executions --status waiting_approval") { playbook, status, limit };
        shared.AddTo(command);
        command.SetAction((p, ct) => WithBackend(services, p, shared, async (backend, output) =>
        {
            var rows = await backend.ExecutionsAsync(p.GetValue(playbook), p.GetValue(status), p.GetValue(limit), ct);
            if (p.GetValue(shared.Output) == OutputFormat.Json)
            {
                Common.WriteJson(output, new
                {
                    executions = rows.Select(e => new
                    {
                        execution_id = e.ExecutionId, alert_id = e.AlertId, playbook_id = e.PlaybookId, playbook_version = e.PlaybookVersion, status = e.Status,
                        current_step = e.CurrentStep, started_at = e.StartedAt, completed_at = e.CompletedAt, summary = e.Summary,
                    }),
                });
            }
            else
            {
                Common.WriteTable(output, ["EXECUTION", "PLAYBOOK", "STATUS", "STARTED", "ALERT", "STEPS"],
                    rows.Select(e => (IReadOnlyList<string>)[e.ExecutionId, e.PlaybookId, e.Status, e.StartedAt.ToString("u", CultureInfo.InvariantCulture), e.AlertId, e.Summary]).ToList());
            }
            return 0;
        }));
        return command;
    }

    private static Command Show(CliServices services)
    {
        var shared = Shared.Create();
        var execution = new Argument<string>("execution_id") { Description = "The execution to show" };
        var command = new Command("show", "Show an execution: its steps and its full timeline (attempts, requests, approvals, simulations, rollbacks).\n\nExample:\n  runbookpilot show ex-3f2a9c --output json")
        {
            execution,
        };
        shared.AddTo(command);
        command.SetAction((p, ct) => WithBackend(services, p, shared, async (backend, output) =>
        {
            var id = p.GetValue(execution)!;
            if (await backend.ExecutionAsync(id, ct) is not { } detail)
            {
                await p.InvocationConfiguration.Error.WriteLineAsync($"error: no execution {id}");
                return 1;
            }
            var (row, steps, log) = (detail.Execution, detail.Steps, detail.Timeline);
            var enrichments = detail.Enrichments;
            if (p.GetValue(shared.Output) == OutputFormat.Json)
            {
                Common.WriteJson(output, new
                {
                    execution_id = row.ExecutionId, alert_id = row.AlertId, playbook_id = row.PlaybookId, playbook_version = row.PlaybookVersion,
                    status = row.Status, started_at = row.StartedAt, completed_at = row.CompletedAt, selection_reason = row.SelectionReason,
                    steps,
                    attack = detail.Attack.Select(t => new { id = t.Id, name = t.Name, tactics = t.Tactics, url = t.Url }),
                    enrichments,
                    timeline = log.Select(l => new
                    {
                        seq = l.Seq, at = l.At, step_id = l.StepId, kind = l.Kind, status = l.Status, attempt = l.Attempt, actor = l.Actor, detail = l.Detail,
                        request = l.Request is null ? null : JsonNode.Parse(l.Request), response = l.Response is null ? null : JsonNode.Parse(l.Response),
                    }),
                });
                return 0;
            }
            output.WriteLine($"Execution {row.ExecutionId} — {row.PlaybookId} {row.PlaybookVersion} — {row.Status}");
            output.WriteLine($"Alert {row.AlertId}; selected by {row.SelectionReason}; started {row.StartedAt:u}" + (row.CompletedAt is { } c ? $", ended {c:u}" : ""));
            output.WriteLine();
            Common.WriteTable(output, ["STEP", "LEVEL", "ACTION", "STATUS", "ATTEMPTS", "NOTE"],
                steps.Select(s => (IReadOnlyList<string>)[s.Id, s.AutonomyLevel, $"{s.Adapter}.{s.ActionType}", s.Status,
                    Num(s.Attempts), s.SimulationId ?? s.Error ?? ""]).ToList());
            if (detail.Attack.Count > 0)
                output.WriteLine("ATT&CK: " + string.Join("; ", detail.Attack.Select(t => $"{t.Id} {t.Name} ({string.Join(", ", t.Tactics)})")));
            foreach (var e in enrichments)
            {
                // Plain text only: nothing a model returns is interpreted; it is labelled as generated.
                output.WriteLine(e.Status == "ready"
                    ? $"[{e.Label}] {e.Type} ({e.Model}{(e.Cached ? ", cached" : "")}): {e.Text}"
                    : $"[{e.Label}] {e.Type}: {e.Reason}");
            }
            output.WriteLine();
            output.WriteLine("Timeline:");
            foreach (var l in log)
                output.WriteLine($"  {l.At:u}  {(l.StepId ?? "-"),-14} {l.Kind,-20} {l.Detail}");
            return 0;
        }));
        return command;
    }

    private static Command ListSimulations(CliServices services)
    {
        var shared = Shared.Create();
        var status = new Option<string?>("--status") { Description = "simulated, promoted, executed, dismissed or refused (default: all)" };
        var command = new Command("list-simulations", "List L2 simulations (DRY_RUN): what would execute, expected outcome, risk score.\n\nExample:\n  runbookpilot list-simulations --status simulated")
        {
            status,
        };
        shared.AddTo(command);
        command.SetAction((p, ct) => WithBackend(services, p, shared, async (backend, output) =>
        {
            var rows = await backend.SimulationsAsync(p.GetValue(status), ct);
            if (p.GetValue(shared.Output) == OutputFormat.Json)
            {
                Common.WriteJson(output, new
                {
                    simulations = rows.Select(s => new
                    {
                        simulation_id = s.SimulationId, label = s.Label, execution_id = s.ExecutionId, step_id = s.StepId, playbook_id = s.PlaybookId,
                        adapter = s.Adapter, action = s.Action, method = s.Method, request = JsonNode.Parse(s.Request), expected_outcome = s.ExpectedOutcome,
                        risk_score = s.RiskScore, risk_factors = JsonNode.Parse(s.RiskFactors), recommendation = s.Recommendation, status = s.Status,
                        created_at = s.CreatedAt, decided_by = s.DecidedBy, decided_at = s.DecidedAt,
                    }),
                });
            }
            else
            {
                Common.WriteTable(output, ["SIMULATION", "PLAYBOOK", "ACTION", "RISK", "STATUS", "WOULD EXECUTE"],
                    rows.Select(s => (IReadOnlyList<string>)[s.SimulationId, s.PlaybookId, $"{s.Adapter}.{s.Action}", s.RiskScore.ToString(CultureInfo.InvariantCulture) + "/10", s.Status, s.Method]).ToList());
            }
            return 0;
        }));
        return command;
    }

    private static string Num(int n) => n.ToString(CultureInfo.InvariantCulture);
}
