using System.Text.Json;
using System.Text.Json.Nodes;
using GraphQL;
using GraphQL.Resolvers;
using GraphQL.Transport;
using GraphQL.SystemTextJson;
using GraphQL.Types;
using RunbookPilot.Domain.Bindings;
using RunbookPilot.Engine.Hosting;
using RunbookPilot.Domain.Intake;
using RunbookPilot.Engine.Ingestion;
using RunbookPilot.Domain.Yaml;
using RunbookPilot.Engine.ReadModel;
using RunbookPilot.Engine.Api;

namespace RunbookPilot.Host;

/// <summary>
/// <c>POST /graphql</c>: the seed's GraphQL surface for bindings — <c>playbookBindings</c>, <c>playbookRunAudit</c>,
/// <c>evaluateBindings</c> (queries; evaluation is a preview without side effects), and <c>createPlaybookBinding</c>,
/// <c>updatePlaybookBinding</c>, <c>deletePlaybookBinding</c> (admin), <c>runBinding</c> (mutations). Inputs go through the
/// same validation as REST; problems come back as GraphQL errors naming the field.
/// </summary>
public sealed class BindingsGraphQL
{
    public const string Sdl = """
        type BindingMatch { ruleIds: [String!]!  alertTypes: [String!]!  severities: [String!]!  tags: [String!]! }
        type Circuit { trips: Int!  window: String! }
        type Guardrails { maxPerMinute: Int  maxConcurrent: Int  dailyQuota: Int  key: String  onceWithin: String  timeZone: String!  circuit: Circuit }
        type PauseState { scope: String!  target: String!  by: String!  reason: String  at: String! }
        type PlaybookBinding {
          id: Int!  playbookId: String!  mode: String!  enabled: Boolean!  priority: Int!  description: String  preset: String
          match: BindingMatch!  guardrails: Guardrails!  effectiveGuardrails: Guardrails!
          createdBy: String!  createdAt: String!  updatedBy: String!  updatedAt: String!
          inflight: Int!  quotaRemaining: Int!  circuitOpen: Boolean!  paused: PauseState
        }
        type PlaybookRunAudit {
          alertId: String!  bindingId: Int  playbookId: String!  mode: String!  decision: String!  phase: String!  success: Boolean
          reason: String  key: String!  by: String  startedAt: String!  finishedAt: String  outputRef: String
        }
        type BindingDecision { bindingId: Int  playbookId: String!  mode: String!  decision: String!  reason: String  key: String!  executionId: String  by: String  at: String! }
        input BindingMatchInput { ruleIds: [String!]  alertTypes: [String!]  severities: [String!]  tags: [String!] }
        input CircuitInput { trips: Int!  window: String! }
        input GuardrailsInput { maxPerMinute: Int  maxConcurrent: Int  dailyQuota: Int  key: String  onceWithin: String  timeZone: String  circuit: CircuitInput }
        input PlaybookBindingInput {
          playbookId: String!  mode: String!  enabled: Boolean  priority: Int  description: String  preset: String
          match: BindingMatchInput  guardrails: GuardrailsInput
        }
        type Query {
          playbookBindings: [PlaybookBinding!]!
          playbookRunAudit(alertId: String, bindingId: Int, limit: Int): [PlaybookRunAudit!]!
          evaluateBindings(alertId: String!): [BindingDecision!]!
        }
        type Mutation {
          createPlaybookBinding(input: PlaybookBindingInput!): PlaybookBinding!
          updatePlaybookBinding(id: Int!, input: PlaybookBindingInput!): PlaybookBinding!
          deletePlaybookBinding(id: Int!): Boolean!
          runBinding(alertId: String!, bindingId: Int!, mode: String, reason: String): BindingDecision!
        }
        """;

    private readonly Schema _schema;
    private readonly DocumentExecuter _executer = new();
    private readonly GraphQLSerializer _serializer = new();
    private readonly RunbookPilotEngine _engine;

    public BindingsGraphQL(RunbookPilotEngine engine)
    {
        _engine = engine;
        _schema = Schema.For(Sdl, builder =>
        {
            var query = builder.Types.For("Query");
            query.FieldFor("playbookBindings").Resolver = Async(async c => (await engine.Bindings.ListAsync(c.CancellationToken)).Bindings.Select(Binding).ToList());
            query.FieldFor("playbookRunAudit").Resolver = Async(async c => (await engine.Read
                .RunAuditAsync(c.GetArgument<string?>("alertId"), c.GetArgument<int?>("bindingId"), Math.Clamp(c.GetArgument<int?>("limit") ?? 100, 1, 1000), c.CancellationToken)).Select(Audit).ToList());
            query.FieldFor("evaluateBindings").Resolver = Async(async c =>
                (await engine.Bindings.PreviewAsync(await AlertAsync(c), c.CancellationToken)).Select(Decision).ToList());

            var mutation = builder.Types.For("Mutation");
            mutation.FieldFor("createPlaybookBinding").Resolver = Async(c => SaveAsync(c, null));
            mutation.FieldFor("updatePlaybookBinding").Resolver = Async(c => SaveAsync(c, c.GetArgument<int>("id")));
            mutation.FieldFor("deletePlaybookBinding").Resolver = Async(async c =>
            {
                var (user, _) = Admin(c);
                var result = await engine.Bindings.DeleteAsync(c.GetArgument<int>("id"), user, c.CancellationToken);
                return result.NotFound ? throw new ExecutionError($"no binding {c.GetArgument<int>("id")}") : (object)true;
            });
            mutation.FieldFor("runBinding").Resolver = Async(async c =>
            {
                BindingMode? mode = c.GetArgument<string?>("mode") switch
                {
                    null => null,
                    "dry_run" => BindingMode.DryRun,
                    "auto_run" => BindingMode.AutoRun,
                    var other => throw new ExecutionError($"mode: '{other}' is not dry_run or auto_run"),
                };
                var user = ((Caller)c.UserContext["caller"]!).User;
                var result = await engine.Bindings.RunAsync(await AlertAsync(c), c.GetArgument<int>("bindingId"), mode, user, c.GetArgument<string?>("reason"), c.CancellationToken);
                return result.Decision is { } d ? Decision(d) : throw new ExecutionError(result.Error!);
            });
        });
        // The output objects are dictionaries keyed by field name: every field of every other object type reads its key.
        _schema.Initialize();
        foreach (var type in _schema.AllTypes.OfType<IObjectGraphType>().Where(t => t.Name is not ("Query" or "Mutation") && !t.Name.StartsWith("__", StringComparison.Ordinal)))
            foreach (var field in type.Fields.Where(f => f.Resolver is null))
            {
                var name = field.Name;
                field.Resolver = new FuncFieldResolver<object>(c => c.Source is Dictionary<string, object?> d ? d.GetValueOrDefault(name) : null);
            }
    }

    /// <summary>Who asks, and in which role (from basic authentication).</summary>
    public sealed record Caller(string User, string Role);

    /// <summary>Executes one GraphQL request (<c>{"query", "variables", "operationName"}</c>) and writes the standard response.</summary>
    public async Task ExecuteAsync(HttpContext http)
    {
        var ct = http.RequestAborted;
        GraphQLRequest? request;
        try
        {
            request = await _serializer.ReadAsync<GraphQLRequest>(http.Request.Body, ct);
        }
        catch (JsonException ex)
        {
            http.Response.StatusCode = 400;
            await http.Response.WriteAsJsonAsync(new { errors = new[] { new { message = "body is not a GraphQL request: " + ex.Message } } }, ct);
            return;
        }
        var caller = new Caller(http.Items[AuthMiddleware.AnalystItem] as string ?? "unknown", http.Items[AuthMiddleware.RoleItem] as string ?? "");
        var result = await _executer.ExecuteAsync(o =>
        {
            o.Schema = _schema;
            o.Query = request?.Query;
            o.Variables = request?.Variables;
            o.OperationName = request?.OperationName;
            o.UserContext = new Dictionary<string, object?> { ["caller"] = caller };
            o.CancellationToken = ct;
            o.ThrowOnUnhandledException = false;
        });
        http.Response.ContentType = "application/graphql-response+json; charset=utf-8";
        http.Response.StatusCode = result.Executed ? 200 : 400;
        await _serializer.WriteAsync(http.Response.Body, result, ct);
    }

    private static FuncFieldResolver<object> Sync(Func<IResolveFieldContext, object?> f) => new(f);

    private static FuncFieldResolver<object> Async(Func<IResolveFieldContext, Task<object?>> f) => new(async c => await f(c));

    private static FuncFieldResolver<object> Async<T>(Func<IResolveFieldContext, Task<T>> f) => new(async c => (object?)await f(c));

    private static (string User, string Role) Admin(IResolveFieldContext c)
    {
        var caller = (Caller)c.UserContext["caller"]!;
        return caller.Role == AuthMiddleware.Admin ? (caller.User, caller.Role) : throw new ExecutionError("forbidden: changing bindings is for the admin (RBPILOT_USER)");
    }

    private async Task<RunbookPilot.Domain.Alerts.Alert> AlertAsync(IResolveFieldContext c)
    {
        var id = c.GetArgument<string>("alertId");
        return await _engine.Read.StoredAlertAsync(id, c.CancellationToken) ?? throw new ExecutionError($"no alert {id}");
    }

    private async Task<object?> SaveAsync(IResolveFieldContext c, int? id)
    {
        var (user, _) = Admin(c);
        var input = JsonSerializer.SerializeToNode(c.GetArgument<Dictionary<string, object?>>("input"))!;
        if (BindingJson.Read(SnakeCase(input)!.ToJsonString(), out var problem) is not { } spec)
            throw new ExecutionError($"input{problem!.Value.Path.TrimStart('$')}: {problem.Value.Message}");
        var (result, saved) = await _engine.Bindings.SaveAndViewAsync(spec with { Id = id }, user, c.CancellationToken);
        if (result.NotFound) throw new ExecutionError($"no binding {id}");
        if (result.Problems.Count > 0) throw new ExecutionError(string.Join("; ", result.Problems.Select(p => $"input.{p.Path}: {p.Message}")));
        return Binding(saved!);
    }

    /// <summary>GraphQL's camelCase input keys as the binding model's snake_case (values untouched).</summary>
    private static JsonNode? SnakeCase(JsonNode? node) => node switch
    {
        JsonObject o => new JsonObject(o.Select(kv => KeyValuePair.Create(ModelShape.SnakeCase(kv.Key), SnakeCase(kv.Value?.DeepClone())))),
        JsonArray a => new JsonArray([.. a.Select(x => SnakeCase(x?.DeepClone()))]),
        _ => node,
    };

    private static Dictionary<string, object?> Binding(BindingView v)
    {
        var s = v.Binding.Spec;
        return new()
        {
            ["id"] = v.Binding.Id, ["playbookId"] = s.PlaybookId, ["mode"] = BindingDecision.Name(s.Mode), ["enabled"] = s.Enabled, ["priority"] = s.Priority,
            ["description"] = s.Description, ["preset"] = s.Preset is { } p ? ModelShape.SnakeCase(p.ToString()) : null,
            ["match"] = new Dictionary<string, object?>
            {
                ["ruleIds"] = s.Match.RuleIds, ["alertTypes"] = s.Match.AlertTypes, ["severities"] = s.Match.Severities.Select(x => x.ToString().ToLowerInvariant()).ToList(), ["tags"] = s.Match.Tags,
            },
            ["guardrails"] = Guardrails(s.Guardrails), ["effectiveGuardrails"] = Guardrails(s.Effective),
            ["createdBy"] = v.Binding.CreatedBy, ["createdAt"] = v.Binding.CreatedAt.ToString("O"), ["updatedBy"] = v.Binding.UpdatedBy, ["updatedAt"] = v.Binding.UpdatedAt.ToString("O"),
            ["inflight"] = v.InFlight, ["quotaRemaining"] = v.QuotaRemaining, ["circuitOpen"] = v.CircuitOpen,
            ["paused"] = v.Paused is { } paused
                ? new Dictionary<string, object?> { ["scope"] = ModelShape.SnakeCase(paused.Scope.ToString()), ["target"] = paused.Target, ["by"] = paused.By, ["reason"] = paused.Reason, ["at"] = paused.At.ToString("O") }
                : null,
        };
    }

    private static Dictionary<string, object?> Guardrails(GuardrailSpec g) => new()
    {
        ["maxPerMinute"] = g.MaxPerMinute, ["maxConcurrent"] = g.MaxConcurrent, ["dailyQuota"] = g.DailyQuota, ["key"] = g.Key,
        ["onceWithin"] = g.OnceWithin is { } w ? YamlBinder.FormatDuration(w) : null, ["timeZone"] = g.TimeZone,
        ["circuit"] = g.Circuit is { } c ? new Dictionary<string, object?> { ["trips"] = c.Trips, ["window"] = YamlBinder.FormatDuration(c.Window) } : null,
    };

    private static Dictionary<string, object?> Audit(RunAuditRow r) => new()
    {
        ["alertId"] = r.AlertId, ["bindingId"] = r.BindingId, ["playbookId"] = r.PlaybookId, ["mode"] = r.Mode, ["decision"] = r.Decision, ["phase"] = r.Phase,
        ["success"] = r.Success, ["reason"] = r.Reason, ["key"] = r.Key, ["by"] = r.By, ["startedAt"] = r.StartedAt.ToString("O"),
        ["finishedAt"] = r.FinishedAt?.ToString("O"), ["outputRef"] = r.OutputRef,
    };

    private static Dictionary<string, object?> Decision(BindingDecision d) => new()
    {
        ["bindingId"] = d.BindingId, ["playbookId"] = d.PlaybookId, ["mode"] = BindingDecision.Name(d.Mode), ["decision"] = BindingDecision.Name(d.Decision),
        ["reason"] = d.Reason, ["key"] = d.Key, ["executionId"] = d.ExecutionId, ["by"] = d.By, ["at"] = d.At.ToString("O"),
    };
}
