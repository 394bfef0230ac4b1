using Arcboard.Bench;

namespace Arcboard.Bench.Tests;

public class LowerBoundTests
{
    // The compressed profile's figures: ARM writes 200 burst, 100/s; SendCommand 10 burst, 50/s.
    private static readonly BoundModel Compressed = new()
    {
        ArmWrites = new TokenBucket(200, 100),
        SendCommand = new TokenBucket(10, 50),
        Ec2Reads = new TokenBucket(100, 200),
        SsmReads = new TokenBucket(40, 200),
        CommandDelivery = TimeSpan.FromSeconds(0.2),
        GenKeyRun = TimeSpan.FromSeconds(0.2),
        ConnectRun = TimeSpan.FromSeconds(0.85),
        ArmWriteLatency = TimeSpan.FromSeconds(0.02),
        ArmReadLatency = TimeSpan.FromSeconds(0.01),
    };

    [Fact]
    public void Ten_thousand_instances_are_bound_by_the_arm_write_bucket_after_the_first_key()
    {
        var bound = LowerBound.Compute(new FleetShape([4000, 3000, 3000], ResourceGroups: 2), Compressed);

        bound.Bottleneck.ShouldBe("ARM writes: machines after the first key");
        // delivery + genkey, then (10000 - 200) / 100 s of writes, then PUT latency + delivery + connect + one read.
        bound.Seconds.ShouldBe(0.4 + 98 + (0.02 + 0.2 + 0.85 + 0.01), tolerance: 1e-9);
    }

    [Fact]
    public void The_bound_is_the_largest_term()
    {
        var bound = LowerBound.Compute(new FleetShape([4000, 3000, 3000], 2), Compressed);

        bound.Terms.Count.ShouldBe(6);
        bound.Seconds.ShouldBe(bound.Terms.Max(t => t.Seconds));
    }

    [Fact]
    public void Resource_groups_count_against_the_write_bucket_from_time_zero()
    {
        // With no latency the prefix is empty, so machines plus groups is the larger write term.
        var model = new BoundModel { ArmWrites = new TokenBucket(10, 5) };

        var bound = LowerBound.Compute(new FleetShape([100], ResourceGroups: 5), model);

        bound.Bottleneck.ShouldBe("ARM writes: machines and resource groups");
        bound.Seconds.ShouldBe((105 - 10) / 5.0, tolerance: 1e-9);
    }

    [Fact]
    public void A_tight_send_command_bucket_becomes_the_bottleneck_of_the_largest_scope()
    {
        var model = Compressed with { SendCommand = new TokenBucket(2, 1) };

        var bound = LowerBound.Compute(new FleetShape([500, 120], 2), model);

        bound.Bottleneck.ShouldBe("SSM SendCommand per account and region");
        // 500 instances: 10 genkey + 10 connect commands, 2 free, 18 at 1/s; then delivery + connect + read.
        bound.Seconds.ShouldBe(18 + 0.2 + 0.85 + 0.01, tolerance: 1e-9);
    }

    [Fact]
    public void Without_quotas_only_the_critical_path_of_one_instance_remains()
    {
        var model = Compressed with { ArmWrites = null, SendCommand = null, Ec2Reads = null, SsmReads = null };

        var bound = LowerBound.Compute(new FleetShape([10_000], 1), model);

        bound.Terms.ShouldHaveSingleItem();
        bound.Seconds.ShouldBe(0.2 + 0.2 + 0.02 + 0.2 + 0.85 + 0.01, tolerance: 1e-9);
    }

    [Fact]
    public void An_unlimited_sandbox_and_an_empty_fleet_are_bound_by_nothing()
    {
        LowerBound.Compute(new FleetShape([1000], 1), BoundModel.Unlimited).Seconds.ShouldBe(0);
        LowerBound.Compute(new FleetShape([0, 0], 0), Compressed).Seconds.ShouldBe(0);
    }

    [Theory]
    [InlineData(0, 0)]
    [InlineData(200, 0)]
    [InlineData(201, 0.01)]
    [InlineData(1200, 10)]
    public void Drain_is_the_time_the_last_call_can_pass_a_bucket_that_starts_full(long calls, double seconds) =>
        LowerBound.Drain(calls, new TokenBucket(200, 100)).ShouldBe(seconds, tolerance: 1e-9);
}
