using Arcboard.Sandbox.Fleet;

namespace Arcboard.Sandbox.Tests.Fleet;

public sealed class FleetFileTests
{
    [Fact]
    public void A_bad_platform_names_the_file_the_path_and_what_is_allowed()
    {
        var error = Should.Throw<SandboxConfigurationException>(() => FleetFile.Parse("""
            accounts:
              - id: "111111111111"
                regions:
                  - name: us-east-1
                    instances:
                      - { id: i-0123456789abcdef0, platform: linux }
                  - name: eu-west-1
                    instances:
                      - { id: i-0123456789abcdef1, platform: mac }
            """, "fleet.yaml"));
        error.Message.ShouldBe("fleet.yaml: invalid fleet file: accounts[0].regions[1].instances[0].platform: 'mac' is not allowed; allowed: linux, windows.");
    }

    [Fact]
    public void Duplicate_ids_name_both_places_and_every_error_is_listed()
    {
        var error = Should.Throw<SandboxConfigurationException>(() => FleetFile.Parse("""
            {"accounts": [
              {"id": "111111111111", "regions": [{"name": "us-east-1", "instances": [
                {"id": "i-0123456789abcdef0", "platform": "linux"},
                {"id": "i-0123456789abcdef0", "platform": "windows", "state": "sleeping"}]}]}]}
            """, "fleet.json"));
        error.Message.ShouldStartWith("fleet.json: invalid fleet file:");
        error.Message.ShouldContain("accounts[0].regions[0].instances[1].id: 'i-0123456789abcdef0' is already used by accounts[0].regions[0].instances[0]");
        error.Message.ShouldContain("accounts[0].regions[0].instances[1].state: 'sleeping' is not allowed; allowed: pending, running, stopping, stopped, terminated.");
    }

    [Fact]
    public void Bad_yaml_gives_a_position_not_a_stack_trace()
    {
        var error = Should.Throw<SandboxConfigurationException>(() => FleetFile.Parse("accounts:\n  - id: \"1\n  bad: [", "fleet.yaml"));
        error.Message.ShouldStartWith("fleet.yaml: not valid YAML at line ");
        error.Message.ShouldNotContain(" at YamlDotNet");
    }

    [Fact]
    public void Unknown_keys_and_bad_ids_are_reported()
    {
        var error = Should.Throw<SandboxConfigurationException>(() => FleetFile.Parse("""
            accounts:
              - id: 1111
                regions:
                  - name: us-east-1
                    instances:
                      - { id: i-xyz, platform: linux, colour: blue }
            """, "f.yml"));
        error.Message.ShouldContain("accounts[0].id: '1111' is not an AWS account id");
        error.Message.ShouldContain("accounts[0].regions[0].instances[0].id: 'i-xyz' is not an instance id");
        error.Message.ShouldContain("accounts[0].regions[0].instances[0].colour: unknown key; allowed here: id, platform, state, ssm, agent, tags.");
    }

    [Fact]
    public void A_valid_file_loads_with_defaults()
    {
        var fleet = FleetFile.Parse("""
            subscriptionId: 00000000-0000-0000-0000-000000000001
            accounts:
              - id: "111111111111"
                regions:
                  - name: us-east-1
                    instances:
                      - id: i-0123456789abcdef0
                        platform: windows
                        tags: { Name: web-1 }
            """, "fleet.yaml");
        var instance = fleet.Instances.ShouldHaveSingleItem();
        instance.Platform.ShouldBe(InstancePlatform.Windows);
        instance.State.ShouldBe(InstanceState.Running);
        instance.Ssm.ShouldBe(SsmStatus.Online);
        instance.Agent.ShouldBe(AgentStatus.Installed);
        instance.Tags["Name"].ShouldBe("web-1");
        fleet.SubscriptionId.ShouldBe("00000000-0000-0000-0000-000000000001");
    }
}

public sealed class FleetGeneratorTests
{
    [Fact]
    public void The_same_seed_gives_the_same_fleet_and_another_seed_another()
    {
        var a = FleetGenerator.Generate(200, 42).Instances;
        var b = FleetGenerator.Generate(200, 42).Instances;
        a.Select(Describe).ShouldBe(b.Select(Describe));
        FleetGenerator.Generate(200, 43).Instances.Select(i => i.Id).ShouldNotBe(a.Select(i => i.Id));
    }

    [Fact]
    public void The_mix_is_realistic_and_spread_over_two_accounts_and_four_regions()
    {
        var fleet = FleetGenerator.Generate(200, 7);
        var instances = fleet.Instances;
        instances.Count.ShouldBe(200);
        instances.Select(i => i.Id).Distinct().Count().ShouldBe(200);
        instances.Count(i => i.Platform == InstancePlatform.Windows).ShouldBe(50);
        instances.Count(i => i.State == InstanceState.Stopped).ShouldBe(16);
        instances.Count(i => i.Ssm == SsmStatus.None).ShouldBe(10);
        instances.Count(i => i.Ssm == SsmStatus.Offline).ShouldBe(10);
        instances.Count(i => i.Agent == AgentStatus.None).ShouldBe(10);
        instances.Count(i => i.Agent == AgentStatus.Connected).ShouldBe(10);
        instances.Select(i => i.AccountId).Distinct().Count().ShouldBe(2);
        instances.Select(i => (i.AccountId, i.Region)).Distinct().Count().ShouldBe(4);
        instances.ShouldAllBe(i => i.Tags.ContainsKey("Name") && i.Tags.ContainsKey("env") && i.Tags.ContainsKey("team"));
        instances.ShouldAllBe(i => FleetFile.InstanceIdPattern().IsMatch(i.Id));
    }

    private static string Describe(InstanceDefinition i) =>
        $"{i.AccountId}/{i.Region}/{i.Id}/{i.Platform}/{i.State}/{i.Ssm}/{i.Agent}/{string.Join(",", i.Tags.Select(t => t.Key + "=" + t.Value))}";
}
