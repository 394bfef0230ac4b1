using Arcboard.Aws;
using Arcboard.Core.Cloud;
using Arcboard.Core.Fleet;
using static Arcboard.Adapters.Tests.Integration.SandboxFixture;

namespace Arcboard.Adapters.Tests.Integration;

[Collection(SandboxCollection.Name)]
[Trait("Category", "Integration")]
public sealed class AwsAgainstSandboxTests(SandboxFixture sandbox)
{
    private static readonly AwsScope ScopeA = new(AccountA, "us-east-1");

    [Fact]
    public async Task Inventory_lists_every_instance_and_every_managed_node_across_pages()
    {
        using var factory = new AwsClientFactory(sandbox.AwsOptions());
        var inventory = new Ec2SsmInventory(factory);

        var instances = await inventory.ListInstancesAsync(ScopeA, CancellationToken.None);
        var nodes = await inventory.ListManagedNodesAsync(ScopeA, CancellationToken.None);

        instances.Count.ShouldBe(RunningLinuxInA + 2);
        instances.ShouldAllBe(i => i.Key.AccountId == AccountA && i.Key.Region == "us-east-1");
        instances.Single(i => i.Key.InstanceId == "i-00000000000000f01").Platform.ShouldBe(Platform.Windows);
        instances.Single(i => i.Key.InstanceId == "i-00000000000000f02").State.ShouldBe("stopped");
        instances.Single(i => i.Key.InstanceId == $"i-{1:x17}").Tags["Name"].ShouldBe("web-0");
        // More than one page of 50: the stopped instance has no SSM agent.
        nodes.Count.ShouldBe(RunningLinuxInA + 1);
        nodes.ShouldAllBe(n => n.IsOnline);
        nodes.Single(n => n.InstanceId == "i-00000000000000f01").PlatformType.ShouldBe("Windows");
    }

    [Fact]
    public async Task Another_region_of_the_same_account_has_its_own_instances()
    {
        using var factory = new AwsClientFactory(sandbox.AwsOptions());

        var instances = await new Ec2SsmInventory(factory).ListInstancesAsync(new AwsScope(AccountA, "eu-west-1"), CancellationToken.None);

        instances.Select(i => i.Key.InstanceId).ShouldBe(["i-00000000000000e01"]);
    }

    [Fact]
    public async Task A_member_account_is_reached_through_assume_role()
    {
        using var factory = new AwsClientFactory(sandbox.AwsOptions());

        var instances = await new Ec2SsmInventory(factory).ListInstancesAsync(new AwsScope(AccountB, "us-west-2"), CancellationToken.None);

        var only = instances.ShouldHaveSingleItem();
        only.Key.ShouldBe(new InstanceKey(AccountB, "us-west-2", "i-00000000000000b01"));
        only.Tags["team"].ShouldBe("b");
    }

    [Fact]
    public async Task Send_command_then_list_and_get_invocations_return_what_the_script_printed()
    {
        using var factory = new AwsClientFactory(sandbox.AwsOptions());
        var runCommand = new SsmRunCommand(factory);
        string[] ids = [$"i-{1:x17}", $"i-{2:x17}"];

        var commandId = await runCommand.SendAsync(ScopeA, Platform.Linux, ids, "echo \"hello from $AWS_SSM_INSTANCE_ID\"\necho oops >&2\nexit 3", TimeSpan.FromMinutes(1), CancellationToken.None);

        // Right after sending the invocation may not exist yet: that is null, not an error.
        _ = await runCommand.GetInvocationAsync(ScopeA, commandId, ids[0], CancellationToken.None);
        IReadOnlyList<CommandInvocation> invocations = [];
        for (var i = 0; i < 150; i++)
        {
            invocations = await runCommand.ListInvocationsAsync(ScopeA, commandId, CancellationToken.None);
            if (invocations.Count == ids.Length && invocations.All(v => v.IsFinished))
            {
                break;
            }

            await Task.Delay(100);
        }

        invocations.Select(v => v.InstanceId).Order().ShouldBe(ids);
        foreach (var invocation in invocations)
        {
            invocation.Status.ShouldBe(CommandStatus.Failed);
            invocation.ResponseCode.ShouldBe(3);
            invocation.StandardOutput.ShouldContain($"hello from {invocation.InstanceId}");
        }

        var full = (await runCommand.GetInvocationAsync(ScopeA, commandId, ids[1], CancellationToken.None)).ShouldNotBeNull();
        full.StandardOutput.Trim().ShouldBe($"hello from {ids[1]}");
        // Like the real agent, the sandbox appends its own line about the exit status.
        full.StandardError.ShouldStartWith("oops");
        full.ResponseCode.ShouldBe(3);
    }

    [Fact]
    public async Task A_windows_instance_runs_its_script_in_powershell()
    {
        using var factory = new AwsClientFactory(sandbox.AwsOptions());
        var runCommand = new SsmRunCommand(factory);
        const string id = "i-00000000000000f01";

        var commandId = await runCommand.SendAsync(ScopeA, Platform.Windows, [id], "Write-Output \"ps $($env:AWS_SSM_INSTANCE_ID)\"", TimeSpan.FromMinutes(1), CancellationToken.None);

        CommandInvocation? invocation = null;
        for (var i = 0; i < 300 && invocation?.IsFinished != true; i++)
        {
            await Task.Delay(100);
            invocation = await runCommand.GetInvocationAsync(ScopeA, commandId, id, CancellationToken.None);
        }

        invocation.ShouldNotBeNull().Status.ShouldBe(CommandStatus.Success);
        invocation.StandardOutput.Trim().ShouldBe($"ps {id}");
    }

    [Fact]
    public async Task Sending_to_a_stopped_instance_is_a_permanent_invalid_instance_id()
    {
        using var factory = new AwsClientFactory(sandbox.AwsOptions());

        var ex = await Should.ThrowAsync<CloudException>(() => new SsmRunCommand(factory).SendAsync(ScopeA, Platform.Linux, ["i-00000000000000f02"], "true", TimeSpan.FromMinutes(1), CancellationToken.None));

        ex.Code.ShouldBe("InvalidInstanceId");
        ex.IsTransient.ShouldBeFalse();
        ex.Message.ShouldContain(AccountA);
    }

    [Fact]
    public async Task A_wrong_secret_is_refused_permanently_without_leaking_it()
    {
        using var factory = new AwsClientFactory(sandbox.AwsOptions(secret: "definitely-not-the-secret-0000000000000"));

        var ex = await Should.ThrowAsync<CloudException>(() => new Ec2SsmInventory(factory).ListManagedNodesAsync(ScopeA, CancellationToken.None));

        ex.IsTransient.ShouldBeFalse();
        ex.Message.ShouldContain("aws.credentials");
        ex.Message.ShouldNotContain("definitely-not-the-secret");
    }
}
