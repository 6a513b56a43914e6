using System.Text.Json;
using System.Text.Json.Nodes;
using RunbookPilot.Domain.Alerts;

namespace RunbookPilot.Engine.Api;

/// <summary>One alert document of a batch: where it was (line, JSON path) and the object.</summary>
public sealed record AlertDocument(int Line, string Path, JsonObject Json);

/// <summary>What is wrong with one entry of a batch (or with the whole text when <see cref="Path"/> is <c>$</c>).</summary>
public sealed record BatchProblem(int Line, string Path, string Message);

/// <summary>
/// The one parser of alert batches, for the webhook, STDIN and files: one JSON object, a JSON array of objects, or —
/// where the caller accepts them — JSON lines (one object per line, numbered). <see cref="Refusal"/> is set when the text
/// as a whole is not a batch; otherwise each entry is a document or a problem, and <see cref="Count"/> counts both.
/// </summary>
public sealed record AlertBatch(IReadOnlyList<AlertDocument> Documents, IReadOnlyList<BatchProblem> Problems, string? Refusal)
{
    public int Count => Documents.Count + Problems.Count;

    public static AlertBatch Parse(string text, bool jsonLines)
    {
        var trimmed = text.TrimStart();
        var oneDocument = !jsonLines || trimmed.StartsWith('[') || !text.Trim().Contains('\n', StringComparison.Ordinal);
        JsonNode? root = null;
        try
        {
            root = JsonNode.Parse(text, documentOptions: AlertJson.Options);
            oneDocument = true;
        }
        catch (JsonException ex) when (oneDocument)
        {
            return new AlertBatch([], [new BatchProblem((int)(ex.LineNumber ?? 0) + 1, "$", AlertJson.Describe(ex))], "body is not valid JSON");
        }
        catch (InvalidOperationException) when (oneDocument)
        {
            // Checking keys for duplicates reads them: a key with a lone surrogate escape cannot be read as text.
            return new AlertBatch([], [new BatchProblem(1, "$", "a key is not valid UTF-16 text: a lone surrogate escape such as \\ud800")], "body is not valid JSON");
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            // several documents: read as JSON lines below
        }
        if (oneDocument)
        {
            return root switch
            {
                JsonObject o => new AlertBatch([new AlertDocument(1, "$", o)], [], null),
                JsonArray { Count: > 0 } a => new AlertBatch(
                    a.Select((x, i) => (x, i)).Where(e => e.x is JsonObject).Select(e => new AlertDocument(e.i + 1, $"$[{e.i}]", (JsonObject)e.x!)).ToList(),
                    a.Select((x, i) => (x, i)).Where(e => e.x is not JsonObject).Select(e => new BatchProblem(e.i + 1, $"$[{e.i}]", "expected an alert object")).ToList(), null),
                _ => new AlertBatch([], [], "expected one ECS alert object or a non-empty array of them"),
            };
        }
        var documents = new List<AlertDocument>();
        var problems = new List<BatchProblem>();
        var lines = text.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i].Trim();
            if (line.Length == 0) continue;
            if (AlertJson.ParseObject(line, out var error) is { } doc) documents.Add(new AlertDocument(i + 1, "$", doc));
            else problems.Add(new BatchProblem(i + 1, "$", error!.StartsWith("$: ", StringComparison.Ordinal) ? error[3..] : error));
        }
        return new AlertBatch(documents, problems, null);
    }

    /// <summary>The documents as ECS alerts (normalised, validated); every problem found, the parser's included, by path.</summary>
    public (IReadOnlyList<(AlertDocument Document, Alert Alert)> Alerts, IReadOnlyList<BatchProblem> Problems) Prepare()
    {
        var alerts = new List<(AlertDocument, Alert)>();
        var problems = Problems.ToList();
        foreach (var d in Documents)
        {
            var (alert, found) = EcsValidator.Prepare(d.Json, d.Path);
            problems.AddRange(found.Select(p => new BatchProblem(d.Line, p.Path, p.Message)));
            if (alert is not null) alerts.Add((d, alert));
        }
        return (alerts, problems.OrderBy(p => p.Line).ToList());
    }
}
