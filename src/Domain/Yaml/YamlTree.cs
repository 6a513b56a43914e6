using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace RunbookPilot.Domain.Yaml;

/// <summary>A 1-based position in a source file.</summary>
public readonly record struct SourcePos(int Line, int Column)
{
    internal static SourcePos From(Mark mark) => new((int)Math.Min(mark.Line, int.MaxValue), (int)Math.Min(mark.Column, int.MaxValue));
}

/// <summary>A YAML node with the position where it starts. Built without recursion, so hostile input cannot overflow the stack.</summary>
public abstract class YNode(SourcePos pos)
{
    public SourcePos Pos { get; } = pos;
    public abstract string Kind { get; }
}

public sealed class YScalar(SourcePos pos, string value, ScalarStyle style) : YNode(pos)
{
    public string Value { get; } = value;
    public bool IsPlain { get; } = style is ScalarStyle.Plain or ScalarStyle.Any;
    public bool IsNull => IsPlain && Value is "" or "~" or "null" or "Null" or "NULL";
    public override string Kind => IsNull ? "null" : "a scalar";
}

public sealed class YSequence(SourcePos pos) : YNode(pos)
{
    public List<YNode> Items { get; } = [];
    public override string Kind => "a list";
}

public sealed class YMapping(SourcePos pos) : YNode(pos)
{
    public List<KeyValuePair<YScalar, YNode>> Entries { get; } = [];
    public override string Kind => "a mapping";
}

/// <summary>A problem found in a source file, located by line, column and the path of the value inside the document.</summary>
public sealed record Diagnostic(string File, int Line, int Column, string Path, string Message)
{
    public override string ToString() => $"{File}:{Line}:{Column}: {Message}";
}

/// <summary>
/// Reads YAML text into a tree of <see cref="YNode"/>s with positions. Guards against hostile input:
/// size and depth limits, no aliases (no billion-laughs expansion), no complex keys, duplicate keys refused.
/// Never throws for bad input; every problem becomes a <see cref="Diagnostic"/>.
/// </summary>
public static class YamlTree
{
    public const int MaxBytes = 1024 * 1024;
    public const int MaxDepth = 64;

    public static IReadOnlyList<YNode> ParseDocuments(string text, string file, List<Diagnostic> errors)
    {
        var documents = new List<YNode>();
        if (text.Length > MaxBytes)
        {
            errors.Add(new Diagnostic(file, 1, 1, "", $"file is larger than {MaxBytes / 1024} KiB; playbooks and rules are expected to be small"));
            return documents;
        }

        var stack = new Stack<(YNode Node, YScalar? PendingKey, HashSet<string>? Keys)>();
        YNode? root = null;
        var last = new SourcePos(1, 1);
        var parser = new Parser(new StringReader(text));
        try
        {
            while (parser.MoveNext())
            {
                var ev = parser.Current!;
                last = SourcePos.From(ev.End);
                switch (ev)
                {
                    case DocumentStart:
                        root = null;
                        break;
                    case DocumentEnd:
                        if (root is not null) documents.Add(root);
                        break;
                    case AnchorAlias alias:
                        errors.Add(Located(file, alias.Start, "YAML aliases (*" + alias.Value + ") are not supported; write the value out"));
                        return [];
                    case Scalar scalar:
                        if (!Attach(new YScalar(SourcePos.From(scalar.Start), scalar.Value, scalar.Style), stack, ref root, file, errors)) return [];
                        break;
                    case SequenceStart s:
                        var seq = new YSequence(SourcePos.From(s.Start));
                        if (!Attach(seq, stack, ref root, file, errors)) return [];
                        if (!Push(stack, (seq, null, null), s.Start, file, errors)) return [];
                        break;
                    case MappingStart m:
                        var map = new YMapping(SourcePos.From(m.Start));
                        if (!Attach(map, stack, ref root, file, errors)) return [];
                        if (!Push(stack, (map, null, new HashSet<string>(StringComparer.Ordinal)), m.Start, file, errors)) return [];
                        break;
                    case SequenceEnd:
                    case MappingEnd:
                        stack.Pop();
                        break;
                }
            }
        }
        catch (YamlException ex)
        {
            errors.Add(Located(file, ex.Start, "invalid YAML: " + CleanMessage(ex.Message)));
            return [];
        }
        catch (Exception ex) when (ex is InvalidOperationException or ArgumentException or IndexOutOfRangeException)
        {
            // YamlDotNet's scanner throws these on some malformed input instead of a located YamlException.
            errors.Add(new Diagnostic(file, last.Line, last.Column, "", "invalid YAML after this point (the parser could not continue)"));
            return [];
        }
        return documents;
    }

    /// <summary>Parses a file that must hold exactly one document.</summary>
    public static YNode? ParseSingle(string text, string file, List<Diagnostic> errors)
    {
        var before = errors.Count;
        var docs = ParseDocuments(text, file, errors);
        if (errors.Count > before) return null;
        if (docs.Count == 0)
        {
            errors.Add(new Diagnostic(file, 1, 1, "", "file is empty"));
            return null;
        }
        if (docs.Count > 1)
        {
            var second = docs[1].Pos;
            errors.Add(new Diagnostic(file, second.Line, second.Column, "", "only one YAML document per file is allowed (found a second one)"));
            return null;
        }
        return docs[0];
    }

    private static bool Push(Stack<(YNode, YScalar?, HashSet<string>?)> stack, (YNode, YScalar?, HashSet<string>?) frame, Mark at, string file, List<Diagnostic> errors)
    {
        if (stack.Count >= MaxDepth)
        {
            errors.Add(Located(file, at, $"nesting is deeper than {MaxDepth} levels"));
            return false;
        }
        stack.Push(frame);
        return true;
    }

    private static bool Attach(YNode node, Stack<(YNode Node, YScalar? PendingKey, HashSet<string>? Keys)> stack, ref YNode? root, string file, List<Diagnostic> errors)
    {
        if (stack.Count == 0)
        {
            root = node;
            return true;
        }
        var (parent, pendingKey, keys) = stack.Pop();
        switch (parent)
        {
            case YSequence seq:
                seq.Items.Add(node);
                stack.Push((parent, null, null));
                return true;
            case YMapping map when pendingKey is null:
                if (node is not YScalar key)
                {
                    errors.Add(new Diagnostic(file, node.Pos.Line, node.Pos.Column, "", "mapping keys must be plain text, not lists or mappings"));
                    return false;
                }
                if (!keys!.Add(key.Value))
                {
                    errors.Add(new Diagnostic(file, key.Pos.Line, key.Pos.Column, "", $"duplicate key '{key.Value}'"));
                }
                stack.Push((map, key, keys));
                return true;
            case YMapping map:
                map.Entries.Add(new KeyValuePair<YScalar, YNode>(pendingKey, node));
                stack.Push((map, null, keys));
                return true;
            default:
                stack.Push((parent, pendingKey, keys));
                return true;
        }
    }

    private static Diagnostic Located(string file, Mark mark, string message) =>
        new(file, SourcePos.From(mark).Line, SourcePos.From(mark).Column, "", message);

    private static string CleanMessage(string message)
    {
        // YamlDotNet prefixes messages with "(Line: x, Col: y, Idx: z) - (Line: ...): "; the location is already in front.
        var idx = message.LastIndexOf("): ", StringComparison.Ordinal);
        return idx >= 0 ? message[(idx + 3)..] : message;
    }
}
