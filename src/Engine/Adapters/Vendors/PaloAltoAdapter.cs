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
/// </summary>
public sealed class PaloAltoAdapter(AdapterEndpoint endpoint) : HttpAdapter(AdapterCatalog.BuiltIn.Find("paloalto")!, endpoint)
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
        var commit = Commit();
        var (enqueued, commitFailure) = await XmlCallAsync(commit, ct).ConfigureAwait(false);
        if (commitFailure is not null) return commitFailure;
        if (enqueued!.Value.Contains("There are no changes to commit", StringComparison.Ordinal))
            return Blocked(call, Ok(new JsonObject { ["ip"] = ip, ["registered"] = call.Action == "block_ip", ["committed"] = false }, described));
        if ((string?)enqueued.Attribute("status") == "success" && enqueued.Descendants("job").FirstOrDefault()?.Value is { Length: > 0 } job)
            return await WaitForCommitAsync(job, ip, call, described, ct).ConfigureAwait(false);
        // "Another commit/validate is in progress": the management plane serialises commits; the step's retry waits and tries again.
        return AdapterResult.Fail($"paloalto: commit not accepted: {Endpoint.Redact(enqueued.Value)}", retryable: true, request: commit.Describe(Endpoint.Redact));
    }

    private async Task<AdapterResult> WaitForCommitAsync(string job, string ip, AdapterCall call, AdapterRequest described, CancellationToken ct)
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
                    ? Blocked(call, Ok(new JsonObject { ["ip"] = ip, ["registered"] = call.Action == "block_ip", ["committed"] = true, ["job"] = job }, described))
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
