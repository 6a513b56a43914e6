using System.Text.Json.Nodes;
using RunbookPilot.Domain.Playbooks;
using RunbookPilot.Domain.Yaml;

namespace RunbookPilot.Engine.Tests.Playbooks;

public class YamlPrimitivesTests
{
    [Theory]
    [InlineData("30", 30_000)]
    [InlineData("500ms", 500)]
    [InlineData("1h30m", 5_400_000)]
    [InlineData("2d", 172_800_000)]
    public void Durations_parse(string text, long ms)
    {
        Assert.True(YamlBinder.TryParseDuration(text, out var t));
        Assert.Equal(ms, (long)t.TotalMilliseconds);
    }

    [Theory]
    [InlineData("")]
    [InlineData("5 minutes")]
    [InlineData("-1s")]
    [InlineData("99999999999h")]
    public void Bad_durations_do_not_parse(string text) => Assert.False(YamlBinder.TryParseDuration(text, out _));

    [Theory]
    [InlineData(4 * 3600_000, "4h")]
    [InlineData(90_000, "90s")]
    [InlineData(120_000, "2m")]
    [InlineData(1500, "1500ms")]
    public void Durations_format(long ms, string text) => Assert.Equal(text, YamlBinder.FormatDuration(TimeSpan.FromMilliseconds(ms)));

    [Fact]
    public void Plain_scalars_follow_the_core_schema_and_quoted_stay_text()
    {
        var errors = new List<Diagnostic>();
        var root = YamlTree.ParseSingle("a: 12\nb: '12'\nc: true\nd: 1.5\ne: ~\nf: [x, 2]\ng: {h: FALSE}\n", "f", errors)!;
        var json = (JsonObject)YamlBinder.ToJson(root)!;
        Assert.Equal(12, json["a"]!.GetValue<long>());
        Assert.Equal("12", json["b"]!.GetValue<string>());
        Assert.True(json["c"]!.GetValue<bool>());
        Assert.Equal(1.5, json["d"]!.GetValue<double>());
        Assert.Null(json["e"]);
        Assert.Equal(2, json["f"]![1]!.GetValue<long>());
        Assert.False(json["g"]!["h"]!.GetValue<bool>());
    }

    [Fact]
    public void Positions_are_one_based()
    {
        var errors = new List<Diagnostic>();
        var root = (YMapping)YamlTree.ParseSingle("# c\nkey:\n  - item\n", "f", errors)!;
        Assert.Equal(new SourcePos(2, 1), root.Entries[0].Key.Pos);
        Assert.Equal(new SourcePos(3, 5), ((YSequence)root.Entries[0].Value).Items[0].Pos);
    }

    [Theory]
    [InlineData("aproval_required", "approval_required")]
    [InlineData("ADAPTER", "adapter")]
    [InlineData("xyz", null)]
    public void Did_you_mean(string word, string? expected) =>
        Assert.Equal(expected, DidYouMean.Closest(word, ["approval_required", "adapter", "action_type"]));

    [Fact]
    public void Template_scan_finds_references()
    {
        var refs = Templates.Scan("AUTO_{{ execution_id }}_{{steps.s1.output.a.b}}");
        Assert.Equal(["execution_id", "steps.s1.output.a.b"], refs.Select(r => r.Expression));
        Assert.Equal([null, "s1"], refs.Select(r => r.StepId));
    }

    [Fact]
    public void Snake_case_names()
    {
        Assert.Equal("autonomy_level", ModelShape.SnakeCase("AutonomyLevel"));
        Assert.Equal("four_eyes_action_types", ModelShape.SnakeCase("FourEyesActionTypes"));
        Assert.Equal("starts_with", ModelShape.EnumName(ConditionOperator.StartsWith));
        Assert.Equal("L2", ModelShape.EnumName(AutonomyLevel.L2));
    }
}
