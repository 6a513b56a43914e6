using System.Text.Json;
using System.Text.Json.Serialization;

namespace RunbookPilot.Domain.Core;

/// <summary>The one JSON convention of journal events and read-model columns: snake_case names and enums, nulls left out.</summary>
public static class JsonConventions
{
    public static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DictionaryKeyPolicy = null,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };
}
