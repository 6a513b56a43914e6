using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using RunbookPilot.Engine.Configuration;

namespace RunbookPilot.Engine.Enrichment;


/// <summary>A reply, or why there is none (shown as "enrichment unavailable: …").</summary>
public sealed record LlmReply(bool Ok, string? Text, string? Unavailable, int PromptTokens, int CompletionTokens, int Attempts);

/// <summary>Calls OpenAI-compatible chat completions within a time budget, retrying only 429 and 5xx inside it.</summary>
public sealed class LlmClient(LlmOptions options, HttpClient http)
{
    public LlmOptions Options => options;

    /// <summary>Why no model can be asked at all (turned off, or no key for a hosted model), else null.</summary>
    public string? NotConfigured =>
        !options.Enabled ? "enrichment is turned off (RBPILOT_LLM_ENABLED=false)"
        : options.NeedsKey && options.ApiKey is null ? "no API key configured (set OPENROUTER_API_KEY, or RBPILOT_LLM_BASE_URL for a local model)"
        : null;

    public async Task<LlmReply> CompleteAsync(IReadOnlyList<ChatMessage> messages, CancellationToken ct)
    {
        if (NotConfigured is { } reason) return Unavailable(reason, 0);
        using var budget = CancellationTokenSource.CreateLinkedTokenSource(ct);
        budget.CancelAfter(options.Timeout);
        var body = new JsonObject
        {
            ["model"] = options.Model,
            ["messages"] = new JsonArray([.. messages.Select(m => (JsonNode)new JsonObject { ["role"] = m.Role, ["content"] = m.Content })]),
            ["temperature"] = 0.2,
            ["max_tokens"] = 400,
        }.ToJsonString();
        var attempt = 0;
        string? retrying = null; // the last retryable failure, reported when the budget runs out while retrying it
        LlmReply OutOfTime() => Unavailable(retrying is null ? $"timed out after {options.Timeout.TotalSeconds:0.###} s" : retrying + " until the time budget ran out", attempt);
        while (true)
        {
            attempt++;
            using var request = new HttpRequestMessage(HttpMethod.Post, options.BaseUrl.TrimEnd('/') + "/chat/completions")
            {
                Content = new StringContent(body, Encoding.UTF8, "application/json"),
            };
            if (options.ApiKey is { } key) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
            request.Headers.TryAddWithoutValidation("X-Title", "RunbookPilot");
            HttpResponseMessage response;
            try
            {
                response = await http.SendAsync(request, budget.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                return OutOfTime();
            }
            catch (HttpRequestException ex)
            {
                return Unavailable($"cannot reach {options.BaseUrl}: {ex.Message}", attempt);
            }
            using (response)
            {
                var status = (int)response.StatusCode;
                if (status is 429 or >= 500)
                {
                    retrying = status == 429 ? "rate limited (HTTP 429)" : $"HTTP {status} from the model endpoint";
                    // Back off at least 200 ms × attempt (a Retry-After of 0 must not become a busy loop), longer when asked.
                    var backoff = TimeSpan.FromMilliseconds(200 * attempt);
                    var wait = response.Headers.RetryAfter?.Delta is { } asked && asked > backoff ? asked : backoff;
                    try
                    {
                        await Task.Delay(wait, budget.Token).ConfigureAwait(false);
                        continue;
                    }
                    catch (OperationCanceledException) when (!ct.IsCancellationRequested)
                    {
                        return OutOfTime();
                    }
                }
                if (response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
                    return Unavailable($"HTTP {status}: the API key was refused", attempt);
                if (!response.IsSuccessStatusCode) return Unavailable($"HTTP {status} from the model endpoint", attempt);
                string text;
                try
                {
                    text = await response.Content.ReadAsStringAsync(budget.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!ct.IsCancellationRequested)
                {
                    return OutOfTime();
                }
                return Parse(text, attempt);
            }
        }
    }

    private static LlmReply Parse(string text, int attempt)
    {
        try
        {
            var root = JsonNode.Parse(text);
            var content = root?["choices"]?[0]?["message"]?["content"]?.GetValue<string>();
            if (string.IsNullOrWhiteSpace(content)) return Unavailable("malformed reply: no choices[0].message.content", attempt);
            var usage = root!["usage"];
            return new LlmReply(true, content.Trim(), null, usage?["prompt_tokens"]?.GetValue<int>() ?? 0, usage?["completion_tokens"]?.GetValue<int>() ?? 0, attempt);
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or FormatException)
        {
            return Unavailable("malformed reply: not the chat completions JSON", attempt);
        }
    }

    private static LlmReply Unavailable(string reason, int attempts) => new(false, null, reason, 0, 0, attempts);
}

public sealed record ChatMessage(string Role, string Content);
