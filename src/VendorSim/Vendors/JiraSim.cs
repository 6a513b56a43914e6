using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using static RunbookPilot.VendorSim.VendorSimulator;

namespace RunbookPilot.VendorSim;

/// <summary>Jira Cloud v3 (<c>/jira/rest/api/3/...</c>, basic auth with e-mail and API token): issues, JQL search by label, comments, transitions.</summary>
internal sealed class JiraSim
{
    private readonly List<JsonObject> _issues = [];

    private readonly Func<Uri> _baseAddress;

    private JiraSim(Func<Uri> baseAddress) => _baseAddress = baseAddress;

    /// <summary>The simulators' base address (known once they listen), for the <c>self</c> links.</summary>
    private Uri BaseAddress => _baseAddress();

    public static void Map(WebApplication app, Func<Uri> baseAddress, HandleRequest handle)
    {
        var sim = new JiraSim(baseAddress);
        app.Map("/jira/rest/api/3/{**path}", (HttpContext c, string path) => handle(c, "jira", () => sim.Jira(c, path)));
    }

    private async Task<IResult> Jira(HttpContext c, string path)
    {
        var expected = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{Credentials["RBPILOT_SIM_JIRA_EMAIL"]}:{Credentials["RBPILOT_SIM_JIRA_TOKEN"]}"));
        if (c.Request.Headers.Authorization != expected)
            return await Json(401, new JsonObject { ["errorMessages"] = new JsonArray("Client must be authenticated to access this resource."), ["errors"] = new JsonObject() }).ConfigureAwait(false);
        var body = await new StreamReader(c.Request.Body).ReadToEndAsync(c.RequestAborted).ConfigureAwait(false);
        lock (_issues)
        {
            if (path == "serverInfo")
                return Json(200, new JsonObject { ["baseUrl"] = $"{BaseAddress}jira", ["version"] = "1001.0.0-SNAPSHOT", ["deploymentType"] = "Cloud" }).Result;
            if (path == "issue" && c.Request.Method == "POST")
            {
                var fields = JsonNode.Parse(body)?["fields"] as JsonObject;
                if (fields?["summary"] is null)
                    return Json(400, new JsonObject { ["errorMessages"] = new JsonArray(), ["errors"] = new JsonObject { ["summary"] = "You must specify a summary of the issue." } }).Result;
                if (fields["description"] is JsonValue)
                    return Json(400, new JsonObject { ["errorMessages"] = new JsonArray(), ["errors"] = new JsonObject { ["description"] = "Operation value must be an Atlassian Document" } }).Result;
                var key = $"{fields["project"]?["key"]}-{_issues.Count + 1}";
                _issues.Add(new JsonObject { ["key"] = key, ["status"] = "To Do", ["fields"] = fields.DeepClone() });
                return Json(201, new JsonObject { ["id"] = (10000 + _issues.Count).ToString(System.Globalization.CultureInfo.InvariantCulture), ["key"] = key, ["self"] = $"{BaseAddress}jira/rest/api/3/issue/{key}" }).Result;
            }
            if (path == "search/jql")
            {
                var jql = c.Request.Query["jql"].ToString();
                var label = jql.Split('"').ElementAtOrDefault(1) ?? "";
                var found = _issues.Where(i => (i["fields"]?["labels"] as JsonArray)?.Any(l => l?.ToString() == label) == true).Select(i => (JsonNode)new JsonObject { ["key"] = i["key"]!.ToString() });
                return Json(200, new JsonObject { ["issues"] = new JsonArray(found.ToArray()) }).Result;
            }
            var parts = path.Split('/');
            var issue = parts.Length >= 2 ? _issues.FirstOrDefault(i => i["key"]!.ToString() == parts[1]) : null;
            if (issue is null)
                return Json(404, new JsonObject { ["errorMessages"] = new JsonArray("Issue does not exist or you do not have permission to see it."), ["errors"] = new JsonObject() }).Result;
            if (parts is [_, _, "comment"]) return Json(201, new JsonObject { ["id"] = "10100", ["body"] = JsonNode.Parse(body)?["body"]?.DeepClone() }).Result;
            var transitions = issue["status"]!.ToString() == "Done"
                ? new JsonArray(new JsonObject { ["id"] = "11", ["name"] = "Reopen", ["to"] = new JsonObject { ["name"] = "To Do" } })
                : new JsonArray(new JsonObject { ["id"] = "21", ["name"] = "In Progress", ["to"] = new JsonObject { ["name"] = "In Progress" } },
                    new JsonObject { ["id"] = "31", ["name"] = "Done", ["to"] = new JsonObject { ["name"] = "Done" } });
            if (parts is [_, _, "transitions"] && c.Request.Method == "GET") return Json(200, new JsonObject { ["transitions"] = transitions }).Result;
            var id = JsonNode.Parse(body)?["transition"]?["id"]?.ToString();
            var target = transitions.FirstOrDefault(t => t?["id"]?.ToString() == id);
            if (target is null) return Json(400, new JsonObject { ["errorMessages"] = new JsonArray("Transition id is not valid for this issue."), ["errors"] = new JsonObject() }).Result;
            issue["status"] = target["to"]!["name"]!.ToString();
            return Task.FromResult(Results.StatusCode(204)).Result;
        }
    }
}
