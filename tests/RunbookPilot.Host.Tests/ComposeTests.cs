using System.Diagnostics;
using RunbookPilot.Engine.Tests;
using YamlDotNet.RepresentationModel;

namespace RunbookPilot.Host.Tests;

/// <summary>
/// docker-compose.yml, checked by the real <c>docker-compose config</c> (Debian package; there is no container engine
/// here): the default profile is one node on SQLite, the "cluster" profile three nodes on PostgreSQL with the
/// certificate-init service, persistent volumes and mutual TLS. scripts/run-topology.sh starts the same processes.
/// </summary>
public sealed class ComposeTests
{
    private static async Task<YamlMappingNode> ConfigAsync(params string[] args)
    {
        var info = new ProcessStartInfo("docker-compose", [.. args, "config"])
        {
            WorkingDirectory = Repo.Root, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        using var process = Process.Start(info)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        var error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, error);
        var yaml = new YamlStream();
        yaml.Load(new StringReader(output));
        return (YamlMappingNode)yaml.Documents[0].RootNode;
    }

    private static YamlMappingNode Services(YamlMappingNode config) => (YamlMappingNode)config["services"];

    private static string[] Profiles(YamlMappingNode service) =>
        service.Children.TryGetValue("profiles", out var p) ? ((YamlSequenceNode)p).Select(x => x.ToString()).ToArray() : [];

    private static string Env(YamlMappingNode service, string name) => ((YamlMappingNode)service["environment"])[name].ToString();

    [Fact]
    public async Task The_default_profile_is_one_node_on_sqlite()
    {
        Assert.Contains("COMPOSE_PROFILES=single", await File.ReadAllTextAsync(Path.Combine(Repo.Root, ".env")), StringComparison.Ordinal);
        var services = Services(await ConfigAsync());
        var single = services.Children.Where(s => Profiles((YamlMappingNode)s.Value).Contains("single")).Select(s => s.Key.ToString()).ToList();
        Assert.Equal(["runbookpilot"], single);
        var node = (YamlMappingNode)services["runbookpilot"];
        Assert.False(((YamlMappingNode)node["environment"]).Children.ContainsKey("RBPILOT_CLUSTER_SEEDS"));
        Assert.False(((YamlMappingNode)node["environment"]).Children.ContainsKey("RBPILOT_DB")); // the image's SQLite default
    }

    [Fact]
    public async Task The_cluster_profile_is_three_nodes_on_postgresql_with_their_own_certificates()
    {
        var services = Services(await ConfigAsync("--profile", "cluster"));
        var cluster = services.Children.Where(s => Profiles((YamlMappingNode)s.Value).Contains("cluster")).Select(s => s.Key.ToString()).Order().ToList();
        Assert.Equal(["certs-init", "node1", "node2", "node3", "postgres"], cluster);
        var certificates = new HashSet<string>();
        foreach (var name in new[] { "node1", "node2", "node3" })
        {
            var node = (YamlMappingNode)services[name];
            Assert.StartsWith("Host=postgres;", Env(node, "RBPILOT_DB"), StringComparison.Ordinal);
            Assert.Equal("node1:4053,node2:4053,node3:4053", Env(node, "RBPILOT_CLUSTER_SEEDS"));
            Assert.Equal(name, Env(node, "RBPILOT_CLUSTER_PUBLIC_HOSTNAME"));
            Assert.Equal("/certs/ca.crt", Env(node, "RBPILOT_TLS_CA"));
            Assert.True(certificates.Add(Env(node, "RBPILOT_TLS_CERT")));
            var dependsOn = (YamlMappingNode)node["depends_on"];
            Assert.Equal("service_healthy", ((YamlMappingNode)dependsOn["postgres"])["condition"].ToString());
            Assert.Equal("service_completed_successfully", ((YamlMappingNode)dependsOn["certs-init"])["condition"].ToString());
            // ca.key (it signs new nodes) lives on a volume only certs-init mounts.
            Assert.DoesNotContain(((YamlSequenceNode)node["volumes"]).Select(v => v.ToString()), v => v.Contains("runbookpilot-ca", StringComparison.Ordinal));
        }
        Assert.Contains("cluster certs --out /certs --nodes 3", services["certs-init"].ToString(), StringComparison.Ordinal);
        Assert.Contains("mv /certs/ca.key /ca/ca.key", services["certs-init"].ToString(), StringComparison.Ordinal);
        var volumes = ((YamlMappingNode)(await ConfigAsync("--profile", "cluster"))["volumes"]).Children.Keys.Select(k => k.ToString()).ToList();
        Assert.Contains("runbookpilot-postgres", volumes);
        Assert.Contains("runbookpilot-certs", volumes);
    }
}
