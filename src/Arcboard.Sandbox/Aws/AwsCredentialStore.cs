using System.Collections.Concurrent;
using System.Security.Cryptography;

namespace Arcboard.Sandbox.Aws;

/// <summary>Who signed a request: the base IAM user of the first account, or a role session issued by AssumeRole.</summary>
public sealed record AwsPrincipal(
    string AccessKeyId,
    string SecretAccessKey,
    string? SessionToken,
    string AccountId,
    string Arn,
    string UserId,
    DateTimeOffset? Expiration)
{
    public bool IsRoleSession => SessionToken is not null;

    // Keep the secret and token out of logs and test output.
    public override string ToString() => $"{Arn} ({AccessKeyId})";
}

/// <summary>The sandbox's access keys: one long-lived key acting in the first account, plus sessions from AssumeRole.</summary>
public sealed class AwsCredentialStore
{
    private readonly ConcurrentDictionary<string, AwsPrincipal> _keys = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;

    public AwsCredentialStore(string accessKeyId, string secretAccessKey, string accountId, TimeProvider time)
    {
        _time = time;
        Base = new AwsPrincipal(accessKeyId, secretAccessKey, null, accountId, $"arn:aws:iam::{accountId}:user/arcboard-sandbox", "AIDA" + RandomUpper(17), null);
        _keys[accessKeyId] = Base;
    }

    public AwsPrincipal Base { get; }

    public AwsPrincipal? Find(string accessKeyId) => _keys.GetValueOrDefault(accessKeyId);

    public bool IsExpired(AwsPrincipal principal) => principal.Expiration is { } expiry && _time.GetUtcNow() >= expiry;

    public AwsPrincipal IssueRoleSession(string accountId, string roleName, string sessionName, TimeSpan duration)
    {
        var roleId = "AROA" + RandomUpper(17);
        var principal = new AwsPrincipal(
            "ASIA" + RandomUpper(16),
            RandomSecret(40),
            Convert.ToBase64String(RandomNumberGenerator.GetBytes(96)),
            accountId,
            $"arn:aws:sts::{accountId}:assumed-role/{roleName}/{sessionName}",
            $"{roleId}:{sessionName}",
            // Whole seconds, as STS returns them, so an expiry compared on either side agrees.
            DateTimeOffset.FromUnixTimeSeconds((_time.GetUtcNow() + duration).ToUnixTimeSeconds()));
        _keys[principal.AccessKeyId] = principal;
        return principal;
    }

    public static string NewAccessKeyId() => "AKIA" + RandomUpper(16);

    public static string RandomSecret(int length)
    {
        const string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        return RandomNumberGenerator.GetString(alphabet, length);
    }

    private static string RandomUpper(int length) => RandomNumberGenerator.GetString("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", length);
}
