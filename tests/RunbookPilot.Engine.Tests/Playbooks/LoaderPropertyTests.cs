using System.Text;
using FsCheck;
using FsCheck.Fluent;
using RunbookPilot.Domain.Playbooks;
using RunbookPilot.Domain.Yaml;

namespace RunbookPilot.Engine.Tests.Playbooks;

/// <summary>
/// Valid playbooks mutated at random (deleted lines and keys, wrong types, garbage bytes, deep nesting, huge strings,
/// truncation) always give a playbook or located errors: never an exception, never a hang.
/// </summary>
public class LoaderPropertyTests
{
    public enum Kind { DeleteLine, DuplicateLine, ReplaceValue, InsertGarbage, DeepNesting, HugeString, Truncate, Reindent }

    public sealed record Mutation(Kind Kind, int Where, int Size, string Garbage);

    private static readonly string[] Seeds =
    [
        Samples.Valid,
        .. Directory.GetFiles(Repo.Playbooks, "*.yaml").Where(f => !Path.GetFileName(f).Contains("adapters", StringComparison.Ordinal)).Select(File.ReadAllText),
    ];

    private static readonly string[] Replacements =
        ["[1, 2]", "{a: b}", "42", "-3.5e9", "true", "~", "''", "\"\\u0000\"", "!!binary AAAA", "&a x", "*a", "{{steps.x.output}}", "|\n  block", "[", "}", "'unterminated", "L9", "T99"];

    /// <summary>Cases per property; RBPILOT_PROPERTY_CASES raises it for a deeper hunt (the suite's default stays fast).</summary>
    private static int Cases(int normal) =>
        int.TryParse(Environment.GetEnvironmentVariable("RBPILOT_PROPERTY_CASES"), out var n) && n > 0 ? n : normal;

    private static Gen<Mutation> MutationGen =>
        from kind in Gen.Elements(Enum.GetValues<Kind>())
        from at in Gen.Choose(0, 100_000)
        from size in Gen.Choose(1, 3000)
        from garbage in Gen.OneOf(
            ArbMap.Default.GeneratorFor<string>().Where(s => s is not null),
            Gen.Elements(Replacements),
            Gen.ArrayOf(Gen.Choose(0, 255).Select(b => (char)b)).Select(cs => new string(cs)))
        select new Mutation(kind, at, size, garbage ?? "");

    internal static string Apply(string text, Mutation m)
    {
        var lines = text.Split('\n').ToList();
        var line = m.Where % lines.Count;
        switch (m.Kind)
        {
            case Kind.DeleteLine:
                lines.RemoveAt(line);
                break;
            case Kind.DuplicateLine:
                lines.Insert(line, lines[line]);
                break;
            case Kind.ReplaceValue:
                var colon = lines[line].IndexOf(": ", StringComparison.Ordinal);
                lines[line] = colon >= 0 ? lines[line][..(colon + 2)] + m.Garbage : lines[line] + m.Garbage;
                break;
            case Kind.InsertGarbage:
                var pos = m.Where % (text.Length + 1);
                return text[..pos] + m.Garbage + text[pos..];
            case Kind.DeepNesting:
                var c = lines[line].IndexOf(": ", StringComparison.Ordinal);
                var depth = m.Size * 4;
                var nested = (m.Where % 2 == 0) ? new string('[', depth) + new string(']', depth) : string.Concat(Enumerable.Repeat("{a: ", depth)) + "1" + new string('}', depth);
                lines[line] = (c >= 0 ? lines[line][..(c + 2)] : lines[line] + ": ") + nested;
                break;
            case Kind.HugeString:
                var k = lines[line].IndexOf(": ", StringComparison.Ordinal);
                var huge = new string('x', m.Size * 700);
                lines[line] = (k >= 0 ? lines[line][..(k + 2)] : lines[line] + ": ") + huge;
                break;
            case Kind.Truncate:
                return text[..(m.Where % (text.Length + 1))];
            case Kind.Reindent:
                lines[line] = m.Size % 2 == 0 ? "  " + lines[line] : lines[line].TrimStart();
                break;
        }
        return string.Join('\n', lines);
    }

    private static bool LoadsOrLocates(string text)
    {
        LoadResult<Playbook>? result = null;
        var worker = new Thread(() => result = PlaybookLoader.Parse(text, "mutant.yaml"), maxStackSize: 1024 * 1024);
        worker.Start();
        if (!worker.Join(TimeSpan.FromSeconds(20))) throw new TimeoutException("the loader hung on:\n" + text[..Math.Min(text.Length, 2000)]);
        if (result is null) return false; // the worker threw: the exception is on its thread, and the result is missing
        return result.Value is not null
            ? result.Errors.Count == 0
            : result.Errors.Count > 0 && result.Errors.All(e => e.Line >= 1 && e.Column >= 1 && e.File == "mutant.yaml" && e.Message.Length > 0);
    }

    [Fact]
    public void Mutated_playbooks_load_or_give_located_errors()
    {
        var property = Prop.ForAll(
            Gen.Elements(Seeds).SelectMany(seed => Gen.ListOf(MutationGen).Select(ms => (seed, ms: ms.Take(3).ToList()))).ToArbitrary(),
            input =>
            {
                var text = input.ms.Aggregate(input.seed, Apply);
                return LoadsOrLocates(text);
            });
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(Cases(600)).WithQuietOnSuccess(true), property);
    }

    [Fact]
    public void Random_bytes_load_or_give_located_errors()
    {
        var property = Prop.ForAll(
            Gen.ArrayOf(Gen.Choose(0, 255).Select(b => (byte)b)).Select(bytes => Encoding.UTF8.GetString(bytes)).ToArbitrary(),
            LoadsOrLocates);
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(Cases(400)).WithQuietOnSuccess(true), property);
    }

    [Fact]
    public void Every_mutation_kind_yields_errors_on_a_known_case()
    {
        foreach (var kind in new[] { Kind.DeepNesting, Kind.HugeString })
        {
            var text = Apply(Samples.Valid, new Mutation(kind, 1, 3000, ""));
            var result = PlaybookLoader.Parse(text, "m.yaml");
            Assert.Null(result.Value);
            Assert.NotEmpty(result.Errors);
        }
    }
}
