using Arcboard.Bench;
using Arcboard.Sandbox.Fleet;

namespace Arcboard.Bench.Tests;

public class BenchFleetTests
{
    [Fact]
    public void The_fleet_spans_two_accounts_and_three_regions_a_fifth_windows()
    {
        var fleet = BenchFleet.Generate(1001, seed: 3);

        fleet.Instances.ShouldBe(1001);
        fleet.Accounts.ShouldBe(2);
        fleet.Scopes.Count.ShouldBe(3);
        fleet.Scopes.Sum(s => s.Instances).ShouldBe(1001);
        fleet.Scopes.Sum(s => s.Windows).ShouldBe(200);
    }

    [Fact]
    public void The_fleet_file_loads_in_the_sandbox_with_every_instance_eligible()
    {
        var fleet = BenchFleet.Generate(120, seed: 5);
        var path = Path.Combine(Path.GetTempPath(), $"bench-fleet-{Guid.NewGuid():N}.json");
        try
        {
            using (var stream = File.Create(path))
            {
                fleet.WriteFleetFile(stream);
            }

            var loaded = FleetFile.Load(path);

            loaded.Accounts.Select(a => a.Id).ShouldBe(["111111111111", "222222222222"]);
            loaded.Instances.Count.ShouldBe(120);
            loaded.Instances.Select(i => i.Id).Distinct().Count().ShouldBe(120);
            loaded.Instances.ShouldAllBe(i => i.State == InstanceState.Running && i.Ssm == SsmStatus.Online && i.Agent == AgentStatus.Installed);
            loaded.Instances.Count(i => i.Platform == InstancePlatform.Windows).ShouldBe(24);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void The_same_size_and_seed_give_the_same_fleet_and_another_seed_another()
    {
        static string Text(BenchFleet fleet)
        {
            using var buffer = new MemoryStream();
            fleet.WriteFleetFile(buffer);
            return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
        }

        Text(BenchFleet.Generate(300, 9)).ShouldBe(Text(BenchFleet.Generate(300, 9)));
        Text(BenchFleet.Generate(300, 10)).ShouldNotBe(Text(BenchFleet.Generate(300, 9)));
    }

    [Fact]
    public void The_fewest_commands_per_step_count_each_platform_of_each_scope_apart()
    {
        var fleet = BenchFleet.Generate(100, seed: 1);

        // 40/30/30 instances, each split into Linux and Windows: at least one command for each non-empty group.
        var expected = fleet.Scopes.Sum(s => (s.Instances - s.Windows + 49) / 50 + (s.Windows + 49) / 50);
        fleet.MinimumCommandsPerStep().ShouldBe(expected);
        expected.ShouldBeGreaterThanOrEqualTo(6);
    }
}
