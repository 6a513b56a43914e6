using System.Security.Cryptography.X509Certificates;
using Akka.Actor;
using Akka.Actor.Setup;
using Akka.Cluster;
using Akka.Configuration;
using Akka.Remote.Transport.DotNetty;
using RunbookPilot.Engine.Hosting;
using RunbookPilot.Engine.Tests.Execution;
using RunbookPilot.Domain.Core;

namespace RunbookPilot.Engine.Tests.Safety;

/// <summary>
/// Another process on the same machine tries to talk to a node's actor system (as the review did with ApproveStep):
/// without a certificate, or with one from another CA, nothing is delivered; a peer with a certificate from the node's CA
/// is answered (the control that shows the probe would see a delivery). The probe is Identify, which every actor answers.
/// </summary>
#pragma warning disable CA1001 // disposed in DisposeAsync (xunit's IAsyncLifetime)
public sealed class TransportTests : IAsyncLifetime
#pragma warning restore CA1001
{
    private readonly TempDir _certs = new();
    private EngineFixture _f = null!;
    private Address _node = null!;

    public async Task InitializeAsync()
    {
        NodeCertificates.CreateCluster(Path.Combine(_certs.Path, "ours"), 2);
        NodeCertificates.CreateCluster(Path.Combine(_certs.Path, "theirs"), 1);
        _f = new EngineFixture("""
            id: noop
            name: Noop
            version: 1.0.0
            autonomy_level: L0
            trigger: { techniques: [T1110] }
            steps:
              - { id: lookup, name: Lookup, action_type: lookup_ip, adapter: virustotal, autonomy_level: L0, params: { ip: "{{source.ip}}" } }
            """);
        _f.Options = _f.Options with
        {
            TlsAuthority = Path.Combine(_certs.Path, "ours", "ca.crt"),
            TlsCertificate = Path.Combine(_certs.Path, "ours", "node-1.pfx"),
        };
        await _f.StartAsync();
        _node = Cluster.Get(_f.Engine.System).SelfAddress;
    }

    public async Task DisposeAsync()
    {
        await _f.DisposeAsync();
        _certs.Dispose();
    }

    private static ActorSystem Peer(string? pfx)
    {
        var hocon = "akka.actor.provider = remote\nakka.remote.dot-netty.tcp { hostname = 127.0.0.1, port = 0, enable-ssl = " + (pfx is null ? "off" : "on") + " }\n"
            + "akka.stdout-loglevel = OFF\nakka.loglevel = OFF";
        var setup = BootstrapSetup.Create().WithConfig(ConfigurationFactory.ParseString(hocon));
        ActorSystemSetup all = pfx is null
            ? ActorSystemSetup.Create(setup)
            : setup.And(new DotNettySslSetup(X509CertificateLoader.LoadPkcs12FromFile(pfx, null), suppressValidation: true, requireMutualAuthentication: true));
        return ActorSystem.Create("peer", all);
    }

    /// <summary>Whether Identify reaches the node's execution region (a plain peer dials the TLS port with plain TCP).</summary>
    private async Task<bool> Delivered(ActorSystem peer, bool plain = false)
    {
        var address = plain ? _node.WithProtocol("akka.tcp") : _node;
        try
        {
            var identity = await peer.ActorSelection($"{address}/system/sharding/execution").Ask<ActorIdentity>(new Identify(1), TimeSpan.FromSeconds(4));
            return identity.Subject is not null;
        }
        catch (AskTimeoutException)
        {
            return false;
        }
    }

    [Fact]
    public async Task A_process_without_a_certificate_delivers_nothing()
    {
        Assert.Equal("akka.ssl.tcp", _node.Protocol);
        using var peer = Peer(null);
        Assert.False(await Delivered(peer, plain: true));
    }

    [Fact]
    public async Task A_process_with_a_certificate_from_another_CA_delivers_nothing()
    {
        using var peer = Peer(Path.Combine(_certs.Path, "theirs", "node-1.pfx"));
        Assert.False(await Delivered(peer));
    }

    [Fact]
    public async Task A_peer_with_a_certificate_from_the_nodes_CA_is_answered()
    {
        using var peer = Peer(Path.Combine(_certs.Path, "ours", "node-2.pfx"));
        Assert.True(await Delivered(peer));
    }

    [Fact]
    public async Task A_single_node_makes_its_own_CA_readable_by_the_service_user_only_and_binds_to_loopback()
    {
        await using var f = new EngineFixture();
        await f.StartAsync();
        var tls = Path.Combine(Path.GetDirectoryName(f.Options.Database)!, "tls");
        foreach (var file in new[] { "ca.crt", "node.pfx" })
            if (!OperatingSystem.IsWindows()) Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(tls, file)));
        Assert.Equal("127.0.0.1", Cluster.Get(f.Engine.System).SelfAddress.Host);
        await Assert.ThrowsAsync<RunbookPilot.Domain.Core.ConfigurationException>(async () =>
        {
            await using var wide = new EngineFixture();
            wide.Options = wide.Options with { Hostname = "0.0.0.0" };
            await wide.StartAsync();
        });
    }
}
