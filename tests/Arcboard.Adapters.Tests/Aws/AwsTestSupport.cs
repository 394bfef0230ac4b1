using Arcboard.Aws;
using Arcboard.Core.Configuration;
using Arcboard.Core.Fleet;

namespace Arcboard.Adapters.Tests.Aws;

internal static class AwsTestSupport
{
    public static readonly AwsScope Scope = new("111111111111", "us-east-1");

    public static AwsOptions Options(string? roleArn = null) => new()
    {
        Endpoint = "http://aws.test",
        Credentials = new AwsCredentialOptions { Type = "static", AccessKeyId = "AKIDEXAMPLE", SecretAccessKey = "base-secret" },
        Accounts = [new AwsAccountOptions { AccountId = Scope.AccountId, Regions = [Scope.Region], RoleArn = roleArn }],
    };

    public static AwsClientFactory Factory(FakeAws fake, AwsOptions? options = null) => new(options ?? Options(), httpClientFactory: fake.Factory);
}
