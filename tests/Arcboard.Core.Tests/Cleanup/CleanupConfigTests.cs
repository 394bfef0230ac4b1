using Arcboard.Core.Cleanup;
using Arcboard.Core.Configuration;
using Arcboard.Core.Fleet;

namespace Arcboard.Core.Tests.Cleanup;

public sealed class CleanupConfigTests
{
    private static string Config(string cleanup) => $$"""
        {
          "aws": { "accounts": [ { "accountId": "123456789012", "regions": ["us-east-1"] } ] },
          "azure": { "tenantId": "72f988bf-86f1-41af-91ab-2d7cd011db47", "subscriptionId": "00000000-0000-0000-0000-000000000001",
                     "resourceGroup": "arc-{accountId}-{location}" }{{cleanup}}
        }
        """;

    private static ArcboardOptions Parse(string json) => ConfigLoader.Parse(json, Path.GetTempPath(), "test.json", _ => null);

    [Fact]
    public void Without_a_cleanup_section_terminated_instances_lose_their_machine_and_stopped_ones_keep_it()
    {
        var options = Parse(Config(""));

        options.Cleanup.DeleteTerminated.ShouldBeTrue();
        options.Cleanup.DeleteStopped.ShouldBeFalse();
    }

    [Fact]
    public void The_cleanup_keys_are_read_and_the_policy_lists_the_configured_group()
    {
        var options = Parse(Config(""", "cleanup": { "deleteTerminated": false, "deleteStopped": true }"""));

        var policy = CleanupPolicies.From(options);

        (policy.DeleteTerminated, policy.DeleteStopped).ShouldBe((false, true));
        policy.ResourceGroupOf(new AwsScope("123456789012", "us-east-1")).ShouldBe("arc-123456789012-eastus");
    }

    [Fact]
    public void Unknown_or_mistyped_cleanup_keys_are_errors_naming_the_key()
    {
        var failure = Should.Throw<ConfigException>(() => Parse(Config(""", "cleanup": { "deleteStoped": true, "deleteTerminated": "yes" }""")));

        failure.Problems.ShouldContain(p => p.Path == "cleanup.deleteStoped");
        failure.Problems.ShouldContain(p => p.Path == "cleanup.deleteTerminated" && p.Message.Contains("true or false", StringComparison.Ordinal));
    }
}
