using System.Text.Json.Nodes;
using Amazon.SimpleSystemsManagement.Model;
using Arcboard.Sandbox.Tests.Hosting;

namespace Arcboard.Sandbox.Tests.Aws;

/// <summary>The sandbox notices a client that sends to an instance again before the earlier invocation there ended.</summary>
public sealed class CommandOverlapTests(SandboxFixture sandbox) : IClassFixture<SandboxFixture>
{
    [Fact]
    public async Task A_command_sent_over_a_running_invocation_is_recorded_and_one_sent_after_it_ended_is_not()
    {
        const string instance = "i-00000001";
        using var ssm = sandbox.Ssm();
        var slow = await ssm.SendCommandAsync(new SendCommandRequest
        {
            DocumentName = "AWS-RunShellScript",
            InstanceIds = [instance],
            Parameters = new() { ["commands"] = ["sleep 2"] },
        });
        var overlapping = await ssm.SendCommandAsync(new SendCommandRequest
        {
            DocumentName = "AWS-RunShellScript",
            InstanceIds = [instance, "i-00000002"],
            Parameters = new() { ["commands"] = ["true"] },
        });

        var overlap = sandbox.Host.CommandOverlaps.ShouldHaveSingleItem();
        overlap.InstanceId.ShouldBe(instance);
        overlap.EarlierCommandId.ShouldBe(slow.Command.CommandId);
        overlap.EarlierStatus.ShouldBeOneOf("Pending", "InProgress");
        overlap.NewCommandId.ShouldBe(overlapping.Command.CommandId);

        await AwsSdkTests.WaitAsync(ssm, slow.Command.CommandId, instance);
        await AwsSdkTests.WaitAsync(ssm, overlapping.Command.CommandId, instance);
        await ssm.SendCommandAsync(new SendCommandRequest
        {
            DocumentName = "AWS-RunShellScript",
            InstanceIds = [instance],
            Parameters = new() { ["commands"] = ["true"] },
        });
        sandbox.Host.CommandOverlaps.Count.ShouldBe(1);

        using var http = new HttpClient();
        var listed = JsonNode.Parse(await http.GetStringAsync(sandbox.Endpoints.AdminUrl + "/commands/overlaps"))!.AsArray();
        listed.Count.ShouldBe(1);
        listed[0]!["earlierCommandId"]!.GetValue<string>().ShouldBe(slow.Command.CommandId);
    }
}
