using Arcboard.Core.Cleanup;
using Arcboard.Core.Cloud;
using Arcboard.Core.Fleet;
using Arcboard.Core.Onboarding;
using Arcboard.Core.State;
using Arcboard.Core.Tests.Onboarding;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Arcboard.Core.Tests.Cleanup;

public sealed class MachineCleanerTests
{
    private const string Subscription = "00000000-0000-0000-0000-000000000001";
    private static readonly AwsScope Scope = FakeAws.Scope;
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero));
    private readonly CleanupArm _arm = new(new FakeArm());
    private readonly MemoryStore _store = new();
    private readonly CleanupAws _aws;

    public MachineCleanerTests() => _aws = new CleanupAws(new FakeAws(_arm.Inner));

    private static string Group => $"aws_{Scope.AccountId}";

    private MachineCleaner Cleaner(bool deleteStopped = false) => new(
        _aws,
        _aws,
        _arm,
        _store,
        new CleanupPolicy
        {
            SubscriptionId = Subscription,
            ResourceGroupOf = s => $"aws_{s.AccountId}",
            DeleteStopped = deleteStopped,
            MaxAttempts = 2,
            CommandTimeout = TimeSpan.FromMinutes(5),
        },
        _time,
        NullLogger<MachineCleaner>.Instance);

    private async Task<CleanupReport> RunAsync(Func<MachineCleaner, Task<CleanupReport>> run, bool deleteStopped = false)
    {
        using var cleaner = Cleaner(deleteStopped);
        var pass = run(cleaner);
        while (!pass.IsCompleted)
        {
            await Task.Delay(1);
            _time.Advance(TimeSpan.FromSeconds(1));
        }

        return await pass;
    }

    private Task<CleanupReport> CleanUpAsync(bool deleteStopped = false) =>
        RunAsync(c => c.CleanUpAsync([Scope], null, CancellationToken.None), deleteStopped);

    private Task<CleanupReport> OffboardAsync(OffboardSelection selection, bool dryRun = false) =>
        RunAsync(c => c.OffboardAsync([Scope], selection, dryRun, null, CancellationToken.None));

    /// <summary>An instance as Arcboard leaves it after onboarding: running, its machine tagged for it in ARM, a Connected record.</summary>
    private FakeInstance Onboarded(string id, Platform platform = Platform.Linux, bool keepRecord = true)
    {
        var instance = new FakeInstance(id, platform);
        _aws.Instances.Add(instance);
        var key = new InstanceKey(Scope.AccountId, Scope.Region, id);
        var machine = new MachineRef(Subscription, Group, id);
        _arm.Inner.Machines[id] = new ArcMachine(machine.ResourceId, id, "eastus", "Connected", Guid.NewGuid(), "MIIBCg", "Succeeded", "1.0",
            new Dictionary<string, string> { [OnboardingPolicy.ManagedByTag] = OnboardingPolicy.ManagedByValue, [OnboardingPolicy.InstanceTag] = key.ToString() });
        _aws.AgentConnectedTo[id] = machine.ResourceId;
        if (keepRecord)
        {
            _store.SaveAsync(new InstanceRecord
            {
                Key = key,
                Platform = platform,
                Stage = OnboardingStage.Connected,
                SubscriptionId = Subscription,
                ResourceGroup = Group,
                MachineName = id,
                Location = "eastus",
                VmId = Guid.NewGuid(),
                PublicKey = "MIIBCg",
                ResourceId = machine.ResourceId,
                CreatedByArcboard = true,
                Outcome = Outcome.Onboarded,
                Reason = "onboarded",
            }, CancellationToken.None).GetAwaiter().GetResult();
        }

        return instance;
    }

    private bool Exists(string name) => _arm.Inner.Machines.ContainsKey(name);

    [Fact]
    public async Task A_failed_listing_deletes_nothing_and_says_why()
    {
        Onboarded("i-00000001").State = "terminated";
        _aws.ListFault = new CloudException("ec2", "UnauthorizedOperation", "not allowed to describe instances", isTransient: false);

        var report = await CleanUpAsync();

        Exists("i-00000001").ShouldBeTrue();
        _arm.Deletes.ShouldBeEmpty();
        report.Errors.ShouldHaveSingleItem().Reason.ShouldContain("no machine was deleted");
        report.Errors[0].Reason.ShouldContain("not allowed to describe instances");
        report.Succeeded.ShouldBeFalse();
        _store.Get("i-00000001").Outcome.ShouldBe(Outcome.Onboarded);
    }

    [Fact]
    public async Task A_listing_cut_short_by_a_page_error_deletes_nothing_even_for_instances_it_never_saw()
    {
        // The record's instance is absent from what was listed, which would mean "terminated" if the listing were complete.
        Onboarded("i-00000001");
        _aws.Instances.Clear();
        _aws.ListFault = new CloudException("ec2", "InternalError", "page 2 of DescribeInstances failed", isTransient: true);

        var report = await CleanUpAsync();

        Exists("i-00000001").ShouldBeTrue();
        _arm.Deletes.ShouldBeEmpty();
        report.Errors.ShouldHaveSingleItem().Reason.ShouldContain("page 2 of DescribeInstances failed");
    }

    [Fact]
    public async Task The_machine_of_a_terminated_or_vanished_instance_is_deleted_exactly_once_and_recorded()
    {
        Onboarded("i-00000001").State = "terminated";
        Onboarded("i-00000002").State = "shutting-down";
        var gone = Onboarded("i-00000003");
        _aws.Instances.Remove(gone);
        Onboarded("i-00000004");

        var first = await CleanUpAsync();
        var second = await CleanUpAsync();

        first.Machines.Select(m => (m.InstanceId, m.Action)).ShouldBe(
            [("i-00000001", RemovalAction.Deleted), ("i-00000002", RemovalAction.Deleted), ("i-00000003", RemovalAction.Deleted)], ignoreOrder: true);
        first.Machines.Single(m => m.InstanceId == "i-00000003").Reason.ShouldContain("no longer exists in EC2");
        second.Machines.ShouldBeEmpty();
        _arm.Deletes.ShouldBe(new Dictionary<string, int> { ["i-00000001"] = 1, ["i-00000002"] = 1, ["i-00000003"] = 1 }, ignoreOrder: true);
        Exists("i-00000004").ShouldBeTrue();

        var record = _store.Get("i-00000001");
        record.Outcome.ShouldBe(Outcome.Removed);
        record.Reason!.ShouldContain($"/resourceGroups/{Group}/providers/Microsoft.HybridCompute/machines/i-00000001");
        record.ResourceId.ShouldBeNull();
        record.CreatedByArcboard.ShouldBeFalse();
        record.Stage.ShouldBe(OnboardingStage.Discovered);
        _store.Get("i-00000004").Outcome.ShouldBe(Outcome.Onboarded);
    }

    [Fact]
    public async Task A_stopped_instance_keeps_its_machine_unless_configured_otherwise()
    {
        Onboarded("i-00000001").State = "stopped";

        var kept = await CleanUpAsync();
        Exists("i-00000001").ShouldBeTrue();
        kept.Machines.ShouldBeEmpty();

        var removed = await CleanUpAsync(deleteStopped: true);
        Exists("i-00000001").ShouldBeFalse();
        removed.Machines.ShouldHaveSingleItem().Reason.ShouldContain("cleanup.deleteStopped");
    }

    [Fact]
    public async Task A_machine_tagged_for_another_instance_or_untagged_is_never_touched()
    {
        Onboarded("i-00000001").State = "terminated";
        // Someone re-tagged the machine the record names for another instance; the fresh GET must see it.
        var other = new InstanceKey(Scope.AccountId, Scope.Region, "i-0000000f");
        _arm.Inner.Machines["i-00000001"] = _arm.Inner.Machines["i-00000001"] with
        {
            Tags = new Dictionary<string, string> { [OnboardingPolicy.ManagedByTag] = OnboardingPolicy.ManagedByValue, [OnboardingPolicy.InstanceTag] = other.ToString() },
        };
        // In Arcboard's group: one machine with no tags, one tagged by Arcboard for an instance of another account.
        _arm.Inner.Machines["hand-made"] = new ArcMachine(new MachineRef(Subscription, Group, "hand-made").ResourceId, "hand-made", "eastus", "Connected", null, null, "Succeeded", null, new Dictionary<string, string>());
        _arm.Inner.Machines["elsewhere"] = new ArcMachine(new MachineRef(Subscription, Group, "elsewhere").ResourceId, "elsewhere", "eastus", "Connected", null, null, "Succeeded", null,
            new Dictionary<string, string> { [OnboardingPolicy.ManagedByTag] = OnboardingPolicy.ManagedByValue, [OnboardingPolicy.InstanceTag] = "999999999999/us-east-1/i-00000009" });

        var report = await CleanUpAsync();

        _arm.Deletes.ShouldBeEmpty();
        Exists("i-00000001").ShouldBeTrue();
        Exists("hand-made").ShouldBeTrue();
        Exists("elsewhere").ShouldBeTrue();
        // The re-tagged machine is listed under the instance its tags name, which is not in EC2: the fresh GET still
        // refuses it for the record's instance, and the tags' own instance is not ours to judge from this record.
        report.Machines.ShouldContain(m => m.InstanceId == "i-00000001" && m.Action == RemovalAction.NotOurs);
        _store.Get("i-00000001").Outcome.ShouldBe(Outcome.Onboarded);
    }

    [Fact]
    public async Task A_machine_whose_record_was_lost_is_found_by_its_tags_and_deleted()
    {
        Onboarded("i-00000001", keepRecord: false).State = "terminated";
        var vanished = Onboarded("i-00000002", keepRecord: false);
        _aws.Instances.Remove(vanished);

        var report = await CleanUpAsync();

        report.Machines.Select(m => m.InstanceId).ShouldBe(["i-00000001", "i-00000002"]);
        report.Machines.ShouldAllBe(m => m.Action == RemovalAction.Deleted);
        Exists("i-00000001").ShouldBeFalse();
        Exists("i-00000002").ShouldBeFalse();
        // EC2 still lists the terminated one, so the store learns of it; the vanished one is known from the report alone.
        _store.Get("i-00000001").Outcome.ShouldBe(Outcome.Removed);
        (await _store.ListAsync(CancellationToken.None)).ShouldNotContain(r => r.Key.InstanceId == "i-00000002");
    }

    [Fact]
    public async Task A_crash_between_the_read_and_the_delete_is_finished_by_the_next_run()
    {
        Onboarded("i-00000001").State = "terminated";
        _arm.CrashBeforeNextDelete = new IOException("killed");

        await Should.ThrowAsync<IOException>(CleanUpAsync());
        Exists("i-00000001").ShouldBeTrue();
        _store.Get("i-00000001").Outcome.ShouldBe(Outcome.Onboarded);

        var report = await CleanUpAsync();

        report.Machines.ShouldHaveSingleItem().Action.ShouldBe(RemovalAction.Deleted);
        _arm.Deletes["i-00000001"].ShouldBe(1);
        _store.Get("i-00000001").Outcome.ShouldBe(Outcome.Removed);
    }

    [Fact]
    public async Task A_crash_after_the_delete_is_recorded_by_the_next_run_without_deleting_again()
    {
        Onboarded("i-00000001").State = "terminated";
        _arm.CrashAfterNextDelete = new IOException("killed");

        await Should.ThrowAsync<IOException>(CleanUpAsync());
        var report = await CleanUpAsync();

        report.Machines.ShouldHaveSingleItem().Action.ShouldBe(RemovalAction.AlreadyGone);
        _arm.Deletes["i-00000001"].ShouldBe(1);
        _store.Get("i-00000001").Outcome.ShouldBe(Outcome.Removed);
        (await CleanUpAsync()).Machines.ShouldBeEmpty();
    }

    [Fact]
    public async Task A_failed_group_listing_still_cleans_up_what_the_records_name()
    {
        Onboarded("i-00000001").State = "terminated";
        _arm.ListFault = new CloudException("arm", "AuthorizationFailed", "cannot list the group", isTransient: false);

        var report = await CleanUpAsync();

        Exists("i-00000001").ShouldBeFalse();
        report.Errors.ShouldHaveSingleItem().Reason.ShouldContain("whose record was lost");
    }

    [Fact]
    public async Task Offboard_dry_run_says_what_it_would_do_and_changes_nothing()
    {
        Onboarded("i-00000001");
        Onboarded("i-00000002").State = "stopped";
        var readsBefore = _store.Saves;

        var report = await OffboardAsync(new OffboardSelection { All = true }, dryRun: true);

        report.Machines.Select(m => (m.InstanceId, m.Action, m.Agent)).ShouldBe(
            [("i-00000001", RemovalAction.WouldDelete, AgentAction.WouldDisconnect), ("i-00000002", RemovalAction.WouldDelete, AgentAction.Unreachable)]);
        report.Machines[1].Reason.ShouldContain("the instance is stopped");
        report.Machines[0].ResourceId.ShouldBe(new MachineRef(Subscription, Group, "i-00000001").ResourceId);
        _aws.Sent.ShouldBeEmpty();
        _arm.Deletes.ShouldBeEmpty();
        _store.Saves.ShouldBe(readsBefore);
    }

    [Fact]
    public async Task Offboard_of_one_instance_disconnects_its_agent_then_deletes_its_machine()
    {
        Onboarded("i-00000001");
        Onboarded("i-00000002");

        var report = await OffboardAsync(new OffboardSelection { InstanceId = "i-00000001" });

        var removal = report.Machines.ShouldHaveSingleItem();
        (removal.Action, removal.Agent).ShouldBe((RemovalAction.Deleted, AgentAction.Disconnected));
        _aws.Sent.ShouldHaveSingleItem().InstanceIds.ShouldBe(["i-00000001"]);
        _aws.AgentConnectedTo.Keys.ShouldBe(["i-00000002"]);
        Exists("i-00000001").ShouldBeFalse();
        Exists("i-00000002").ShouldBeTrue();
        _store.Get("i-00000001").Outcome.ShouldBe(Outcome.Removed);
        _store.Get("i-00000001").Reason!.ShouldContain("offboarded: the agent disconnected");
    }

    [Fact]
    public async Task Offboard_reads_the_EC2_and_SSM_listings_at_the_same_time()
    {
        Onboarded("i-00000001");
        _aws.ListingsMustOverlap = true;

        var report = await OffboardAsync(new OffboardSelection { All = true });

        report.Machines.ShouldHaveSingleItem().Action.ShouldBe(RemovalAction.Deleted);
    }

    [Fact]
    public async Task Offboard_deletes_the_machine_of_an_unreachable_instance_and_says_the_agent_was_not_told()
    {
        Onboarded("i-00000001").Ping = "ConnectionLost";

        var report = await OffboardAsync(new OffboardSelection { InstanceId = "i-00000001" });

        var removal = report.Machines.ShouldHaveSingleItem();
        (removal.Action, removal.Agent).ShouldBe((RemovalAction.Deleted, AgentAction.Unreachable));
        removal.Reason.ShouldContain("the agent could not be told (its SSM agent is ConnectionLost)");
        _aws.Sent.ShouldBeEmpty();
        Exists("i-00000001").ShouldBeFalse();
    }

    [Fact]
    public async Task Offboard_leaves_machines_it_did_not_create_and_agents_connected_elsewhere()
    {
        Onboarded("i-00000001");
        _aws.AgentConnectedTo["i-00000001"] = "/subscriptions/x/resourceGroups/other/providers/Microsoft.HybridCompute/machines/i-00000001";
        var foreign = new InstanceKey(Scope.AccountId, Scope.Region, "i-00000002");
        _aws.Instances.Add(new FakeInstance("i-00000002"));
        await _store.SaveAsync(new InstanceRecord
        {
            Key = foreign, Platform = Platform.Linux, Stage = OnboardingStage.Discovered, Outcome = Outcome.AlreadyConnected,
            ResourceId = "/subscriptions/x/resourceGroups/theirs/providers/Microsoft.HybridCompute/machines/i-00000002", Reason = "connected by someone else",
        }, CancellationToken.None);

        var report = await OffboardAsync(new OffboardSelection { All = true });

        report.Machines.Single(m => m.InstanceId == "i-00000002").Action.ShouldBe(RemovalAction.NotOurs);
        var ours = report.Machines.Single(m => m.InstanceId == "i-00000001");
        (ours.Action, ours.Agent).ShouldBe((RemovalAction.Deleted, AgentAction.NotConnectedHere));
        _aws.AgentConnectedTo.ShouldContainKey("i-00000001");
        _store.Get("i-00000002").Outcome.ShouldBe(Outcome.AlreadyConnected);
    }

    [Fact]
    public async Task Offboard_by_tag_sends_one_disconnect_per_50_instances_of_a_platform()
    {
        for (var i = 0; i < 115; i++)
        {
            Onboarded($"i-{i:x8}", i % 2 == 0 ? Platform.Linux : Platform.Windows).Tags["team"] = i < 110 ? "web" : "db";
        }

        var report = await OffboardAsync(new OffboardSelection { TagKey = "team", TagValue = "web" });

        report.Count(RemovalAction.Deleted).ShouldBe(110);
        report.Machines.ShouldAllBe(m => m.Agent == AgentAction.Disconnected);
        _aws.Sent.Select(s => (s.Platform, s.InstanceIds.Length)).OrderBy(s => s.Platform).ThenBy(s => s.Length)
            .ShouldBe([(Platform.Linux, 5), (Platform.Linux, 50), (Platform.Windows, 5), (Platform.Windows, 50)]);
        _arm.Inner.Machines.Count.ShouldBe(5);
    }

    [Fact]
    public async Task Offboard_of_an_unknown_instance_reports_no_machine()
    {
        Onboarded("i-00000001");

        var report = await OffboardAsync(new OffboardSelection { InstanceId = "i-0000000e" });

        report.Machines.ShouldHaveSingleItem().Action.ShouldBe(RemovalAction.NoMachine);
        _arm.Deletes.ShouldBeEmpty();
        _aws.Sent.ShouldBeEmpty();
    }
}
