using System.Security.Cryptography.X509Certificates;
using RunbookPilot.Cli;
using RunbookPilot.Engine.Tests;

namespace RunbookPilot.Cli.Tests;

public sealed class ClusterCertsTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Cluster_certs_writes_a_CA_and_one_certificate_per_node_readable_by_the_user_only()
    {
        var folder = Path.Combine(_dir.Path, "certs");
        var output = new StringWriter();
        Assert.Equal(0, await CliApp.RunAsync(["cluster", "certs", "--out", folder, "--nodes", "3"], output, new StringWriter()));
        var ca = X509CertificateLoader.LoadCertificateFromFile(Path.Combine(folder, "ca.crt"));
        for (var i = 1; i <= 3; i++)
        {
            var node = X509CertificateLoader.LoadPkcs12FromFile(Path.Combine(folder, $"node-{i}.pfx"), null);
            Assert.True(node.HasPrivateKey);
            Assert.Equal(ca.Subject, node.Issuer);
            using var chain = new X509Chain();
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.Add(ca);
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            Assert.True(chain.Build(node));
        }
        if (!OperatingSystem.IsWindows())
            foreach (var file in Directory.GetFiles(folder))
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
        var again = new StringWriter();
        Assert.Equal(1, await CliApp.RunAsync(["cluster", "certs", "--out", folder], new StringWriter(), again));
        Assert.Contains("already holds a CA", again.ToString(), StringComparison.Ordinal);
    }
}
