using Arcboard.Core.Cloud;
using Arcboard.Core.Cloud.Pacing;
using Arcboard.Core.Fleet;
using Arcboard.Core.Onboarding;
using Arcboard.Core.State;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Arcboard.Core.Tests.Onboarding;

public sealed class PipelineTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero));
    private readonly FakeArm _arm = new();
    private readonly MemoryStore _store = new();

    private OnboardingReconciler Reconciler(IAwsInventory inventory, IRunCommand runCommand, IArcMachines arm, OnboardingStrategy strategy = OnboardingStrategy.Batched, int maxKeysAhead = 1000) => new(
        inventory,
        runCommand,
        arm,
        _store,
        new OnboardingPolicy
        {
            SubscriptionId = "00000000-0000-0000-0000-000000000001",
            TenantId = "00000000-0000-0000-0000-000000000002",
            Placement = new FixedPlacement(),
            CommandTimeout = TimeSpan.FromMinutes(5),
            PollInterval = TimeSpan.FromSeconds(2),
            Strategy = strategy,
            MaxKeysAhead = maxKeysAhead,
        },
        _time,
        NullLogger<OnboardingReconciler>.Instance);

    private async Task<SyncReport> RunAsync(OnboardingReconciler reconciler, Func<bool>? pauseWhen = null, Action? atPause = null, ISyncObserver? observer = null)
    {
        var pass = reconciler.SyncAsync([FakeAws.Scope], observer, CancellationToken.None);
        var paused = false;
        var giveUpAt = _time.GetUtcNow() + TimeSpan.FromHours(3);
        while (!pass.IsCompleted)
        {
            // Every wait in a pass is bounded far below this, so only a pipeline that wedged itself gets here.
            _time.GetUtcNow().ShouldBeLessThan(giveUpAt, "the pass never finished: the pipeline is stuck");
            await Task.Delay(1);
            if (!paused && pauseWhen?.Invoke() == true)
            {
                paused = true;
                atPause?.Invoke();
            }

            _time.Advance(TimeSpan.FromSeconds(1));
        }

        return await pass;
    }

    [Fact]
    public async Task A_slow_genkey_batch_does_not_hold_up_creating_and_connecting_another_batchs_machines()
    {
        var fast = Enumerable.Range(1, 50).Select(n => new FakeInstance($"i-{n:x8}")).ToList();
        var slow = Enumerable.Range(100, 5).Select(n => new FakeInstance($"i-{n:x8}", Platform.Windows) { HoldGenkey = true }).ToList();
        var aws = new FakeAws(_arm, [.. fast, .. slow]);
        using var reconciler = Reconciler(aws, aws, _arm);
        var slowStillInGenkey = false;

        var report = await RunAsync(
            reconciler,
            pauseWhen: () => fast.All(i => i.AgentConnected),
            atPause: () =>
            {
                // Every fast instance is connected while the slow batch has not even printed its keys.
                slowStillInGenkey = slow.All(i => _store.Get(i.Id).Stage == OnboardingStage.KeyRequested) && _arm.Machines.Count == 50;
                aws.ReleaseHeld();
            });

        slowStillInGenkey.ShouldBeTrue();
        report.Count(Outcome.Onboarded).ShouldBe(55);
        aws.Sent.Count(s => s.Script.Contains("connect existing", StringComparison.Ordinal)).ShouldBe(2);
    }

    [Fact]
    public async Task No_more_keys_are_asked_for_than_the_window_allows_ahead_of_machine_creation()
    {
        var aws = new FakeAws(_arm, Enumerable.Range(1, 200).Select(n => new FakeInstance($"i-{n:x8}")).ToArray());
        var recorder = new SendRecorder(aws, () => _arm.Machines.Count);
        using var reconciler = Reconciler(aws, recorder, _arm, maxKeysAhead: 100);

        var report = await RunAsync(reconciler);

        report.Count(Outcome.Onboarded).ShouldBe(200);
        var genkeys = recorder.MachinesAtGenkeySend;
        genkeys.Count.ShouldBe(4);
        // Two batches fill the window; each later one goes only once a batch's worth of machines exist.
        genkeys[0].ShouldBe(0);
        genkeys[1].ShouldBe(0);
        genkeys[2].ShouldBeGreaterThanOrEqualTo(50);
        genkeys[3].ShouldBeGreaterThanOrEqualTo(100);
    }

    [Fact]
    public async Task Instances_that_leave_genkey_without_a_key_free_their_place_in_the_window()
    {
        var absent = Enumerable.Range(1, 50).Select(n => new FakeInstance($"i-{n:x8}") { AgentInstalled = false });
        var garbage = Enumerable.Range(51, 50).Select(n => new FakeInstance($"i-{n:x8}") { GarbageOutput = "no markers here" });
        var fine = Enumerable.Range(101, 50).Select(n => new FakeInstance($"i-{n:x8}"));
        var aws = new FakeAws(_arm, [.. absent, .. garbage, .. fine]);
        using var reconciler = Reconciler(aws, aws, _arm, maxKeysAhead: 50);

        var report = await RunAsync(reconciler);

        report.Count(Outcome.Skipped).ShouldBe(50);
        report.Count(Outcome.Failed).ShouldBe(50);
        report.Count(Outcome.Onboarded).ShouldBe(50);
    }

    [Fact]
    public async Task A_store_that_fails_during_creation_ends_the_pass_with_its_error_instead_of_wedging_it()
    {
        var aws = new FakeAws(_arm, Enumerable.Range(1, 150).Select(n => new FakeInstance($"i-{n:x8}")).ToArray());
        _store.FailSave = record => record.Stage == OnboardingStage.MachineCreating ? new IOException("No space left on device") : null;
        using var reconciler = Reconciler(aws, aws, _arm, maxKeysAhead: 50);

        var error = await Should.ThrowAsync<IOException>(() => RunAsync(reconciler));

        error.Message.ShouldBe("No space left on device");
        _arm.Machines.ShouldBeEmpty();
    }

    [Fact]
    public async Task Machines_a_listing_confirms_are_saved_together_not_one_commit_each()
    {
        var aws = new FakeAws(_arm, Enumerable.Range(1, 60).Select(n => new FakeInstance($"i-{n:x8}")).ToArray());
        using var reconciler = Reconciler(aws, aws, _arm);
        (await RunAsync(reconciler)).Count(Outcome.Onboarded).ShouldBe(60);
        var (saves, saveAlls) = (_store.Saves, _store.SaveAllCalls);

        var again = await RunAsync(reconciler);

        again.Count(Outcome.AlreadyConnected).ShouldBe(60);
        (_store.Saves - saves).ShouldBe(0);
        (_store.SaveAllCalls - saveAlls).ShouldBe(1);
    }

    [Fact]
    public async Task A_command_that_has_gone_quiet_is_read_less_often_until_its_deadline()
    {
        var aws = new FakeAws(_arm, new FakeInstance("i-00000001")) { Hang = true };
        using var reconciler = Reconciler(aws, aws, _arm);
        var start = _time.GetUtcNow();

        var report = await RunAsync(reconciler);

        report.Instances.Single().Reason.ShouldContain("no result");
        // Five minutes of execution timeout and one of delivery grace: read every 2 s that would be 180 reads. Read every
        // 2 s for the first 16 s, then backing off by half each quiet read to at most every 8 s, it is about 53.
        var waited = (_time.GetUtcNow() - start).TotalSeconds;
        waited.ShouldBeGreaterThanOrEqualTo(360);
        aws.ListCalls.ShouldBeInRange(40, 60);
    }

    [Fact]
    public async Task A_created_machine_trickle_is_connected_once_creation_goes_quiet()
    {
        var aws = new FakeAws(_arm, new FakeInstance("i-00000001"), new FakeInstance("i-00000002"));
        using var reconciler = Reconciler(aws, aws, _arm);

        var report = await RunAsync(reconciler);

        report.Count(Outcome.Onboarded).ShouldBe(2);
        var connect = aws.Sent.Single(s => s.Script.Contains("connect existing", StringComparison.Ordinal));
        connect.InstanceIds.Order().ShouldBe(["i-00000001", "i-00000002"]);
        // Nothing held it back beyond one linger of a poll interval or two.
        _time.GetUtcNow().ShouldBeLessThan(new DateTimeOffset(2026, 12, 1, 0, 0, 30, TimeSpan.Zero));
    }

    [Fact]
    public async Task Batched_creation_writes_once_per_machine_and_reads_no_machine_before_its_put()
    {
        var aws = new FakeAws(_arm, Enumerable.Range(1, 60).Select(n => new FakeInstance($"i-{n:x8}")).ToArray());
        using var reconciler = Reconciler(aws, aws, _arm);

        var report = await RunAsync(reconciler);

        report.Count(Outcome.Onboarded).ShouldBe(60);
        _arm.Writes.ShouldBe(60 + 1);
        // One listing before creation and one to verify; no GET per machine.
        _arm.Reads.ShouldBe(2);
    }

    [Fact]
    public async Task The_per_instance_strategy_sends_one_command_per_instance_and_step_and_polls_each_invocation()
    {
        var aws = new FakeAws(_arm, new FakeInstance("i-00000001"), new FakeInstance("i-00000002"), new FakeInstance("i-00000003", Platform.Windows));
        using var reconciler = Reconciler(aws, aws, _arm, OnboardingStrategy.PerInstance);

        var report = await RunAsync(reconciler);

        report.Count(Outcome.Onboarded).ShouldBe(3);
        aws.Sent.Count.ShouldBe(6);
        aws.Sent.ShouldAllBe(s => s.InstanceIds.Length == 1);
        aws.ListCalls.ShouldBe(0);
        aws.GetCalls.ShouldBeGreaterThanOrEqualTo(6);
        // Each machine is read before its PUT and again to verify it.
        _arm.Reads.ShouldBeGreaterThanOrEqualTo(6);
        _arm.Writes.ShouldBe(3 + 1);
    }

    [Fact]
    public async Task The_per_instance_strategy_announces_connect_once_when_the_first_instance_gets_there()
    {
        var aws = new FakeAws(_arm, new FakeInstance("i-00000001"), new FakeInstance("i-00000002"));
        using var reconciler = Reconciler(aws, aws, _arm, OnboardingStrategy.PerInstance);
        var observer = new RecordingObserver();

        await RunAsync(reconciler, observer: observer);

        var events = observer.Events.ToList();
        events.Count(e => e == "started connect").ShouldBe(1);
        events.IndexOf("started connect").ShouldBeGreaterThan(events.IndexOf("progress create-machine"));
        events.IndexOf("progress create-machine").ShouldBeGreaterThan(events.IndexOf("started genkey"));
    }

    [Fact]
    public async Task The_listing_is_announced_before_the_verdicts_it_reaches_on_its_own()
    {
        var aws = new FakeAws(_arm, new FakeInstance("i-00000001") { State = "stopped" }, new FakeInstance("i-00000002"));
        using var reconciler = Reconciler(aws, aws, _arm);
        var observer = new RecordingObserver();

        await RunAsync(reconciler, observer: observer);

        observer.Events.ToList().ShouldBe(["listed", "finished", "started genkey", "progress genkey", "progress create-machine", "started connect", "progress connect", "started verify", "finished"]);
    }

    [Fact]
    public async Task A_key_another_instance_printed_in_the_same_pass_is_refused_and_no_machine_is_made_for_it()
    {
        var aws = new FakeAws(_arm, new FakeInstance("i-00000001"), new FakeInstance("i-00000002")) { SharedKey = FakeAws.NewPublicKey() };
        using var reconciler = Reconciler(aws, aws, _arm);

        var report = await RunAsync(reconciler);

        report.Count(Outcome.Onboarded).ShouldBe(1);
        var refused = report.Instances.Single(i => i.Outcome == Outcome.Failed);
        refused.FailedStep.ShouldBe("genkey");
        refused.Reason.ShouldContain("already registered for instance 111111111111/us-east-1/");
        _arm.Machines.Count.ShouldBe(1);
    }

    [Fact]
    public async Task A_key_already_recorded_for_an_instance_of_another_account_is_refused()
    {
        var key = FakeAws.NewPublicKey();
        await _store.SaveAsync(new InstanceRecord
        {
            Key = new InstanceKey("222222222222", "us-west-2", "i-0ther"),
            Platform = Platform.Linux,
            Stage = OnboardingStage.Connected,
            PublicKey = key,
        }, CancellationToken.None);
        var aws = new FakeAws(_arm, new FakeInstance("i-00000001")) { SharedKey = key };
        using var reconciler = Reconciler(aws, aws, _arm);

        var report = await RunAsync(reconciler);

        var only = report.Instances.Single();
        only.Outcome.ShouldBe(Outcome.Failed);
        only.Reason.ShouldContain("222222222222/us-west-2/i-0ther");
        _arm.Machines.ShouldBeEmpty();
        _store.Get("i-00000001").Stage.ShouldBe(OnboardingStage.Discovered);
    }

    [Fact]
    public async Task Throttling_from_ssm_and_arm_never_fails_an_instance_however_long_it_lasts()
    {
        var gate = new QuotaGate(_time);
        // Far more throttles in a row than the five attempts a failing call gets.
        var aws = new FakeAws(_arm, new FakeInstance("i-00000001"), new FakeInstance("i-00000002", Platform.Windows)) { ThrottleSends = 12 };
        for (var i = 0; i < 12; i++)
        {
            _arm.WriteFaults.Enqueue(new CloudException("arm", "TooManyRequests", "throttled", isTransient: true, TimeSpan.FromSeconds(3), 429));
        }

        using var reconciler = Reconciler(new PacedInventory(aws, gate), new PacedRunCommand(aws, gate), new PacedArcMachines(_arm, gate));

        var report = await RunAsync(reconciler);

        report.Instances.ShouldAllBe(i => i.Outcome == Outcome.Onboarded);
        _arm.WriteFaults.ShouldBeEmpty();
        gate.Snapshot(QuotaKey.SsmSend(FakeAws.Scope)).Throttles.ShouldBeGreaterThan(0);
    }

    [Fact]
    public async Task Throttling_does_not_use_up_the_attempts_of_an_unpaced_call_either()
    {
        var aws = new FakeAws(_arm, new FakeInstance("i-00000001")) { ThrottleSends = 9 };
        using var reconciler = Reconciler(aws, aws, _arm);

        var report = await RunAsync(reconciler);

        report.Instances.Single().Outcome.ShouldBe(Outcome.Onboarded);
    }

    private sealed class RecordingObserver : ISyncObserver
    {
        public System.Collections.Concurrent.ConcurrentQueue<string> Events { get; } = new();

        public void ScopeListed(AwsScope scope, int instances, int eligible) => Events.Enqueue("listed");

        public void StepStarted(AwsScope scope, OnboardingStep step, int instances) => Events.Enqueue($"started {step.Name()}");

        public void StepProgress(AwsScope scope, OnboardingStep step) => Events.Enqueue($"progress {step.Name()}");

        public void InstanceFinished(InstanceReport report) => Events.Enqueue("finished");

        public void ScopeFailed(ScopeError error) => Events.Enqueue("failed");
    }
}

/// <summary>Notes how many machines existed each time a genkey command went out.</summary>
internal sealed class SendRecorder(IRunCommand inner, Func<int> machines) : IRunCommand
{
    private readonly Lock _lock = new();

    public List<int> MachinesAtGenkeySend { get; } = [];

    public Task<string> SendAsync(AwsScope scope, Platform platform, IReadOnlyList<string> instanceIds, string script, TimeSpan executionTimeout, CancellationToken cancellationToken)
    {
        if (!script.Contains("connect existing", StringComparison.Ordinal))
        {
            lock (_lock)
            {
                MachinesAtGenkeySend.Add(machines());
            }
        }

        return inner.SendAsync(scope, platform, instanceIds, script, executionTimeout, cancellationToken);
    }

    public Task<IReadOnlyList<CommandInvocation>> ListInvocationsAsync(AwsScope scope, string commandId, CancellationToken cancellationToken) =>
        inner.ListInvocationsAsync(scope, commandId, cancellationToken);

    public Task<CommandInvocation?> GetInvocationAsync(AwsScope scope, string commandId, string instanceId, CancellationToken cancellationToken) =>
        inner.GetInvocationAsync(scope, commandId, instanceId, cancellationToken);
}
