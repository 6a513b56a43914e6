using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using RunbookPilot.Domain.Alerts;
using RunbookPilot.Domain.Playbooks;

namespace RunbookPilot.Domain.Matching;

/// <summary>A trigger condition compiled once (regex, networks, numbers) and evaluated against alerts.</summary>
public sealed class CompiledCondition
{
    private readonly TriggerCondition _c;
    private readonly Regex? _regex;
    private readonly IPNetwork[] _networks = [];
    private readonly string[] _set = [];
    private readonly string? _text;
    private readonly double? _number;

    public CompiledCondition(TriggerCondition condition)
    {
        _c = condition;
        _text = AlertFields.AsText(condition.Value);
        _number = AlertFields.AsNumber(condition.Value);
        switch (condition.Operator)
        {
            case ConditionOperator.Regex when _text is not null:
                _regex = new Regex(_text, RegexOptions.CultureInvariant, TimeSpan.FromMilliseconds(50));
                break;
            case ConditionOperator.In when condition.Value is JsonArray values:
                _set = values.Select(AlertFields.AsText).OfType<string>().ToArray();
                break;
            case ConditionOperator.Cidr:
                var texts = condition.Value is JsonArray arr ? arr.Select(AlertFields.AsText) : [_text];
                _networks = texts.Select(t => t is not null && IPNetwork.TryParse(t, out var n) ? n : (IPNetwork?)null).OfType<IPNetwork>().ToArray();
                break;
        }
    }

    public TriggerCondition Condition => _c;

    /// <summary>True when the field satisfies the condition; on an array field, when any element does.</summary>
    public bool Holds(Alert alert)
    {
        var values = AlertFields.Values(alert.Document, _c.Field);
        if (_c.Operator == ConditionOperator.Exists)
        {
            var wanted = _c.Value is not JsonValue v || v.GetValueKind() != JsonValueKind.False;
            return values.Count > 0 == wanted;
        }
        if (_c.Operator == ConditionOperator.NotEquals)
            return values.All(v => !string.Equals(AlertFields.AsText(v), _text, StringComparison.OrdinalIgnoreCase));
        foreach (var value in values)
            if (One(value)) return true;
        return false;
    }

    private bool One(JsonNode value)
    {
        var text = AlertFields.AsText(value);
        switch (_c.Operator)
        {
            case ConditionOperator.Equals:
                return text is not null && string.Equals(text, _text, StringComparison.OrdinalIgnoreCase);
            case ConditionOperator.Contains:
                return text is not null && _text is not null && text.Contains(_text, StringComparison.OrdinalIgnoreCase);
            case ConditionOperator.StartsWith:
                return text is not null && _text is not null && text.StartsWith(_text, StringComparison.OrdinalIgnoreCase);
            case ConditionOperator.In:
                return text is not null && _set.Contains(text, StringComparer.OrdinalIgnoreCase);
            case ConditionOperator.Regex:
                try
                {
                    return text is not null && _regex!.IsMatch(text);
                }
                catch (RegexMatchTimeoutException)
                {
                    return false;
                }
            case ConditionOperator.Cidr:
                return text is not null && IPAddress.TryParse(text, out var ip) && _networks.Any(n => n.Contains(ip));
            default:
                var number = AlertFields.AsNumber(value);
                return number is not null && _number is not null && _c.Operator switch
                {
                    ConditionOperator.Gt => number > _number,
                    ConditionOperator.Gte => number >= _number,
                    ConditionOperator.Lt => number < _number,
                    _ => number <= _number,
                };
        }
    }
}
