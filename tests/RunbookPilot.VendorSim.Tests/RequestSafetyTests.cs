using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using RunbookPilot.Domain.Adapters;
using RunbookPilot.Engine.Adapters;
using RunbookPilot.Engine.Adapters.Http;
using RunbookPilot.Domain.Library;

namespace RunbookPilot.VendorSim.Tests;

/// <summary>
/// The one request builder as an attacker would probe it (CR/LF and NUL from alert values in headers, URLs and hosts;
/// other ports and schemes of an allowed host), and secret redaction in every encoding a vendor may reflect a key in.
/// </summary>
public sealed class RequestSafetyTests : IAsyncLifetime
{
    private VendorSimulator _sim = null!;

    public async Task InitializeAsync() => _sim = await VendorSimulator.StartAsync();

    public async Task DisposeAsync() => await _sim.DisposeAsync();

    private IAdapter Http(AdapterSettings? settings = null) =>
        AdapterFactory.Create(new Dictionary<string, AdapterSettings> { ["http"] = settings ?? _sim.DemoSettings()["http"] }, _ => null, TimeProvider.System).Single();

    [Theory]
    [InlineData("headers", "ws-1\r\nX-Injected: yes")]
    [InlineData("headers", "ws-1\nGET /admin HTTP/1.1")]
    [InlineData("headers", "ws-1\0")]
    [InlineData("url", "status\r\nHost: evil.example")]
    [InlineData("url", "http://127.0.0.1\r\n:1/x")]
    [InlineData("Host", "internal-admin.example")]
    [InlineData("Transfer-Encoding", "chunked")]
    [InlineData("X-Forwarded-Host", "internal-admin.example")]
    public async Task Control_characters_in_a_header_or_url_fail_the_step_and_nothing_is_sent(string where, string value)
    {
        var parameters = where switch
        {
            "headers" => new JsonObject { ["method"] = "POST", ["url"] = "sinkhole", ["headers"] = new JsonObject { ["X-Host"] = value } },
            "url" => new JsonObject { ["method"] = "POST", ["url"] = value },
            _ => new JsonObject { ["method"] = "POST", ["url"] = "sinkhole", ["headers"] = new JsonObject { [where] = value } },
        };
        var result = await Http().ExecuteAsync(new AdapterCall("request", parameters, "rbp-ex-1-s1"), CancellationToken.None);
        Assert.False(result.Success);
        Assert.False(result.Retryable);
        Assert.Contains("refused before sending", result.Error, StringComparison.Ordinal);
        Assert.Empty(_sim.State.Requests("http"));
    }

    [Fact]
    public async Task Allowed_hosts_name_scheme_host_and_port()
    {
        var allowed = new Uri(_sim.UrlOf("http"));
        var http = Http();
        var otherPort = await http.ExecuteAsync(new AdapterCall("get", new JsonObject { ["url"] = $"http://127.0.0.1:{allowed.Port + 1}/x" }, "k"), CancellationToken.None);
        Assert.Contains("not in options.allowed_hosts", otherPort.Error, StringComparison.Ordinal);
        var otherScheme = await http.ExecuteAsync(new AdapterCall("get", new JsonObject { ["url"] = $"https://127.0.0.1:{allowed.Port}/x" }, "k"), CancellationToken.None);
        Assert.Contains("not in options.allowed_hosts", otherScheme.Error, StringComparison.Ordinal);
        Assert.Empty(_sim.State.Requests("http"));
        var same = await http.ExecuteAsync(new AdapterCall("get", new JsonObject { ["url"] = "status" }, "k"), CancellationToken.None);
        Assert.True(same.Success, same.Error);

        // A bare host name in allowed_hosts no longer validates: every port of it would be reachable.
        var config = AdaptersConfig.Parse("adapters:\n  http:\n    base_url: https://hooks.example\n    options:\n      allowed_hosts: [hooks.example, \"https://hooks.example:8443/path\"]\n", "adapters.yaml");
        Assert.Null(config.Value);
        Assert.Equal(2, config.Errors.Count);
        Assert.True(AdaptersConfig.Parse("adapters:\n  http:\n    base_url: https://hooks.example\n    options:\n      allowed_hosts: [\"https://hooks.example:8443\"]\n", "adapters.yaml").Ok);
    }

    private static readonly JsonSerializerOptions Relaxed = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static TheoryData<string> Secrets => new() { "ab+cd/ef==", "k\"e\\y+/=Zz", "clé-€-secret+1", "plain-secret-0123" };

    [Theory]
    [MemberData(nameof(Secrets))]
    public void Secrets_are_redacted_in_every_encoding_a_vendor_may_reflect(string secret)
    {
        var endpoint = new AdapterEndpoint("http", new AdapterSettings { BaseUrl = "https://vendor.example", Credentials = new Dictionary<string, string> { ["key"] = "K" } },
            _ => secret);
        var reflected = new[]
        {
            secret,
            Uri.EscapeDataString(secret),
            System.Text.RegularExpressions.Regex.Replace(Uri.EscapeDataString(secret), "%[0-9A-F]{2}", m => m.Value.ToLowerInvariant()),
            System.Net.WebUtility.UrlEncode(secret),
            new JsonObject { ["echo"] = secret }.ToJsonString(), // \u002B, \u0022, \u00E9 …
            JsonSerializer.Serialize(secret, Relaxed),
            JsonSerializer.Serialize(secret).Replace("/", "\\/", StringComparison.Ordinal),
            System.Text.RegularExpressions.Regex.Replace(JsonSerializer.Serialize(secret), @"\\u[0-9A-F]{4}", m => m.Value.ToLowerInvariant()),
            Convert.ToBase64String(Encoding.UTF8.GetBytes(secret)),
            Convert.ToBase64String(Encoding.UTF8.GetBytes(secret)).TrimEnd('='),
        };
        foreach (var text in reflected)
        {
            var redacted = endpoint.Redact("vendor said: " + text + " (end)");
            Assert.Contains("***", redacted, StringComparison.Ordinal);
            Assert.DoesNotContain(text.Trim('"'), redacted, StringComparison.Ordinal);
        }
        // What is stored: an output reflecting the key, as the adapters store it, also base64 and JSON nested in a string.
        var output = endpoint.Redact(new JsonObject
        {
            ["echo"] = "key=" + secret,
            ["b64"] = Convert.ToBase64String(Encoding.UTF8.GetBytes(secret)),
            ["nested"] = new JsonObject { ["inner"] = secret }.ToJsonString(),
        })!;
        Assert.DoesNotContain(Convert.ToBase64String(Encoding.UTF8.GetBytes(secret)), output.ToJsonString(Relaxed), StringComparison.Ordinal);
        Assert.DoesNotContain(JsonSerializer.Serialize(secret)[1..^1], output.ToJsonString(Relaxed), StringComparison.Ordinal);
        Assert.DoesNotContain(secret, output.ToJsonString(Relaxed), StringComparison.Ordinal);
        Assert.Equal("key=***", output["echo"]!.GetValue<string>());
    }
}
