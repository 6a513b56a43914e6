using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using static RunbookPilot.VendorSim.VendorSimulator;

namespace RunbookPilot.VendorSim;

/// <summary>Scripted replies for the OpenAI-compatible endpoint.</summary>
public sealed record LlmScript(IReadOnlyList<string> Replies);

/// <summary>
/// An OpenAI-compatible chat completions endpoint (<c>/llm/v1/chat/completions</c>, bearer key) as OpenRouter, Ollama,
/// vLLM or LM Studio serve it; <c>POST /_admin/llm/replies</c> queues scripted replies.
/// </summary>
internal sealed class LlmSim
{
    private LlmSim(SimState state) => State = state;

    private SimState State { get; }

    public static void Map(WebApplication app, SimState state, HandleRequest handle)
    {
        var sim = new LlmSim(state);
        app.MapPost("/_admin/llm/replies", (LlmScript script) =>
        {
            foreach (var reply in script.Replies) sim.State.LlmReplies.Enqueue(reply);
            return Results.Json(new { queued = sim.State.LlmReplies.Count });
        });
        app.MapPost("/llm/v1/chat/completions", (HttpContext c) => handle(c, "llm", () => sim.ChatCompletion(c)));
    }

    private async Task<IResult> ChatCompletion(HttpContext c)
    {
        if (c.Request.Headers.Authorization.ToString() != "Bearer " + Credentials["RBPILOT_SIM_LLM_KEY"])
            return await Json(401, new JsonObject { ["error"] = new JsonObject { ["message"] = "No auth credentials found", ["code"] = 401 } });
        JsonNode? request;
        try
        {
            request = JsonNode.Parse(await new StreamReader(c.Request.Body).ReadToEndAsync(c.RequestAborted));
        }
        catch (System.Text.Json.JsonException)
        {
            return await Json(400, new JsonObject { ["error"] = new JsonObject { ["message"] = "invalid JSON", ["code"] = 400 } });
        }
        var messages = request?["messages"]?.AsArray().Select(m => (string?)m?["content"] ?? "").ToList() ?? [];
        var prompt = string.Concat(messages);
        var reply = State.LlmReplies.TryDequeue(out var scripted) ? scripted : DefaultReply(messages.LastOrDefault() ?? "");
        return await Json(200, new JsonObject
        {
            ["id"] = "gen-sim-" + Guid.NewGuid().ToString("N")[..12],
            ["object"] = "chat.completion",
            ["model"] = (string?)request?["model"] ?? "sim",
            ["choices"] = new JsonArray(new JsonObject
            {
                ["index"] = 0, ["finish_reason"] = "stop", ["message"] = new JsonObject { ["role"] = "assistant", ["content"] = reply },
            }),
            ["usage"] = new JsonObject { ["prompt_tokens"] = prompt.Length / 4, ["completion_tokens"] = reply.Length / 4, ["total_tokens"] = (prompt.Length + reply.Length) / 4 },
        });
    }

    /// <summary>A plain answer built from the prompt's data block (the techniques it names), marked as simulated.</summary>
    private static string DefaultReply(string user)
    {
        var task = user.Split('\n')[0].Replace("Task: ", "", StringComparison.Ordinal);
        var techniques = "";
        var begin = user.IndexOf("<<<ALERT_DATA\n", StringComparison.Ordinal);
        var end = user.LastIndexOf("\nALERT_DATA>>>", StringComparison.Ordinal);
        if (begin >= 0 && end > begin && JsonNode.Parse(user[(begin + 14)..end]) is JsonObject data && data["techniques"] is JsonArray list)
            techniques = " Techniques: " + string.Join("; ", list.Select(t => $"{(string?)t?["id"]} {(string?)t?["name"]} ({(string?)t?["tactics"]})")) + ".";
        return $"[simulated model] {task}{techniques} Review the evidence before acting.";
    }
}
