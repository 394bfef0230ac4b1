using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text.Json.Nodes;

namespace Arcboard.Agent.Tests;

public sealed class CliTests
{
    private static readonly string Sub = Guid.NewGuid().ToString();
    private static readonly string Tenant = Guid.NewGuid().ToString();
    private static readonly string VmId = Guid.NewGuid().ToString();

    private static string[] Connect(params string[] overrides)
    {
        var values = new Dictionary<string, string?>
        {
            ["--resource-group"] = "rg",
            ["--subscription-id"] = Sub,
            ["--tenant-id"] = Tenant,
            ["--location"] = "eastus",
            ["--resource-name"] = "i-0123456789abcdef0",
            ["--vmid"] = VmId,
        };
        var flags = new List<string> { "--use-saved-key" };
        for (var i = 0; i < overrides.Length; i += 2)
        {
            if (overrides[i] == "--use-saved-key")
            {
                flags.Remove("--use-saved-key");
                i--;
                continue;
            }

            values[overrides[i]] = overrides[i + 1];
        }

        return ["connect", "existing", .. flags, .. values.Where(v => v.Value is not null).SelectMany(v => new[] { v.Key, v.Value! })];
    }

    [Theory]
    [InlineData(16, "--vmid", null)]
    [InlineData(16, "--location", null)]
    [InlineData(23, "--vmid", "not-a-guid")]
    [InlineData(23, "--subscription-id", "sub")]
    [InlineData(23, "--tenant-id", "contoso.onmicrosoft.com")]
    [InlineData(23, "--resource-name", "bad name")]
    [InlineData(23, "--resource-name", "a234567890123456789012345678901234567890123456789012345")]
    [InlineData(23, "--cloud", "AzureMoon")]
    [InlineData(23, "--tags", "=novalue")]
    [InlineData(23, "--unknown-flag", "x")]
    public async Task Invalid_connect_arguments_get_the_agents_exit_codes(int exitCode, string flag, string? value)
    {
        using var machine = new AgentHarness();
        await machine.RunAsync("genkey");

        var result = await machine.RunAsync(Connect(flag, value!));

        result.ExitCode.ShouldBe(exitCode);
        result.Stderr.ShouldStartWith($"AZCM{exitCode:D4}: ");
        result.Stderr.Trim().ShouldNotContain("\n");
        File.Exists(machine.KeyPath).ShouldBeTrue();
    }

    [Fact]
    public async Task Neither_key_option_is_a_missing_parameter_and_both_are_invalid()
    {
        using var machine = new AgentHarness();
        using var rsa = RSA.Create(2048);

        (await machine.RunAsync(Connect("--use-saved-key"))).ExitCode.ShouldBe(16);
        (await machine.RunAsync(Connect("--private-key", Convert.ToBase64String(rsa.ExportRSAPrivateKey())))).ExitCode.ShouldBe(23);
    }

    [Fact]
    public async Task A_PKCS8_private_key_is_refused_with_23_and_not_echoed()
    {
        using var machine = new AgentHarness();
        using var rsa = RSA.Create(2048);
        var pkcs8 = Convert.ToBase64String(rsa.ExportPkcs8PrivateKey());

        var result = await machine.RunAsync(Connect("--use-saved-key", "--private-key", pkcs8));

        result.ExitCode.ShouldBe(23);
        result.Stderr.ShouldNotContain(pkcs8[..40]);
    }

    [Fact]
    public async Task Connect_without_a_saved_key_exits_104()
    {
        using var machine = new AgentHarness();

        var result = await machine.RunAsync(Connect());

        result.ExitCode.ShouldBe(104);
        result.Stderr.ShouldStartWith("AZCM0104: ");
    }

    [Fact]
    public async Task An_unreachable_identity_service_is_a_network_error_and_keeps_the_key()
    {
        using var machine = new AgentHarness();
        await machine.RunAsync("genkey");
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        machine.Environment["AZCMAGENT_IDENTITY_ENDPOINT"] = $"https://127.0.0.1:{port}";

        var result = await machine.RunAsync(Connect());

        result.ExitCode.ShouldBe(26);
        result.Stderr.ShouldStartWith("AZCM0026: ");
        File.Exists(machine.KeyPath).ShouldBeTrue();
    }

    [Fact]
    public async Task Unknown_commands_and_extra_arguments_are_invalid()
    {
        using var machine = new AgentHarness();

        var unknown = await machine.RunAsync("frobnicate");
        var extra = await machine.RunAsync("show", "now");
        var none = await machine.RunAsync();

        unknown.ExitCode.ShouldBe(23);
        unknown.Stderr.ShouldStartWith("AZCM0023: ");
        extra.ExitCode.ShouldBe(23);
        none.ExitCode.ShouldBe(23);
        none.Stdout.ShouldContain("Usage: azcmagent");
    }

    [Fact]
    public async Task Version_prints_the_agent_version()
    {
        using var machine = new AgentHarness();

        var result = await machine.RunAsync("version");

        result.ExitCode.ShouldBe(0);
        result.Stdout.Trim().ShouldBe("azcmagent version 1.50.0-arcboard");
    }

    [Fact]
    public async Task Show_on_a_never_connected_machine_is_Disconnected_with_empty_names()
    {
        using var machine = new AgentHarness();

        var json = JsonNode.Parse((await machine.RunAsync("show", "-j")).Stdout)!.AsObject();
        var human = await machine.RunAsync("show");

        json["status"]!.GetValue<string>().ShouldBe("Disconnected");
        json["resourceName"]!.GetValue<string>().ShouldBeEmpty();
        foreach (var field in new[] { "resourceGroup", "subscriptionId", "tenantId", "location", "vmId", "resourceId", "agentVersion", "lastHeartbeat", "cloudProvider" })
        {
            json.ContainsKey(field).ShouldBeTrue(field);
        }

        human.Stdout.ShouldContain("Agent Status                            : Disconnected");
    }

    [Fact]
    public async Task Disconnect_needs_force_local_only_and_then_clears_the_local_state()
    {
        using var machine = new AgentHarness();
        var config = Path.Combine(machine.Root, "var", "opt", "azcmagent", "agentconfig.json");
        Directory.CreateDirectory(Path.GetDirectoryName(config)!);
        await File.WriteAllTextAsync(config, """{"status":"Connected","resourceName":"m1","resourceId":"/subscriptions/x/resourceGroups/rg/providers/Microsoft.HybridCompute/machines/m1"}""");
        await machine.RunAsync("genkey");

        var refused = await machine.RunAsync("disconnect");
        var connectWhileConnected = await machine.RunAsync(Connect());
        var forced = await machine.RunAsync("disconnect", "--force-local-only");
        var after = JsonNode.Parse((await machine.RunAsync("show", "--json")).Stdout)!;

        refused.ExitCode.ShouldBe(23);
        refused.Stderr.ShouldContain("--force-local-only");
        connectWhileConnected.ExitCode.ShouldBe(67);
        forced.ExitCode.ShouldBe(0);
        after["status"]!.GetValue<string>().ShouldBe("Disconnected");
        after["resourceName"]!.GetValue<string>().ShouldBeEmpty();
    }

    [Fact]
    public async Task Show_reports_Expired_after_45_days_without_heartbeat()
    {
        using var machine = new AgentHarness();
        var config = Path.Combine(machine.Root, "var", "opt", "azcmagent", "agentconfig.json");
        Directory.CreateDirectory(Path.GetDirectoryName(config)!);
        await File.WriteAllTextAsync(config, """{"status":"Connected","resourceName":"m1","lastHeartbeat":"2020-01-01T00:00:00Z"}""");

        var json = JsonNode.Parse((await machine.RunAsync("show", "-j")).Stdout)!;

        json["status"]!.GetValue<string>().ShouldBe("Expired");
    }

    [Fact]
    public async Task A_corrupt_config_or_an_unexpected_IO_failure_is_one_AZCM0001_line()
    {
        using var machine = new AgentHarness();
        var config = Path.Combine(machine.Root, "var", "opt", "azcmagent", "agentconfig.json");
        Directory.CreateDirectory(Path.GetDirectoryName(config)!);
        await File.WriteAllTextAsync(config, "{not json");

        var corrupt = await machine.RunAsync("show", "-j");
        File.Delete(config);
        Directory.CreateDirectory(config); // a folder where the file should be: writing it fails with an IOException
        var unwritable = await machine.RunAsync("disconnect", "--force-local-only");

        corrupt.ExitCode.ShouldBe(1);
        corrupt.Stderr.ShouldStartWith("AZCM0001: ");
        unwritable.ExitCode.ShouldBe(1);
        unwritable.Stderr.ShouldStartWith("AZCM0001: Unexpected error: ");
        unwritable.Stderr.ShouldNotContain("   at ");
    }

    [Theory]
    [InlineData("Name=web,Env='a b, c'", "Name:web|Env:a b, c")]
    [InlineData("k=v", "k:v")]
    [InlineData("", "")]
    public void Tags_parse_with_quotes(string text, string expected)
    {
        var tags = AgentCli.ParseTags(text);

        string.Join("|", tags.Select(t => $"{t.Key}:{t.Value}")).ShouldBe(expected);
    }
}
