namespace RunbookPilot.Engine.Configuration;

/// <summary>
/// Where enrichment comes from: OpenRouter by default (<c>OPENROUTER_API_KEY</c>, model <c>openai/gpt-4o-mini</c>), or any
/// OpenAI-compatible endpoint (<c>RBPILOT_LLM_BASE_URL</c>, <c>RBPILOT_LLM_MODEL</c>, <c>RBPILOT_LLM_API_KEY</c>) such as
/// Ollama, vLLM or LM Studio. <see cref="Timeout"/> is the whole budget of one enrichment, retries included.
/// </summary>
public sealed record LlmOptions
{
    public const string OpenRouter = "https://openrouter.ai/api/v1";

    public string BaseUrl { get; init; } = OpenRouter;
    public string Model { get; init; } = "openai/gpt-4o-mini";
    public string? ApiKey { get; init; }
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(3);
    /// <summary>False turns enrichment off entirely (no call, nothing attached but the offline ATT&amp;CK context).</summary>
    public bool Enabled { get; init; } = true;
    /// <summary>A local endpoint (Ollama, vLLM, LM Studio) needs no key; OpenRouter does.</summary>
    public bool NeedsKey => BaseUrl.StartsWith(OpenRouter, StringComparison.OrdinalIgnoreCase);

    /// <summary>From the environment: RBPILOT_LLM_* override OPENROUTER_API_KEY and the defaults.</summary>
    public static LlmOptions FromEnvironment(Func<string, string?>? env = null)
    {
        env ??= Environment.GetEnvironmentVariable;
        string? Get(string name) => env(name) is { Length: > 0 } v ? v : null;
        var d = new LlmOptions();
        return d with
        {
            BaseUrl = Get("RBPILOT_LLM_BASE_URL") ?? d.BaseUrl,
            Model = Get("RBPILOT_LLM_MODEL") ?? d.Model,
            ApiKey = Get("RBPILOT_LLM_API_KEY") ?? Get("OPENROUTER_API_KEY"),
            Timeout = double.TryParse(Get("RBPILOT_LLM_TIMEOUT_SECONDS"), System.Globalization.CultureInfo.InvariantCulture, out var s) && s > 0 ? TimeSpan.FromSeconds(s) : d.Timeout,
            Enabled = Get("RBPILOT_LLM_ENABLED") is not { } e || !e.Equals("false", StringComparison.OrdinalIgnoreCase),
        };
    }

    /// <summary>True when something was configured (a key or an endpoint), so demo mode leaves it alone.</summary>
    public bool Configured => ApiKey is not null || !BaseUrl.Equals(OpenRouter, StringComparison.OrdinalIgnoreCase);
}
