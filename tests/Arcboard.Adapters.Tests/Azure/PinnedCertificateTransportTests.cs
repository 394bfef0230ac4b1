using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Arcboard.Azure;

namespace Arcboard.Adapters.Tests.Azure;

public sealed class PinnedCertificateTransportTests
{
    private static X509Certificate2 SelfSigned(string name, bool ca)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(ca, false, 0, true));
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
    }

    [Fact]
    public void The_pinned_certificate_itself_is_trusted_even_though_the_system_does_not_know_it()
    {
        using var pinned = SelfSigned("sandbox", ca: true);
        using var presented = X509CertificateLoader.LoadCertificate(pinned.RawData);

        PinnedCertificateTransport.IsTrusted(pinned, presented, SslPolicyErrors.RemoteCertificateChainErrors).ShouldBeTrue();
    }

    [Fact]
    public void Another_certificate_is_refused()
    {
        using var pinned = SelfSigned("sandbox", ca: true);
        using var other = SelfSigned("sandbox", ca: true);

        PinnedCertificateTransport.IsTrusted(pinned, other, SslPolicyErrors.RemoteCertificateChainErrors).ShouldBeFalse();
    }

    [Fact]
    public void A_leaf_issued_by_the_pinned_root_is_trusted()
    {
        using var root = SelfSigned("root", ca: true);
        using var leafKey = RSA.Create(2048);
        var request = new CertificateRequest("CN=localhost", leafKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        using var leaf = request.Create(root, DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddHours(12), [1, 2, 3, 4]);

        PinnedCertificateTransport.IsTrusted(root, leaf, SslPolicyErrors.RemoteCertificateChainErrors).ShouldBeTrue();
    }

    [Fact]
    public void A_host_name_mismatch_is_refused_even_for_the_pinned_certificate()
    {
        using var pinned = SelfSigned("sandbox", ca: true);

        PinnedCertificateTransport.IsTrusted(pinned, pinned, SslPolicyErrors.RemoteCertificateNameMismatch | SslPolicyErrors.RemoteCertificateChainErrors).ShouldBeFalse();
    }

    [Fact]
    public void An_unreadable_pem_names_the_setting()
    {
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllText(path, "not a certificate");
            var ex = Should.Throw<InvalidOperationException>(() => PinnedCertificateTransport.LoadCertificate(path));
            ex.Message.ShouldContain("azure.caCertificate");
        }
        finally
        {
            File.Delete(path);
        }
    }
}
