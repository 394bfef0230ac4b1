using System.Collections.Concurrent;
using Amazon;
using Amazon.EC2;
using Amazon.Runtime;
using Amazon.Runtime.CredentialManagement;
using Amazon.Runtime.Credentials;
using Amazon.SecurityToken;
using Amazon.SimpleSystemsManagement;
using Arcboard.Core.Configuration;
using Arcboard.Core.Fleet;

namespace Arcboard.Aws;

/// <summary>Hands out the SDK clients for one account and region.</summary>
public interface IAwsClientSource
{
    IAmazonEC2 Ec2(AwsScope scope);

    IAmazonSimpleSystemsManagement Ssm(AwsScope scope);
}

/// <summary>
/// Builds and caches EC2, SSM and STS clients per account and region from <see cref="AwsOptions"/>:
/// base credentials from the SDK chain, a named profile or a static key; per account an optional role assumed through STS;
/// and, when <see cref="AwsOptions.Endpoint"/> is set, every client (STS too) pointed at that endpoint.
/// </summary>
public sealed class AwsClientFactory : IAwsClientSource, IDisposable
{
    /// <summary>
    /// The SDK's own retries stay on (Standard mode) but few, so throttling reaches the reconciler quickly and it
    /// paces the whole scope instead of each call sleeping on its own.
    /// </summary>
    public const int SdkMaxErrorRetry = 2;

    internal const string RoleSessionName = "arcboard";

    private readonly AwsOptions _options;
    private readonly Func<string, string?> _getEnvironmentVariable;
    private readonly HttpClientFactory? _httpClientFactory;
    private readonly Lazy<AWSCredentials> _baseCredentials;
    private readonly ConcurrentDictionary<string, AWSCredentials> _accountCredentials = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<AwsScope, Lazy<IAmazonEC2>> _ec2 = new();
    private readonly ConcurrentDictionary<AwsScope, Lazy<IAmazonSimpleSystemsManagement>> _ssm = new();
    private readonly ConcurrentBag<IDisposable> _owned = [];

    /// <param name="options">The <c>aws</c> section of the configuration.</param>
    /// <param name="getEnvironmentVariable">Reads <see cref="AwsCredentialOptions.SecretAccessKeyEnv"/>; defaults to the process environment.</param>
    /// <param name="httpClientFactory">Replaces the SDK's HTTP client (tests); null keeps the SDK's own.</param>
    public AwsClientFactory(AwsOptions options, Func<string, string?>? getEnvironmentVariable = null, HttpClientFactory? httpClientFactory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _getEnvironmentVariable = getEnvironmentVariable ?? Environment.GetEnvironmentVariable;
        _httpClientFactory = httpClientFactory;
        // PublicationOnly: a failure (IMDS briefly unreachable, a variable not yet set) is not cached forever.
        _baseCredentials = new Lazy<AWSCredentials>(CreateBaseCredentials, LazyThreadSafetyMode.PublicationOnly);
    }

    public IAmazonEC2 Ec2(AwsScope scope) =>
        _ec2.GetOrAdd(scope, s => new Lazy<IAmazonEC2>(() => Own(new AmazonEC2Client(CredentialsFor(s), Configure(new AmazonEC2Config(), s.Region))))).Value;

    public IAmazonSimpleSystemsManagement Ssm(AwsScope scope) =>
        _ssm.GetOrAdd(scope, s => new Lazy<IAmazonSimpleSystemsManagement>(() => Own(new AmazonSimpleSystemsManagementClient(CredentialsFor(s), Configure(new AmazonSimpleSystemsManagementConfig(), s.Region))))).Value;

    /// <summary>The credentials used for <paramref name="scope"/>'s account: the base ones, or the account's assumed role.</summary>
    public AWSCredentials CredentialsFor(AwsScope scope)
    {
        ArgumentNullException.ThrowIfNull(scope);
        var account = _options.Accounts.FirstOrDefault(a => a.AccountId == scope.AccountId);
        if (account?.RoleArn is not { Length: > 0 } roleArn)
        {
            return _baseCredentials.Value;
        }

        // One refreshing credential per account, shared by its regions: one AssumeRole per session, not per client.
        return _accountCredentials.GetOrAdd(scope.AccountId, _ =>
        {
            var sts = Own(new AmazonSecurityTokenServiceClient(_baseCredentials.Value, Configure(new AmazonSecurityTokenServiceConfig(), scope.Region)));
            return new StsAssumeRoleCredentials(sts, roleArn, RoleSessionName);
        });
    }

    private T Configure<T>(T config, string region) where T : ClientConfig
    {
        if (_options.Endpoint is { Length: > 0 } endpoint)
        {
            config.ServiceURL = endpoint;
            // With a custom URL the SDK cannot infer the signing region from the host name.
            config.AuthenticationRegion = region;
        }
        else
        {
            config.RegionEndpoint = RegionEndpoint.GetBySystemName(region);
        }

        config.RetryMode = RequestRetryMode.Standard;
        config.MaxErrorRetry = SdkMaxErrorRetry;
        config.Timeout = TimeSpan.FromSeconds(60);
        if (_httpClientFactory is not null)
        {
            config.HttpClientFactory = _httpClientFactory;
        }

        return config;
    }

    private AWSCredentials CreateBaseCredentials()
    {
        var c = _options.Credentials;
        switch (c.Type.ToUpperInvariant())
        {
            case "DEFAULT":
                return DefaultAWSCredentialsIdentityResolver.GetCredentials();
            case "PROFILE":
                var name = string.IsNullOrEmpty(c.Profile) ? "default" : c.Profile;
                if (!new CredentialProfileStoreChain().TryGetAWSCredentials(name, out var profileCredentials))
                {
                    throw new InvalidOperationException($"AWS profile '{name}' was not found in the shared credentials or config files; set aws.credentials.profile to an existing profile.");
                }

                return profileCredentials;
            case "STATIC":
                if (string.IsNullOrEmpty(c.AccessKeyId))
                {
                    throw new InvalidOperationException("aws.credentials.type is 'static' but aws.credentials.accessKeyId is not set.");
                }

                var secret = !string.IsNullOrEmpty(c.SecretAccessKeyEnv) ? _getEnvironmentVariable(c.SecretAccessKeyEnv) : c.SecretAccessKey;
                if (string.IsNullOrEmpty(secret))
                {
                    throw new InvalidOperationException(string.IsNullOrEmpty(c.SecretAccessKeyEnv)
                        ? "aws.credentials.type is 'static' but neither aws.credentials.secretAccessKeyEnv nor aws.credentials.secretAccessKey is set."
                        : $"aws.credentials.secretAccessKeyEnv names the environment variable '{c.SecretAccessKeyEnv}', which is not set.");
                }

                return new BasicAWSCredentials(c.AccessKeyId, secret);
            default:
                throw new InvalidOperationException($"aws.credentials.type '{c.Type}' is not known; use 'default', 'profile' or 'static'.");
        }
    }

    private T Own<T>(T client) where T : IDisposable
    {
        _owned.Add(client);
        return client;
    }

    public void Dispose()
    {
        foreach (var client in _owned)
        {
            client.Dispose();
        }
    }
}
