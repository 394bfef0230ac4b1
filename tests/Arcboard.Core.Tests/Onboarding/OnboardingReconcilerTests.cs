using Arcboard.Core.Cloud;
using Arcboard.Core.Fleet;
using Arcboard.Core.Onboarding;
using Arcboard.Core.State;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Arcboard.Core.Tests.Onboarding;

public sealed class OnboardingReconcilerTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero));
    private readonly FakeArm _arm = new();
    private readonly MemoryStore _store = new();

    private OnboardingReconciler Reconciler(FakeAws aws, IMachinePlacement? placement = null) => new(
        aws,
        aws,
        _arm,
        _store,
        new OnboardingPolicy
        {
            SubscriptionId = "00000000-0000-0000-0000-000000000001",
            TenantId = "00000000-0000-0000-0000-000000000002",
            Placement = placement ?? new FixedPlacement(),
            CommandTimeout = TimeSpan.FromMinutes(5),
            PollInterval = TimeSpan.FromSeconds(2),
            RetryBaseDelay = TimeSpan.FromSeconds(1),
        },
        _time,
        NullLogger<OnboardingReconciler>.Instance);

    /// <summary>Runs a pass to its end, moving the fake clock whenever the pass waits on it.</summary>
    private async Task<SyncReport> SyncAsync(FakeAws aws, IMachinePlacement? placement = null)
    {
        using var reconciler = Reconciler(aws, placement);
        var pass = reconciler.SyncAsync([FakeAws.Scope], null, CancellationToken.None);
        while (!pass.IsCompleted)
        {
            await Task.Delay(1);
            _time.Advance(TimeSpan.FromSeconds(1));
        }

        return await pass;
    }

    [Fact]
    public async Task Reads_the_EC2_and_SSM_listings_at_the_same_time()
    {
        var aws = new FakeAws(_arm, new FakeInstance("i-00000001")) { ListingsMustOverlap = true };

        var report = await SyncAsync(aws);

        report.Instances.Single().Outcome.ShouldBe(Outcome.Onboarded, report.Instances.Single().Reason);
    }

    [Fact]
    public async Task Onboards_eligible_instances_and_gives_every_other_one_a_reason()
    {
        var aws = new FakeAws(
            _arm,
            new FakeInstance("i-00000001"),
            new FakeInstance("i-00000002", Platform.Windows),
            new FakeInstance("i-00000003") { State = "stopped" },
            new FakeInstance("i-00000004") { Ping = null },
            new FakeInstance("i-00000005") { Ping = "ConnectionLost" },
            new FakeInstance("i-00000006") { AgentInstalled = false },
            new FakeInstance("i-00000007") { AgentConnected = true });

        var report = await SyncAsync(aws);

        var byId = report.Instances.ToDictionary(i => i.InstanceId);
        byId["i-00000001"].Outcome.ShouldBe(Outcome.Onboarded, byId["i-00000001"].Reason);
        byId["i-00000001"].AzureResourceId.ShouldBe("/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/aws_111111111111/providers/Microsoft.HybridCompute/machines/i-00000001");
        byId["i-00000002"].Outcome.ShouldBe(Outcome.Onboarded);
        byId["i-00000003"].Outcome.ShouldBe(Outcome.Skipped);
        byId["i-00000003"].Reason.ShouldContain("stopped");
        byId["i-00000004"].Reason.ShouldContain("not managed by SSM");
        byId["i-00000005"].Reason.ShouldContain("ConnectionLost");
        byId["i-00000006"].Reason.ShouldContain("agent is not installed");
        byId["i-00000007"].Outcome.ShouldBe(Outcome.AlreadyConnected);
        report.Succeeded.ShouldBeTrue();

        _arm.Machines.Keys.Order().ShouldBe(["i-00000001", "i-00000002"]);
        _arm.Machines["i-00000001"].IsConnected.ShouldBeTrue();
        _store.Get("i-00000001").Stage.ShouldBe(OnboardingStage.Connected);
        _store.Get("i-00000001").VmId.ShouldNotBeNull();
    }

    [Fact]
    public async Task A_second_pass_makes_no_arm_write_and_sends_no_command()
    {
        var aws = new FakeAws(_arm, new FakeInstance("i-00000001"), new FakeInstance("i-00000002", Platform.Windows));
        await SyncAsync(aws);
        var writes = _arm.Writes;
        var sent = aws.Sent.Count;

        var second = await SyncAsync(aws);

        second.Instances.ShouldAllBe(i => i.Outcome == Outcome.AlreadyConnected);
        _arm.Writes.ShouldBe(writes);
        aws.Sent.Count.ShouldBe(sent);
    }

    [Fact]
    public async Task Sends_one_command_per_fifty_instances_of_a_platform_per_step()
    {
        var instances = Enumerable.Range(1, 120).Select(n => new FakeInstance($"i-{n:x8}", n % 4 == 0 ? Platform.Windows : Platform.Linux)).ToArray();
        var aws = new FakeAws(_arm, instances);

        var report = await SyncAsync(aws);

        report.Count(Outcome.Onboarded).ShouldBe(120);
        // 90 Linux -> 2 commands, 30 Windows -> 1 command; for genkey and again for connect.
        aws.Sent.Count(s => s.Script.Contains("azcmagent genkey", StringComparison.Ordinal)).ShouldBe(3);
        aws.Sent.Count(s => s.Script.Contains("connect existing", StringComparison.Ordinal)).ShouldBe(3);
        aws.Sent.Count.ShouldBe(6);
        aws.Sent.ShouldAllBe(s => s.InstanceIds.Length <= 50);
        _arm.Writes.ShouldBe(120 + 1);
    }

    [Fact]
    public async Task After_a_send_that_failed_once_delivered_the_next_pass_finishes_with_exactly_one_machine()
    {
        var aws = new FakeAws(_arm, new FakeInstance("i-00000001"));
        aws.ThrowAfterNextSend = new CloudException("ssm", "Crash", "connection lost after the command was accepted", isTransient: false);

        var first = await SyncAsync(aws);
        first.Instances.Single().Outcome.ShouldBe(Outcome.Failed);

        // The crash was reported as a send failure, so the record cannot know the id; what matters is that the
        // instance is not left half-way: the next pass finishes it with exactly one machine.
        var second = await SyncAsync(aws);
        second.Instances.Single().Outcome.ShouldBe(Outcome.Onboarded);
        _arm.Machines.Count.ShouldBe(1);
    }

    [Fact]
    public async Task A_command_without_result_is_read_again_next_pass_and_never_sent_twice()
    {
        var aws = new FakeAws(_arm, new FakeInstance("i-00000001")) { Hang = true };

        var first = await SyncAsync(aws);
        first.Instances.Single().Outcome.ShouldBe(Outcome.Failed);
        first.Instances.Single().Reason.ShouldContain("no result");
        var record = _store.Get("i-00000001");
        record.Stage.ShouldBe(OnboardingStage.KeyRequested);
        record.CommandId.ShouldBe("cmd-1");

        aws.Hang = false;
        aws.Finish("cmd-1");
        var second = await SyncAsync(aws);

        // cmd-1 (genkey) was read, not re-sent; cmd-2 is the connect. The finished hang had no key output, so it failed genkey.
        aws.Sent.Count(s => s.Script.Contains("azcmagent genkey", StringComparison.Ordinal)).ShouldBe(1);
        second.Instances.Single().FailedStep.ShouldBe("genkey");
    }

    [Fact]
    public async Task Never_overwrites_a_machine_that_Arcboard_did_not_create()
    {
        var aws = new FakeAws(_arm, new FakeInstance("i-00000001"));
        var foreign = new ArcMachine("/subscriptions/s/resourceGroups/aws_111111111111/providers/Microsoft.HybridCompute/machines/i-00000001", "i-00000001", "eastus", "Connected", Guid.NewGuid(), "KEY", "Succeeded", "1.0", new Dictionary<string, string> { ["owner"] = "someone" });
        _arm.Machines["i-00000001"] = foreign;

        var report = await SyncAsync(aws);

        report.Instances.Single().Outcome.ShouldBe(Outcome.Failed);
        report.Instances.Single().Reason.ShouldContain("was not created by Arcboard");
        _arm.Machines["i-00000001"].ShouldBeSameAs(foreign);
        report.Succeeded.ShouldBeFalse();
    }

    [Fact]
    public async Task Never_overwrites_a_machine_that_Arcboard_did_not_create_at_the_name_a_changed_template_gives()
    {
        var aws = new FakeAws(_arm, new FakeInstance("i-00000001"));
        _arm.Machines["i-00000001"] = Foreign("i-00000001");
        var first = await SyncAsync(aws);
        first.Instances.Single().Reason.ShouldContain("was not created by Arcboard");

        // The operator follows the advice and renames, onto a name that is taken too.
        var taken = Foreign("web-i-00000001");
        _arm.Machines[taken.Name] = taken;
        var second = await SyncAsync(aws, new PrefixedPlacement("web-"));

        second.Instances.Single().Outcome.ShouldBe(Outcome.Failed);
        second.Instances.Single().Reason.ShouldContain("'web-i-00000001' already exists");
        _arm.Machines[taken.Name].ShouldBeSameAs(taken);
    }

    private static ArcMachine Foreign(string name) =>
        new($"/subscriptions/s/resourceGroups/aws_111111111111/providers/Microsoft.HybridCompute/machines/{name}", name, "eastus", "Connected", Guid.NewGuid(), "KEY", "Succeeded", "1.0", new Dictionary<string, string> { ["owner"] = "someone" });

    private sealed class PrefixedPlacement(string prefix) : IMachinePlacement
    {
        public Placement Place(Ec2Instance instance) => new($"aws_{instance.Key.AccountId}", prefix + instance.Key.InstanceId, "eastus", null);
    }

    [Theory]
    [InlineData("ARCBOARD-KEY not-base64!!", "not valid base64")]
    [InlineData("ARCBOARD-KEY MIIBCgKCAQEA", "not a PKCS#1 RSAPublicKey")]
    [InlineData("Segmentation fault", "without a recognisable result")]
    public async Task Garbage_from_genkey_fails_the_instance_with_a_reason(string output, string expected)
    {
        var aws = new FakeAws(_arm, new FakeInstance("i-00000001") { GarbageOutput = output });

        var report = await SyncAsync(aws);

        var only = report.Instances.Single();
        only.Outcome.ShouldBe(Outcome.Failed);
        only.FailedStep.ShouldBe("genkey");
        only.Reason.ShouldContain(expected);
        _arm.Machines.ShouldBeEmpty();
    }

    [Fact]
    public async Task A_weak_key_is_refused()
    {
        using var rsa = System.Security.Cryptography.RSA.Create(1024);
        var aws = new FakeAws(_arm, new FakeInstance("i-00000001") { GarbageOutput = "ARCBOARD-KEY " + Convert.ToBase64String(rsa.ExportRSAPublicKey()) });

        var report = await SyncAsync(aws);

        report.Instances.Single().Reason.ShouldContain("RSA 1024 bits");
    }

    [Fact]
    public async Task Throttling_from_arm_is_retried_after_the_delay_it_asks_for()
    {
        var aws = new FakeAws(_arm, new FakeInstance("i-00000001"));
        _arm.Faults.Enqueue(new CloudException("arm", "TooManyRequests", "throttled", isTransient: true, TimeSpan.FromSeconds(7), 429));
        _arm.Faults.Enqueue(new CloudException("arm", "InternalServerError", "oops", isTransient: true, null, 500));

        var report = await SyncAsync(aws);

        report.Instances.Single().Outcome.ShouldBe(Outcome.Onboarded);
        _arm.Machines.Count.ShouldBe(1);
    }

    [Fact]
    public async Task A_permanent_arm_error_fails_the_instance_and_the_next_pass_resumes_from_the_recorded_key()
    {
        var aws = new FakeAws(_arm, new FakeInstance("i-00000001"));
        _arm.WriteFaults.Enqueue(new CloudException("arm", "AuthorizationFailed", "the client has no permission", isTransient: false, null, 403));

        var first = await SyncAsync(aws);
        first.Instances.Single().FailedStep.ShouldBe("create-machine");
        first.Instances.Single().Reason.ShouldContain("no permission");

        var second = await SyncAsync(aws);
        second.Instances.Single().Outcome.ShouldBe(Outcome.Onboarded);
        aws.Sent.Count(s => s.Script.Contains("azcmagent genkey", StringComparison.Ordinal)).ShouldBe(1);
    }

    [Fact]
    public async Task A_tag_filter_skips_instances_without_the_tag()
    {
        var tagged = new FakeInstance("i-00000001");
        tagged.Tags["arc"] = "yes";
        var aws = new FakeAws(_arm, tagged, new FakeInstance("i-00000002"));
        using var reconciler = new OnboardingReconciler(aws, aws, _arm, _store, new OnboardingPolicy
        {
            SubscriptionId = "00000000-0000-0000-0000-000000000001",
            TenantId = "00000000-0000-0000-0000-000000000002",
            Placement = new FixedPlacement(),
            TagFilterKey = "arc",
            TagFilterValue = "yes",
        }, TimeProvider.System, NullLogger<OnboardingReconciler>.Instance);

        var report = await reconciler.SyncAsync([FakeAws.Scope], null, CancellationToken.None);

        report.Instances.Single(i => i.InstanceId == "i-00000001").Outcome.ShouldBe(Outcome.Onboarded);
        report.Instances.Single(i => i.InstanceId == "i-00000002").Reason.ShouldContain("filtered out");
    }
}
