using Arcboard.Sandbox.Fleet;
using Arcboard.Sandbox.Realism;

namespace Arcboard.Sandbox.Tests.Realism;

public sealed class SandboxProfileTests
{
    [Fact]
    public void Realistic_holds_the_published_arm_and_ec2_quotas_and_the_documented_ssm_assumptions()
    {
        var q = SandboxProfile.Realistic.Quotas!;
        q.ArmWrites.ShouldBe(new BucketSpec(200, 10));
        q.ArmReads.ShouldBe(new BucketSpec(250, 25));
        q.ArmDeletes.ShouldBe(new BucketSpec(200, 10));
        q.Ec2Reads.ShouldBe(new BucketSpec(100, 20));
        q.SsmSendCommand.ShouldBe(new BucketSpec(10, 5));
        q.SsmReads.ShouldBe(new BucketSpec(40, 20));
        SandboxProfile.Realistic.Latencies.Connect.ShouldBe(TimeSpan.FromSeconds(8));
    }

    [Fact]
    public void Compressed_is_realistic_ten_times_faster_with_bursts_unchanged()
    {
        var c = SandboxProfile.Compressed;
        c.Name.ShouldBe("compressed");
        c.TimeScale.ShouldBe(10);
        c.Quotas!.ArmWrites.ShouldBe(new BucketSpec(200, 100));
        c.Quotas.SsmReads.ShouldBe(new BucketSpec(40, 200));
        c.Latencies.ArmWrite.ShouldBe(TimeSpan.FromMilliseconds(20));
        c.Latencies.CommandDelivery.ShouldBe(TimeSpan.FromMilliseconds(200));
    }

    [Fact]
    public void Instant_has_no_latency_and_no_quota()
    {
        SandboxProfile.Instant.Quotas.ShouldBeNull();
        SandboxProfile.Instant.Latencies.ShouldBe(LatencyProfile.None);
    }

    [Fact]
    public void Resolve_applies_a_time_scale_to_the_realistic_values_and_refuses_nonsense_clearly()
    {
        var fast = SandboxProfile.Resolve("compressed", 4);
        fast.TimeScale.ShouldBe(4);
        fast.Quotas!.ArmReads.RefillPerSecond.ShouldBe(100);
        SandboxProfile.Resolve("Realistic").ShouldBe(SandboxProfile.Realistic);

        Should.Throw<SandboxConfigurationException>(() => SandboxProfile.Resolve("fast")).Message.ShouldContain("instant, realistic, compressed");
        Should.Throw<SandboxConfigurationException>(() => SandboxProfile.Resolve("realistic", 0)).Message.ShouldContain("--time-scale");
        Should.Throw<SandboxConfigurationException>(() => SandboxProfile.Resolve("instant", 2)).Message.ShouldContain("--profile realistic");
    }

    [Fact]
    public void Json_gives_seconds_as_numbers_in_the_profiles_own_clock()
    {
        var json = SandboxProfile.Compressed.ToJson();

        json["name"]!.GetValue<string>().ShouldBe("compressed");
        json["timeScale"]!.GetValue<double>().ShouldBe(10);
        json["latencies"]!["armWrite"]!.GetValue<double>().ShouldBe(0.02, 1e-9);
        json["latencies"]!["connect"]!.GetValue<double>().ShouldBe(0.8, 1e-9);
        json["quotas"]!["armWrites"]!["burst"]!.GetValue<int>().ShouldBe(200);
        json["quotas"]!["ssmSendCommand"]!["refillPerSecond"]!.GetValue<double>().ShouldBe(50);
        SandboxProfile.Instant.ToJson()["quotas"].ShouldBeNull();
    }
}
