using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using static Arcboard.Sandbox.Tests.Azure.IdentityServiceTests;

namespace Arcboard.Sandbox.Tests.Azure;

/// <summary>
/// Each way the identity service refuses a proof, over its real HTTPS endpoints with real RSA keys: a key proves
/// itself only for its own machine and vmId, once per registration, and only within the proof window.
/// </summary>
public sealed class IdentityRefusalTests
{
    private const string Rg = "aws_111111111111";
    private const string Name = "i-0123456789abcdef0";
    private const string OtherName = "i-0fedcba9876543210";

    [Fact]
    public async Task A_captured_proof_replayed_with_its_nonce_is_named_a_replay_and_changes_nothing()
    {
        await using var kit = await AzureTestKit.StartAsync();
        using var key = RSA.Create(2048);
        var (resourceId, vmId) = await PreCreateAsync(kit, key);
        var nonce = await ChallengeAsync(kit, resourceId, vmId);
        var captured = ProofBody(resourceId, vmId, nonce, key);

        using var first = await PostProofAsync(kit, vmId, captured);
        using var replay = await PostProofAsync(kit, vmId, captured);

        first.StatusCode.ShouldBe(HttpStatusCode.OK);
        await AzureTestKit.ShouldBeArmErrorAsync(replay, 409, "NonceReused");
    }

    [Fact]
    public async Task A_second_connect_of_the_same_registration_is_refused_until_a_new_key_is_registered()
    {
        await using var kit = await AzureTestKit.StartAsync();
        using var key = RSA.Create(2048);
        var (resourceId, vmId) = await PreCreateAsync(kit, key);
        (await ProveAsync(kit, resourceId, vmId, await ChallengeAsync(kit, resourceId, vmId), key)).StatusCode.ShouldBe(HttpStatusCode.OK);

        using var challengeAgain = await PostChallengeAsync(kit, resourceId, vmId);
        await AzureTestKit.ShouldBeArmErrorAsync(challengeAgain, 409, "RegistrationUsed");

        // The same key PUT again is the same registration; a new key is a new one.
        (await kit.PutMachineAsync(Rg, Name, vmId, AzureTestKit.PublicKey(key))).StatusCode.ShouldBe(HttpStatusCode.OK);
        await AzureTestKit.ShouldBeArmErrorAsync(await PostChallengeAsync(kit, resourceId, vmId), 409, "RegistrationUsed");
        using var newKey = RSA.Create(2048);
        (await kit.PutMachineAsync(Rg, Name, vmId, AzureTestKit.PublicKey(newKey))).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await ProveAsync(kit, resourceId, vmId, await ChallengeAsync(kit, resourceId, vmId), newKey)).StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task A_challenge_taken_before_the_registration_was_used_cannot_connect_it_twice()
    {
        await using var kit = await AzureTestKit.StartAsync();
        using var key = RSA.Create(2048);
        var (resourceId, vmId) = await PreCreateAsync(kit, key);
        var first = await ChallengeAsync(kit, resourceId, vmId);
        var second = await ChallengeAsync(kit, resourceId, vmId);

        (await ProveAsync(kit, resourceId, vmId, first, key)).StatusCode.ShouldBe(HttpStatusCode.OK);
        using var again = await ProveAsync(kit, resourceId, vmId, second, key);

        await AzureTestKit.ShouldBeArmErrorAsync(again, 409, "RegistrationUsed");
    }

    [Fact]
    public async Task A_proof_signed_for_another_machine_is_refused_even_by_the_right_key()
    {
        await using var kit = await AzureTestKit.StartAsync();
        using var key = RSA.Create(2048);
        var (resourceId, vmId) = await PreCreateAsync(kit, key);
        var otherResourceId = resourceId.Replace(Name, OtherName, StringComparison.Ordinal);

        var forOtherId = await ProveSigningAsync(kit, resourceId, vmId, key, (nonce) => Payload(otherResourceId, vmId, nonce));
        var forOtherVm = await ProveSigningAsync(kit, resourceId, vmId, key, (nonce) => Payload(resourceId, Guid.NewGuid(), nonce));
        var forOtherNonce = await ProveSigningAsync(kit, resourceId, vmId, key, (_) => Payload(resourceId, vmId, Convert.ToBase64String(RandomNumberGenerator.GetBytes(32))));

        await AzureTestKit.ShouldBeArmErrorAsync(forOtherId, 401, "ProofForAnotherMachine");
        await AzureTestKit.ShouldBeArmErrorAsync(forOtherVm, 401, "ProofForAnotherMachine");
        await AzureTestKit.ShouldBeArmErrorAsync(forOtherNonce, 401, "ProofForAnotherMachine");
        kit.Server.Cloud.FindMachine(Rg, Name)!.Status.ShouldBeNull();
    }

    [Fact]
    public async Task Another_machines_key_cannot_connect_this_machine()
    {
        await using var kit = await AzureTestKit.StartAsync();
        using var key = RSA.Create(2048);
        using var neighbour = RSA.Create(2048);
        var (resourceId, vmId) = await PreCreateAsync(kit, key);
        var neighbourVmId = Guid.NewGuid();
        (await kit.PutMachineAsync(Rg, OtherName, neighbourVmId, AzureTestKit.PublicKey(neighbour))).StatusCode.ShouldBe(HttpStatusCode.Created);

        // The neighbour signs this machine's own challenge correctly, but with its key: that key is not registered here.
        using var refused = await ProveAsync(kit, resourceId, vmId, await ChallengeAsync(kit, resourceId, vmId), neighbour);
        // And its own machine's id with this machine's vmId is no machine at all.
        using var mixed = await PostChallengeAsync(kit, resourceId.Replace(Name, OtherName, StringComparison.Ordinal), vmId);

        await AzureTestKit.ShouldBeArmErrorAsync(refused, 401, "KeyMismatch");
        await AzureTestKit.ShouldBeArmErrorAsync(mixed, 404, "MachineNotFound");
        kit.Server.Cloud.ListMachines().ShouldAllBe(m => m.Status == null);
    }

    [Fact]
    public async Task A_key_is_accepted_only_within_the_proof_window_after_it_was_registered()
    {
        await using var kit = await AzureTestKit.StartAsync();
        kit.Server.Cloud.Options.ProofWindow.ShouldBe(TimeSpan.FromHours(1));
        using var key = RSA.Create(2048);
        var (resourceId, vmId) = await PreCreateAsync(kit, key);

        kit.Time.Advance(TimeSpan.FromMinutes(58));
        var lastChance = await ChallengeAsync(kit, resourceId, vmId);
        kit.Time.Advance(TimeSpan.FromMinutes(3));
        using var late = await ProveAsync(kit, resourceId, vmId, lastChance, key);
        using var lateChallenge = await PostChallengeAsync(kit, resourceId, vmId);

        await AzureTestKit.ShouldBeArmErrorAsync(late, 403, "ProofWindowClosed");
        await AzureTestKit.ShouldBeArmErrorAsync(lateChallenge, 403, "ProofWindowClosed");

        // A new key opens a new window.
        using var fresh = RSA.Create(2048);
        kit.Authorize();
        (await kit.PutMachineAsync(Rg, Name, vmId, AzureTestKit.PublicKey(fresh))).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await ProveAsync(kit, resourceId, vmId, await ChallengeAsync(kit, resourceId, vmId), fresh)).StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task A_nonce_issued_for_an_earlier_key_does_not_serve_the_new_one()
    {
        await using var kit = await AzureTestKit.StartAsync();
        using var key = RSA.Create(2048);
        var (resourceId, vmId) = await PreCreateAsync(kit, key);
        var nonce = await ChallengeAsync(kit, resourceId, vmId);
        using var fresh = RSA.Create(2048);
        (await kit.PutMachineAsync(Rg, Name, vmId, AzureTestKit.PublicKey(fresh))).StatusCode.ShouldBe(HttpStatusCode.OK);

        using var stale = await ProveAsync(kit, resourceId, vmId, nonce, fresh);

        await AzureTestKit.ShouldBeArmErrorAsync(stale, 400, "NonceUnknown");
    }

    [Fact]
    public async Task A_machine_pre_created_without_a_key_cannot_be_challenged()
    {
        await using var kit = await AzureTestKit.StartAsync();
        kit.Authorize();
        await kit.PutResourceGroupAsync(Rg);
        var vmId = Guid.NewGuid();
        using var put = await kit.Http.PutAsync(kit.MachinePath(Rg, Name), AzureTestKit.JsonBody(new JsonObject
        {
            ["location"] = "eastus",
            ["properties"] = new JsonObject { ["vmId"] = vmId.ToString() },
        }));
        put.StatusCode.ShouldBe(HttpStatusCode.Created);

        using var challenge = await PostChallengeAsync(kit, $"/subscriptions/{kit.Sub}/resourceGroups/{Rg}/providers/Microsoft.HybridCompute/machines/{Name}", vmId);

        await AzureTestKit.ShouldBeArmErrorAsync(challenge, 409, "NoKeyRegistered");
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("[]")]
    [InlineData("""{"resourceId":"x","nonce":"n"}""")]
    [InlineData("""{"resourceId":"x","nonce":"n","signature":"%%% not base64"}""")]
    [InlineData("""{"resourceId":42,"nonce":"n","signature":"AAAA"}""")]
    public async Task Malformed_proofs_are_refused_as_invalid_requests(string body)
    {
        await using var kit = await AzureTestKit.StartAsync();
        using var key = RSA.Create(2048);
        var (_, vmId) = await PreCreateAsync(kit, key);

        using var response = await kit.Http.PostAsync($"machine/{vmId}/proof", new StringContent(body, Encoding.UTF8, "application/json"));

        await AzureTestKit.ShouldBeArmErrorAsync(response, 400, "InvalidRequest");
    }

    [Fact]
    public async Task A_path_vmId_that_is_not_a_GUID_is_an_invalid_request()
    {
        await using var kit = await AzureTestKit.StartAsync();
        using var key = RSA.Create(2048);
        var (resourceId, _) = await PreCreateAsync(kit, key);

        using var response = await kit.Http.PostAsync("machine/not-a-guid/challenge", AzureTestKit.JsonBody(new JsonObject { ["resourceId"] = resourceId }));

        await AzureTestKit.ShouldBeArmErrorAsync(response, 400, "InvalidRequest");
    }

    [Fact]
    public async Task Refusals_never_echo_the_signature_they_were_sent()
    {
        await using var kit = await AzureTestKit.StartAsync();
        using var key = RSA.Create(2048);
        using var thief = RSA.Create(2048);
        var (resourceId, vmId) = await PreCreateAsync(kit, key);
        var body = ProofBody(resourceId, vmId, await ChallengeAsync(kit, resourceId, vmId), thief);

        using var response = await PostProofAsync(kit, vmId, body);
        var text = await response.Content.ReadAsStringAsync();

        response.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        text.ShouldNotContain(body["signature"]!.GetValue<string>());
        text.ShouldNotContain(body["signature"]!.GetValue<string>()[..40]);
    }

    private static byte[] Payload(string resourceId, Guid vmId, string nonce) =>
        Encoding.UTF8.GetBytes($"arcboard-proof-v1\n{resourceId.ToLowerInvariant()}\n{vmId:D}\n{nonce}");

    private static JsonObject ProofBody(string resourceId, Guid vmId, string nonce, RSA key) => new()
    {
        ["resourceId"] = resourceId,
        ["nonce"] = nonce,
        ["signature"] = Convert.ToBase64String(key.SignData(Payload(resourceId, vmId, nonce), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)),
        ["osType"] = "linux",
    };

    private static async Task<HttpResponseMessage> ProveSigningAsync(AzureTestKit kit, string resourceId, Guid vmId, RSA key, Func<string, byte[]> payload)
    {
        var nonce = await ChallengeAsync(kit, resourceId, vmId);
        return await PostProofAsync(kit, vmId, new JsonObject
        {
            ["resourceId"] = resourceId,
            ["nonce"] = nonce,
            ["signature"] = Convert.ToBase64String(key.SignData(payload(nonce), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)),
        });
    }

    private static Task<HttpResponseMessage> PostProofAsync(AzureTestKit kit, Guid vmId, JsonObject body) =>
        kit.Http.PostAsync($"machine/{vmId}/proof", AzureTestKit.JsonBody(body.DeepClone()));

    private static Task<HttpResponseMessage> PostChallengeAsync(AzureTestKit kit, string resourceId, Guid vmId) =>
        kit.Http.PostAsync($"machine/{vmId}/challenge", AzureTestKit.JsonBody(new JsonObject { ["resourceId"] = resourceId }));
}
