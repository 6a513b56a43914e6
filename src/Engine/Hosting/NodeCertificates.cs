using System.Net;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Akka.Event;
using Akka.Remote.Transport.DotNetty;
using RunbookPilot.Domain.Core;
using RunbookPilot.Engine.Configuration;

namespace RunbookPilot.Engine.Hosting;

/// <summary>This node's certificate and the CA its peers' certificates must chain to.</summary>
public sealed record NodeIdentity(X509Certificate2 Certificate, X509Certificate2 Authority);

/// <summary>
/// Mutual TLS for the actor system's transport (Akka.Remote), so only authenticated peers can deliver a message:
/// <list type="bullet">
/// <item>a single node makes a private CA and its node certificate in <c>&lt;data&gt;/tls/</c> on first start (files
/// readable by the service user only) and throws the CA's private key away: no other certificate can ever chain to it;</item>
/// <item>a cluster uses the CA and per-node certificates the operator provides (<c>RBPILOT_TLS_CA</c>, a PEM CA
/// certificate; <c>RBPILOT_TLS_CERT</c>, this node's PKCS#12 file; <c>RBPILOT_TLS_CERT_PASSWORD</c>);
/// <c>runbookpilot cluster certs --out DIR --nodes N</c> makes them;</item>
/// <item>a peer is accepted only when its certificate chains to that CA (<see cref="Validator"/>).</item>
/// </list>
/// </summary>
public static class NodeCertificates
{
    public const string CaFile = "ca.crt";
    public const string NodeFile = "node.pfx";

    /// <summary>The node's identity: the operator's files when configured, else the data folder's (made on first start).</summary>
    public static NodeIdentity Load(RunbookPilotOptions options)
    {
        if (options.TlsAuthority is { } ca || options.TlsCertificate is not null)
        {
            if (options.TlsAuthority is null || options.TlsCertificate is null)
                throw new ConfigurationException(["RBPILOT_TLS_CA and RBPILOT_TLS_CERT go together: the CA certificate (PEM) and this node's certificate (PKCS#12)"]);
            try
            {
                return new NodeIdentity(X509CertificateLoader.LoadPkcs12FromFile(options.TlsCertificate, options.TlsCertificatePassword),
                    X509CertificateLoader.LoadCertificateFromFile(options.TlsAuthority));
            }
            catch (Exception ex) when (ex is CryptographicException or IOException or UnauthorizedAccessException)
            {
                throw new ConfigurationException([$"the node certificate ({options.TlsCertificate}) or CA ({options.TlsAuthority}) cannot be read: {ex.Message}"]);
            }
        }
        if (options.SeedNodes.Count > 0)
            throw new ConfigurationException(["a cluster node needs RBPILOT_TLS_CA and RBPILOT_TLS_CERT (make them with 'runbookpilot cluster certs --out DIR --nodes N')"]);
        var folder = Path.Combine(options.IsPostgres ? Path.GetFullPath("data") : Path.GetDirectoryName(Path.GetFullPath(options.Database))!, "tls");
        var caPath = Path.Combine(folder, CaFile);
        var nodePath = Path.Combine(folder, NodeFile);
        if (!File.Exists(caPath) || !File.Exists(nodePath))
        {
            Directory.CreateDirectory(folder);
            if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            using var authority = CreateAuthority("RunbookPilot single-node CA");
            using var node = CreateNode(authority, "runbookpilot-node");
            WritePrivate(nodePath, node.Export(X509ContentType.Pkcs12));
            WritePrivate(caPath, System.Text.Encoding.ASCII.GetBytes(authority.ExportCertificatePem()));
        }
        return new NodeIdentity(X509CertificateLoader.LoadPkcs12FromFile(nodePath, null), X509CertificateLoader.LoadCertificateFromFile(caPath));
    }

    /// <summary>Accepts a peer only when its certificate chains to <paramref name="authority"/> (host names are not checked: per-node certificates).</summary>
    public static CertificateValidationCallback Validator(X509Certificate2 authority) => (certificate, _, peer, _, log) =>
    {
        if (certificate is null)
        {
            log.Warning("Refused a remoting peer without a certificate ({0})", peer);
            return false;
        }
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(authority);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.VerificationFlags = X509VerificationFlags.NoFlag;
        var ok = chain.Build(certificate) && chain.ChainElements[^1].Certificate.Thumbprint == authority.Thumbprint;
        if (!ok) log.Warning("Refused a remoting peer whose certificate ({0}) does not chain to this node's CA ({1})", certificate.Subject, peer);
        return ok;
    };

    /// <summary>A CA and <paramref name="nodes"/> node certificates for a cluster (<c>runbookpilot cluster certs</c>): ca.crt, ca.key, node-N.pfx.</summary>
    public static IReadOnlyList<string> CreateCluster(string folder, int nodes, IReadOnlyList<string>? hostnames = null)
    {
        Directory.CreateDirectory(folder);
        using var authority = CreateAuthority("RunbookPilot cluster CA");
        var written = new List<string>();
        void Write(string name, byte[] bytes)
        {
            WritePrivate(Path.Combine(folder, name), bytes);
            written.Add(Path.Combine(folder, name));
        }
        Write(CaFile, System.Text.Encoding.ASCII.GetBytes(authority.ExportCertificatePem()));
        Write("ca.key", System.Text.Encoding.ASCII.GetBytes(authority.GetECDsaPrivateKey()!.ExportPkcs8PrivateKeyPem()));
        for (var i = 1; i <= nodes; i++)
        {
            using var node = CreateNode(authority, hostnames is { } h && i <= h.Count ? h[i - 1] : $"runbookpilot-node-{i}");
            Write($"node-{i}.pfx", node.Export(X509ContentType.Pkcs12));
        }
        return written;
    }

    private static X509Certificate2 CreateAuthority(string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddYears(10));
    }

    private static X509Certificate2 CreateNode(X509Certificate2 authority, string hostname)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={hostname}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyAgreement, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], false));
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName(hostname);
        san.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(san.Build());
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7F;
        using var signed = request.Create(authority, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddYears(5), serial);
        return signed.CopyWithPrivateKey(key);
    }

    private static void WritePrivate(string path, byte[] bytes)
    {
        using var stream = new FileStream(path, ReadModel.AuditKeys.OwnerOnly(FileMode.Create));
        stream.Write(bytes);
    }
}
