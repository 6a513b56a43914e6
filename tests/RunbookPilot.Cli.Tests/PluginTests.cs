using System.Diagnostics;
using System.Text.Json;
using RunbookPilot.Cli;
using RunbookPilot.Domain.Adapters;
using RunbookPilot.Engine.Adapters;
using RunbookPilot.Engine.Tests;
using RunbookPilot.Cli.Backends;

namespace RunbookPilot.Cli.Tests;

/// <summary>The README's "write your own adapter" example, built from samples/plugins and loaded from a plugins folder.</summary>
[Collection(PluginBuild.Name)]
public sealed class PluginTests : IDisposable
{
    private readonly TempDir _dir = new();

    private const string Playbook = """
        id: echo_demo
        name: Echo through a plugin
        version: 1.0.0
        autonomy_level: L0
        trigger: { techniques: [T1059] }
        steps:
          - { id: say, name: Say it, action_type: echo, adapter: echo, autonomy_level: L0, params: { message: "hello {{host.name}}" } }
        """;

    private string BuildPlugin()
    {
        var output = Path.Combine(_dir.Path, "plugins");
        var project = Path.Combine(Repo.Root, "samples", "plugins", "EchoAdapter");
        using var build = Process.Start(new ProcessStartInfo("dotnet", ["build", project, "-o", output, "--nologo", "-v", "q"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        var log = build.StandardOutput.ReadToEnd() + build.StandardError.ReadToEnd();
        build.WaitForExit();
        Assert.True(build.ExitCode == 0, log);
        return output;
    }

    [Fact]
    public async Task A_plugin_adapter_is_discovered_validates_and_runs()
    {
        var plugins = BuildPlugin();
        var (loaded, errors) = AdapterPlugins.Load(plugins);
        Assert.Empty(errors);
        Assert.Equal("echo", Assert.Single(loaded).Descriptor.Name);

        var playbooks = Path.Combine(_dir.Path, "playbooks");
        _dir.Write("playbooks/echo.yaml", Playbook);
        _dir.Write("playbooks/adapters.yaml", "adapters:\n  echo:\n    base_url: http://127.0.0.1:1\n    options: { upper: true }\n");
        _dir.Write("playbooks/global_policy.yaml", "require_approval: false\n"); // outside --demo a policy file is required
        var without = new StringWriter();
        Assert.Equal(1, await CliApp.RunAsync(["validate", playbooks, "--plugins", Path.Combine(_dir.Path, "none")], without, new StringWriter()));
        Assert.Contains("unknown adapter 'echo'", without.ToString(), StringComparison.Ordinal);
        var with = new StringWriter();
        Assert.True(await CliApp.RunAsync(["validate", playbooks, "--plugins", plugins], with, new StringWriter()) == 0, with.ToString());

        var output = new StringWriter();
        var services = new CliServices([], () => new StringReader("""{"event":{"id":"p1"},"host":{"name":"ws-7"},"threat":{"technique":{"id":"T1059"}}}""")) { Environment = TestAudit.Environment };
        var code = await CliApp.RunAsync(["execute", "--playbooks", playbooks, "--plugins", plugins, "--db", Path.Combine(_dir.Path, "data", "rbp.db"), "-o", "json"], output, new StringWriter(), services);
        Assert.Equal(0, code);
        var execution = JsonDocument.Parse(output.ToString()).RootElement.GetProperty("alerts")[0].GetProperty("executions")[0];
        Assert.Equal("completed", execution.GetProperty("status").GetString());

        var show = new StringWriter();
        await CliApp.RunAsync(["show", execution.GetProperty("execution_id").GetString()!, "--playbooks", playbooks, "--plugins", plugins, "--db", Path.Combine(_dir.Path, "data", "rbp.db"), "-o", "json"], show, new StringWriter(), services);
        var step = JsonDocument.Parse(show.ToString()).RootElement.GetProperty("timeline").EnumerateArray().Single(t => t.GetProperty("kind").GetString() == "step_succeeded");
        Assert.Equal("HELLO WS-7", step.GetProperty("response").GetProperty("echo").GetString());
    }

    public void Dispose() => _dir.Dispose();
}

/// <summary>Building the sample plugin (a <c>dotnet build</c> child process) takes both cores for half a minute: it runs
/// alone, not beside the engine tests of the other classes.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class PluginBuild
{
    public const string Name = "plugin build";
}
