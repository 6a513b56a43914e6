using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Xml;
using System.Xml.Linq;
using RunbookPilot.Domain.Adapters;
using RunbookPilot.Domain.Execution;

namespace RunbookPilot.Engine.Api;

/// <summary>One earlier result of the execution, as the approval card's evidence table shows it.</summary>
public sealed record Evidence(string StepId, string Action, string Summary);

/// <summary>
/// What an analyst reads to decide an approval, in plain words: one line ("Block 10.20.8.45 on the PAN-OS firewall ·
/// undo: unblock_ip · expires in 3 h 12 min"), the request decoded and indented, and the evidence the execution
/// gathered before (the L0 steps' results).
/// </summary>
public static class DecisionPresenter
{
    private static readonly Dictionary<string, string> Vendors = new(StringComparer.Ordinal)
    {
        ["paloalto"] = "the PAN-OS firewall", ["crowdstrike"] = "CrowdStrike Falcon", ["virustotal"] = "VirusTotal", ["splunk"] = "Splunk",
        ["abuseipdb"] = "AbuseIPDB", ["jira"] = "Jira", ["pagerduty"] = "PagerDuty", ["http"] = "an HTTP endpoint",
    };

    private static readonly HashSet<string> Nouns = new(StringComparer.Ordinal) { "ip", "host", "user", "process", "domain", "hash", "device", "url", "file" };

    /// <summary>"Block 10.20.8.45 on the PAN-OS firewall" for <c>paloalto.block_ip</c> with its parameters.</summary>
    public static string What(string adapterAction, JsonObject? parameters, AdapterCatalog catalog)
    {
        var (adapter, action) = Split(adapterAction);
        var descriptor = catalog.Find(adapter)?.Find(action);
        var targets = (descriptor?.Targets?.Keys ?? []).Select(k => parameters?[k]).Select(Text).OfType<string>().ToList();
        var words = action.Split('_', StringSplitOptions.RemoveEmptyEntries);
        var verb = targets.Count > 0 && words.Length == 2 && Nouns.Contains(words[1]) ? words[0] : string.Join(' ', words);
        verb = verb.Length > 0 ? char.ToUpperInvariant(verb[0]) + verb[1..] : adapterAction;
        return $"{(targets.Count > 0 ? $"{verb} {string.Join(", ", targets)}" : verb)} on {Vendors.GetValueOrDefault(adapter, adapter)}";
    }

    /// <summary>"Block 10.20.8.45 on the PAN-OS firewall · undo: unblock_ip · expires in 3 h 12 min".</summary>
    public static string Line(string adapterAction, JsonObject? parameters, AdapterCatalog catalog, bool rollbackInPlaybook, DateTimeOffset deadline, DateTimeOffset now)
    {
        var (adapter, action) = Split(adapterAction);
        var descriptor = catalog.Find(adapter)?.Find(action);
        var undo = descriptor?.Inverse is not { } inverse ? "no undo (irreversible)"
            : rollbackInPlaybook ? "undo: " + inverse
            : $"no undo in this playbook ({inverse} exists)";
        var left = deadline - now;
        var expiry = left <= TimeSpan.Zero ? "expired" : "expires in " + Span(left);
        return $"{What(adapterAction, parameters, catalog)} · {undo} · {expiry}";
    }

    /// <summary>3 h 12 min, 12 min 05 s, 40 s.</summary>
    public static string Span(TimeSpan t) =>
        t.TotalHours >= 1 ? $"{(int)t.TotalHours} h {t.Minutes:D2} min" : t.TotalMinutes >= 1 ? $"{t.Minutes} min {t.Seconds:D2} s" : $"{Math.Max(0, t.Seconds)} s";

    /// <summary>
    /// The request as a person reads it: the method and the URL without its query, each query parameter on a line of its
    /// own, URL-decoded (an XML command such as PAN-OS's <c>cmd</c> indented), and the body indented when it is JSON or
    /// XML, with no \uXXXX escapes. Secrets were redacted by the adapter's description before this.
    /// </summary>
    public static string Request(AdapterRequest request)
    {
        var lines = new List<string>();
        var query = request.Url.IndexOf('?', StringComparison.Ordinal);
        lines.Add($"{request.Method} {(query < 0 ? request.Url : request.Url[..query])}".Trim());
        if (query >= 0) lines.AddRange(Fields(request.Url[(query + 1)..]));
        if (request.Body is { Length: > 0 } body)
        {
            lines.Add("");
            if (FormBody.IsMatch(body.Trim())) lines.AddRange(Fields(body.Trim()));
            else lines.Add(Pretty(body));
        }
        return string.Join('\n', lines);
    }

    /// <summary>A form-encoded body (PAN-OS's XML API sends its <c>cmd</c> so): name=value pairs and nothing else.</summary>
    private static readonly System.Text.RegularExpressions.Regex FormBody = new(@"^[A-Za-z0-9_.\-\[\]]+=[^\s&]*(&[A-Za-z0-9_.\-\[\]]+=[^\s&]*)*$");

    /// <summary>Query or form fields, one per line, URL-decoded; a value that is JSON or XML indented under its name.</summary>
    private static IEnumerable<string> Fields(string encoded)
    {
        foreach (var pair in encoded.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            var name = Uri.UnescapeDataString((equals < 0 ? pair : pair[..equals]).Replace('+', ' '));
            var value = equals < 0 ? "" : Uri.UnescapeDataString(pair[(equals + 1)..].Replace('+', ' '));
            var pretty = Pretty(value);
            yield return pretty.Contains('\n', StringComparison.Ordinal) ? $"  {name} =\n{Indent(pretty)}" : $"  {name} = {value}";
        }
    }

    private static string Indent(string text) => string.Join('\n', text.Split('\n').Select(l => "    " + l));

    /// <summary>JSON indented (no \uXXXX escapes), XML indented, a form body one field per line; anything else as it is.</summary>
    public static string Pretty(string text)
    {
        var t = text.Trim();
        if (t.StartsWith('{') || t.StartsWith('['))
        {
            try
            {
                return JsonNode.Parse(t)!.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
            }
            catch (JsonException)
            {
            }
        }
        if (t.StartsWith('<'))
        {
            try
            {
                return XElement.Parse(t).ToString(SaveOptions.None);
            }
            catch (XmlException)
            {
            }
        }
        return text;
    }

    /// <summary>The results of the read-only (L0) steps that ran before <paramref name="stepId"/>: the evidence they gathered, or why they failed.</summary>
    public static IReadOnlyList<Evidence> EvidenceBefore(ExecutionState state, string stepId)
    {
        if (state.Playbook is null) return [];
        var result = new List<Evidence>();
        foreach (var step in state.Playbook.Steps.TakeWhile(s => s.Id != stepId).Where(s => s.AutonomyLevel == Domain.Playbooks.AutonomyLevel.L0))
        {
            var st = state.Step(step.Id);
            if (st.Status == StepStatus.Succeeded) result.Add(new Evidence(step.Id, $"{step.Adapter}.{step.ActionType}", Summary(st.Output)));
            else if (st.Status == StepStatus.Failed) result.Add(new Evidence(step.Id, $"{step.Adapter}.{step.ActionType}", "failed: " + st.Error));
        }
        return result;
    }

    private static readonly string[] Telling =
    [
        "malicious", "suspicious", "harmless", "undetected", "reputation", "abuseConfidenceScore", "totalReports", "countryCode", "verdict", "score",
        "count", "total", "hits", "result_count", "resultCount", "status", "key",
    ];

    /// <summary>The few values of a step's output that tell the most: the known verdict fields first, else the first scalars.</summary>
    public static string Summary(JsonNode? output)
    {
        var leaves = new List<(string Name, string Value)>();
        void Walk(JsonNode? node, string name, int depth)
        {
            if (leaves.Count > 200 || depth > 5) return;
            switch (node)
            {
                case JsonObject o:
                    foreach (var (k, v) in o) Walk(v, k, depth + 1);
                    break;
                case JsonArray a:
                    if (a.All(x => x is JsonValue)) leaves.Add((name, a.Count + " item(s)"));
                    else foreach (var x in a.Take(3)) Walk(x, name, depth + 1);
                    break;
                case JsonValue v:
                    leaves.Add((name, Text(v) ?? ""));
                    break;
            }
        }
        Walk(output, "result", 0);
        if (leaves.Count == 0) return "no output";
        var telling = Telling.SelectMany(t => leaves.Where(l => string.Equals(l.Name, t, StringComparison.OrdinalIgnoreCase)).Take(1)).Take(4).ToList();
        return string.Join(" · ", (telling.Count > 0 ? telling : leaves.Take(3)).Select(l => $"{l.Name} {l.Value}"));
    }

    private static string? Text(JsonNode? node) => node is JsonValue v ? v.TryGetValue<string>(out var s) ? s : v.ToJsonString() : null;

    private static (string Adapter, string Action) Split(string adapterAction)
    {
        var dot = adapterAction.IndexOf('.', StringComparison.Ordinal);
        return dot < 0 ? ("", adapterAction) : (adapterAction[..dot], adapterAction[(dot + 1)..]);
    }
}
