using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using RunbookPilot.Domain.Core;

namespace RunbookPilot.Domain.Alerts;

/// <summary>
/// A security alert in canonical ECS form. <see cref="Id"/> is the alert's <c>event.id</c> (or its SIEM's alert id);
/// an alert without one gets a content hash, so a webhook retry of the same document is still recognised.
/// </summary>
public sealed record Alert(string Id, JsonObject Document, string Format)
{
    public string? Text(string path) => AlertFields.Text(Document, path);

    /// <summary>ATT&amp;CK technique and sub-technique ids named by the alert.</summary>
    public IEnumerable<string> Techniques =>
        AlertFields.Texts(Document, "threat.technique.id").Concat(AlertFields.Texts(Document, "threat.technique.subtechnique.id")).Distinct(StringComparer.Ordinal);

    /// <summary>The rule ids (<c>rule.id</c>, <c>rule.uuid</c>) of the detection that raised the alert.</summary>
    public IEnumerable<string> RuleIds => AlertFields.Texts(Document, "rule.id").Concat(AlertFields.Texts(Document, "rule.uuid")).Distinct(StringComparer.Ordinal);

    /// <summary>Severity from <c>event.severity</c>: a label (low … critical) or a 0–100 number in Elastic's risk bands.</summary>
    public Core.AlertSeverity? Severity
    {
        get
        {
            var node = AlertFields.Values(Document, "event.severity").FirstOrDefault();
            if (node is JsonValue v && v.GetValueKind() == System.Text.Json.JsonValueKind.String
                && Enum.TryParse<Core.AlertSeverity>(v.GetValue<string>(), ignoreCase: true, out var label) && Enum.IsDefined(label))
                return label;
            return AlertFields.AsNumber(node) switch
            {
                null => null,
                < 22 => Core.AlertSeverity.Low,
                < 48 => Core.AlertSeverity.Medium,
                < 74 => Core.AlertSeverity.High,
                _ => Core.AlertSeverity.Critical,
            };
        }
    }

    /// <summary>Makes an alert from a normalised ECS document.</summary>
    public static Alert From(JsonObject ecs, string format)
    {
        var id = AlertFields.Text(ecs, "event.id");
        if (string.IsNullOrWhiteSpace(id))
            id = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(ecs.ToJsonString())))[..32];
        return new Alert(id, ecs, format);
    }
}
