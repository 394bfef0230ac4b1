using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Arcboard.Sandbox.Azure;

namespace Arcboard.Agent.Tests;

/// <summary>A clock the test moves by hand, for the identity service's proof window.</summary>
internal sealed class HandClock(DateTimeOffset start) : TimeProvider
{
    public DateTimeOffset Now { get; set; } = start;

    public override DateTimeOffset GetUtcNow() => Now;
}

/// <summary>
/// How the agent reports each refusal of the identity service: one <c>AZCMnnnn</c> line naming the refusal and the
/// fix, the documented exit code (docs/contracts.md section 2), and what becomes of the saved key.
/// </summary>
public sealed class IdentityRefusalTests
{
    private const string Name = "i-0123456789abcdef0";

    [Theory]
    [InlineData(400, "InvalidRequest", 105)]
    [InlineData(404, "MachineNotFound", 42)]
    [InlineData(409, "NoKeyRegistered", 42)]
    [InlineData(409, "RegistrationUsed", 41)]
    [InlineData(403, "ProofWindowClosed", 41)]
    [InlineData(400, "NonceUnknown", 105)]
    [InlineData(400, "NonceExpired", 105)]
    [InlineData(409, "NonceReused", 105)]
    [InlineData(401, "KeyMismatch", 41)]
    [InlineData(401, "ProofForAnotherMachine", 41)]
    [InlineData(401, "SomethingNew", 41)]
    [InlineData(409, "SomethingNew", 41)]
    [InlineData(400, "SomethingNew", 105)]
    [InlineData(503, "SomethingNew", 26)]
    [InlineData(429, "SomethingNew", 26)]
    [InlineData(418, "SomethingNew", 1)]
    public void Each_refusal_has_its_documented_exit_code_and_names_its_code(int status, string code, int exitCode)
    {
        var refusal = IdentityClient.Refusal(status, code, "the service's words");

        refusal.ExitCode.ShouldBe(exitCode);
        refusal.Message.ShouldContain($"identity service: {code}, HTTP {status}");
        refusal.Message.ShouldContain("the service's words");
        refusal.Message.ShouldNotContain("\n");
        refusal.SavedKeyIsSpent.ShouldBe(code is "RegistrationUsed" or "ProofWindowClosed");
    }

    [Fact]
    public async Task A_second_connect_after_success_is_refused_with_41_and_says_why()
    {
        await using var server = await AzureSandboxServer.StartAsync();
        using var machine = new AgentHarness();
        machine.UseSandbox(server);
        using var rsa = RSA.Create(2048);
        var vmId = Guid.NewGuid();
        await Arm.PreCreateAsync(server, Name, vmId, Convert.ToBase64String(rsa.ExportRSAPublicKey()));
        var inline = Arm.ConnectArgs(server, Name, vmId).Where(a => a != "--use-saved-key")
            .Concat(["--private-key", Convert.ToBase64String(rsa.ExportRSAPrivateKey())]).ToArray();
        (await machine.RunAsync(inline)).ExitCode.ShouldBe(0);
        (await machine.RunAsync("disconnect", "--force-local-only")).ExitCode.ShouldBe(0);

        var again = await machine.RunAsync(inline);

        again.ExitCode.ShouldBe(41);
        OneAzcmLine(again.Stderr, 41).ShouldContain("RegistrationUsed");
        again.Stderr.ShouldContain("run genkey and register the new key");
    }

    [Fact]
    public async Task A_saved_key_someone_else_proved_first_is_refused_and_deleted()
    {
        await using var server = await AzureSandboxServer.StartAsync();
        using var machine = new AgentHarness();
        machine.UseSandbox(server);
        var publicKey = (await machine.RunAsync("genkey")).Stdout.Trim();
        var vmId = Guid.NewGuid();
        await Arm.PreCreateAsync(server, Name, vmId, publicKey);
        await ProveAsThiefAsync(server, machine.KeyPath, vmId);

        var result = await machine.RunAsync(Arm.ConnectArgs(server, Name, vmId));

        result.ExitCode.ShouldBe(41);
        OneAzcmLine(result.Stderr, 41).ShouldContain("RegistrationUsed");
        File.Exists(machine.KeyPath).ShouldBeFalse();
    }

    [Fact]
    public async Task A_key_past_its_proof_window_is_refused_with_41_and_deleted()
    {
        var clock = new HandClock(DateTimeOffset.UtcNow);
        await using var server = await AzureSandboxServer.StartAsync(new AzureCloudOptions { ProofWindow = TimeSpan.FromMinutes(30) }, clock);
        using var machine = new AgentHarness();
        machine.UseSandbox(server);
        var publicKey = (await machine.RunAsync("genkey")).Stdout.Trim();
        var vmId = Guid.NewGuid();
        await Arm.PreCreateAsync(server, Name, vmId, publicKey);
        clock.Now += TimeSpan.FromMinutes(31);

        var result = await machine.RunAsync(Arm.ConnectArgs(server, Name, vmId));

        result.ExitCode.ShouldBe(41);
        OneAzcmLine(result.Stderr, 41).ShouldContain("ProofWindowClosed");
        result.Stderr.ShouldContain("past its proof window");
        File.Exists(machine.KeyPath).ShouldBeFalse();
        server.Cloud.ListMachines().Single().Status.ShouldBeNull();
    }

    [Fact]
    public async Task A_refusal_the_same_connect_may_overcome_keeps_the_key_owner_only()
    {
        await using var server = await AzureSandboxServer.StartAsync();
        using var machine = new AgentHarness();
        machine.UseSandbox(server);
        await machine.RunAsync("genkey");

        var result = await machine.RunAsync(Arm.ConnectArgs(server, Name, Guid.NewGuid()));

        result.ExitCode.ShouldBe(42);
        OneAzcmLine(result.Stderr, 42).ShouldContain("MachineNotFound");
        File.GetUnixFileMode(machine.KeyPath).ShouldBe(UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.GetUnixFileMode(Path.GetDirectoryName(machine.KeyPath)!).ShouldBe(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    [Fact]
    public async Task A_replacing_genkey_keeps_the_key_owner_only_and_leaves_no_temporary_file()
    {
        using var machine = new AgentHarness();
        await machine.RunAsync("genkey");
        File.SetUnixFileMode(machine.KeyPath, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);

        (await machine.RunAsync("genkey")).ExitCode.ShouldBe(0);

        File.GetUnixFileMode(machine.KeyPath).ShouldBe(UnixFileMode.UserRead | UnixFileMode.UserWrite);
        Directory.GetFiles(Path.GetDirectoryName(machine.KeyPath)!).Select(Path.GetFileName).ShouldBe(["genPrivateKey.pem"]);
    }

    private static string OneAzcmLine(string stderr, int exitCode)
    {
        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        lines.Length.ShouldBe(1, stderr);
        lines[0].ShouldStartWith($"AZCM{exitCode:D4}: ");
        return lines[0];
    }

    /// <summary>Reads the saved key as a thief on the machine would, and proves it before the agent does.</summary>
    private static async Task ProveAsThiefAsync(AzureSandboxServer server, string keyPath, Guid vmId)
    {
        using var stolen = RSA.Create();
        stolen.ImportFromPem(await File.ReadAllTextAsync(keyPath));
        using var http = server.CreateClient();
        var resourceId = $"/subscriptions/{server.Cloud.Options.SubscriptionId}/resourceGroups/{Arm.ResourceGroup}/providers/Microsoft.HybridCompute/machines/{Name}";
        using var challenge = await http.PostAsJsonAsync($"machine/{vmId}/challenge", new { resourceId });
        var nonce = (await challenge.Content.ReadFromJsonAsync<JsonObject>())!["nonce"]!.GetValue<string>();
        var payload = Encoding.UTF8.GetBytes($"arcboard-proof-v1\n{resourceId.ToLowerInvariant()}\n{vmId:D}\n{nonce}");
        var signature = Convert.ToBase64String(stolen.SignData(payload, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1));
        using var proof = await http.PostAsJsonAsync($"machine/{vmId}/proof", new { resourceId, nonce, signature });
        proof.IsSuccessStatusCode.ShouldBeTrue();
    }
}
