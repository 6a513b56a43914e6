using System.Text.Json.Nodes;
using RunbookPilot.Domain.Playbooks.Schema;

namespace RunbookPilot.Engine.Tests.Playbooks;

public class SchemaTests
{
    [Theory]
    [InlineData("playbook")]
    [InlineData("global_policy")]
    [InlineData("adapters")]
    public void Checked_in_schema_is_current(string name)
    {
        var path = Path.Combine(Repo.Playbooks, "schema", name + ".schema.json");
        Assert.True(File.Exists(path), $"{path} is missing: run 'runbookpilot schema --write playbooks/schema'");
        Assert.True(JsonSchemaGenerator.Generate(name) == File.ReadAllText(path),
            $"{path} is stale: run 'dotnet run --project src/Cli -- schema --write playbooks/schema' and commit the result");
    }

    [Fact]
    public void Playbook_schema_describes_the_model()
    {
        var schema = JsonNode.Parse(JsonSchemaGenerator.Generate("playbook"))!;
        Assert.Equal(["id", "name", "version", "autonomy_level", "trigger", "steps"], schema["required"]!.AsArray().Select(n => n!.GetValue<string>()));
        Assert.False(schema["additionalProperties"]!.GetValue<bool>());
        Assert.NotNull(schema["patternProperties"]!["^x-"]);
        var step = schema["definitions"]!["PlaybookStep"]!;
        Assert.Equal(["L0", "L1", "L2"], step["properties"]!["autonomy_level"]!["enum"]!.AsArray().Select(n => n!.GetValue<string>()));
        Assert.Equal("halt", step["properties"]!["on_failure"]!["default"]!.GetValue<string>());
        Assert.Equal(10, schema["definitions"]!["RetrySpec"]!["properties"]!["max_retries"]!["maximum"]!.GetValue<int>());
        Assert.Equal(@"^T\d{4}(\.\d{3})?$", schema["definitions"]!["Trigger"]!["properties"]!["techniques"]!["items"]!["pattern"]!.GetValue<string>());
        Assert.Equal("#/definitions/RollbackSpec", schema["properties"]!["rollback"]!["additionalProperties"]!["$ref"]!.GetValue<string>());
    }
}
