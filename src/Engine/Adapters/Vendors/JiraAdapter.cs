using System.Text;
using System.Text.Json.Nodes;
using RunbookPilot.Engine.Adapters.Http;
using RunbookPilot.Domain.Adapters;

namespace RunbookPilot.Engine.Adapters.Vendors;

/// <summary>
/// Jira Cloud REST v3: create issue, comment, transition (looked up by name, never a hard-coded id).
/// Rich text goes out as Atlassian Document Format built as JSON, so alert text stays text. Basic auth with email and
/// API token.
/// </summary>
public sealed class JiraAdapter(AdapterEndpoint endpoint) : HttpAdapter(AdapterCatalog.BuiltIn.Find("jira")!, endpoint)
{
    /// <summary>Jira reports its version in <c>serverInfo</c> (version).</summary>
    protected override HttpCall? VersionProbe => new(HttpMethod.Get, $"{Endpoint.BaseUrl}/serverInfo", Headers(), null, null);

    protected override string? ParseVersion(string body) => JsonNode.Parse(body)?["version"]?.ToString();

    private IReadOnlyList<(string, string, bool)> Headers() =>
    [
        ("Authorization", "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{Endpoint.Secret("email")}:{Endpoint.Secret("api_token")}")), true),
        ("Accept", "application/json", false),
    ];

    private static JsonObject Adf(string text) => new()
    {
        ["type"] = "doc",
        ["version"] = 1,
        ["content"] = new JsonArray(new JsonObject { ["type"] = "paragraph", ["content"] = new JsonArray(new JsonObject { ["type"] = "text", ["text"] = text }) }),
    };

    protected override AdapterCall HealthProbe => new("health", [], "health");


    protected override HttpCall Build(AdapterCall call)
    {
        switch (call.Action)
        {
            case "health":
                return new HttpCall(HttpMethod.Get, $"{Endpoint.BaseUrl}/search/jql?jql={Q("labels = \"runbookpilot-health\"")}&maxResults=0", Headers(), null, null);
            case "add_comment":
                return new HttpCall(HttpMethod.Post, $"{Endpoint.BaseUrl}/issue/{Q(Text(call, "issue"))}/comment", Headers(),
                    new JsonObject { ["body"] = Adf(Text(call, "body")) }.ToJsonString(), "application/json");
            case "transition_issue":
                // A numeric transition is an id and is sent as is; a name is looked up first (ids differ per workflow).
                var transition = Text(call, "transition");
                return TransitionCall(call, transition.All(char.IsAsciiDigit) ? transition : $"<id of transition '{transition}'>");
            default:
                var fields = new JsonObject
                {
                    ["project"] = new JsonObject { ["key"] = Text(call, "project") },
                    ["issuetype"] = new JsonObject { ["name"] = call.Parameters["issue_type"]?.ToString() ?? "Task" },
                    ["summary"] = Text(call, "summary"),
                    // Our two labels find the issue again on a retry; the playbook's own labels (one, or a list) follow them.
                    ["labels"] = new JsonArray([(JsonNode)"runbookpilot", call.IdempotencyKey,
                        .. (call.Parameters["labels"] is JsonArray given ? given.Select(l => (JsonNode)(l?.ToString() ?? "")) : call.Parameters["labels"] is { } one ? [(JsonNode)one.ToString()] : [])]),
                };
                if (call.Parameters["description"] is { } d) fields["description"] = Adf(d.ToString());
                if (call.Parameters["priority"] is { } p) fields["priority"] = new JsonObject { ["name"] = p.ToString() };
                return new HttpCall(HttpMethod.Post, $"{Endpoint.BaseUrl}/issue", Headers(), new JsonObject { ["fields"] = fields }.ToJsonString(), "application/json");
        }
    }

    private HttpCall TransitionCall(AdapterCall call, string id) =>
        new(HttpMethod.Post, $"{Endpoint.BaseUrl}/issue/{Q(Text(call, "issue"))}/transitions", Headers(),
            new JsonObject { ["transition"] = new JsonObject { ["id"] = id } }.ToJsonString(), "application/json");

    protected override async Task<AdapterResult> RunAsync(AdapterCall call, CancellationToken cancellationToken)
    {
        var described = Describe(call);
        if (call.Action == "create_issue")
        {
            // Jira has no idempotency key: the execution's key is a label, and a retry finds the issue it already created.
            var search = new HttpCall(HttpMethod.Get, $"{Endpoint.BaseUrl}/search/jql?jql={Q($"labels = \"{call.IdempotencyKey}\"")}&fields=key", Headers(), null, null);
            var found = await SendAsync(search, cancellationToken).ConfigureAwait(false);
            if (Failure(found, search.Describe(Endpoint.Redact)) is { } searchFailure) return searchFailure;
            if (found.Json()?["issues"] is not JsonArray existing) return Malformed(found, search.Describe(Endpoint.Redact));
            if (existing.Count > 0) return Ok(new JsonObject { ["key"] = existing[0]!["key"]?.DeepClone(), ["created"] = false }, described);
        }
        if (call.Action == "transition_issue")
        {
            var list = new HttpCall(HttpMethod.Get, $"{Endpoint.BaseUrl}/issue/{Q(Text(call, "issue"))}/transitions", Headers(), null, null);
            var answer = await SendAsync(list, cancellationToken).ConfigureAwait(false);
            if (Failure(answer, list.Describe(Endpoint.Redact)) is { } listFailure) return listFailure;
            var wanted = Text(call, "transition");
            if (wanted.All(char.IsAsciiDigit) && wanted.Length > 0)
            {
                var direct = TransitionCall(call, wanted);
                var moved = await SendAsync(direct, cancellationToken).ConfigureAwait(false);
                return Failure(moved, direct.Describe(Endpoint.Redact)) ?? Ok(new JsonObject { ["issue"] = Text(call, "issue"), ["transition"] = wanted }, direct.Describe(Endpoint.Redact));
            }
            var match = (answer.Json()?["transitions"] as JsonArray)?.FirstOrDefault(t =>
                string.Equals(t?["name"]?.ToString(), wanted, StringComparison.OrdinalIgnoreCase) || string.Equals(t?["to"]?["name"]?.ToString(), wanted, StringComparison.OrdinalIgnoreCase));
            if (match is null) return AdapterResult.Fail($"jira: issue {Text(call, "issue")} has no transition '{wanted}' from its current status", retryable: false, request: described);
            var post = TransitionCall(call, match["id"]!.ToString());
            var done = await SendAsync(post, cancellationToken).ConfigureAwait(false);
            return Failure(done, post.Describe(Endpoint.Redact)) ?? Ok(new JsonObject { ["issue"] = Text(call, "issue"), ["transition"] = wanted }, post.Describe(Endpoint.Redact));
        }
        var http = Build(call);
        var result = await SendAsync(http, cancellationToken).ConfigureAwait(false);
        if (Failure(result, described) is { } failure) return failure;
        var json = result.Json();
        if (json is not JsonObject) return Malformed(result, described);
        return Ok(call.Action == "create_issue"
            ? new JsonObject { ["key"] = json["key"]?.DeepClone(), ["id"] = json["id"]?.DeepClone(), ["created"] = true }
            : new JsonObject { ["comment_id"] = json["id"]?.DeepClone() }, described);
    }
}
