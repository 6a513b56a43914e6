using System.Text;
using System.Xml.Linq;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using static RunbookPilot.VendorSim.VendorSimulator;

namespace RunbookPilot.VendorSim;

/// <summary>PAN-OS XML API (<c>/paloalto/api</c>, <c>X-PAN-KEY</c>): User-ID registered IPs, address objects and static groups, security rules, commit jobs.</summary>
internal sealed class PaloAltoSim
{
    private readonly Dictionary<string, int> _commitJobs = [];

    private PaloAltoSim(SimState state) => State = state;

    private SimState State { get; }

    public static void Map(WebApplication app, SimState state, HandleRequest handle)
    {
        var sim = new PaloAltoSim(state);
        app.Map("/paloalto/api", (RequestDelegate)(c => handle(c, "paloalto", () => sim.PanOs(c))));
    }

    private async Task<IResult> PanOs(HttpContext c)
    {
        static IResult Xml(int status, XElement x) => Results.Text(x.ToString(SaveOptions.DisableFormatting), "application/xml", Encoding.UTF8, status);
        var key = c.Request.Headers["X-PAN-KEY"].ToString();
        if (key != Credentials["RBPILOT_SIM_PANOS_KEY"])
            return Xml(403, new XElement("response", new XAttribute("status", "error"), new XAttribute("code", "403"), new XElement("result", new XElement("msg", "Invalid Credential"))));
        var form = c.Request.HasFormContentType ? await c.Request.ReadFormAsync(c.RequestAborted).ConfigureAwait(false) : null;
        string Param(string name) => form is not null && form.ContainsKey(name) ? form[name].ToString() : c.Request.Query[name].ToString();
        var type = Param("type");
        var cmd = Param("cmd");
        if (type is "config" or "commit" || (type == "op" && cmd.Contains("<jobs>", StringComparison.Ordinal)))
            return PanConfigCall(type, Param("action"), Param("xpath"), Param("element"), cmd);
        if (type == "op" && cmd.Contains("<system><info>", StringComparison.Ordinal))
            return Xml(200, new XElement("response", new XAttribute("status", "success"), new XElement("result", new XElement("system",
                new XElement("hostname", "sim-fw"), new XElement("model", "PA-VM"), new XElement("sw-version", "11.1.2")))));
        if (type == "op" && cmd.Contains("registered-ip", StringComparison.Ordinal))
        {
            var result = new XElement("result", State.RegisteredIps.OrderBy(kv => kv.Key).Select(kv =>
                new XElement("entry", new XAttribute("ip", kv.Key), new XAttribute("persistent", "1"), new XElement("tag", kv.Value.Keys.Select(t => new XElement("member", t))))));
            result.Add(new XElement("count", State.RegisteredIps.Count));
            return Xml(200, new XElement("response", new XAttribute("status", "success"), result));
        }
        if (type != "user-id") return Xml(400, new XElement("response", new XAttribute("status", "error"), new XAttribute("code", "1"), new XElement("msg", "Unknown command")));
        XElement message;
        try
        {
            message = XElement.Parse(cmd);
        }
        catch (System.Xml.XmlException)
        {
            return Xml(400, new XElement("response", new XAttribute("status", "error"), new XAttribute("code", "18"), new XElement("msg", "Malformed Command")));
        }
        var failures = new List<XElement>();
        foreach (var op in message.Element("payload")?.Elements() ?? [])
        {
            foreach (var entry in op.Elements("entry"))
            {
                var ip = (string?)entry.Attribute("ip") ?? "";
                foreach (var tag in entry.Descendants("member").Select(m => m.Value))
                {
                    if (op.Name == "register")
                    {
                        if (!State.RegisteredIps.GetOrAdd(ip, _ => new()).TryAdd(tag, 0))
                            failures.Add(new XElement("entry", new XAttribute("ip", ip), new XAttribute("message", $"tag {tag} already exists, ignore")));
                    }
                    else if (op.Name == "unregister")
                    {
                        if (!State.RegisteredIps.TryGetValue(ip, out var tags) || !tags.TryRemove(tag, out _))
                            failures.Add(new XElement("entry", new XAttribute("ip", ip), new XAttribute("message", $"tag {tag} does not exist, ignore unreg")));
                        else if (tags.IsEmpty) State.RegisteredIps.TryRemove(ip, out _);
                    }
                }
            }
        }
        var payload = new XElement("payload", new XElement("register"));
        return failures.Count == 0
            ? Xml(200, new XElement("response", new XAttribute("status", "success"), new XElement("result", new XElement("uid-response", new XElement("version", "2.0"), payload))))
            : Xml(200, new XElement("response", new XAttribute("status", "error"), new XElement("msg", new XElement("line",
                new XElement("uid-response", new XElement("version", "2.0"), new XElement("payload", new XElement("register", failures)))))));
    }

    /// <summary>XML API configuration (§4.2): set/delete of address objects, static group members and security rules, commit jobs.</summary>
    private IResult PanConfigCall(string type, string action, string xpath, string element, string cmd)
    {
        static IResult Xml(XElement x) => Results.Text(x.ToString(SaveOptions.DisableFormatting), "application/xml", Encoding.UTF8, 200);
        static XElement Error(string code, string msg) => new("response", new XAttribute("status", "error"), new XAttribute("code", code), new XElement("msg", new XElement("line", msg)));
        static XElement Ok(string code) => new("response", new XAttribute("status", "success"), new XAttribute("code", code), new XElement("msg", "command succeeded"));
        static string? Name(string xpath, string attribute) => // the last (innermost) @name / text() of the path
            System.Text.RegularExpressions.Regex.Matches(xpath, attribute + @"=(?:'([^']*)'|""([^""]*)"")").LastOrDefault() is { } m ? (m.Groups[1].Success ? m.Groups[1].Value : m.Groups[2].Value) : null;
        lock (State.Candidate)
        {
            var config = State.Candidate;
            if (type == "commit")
            {
                if (config.Fingerprint() == State.Running.Fingerprint())
                    return Xml(new XElement("response", new XAttribute("status", "success"), new XAttribute("code", "19"), new XElement("msg", "There are no changes to commit.")));
                var job = (_commitJobs.Count + 100).ToString(System.Globalization.CultureInfo.InvariantCulture);
                _commitJobs[job] = 1; // one "ACT" poll, then FIN
                State.Running = config.Copy();
                return Xml(new XElement("response", new XAttribute("status", "success"), new XAttribute("code", "19"),
                    new XElement("result", new XElement("msg", new XElement("line", $"Commit job enqueued with jobid {job}")), new XElement("job", job))));
            }
            if (type == "op")
            {
                var id = XElement.Parse(cmd).Descendants("id").First().Value;
                if (!_commitJobs.TryGetValue(id, out var pending)) return Xml(Error("7", "job not found"));
                _commitJobs[id] = Math.Max(0, pending - 1);
                var state = pending > 0 ? "ACT" : "FIN";
                return Xml(new XElement("response", new XAttribute("status", "success"), new XElement("result", new XElement("job",
                    new XElement("id", id), new XElement("type", "Commit"), new XElement("status", state), new XElement("result", state == "FIN" ? "OK" : "PEND"),
                    new XElement("details", new XElement("line", "Configuration committed successfully"))))));
            }
            if (xpath.Contains("/rulebase/security/rules/entry", StringComparison.Ordinal))
            {
                if (Name(xpath, "@name") is not { } ruleName) return Xml(Error("6", "Bad Xpath"));
                if (action == "delete")
                    return config.Rules.RemoveAll(r => r.Name == ruleName) > 0 ? Xml(Ok("20")) : Xml(Error("7", "No such node"));
                if (action != "set") return Xml(Error("6", "Bad Xpath"));
                XElement parsed;
                try
                {
                    parsed = XElement.Parse("<entry>" + element + "</entry>");
                }
                catch (System.Xml.XmlException)
                {
                    return Xml(Error("18", "Malformed Command"));
                }
                // "set" merges into an existing rule: member lists gain members, action and description are replaced.
                var rule = config.Rule(ruleName);
                if (rule is null) config.Rules.Add(rule = new SecurityRule(ruleName));
                foreach (var list in SecurityRule.MemberLists)
                {
                    var members = parsed.Element(list)?.Elements("member").Select(m => m.Value).ToList() ?? [];
                    if (members.Count == 0) continue;
                    if (!rule.Members.TryGetValue(list, out var existing)) rule.Members[list] = existing = new SortedSet<string>(StringComparer.Ordinal);
                    existing.UnionWith(members);
                }
                if (parsed.Element("action")?.Value is { } ruleAction) rule.Action = ruleAction;
                if (parsed.Element("description")?.Value is { } description) rule.Description = description;
                return Xml(Ok("20"));
            }
            var group = xpath.Contains("/address-group/", StringComparison.Ordinal) ? Name(xpath, "@name") : null;
            if (action == "set" && group is null && Name(xpath, "@name") is { } address)
            {
                config.Addresses[address] = XElement.Parse("<e>" + element + "</e>").Element("ip-netmask")?.Value ?? "";
                return Xml(Ok("20"));
            }
            if (action == "set" && group is not null)
            {
                var member = XElement.Parse("<e>" + element + "</e>").Element("member")?.Value ?? "";
                if (!config.Addresses.ContainsKey(member)) return Xml(Error("12", $"{member} is not a valid reference"));
                if (!config.Groups.TryGetValue(group, out var members)) config.Groups[group] = members = new(StringComparer.Ordinal);
                members.Add(member);
                return Xml(Ok("20"));
            }
            if (action == "delete" && group is not null && Name(xpath, "text\\(\\)") is { } removed)
            {
                return config.Groups.TryGetValue(group, out var members) && members.Remove(removed) ? Xml(Ok("20")) : Xml(Error("7", "No such node"));
            }
            if (action == "delete" && Name(xpath, "@name") is { } deleted)
            {
                if (config.Groups.Values.Any(g => g.Contains(deleted))) return Xml(Error("10", $"{deleted} cannot be deleted because of references"));
                return config.Addresses.Remove(deleted) ? Xml(Ok("20")) : Xml(Error("7", "No such node"));
            }
            return Xml(Error("6", "Bad Xpath"));
        }
    }
}
