using Amazon.EC2;
using Amazon.EC2.Model;
using Amazon.Runtime;
using Amazon.SecurityToken;
using Amazon.SecurityToken.Model;
using Amazon.SimpleSystemsManagement;
using Amazon.SimpleSystemsManagement.Model;
using Arcboard.Sandbox.Tests.Hosting;
using Filter = Amazon.EC2.Model.Filter;

namespace Arcboard.Sandbox.Tests.Aws;

/// <summary>The sandbox through the real AWS SDK for .NET v4 clients, as the connector uses them.</summary>
public sealed class AwsSdkTests(SandboxFixture sandbox) : IClassFixture<SandboxFixture>
{
    [Fact]
    public async Task Sts_get_caller_identity_names_the_first_account()
    {
        using var sts = sandbox.Sts();
        var identity = await sts.GetCallerIdentityAsync(new GetCallerIdentityRequest());
        identity.Account.ShouldBe(SandboxFixture.Account1);
        identity.Arn.ShouldStartWith($"arn:aws:iam::{SandboxFixture.Account1}:user/");
        sandbox.Host.Stats.Count("sts", "GetCallerIdentity").ShouldBeGreaterThan(0);
    }

    [Fact]
    public async Task A_wrong_secret_is_refused_in_each_protocols_own_terms()
    {
        var wrong = sandbox.Credentials("not-the-secret-not-the-secret-not-the-se");
        using var ssm = sandbox.Ssm(wrong);
        var ssmError = await Should.ThrowAsync<AmazonSimpleSystemsManagementException>(() => ssm.DescribeInstanceInformationAsync(new DescribeInstanceInformationRequest()));
        ssmError.ErrorCode.ShouldBe("InvalidSignatureException");

        using var ec2 = sandbox.Ec2(wrong);
        var ec2Error = await Should.ThrowAsync<AmazonEC2Exception>(() => ec2.DescribeInstancesAsync(new DescribeInstancesRequest()));
        ec2Error.ErrorCode.ShouldBe("SignatureDoesNotMatch");
        ec2Error.StatusCode.ShouldBe(System.Net.HttpStatusCode.Forbidden);

        using var sts = sandbox.Sts(wrong);
        (await Should.ThrowAsync<AmazonSecurityTokenServiceException>(() => sts.GetCallerIdentityAsync(new GetCallerIdentityRequest()))).ErrorCode.ShouldBe("SignatureDoesNotMatch");
    }

    [Fact]
    public async Task An_unknown_key_is_refused()
    {
        var unknown = new BasicAWSCredentials("AKIAUNKNOWNUNKNOWN00", sandbox.Endpoints.SecretAccessKey);
        using var ssm = sandbox.Ssm(unknown);
        (await Should.ThrowAsync<AmazonSimpleSystemsManagementException>(() => ssm.DescribeInstanceInformationAsync(new DescribeInstanceInformationRequest()))).ErrorCode.ShouldBe("UnrecognizedClientException");
        using var ec2 = sandbox.Ec2(unknown);
        (await Should.ThrowAsync<AmazonEC2Exception>(() => ec2.DescribeInstancesAsync(new DescribeInstancesRequest()))).ErrorCode.ShouldBe("AuthFailure");
        using var sts = sandbox.Sts(unknown);
        (await Should.ThrowAsync<AmazonSecurityTokenServiceException>(() => sts.GetCallerIdentityAsync(new GetCallerIdentityRequest()))).ErrorCode.ShouldBe("InvalidClientTokenId");
    }

    [Fact]
    public async Task Assume_role_reaches_the_second_account_and_only_accounts_of_the_fleet()
    {
        using var sts = sandbox.Sts();
        var assumed = await sts.AssumeRoleAsync(new AssumeRoleRequest { RoleArn = $"arn:aws:iam::{SandboxFixture.Account2}:role/ArcboardOnboarding", RoleSessionName = "arcboard" });
        assumed.Credentials.SessionToken.ShouldNotBeNullOrEmpty();
        assumed.AssumedRoleUser.Arn.ShouldBe($"arn:aws:sts::{SandboxFixture.Account2}:assumed-role/ArcboardOnboarding/arcboard");

        var session = new SessionAWSCredentials(assumed.Credentials.AccessKeyId, assumed.Credentials.SecretAccessKey, assumed.Credentials.SessionToken);
        using var ec2 = sandbox.Ec2(session, "us-west-2");
        var instances = await ec2.DescribeInstancesAsync(new DescribeInstancesRequest());
        instances.Reservations.SelectMany(r => r.Instances).Select(i => i.InstanceId).ShouldBe([SandboxFixture.OtherAccount]);
        using var asRole = sandbox.Sts(session);
        (await asRole.GetCallerIdentityAsync(new GetCallerIdentityRequest())).Account.ShouldBe(SandboxFixture.Account2);

        // The session key without its token is not a valid credential.
        using var tokenless = sandbox.Sts(new BasicAWSCredentials(assumed.Credentials.AccessKeyId, assumed.Credentials.SecretAccessKey));
        (await Should.ThrowAsync<AmazonSecurityTokenServiceException>(() => tokenless.GetCallerIdentityAsync(new GetCallerIdentityRequest()))).ErrorCode.ShouldBe("InvalidClientTokenId");

        var denied = await Should.ThrowAsync<AmazonSecurityTokenServiceException>(() => sts.AssumeRoleAsync(new AssumeRoleRequest { RoleArn = "arn:aws:iam::333333333333:role/ArcboardOnboarding", RoleSessionName = "arcboard" }));
        denied.ErrorCode.ShouldBe("AccessDenied");
    }

    [Fact]
    public async Task Describe_instances_shows_the_fields_the_connector_reads()
    {
        using var ec2 = sandbox.Ec2();
        var response = await ec2.DescribeInstancesAsync(new DescribeInstancesRequest { InstanceIds = [SandboxFixture.Windows, SandboxFixture.Linux, SandboxFixture.Stopped] });
        var instances = response.Reservations.SelectMany(r => r.Instances).ToDictionary(i => i.InstanceId);
        var windows = instances[SandboxFixture.Windows];
        windows.Platform.ShouldBe(PlatformValues.Windows); // the wire says "windows"; the SDK maps it to its constant
        windows.PlatformDetails.ShouldBe("Windows");
        windows.State.Name.Value.ShouldBe("running");
        windows.State.Code.ShouldBe(16);
        windows.Tags.ShouldContain(t => t.Key == "Name" && t.Value == "win-1");
        windows.Placement.AvailabilityZone.ShouldStartWith("us-east-1");
        windows.PrivateDnsName.ShouldEndWith(".ec2.internal");
        windows.LaunchTime.ShouldNotBeNull();
        var linux = instances[SandboxFixture.Linux];
        linux.Platform.ShouldBeNull();
        linux.PlatformDetails.ShouldBe("Linux/UNIX");
        instances[SandboxFixture.Stopped].State.Name.Value.ShouldBe("stopped");
        response.Reservations[0].OwnerId.ShouldBe(SandboxFixture.Account1);
    }

    [Fact]
    public async Task Describe_instances_filters_and_pages()
    {
        using var ec2 = sandbox.Ec2();
        var seen = new List<string>();
        string? token = null;
        var pages = 0;
        do
        {
            var page = await ec2.DescribeInstancesAsync(new DescribeInstancesRequest { MaxResults = 5, NextToken = token });
            var ids = page.Reservations.SelectMany(r => r.Instances).Select(i => i.InstanceId).ToList();
            ids.Count.ShouldBeLessThanOrEqualTo(5);
            seen.AddRange(ids);
            token = page.NextToken;
            pages++;
        }
        while (token is not null);

        pages.ShouldBe((sandbox.Account1UsEast1Count + 4) / 5);
        seen.Distinct().Count().ShouldBe(sandbox.Account1UsEast1Count);

        var running = await ec2.DescribeInstancesAsync(new DescribeInstancesRequest { Filters = [new Filter("instance-state-name", ["running"]), new Filter("tag:env", ["prod"])] });
        running.Reservations.SelectMany(r => r.Instances).Select(i => i.InstanceId).Order().ShouldBe(new[] { SandboxFixture.Linux, SandboxFixture.Windows }.Order());

        (await Should.ThrowAsync<AmazonEC2Exception>(() => ec2.DescribeInstancesAsync(new DescribeInstancesRequest { MaxResults = 4 }))).ErrorCode.ShouldBe("InvalidParameterValue");
        (await Should.ThrowAsync<AmazonEC2Exception>(() => ec2.DescribeInstancesAsync(new DescribeInstancesRequest { InstanceIds = ["i-0123456789abcdef0"] }))).ErrorCode.ShouldBe("InvalidInstanceID.NotFound");

        var regions = await ec2.DescribeRegionsAsync(new DescribeRegionsRequest());
        regions.Regions.Select(r => r.RegionName).ShouldBe(["us-east-1", "eu-west-1"]);
    }

    [Fact]
    public async Task Describe_instance_information_lists_managed_nodes_in_pages()
    {
        using var ssm = sandbox.Ssm();
        var nodes = new List<InstanceInformation>();
        string? token = null;
        do
        {
            var page = await ssm.DescribeInstanceInformationAsync(new DescribeInstanceInformationRequest { MaxResults = 5, NextToken = token });
            page.InstanceInformationList.Count.ShouldBeLessThanOrEqualTo(5);
            nodes.AddRange(page.InstanceInformationList);
            token = page.NextToken;
        }
        while (token is not null);

        var byId = nodes.ToDictionary(n => n.InstanceId);
        byId.ShouldNotContainKey(SandboxFixture.Stopped);
        byId.ShouldNotContainKey(SandboxFixture.NoSsm);
        byId[SandboxFixture.Offline].PingStatus.Value.ShouldBe("ConnectionLost");
        byId[SandboxFixture.Linux].PingStatus.Value.ShouldBe("Online");
        byId[SandboxFixture.Linux].PlatformType.Value.ShouldBe("Linux");
        byId[SandboxFixture.Windows].PlatformType.Value.ShouldBe("Windows");
        byId[SandboxFixture.Linux].ResourceType.Value.ShouldBe("EC2Instance");
        nodes.Count.ShouldBe(sandbox.Account1UsEast1Count - 2);

        var filtered = await ssm.DescribeInstanceInformationAsync(new DescribeInstanceInformationRequest
        {
            Filters = [new InstanceInformationStringFilter { Key = "InstanceIds", Values = [SandboxFixture.Linux, SandboxFixture.Windows] }],
        });
        filtered.InstanceInformationList.Select(n => n.InstanceId).Order().ShouldBe(new[] { SandboxFixture.Linux, SandboxFixture.Windows }.Order());

    }

    [Fact]
    public async Task A_linux_command_runs_with_sh_and_reports_its_exit_code_after_a_moment()
    {
        using var ssm = sandbox.Ssm();
        var sent = await ssm.SendCommandAsync(new SendCommandRequest
        {
            DocumentName = "AWS-RunShellScript",
            InstanceIds = [SandboxFixture.Linux],
            Parameters = new() { ["commands"] = ["echo $AWS_SSM_INSTANCE_ID", "echo oops >&2", "exit 3"] },
        });
        sent.Command.CommandId.Length.ShouldBe(36);
        sent.Command.InstanceIds.ShouldBe([SandboxFixture.Linux]);

        // Eventual consistency, as on AWS: the invocation is not there yet.
        await Should.ThrowAsync<InvocationDoesNotExistException>(() => ssm.GetCommandInvocationAsync(new GetCommandInvocationRequest { CommandId = sent.Command.CommandId, InstanceId = SandboxFixture.Linux }));

        var result = await WaitAsync(ssm, sent.Command.CommandId, SandboxFixture.Linux);
        result.Status.Value.ShouldBe("Failed");
        result.ResponseCode.ShouldBe(3);
        result.StandardOutputContent.ShouldBe(SandboxFixture.Linux + "\n");
        result.StandardErrorContent.ShouldContain("oops");
        result.PluginName.ShouldBe("aws:runShellScript");

        var listed = await ssm.ListCommandInvocationsAsync(new ListCommandInvocationsRequest { CommandId = sent.Command.CommandId, Details = true });
        var invocation = listed.CommandInvocations.ShouldHaveSingleItem();
        invocation.Status.Value.ShouldBe("Failed");
        invocation.CommandPlugins.ShouldHaveSingleItem().ResponseCode.ShouldBe(3);
    }

    [Fact]
    public async Task A_windows_command_runs_in_powershell_with_lastexitcode_semantics()
    {
        using var ssm = sandbox.Ssm();
        var ok = await ssm.SendCommandAsync(new SendCommandRequest
        {
            DocumentName = "AWS-RunPowerShellScript",
            InstanceIds = [SandboxFixture.Windows],
            Parameters = new() { ["commands"] = ["Write-Output \"hello from $env:AWS_SSM_INSTANCE_ID\"", "Write-Output $env:AZCMAGENT_OS"] },
        });
        var result = await WaitAsync(ssm, ok.Command.CommandId, SandboxFixture.Windows);
        result.Status.Value.ShouldBe("Success", result.StandardErrorContent);
        result.ResponseCode.ShouldBe(0);
        result.StandardOutputContent.ShouldBe($"hello from {SandboxFixture.Windows}\nwindows\n");

        var thrown = await ssm.SendCommandAsync(new SendCommandRequest
        {
            DocumentName = "AWS-RunPowerShellScript",
            InstanceIds = [SandboxFixture.Windows],
            Parameters = new() { ["commands"] = ["Write-Output before", "throw 'it broke'"] },
        });
        var failed = await WaitAsync(ssm, thrown.Command.CommandId, SandboxFixture.Windows);
        failed.Status.Value.ShouldBe("Failed");
        failed.ResponseCode.ShouldBe(1);
        failed.StandardOutputContent.ShouldContain("before");
        failed.StandardErrorContent.ShouldContain("it broke");

        var exit = await ssm.SendCommandAsync(new SendCommandRequest
        {
            DocumentName = "AWS-RunPowerShellScript",
            InstanceIds = [SandboxFixture.Windows],
            Parameters = new() { ["commands"] = ["exit 7"] },
        });
        (await WaitAsync(ssm, exit.Command.CommandId, SandboxFixture.Windows)).ResponseCode.ShouldBe(7);
    }

    [Fact]
    public async Task Send_command_refuses_bad_targets_as_ssm_does()
    {
        using var ssm = sandbox.Ssm();
        var invalid = await Should.ThrowAsync<InvalidInstanceIdException>(() => ssm.SendCommandAsync(new SendCommandRequest
        {
            DocumentName = "AWS-RunShellScript",
            InstanceIds = [SandboxFixture.Linux, SandboxFixture.Stopped],
            Parameters = new() { ["commands"] = ["true"] },
        }));
        invalid.Message.ShouldContain(SandboxFixture.Stopped);
        invalid.Message.ShouldNotContain(SandboxFixture.Linux);

        foreach (var id in new[] { SandboxFixture.Offline, SandboxFixture.NoSsm, SandboxFixture.OtherAccount })
        {
            await Should.ThrowAsync<InvalidInstanceIdException>(() => ssm.SendCommandAsync(new SendCommandRequest
            {
                DocumentName = "AWS-RunShellScript",
                InstanceIds = [id],
                Parameters = new() { ["commands"] = ["true"] },
            }));
        }

        var tooMany = await Should.ThrowAsync<AmazonSimpleSystemsManagementException>(() => ssm.SendCommandAsync(new SendCommandRequest
        {
            DocumentName = "AWS-RunShellScript",
            InstanceIds = [.. Enumerable.Range(0, 51).Select(n => $"i-{n:x8}")],
            Parameters = new() { ["commands"] = ["true"] },
        }));
        tooMany.ErrorCode.ShouldBe("ValidationException");
        tooMany.Message.ShouldContain("less than or equal to 50");
    }

    [Fact]
    public async Task Output_is_cut_where_ssm_cuts_it()
    {
        using var ssm = sandbox.Ssm();
        var sent = await ssm.SendCommandAsync(new SendCommandRequest
        {
            DocumentName = "AWS-RunShellScript",
            InstanceIds = [SandboxFixture.Linux],
            Parameters = new() { ["commands"] = ["head -c 30000 /dev/zero | tr '\\0' x", "head -c 9000 /dev/zero | tr '\\0' y >&2"] },
        });
        var result = await WaitAsync(ssm, sent.Command.CommandId, SandboxFixture.Linux);
        result.Status.Value.ShouldBe("Success");
        result.StandardOutputContent.Length.ShouldBe(24000);
        result.StandardErrorContent.Length.ShouldBe(8000);
        var listed = await ssm.ListCommandInvocationsAsync(new ListCommandInvocationsRequest { CommandId = sent.Command.CommandId, Details = true });
        listed.CommandInvocations[0].CommandPlugins[0].Output.Length.ShouldBe(2500);
    }

    [Fact]
    public async Task Execution_timeout_kills_the_script()
    {
        using var ssm = sandbox.Ssm();
        var sent = await ssm.SendCommandAsync(new SendCommandRequest
        {
            DocumentName = "AWS-RunShellScript",
            InstanceIds = [SandboxFixture.Linux],
            Parameters = new() { ["commands"] = ["echo started", "sleep 30", "echo never"], ["executionTimeout"] = ["1"] },
        });
        var result = await WaitAsync(ssm, sent.Command.CommandId, SandboxFixture.Linux);
        result.Status.Value.ShouldBe("TimedOut");
        result.StatusDetails.ShouldBe("ExecutionTimedOut");
        result.StandardOutputContent.ShouldBe("started\n");
    }

    [Fact]
    public async Task The_agent_is_on_the_path_of_instances_that_have_it()
    {
        using var ssm = sandbox.Ssm();
        var sent = await ssm.SendCommandAsync(new SendCommandRequest
        {
            DocumentName = "AWS-RunShellScript",
            InstanceIds = [SandboxFixture.Connected],
            Parameters = new() { ["commands"] = ["azcmagent show -j"] },
        });
        var result = await WaitAsync(ssm, sent.Command.CommandId, SandboxFixture.Connected);
        result.Status.Value.ShouldBe("Success", result.StandardErrorContent);
        result.StandardOutputContent.ShouldContain("\"Connected\"");
        sandbox.Host.Azure.FindMachine("existing-arc", SandboxFixture.Connected).ShouldNotBeNull();
    }

    internal static async Task<GetCommandInvocationResponse> WaitAsync(AmazonSimpleSystemsManagementClient ssm, string commandId, string instanceId)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            try
            {
                var result = await ssm.GetCommandInvocationAsync(new GetCommandInvocationRequest { CommandId = commandId, InstanceId = instanceId });
                if (result.Status.Value is not ("Pending" or "InProgress" or "Delayed" or "Cancelling"))
                {
                    return result;
                }
            }
            catch (InvocationDoesNotExistException)
            {
            }

            DateTime.UtcNow.ShouldBeLessThan(deadline, "the invocation did not finish");
            await Task.Delay(100);
        }
    }
}
