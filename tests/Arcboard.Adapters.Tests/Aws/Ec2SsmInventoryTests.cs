using Arcboard.Aws;
using Arcboard.Core.Fleet;
using static Arcboard.Adapters.Tests.Aws.AwsTestSupport;

namespace Arcboard.Adapters.Tests.Aws;

public sealed class Ec2SsmInventoryTests
{
    private const string Ns = "xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\"";

    [Fact]
    public async Task ListInstances_reads_every_page_and_maps_platform_state_and_tags()
    {
        var fake = new FakeAws();
        fake.Respond = call => call.Form["NextToken"] is null
            ? FakeAws.Xml($"""
                <DescribeInstancesResponse {Ns}><requestId>r1</requestId><reservationSet>
                  <item><reservationId>r-1</reservationId><ownerId>111111111111</ownerId><instancesSet>
                    <item><instanceId>i-0000000000000000a</instanceId><instanceState><code>16</code><name>running</name></instanceState>
                      <platform>windows</platform><platformDetails>Windows</platformDetails>
                      <tagSet><item><key>Name</key><value>web-1</value></item><item><key>env</key><value>prod</value></item></tagSet></item>
                    <item><instanceId>i-0000000000000000b</instanceId><instanceState><code>80</code><name>stopped</name></instanceState>
                      <platformDetails>Linux/UNIX</platformDetails></item>
                  </instancesSet></item>
                </reservationSet><nextToken>page2</nextToken></DescribeInstancesResponse>
                """)
            : FakeAws.Xml($"""
                <DescribeInstancesResponse {Ns}><requestId>r2</requestId><reservationSet>
                  <item><reservationId>r-2</reservationId><ownerId>111111111111</ownerId><instancesSet>
                    <item><instanceId>i-0000000000000000c</instanceId><instanceState><code>16</code><name>running</name></instanceState>
                      <platformDetails>Windows with SQL Server Standard</platformDetails></item>
                  </instancesSet></item>
                  <item><reservationId>r-3</reservationId><ownerId>111111111111</ownerId></item>
                </reservationSet></DescribeInstancesResponse>
                """);

        using var factory = Factory(fake);
        var instances = await new Ec2SsmInventory(factory).ListInstancesAsync(Scope, CancellationToken.None);

        instances.Select(i => i.Key.InstanceId).ShouldBe(["i-0000000000000000a", "i-0000000000000000b", "i-0000000000000000c"]);
        instances[0].Key.ShouldBe(new InstanceKey(Scope.AccountId, Scope.Region, "i-0000000000000000a"));
        instances[0].Platform.ShouldBe(Platform.Windows);
        instances[0].IsRunning.ShouldBeTrue();
        instances[0].Tags.ShouldBe(new Dictionary<string, string> { ["Name"] = "web-1", ["env"] = "prod" });
        instances[1].Platform.ShouldBe(Platform.Linux);
        instances[1].State.ShouldBe("stopped");
        instances[1].Tags.ShouldBeEmpty();
        instances[2].Platform.ShouldBe(Platform.Windows);
        var calls = fake.CallsTo("DescribeInstances").ToList();
        calls.Count.ShouldBe(2);
        calls[1].Form["NextToken"].ShouldBe("page2");
    }

    [Fact]
    public async Task ListInstances_of_an_empty_region_is_empty_not_a_null_reference()
    {
        var fake = new FakeAws { Respond = _ => FakeAws.Xml($"<DescribeInstancesResponse {Ns}><requestId>r</requestId><reservationSet/></DescribeInstancesResponse>") };
        using var factory = Factory(fake);

        (await new Ec2SsmInventory(factory).ListInstancesAsync(Scope, CancellationToken.None)).ShouldBeEmpty();
    }

    [Fact]
    public async Task ListManagedNodes_pages_fifty_at_a_time()
    {
        var fake = new FakeAws();
        fake.Respond = call => call.Json["NextToken"] is null
            ? FakeAws.Json("""{"InstanceInformationList":[{"InstanceId":"i-1","PingStatus":"Online","PlatformType":"Linux","ResourceType":"EC2Instance"}],"NextToken":"t2"}""")
            : FakeAws.Json("""{"InstanceInformationList":[{"InstanceId":"i-2","PingStatus":"ConnectionLost","PlatformType":"Windows"}]}""");
        using var factory = Factory(fake);

        var nodes = await new Ec2SsmInventory(factory).ListManagedNodesAsync(Scope, CancellationToken.None);

        nodes.ShouldBe([new SsmNode("i-1", "Online", "Linux"), new SsmNode("i-2", "ConnectionLost", "Windows")]);
        var calls = fake.CallsTo("DescribeInstanceInformation").ToList();
        calls.Count.ShouldBe(2);
        calls[0].Json["MaxResults"]!.GetValue<int>().ShouldBe(50);
        calls[1].Json["NextToken"]!.GetValue<string>().ShouldBe("t2");
    }

    [Fact]
    public async Task ListManagedNodes_with_no_list_in_the_response_is_empty()
    {
        var fake = new FakeAws { Respond = _ => FakeAws.Json("{}") };
        using var factory = Factory(fake);

        (await new Ec2SsmInventory(factory).ListManagedNodesAsync(Scope, CancellationToken.None)).ShouldBeEmpty();
    }

    [Fact]
    public async Task Requests_are_signed_for_the_scope_region_at_the_configured_endpoint()
    {
        var fake = new FakeAws { Respond = _ => FakeAws.Json("{}") };
        using var factory = Factory(fake);

        await new Ec2SsmInventory(factory).ListManagedNodesAsync(new AwsScope("111111111111", "eu-west-1"), CancellationToken.None);

        var call = fake.Calls.Single();
        call.Request.RequestUri!.Host.ShouldBe("aws.test");
        call.Authorization.ShouldContain("Credential=AKIDEXAMPLE/");
        call.Authorization.ShouldContain("/eu-west-1/ssm/aws4_request");
    }
}
