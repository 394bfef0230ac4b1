using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Amazon.SimpleSystemsManagement.Model;
using Arcboard.Core.Fleet;
using Arcboard.Core.Scripts;
using Arcboard.Sandbox.Hosting;
using Arcboard.Sandbox.Instances;
using static Arcboard.Sandbox.Tests.Instances.ModelledSandboxFixture;

namespace Arcboard.Sandbox.Tests.Instances;

/// <summary>Modelled instances through the real AWS SDK and ARM, compared with instances that run the scripts for real.</summary>
public sealed partial class ModelledInstanceTests(ModelledSandboxFixture sandboxes) : IClassFixture<ModelledSandboxFixture>
{
    private const string Subscription = "00000000-0000-0000-0000-000000000000";

    [Theory]
    [InlineData(Linux, false)]
    [InlineData(Win1, true)]
    public async Task Modelled_genkey_prints_a_key_the_connector_accepts_and_keeps_the_private_key_on_the_instance(string instanceId, bool windows)
    {
        var platform = windows ? Platform.Windows : Platform.Linux;
        var result = await RunAsync(sandboxes.Modelled, instanceId, OnboardingScripts.ProbeAndGenerateKey(platform), windows);

        result.Status.Value.ShouldBe("Success", result.StandardErrorContent);
        result.ResponseCode.ShouldBe(0);
        var key = KeyOf(result.StandardOutputContent);
        var check = PublicKeyValidator.Validate(key);
        check.IsValid.ShouldBeTrue(check.Problem);
        check.KeySizeBits.ShouldBe(2048);
        var instance = sandboxes.Modelled.Fleet.Find(instanceId)!;
        var saved = File.ReadAllText(instance.AgentPrivateKeyPath);
        PemEncoding.TryFind(saved, out var fields).ShouldBeTrue();
        fields.Location.Start.Value.ShouldBe(0);
        saved[fields.Label].ShouldBe("RSA PRIVATE KEY");
    }

    [Fact]
    public async Task Two_instances_get_different_keys()
    {
        var first = await RunAsync(sandboxes.Modelled, Linux2, OnboardingScripts.ProbeAndGenerateKey(Platform.Linux));
        var second = await RunAsync(sandboxes.Modelled, Win1, OnboardingScripts.ProbeAndGenerateKey(Platform.Windows), windows: true);
        KeyOf(first.StandardOutputContent).ShouldNotBe(KeyOf(second.StandardOutputContent));
    }

    [Theory]
    [InlineData(Linux3, false)]
    [InlineData(Win2, true)]
    public async Task A_modelled_connect_proves_the_key_to_the_identity_service_and_arm_shows_the_machine_connected(string instanceId, bool windows)
    {
        var host = sandboxes.Modelled;
        var platform = windows ? Platform.Windows : Platform.Linux;
        var genkey = await RunAsync(host, instanceId, OnboardingScripts.ProbeAndGenerateKey(platform), windows);
        var key = KeyOf(genkey.StandardOutputContent);

        var vmId = Guid.NewGuid();
        using (var arm = Arm(host))
        {
            (await arm.PutAsJsonAsync($"subscriptions/{host.Azure.Options.SubscriptionId}/resourcegroups/modelled?api-version=2021-04-01", new { location = "eastus" })).EnsureSuccessStatusCode();
            var body = new JsonObject
            {
                ["location"] = "eastus",
                ["identity"] = new JsonObject { ["type"] = "SystemAssigned" },
                ["kind"] = "AWS",
                ["properties"] = new JsonObject { ["clientPublicKey"] = key, ["vmId"] = vmId.ToString(), ["osType"] = windows ? "windows" : "linux" },
            };
            using var put = await arm.PutAsync($"subscriptions/{host.Azure.Options.SubscriptionId}/resourceGroups/modelled/providers/Microsoft.HybridCompute/machines/{instanceId}?api-version=2025-01-13", new StringContent(body.ToJsonString(), System.Text.Encoding.UTF8, "application/json"));
            put.IsSuccessStatusCode.ShouldBeTrue(await put.Content.ReadAsStringAsync());
        }

        var parameters = new ConnectParameters(instanceId, "modelled", host.Azure.Options.SubscriptionId, host.Azure.Options.TenantId, "eastus", instanceId, vmId, "AzureCloud", Guid.NewGuid());
        var other = parameters with { InstanceId = "i-0fffffffffffffff9", ResourceName = "i-0fffffffffffffff9" };
        var connect = await RunAsync(host, instanceId, OnboardingScripts.Connect(platform, [other, parameters]), windows);

        connect.Status.Value.ShouldBe("Success", connect.StandardErrorContent);
        connect.StandardOutputContent.ShouldEndWith("ARCBOARD-CONNECT-EXIT 0\n");
        host.Azure.FindMachine("modelled", instanceId)!.Status.ShouldBe("Connected");
        File.Exists(host.Fleet.Find(instanceId)!.AgentPrivateKeyPath).ShouldBeFalse();

        var probe = await RunAsync(host, instanceId, OnboardingScripts.ProbeAndGenerateKey(platform), windows);
        probe.StandardOutputContent.ShouldStartWith("ARCBOARD-CONNECTED {");
        probe.StandardOutputContent.ShouldContain(vmId.ToString());
    }

    [Theory]
    [InlineData(false, "echo hello")]
    [InlineData(true, "Write-Output hello")]
    public async Task A_script_the_model_does_not_understand_fails_with_a_clear_line(bool windows, string script)
    {
        var result = await RunAsync(sandboxes.Modelled, windows ? Win1 : Linux, script, windows);
        result.Status.Value.ShouldBe("Failed");
        result.ResponseCode.ShouldNotBe(0);
        result.StandardOutputContent.ShouldBeEmpty();
        result.StandardErrorContent.ShouldContain("not one the model understands");
        result.StandardErrorContent.ShouldContain("--instance-mode process");
    }

    public static TheoryData<string, bool, string> SameAsProcess() => new()
    {
        { NoAgent, false, "probe" },
        { NoAgentWindows, true, "probe" },
        { Faulty, false, "probe" },
        { Win1, true, "probe" },
        { Linux, false, "connect-other" },
        { Win1, true, "connect-other" },
        { Faulty2, false, "connect-no-machine" },
        { Win1, true, "connect-no-machine" },
    };

    [Theory]
    [MemberData(nameof(SameAsProcess))]
    public async Task Modelled_output_is_what_the_real_script_prints(string instanceId, bool windows, string scenario)
    {
        var platform = windows ? Platform.Windows : Platform.Linux;
        string Script(SandboxHost host)
        {
            var parameters = new ConnectParameters(instanceId, "nowhere", host.Azure.Options.SubscriptionId, host.Azure.Options.TenantId, "eastus", instanceId, Guid.Parse("5c1b0c3e-93b4-4a8e-9a53-1f3c2b7d9e01"), "AzureCloud", Guid.Parse("0a2b4c6d-8e0f-4a1b-9c2d-3e4f5a6b7c8d"));
            return scenario switch
            {
                "probe" => OnboardingScripts.ProbeAndGenerateKey(platform),
                "connect-other" => OnboardingScripts.Connect(platform, [parameters with { InstanceId = "i-0123456789abcdef0" }]),
                _ => OnboardingScripts.Connect(platform, [parameters]),
            };
        }

        var modelled = await RunAsync(sandboxes.Modelled, instanceId, Script(sandboxes.Modelled), windows);
        var real = await RunAsync(sandboxes.Process, instanceId, Script(sandboxes.Process), windows);

        modelled.Status.Value.ShouldBe(real.Status.Value);
        modelled.ResponseCode.ShouldBe(real.ResponseCode);
        Normalize(modelled.StandardOutputContent).ShouldBe(Normalize(real.StandardOutputContent));
        Normalize(modelled.StandardErrorContent).ShouldBe(Normalize(real.StandardErrorContent));
    }

    [Fact]
    public async Task The_sandbox_says_what_it_models()
    {
        sandboxes.Modelled.Modelled.ShouldContain(m => m.StartsWith("scripts:", StringComparison.Ordinal));
        sandboxes.Modelled.Modelled.ShouldContain(m => m.StartsWith("agent:", StringComparison.Ordinal));
        sandboxes.Modelled.Modelled.ShouldContain(m => m.StartsWith("keys:", StringComparison.Ordinal));
        sandboxes.Process.Modelled.ShouldBeEmpty();

        using var http = new HttpClient();
        var modelled = JsonNode.Parse(await http.GetStringAsync(sandboxes.Modelled.Endpoints.AdminUrl + "/modelled"))!;
        modelled["mode"]!.GetValue<string>().ShouldBe("modelled");
        modelled["modelled"]!.AsArray().Count.ShouldBe(sandboxes.Modelled.Modelled.Count);
        var process = JsonNode.Parse(await http.GetStringAsync(sandboxes.Process.Endpoints.AdminUrl + "/modelled"))!;
        process["mode"]!.GetValue<string>().ShouldBe("process");
        process["modelled"]!.AsArray().ShouldBeEmpty();
    }

    [Fact]
    public async Task Modelled_instances_make_their_root_folder_only_when_something_writes_there()
    {
        await RunAsync(sandboxes.Modelled, NoAgent, OnboardingScripts.ProbeAndGenerateKey(Platform.Linux));
        await RunAsync(sandboxes.Process, NoAgent, OnboardingScripts.ProbeAndGenerateKey(Platform.Linux));
        Directory.Exists(sandboxes.Modelled.Fleet.Find(NoAgent)!.RootDirectory).ShouldBeFalse();
        Directory.Exists(sandboxes.Process.Fleet.Find(NoAgent)!.RootDirectory).ShouldBeTrue();
        Directory.Exists(sandboxes.Modelled.Fleet.Find(Connected)!.RootDirectory).ShouldBeTrue("the seeded connected agent writes its files");
    }

    private static string KeyOf(string output)
    {
        output.ShouldStartWith(OnboardingScripts.Markers.Key + " ");
        output.ShouldEndWith("\n");
        return output[(OnboardingScripts.Markers.Key.Length + 1)..^1];
    }

    // The two sandboxes differ only in their folders, ports and keys; everything else must match character for character.
    private static string Normalize(string text) => KeyPattern().Replace(PathPattern().Replace(PortPattern().Replace(text, ":PORT"), "ROOT"), "KEY");

    [GeneratedRegex(@":\d{2,5}\b")]
    private static partial Regex PortPattern();

    [GeneratedRegex(@"/tmp/arcboard-modelled-tests-[0-9a-f]+/(modelled|process)")]
    private static partial Regex PathPattern();

    [GeneratedRegex(@"MIIBCgKCAQEA[A-Za-z0-9+/=]+")]
    private static partial Regex KeyPattern();
}
