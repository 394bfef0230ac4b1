using Arcboard.Aws;
using Arcboard.Core.Cloud;
using Arcboard.Core.Fleet;
using static Arcboard.Adapters.Tests.Aws.AwsTestSupport;

namespace Arcboard.Adapters.Tests.Aws;

public sealed class SsmRunCommandTests
{
    [Theory]
    [InlineData(Platform.Linux, "AWS-RunShellScript")]
    [InlineData(Platform.Windows, "AWS-RunPowerShellScript")]
    public async Task Send_names_the_platform_document_the_script_and_the_timeout(Platform platform, string document)
    {
        var fake = new FakeAws { Respond = _ => FakeAws.Json("""{"Command":{"CommandId":"cmd-1","Status":"Pending"}}""") };
        using var factory = Factory(fake);

        var id = await new SsmRunCommand(factory).SendAsync(Scope, platform, ["i-1", "i-2"], "echo 'hi'\nexit 0", TimeSpan.FromMinutes(10), CancellationToken.None);

        id.ShouldBe("cmd-1");
        var body = fake.CallsTo("SendCommand").Single().Json;
        body["DocumentName"]!.GetValue<string>().ShouldBe(document);
        body["InstanceIds"]!.AsArray().Select(n => n!.GetValue<string>()).ShouldBe(["i-1", "i-2"]);
        body["Parameters"]!["commands"]!.AsArray().Select(n => n!.GetValue<string>()).ShouldBe(["echo 'hi'\nexit 0"]);
        body["Parameters"]!["executionTimeout"]!.AsArray().Select(n => n!.GetValue<string>()).ShouldBe(["600"]);
        body["TimeoutSeconds"]!.GetValue<int>().ShouldBe(60);
    }

    [Theory]
    [InlineData(90, 90)]
    [InlineData(5, 30)]
    public async Task Send_bounds_delivery_so_a_command_not_started_in_time_never_runs(int requestedSeconds, int sentSeconds)
    {
        var fake = new FakeAws { Respond = _ => FakeAws.Json("""{"Command":{"CommandId":"cmd-1","Status":"Pending"}}""") };
        using var factory = Factory(fake);

        await new SsmRunCommand(factory, TimeSpan.FromSeconds(requestedSeconds)).SendAsync(Scope, Platform.Linux, ["i-1"], "true", TimeSpan.FromMinutes(1), CancellationToken.None);

        fake.CallsTo("SendCommand").Single().Json["TimeoutSeconds"]!.GetValue<int>().ShouldBe(sentSeconds);
    }

    [Fact]
    public async Task Send_refuses_more_than_fifty_instances_without_calling_AWS()
    {
        var fake = new FakeAws();
        using var factory = Factory(fake);
        var ids = Enumerable.Range(0, 51).Select(i => $"i-{i:x8}").ToList();

        await Should.ThrowAsync<ArgumentOutOfRangeException>(() => new SsmRunCommand(factory).SendAsync(Scope, Platform.Linux, ids, "true", TimeSpan.FromMinutes(1), CancellationToken.None));
        fake.Calls.ShouldBeEmpty();
    }

    [Fact]
    public async Task ListInvocations_reads_every_page_and_maps_plugin_output_and_detailed_status()
    {
        var fake = new FakeAws();
        fake.Respond = call => call.Json["NextToken"] is null
            ? FakeAws.Json("""
                {"CommandInvocations":[
                  {"CommandId":"cmd-1","InstanceId":"i-1","Status":"Success","StatusDetails":"Success","CommandPlugins":[{"Name":"aws:runShellScript","Status":"Success","ResponseCode":0,"Output":"MIIBCgKCAQEA\n"}]},
                  {"CommandId":"cmd-1","InstanceId":"i-2","Status":"Failed","StatusDetails":"Execution Timed Out","CommandPlugins":[{"Name":"aws:runShellScript","Status":"TimedOut","ResponseCode":-1,"Output":""}]}
                ],"NextToken":"n2"}
                """)
            : FakeAws.Json("""
                {"CommandInvocations":[
                  {"CommandId":"cmd-1","InstanceId":"i-3","Status":"Pending","StatusDetails":"Pending"},
                  {"CommandId":"cmd-1","InstanceId":"i-4","Status":"Failed","StatusDetails":"Undeliverable","CommandPlugins":[]},
                  {"CommandId":"cmd-1","InstanceId":"i-5","Status":"Failed","StatusDetails":"Failed","CommandPlugins":[{"ResponseCode":42,"Output":"AZCM0042: boom"}]}
                ]}
                """);
        using var factory = Factory(fake);

        var invocations = await new SsmRunCommand(factory).ListInvocationsAsync(Scope, "cmd-1", CancellationToken.None);

        invocations.ShouldBe([
            new CommandInvocation("i-1", CommandStatus.Success, 0, "MIIBCgKCAQEA\n", ""),
            new CommandInvocation("i-2", CommandStatus.TimedOut, -1, "", ""),
            new CommandInvocation("i-3", CommandStatus.Pending, -1, "", ""),
            new CommandInvocation("i-4", CommandStatus.Undeliverable, -1, "", ""),
            new CommandInvocation("i-5", CommandStatus.Failed, 42, "AZCM0042: boom", ""),
        ]);
        var calls = fake.CallsTo("ListCommandInvocations").ToList();
        calls.Count.ShouldBe(2);
        calls[0].Json["Details"]!.GetValue<bool>().ShouldBeTrue();
        calls[0].Json["CommandId"]!.GetValue<string>().ShouldBe("cmd-1");
        calls[1].Json["NextToken"]!.GetValue<string>().ShouldBe("n2");
    }

    [Fact]
    public async Task GetInvocation_returns_full_stdout_and_stderr()
    {
        var fake = new FakeAws
        {
            Respond = _ => FakeAws.Json("""{"CommandId":"cmd-1","InstanceId":"i-1","Status":"Failed","StatusDetails":"Failed","ResponseCode":104,"StandardOutputContent":"out","StandardErrorContent":"AZCM0104: private key not found"}"""),
        };
        using var factory = Factory(fake);

        var invocation = await new SsmRunCommand(factory).GetInvocationAsync(Scope, "cmd-1", "i-1", CancellationToken.None);

        invocation.ShouldBe(new CommandInvocation("i-1", CommandStatus.Failed, 104, "out", "AZCM0104: private key not found"));
    }

    [Fact]
    public async Task GetInvocation_that_does_not_exist_yet_is_null()
    {
        var fake = new FakeAws { Respond = _ => FakeAws.SsmError("InvocationDoesNotExist", "") };
        using var factory = Factory(fake);

        (await new SsmRunCommand(factory).GetInvocationAsync(Scope, "cmd-1", "i-1", CancellationToken.None)).ShouldBeNull();
    }

    [Theory]
    [InlineData(null, "Delivery Timed Out", CommandStatus.TimedOut)]
    [InlineData("TimedOut", "Delivery Timed Out", CommandStatus.TimedOut)]
    [InlineData("Failed", "Execution Timed Out", CommandStatus.TimedOut)]
    [InlineData("Failed", "Terminated", CommandStatus.Terminated)]
    [InlineData("Cancelled", "Cancelled", CommandStatus.Cancelled)]
    [InlineData("Cancelling", "Cancelling", CommandStatus.Cancelling)]
    [InlineData("Delayed", "Delayed", CommandStatus.Delayed)]
    [InlineData("InProgress", "InProgress", CommandStatus.InProgress)]
    [InlineData("Failed", "Access Denied", CommandStatus.Failed)]
    public void Status_mapping_prefers_the_detailed_status(string? status, string details, CommandStatus expected) =>
        SsmRunCommand.MapStatus(status, details).ShouldBe(expected);
}
