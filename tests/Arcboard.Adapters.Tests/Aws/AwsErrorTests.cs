using System.Net;
using Arcboard.Aws;
using Arcboard.Core.Cloud;
using Arcboard.Core.Fleet;
using static Arcboard.Adapters.Tests.Aws.AwsTestSupport;

namespace Arcboard.Adapters.Tests.Aws;

public sealed class AwsErrorTests
{
    [Fact]
    public async Task Ssm_throttling_is_transient_after_the_sdks_few_retries()
    {
        var fake = new FakeAws { Respond = _ => FakeAws.SsmError("ThrottlingException", "Rate exceeded") };
        using var factory = Factory(fake);

        var ex = await Should.ThrowAsync<CloudException>(() => new Ec2SsmInventory(factory).ListManagedNodesAsync(Scope, CancellationToken.None));

        ex.Service.ShouldBe("ssm");
        ex.Code.ShouldBe("ThrottlingException");
        ex.IsTransient.ShouldBeTrue();
        ex.IsThrottling.ShouldBeTrue();
        ex.StatusCode.ShouldBe(400);
        // Standard mode, MaxErrorRetry 2: one call and two retries, then the reconciler decides.
        fake.Calls.Count.ShouldBe(1 + AwsClientFactory.SdkMaxErrorRetry);
    }

    [Fact]
    public async Task Ec2_request_limit_is_transient_throttling()
    {
        var fake = new FakeAws { Respond = _ => FakeAws.Ec2Error("RequestLimitExceeded", "Request limit exceeded.", HttpStatusCode.ServiceUnavailable) };
        using var factory = Factory(fake);

        var ex = await Should.ThrowAsync<CloudException>(() => new Ec2SsmInventory(factory).ListInstancesAsync(Scope, CancellationToken.None));

        ex.Service.ShouldBe("ec2");
        ex.Code.ShouldBe("RequestLimitExceeded");
        ex.IsTransient.ShouldBeTrue();
        ex.IsThrottling.ShouldBeTrue();
    }

    [Fact]
    public async Task Invalid_instance_id_is_permanent_and_says_where_and_what_to_fix()
    {
        var fake = new FakeAws { Respond = _ => FakeAws.SsmError("InvalidInstanceId", "") };
        using var factory = Factory(fake);

        var ex = await Should.ThrowAsync<CloudException>(() => new SsmRunCommand(factory).SendAsync(Scope, Platform.Linux, ["i-1"], "true", TimeSpan.FromMinutes(1), CancellationToken.None));

        ex.Code.ShouldBe("InvalidInstanceId");
        ex.IsTransient.ShouldBeFalse();
        ex.Message.ShouldContain("111111111111");
        ex.Message.ShouldContain("us-east-1");
        ex.Message.ShouldContain("SSM agent");
        fake.Calls.Count.ShouldBe(1);
    }

    [Fact]
    public async Task Access_denied_is_permanent_and_names_the_permissions()
    {
        var fake = new FakeAws { Respond = _ => FakeAws.SsmError("AccessDeniedException", "User is not authorized to perform ssm:DescribeInstanceInformation") };
        using var factory = Factory(fake);

        var ex = await Should.ThrowAsync<CloudException>(() => new Ec2SsmInventory(factory).ListManagedNodesAsync(Scope, CancellationToken.None));

        ex.IsTransient.ShouldBeFalse();
        ex.Code.ShouldBe("AccessDeniedException");
        ex.Message.ShouldContain("ssm:DescribeInstanceInformation");
        ex.Message.ShouldContain("account 111111111111");
    }

    [Fact]
    public async Task Unrecognized_client_points_at_the_credentials_and_leaks_no_secret()
    {
        var fake = new FakeAws { Respond = _ => FakeAws.SsmError("UnrecognizedClientException", "The security token included in the request is invalid.") };
        using var factory = Factory(fake);

        var ex = await Should.ThrowAsync<CloudException>(() => new Ec2SsmInventory(factory).ListManagedNodesAsync(Scope, CancellationToken.None));

        ex.IsTransient.ShouldBeFalse();
        ex.Message.ShouldContain("aws.credentials");
        ex.Message.ShouldNotContain("base-secret");
    }

    [Fact]
    public async Task Server_errors_are_transient()
    {
        var fake = new FakeAws { Respond = _ => FakeAws.SsmError("InternalServerError", "oops", HttpStatusCode.InternalServerError) };
        using var factory = Factory(fake);

        var ex = await Should.ThrowAsync<CloudException>(() => new Ec2SsmInventory(factory).ListManagedNodesAsync(Scope, CancellationToken.None));

        ex.IsTransient.ShouldBeTrue();
        ex.StatusCode.ShouldBe(500);
    }

    [Fact]
    public async Task A_connection_failure_is_a_transient_network_error()
    {
        var fake = new FakeAws { Respond = _ => throw new HttpRequestException("Connection refused (aws.test:80)") };
        using var factory = Factory(fake);

        var ex = await Should.ThrowAsync<CloudException>(() => new Ec2SsmInventory(factory).ListInstancesAsync(Scope, CancellationToken.None));

        ex.IsTransient.ShouldBeTrue();
        ex.Code.ShouldBe("NetworkError");
        ex.Service.ShouldBe("ec2");
    }

    [Fact]
    public async Task Cancellation_asked_for_is_not_translated()
    {
        var fake = new FakeAws { Respond = _ => FakeAws.Json("{}") };
        using var factory = Factory(fake);
        using var cts = new CancellationTokenSource();
        await cts.CancelAsync();

        await Should.ThrowAsync<OperationCanceledException>(() => new Ec2SsmInventory(factory).ListManagedNodesAsync(Scope, cts.Token));
    }
}
