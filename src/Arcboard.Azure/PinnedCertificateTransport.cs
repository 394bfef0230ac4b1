using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Azure.Core.Pipeline;
using Arcboard.Core.Configuration;

namespace Arcboard.Azure;

/// <summary>
/// The HTTP transport shared by ARM calls and the token credential: the system trust store, or, when
/// <see cref="AzureOptions.CaCertificate"/> names a PEM file, that one certificate as the only trusted root.
/// </summary>
public static class PinnedCertificateTransport
{
    /// <summary>A transport for <paramref name="options"/>, or null when the system trust store applies and Azure.Core's default transport is fine.</summary>
    public static HttpPipelineTransport? Create(AzureOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (string.IsNullOrEmpty(options.CaCertificate))
        {
            return null;
        }

        return new HttpClientTransport(CreateHandler(LoadCertificate(options.CaCertificate)));
    }

    public static X509Certificate2 LoadCertificate(string pemPath)
    {
        try
        {
            return X509Certificate2.CreateFromPem(File.ReadAllText(pemPath));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException or ArgumentException)
        {
            throw new InvalidOperationException($"azure.caCertificate '{pemPath}' could not be read as a PEM certificate: {ex.Message}", ex);
        }
    }

    /// <summary>A handler that accepts a server certificate only when it chains to <paramref name="trustedRoot"/> (or is it) and names the host.</summary>
    public static SocketsHttpHandler CreateHandler(X509Certificate2 trustedRoot)
    {
        ArgumentNullException.ThrowIfNull(trustedRoot);
        return new SocketsHttpHandler
        {
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            SslOptions = new SslClientAuthenticationOptions
            {
                RemoteCertificateValidationCallback = (_, certificate, _, errors) => IsTrusted(trustedRoot, certificate, errors),
            },
        };
    }

    internal static bool IsTrusted(X509Certificate2 trustedRoot, X509Certificate? presented, SslPolicyErrors errors)
    {
        // The name must still match: pinning the root replaces the trust store, not host name checking.
        if (presented is null || errors.HasFlag(SslPolicyErrors.RemoteCertificateNotAvailable) || errors.HasFlag(SslPolicyErrors.RemoteCertificateNameMismatch))
        {
            return false;
        }

        using var leaf = new X509Certificate2(presented);
        if (leaf.RawDataMemory.Span.SequenceEqual(trustedRoot.RawDataMemory.Span))
        {
            return true;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(trustedRoot);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(leaf);
    }
}
