using Arcboard.Chaos;
using Xunit.Abstractions;

namespace Arcboard.EndToEnd.Tests;

/// <summary>
/// A short chaos run: a real <c>arcboard sync</c> process SIGKILLed at seeded moments while the fleet changes and the
/// sandbox injects whatever faults it offers, then left to converge. The invariants are read from the sandbox.
/// </summary>
[Trait("Category", "EndToEnd")]
public sealed class ChaosTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Kills_and_faults_leave_every_eligible_instance_with_one_connected_machine_and_nothing_leaked()
    {
        var options = new ChaosOptions
        {
            CliPath = Path.Combine(AppContext.BaseDirectory, "arcboard.dll"),
            Instances = 20,
            Kills = 5,
            Seed = 20_240_601,
            // Counted from the connector's first line: kills spread over the second or two of real work a pass has here.
            MinKillDelay = TimeSpan.FromSeconds(0.2),
            MaxKillDelay = TimeSpan.FromSeconds(2),
            MaxConvergencePasses = 4,
            SyncTimeout = TimeSpan.FromMinutes(3),
            Progress = output.WriteLine,
        };

        var report = await new ChaosRun(options).RunAsync(CancellationToken.None);
        output.WriteLine(report.ToJson());

        report.Kills.ShouldBe(5);
        report.Eligible.ShouldBeGreaterThan(0);
        report.InvariantsHeld.ShouldBeTrue(string.Join("\n", report.Violations));
        report.Onboarded.ShouldBe(report.Eligible);
    }
}
