using Amazon.SimpleSystemsManagement.Model;
using Arcboard.Core.Fleet;
using Arcboard.Core.Scripts;
using Arcboard.Sandbox.Fleet;
using Arcboard.Sandbox.Hosting;
using Arcboard.Sandbox.Instances;
using Arcboard.Sandbox.Tests.Aws;
using Xunit.Abstractions;

namespace Arcboard.Sandbox.Tests.Instances;

/// <summary>
/// Fleet scale in modelled mode: measured in memory, not time, so it holds on a busy machine. Its cost is the primes for
/// the 1,000 seeded agents (23 RSA-2048 generations), a few seconds on an idle machine.
/// </summary>
[Trait("Category", "Scale")]
public sealed class ModelledScaleTests(ITestOutputHelper output)
{
    private const int FleetSize = 20_000;

    // Every instance costs its record (ids, tags, network facts); the budget leaves room for that and nothing per-instance heavier.
    private const long MemoryBudgetBytes = 160L * 1024 * 1024;

    [Fact]
    public async Task Twenty_thousand_modelled_instances_and_a_send_command_fan_out_fit_a_small_memory_budget()
    {
        var directory = Path.Combine(Path.GetTempPath(), "arcboard-scale-" + Guid.NewGuid().ToString("N")[..8]);
        var before = GC.GetTotalMemory(forceFullCollection: true);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var host = await SandboxHost.StartAsync(new SandboxOptions { Instances = FleetSize, Seed = 3, DataDirectory = directory, InvocationDelay = TimeSpan.Zero, InstanceMode = InstanceMode.Modelled }, CancellationToken.None);
        try
        {
            output.WriteLine($"started in {clock.Elapsed}");
            host.Fleet.Instances.Count.ShouldBe(FleetSize);
            var targets = host.Fleet.InScope("111111111111", host.Endpoints.Region)
                .Where(i => i.IsManagedOnline && i.InitialAgent == AgentStatus.Installed && i.Platform == InstancePlatform.Linux)
                .Take(50)
                .ToList();
            targets.Count.ShouldBe(50);

            using var ssm = ModelledSandboxFixture.Ssm(host);
            var sent = await ssm.SendCommandAsync(new SendCommandRequest
            {
                DocumentName = "AWS-RunShellScript",
                InstanceIds = [.. targets.Select(t => t.Id)],
                Parameters = new Dictionary<string, List<string>> { ["commands"] = [OnboardingScripts.ProbeAndGenerateKey(Platform.Linux)] },
            });
            var keys = new HashSet<string>(StringComparer.Ordinal);
            foreach (var target in targets)
            {
                var result = await AwsSdkTests.WaitAsync(ssm, sent.Command.CommandId, target.Id);
                result.Status.Value.ShouldBe("Success", result.StandardErrorContent);
                var check = PublicKeyValidator.Validate(result.StandardOutputContent.Trim()["ARCBOARD-KEY ".Length..]);
                check.IsValid.ShouldBeTrue(check.Problem);
                keys.Add(check.Fingerprint!).ShouldBeTrue("two instances printed the same key");
            }

            var roots = Directory.Exists(Path.Combine(directory, "instances")) ? Directory.GetDirectories(Path.Combine(directory, "instances")).Length : 0;
            var after = GC.GetTotalMemory(forceFullCollection: true);
            var used = after - before;
            output.WriteLine($"{FleetSize} instances, 50 genkeys: managed heap grew {used / (1024 * 1024)} MB ({used / FleetSize} bytes per instance); {roots} root folders; key pool {host.Fleet.Instances.Count(i => i.InitialAgent == AgentStatus.Connected)} seeded");
            used.ShouldBeLessThan(MemoryBudgetBytes);
            roots.ShouldBeLessThan(FleetSize / 10, "root folders are made only for instances that write something");
            GC.KeepAlive(host);
        }
        finally
        {
            await host.DisposeAsync();
            Directory.Delete(directory, recursive: true);
        }
    }
}
