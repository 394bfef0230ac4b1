using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace Arcboard.Sandbox.Tests.Azure;

public sealed class IdentityServiceTests
{
    private const string Rg = "aws_111111111111";
    private const string Name = "i-0123456789abcdef0";

    [Fact]
    public async Task An_agent_holding_the_private_key_connects_the_pre_created_machine()
    {
        await using var kit = await AzureTestKit.StartAsync();
        using var key = RSA.Create(2048);
        var (resourceId, vmId) = await PreCreateAsync(kit, key);

        var nonce = await ChallengeAsync(kit, resourceId, vmId);
        using var proof = await ProveAsync(kit, resourceId, vmId, nonce, key);

        proof.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await AzureTestKit.ReadJsonAsync(proof))["status"]!.GetValue<string>().ShouldBe("Connected");
        using var read = await kit.Http.GetAsync(kit.MachinePath(Rg, Name));
        var properties = (await AzureTestKit.ReadJsonAsync(read))["properties"]!;
        properties["status"]!.GetValue<string>().ShouldBe("Connected");
        properties["agentVersion"]!.GetValue<string>().ShouldBe("1.50.0-arcboard");
        properties["osName"]!.GetValue<string>().ShouldBe("ubuntu");
        properties["osVersion"]!.GetValue<string>().ShouldBe("22.04");
        properties["displayName"]!.GetValue<string>().ShouldBe("ip-10-0-0-1");
        properties["machineFqdn"]!.GetValue<string>().ShouldBe("ip-10-0-0-1");
        properties["cloudMetadata"]!["provider"]!.GetValue<string>().ShouldBe("AWS");
        properties["lastStatusChange"]!.GetValue<string>().ShouldNotBeNullOrEmpty();
        kit.Server.Cloud.ListMachines().Single().Status.ShouldBe("Connected");
        kit.Server.Stats.Count("identity", "Proof").ShouldBe(1);
    }

    [Fact]
    public async Task A_signature_by_another_key_is_refused_and_the_machine_stays_unconnected()
    {
        await using var kit = await AzureTestKit.StartAsync();
        using var key = RSA.Create(2048);
        using var thief = RSA.Create(2048);
        var (resourceId, vmId) = await PreCreateAsync(kit, key);

        var nonce = await ChallengeAsync(kit, resourceId, vmId);
        using var proof = await ProveAsync(kit, resourceId, vmId, nonce, thief);

        await AzureTestKit.ShouldBeArmErrorAsync(proof, 401, "KeyMismatch");
        kit.Server.Cloud.ListMachines().Single().Status.ShouldBeNull();
    }

    [Fact]
    public async Task A_nonce_works_once_and_only_until_it_expires()
    {
        await using var kit = await AzureTestKit.StartAsync();
        using var key = RSA.Create(2048);
        var (resourceId, vmId) = await PreCreateAsync(kit, key);

        var wrong = await ChallengeAsync(kit, resourceId, vmId);
        using var thief = RSA.Create(2048);
        await AzureTestKit.ShouldBeArmErrorAsync(await ProveAsync(kit, resourceId, vmId, wrong, thief), 401, "KeyMismatch");
        await AzureTestKit.ShouldBeArmErrorAsync(await ProveAsync(kit, resourceId, vmId, wrong, key), 409, "NonceReused");

        var late = await ChallengeAsync(kit, resourceId, vmId);
        kit.Time.Advance(TimeSpan.FromMinutes(6));
        await AzureTestKit.ShouldBeArmErrorAsync(await ProveAsync(kit, resourceId, vmId, late, key), 400, "NonceExpired");
        await AzureTestKit.ShouldBeArmErrorAsync(await ProveAsync(kit, resourceId, vmId, Convert.ToBase64String(new byte[32]), key), 400, "NonceUnknown");
        (await ProveAsync(kit, resourceId, vmId, await ChallengeAsync(kit, resourceId, vmId), key)).StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Unknown_machines_and_mismatched_vmIds_are_not_found()
    {
        await using var kit = await AzureTestKit.StartAsync();
        using var key = RSA.Create(2048);
        var (resourceId, _) = await PreCreateAsync(kit, key);

        using var wrongVm = await kit.Http.PostAsync($"machine/{Guid.NewGuid()}/challenge", AzureTestKit.JsonBody(new JsonObject { ["resourceId"] = resourceId }));
        using var wrongId = await kit.Http.PostAsync($"machine/{Guid.NewGuid()}/challenge", AzureTestKit.JsonBody(new JsonObject { ["resourceId"] = resourceId + "x" }));

        await AzureTestKit.ShouldBeArmErrorAsync(wrongVm, 404, "MachineNotFound");
        await AzureTestKit.ShouldBeArmErrorAsync(wrongId, 404, "MachineNotFound");
    }

    [Fact]
    public async Task Seeded_machines_are_connected_and_their_status_can_be_changed_for_tests()
    {
        await using var kit = await AzureTestKit.StartAsync();
        using var key = RSA.Create(2048);
        var vmId = Guid.NewGuid();

        kit.Server.Cloud.SeedConnectedMachine(Rg, Name, "eastus", vmId, "windows", AzureTestKit.PublicKey(key));
        kit.Authorize();
        using var read = await kit.Http.GetAsync(kit.MachinePath(Rg, Name));
        var properties = (await AzureTestKit.ReadJsonAsync(read))["properties"]!;
        properties["status"]!.GetValue<string>().ShouldBe("Connected");
        properties["vmId"]!.GetValue<string>().ShouldBe(vmId.ToString());
        kit.Server.Cloud.ListResourceGroups().ShouldBe([Rg]);

        kit.Server.Cloud.SetMachineStatus(Rg, Name, "Disconnected").ShouldBeTrue();
        kit.Server.Cloud.SetMachineStatus(Rg, "nope", "Disconnected").ShouldBeFalse();
        kit.Server.Cloud.FindMachine(Rg, Name)!.Status.ShouldBe("Disconnected");
    }

    [Fact]
    public async Task Curl_trusting_only_the_written_PEM_reaches_the_sandbox()
    {
        await using var kit = await AzureTestKit.StartAsync();
        var pem = Path.Combine(Path.GetTempPath(), $"arcboard-ca-{Guid.NewGuid():N}.pem");
        kit.Server.Certificate.WritePem(pem);
        try
        {
            File.ReadAllText(pem).ShouldStartWith("-----BEGIN CERTIFICATE-----");
            File.ReadAllText(pem).ShouldNotContain("PRIVATE KEY");
            var options = kit.Server.Cloud.Options;
            var start = new ProcessStartInfo("curl")
            {
                ArgumentList =
                {
                    "-sS", "--cacert", pem, "-o", "/dev/null", "-w", "%{http_code}",
                    "-d", $"grant_type=client_credentials&client_id={options.ClientId}&client_secret={Uri.EscapeDataString(options.ClientSecret)}&scope=https://management.azure.com/.default",
                    new Uri(kit.Server.BaseAddress, $"{options.TenantId}/oauth2/v2.0/token").ToString(),
                },
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            using var curl = Process.Start(start)!;
            var output = await curl.StandardOutput.ReadToEndAsync();
            var error = await curl.StandardError.ReadToEndAsync();
            await curl.WaitForExitAsync();

            curl.ExitCode.ShouldBe(0, error);
            output.ShouldBe("200");
        }
        finally
        {
            File.Delete(pem);
        }
    }

    internal static async Task<(string ResourceId, Guid VmId)> PreCreateAsync(AzureTestKit kit, RSA key)
    {
        kit.Authorize();
        await kit.PutResourceGroupAsync(Rg);
        var vmId = Guid.NewGuid();
        (await kit.PutMachineAsync(Rg, Name, vmId, AzureTestKit.PublicKey(key))).StatusCode.ShouldBe(HttpStatusCode.Created);
        return ($"/subscriptions/{kit.Sub}/resourceGroups/{Rg}/providers/Microsoft.HybridCompute/machines/{Name}", vmId);
    }

    internal static async Task<string> ChallengeAsync(AzureTestKit kit, string resourceId, Guid vmId)
    {
        using var response = await kit.Http.PostAsync($"machine/{vmId}/challenge", AzureTestKit.JsonBody(new JsonObject { ["resourceId"] = resourceId }));
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        var json = await AzureTestKit.ReadJsonAsync(response);
        DateTimeOffset.Parse(json["expiresAt"]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture).ShouldBeGreaterThan(kit.Time.Now);
        var nonce = json["nonce"]!.GetValue<string>();
        Convert.FromBase64String(nonce).Length.ShouldBe(32);
        return nonce;
    }

    internal static Task<HttpResponseMessage> ProveAsync(AzureTestKit kit, string resourceId, Guid vmId, string nonce, RSA key)
    {
        // Written from the contract, not shared with the agent: the two sides must agree through docs/contracts.md only.
        var payload = Encoding.UTF8.GetBytes($"arcboard-proof-v1\n{resourceId.ToLowerInvariant()}\n{vmId:D}\n{nonce}");
        var signature = key.SignData(payload, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        return kit.Http.PostAsync($"machine/{vmId}/proof", AzureTestKit.JsonBody(new JsonObject
        {
            ["resourceId"] = resourceId,
            ["nonce"] = nonce,
            ["signature"] = Convert.ToBase64String(signature),
            ["agentVersion"] = "1.50.0-arcboard",
            ["osName"] = "ubuntu",
            ["osVersion"] = "22.04",
            ["osType"] = "linux",
            ["hostname"] = "ip-10-0-0-1",
        }));
    }
}
