using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Arcboard.Sandbox.Azure;

namespace Arcboard.Agent.Tests;

public sealed class ConnectTests
{
    private const string Name = "i-0123456789abcdef0";

    [Fact]
    public async Task Connect_with_the_saved_key_makes_the_machine_Connected_and_deletes_the_key()
    {
        await using var server = await AzureSandboxServer.StartAsync();
        using var machine = new AgentHarness();
        machine.UseSandbox(server);
        machine.Environment["AWS_SSM_INSTANCE_ID"] = Name;
        var publicKey = (await machine.RunAsync("genkey")).Stdout.Trim();
        var pem = await File.ReadAllTextAsync(machine.KeyPath);
        var vmId = Guid.NewGuid();
        await Arm.PreCreateAsync(server, Name, vmId, publicKey);

        var result = await machine.RunAsync(Arm.ConnectArgs(server, Name, vmId, "--correlation-id", "abc", "--tags", "env=prod,team='a b'"));

        result.ExitCode.ShouldBe(0, result.Stderr);
        result.Stdout.ShouldContain($"/resourceGroups/{Arm.ResourceGroup}/providers/Microsoft.HybridCompute/machines/{Name}");
        File.Exists(machine.KeyPath).ShouldBeFalse();
        var arm = server.Cloud.ListMachines().Single();
        arm.Status.ShouldBe("Connected");
        arm.AgentVersion.ShouldBe(AgentCli.Version);
        var log = await File.ReadAllTextAsync(machine.LogPath);
        var body = pem.Split('\n')[1];
        (result.Stdout + result.Stderr + log).ShouldNotContain(body);

        var show = await machine.RunAsync("show", "-j");
        var json = JsonNode.Parse(show.Stdout)!;
        json["status"]!.GetValue<string>().ShouldBe("Connected");
        json["resourceName"]!.GetValue<string>().ShouldBe(Name);
        json["resourceGroup"]!.GetValue<string>().ShouldBe(Arm.ResourceGroup);
        json["vmId"]!.GetValue<string>().ShouldBe(vmId.ToString());
        json["resourceId"]!.GetValue<string>().ShouldBe(arm.Id);
        json["cloudProvider"]!.GetValue<string>().ShouldBe("AWS");
        json["tenantId"]!.GetValue<string>().ShouldBe(server.Cloud.Options.TenantId);
        json["lastHeartbeat"]!.GetValue<string>().ShouldNotBeEmpty();

        var again = await machine.RunAsync(Arm.ConnectArgs(server, Name, vmId));
        again.ExitCode.ShouldBe(67);
        again.Stderr.ShouldStartWith("AZCM0067: ");
    }

    [Fact]
    public async Task A_key_that_does_not_match_the_pre_created_public_key_gets_41()
    {
        await using var server = await AzureSandboxServer.StartAsync();
        using var machine = new AgentHarness();
        machine.UseSandbox(server);
        await machine.RunAsync("genkey");
        var vmId = Guid.NewGuid();
        await Arm.PreCreateAsync(server, Name, vmId, Arm.NewPublicKey());

        var result = await machine.RunAsync(Arm.ConnectArgs(server, Name, vmId));

        result.ExitCode.ShouldBe(41);
        result.Stderr.ShouldStartWith("AZCM0041: ");
        File.Exists(machine.KeyPath).ShouldBeTrue();
        server.Cloud.ListMachines().Single().Status.ShouldBeNull();
        JsonNode.Parse((await machine.RunAsync("show", "--json")).Stdout)!["status"]!.GetValue<string>().ShouldBe("Disconnected");
    }

    [Fact]
    public async Task A_machine_that_was_not_pre_created_gets_42()
    {
        await using var server = await AzureSandboxServer.StartAsync();
        using var machine = new AgentHarness();
        machine.UseSandbox(server);
        await machine.RunAsync("genkey");

        var result = await machine.RunAsync(Arm.ConnectArgs(server, Name, Guid.NewGuid()));

        result.ExitCode.ShouldBe(42);
        result.Stderr.ShouldStartWith("AZCM0042: ");
    }

    [Fact]
    public async Task An_inline_PKCS1_private_key_connects_too()
    {
        await using var server = await AzureSandboxServer.StartAsync();
        using var machine = new AgentHarness();
        machine.UseSandbox(server);
        using var rsa = RSA.Create(2048);
        var vmId = Guid.NewGuid();
        await Arm.PreCreateAsync(server, Name, vmId, Convert.ToBase64String(rsa.ExportRSAPublicKey()));
        var args = Arm.ConnectArgs(server, Name, vmId).Where(a => a != "--use-saved-key")
            .Concat(["--private-key", Convert.ToBase64String(rsa.ExportRSAPrivateKey())]).ToArray();

        var result = await machine.RunAsync(args);

        result.ExitCode.ShouldBe(0, result.Stderr);
        server.Cloud.ListMachines().Single().Status.ShouldBe("Connected");
    }

    [Fact]
    public async Task A_server_whose_certificate_is_not_the_pinned_one_is_a_network_error()
    {
        await using var server = await AzureSandboxServer.StartAsync();
        await using var impostor = await AzureSandboxServer.StartAsync();
        using var machine = new AgentHarness();
        machine.UseSandbox(server);
        machine.Environment["AZCMAGENT_IDENTITY_ENDPOINT"] = impostor.BaseAddress.ToString();
        var publicKey = (await machine.RunAsync("genkey")).Stdout.Trim();
        var vmId = Guid.NewGuid();
        await Arm.PreCreateAsync(impostor, Name, vmId, publicKey);

        var result = await machine.RunAsync(Arm.ConnectArgs(impostor, Name, vmId));

        result.ExitCode.ShouldBe(26);
        result.Stderr.ShouldContain("not trusted");
        impostor.Stats.Count("identity", "Challenge").ShouldBe(0);
    }

    [Fact]
    public async Task The_built_executable_connects_as_a_separate_process()
    {
        await using var server = await AzureSandboxServer.StartAsync();
        using var machine = new AgentHarness();
        machine.UseSandbox(server);

        var genkey = await machine.RunProcessAsync("genkey");
        genkey.ExitCode.ShouldBe(0, genkey.Stderr);
        var vmId = Guid.NewGuid();
        await Arm.PreCreateAsync(server, Name, vmId, genkey.Stdout.Trim());
        var connect = await machine.RunProcessAsync(Arm.ConnectArgs(server, Name, vmId));
        var unknown = await machine.RunProcessAsync("frobnicate");

        connect.ExitCode.ShouldBe(0, connect.Stderr);
        server.Cloud.ListMachines().Single().Status.ShouldBe("Connected");
        File.Exists(machine.KeyPath).ShouldBeFalse();
        unknown.ExitCode.ShouldBe(23);
        unknown.Stderr.Trim().ShouldStartWith("AZCM0023: ");
    }
}
