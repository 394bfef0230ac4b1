using System.Net;
using Arcboard.Aws;
using Arcboard.Core.Cloud;
using Arcboard.Core.Configuration;
using Arcboard.Core.Fleet;
using static Arcboard.Adapters.Tests.Aws.AwsTestSupport;

namespace Arcboard.Adapters.Tests.Aws;

public sealed class AwsClientFactoryTests
{
    private const string RoleArn = "arn:aws:iam::111111111111:role/ArcForServer";

    private static HttpResponseMessage AssumeRoleOk() => FakeAws.Xml("""
        <AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult>
          <Credentials><AccessKeyId>ASIAASSUMED</AccessKeyId><SecretAccessKey>assumed-secret</SecretAccessKey><SessionToken>session-token</SessionToken><Expiration>2099-01-01T00:00:00Z</Expiration></Credentials>
          <AssumedRoleUser><AssumedRoleId>AROA:arcboard</AssumedRoleId><Arn>arn:aws:sts::111111111111:assumed-role/ArcForServer/arcboard</Arn></AssumedRoleUser>
        </AssumeRoleResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></AssumeRoleResponse>
        """);

    [Fact]
    public async Task An_account_with_a_role_is_called_with_the_assumed_credentials_from_the_configured_sts()
    {
        var fake = new FakeAws { Respond = call => call.Service == "sts" ? AssumeRoleOk() : FakeAws.Json("{}") };
        using var factory = Factory(fake, Options(RoleArn));

        var inventory = new Ec2SsmInventory(factory);
        await inventory.ListManagedNodesAsync(Scope, CancellationToken.None);
        await inventory.ListManagedNodesAsync(Scope with { Region = "us-west-2" }, CancellationToken.None);

        var assume = fake.CallsTo("AssumeRole").ShouldHaveSingleItem();
        assume.Request.RequestUri!.Host.ShouldBe("aws.test");
        assume.Form["RoleArn"].ShouldBe(RoleArn);
        assume.Form["RoleSessionName"].ShouldBe("arcboard");
        assume.Authorization.ShouldContain("Credential=AKIDEXAMPLE/");
        assume.Authorization.ShouldContain("/us-east-1/sts/aws4_request");
        foreach (var call in fake.CallsTo("DescribeInstanceInformation"))
        {
            call.Authorization.ShouldContain("Credential=ASIAASSUMED/");
            call.Request.Headers.GetValues("X-Amz-Security-Token").ShouldBe(["session-token"]);
        }
    }

    [Fact]
    public async Task A_refused_assume_role_is_a_permanent_sts_error_naming_the_account()
    {
        var fake = new FakeAws
        {
            Respond = call => call.Service == "sts"
                ? FakeAws.Xml("<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>not authorized to perform sts:AssumeRole</Message></Error><RequestId>r</RequestId></ErrorResponse>", HttpStatusCode.Forbidden)
                : FakeAws.Json("{}"),
        };
        using var factory = Factory(fake, Options(RoleArn));

        var ex = await Should.ThrowAsync<CloudException>(() => new Ec2SsmInventory(factory).ListManagedNodesAsync(Scope, CancellationToken.None));

        ex.IsTransient.ShouldBeFalse();
        ex.Message.ShouldContain("111111111111");
        ex.Message.ShouldContain("role");
        fake.CallsTo("DescribeInstanceInformation").ShouldBeEmpty();
    }

    [Fact]
    public async Task Static_secret_can_come_from_the_named_environment_variable()
    {
        var fake = new FakeAws { Respond = _ => FakeAws.Json("{}") };
        var options = Options() with { Credentials = new AwsCredentialOptions { Type = "static", AccessKeyId = "AKIDENV", SecretAccessKeyEnv = "MY_SECRET" } };
        using var factory = new AwsClientFactory(options, name => name == "MY_SECRET" ? "from-env" : null, fake.Factory);

        await new Ec2SsmInventory(factory).ListManagedNodesAsync(Scope, CancellationToken.None);

        fake.Calls.Single().Authorization.ShouldContain("Credential=AKIDENV/");
    }

    [Fact]
    public async Task A_missing_secret_variable_is_a_permanent_error_naming_the_variable()
    {
        var fake = new FakeAws();
        var options = Options() with { Credentials = new AwsCredentialOptions { Type = "static", AccessKeyId = "AKIDENV", SecretAccessKeyEnv = "MY_SECRET" } };
        using var factory = new AwsClientFactory(options, _ => null, fake.Factory);

        var ex = await Should.ThrowAsync<CloudException>(() => new Ec2SsmInventory(factory).ListManagedNodesAsync(Scope, CancellationToken.None));

        ex.IsTransient.ShouldBeFalse();
        ex.Message.ShouldContain("MY_SECRET");
        fake.Calls.ShouldBeEmpty();
    }

    [Fact]
    public void Clients_are_cached_per_scope()
    {
        using var factory = Factory(new FakeAws());

        factory.Ssm(Scope).ShouldBeSameAs(factory.Ssm(new AwsScope(Scope.AccountId, Scope.Region)));
        factory.Ssm(Scope).ShouldNotBeSameAs(factory.Ssm(Scope with { Region = "eu-west-1" }));
        factory.Ec2(Scope).ShouldBeSameAs(factory.Ec2(Scope));
    }
}
