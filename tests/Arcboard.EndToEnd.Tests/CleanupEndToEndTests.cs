using System.Text.Json;
using Arcboard.Sandbox.Hosting;

namespace Arcboard.EndToEnd.Tests;

/// <summary>
/// Clean-up and offboarding through the real clients against the sandbox: a terminated instance loses its machine at the
/// next sync, a dry run changes nothing, and offboarding disconnects the agent on the instance before deleting the machine.
/// </summary>
[Trait("Category", "EndToEnd")]
public sealed class CleanupEndToEndTests : IAsyncLifetime
{
    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("arcboard-e2e-cleanup-");
    private SandboxHost _sandbox = null!;
    private string _config = null!;

    public async Task InitializeAsync()
    {
        (_sandbox, _config) = await FleetFiles.StartMixedSandboxAsync(_folder.FullName, linux: 3, windows: 1);
    }

    public async Task DisposeAsync()
    {
        await _sandbox.DisposeAsync();
        _folder.Delete(recursive: true);
    }

    [Fact]
    public async Task A_terminated_instance_loses_its_machine_and_offboard_disconnects_then_deletes()
    {
        (await CliRun.InProcessAsync("sync", "--config", _config)).ExitCode.ShouldBe(0);
        var created = OurMachines();
        created.Count.ShouldBe(4);
        var terminated = created[0];
        var offboarded = created[1];

        using (var admin = new HttpClient())
        {
            using var response = await admin.PostAsync(new Uri($"{_sandbox.Endpoints.AdminUrl}/instances/{terminated}/terminate"), null);
            response.EnsureSuccessStatusCode();
        }

        var sync = await CliRun.InProcessAsync("sync", "--config", _config, "--output", "json");

        sync.ExitCode.ShouldBe(0, sync.Error);
        using (var report = JsonDocument.Parse(sync.Out))
        {
            report.RootElement.GetProperty("summary").GetProperty("removed").GetInt32().ShouldBe(1);
            report.RootElement.GetProperty("summary").GetProperty("onboarded").GetInt32().ShouldBe(0);
            var removal = report.RootElement.GetProperty("cleanup").GetProperty("machines").EnumerateArray().ShouldHaveSingleItem();
            removal.GetProperty("instanceId").GetString().ShouldBe(terminated);
            removal.GetProperty("action").GetString().ShouldBe("Deleted");
            removal.GetProperty("reason").GetString()!.ShouldContain("the instance is terminated");
        }

        OurMachines().ShouldBe(created.Skip(1).ToList());
        sync.Error.ShouldContain($"{terminated}: Deleted");

        var status = await CliRun.InProcessAsync("status", "--config", _config, "--output", "json");
        using (var known = JsonDocument.Parse(status.Out))
        {
            known.RootElement.GetProperty("instances").EnumerateArray()
                .Single(i => i.GetProperty("instanceId").GetString() == terminated)
                .GetProperty("reason").GetString()!.ShouldContain(terminated);
        }

        // A dry run over everything: it reads, and it neither sends a command nor deletes anything.
        var sends = _sandbox.Stats.Count("ssm", "SendCommand");
        var deletes = _sandbox.Stats.Count("arm", "DeleteMachine");
        var dry = await CliRun.InProcessAsync("offboard", "--config", _config, "--all", "--dry-run", "--output", "json");

        dry.ExitCode.ShouldBe(0, dry.Error);
        using (var plan = JsonDocument.Parse(dry.Out))
        {
            plan.RootElement.GetProperty("dryRun").GetBoolean().ShouldBeTrue();
            var wouldDelete = plan.RootElement.GetProperty("machines").EnumerateArray().Where(m => m.GetProperty("action").GetString() == "WouldDelete").ToList();
            wouldDelete.Select(m => m.GetProperty("instanceId").GetString()).Order(StringComparer.Ordinal).ShouldBe(created.Skip(1));
            wouldDelete.ShouldAllBe(m => m.GetProperty("agent").GetString() == "WouldDisconnect");
            // The instance whose agent someone else connected is named, and left alone.
            plan.RootElement.GetProperty("summary").GetProperty("notOurs").GetInt32().ShouldBe(1);
        }

        _sandbox.Stats.Count("ssm", "SendCommand").ShouldBe(sends);
        _sandbox.Stats.Count("arm", "DeleteMachine").ShouldBe(deletes);
        OurMachines().Count.ShouldBe(3);

        var offboard = await CliRun.InProcessAsync("offboard", "--config", _config, "--instance", offboarded, "--output", "json");

        offboard.ExitCode.ShouldBe(0, offboard.Error);
        using (var result = JsonDocument.Parse(offboard.Out))
        {
            var removal = result.RootElement.GetProperty("machines").EnumerateArray().ShouldHaveSingleItem();
            removal.GetProperty("action").GetString().ShouldBe("Deleted");
            removal.GetProperty("agent").GetString().ShouldBe("Disconnected");
        }

        OurMachines().ShouldBe(created.Skip(2).ToList());
        var instance = _sandbox.Fleet.Instances.Single(i => i.Id == offboarded);
        instance.ReadAgentStatus().ShouldBe("Disconnected");
        _sandbox.Fleet.Instances.Single(i => i.Id == created[2]).ReadAgentStatus().ShouldBe("Connected");

        // The Windows instance runs the PowerShell form of the script in hosted PowerShell.
        var windows = _sandbox.Fleet.Instances.Single(i => created.Contains(i.Id) && i.Platform == Arcboard.Sandbox.Fleet.InstancePlatform.Windows);
        var offboardWindows = await CliRun.InProcessAsync("offboard", "--config", _config, "--instance", windows.Id);

        offboardWindows.ExitCode.ShouldBe(0, offboardWindows.Error);
        offboardWindows.Out.ShouldContain("Disconnected");
        windows.ReadAgentStatus().ShouldBe("Disconnected");
        OurMachines().ShouldNotContain(windows.Id);
        OurMachines().ShouldContain(created[2]);

        // A disconnect that fails on the instance still lets the machine go, and the summary and exit code say so.
        _sandbox.InstanceFaults.Add(new Arcboard.Sandbox.Instances.InstanceFaultRule(Arcboard.Sandbox.Instances.InstanceFaultKind.CommandFail, Count: 1, InstanceIds: [created[2]]));
        var failedDisconnect = await CliRun.InProcessAsync("offboard", "--config", _config, "--instance", created[2], "--output", "json");

        failedDisconnect.ExitCode.ShouldBe(2, failedDisconnect.Error);
        using (var result = JsonDocument.Parse(failedDisconnect.Out))
        {
            var summary = result.RootElement.GetProperty("summary");
            summary.GetProperty("agentsFailed").GetInt32().ShouldBe(1);
            summary.GetProperty("failed").GetInt32().ShouldBe(0);
            summary.GetProperty("deleted").GetInt32().ShouldBe(1);
            result.RootElement.GetProperty("machines").EnumerateArray().ShouldHaveSingleItem().GetProperty("agent").GetString().ShouldBe("Failed");
        }

        OurMachines().ShouldNotContain(created[2]);
    }

    [Fact]
    public async Task Offboard_refuses_an_unclear_selection_with_exit_code_1()
    {
        var none = await CliRun.InProcessAsync("offboard", "--config", _config);
        none.ExitCode.ShouldBe(1);
        none.Error.ShouldContain("exactly one of --instance i-..., --tag KEY=VALUE or --all");

        var badId = await CliRun.InProcessAsync("offboard", "--config", _config, "--instance", "web-1");
        badId.ExitCode.ShouldBe(1);
        badId.Error.ShouldContain("is not an EC2 instance id");

        var elsewhere = await CliRun.InProcessAsync("offboard", "--config", _config, "--all", "--account", "999999999999");
        elsewhere.ExitCode.ShouldBe(1);
        elsewhere.Error.ShouldContain("aws.accounts");
    }

    private List<string> OurMachines() =>
        _sandbox.Azure.ListMachines().Where(m => m.Tags.ContainsKey("arcboard-managed-by")).Select(m => m.Name).Order(StringComparer.Ordinal).ToList();
}
