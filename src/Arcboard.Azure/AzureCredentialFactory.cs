using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Identity;
using Arcboard.Core.Configuration;

namespace Arcboard.Azure;

/// <summary>Builds the Entra ID credential described by <see cref="AzureOptions.Credential"/>.</summary>
public static class AzureCredentialFactory
{
    /// <param name="options">The <c>azure</c> section of the configuration.</param>
    /// <param name="getEnvironmentVariable">Reads <see cref="AzureCredentialOptions.ClientSecretEnv"/>; defaults to the process environment.</param>
    /// <param name="transport">Overrides the transport (tests); null uses <see cref="PinnedCertificateTransport.Create"/>.</param>
    public static TokenCredential Create(AzureOptions options, Func<string, string?>? getEnvironmentVariable = null, HttpPipelineTransport? transport = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var c = options.Credential;
        transport ??= PinnedCertificateTransport.Create(options);
        switch (c.Type.ToUpperInvariant())
        {
            case "DEFAULT":
                var defaultOptions = new DefaultAzureCredentialOptions { TenantId = options.TenantId };
                Apply(defaultOptions, c.AuthorityHost, transport);
                return new DefaultAzureCredential(defaultOptions);
            case "CLIENTSECRET":
                if (string.IsNullOrEmpty(c.ClientId))
                {
                    throw new InvalidOperationException("azure.credential.type is 'clientSecret' but azure.credential.clientId is not set.");
                }

                var secret = !string.IsNullOrEmpty(c.ClientSecretEnv) ? (getEnvironmentVariable ?? Environment.GetEnvironmentVariable)(c.ClientSecretEnv) : c.ClientSecret;
                if (string.IsNullOrEmpty(secret))
                {
                    throw new InvalidOperationException(string.IsNullOrEmpty(c.ClientSecretEnv)
                        ? "azure.credential.type is 'clientSecret' but neither azure.credential.clientSecretEnv nor azure.credential.clientSecret is set."
                        : $"azure.credential.clientSecretEnv names the environment variable '{c.ClientSecretEnv}', which is not set.");
                }

                var secretOptions = new ClientSecretCredentialOptions();
                Apply(secretOptions, c.AuthorityHost, transport);
                return new ClientSecretCredential(options.TenantId, c.ClientId, secret, secretOptions);
            default:
                throw new InvalidOperationException($"azure.credential.type '{c.Type}' is not known; use 'default' or 'clientSecret'.");
        }
    }

    private static void Apply(TokenCredentialOptions options, string? authorityHost, HttpPipelineTransport? transport)
    {
        if (!string.IsNullOrEmpty(authorityHost))
        {
            options.AuthorityHost = new Uri(authorityHost);
            // A non-public authority has no instance-discovery endpoint; MSAL would fail asking for one.
            switch (options)
            {
                case ClientSecretCredentialOptions s:
                    s.DisableInstanceDiscovery = true;
                    break;
                case DefaultAzureCredentialOptions d:
                    d.DisableInstanceDiscovery = true;
                    break;
            }
        }

        if (transport is not null)
        {
            options.Transport = transport;
        }
    }
}
