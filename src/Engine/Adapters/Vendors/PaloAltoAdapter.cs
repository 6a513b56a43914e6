using System.Globalization;
using System.Text.Json.Nodes;
using System.Xml;
using System.Xml.Linq;
using RunbookPilot.Engine.Adapters.Http;
using RunbookPilot.Domain.Adapters;

namespace RunbookPilot.Engine.Adapters.Vendors;

/// <summary>
/// PAN-OS: block and unblock an IP. Default (<c>options.block_mode: dag</c>): register the IP with a tag that a dynamic
/// address group matches, through the User-ID XML API — no commit per IP, idempotent ("already
/// exists, ignore" is success). Option <c>block_mode: address_group</c>: an address object, a member of a static
/// group (<c>options.group</c>, default RBP-Blocklist) and a commit whose job is polled until it finishes. The XML is built
/// as a document, so a value from an alert can never add elements.
/// Security policy rules (PRD I4.1): <c>add_rule</c> sets a rule under the vsys rulebase (XML API <c>action=set</c>; PAN-OS
/// appends a new rule at the end of the rulebase) and <c>delete_rule</c> deletes it, each followed by the same commit and
/// job polling as the address-group mode. Rule names are checked (PAN-OS rule-name rules) before any call, since the
/// XPath is built from them.
/// </summary>
public sealed partial class PaloAltoAdapter(AdapterEndpoint endpoint) : HttpAdapter(AdapterCatalog.BuiltIn.Find("paloalto")!, endpoint)
{
    public const string DefaultTag = "runbookpilot-block";
    public const string DefaultGroup = "RBP-Blocklist";
    private const string Vsys = "/config/devices/entry[@name='localhost.localdomain']/vsys/entry[@name='vsys1']";

    private bool AddressGroupMode => Endpoint.Settings.Options.GetValueOrDefault("block_mode")?.ToString() == "address_group";

    private string Group => Endpoint.Settings.Options.GetValueOrDefault("group")?.ToString() ?? DefaultGroup;

    private static string ObjectName(string ip) => "rbp-" + ip;

    private static string XPathLiteral(string value) => value.Contains('\'', StringComparison.Ordinal) ? $"\"{value}\"" : $"'{value}'";

    private HttpCall Xml(string query) => new(HttpMethod.Post, $"{Endpoint.BaseUrl}/api/", [("X-PAN-KEY", Endpoint.Secret("api_key") ?? "", true)], query, "application/x-www-form-urlencoded");

    private HttpCall SetAddress(string ip) => Xml($"type=config&action=set&xpath={Q($"{Vsys}/address/entry[@name={XPathLiteral(ObjectName(ip))}]")}" +
        $"&element={Q(new XElement("ip-netmask", ip).ToString(SaveOptions.DisableFormatting) + new XElement("description", "RunbookPilot block").ToString(SaveOptions.DisableFormatting))}");

    private HttpCall SetMember(string ip) => Xml($"type=config&action=set&xpath={Q($"{Vsys}/address-group/entry[@name={XPathLiteral(Group)}]/static")}" +
        $"&element={Q(new XElement("member", ObjectName(ip)).ToString(SaveOptions.DisableFormatting))}");

    private HttpCall DeleteMember(string ip) => Xml($"type=config&action=delete&xpath={Q($"{Vsys}/address-group/entry[@name={XPathLiteral(Group)}]/static/member[text()={XPathLiteral(ObjectName(ip))}]")}");

    private HttpCall DeleteAddress(string ip) => Xml($"type=config&action=delete&xpath={Q($"{Vsys}/address/entry[@name={XPathLiteral(ObjectName(ip))}]")}");

    private static string RuleXPath(string name) => $"{Vsys}/rulebase/security/rules/entry[@name={XPathLiteral(name)}]";

    /// <summary>PAN-OS rule names: at most 63 characters, letters, digits, space, hyphen, underscore and dot, starting with a letter or digit.</summary>
    [System.Text.RegularExpressions.GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9 ._-]{0,62}\z", System.Text.RegularExpressions.RegexOptions.CultureInvariant)]
    private static partial System.Text.RegularExpressions.Regex RuleName();

    public static readonly IReadOnlySet<string> RuleActions = new HashSet<string>(StringComparer.Ordinal) { "deny", "drop", "reset-client", "allow" };

    /// <summary>A parameter's values (a list, or one value), or <paramref name="fallback"/> when it is absent or empty.</summary>
    private static List<string> Values(AdapterCall call, string name, string fallback)
    {
        List<string> values = call.Parameters[name] switch
        {
            JsonArray list => list.Select(v => v?.ToString() ?? "").Where(v => v.Length > 0).ToList(),
            { } one when one.ToString() is { Length: > 0 } text => [text],
            _ => [],
        };
        return values.Count > 0 ? values : [fallback];
    }

    private static XElement Members(string element, List<string> values) => new(element, values.Select(v => new XElement("member", v)));

    /// <summary>The rule's elements, each a document node (a value can never add or close an element).</summary>
    private static string RuleElement(AdapterCall call) => string.Concat(new[]
    {
        Members("from", Values(call, "from_zone", "any")),
        Members("to", Values(call, "to_zone", "any")),
        Members("source", Values(call, "source", "")),
        Members("destination", Values(call, "destination", "any")),
        Members("application", Values(call, "application", "any")),
        Members("service", Values(call, "service", "application-default")),
        new XElement("action", Values(call, "rule_action", "deny")[0]),
        new XElement("description", Values(call, "description", "Added by RunbookPilot")[0]),
    }.Select(e => e.ToString(SaveOptions.DisableFormatting)));

    private HttpCall SetRule(AdapterCall call) =>
        Xml($"type=config&action=set&xpath={Q(RuleXPath(Text(call, "rule_name")))}&element={Q(RuleElement(call))}");

    private HttpCall DeleteRule(AdapterCall call) => Xml($"type=config&action=delete&xpath={Q(RuleXPath(Text(call, "rule_name")))}");

    /// <summary>Why this rule call must not be sent (its name becomes an XPath, its source a rule's match), or null.</summary>
    private static string? RuleProblem(AdapterCall call)
    {
        var name = Text(call, "rule_name");
        if (!RuleName().IsMatch(name))
            return $"rule_name '{name}' is not a PAN-OS rule name (at most 63 letters, digits, spaces, '-', '_' or '.', starting with a letter or digit)";
        if (call.Action != "add_rule") return null;
        foreach (var source in Values(call, "source", ""))
            if (!System.Net.IPAddress.TryParse(source, out _) && !System.Net.IPNetwork.TryParse(source, out _))
                return $"source '{source}' is not an IP address or CIDR network";
        var action = Values(call, "rule_action", "deny");
        if (action.Count != 1 || !RuleActions.Contains(action[0]))
            return $"rule_action '{string.Join(",", action)}' is not one of deny, drop, reset-client, allow";
        return null;
    }

    private HttpCall Commit() => Xml($"type=commit&cmd={Q("<commit></commit>")}");

    private HttpCall JobStatus(string job) => Xml($"type=op&cmd={Q(new XElement("show", new XElement("jobs", new XElement("id", job))).ToString(SaveOptions.DisableFormatting))}");

    /// <summary>A block records what its unblock must remove: the IP, and in tag mode the tag it was registered with.</summary>
    private AdapterResult Blocked(AdapterCall call, AdapterResult result)
    {
        if (call.Action != "block_ip") return result;
        var undo = new JsonObject { ["ip"] = Text(call, "ip") };
        if (!AddressGroupMode) undo["tag"] = Tag(call);
        return result with { Undo = undo };
    }

    private string Tag(AdapterCall call) => call.Parameters["tag"]?.ToString() ?? Endpoint.Settings.Options.GetValueOrDefault("tag")?.ToString() ?? DefaultTag;

    protected override AdapterCall HealthProbe => new("health", [], "health");


    /// <summary>PAN-OS reports its software version in <c>show system info</c> (result/system/sw-version).</summary>
    protected override HttpCall? VersionProbe => new(HttpMethod.Get, $"{Endpoint.BaseUrl}/api/?type=op&cmd={Q("<show><system><info></info></system></show>")}",
        [("X-PAN-KEY", Endpoint.Secret("api_key") ?? "", true)], null, null);

    protected override string? ParseVersion(string body) => XElement.Parse(body).Element("result")?.Element("system")?.Element("sw-version")?.Value;

    protected override HttpCall Build(AdapterCall call)
    {
        if (call.Action == "health")
            return new HttpCall(HttpMethod.Get, $"{Endpoint.BaseUrl}/api/?type=op&cmd={Q("<show><object><registered-ip><all></all></registered-ip></object></show>")}",
                [("X-PAN-KEY", Endpoint.Secret("api_key") ?? "", true)], null, null);
        if (call.Action == "add_rule") return SetRule(call);
        if (call.Action == "delete_rule") return DeleteRule(call);
        if (AddressGroupMode) return call.Action == "block_ip" ? SetMember(Text(call, "ip")) : DeleteMember(Text(call, "ip")); // the change that blocks or unblocks
        var register = call.Action == "block_ip";
        var member = new XElement("member", Tag(call));
        if (register && call.Parameters["timeout"] is { } timeout) member.SetAttributeValue("timeout", timeout.ToString());
        var entry = new XElement("entry", new XAttribute("ip", Text(call, "ip")), new XElement("tag", member));
        if (register) entry.SetAttributeValue("persistent", "1");
        var message = new XElement("uid-message",
            new XElement("type", "update"),
            new XElement("payload", new XElement(register ? "register" : "unregister", entry)));
        var xml = message.ToString(SaveOptions.DisableFormatting);
        return new HttpCall(HttpMethod.Post, $"{Endpoint.BaseUrl}/api/?type=user-id",
            [("X-PAN-KEY", Endpoint.Secret("api_key") ?? "", true)], "cmd=" + Q(xml), "application/x-www-form-urlencoded");
    }

    protected override async Task<AdapterResult> RunAsync(AdapterCall call, CancellationToken cancellationToken)
    {
        if (call.Action is "add_rule" or "delete_rule") return await RuleAsync(call, cancellationToken).ConfigureAwait(false);
        if (AddressGroupMode) return await AddressGroupAsync(call, cancellationToken).ConfigureAwait(false);
        var http = Build(call);
        var request = http.Describe(Endpoint.Redact);
        var answer = await SendAsync(http, cancellationToken).ConfigureAwait(false);
        if (Failure(answer, request) is { } failure) return failure;
        XElement response;
        try
        {
            response = XElement.Parse(answer.Body);
        }
        catch (XmlException)
        {
            return Malformed(answer, request);
        }
        if (response.Name != "response") return Malformed(answer, request);
        var ip = Text(call, "ip");
        if ((string?)response.Attribute("status") == "success")
            return Blocked(call, Ok(new JsonObject { ["ip"] = ip, ["registered"] = call.Action == "block_ip", ["changed"] = true }, request));
        var reasons = response.Descendants("entry").Select(e => (string?)e.Attribute("message")).OfType<string>().ToList();
        if (reasons.Count > 0 && reasons.All(r => r.EndsWith("already exists, ignore", StringComparison.Ordinal) || r.EndsWith("does not exist, ignore unreg", StringComparison.Ordinal)))
            return Blocked(call, Ok(new JsonObject { ["ip"] = ip, ["registered"] = call.Action == "block_ip", ["changed"] = false }, request));
        var code = (string?)response.Attribute("code");
        var text = string.Join("; ", reasons.Count > 0 ? reasons : response.Descendants("line").Select(l => l.Value).DefaultIfEmpty(response.Value));
        return AdapterResult.Fail($"paloalto: {Endpoint.Redact(text)}" + (code is null ? "" : $" (code {code})"), retryable: code is "13" or "19", request: request);
    }

    /// <summary>Address object + static group member + commit (polled), or the reverse; each step idempotent.</summary>
    private async Task<AdapterResult> AddressGroupAsync(AdapterCall call, CancellationToken ct)
    {
        var ip = Text(call, "ip");
        var described = Describe(call);
        // Object names and XPaths are built from the value: only a real IP address may become one.
        if (!System.Net.IPAddress.TryParse(ip, out _))
            return AdapterResult.Fail($"paloalto: '{ip}' is not an IP address; refused before any call", retryable: false, request: described);
        var changes = call.Action == "block_ip" ? new[] { SetAddress(ip), SetMember(ip) } : [DeleteMember(ip), DeleteAddress(ip)];
        foreach (var change in changes)
        {
            var (response, failure) = await XmlCallAsync(change, ct).ConfigureAwait(false);
            if (failure is not null) return failure;
            var code = (string?)response!.Attribute("code");
            // "set" merges (repeat-safe); deleting what is already gone (7 object not present, "No such node") is success.
            if ((string?)response.Attribute("status") != "success" && code is not ("7" or "13") && !response.Value.Contains("No such node", StringComparison.Ordinal))
                return AdapterResult.Fail($"paloalto: {Endpoint.Redact(response.Value)} (code {code})", retryable: false, request: change.Describe(Endpoint.Redact));
        }
        return await CommitAsync(described, (committed, job) =>
        {
            var output = new JsonObject { ["ip"] = ip, ["registered"] = call.Action == "block_ip", ["committed"] = committed };
            if (job is not null) output["job"] = job;
            return Blocked(call, Ok(output, described));
        }, ct).ConfigureAwait(false);
    }

    /// <summary>
    /// A security rule: set (add_rule) or delete (delete_rule; a rule already gone is success), then commit and poll the
    /// job. add_rule records the rule's name for its undo.
    /// </summary>
    private async Task<AdapterResult> RuleAsync(AdapterCall call, CancellationToken ct)
    {
        var described = Describe(call);
        if (RuleProblem(call) is { } problem) return AdapterResult.Fail($"paloalto: {problem}; refused before any call", retryable: false, request: described);
        var name = Text(call, "rule_name");
        var add = call.Action == "add_rule";
        var change = add ? SetRule(call) : DeleteRule(call);
        var (response, failure) = await XmlCallAsync(change, ct).ConfigureAwait(false);
        if (failure is not null) return failure;
        var code = (string?)response!.Attribute("code");
        if ((string?)response.Attribute("status") != "success" && (add || (code is not ("7" or "13") && !response.Value.Contains("No such node", StringComparison.Ordinal))))
            return AdapterResult.Fail($"paloalto: {Endpoint.Redact(response.Value)} (code {code})", retryable: false, request: described);
        return await CommitAsync(described, (committed, job) =>
        {
            var output = new JsonObject { ["rule_name"] = name, [add ? "added" : "deleted"] = true, ["committed"] = committed };
            if (add)
            {
                output["source"] = new JsonArray(Values(call, "source", "").Select(v => (JsonNode)v).ToArray());
                output["rule_action"] = Values(call, "rule_action", "deny")[0];
            }
            if (job is not null) output["job"] = job;
            var result = Ok(output, described);
            return add ? result with { Undo = new JsonObject { ["rule_name"] = name } } : result;
        }, ct).ConfigureAwait(false);
    }

    /// <summary>
    /// Commits the candidate configuration and polls the commit job until it finishes. <paramref name="done"/> makes the
    /// result: (false, null) when there was nothing to commit, (true, job) when the job finished OK.
    /// </summary>
    private async Task<AdapterResult> CommitAsync(AdapterRequest described, Func<bool, string?, AdapterResult> done, CancellationToken ct)
    {
        var commit = Commit();
        var (enqueued, commitFailure) = await XmlCallAsync(commit, ct).ConfigureAwait(false);
        if (commitFailure is not null) return commitFailure;
        if (enqueued!.Value.Contains("There are no changes to commit", StringComparison.Ordinal)) return done(false, null);
        if ((string?)enqueued.Attribute("status") == "success" && enqueued.Descendants("job").FirstOrDefault()?.Value is { Length: > 0 } job)
            return await WaitForCommitAsync(job, described, done, ct).ConfigureAwait(false);
        // "Another commit/validate is in progress": the management plane serialises commits; the step's retry waits and tries again.
        return AdapterResult.Fail($"paloalto: commit not accepted: {Endpoint.Redact(enqueued.Value)}", retryable: true, request: commit.Describe(Endpoint.Redact));
    }

    private async Task<AdapterResult> WaitForCommitAsync(string job, AdapterRequest described, Func<bool, string?, AdapterResult> done, CancellationToken ct)
    {
        var interval = TimeSpan.FromMilliseconds(double.TryParse(Endpoint.Settings.Options.GetValueOrDefault("poll_interval_ms")?.ToString(), CultureInfo.InvariantCulture, out var ms) ? ms : 1000);
        while (true)
        {
            var (status, failure) = await XmlCallAsync(JobStatus(job), ct).ConfigureAwait(false);
            if (failure is not null) return failure;
            var state = status!.Descendants("status").FirstOrDefault()?.Value;
            if (state == "FIN")
            {
                var result = status.Descendants("result").LastOrDefault(r => r.Value is "OK" or "FAIL")?.Value;
                return result == "OK"
                    ? done(true, job)
                    : AdapterResult.Fail($"paloalto: commit job {job} failed: {Endpoint.Redact(string.Join("; ", status.Descendants("line").Select(l => l.Value)))}", retryable: true, request: described);
            }
            await Task.Delay(interval, ct).ConfigureAwait(false);
        }
    }

    private async Task<(XElement? Response, AdapterResult? Failure)> XmlCallAsync(HttpCall http, CancellationToken ct)
    {
        var request = http.Describe(Endpoint.Redact);
        var answer = await SendAsync(http, ct).ConfigureAwait(false);
        if (Failure(answer, request) is { } failure) return (null, failure);
        try
        {
            var response = XElement.Parse(answer.Body);
            return response.Name == "response" ? (response, null) : (null, Malformed(answer, request));
        }
        catch (XmlException)
        {
            return (null, Malformed(answer, request));
        }
    }
}
