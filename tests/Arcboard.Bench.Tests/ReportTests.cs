using System.Text.Json.Nodes;
using Arcboard.Bench;

namespace Arcboard.Bench.Tests;

public class ReportTests
{
    private static readonly BenchFleet Fleet = BenchFleet.Generate(1000, seed: 1);

    // The fleet the efficiency and memory targets are stated for, so that every check is judged.
    private static readonly BenchFleet TargetFleet = BenchFleet.Generate(BenchReport.TargetFleetSize, seed: 1);

    private const string ConnectorJson = """
        {
          "summary": { "total": 3, "onboarded": 1, "alreadyConnected": 0, "skipped": 0, "failed": 2, "scopeErrors": 0 },
          "instances": [
            { "instanceId": "i-01", "outcome": "Onboarded", "reason": "onboarded", "failedStep": null },
            { "instanceId": "i-02", "outcome": "Failed", "reason": "ARM answered 429 TooManyRequests after 6 attempts", "failedStep": "create-machine" },
            { "instanceId": "i-03", "outcome": "Failed", "reason": "AZCM0041: invalid credentials", "failedStep": "connect" }
          ],
          "errors": []
        }
        """;

    [Fact]
    public void The_connector_report_gives_outcomes_and_failures_caused_by_throttling()
    {
        var report = ConnectorReport.Parse(ConnectorJson);

        report.Outcomes["onboarded"].ShouldBe(1);
        report.Outcomes["failed"].ShouldBe(2);
        report.FailedForThrottling.ShouldBe(1);
        report.SampleFailures.Count.ShouldBe(2);
        report.SampleFailures[0].ShouldStartWith("i-02 at create-machine:");
    }

    [Theory]
    [InlineData("")]
    [InlineData("not json")]
    [InlineData("{\"instances\":[]}")]
    public void Anything_but_a_report_is_a_format_error(string text) =>
        Should.Throw<FormatException>(() => ConnectorReport.Parse(text)).Message.ShouldStartWith("the connector's");

    [Fact]
    public void A_batched_run_within_every_target_passes_every_check()
    {
        var bound = new LowerBoundResult(90, "ARM", []);
        var batched = Result(BenchReport.Batched, makespan: 100, sendCommands: 2 * TargetFleet.MinimumCommandsPerStep(), ssmOther: 100, peakMb: 250, machines: TargetFleet.Instances);
        var perInstance = Result(BenchReport.PerInstance, makespan: 400, sendCommands: 20000, ssmOther: 40000, peakMb: 400, machines: TargetFleet.Instances);

        var checks = BenchReport.Checks(TargetFleet, bound, [batched, perInstance]);

        // At 10,000 every check is judged but the growth bound, which speaks only of larger fleets.
        checks["batchedPeakMemoryBelowLinearGrowth"].ShouldBeNull();
        checks.Where(c => c.Key != "batchedPeakMemoryBelowLinearGrowth").Select(c => (c.Key, (bool?)c.Value)).ShouldAllBe(c => c.Item2 == true);
        BenchReport.AllChecksPassed(new JsonObject { ["checks"] = checks }).ShouldBeTrue();
    }

    [Fact]
    public void Each_check_fails_on_its_own_target()
    {
        var bound = new LowerBoundResult(80, "ARM", []);
        var batched = Result(BenchReport.Batched, makespan: 100, sendCommands: 2 * TargetFleet.MinimumCommandsPerStep() + 1, ssmOther: 5000, peakMb: 300, extraArmWrites: 1, failedForThrottling: 1, machines: TargetFleet.Instances);
        var perInstance = Result(BenchReport.PerInstance, makespan: 99, sendCommands: 20000, ssmOther: 30000, peakMb: 400, machines: TargetFleet.Instances);

        var checks = BenchReport.Checks(TargetFleet, bound, [batched, perInstance]);

        checks["batchedPeakMemoryBelowLinearGrowth"].ShouldBeNull();
        checks.Where(c => c.Key != "batchedPeakMemoryBelowLinearGrowth").Select(c => (c.Key, (bool?)c.Value)).ShouldAllBe(c => c.Item2 == false);
        BenchReport.AllChecksPassed(new JsonObject { ["checks"] = checks }).ShouldBeFalse();
    }

    [Fact]
    public void Checks_that_need_a_strategy_not_run_are_null()
    {
        var batched = Result(BenchReport.Batched, makespan: 100, sendCommands: 10, ssmOther: 10, peakMb: 100);

        var checks = BenchReport.Checks(Fleet, new LowerBoundResult(90, "ARM", []), [batched]);

        checks["batchedFaster"].ShouldBeNull();
        checks["batchedAtLeast10xFewerSsmCalls"].ShouldBeNull();
        checks["batchedPeakMemoryUnder300Mb"]!.GetValue<bool>().ShouldBeTrue();
    }

    [Fact]
    public void The_efficiency_target_is_not_judged_below_10000_instances_nor_the_memory_target_above()
    {
        var bound = new LowerBoundResult(9.5, "ARM", []);
        var slowStart = Result(BenchReport.Batched, makespan: 13.5, sendCommands: 10, ssmOther: 10, peakMb: 150);
        var small = BenchReport.Checks(BenchFleet.Generate(1000, seed: 1), bound, [slowStart]);
        small["batchedEfficiencyAtLeast085"].ShouldBeNull();
        small["batchedPeakMemoryUnder300Mb"]!.GetValue<bool>().ShouldBeTrue();

        var big = Result(BenchReport.Batched, makespan: 540, sendCommands: 10, ssmOther: 10, peakMb: 668);
        var large = BenchReport.Checks(BenchFleet.Generate(50_000, seed: 1), new LowerBoundResult(499.5, "ARM", []), [big]);
        large["batchedEfficiencyAtLeast085"]!.GetValue<bool>().ShouldBeTrue();
        large["batchedPeakMemoryUnder300Mb"].ShouldBeNull();
        large["batchedPeakMemoryBelowLinearGrowth"]!.GetValue<bool>().ShouldBeTrue();
        small["batchedPeakMemoryBelowLinearGrowth"].ShouldBeNull();
    }

    [Fact]
    public void Above_10000_instances_memory_that_grows_as_fast_as_the_fleet_fails()
    {
        var bound = new LowerBoundResult(499.5, "ARM", []);
        var linear = Result(BenchReport.Batched, makespan: 540, sendCommands: 10, ssmOther: 10, peakMb: 1500);

        var checks = BenchReport.Checks(BenchFleet.Generate(50_000, seed: 1), bound, [linear]);

        checks["batchedPeakMemoryBelowLinearGrowth"]!.GetValue<bool>().ShouldBeFalse();
        BenchReport.AllChecksPassed(new JsonObject { ["checks"] = checks }).ShouldBeFalse();
    }

    [Fact]
    public void The_document_has_the_documented_shape()
    {
        var bound = new LowerBoundResult(45, "ARM writes", [new BoundTerm("ARM writes", 45)]);
        var batched = Result(BenchReport.Batched, makespan: 50, sendCommands: 40, ssmOther: 60, peakMb: 123.4567);

        var document = JsonNode.Parse(BenchReport.ToJson(BenchReport.Build(1000, "compressed", Fleet, bound, [batched], BenchReport.Measurement)))!;

        document["instances"]!.GetValue<int>().ShouldBe(1000);
        document["fleet"]!["regions"]!.GetValue<int>().ShouldBe(3);
        var strategy = document["strategies"]!["batched"]!;
        strategy["efficiency"]!.GetValue<double>().ShouldBe(0.9);
        strategy["lowerBoundSeconds"]!.GetValue<double>().ShouldBe(45);
        strategy["calls"]!["ssm:SendCommand"]!.GetValue<long>().ShouldBe(40);
        strategy["callsPerInstance"]!.GetValue<double>().ShouldBe((40 + 60 + 1003 + 2) / 1000.0);
        strategy["peakMemoryMb"]!.GetValue<double>().ShouldBe(123.457);
        strategy["outcomes"]!["onboarded"]!.GetValue<long>().ShouldBe(1000);
        strategy["phasesSeconds"]!["lastConnected"]!.GetValue<double>().ShouldBe(4);
        strategy["sendCommandsPer50Instances"]!.GetValue<double>().ShouldBe(2);
        document["measurement"]!.GetValue<string>().ShouldContain("VmHWM");
    }

    private static StrategyResult Result(string strategy, double makespan, long sendCommands, long ssmOther, double peakMb, int extraArmWrites = 0, int failedForThrottling = 0, int machines = 1000) => new()
    {
        Strategy = strategy,
        ExitCode = 0,
        MakespanSeconds = makespan,
        CpuSeconds = 1,
        PeakMemoryMb = peakMb,
        Samples = 10,
        Calls = new Dictionary<string, long>
        {
            ["ssm:SendCommand"] = sendCommands,
            ["ssm:ListCommandInvocations"] = ssmOther,
            ["arm:PutMachine"] = machines + extraArmWrites + 3,
            ["arm:PutResourceGroup"] = 2,
        },
        // Three throttled PUTs changed nothing, so they are not writes.
        Throttled = new Dictionary<string, long> { ["arm:PutMachine"] = 3 },
        Modelled = [],
        Report = new ConnectorReport(new Dictionary<string, long> { ["onboarded"] = machines }, failedForThrottling, []),
        ResourceGroups = 2,
        Phases = new RunPhases(1, 2, 3, 4),
        SandboxCpuSeconds = 1,
    };

    [Fact]
    public void Phases_are_seconds_after_the_start_of_the_first_and_last_creations_and_connections()
    {
        var start = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

        var phases = RunPhases.From([(start.AddSeconds(2), start.AddSeconds(5)), (start.AddSeconds(9), null), (start.AddSeconds(4), start.AddSeconds(12))], start);

        phases.ShouldBe(new RunPhases(2, 9, 5, 12));
        RunPhases.From([], start).ShouldBe(new RunPhases(null, null, null, null));
    }
}
