using System.Globalization;
using System.Text.Json.Nodes;
using System.Xml;
using System.Xml.Linq;
using RunbookPilot.Engine.Adapters.Http;

namespace RunbookPilot.Engine.Adapters.Vendors;

/// <summary>
/// PAN-OS: block and unblock an IP by registering it with a tag that a dynamic address group matches, through the
/// User-ID XML API (vendor-apis.md §4.3): no commit per IP, idempotent ("already exists, ignore" is success). The XML is
/// built as a document, so a value from an alert can never add elements.
/// </summary>
public sealed class PaloAltoAdapter(AdapterEndpoint endpoint) : HttpAdapter(AdapterCatalog.BuiltIn.Find("paloalto")!, endpoint)
{
    public const string DefaultTag = "runbookpilot-block";

    protected override AdapterCall HealthProbe => new("health", [], "health");

    protected override string ApiVersion => "XML API (User-ID)";

    protected override HttpCall Build(AdapterCall call)
    {
        if (call.Action == "health")
            return new HttpCall(HttpMethod.Get, $"{Endpoint.BaseUrl}/api/?type=op&cmd={Q("<show><object><registered-ip><all></all></registered-ip></object></show>")}",
                [("X-PAN-KEY", Endpoint.Secret("api_key") ?? "", true)], null, null);
        var register = call.Action == "block_ip";
        var tag = call.Parameters["tag"]?.ToString() ?? Endpoint.Settings.Options.GetValueOrDefault("tag")?.ToString() ?? DefaultTag;
        var member = new XElement("member", tag);
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
            return Ok(new JsonObject { ["ip"] = ip, ["registered"] = call.Action == "block_ip", ["changed"] = true }, request);
        var reasons = response.Descendants("entry").Select(e => (string?)e.Attribute("message")).OfType<string>().ToList();
        if (reasons.Count > 0 && reasons.All(r => r.EndsWith("already exists, ignore", StringComparison.Ordinal) || r.EndsWith("does not exist, ignore unreg", StringComparison.Ordinal)))
            return Ok(new JsonObject { ["ip"] = ip, ["registered"] = call.Action == "block_ip", ["changed"] = false }, request);
        var code = (string?)response.Attribute("code");
        var text = string.Join("; ", reasons.Count > 0 ? reasons : response.Descendants("line").Select(l => l.Value).DefaultIfEmpty(response.Value));
        return AdapterResult.Fail($"paloalto: {Endpoint.Redact(text)}" + (code is null ? "" : $" (code {code})"), retryable: code is "13" or "19", request: request);
    }
}
