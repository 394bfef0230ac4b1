using Amazon.Runtime;
using Amazon.SecurityToken;
using Amazon.SecurityToken.Model;

namespace Arcboard.Aws;

/// <summary>
/// Credentials of a role assumed through a given STS client, refreshed before they expire.
/// The SDK's <c>AssumeRoleAWSCredentials</c> builds its own STS client and so cannot follow a configured endpoint;
/// this one uses the client it is given, which the factory points wherever EC2 and SSM go.
/// </summary>
internal sealed class StsAssumeRoleCredentials(IAmazonSecurityTokenService sts, string roleArn, string sessionName) : RefreshingAWSCredentials
{
    // Chained role sessions last at most an hour; asking for exactly that is always accepted.
    private const int SessionSeconds = 3600;

    public string RoleArn { get; } = roleArn;

    protected override CredentialsRefreshState GenerateNewCredentials() =>
        GenerateNewCredentialsAsync().GetAwaiter().GetResult();

    protected override async Task<CredentialsRefreshState> GenerateNewCredentialsAsync()
    {
        var response = await sts.AssumeRoleAsync(new AssumeRoleRequest
        {
            RoleArn = RoleArn,
            RoleSessionName = sessionName,
            DurationSeconds = SessionSeconds,
        }).ConfigureAwait(false);

        var c = response.Credentials ?? throw new AmazonClientException($"STS AssumeRole for {RoleArn} returned no credentials.");
        var expiration = c.Expiration ?? DateTime.UtcNow.AddSeconds(SessionSeconds);
        return new CredentialsRefreshState(new ImmutableCredentials(c.AccessKeyId, c.SecretAccessKey, c.SessionToken), expiration.ToUniversalTime());
    }
}
