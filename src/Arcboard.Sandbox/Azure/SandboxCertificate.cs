using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Arcboard.Sandbox.Azure;

/// <summary>
/// The self-signed TLS certificate of the sandbox's HTTPS listener (localhost and 127.0.0.1). Clients trust exactly
/// this certificate, from the PEM written by <see cref="WritePem"/> (SANDBOX_CA_CERT / AZCMAGENT_CA_CERT).
/// </summary>
public sealed class SandboxCertificate : IDisposable
{
    private SandboxCertificate(X509Certificate2 certificate) => Certificate = certificate;

    /// <summary>The certificate with its private key, ready for Kestrel.</summary>
    public X509Certificate2 Certificate { get; }

    public string Thumbprint => Certificate.Thumbprint;

    public static SandboxCertificate Create(TimeProvider? time = null)
    {
        var now = (time ?? TimeProvider.System).GetUtcNow();
        using var rsa = RSA.Create(2048);
        var request = new CertificateRequest("CN=localhost, O=Arcboard Sandbox", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);

        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName("localhost");
        san.AddIpAddress(IPAddress.Loopback);
        san.AddIpAddress(IPAddress.IPv6Loopback);
        request.CertificateExtensions.Add(san.Build());
        // Marked as its own CA with keyCertSign so that OpenSSL-based clients (curl --cacert) accept it as a trust
        // anchor; pathLen 0 stops it from vouching for anything else.
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(
            X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment | X509KeyUsageFlags.KeyCertSign, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));

        // RFC 5280: serial numbers are positive; clear the top bit and keep the first byte non-zero.
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] = (byte)((serial[0] & 0x7F) | 0x01);

        using var created = request.Create(request.SubjectName, X509SignatureGenerator.CreateForRSA(rsa, RSASignaturePadding.Pkcs1),
            now.AddMinutes(-5), now.AddDays(30), serial);
        using var withKey = created.CopyWithPrivateKey(rsa);
        // A round trip through PKCS#12 gives a certificate whose private key Kestrel's TLS stack can use on every OS.
        var pfx = withKey.Export(X509ContentType.Pfx);
        return new SandboxCertificate(X509CertificateLoader.LoadPkcs12(pfx, null, X509KeyStorageFlags.Exportable));
    }

    /// <summary>Writes the public certificate (no key) as PEM.</summary>
    public void WritePem(string path)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(directory))
        {
            Directory.CreateDirectory(directory);
        }

        File.WriteAllText(path, Certificate.ExportCertificatePem() + "\n");
    }

    /// <summary>True when <paramref name="certificate"/> is this very certificate: what a pinned client checks.</summary>
    public bool Matches(X509Certificate? certificate) =>
        certificate is not null && certificate.GetRawCertData().AsSpan().SequenceEqual(Certificate.RawData);

    public void Dispose() => Certificate.Dispose();
}
