using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Arcboard.Sandbox.Hosting;

namespace Arcboard.Sandbox.Tests.Hosting;

public sealed class SandboxHostTests(SandboxFixture sandbox) : IClassFixture<SandboxFixture>
{
    [Fact]
    public async Task The_env_file_is_sourceable_by_sh()
    {
        var path = Path.Combine(sandbox.Host.DataDirectory, "sandbox.env");
        await sandbox.Host.WriteEnvFileAsync(path);
        var start = new ProcessStartInfo("/bin/sh") { RedirectStandardOutput = true };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add($". '{path}' && printf '%s\\n' \"$SANDBOX_AWS_ENDPOINT\" \"$SANDBOX_AWS_ACCESS_KEY_ID\" \"$SANDBOX_SUBSCRIPTION_ID\" \"$SANDBOX_ADMIN_URL\" \"${{#SANDBOX_ARM_TOKEN}}\"");
        using var process = Process.Start(start)!;
        var lines = (await process.StandardOutput.ReadToEndAsync()).Split('\n');
        await process.WaitForExitAsync();
        lines[0].ShouldBe(sandbox.Endpoints.AwsEndpoint);
        lines[1].ShouldBe(sandbox.Endpoints.AccessKeyId);
        lines[2].ShouldBe(sandbox.Endpoints.SubscriptionId);
        lines[3].ShouldBe(sandbox.Endpoints.AdminUrl);
        int.Parse(lines[4]).ShouldBeGreaterThan(20);
    }

    [Fact]
    public async Task The_config_file_has_the_connectors_shape()
    {
        var path = Path.Combine(sandbox.Host.DataDirectory, "arcboard.json");
        await sandbox.Host.WriteConfigFileAsync(path, "state.db");
        var json = JsonNode.Parse(await File.ReadAllTextAsync(path))!;
        json["store"]!["sqlite"]!.GetValue<string>().ShouldBe("state.db");
        json["aws"]!["endpoint"]!.GetValue<string>().ShouldBe(sandbox.Endpoints.AwsEndpoint);
        json["aws"]!["credentials"]!["type"]!.GetValue<string>().ShouldBe("static");
        var accounts = json["aws"]!["accounts"]!.AsArray();
        accounts[0]!["accountId"]!.GetValue<string>().ShouldBe(SandboxFixture.Account1);
        accounts[0]!["roleArn"].ShouldBeNull();
        accounts[0]!["regions"]!.AsArray().Select(r => r!.GetValue<string>()).ShouldBe(["us-east-1", "eu-west-1"]);
        accounts[1]!["roleArn"]!.GetValue<string>().ShouldBe($"arn:aws:iam::{SandboxFixture.Account2}:role/ArcboardOnboarding");
        json["azure"]!["credential"]!["type"]!.GetValue<string>().ShouldBe("clientSecret");
        json["azure"]!["credential"]!["authorityHost"]!.GetValue<string>().ShouldBe(sandbox.Endpoints.AuthorityHost);
        json["azure"]!["caCertificate"]!.GetValue<string>().ShouldBe(sandbox.Endpoints.CaCertificatePath);
        File.Exists(sandbox.Endpoints.CaCertificatePath).ShouldBeTrue();
    }

    [Fact]
    public async Task The_admin_surface_shows_the_fleet_and_changes_it()
    {
        using var http = new HttpClient();
        var fleet = JsonNode.Parse(await http.GetStringAsync(sandbox.Endpoints.AdminUrl + "/fleet"))!["instances"]!.AsArray();
        var connected = fleet.Single(i => i!["id"]!.GetValue<string>() == SandboxFixture.Connected)!;
        connected["agentStatus"]!.GetValue<string>().ShouldBe("Connected");
        fleet.Single(i => i!["id"]!.GetValue<string>() == SandboxFixture.Windows)!["platform"]!.GetValue<string>().ShouldBe("windows");

        var launched = await http.PostAsJsonAsync(sandbox.Endpoints.AdminUrl + "/instances", new { account = SandboxFixture.Account1, region = "eu-west-1", platform = "linux", tags = new { Name = "new-1" } });
        launched.StatusCode.ShouldBe(System.Net.HttpStatusCode.Created);
        var id = JsonNode.Parse(await launched.Content.ReadAsStringAsync())!["id"]!.GetValue<string>();
        sandbox.Host.Fleet.Find(id)!.Region.ShouldBe("eu-west-1");

        (await http.PostAsync($"{sandbox.Endpoints.AdminUrl}/instances/{id}/stop", null)).EnsureSuccessStatusCode();
        sandbox.Host.Fleet.Find(id)!.State.ShouldBe(Sandbox.Fleet.InstanceState.Stopped);
        (await http.PostAsync($"{sandbox.Endpoints.AdminUrl}/instances/{id}/terminate", null)).EnsureSuccessStatusCode();
        (await http.PostAsync($"{sandbox.Endpoints.AdminUrl}/instances/{id}/start", null)).StatusCode.ShouldBe(System.Net.HttpStatusCode.Conflict);

        var stats = JsonNode.Parse(await http.GetStringAsync(sandbox.Endpoints.AdminUrl + "/stats"))!;
        stats["calls"].ShouldNotBeNull();
        stats["throttled"].ShouldNotBeNull();
    }

    [Fact]
    public async Task Aws_routes_do_not_answer_on_the_https_listener()
    {
        using var handler = new HttpClientHandler { ServerCertificateCustomValidationCallback = (_, _, _, _) => true };
        using var http = new HttpClient(handler);
        var response = await http.GetAsync(sandbox.Endpoints.ArmEndpoint + "/_sandbox/stats");
        response.StatusCode.ShouldBe(System.Net.HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task A_generated_fleet_starts_with_its_connected_agents_seeded_in_azure()
    {
        await using var host = await SandboxHost.StartAsync(new SandboxOptions { Instances = 40, Seed = 3 }, CancellationToken.None);
        host.Fleet.Instances.Count.ShouldBe(40);
        host.Endpoints.AccountIds.ShouldBe(["111111111111", "222222222222"]);
        var connected = host.Fleet.Instances.Where(i => i.InitialAgent == Sandbox.Fleet.AgentStatus.Connected).ToList();
        connected.Count.ShouldBe(2);
        connected.ShouldAllBe(i => host.Azure.FindMachine("existing-arc", i.Id) != null && i.ReadAgentStatus() == "Connected");
    }
}
