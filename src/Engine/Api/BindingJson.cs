using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using RunbookPilot.Domain.Bindings;
using RunbookPilot.Engine.ReadModel;
using RunbookPilot.Domain.Yaml;

namespace RunbookPilot.Engine.Api;

/// <summary>
/// Bindings as JSON for the REST API, GraphQL and the CLI: snake_case, enums as in YAML (<c>dry_run</c>), durations as in
/// YAML (<c>10m</c>). Bodies that do not fit are refused with the JSON path of the problem.
/// </summary>
public static class BindingJson
{
    public static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower, allowIntegerValues: false), new DurationConverter() },
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        WriteIndented = false,
    };

    /// <summary>Reads a binding from JSON; on failure, the JSON path and what is wrong there.</summary>
    public static BindingSpec? Read(string json, out (string Path, string Message)? problem)
    {
        problem = null;
        try
        {
            var spec = JsonSerializer.Deserialize<BindingSpec>(json, Options);
            if (spec is null) problem = ("$", "expected a binding object");
            return spec;
        }
        catch (JsonException ex)
        {
            problem = (ex.Path ?? "$", ex.Message.Split(" Path:", 2)[0]);
            return null;
        }
    }

    public static JsonObject Write(BindingView view) => new()
    {
        ["id"] = view.Binding.Id,
        ["spec"] = JsonSerializer.SerializeToNode(view.Binding.Spec, Options),
        ["effective_guardrails"] = JsonSerializer.SerializeToNode(view.Binding.Spec.Effective, Options),
        ["created_by"] = view.Binding.CreatedBy,
        ["created_at"] = view.Binding.CreatedAt,
        ["updated_by"] = view.Binding.UpdatedBy,
        ["updated_at"] = view.Binding.UpdatedAt,
        ["inflight"] = view.InFlight,
        ["quota_remaining"] = view.QuotaRemaining,
        ["circuit_open"] = view.CircuitOpen,
        ["paused"] = view.Paused is null ? null : Write(view.Paused),
    };

    public static JsonObject Write(BindingsView view) => new()
    {
        ["bindings"] = new JsonArray([.. view.Bindings.Select(b => (JsonNode)Write(b))]),
        ["paused"] = new JsonArray([.. view.Pauses.Select(p => (JsonNode)Write(p))]),
        ["held_decisions"] = view.HeldAlerts,
        ["open_circuits"] = new JsonArray([.. view.Bindings.Where(b => b.CircuitOpen).Select(b => (JsonNode)b.Binding.Id)]),
    };

    public static JsonArray Write(IEnumerable<RunAuditRow> rows) => new([.. rows.Select(r => (JsonNode)new JsonObject
    {
        ["alert_id"] = r.AlertId, ["binding_id"] = r.BindingId, ["playbook_id"] = r.PlaybookId, ["mode"] = r.Mode, ["decision"] = r.Decision, ["phase"] = r.Phase,
        ["success"] = r.Success, ["reason"] = r.Reason, ["key"] = r.Key, ["by"] = r.By, ["started_at"] = r.StartedAt, ["finished_at"] = r.FinishedAt, ["output_ref"] = r.OutputRef,
    })]);

    public static JsonObject Write(PauseState p) => new()
    {
        ["scope"] = ModelShape.SnakeCase(p.Scope.ToString()), ["target"] = p.Target, ["by"] = p.By, ["reason"] = p.Reason, ["at"] = p.At,
    };

    public static JsonObject Write(BindingDecision d) => new()
    {
        ["binding_id"] = d.BindingId,
        ["playbook_id"] = d.PlaybookId,
        ["mode"] = BindingDecision.Name(d.Mode),
        ["decision"] = BindingDecision.Name(d.Decision),
        ["reason"] = d.Reason,
        ["key"] = d.Key,
        ["execution_id"] = d.ExecutionId,
        ["by"] = d.By,
        ["at"] = d.At,
    };

    /// <summary>A duration as YAML writes it (30s, 10m, 4h), read back the same way.</summary>
    private sealed class DurationConverter : JsonConverter<TimeSpan>
    {
        public override TimeSpan Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            reader.TokenType == JsonTokenType.String && YamlBinder.TryParseDuration(reader.GetString()!, out var t)
                ? t
                : throw new JsonException("expected a duration such as 30s, 10m or 4h");

        public override void Write(Utf8JsonWriter writer, TimeSpan value, JsonSerializerOptions options) => writer.WriteStringValue(YamlBinder.FormatDuration(value));
    }
}
