using System.Text.Json.Nodes;
using Arcboard.Bench;

namespace Arcboard.Bench.Tests;

public class OptionsTests
{
    [Fact]
    public void Defaults_are_ten_thousand_compressed_both_strategies()
    {
        var options = BenchOptions.Parse([], out var error).ShouldNotBeNull();

        error.ShouldBeNull();
        options.Instances.ShouldBe(10_000);
        options.Profile.ShouldBe("compressed");
        options.Strategies.ShouldBe(["batched", "per-instance"]);
    }

    [Fact]
    public void Flags_take_their_value_after_a_space_or_an_equals_sign()
    {
        var options = BenchOptions.Parse(["--instances", "50000", "--strategies=batched", "--output", "r.json", "--profile=realistic", "--keep"], out _).ShouldNotBeNull();

        options.Instances.ShouldBe(50_000);
        options.Strategies.ShouldBe(["batched"]);
        options.OutputFile.ShouldBe("r.json");
        options.Profile.ShouldBe("realistic");
        options.Keep.ShouldBeTrue();
    }

    [Theory]
    [InlineData("--instances", "0", "--instances: '0' is not allowed")]
    [InlineData("--instances", "ten", "--instances: 'ten' is not allowed")]
    [InlineData("--strategies", "batched,fast", "--strategies: 'batched,fast' is not allowed")]
    [InlineData("--seed", "x", "--seed: 'x' is not a whole number")]
    [InlineData("--frobnicate", "1", "unknown argument '--frobnicate'")]
    public void Bad_flags_are_one_line_naming_the_flag(string flag, string value, string expected)
    {
        BenchOptions.Parse([flag, value], out var error).ShouldBeNull();

        error.ShouldNotBeNull().ShouldStartWith(expected);
        error.ShouldNotContain('\n');
    }

    [Fact]
    public void A_flag_without_its_value_says_so()
    {
        BenchOptions.Parse(["--instances", "--keep"], out var error).ShouldBeNull();
        error.ShouldNotBeNull().ShouldStartWith("--instances needs a value");
    }

    [Fact]
    public void The_profile_document_maps_to_the_bound_model()
    {
        var profile = JsonNode.Parse("""
            { "name": "compressed", "timeScale": 10,
              "latencies": { "commandDelivery": 0.2, "scriptRun": 0.05, "genkey": 0.15, "connect": 0.8, "armWrite": 0.02, "armRead": 0.01 },
              "quotas": { "armWrites": { "burst": 200, "refillPerSecond": 100 }, "armReads": { "burst": 250, "refillPerSecond": 250 },
                          "armDeletes": { "burst": 200, "refillPerSecond": 100 }, "ec2Reads": { "burst": 100, "refillPerSecond": 200 },
                          "ssmSendCommand": { "burst": 10, "refillPerSecond": 50 }, "ssmReads": { "burst": 40, "refillPerSecond": 200 } } }
            """);

        var model = ProfileBound.FromProfileJson(profile);

        model.ArmWrites.ShouldBe(new TokenBucket(200, 100));
        model.SendCommand.ShouldBe(new TokenBucket(10, 50));
        model.GenKeyRun.TotalSeconds.ShouldBe(0.2, tolerance: 1e-9);
        model.ConnectRun.TotalSeconds.ShouldBe(0.85, tolerance: 1e-9);
        model.CommandDelivery.TotalSeconds.ShouldBe(0.2, tolerance: 1e-9);
    }

    [Fact]
    public void A_profile_without_quotas_limits_nothing()
    {
        var model = ProfileBound.FromProfileJson(JsonNode.Parse("""{ "name": "instant", "latencies": { "commandDelivery": 0 }, "quotas": null }"""));

        model.ArmWrites.ShouldBeNull();
        model.SendCommand.ShouldBeNull();
        model.CommandDelivery.ShouldBe(TimeSpan.Zero);
    }
}
