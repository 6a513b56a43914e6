using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using RunbookPilot.Domain.Adapters;
using RunbookPilot.Engine.Adapters;
using RunbookPilot.Domain.Alerts;
using RunbookPilot.Domain.Bindings;
using RunbookPilot.Domain.Execution;
using RunbookPilot.Engine.Execution;
using RunbookPilot.Engine.Hosting;
using RunbookPilot.Engine.ReadModel;
using RunbookPilot.Engine.Api;

namespace RunbookPilot.Cli.Backends;

/// <summary>What the commands run against: the adapters executions may call, where alerts are read from, and the environment (credentials).</summary>
public sealed record CliServices(IReadOnlyList<RunbookPilot.Domain.Adapters.IAdapter> Adapters, Func<TextReader> Input)
{
    public static CliServices Default { get; } = new([], () => Console.In);

    public Func<string, string?> Environment { get; init; } = System.Environment.GetEnvironmentVariable;
}

/// <summary>One alert the engine accepted, with the executions it started and where each stands once settled.</summary>
public sealed record SubmittedAlert(string AlertId, bool Duplicate, IReadOnlyList<SubmittedExecution> Executions);

public sealed record SubmittedExecution(string ExecutionId, string PlaybookId, string Reason, string Status);

/// <summary>What one analyst decision did, and the execution it went to.</summary>
public sealed record DecisionReport(string ExecutionId, bool Ok, string Code, string Message);

public sealed record ExecutionReport(ExecutionRow Execution, IReadOnlyList<StepView> Steps, IReadOnlyList<ExecutionLogRow> Timeline,
    IReadOnlyList<RunbookPilot.Domain.Attack.AttackTechnique> Attack, IReadOnlyList<EnrichmentView> Enrichments);

/// <summary>
/// What the engine commands of the CLI need: the embedded engine over the database file, or a running server's REST API
/// (<c>--server URL</c> / <c>RBPILOT_SERVER</c>). Both answer with the same read-model rows, so every command prints the same.
/// </summary>
public interface IEngineBackend : IAsyncDisposable
{
    /// <summary>Accepts one alert and returns once its executions are settled (finished, or waiting only for people).</summary>
    /// <summary>Submits an alert; <paramref name="dryRun"/>: every step is recorded, none sent (PRD F5.4).</summary>
    Task<SubmittedAlert> SubmitAsync(JsonObject alert, bool dryRun, CancellationToken ct);
    Task<DecisionReport> DecideAsync(DecisionKind kind, string executionId, string? stepId, string analyst, string? comment, CancellationToken ct);
    Task<DecisionReport> DecideSimulationAsync(bool execute, string simulationId, string analyst, string? comment, CancellationToken ct);
    /// <summary>The execution's status once it is settled, or its current status after the timeout.</summary>
    Task<string?> SettledStatusAsync(string executionId, CancellationToken ct);
    Task<IReadOnlyList<ApprovalRow>> ApprovalsAsync(string? status, string? playbook, CancellationToken ct);
    Task<IReadOnlyList<ExecutionRow>> ExecutionsAsync(string? playbook, string? status, int limit, CancellationToken ct);
    Task<ExecutionReport?> ExecutionAsync(string executionId, CancellationToken ct);
    Task<IReadOnlyList<SimulationRow>> SimulationsAsync(string? status, CancellationToken ct);
    Task<AuditVerification> VerifyAuditAsync(CancellationToken ct);
    /// <summary>Rebuilds the read tables from the journal; returns the journal offset reached.</summary>
    Task<long> RebuildReadModelAsync(CancellationToken ct);

    /// <summary>The bindings with live guardrail state, kill switches and held decisions, as <c>GET /api/v1/bindings</c> answers.</summary>
    Task<JsonObject> BindingsAsync(CancellationToken ct);
    /// <summary>Creates (no id) or changes a binding; returns it as the API does. Refusals throw <see cref="BackendException"/> naming each field.</summary>
    Task<JsonObject> SaveBindingAsync(BindingSpec spec, string by, CancellationToken ct);
    Task DeleteBindingAsync(int bindingId, string by, CancellationToken ct);
    Task<JsonArray> EvaluateBindingsAsync(string alertId, CancellationToken ct);
    Task<JsonObject> RunBindingAsync(string alertId, int bindingId, BindingMode? mode, string by, string? reason, CancellationToken ct);
    Task<JsonArray> RunAuditAsync(string? alertId, int? bindingId, CancellationToken ct);
    /// <summary>Turns a kill switch on or off; returns what happened (and how many held decisions were taken on resume).</summary>
    Task<string> PauseAsync(PauseScope scope, string target, bool paused, string by, string? reason, CancellationToken ct);
    Task<IReadOnlyList<string>> PlaybookIdsAsync(CancellationToken ct);
    /// <summary>Why an alert received earlier ran what it ran, as <c>GET /api/v1/alerts/{id}/selection</c> answers; null when there is no such alert.</summary>
    Task<JsonObject?> SelectionAsync(string alertId, CancellationToken ct);
}

/// <summary>The engine started in this process over the database file (holding its lock), through the application layer.</summary>
public sealed class EmbeddedBackend(RunbookPilotHost host) : IEngineBackend
{
    private static readonly TimeSpan Settle = TimeSpan.FromMinutes(2);

    public RunbookPilotEngine Engine { get; } = host.Engine;

    public async Task<SubmittedAlert> SubmitAsync(JsonObject alert, bool dryRun, CancellationToken ct)
    {
        var (prepared, problems) = EcsValidator.Prepare(alert, "$");
        if (prepared is null) throw new BackendException("malformed alert, not submitted: " + string.Join("; ", problems.Select(p => $"{p.Path}: {p.Message}")));
        var accepted = await Engine.Alerts.SubmitAsync(prepared, "stdin", dryRun, ct);
        var executions = new List<SubmittedExecution>();
        foreach (var s in accepted.Selected)
            executions.Add(new SubmittedExecution(s.ExecutionId, s.PlaybookId, s.Reason, (await Engine.Executions.WaitSettledAsync(s.ExecutionId, Settle, ct)).State.Status));
        return new SubmittedAlert(accepted.AlertId, accepted.Duplicate, executions);
    }

    /// <summary>The decision, and for approve, rollback and execute the step's result once it is known.</summary>
    public async Task<DecisionReport> DecideAsync(DecisionKind kind, string executionId, string? stepId, string analyst, string? comment, CancellationToken ct)
    {
        var outcome = await Engine.Executions.DecideAsync(kind, executionId, stepId, analyst, comment, ct);
        return Report(kind == DecisionKind.Reject ? outcome : outcome with { Result = await Engine.Executions.ResultAsync(outcome, kind == DecisionKind.Rollback, Settle, ct) });
    }

    public async Task<DecisionReport> DecideSimulationAsync(bool execute, string simulationId, string analyst, string? comment, CancellationToken ct)
    {
        var outcome = await Engine.Executions.DecideSimulationAsync(execute, simulationId, analyst, comment, ct);
        return Report(execute ? outcome with { Result = await Engine.Executions.ResultAsync(outcome, rollback: false, Settle, ct) } : outcome);
    }

    private static DecisionReport Report(DecisionOutcome o) => new(o.ExecutionId, o.Result.Ok, o.Result.Code, o.Result.Message);

    public async Task<string?> SettledStatusAsync(string executionId, CancellationToken ct) =>
        (await Engine.Executions.WaitSettledAsync(executionId, Settle, ct)).State.Status;

    public Task<IReadOnlyList<ApprovalRow>> ApprovalsAsync(string? status, string? playbook, CancellationToken ct) => Engine.Read.ApprovalsAsync(status, playbook, ct: ct);

    public Task<IReadOnlyList<ExecutionRow>> ExecutionsAsync(string? playbook, string? status, int limit, CancellationToken ct) =>
        Engine.Read.ExecutionsAsync(playbook, status, limit: limit, ct: ct);

    public async Task<ExecutionReport?> ExecutionAsync(string executionId, CancellationToken ct) =>
        await Engine.Executions.DetailAsync(executionId, ct: ct) is { } d ? new ExecutionReport(d.Row, d.Steps, d.Timeline, d.Attack, d.Enrichments) : null;

    public Task<IReadOnlyList<SimulationRow>> SimulationsAsync(string? status, CancellationToken ct) => Engine.Read.SimulationsAsync(status, ct: ct);

    public Task<AuditVerification> VerifyAuditAsync(CancellationToken ct) => Engine.Read.VerifyAuditAsync(ct);

    public Task<long> RebuildReadModelAsync(CancellationToken ct) => Engine.Read.RebuildAsync(ct);

    public async Task<JsonObject> BindingsAsync(CancellationToken ct) => BindingJson.Write(await Engine.Bindings.ListAsync(ct));

    public async Task<JsonObject> SaveBindingAsync(BindingSpec spec, string by, CancellationToken ct)
    {
        var (result, saved) = await Engine.Bindings.SaveAndViewAsync(spec, by, ct);
        if (result.NotFound) throw new BackendException($"no binding {spec.Id}");
        if (result.Problems.Count > 0) throw new BackendException("invalid binding: " + string.Join("; ", result.Problems.Select(p => $"{p.Path}: {p.Message}")));
        return new JsonObject { ["binding"] = BindingJson.Write(saved!) };
    }

    public async Task DeleteBindingAsync(int bindingId, string by, CancellationToken ct)
    {
        if ((await Engine.Bindings.DeleteAsync(bindingId, by, ct)).NotFound) throw new BackendException($"no binding {bindingId}");
    }

    public async Task<JsonArray> EvaluateBindingsAsync(string alertId, CancellationToken ct) =>
        new([.. (await Engine.Bindings.PreviewAsync(await StoredAlertAsync(alertId, ct), ct)).Select(d => (JsonNode)BindingJson.Write(d))]);

    public async Task<JsonObject> RunBindingAsync(string alertId, int bindingId, BindingMode? mode, string by, string? reason, CancellationToken ct)
    {
        var result = await Engine.Bindings.RunAsync(await StoredAlertAsync(alertId, ct), bindingId, mode, by, reason, ct);
        return result.Decision is { } d ? BindingJson.Write(d) : throw new BackendException(result.Error!);
    }

    public async Task<JsonArray> RunAuditAsync(string? alertId, int? bindingId, CancellationToken ct) => BindingJson.Write(await Engine.Read.RunAuditAsync(alertId, bindingId, ct: ct));

    public async Task<JsonObject?> SelectionAsync(string alertId, CancellationToken ct) => (await Engine.Selection.ExplainAsync(alertId, ct))?.ToJson();

    public async Task<string> PauseAsync(PauseScope scope, string target, bool paused, string by, string? reason, CancellationToken ct)
    {
        var result = await Engine.Bindings.PauseAsync(scope, target, paused, by, reason, ct);
        return result.Ok ? result.Message : throw new BackendException(result.Message);
    }

    public Task<IReadOnlyList<string>> PlaybookIdsAsync(CancellationToken ct) => Task.FromResult<IReadOnlyList<string>>(Engine.Library.Playbooks.Select(p => p.Id).ToList());

    private async Task<Alert> StoredAlertAsync(string alertId, CancellationToken ct) =>
        await Engine.Read.StoredAlertAsync(alertId, ct) ?? throw new BackendException($"no alert {alertId}");

    /// <summary>Catches the read model up before the engine stops, so the tables show what this command did.</summary>
    public async ValueTask DisposeAsync()
    {
        await Engine.Read.CatchUpAsync();
        await host.DisposeAsync();
    }
}

/// <summary>A running RunbookPilot server, through its REST API with basic authentication (RBPILOT_USER / RBPILOT_PASS).</summary>
public sealed class ServerBackend : IEngineBackend
{
    /// <summary>How long the server is asked to wait for an execution to settle (its limit is 120 s).</summary>
    private const int SettleSeconds = 120;

    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };

    private readonly HttpClient _http;

    public ServerBackend(Uri server, string? user, string? password, HttpMessageHandler? handler = null)
    {
        _http = handler is null ? new HttpClient() : new HttpClient(handler);
        _http.BaseAddress = server;
        _http.Timeout = TimeSpan.FromSeconds(SettleSeconds + 30);
        if (user is not null && password is not null)
            _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));
    }

    public async Task<SubmittedAlert> SubmitAsync(JsonObject alert, bool dryRun, CancellationToken ct)
    {
        var answer = await SendAsync(HttpMethod.Post, dryRun ? "events/dry-run" : "events", alert, ct);
        if (answer.Status != HttpStatusCode.Accepted) throw Failure(answer);
        var accepted = answer.Body!["accepted"]![0]!;
        var executions = new List<SubmittedExecution>();
        foreach (var e in accepted["executions"]!.AsArray())
        {
            var id = (string)e!["execution_id"]!;
            executions.Add(new SubmittedExecution(id, (string)e["playbook_id"]!, (string?)e["reason"] ?? "", await SettledStatusAsync(id, ct) ?? "unknown"));
        }
        return new SubmittedAlert((string)accepted["alert_id"]!, (bool)accepted["duplicate"]!, executions);
    }

    public async Task<DecisionReport> DecideAsync(DecisionKind kind, string executionId, string? stepId, string analyst, string? comment, CancellationToken ct)
    {
        var verb = kind.ToString().ToLowerInvariant();
        var wait = kind == DecisionKind.Reject ? "" : $"?wait={SettleSeconds}"; // told the step's result, not only "running"
        return Outcome(executionId, await SendAsync(HttpMethod.Post, $"api/v1/executions/{Uri.EscapeDataString(executionId)}/{verb}{wait}", new { step = stepId, comment }, ct));
    }

    public async Task<DecisionReport> DecideSimulationAsync(bool execute, string simulationId, string analyst, string? comment, CancellationToken ct) =>
        Outcome("-", await SendAsync(HttpMethod.Post, $"api/v1/simulations/{Uri.EscapeDataString(simulationId)}/{(execute ? $"execute?wait={SettleSeconds}" : "dismiss")}", new { comment }, ct));

    public async Task<string?> SettledStatusAsync(string executionId, CancellationToken ct)
    {
        var answer = await SendAsync(HttpMethod.Get, $"api/v1/executions/{Uri.EscapeDataString(executionId)}?wait={SettleSeconds}", null, ct);
        return answer.Status == HttpStatusCode.OK ? (string?)answer.Body!["execution"]!["status"] : null;
    }

    public async Task<IReadOnlyList<ApprovalRow>> ApprovalsAsync(string? status, string? playbook, CancellationToken ct) =>
        await ListAsync<ApprovalRow>($"api/v1/approvals?status={Uri.EscapeDataString(status ?? "all")}{Query("playbook", playbook)}", "approvals", ct);

    public async Task<IReadOnlyList<ExecutionRow>> ExecutionsAsync(string? playbook, string? status, int limit, CancellationToken ct) =>
        await ListAsync<ExecutionRow>($"api/v1/executions?limit={limit}{Query("playbook", playbook)}{Query("status", status)}", "executions", ct);

    public async Task<ExecutionReport?> ExecutionAsync(string executionId, CancellationToken ct)
    {
        var answer = await SendAsync(HttpMethod.Get, $"api/v1/executions/{Uri.EscapeDataString(executionId)}", null, ct);
        if (answer.Status == HttpStatusCode.NotFound) return null;
        if (answer.Status != HttpStatusCode.OK) throw Failure(answer);
        return new ExecutionReport(answer.Body!["execution"].Deserialize<ExecutionRow>(Json)!, answer.Body["steps"].Deserialize<List<StepView>>(Json)!,
            answer.Body["timeline"].Deserialize<List<ExecutionLogRow>>(Json)!, answer.Body["attack"].Deserialize<List<RunbookPilot.Domain.Attack.AttackTechnique>>(Json)!,
            answer.Body["enrichments"].Deserialize<List<EnrichmentView>>(Json)!);
    }

    public async Task<IReadOnlyList<SimulationRow>> SimulationsAsync(string? status, CancellationToken ct) =>
        await ListAsync<SimulationRow>("api/v1/simulations" + (status is null ? "" : "?status=" + Uri.EscapeDataString(status)), "simulations", ct);

    public async Task<AuditVerification> VerifyAuditAsync(CancellationToken ct)
    {
        var answer = await SendAsync(HttpMethod.Get, "api/v1/audit/verify", null, ct);
        if (answer.Status != HttpStatusCode.OK) throw Failure(answer);
        return answer.Body.Deserialize<AuditVerification>(Json)!;
    }

    public async Task<long> RebuildReadModelAsync(CancellationToken ct)
    {
        var answer = await SendAsync(HttpMethod.Post, "api/v1/admin/rebuild-read-model", new { }, ct);
        if (answer.Status != HttpStatusCode.OK) throw Failure(answer);
        return (long)answer.Body!["offset"]!;
    }

    public async Task<JsonObject> BindingsAsync(CancellationToken ct) => Ok(await SendAsync(HttpMethod.Get, "api/v1/bindings", null, ct)).AsObject();

    public async Task<JsonObject> SaveBindingAsync(BindingSpec spec, string by, CancellationToken ct)
    {
        var body = JsonContentOf(spec with { Id = null });
        return Ok(spec.Id is { } id
            ? await SendAsync(HttpMethod.Put, $"api/v1/bindings/{id}", body, ct)
            : await SendAsync(HttpMethod.Post, "api/v1/bindings", body, ct)).AsObject();
    }

    public async Task DeleteBindingAsync(int bindingId, string by, CancellationToken ct) => Ok(await SendAsync(HttpMethod.Delete, $"api/v1/bindings/{bindingId}", null, ct));

    public async Task<JsonArray> EvaluateBindingsAsync(string alertId, CancellationToken ct) =>
        Ok(await SendAsync(HttpMethod.Post, $"api/v1/alerts/{Uri.EscapeDataString(alertId)}/bindings/evaluate", new { }, ct))["decisions"]!.AsArray();

    public async Task<JsonObject> RunBindingAsync(string alertId, int bindingId, BindingMode? mode, string by, string? reason, CancellationToken ct) =>
        Ok(await SendAsync(HttpMethod.Post, $"api/v1/alerts/{Uri.EscapeDataString(alertId)}/bindings/run",
            new { binding_id = bindingId, mode = mode is { } m ? BindingDecision.Name(m) : null, reason }, ct))["decision"]!.AsObject();

    public async Task<JsonObject?> SelectionAsync(string alertId, CancellationToken ct)
    {
        var answer = await SendAsync(HttpMethod.Get, $"api/v1/alerts/{Uri.EscapeDataString(alertId)}/selection", null, ct);
        return answer.Status == HttpStatusCode.NotFound ? null : Ok(answer).AsObject();
    }

    public async Task<JsonArray> RunAuditAsync(string? alertId, int? bindingId, CancellationToken ct) =>
        Ok(await SendAsync(HttpMethod.Get, alertId is not null
            ? $"api/v1/alerts/{Uri.EscapeDataString(alertId)}/bindings/audit"
            : "api/v1/bindings/audit?limit=1000" + (bindingId is { } b ? $"&binding_id={b}" : ""), null, ct))["audit"]!.AsArray();

    public async Task<string> PauseAsync(PauseScope scope, string target, bool paused, string by, string? reason, CancellationToken ct) =>
        (string)Ok(await SendAsync(HttpMethod.Post, paused ? "api/v1/control/pause" : "api/v1/control/resume",
            new { scope = scope.ToString().ToLowerInvariant(), target, reason }, ct))["message"]!;

    public async Task<IReadOnlyList<string>> PlaybookIdsAsync(CancellationToken ct) =>
        Ok(await SendAsync(HttpMethod.Get, "api/v1/playbooks", null, ct))["playbooks"]!.AsArray().Select(p => (string)p!["id"]!).ToList();

    private static JsonNode Ok((HttpStatusCode Status, JsonNode? Body) answer) =>
        (int)answer.Status is >= 200 and < 300 && answer.Body is not null ? answer.Body : throw Failure(answer);

    /// <summary>A binding as the API reads it (durations and enums as in YAML).</summary>
    private static JsonNode JsonContentOf(BindingSpec spec) => JsonSerializer.SerializeToNode(spec, BindingJson.Options)!;

    /// <summary>An operator route (<c>/api/v1/ops/…</c>): its JSON answer, or the server's refusal as an exception.</summary>
    public async Task<JsonNode> OperatorAsync(HttpMethod method, string path, CancellationToken ct) =>
        Ok(await SendAsync(method, "api/v1/ops/" + path, method == HttpMethod.Post ? new { } : null, ct));

    /// <summary>Checks an adapter configured on the server (the server's credentials, the server's network).</summary>
    public async Task<AdapterHealth?> TestAdapterAsync(string name, CancellationToken ct)
    {
        var answer = await SendAsync(HttpMethod.Post, $"api/v1/adapters/{Uri.EscapeDataString(name)}/test", new { }, ct);
        if (answer.Status == HttpStatusCode.NotFound) return null;
        if (answer.Status != HttpStatusCode.OK) throw Failure(answer);
        return answer.Body.Deserialize<AdapterHealth>(Json);
    }

    public ValueTask DisposeAsync()
    {
        _http.Dispose();
        return ValueTask.CompletedTask;
    }

    private static string Query(string name, string? value) => value is null ? "" : $"&{name}={Uri.EscapeDataString(value)}";

    private async Task<IReadOnlyList<T>> ListAsync<T>(string path, string property, CancellationToken ct)
    {
        var answer = await SendAsync(HttpMethod.Get, path, null, ct);
        if (answer.Status != HttpStatusCode.OK) throw Failure(answer);
        return answer.Body![property].Deserialize<List<T>>(Json)!;
    }

    private static DecisionReport Outcome(string executionId, (HttpStatusCode Status, JsonNode? Body) answer)
    {
        if (answer.Body?["code"] is null) throw Failure(answer);
        return new DecisionReport((string?)answer.Body["execution_id"] ?? executionId, (bool)answer.Body["ok"]!, (string)answer.Body["code"]!, (string)answer.Body["message"]!);
    }

    private async Task<(HttpStatusCode Status, JsonNode? Body)> SendAsync(HttpMethod method, string path, object? body, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is JsonNode json) request.Content = new StringContent(json.ToJsonString(), Encoding.UTF8, "application/json");
        else if (body is not null) request.Content = JsonContent.Create(body, options: Json);
        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request, ct);
        }
        catch (HttpRequestException ex)
        {
            throw new ServerUnavailableException($"cannot reach the server at {_http.BaseAddress}: {ex.Message}");
        }
        using (response)
        {
            if (response.StatusCode == HttpStatusCode.Unauthorized)
                throw new ServerUnavailableException($"the server at {_http.BaseAddress} refused the credentials: set RBPILOT_USER and RBPILOT_PASS (a --demo server accepts admin/demo)");
            var text = await response.Content.ReadAsStringAsync(ct);
            JsonNode? node = null;
            try
            {
                node = text.Length == 0 ? null : JsonNode.Parse(text);
            }
            catch (JsonException)
            {
                // not JSON: reported by Failure with the status
            }
            return (response.StatusCode, node);
        }
    }

    private static ServerUnavailableException Failure((HttpStatusCode Status, JsonNode? Body) answer) =>
        new($"the server answered {(int)answer.Status}: {(string?)answer.Body?["error"] ?? answer.Body?.ToJsonString() ?? "(no body)"}" +
            (answer.Body?["details"] is JsonArray details && details.Count > 0
                ? " — " + string.Join("; ", details.Select(d => $"{(string?)d?["path"]}: {(string?)d?["message"]}"))
                : ""));
}

/// <summary>A command could not be carried out; the message says why (shown as <c>error: …</c>, exit code 1).</summary>
public class BackendException(string message) : Exception(message);

/// <summary>The server could not be reached, refused the credentials, or answered with an error; the message says which.</summary>
public sealed class ServerUnavailableException(string message) : BackendException(message);
