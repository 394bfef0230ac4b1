using Arcboard.Sandbox.Fleet;
using Arcboard.Sandbox.Realism;

namespace Arcboard.Sandbox.Tests.Realism;

public sealed class HttpFaultsTests
{
    [Fact]
    public void Cued_faults_fire_on_exactly_the_next_requests_then_stop()
    {
        var faults = new HttpFaults(seed: 7);
        faults.Next(HttpFaultKinds.Arm429, 3);

        Enumerable.Range(0, 5).Select(_ => faults.ShouldInject(HttpFaultKinds.Arm429)).ShouldBe([true, true, true, false, false]);
        faults.ShouldInject(HttpFaultKinds.Arm5xx).ShouldBeFalse();
    }

    [Fact]
    public void Rates_are_drawn_from_the_seed_so_a_run_repeats()
    {
        static List<bool> Draw(int seed)
        {
            var faults = new HttpFaults(seed);
            faults.Set(HttpFaultKinds.Arm5xx, 0.3);
            return [.. Enumerable.Range(0, 1000).Select(_ => faults.ShouldInject(HttpFaultKinds.Arm5xx))];
        }

        var first = Draw(42);
        first.ShouldBe(Draw(42));
        first.ShouldNotBe(Draw(43));
        first.Count(hit => hit).ShouldBeInRange(240, 360);
    }

    [Fact]
    public void Clear_stops_everything_and_the_snapshot_says_what_is_set()
    {
        var faults = new HttpFaults(1);
        faults.Set(HttpFaultKinds.SsmThrottling, 0.5);
        faults.Next(HttpFaultKinds.ArmDrop, 2);
        faults.Snapshot().ShouldBe([new HttpFaultSetting("arm-drop", 0, 2), new HttpFaultSetting("ssm-throttling", 0.5, 0)]);

        faults.Clear();
        faults.Snapshot().ShouldBeEmpty();
        faults.ShouldInject(HttpFaultKinds.ArmDrop).ShouldBeFalse();
    }

    [Fact]
    public void Unknown_kinds_and_bad_rates_are_refused_naming_the_fix()
    {
        Should.Throw<ArgumentException>(() => new HttpFaults(1).Set("arm-500", 0.1)).Message.ShouldContain("arm-5xx");
        Should.Throw<ArgumentOutOfRangeException>(() => new HttpFaults(1).Set("arm-5xx", 1.5));
        HttpFaults.ParseRates("arm-5xx=0.05, ssm-throttling=0.1").ShouldBe([("arm-5xx", 0.05), ("ssm-throttling", 0.1)]);
        Should.Throw<SandboxConfigurationException>(() => HttpFaults.ParseRates("arm-5xx")).Message.ShouldContain("KIND=RATE");
        Should.Throw<SandboxConfigurationException>(() => HttpFaults.ParseRates("disk-full=0.1")).Message.ShouldContain("unknown fault kind 'disk-full'");
        Should.Throw<SandboxConfigurationException>(() => HttpFaults.ParseRates("arm-5xx=2")).Message.ShouldContain("between 0 and 1");
    }
}
