using System.Net.Http.Headers;
using System.Text;

namespace RunbookPilot.Engine.Adapters.Http;

/// <summary>
/// One HTTP request as an adapter builds it. The same object is described (to approvers, simulations and the journal,
/// with secrets shown as ***) and sent, so what people approve is byte for byte what goes out.
/// </summary>
public sealed record HttpCall(HttpMethod Method, string Url, IReadOnlyList<(string Name, string Value, bool Secret)> Headers, string? Body, string? ContentType)
{
    public const string Redacted = "***";

    public AdapterRequest Describe(Func<string, string> redact) => new(
        Method.Method,
        redact(Url),
        Headers.ToDictionary(h => h.Name, h => h.Secret ? Redacted : redact(h.Value), StringComparer.OrdinalIgnoreCase),
        Body is null ? null : redact(Body));

    public HttpRequestMessage ToMessage()
    {
        var message = new HttpRequestMessage(Method, Url);
        foreach (var (name, value, _) in Headers) message.Headers.TryAddWithoutValidation(name, value);
        if (Body is not null)
        {
            message.Content = new ByteArrayContent(Encoding.UTF8.GetBytes(Body));
            message.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(ContentType ?? "application/json");
        }
        return message;
    }
}
