using Arcboard.Core.Fleet;
using Arcboard.Core.Scripts;
using Arcboard.Sandbox.Admin;
using Arcboard.Sandbox.Aws;
using Arcboard.Sandbox.Azure;
using Arcboard.Sandbox.Fleet;
using Arcboard.Sandbox.Instances;
using Microsoft.Extensions.Time.Testing;

namespace Arcboard.Sandbox.Tests.Instances;

/// <summary>Latencies move a modelled invocation through Pending and InProgress on the sandbox's clock, not the wall clock.</summary>
public sealed class InstanceLatencyTests : IDisposable
{
    private const string Id = "i-0aaaaaaaaaaaaaaa1";
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "arcboard-latency-" + Guid.NewGuid().ToString("N")[..8]);
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);

    [Fact]
    public async Task A_modelled_genkey_is_pending_for_the_delivery_latency_then_in_progress_for_the_script_and_genkey_latencies()
    {
        Directory.CreateDirectory(_directory);
        using var certificate = SandboxCertificate.Create();
        var caPath = Path.Combine(_directory, "ca.pem");
        certificate.WritePem(caPath);
        var fleet = new SandboxFleet(
            new FleetDefinition(null, [new AccountDefinition("111111111111", ["us-east-1"])],
                [new InstanceDefinition("111111111111", "us-east-1", Id, InstancePlatform.Linux, InstanceState.Running, SsmStatus.Online, AgentStatus.Installed, new Dictionary<string, string>())]),
            _directory,
            _time,
            createRootFolders: false);
        var latencies = new InstanceLatencies(Delivery: TimeSpan.FromSeconds(2), ScriptRun: TimeSpan.FromSeconds(3), Genkey: TimeSpan.FromSeconds(1), Connect: TimeSpan.Zero);
        using var runner = new ModelledInstanceRunner(new InstanceEnvironment("https://127.0.0.1:1", caPath, ""), KeyPool.Shared, _time, latencies, 2);
        using var commands = new RunCommandService(runner, _time, TimeSpan.Zero, fleet, new InstanceFaults(1), new SandboxStats(), latencies);

        var invocation = commands.Send("111111111111", "us-east-1", RunCommandService.ShellDocument,
            new Dictionary<string, IReadOnlyList<string>> { ["commands"] = [OnboardingScripts.ProbeAndGenerateKey(Platform.Linux)] },
            [fleet.Find(Id)!], "", 600, "50", "0").Invocations.Single();

        invocation.Snapshot().Status.ShouldBe("Pending");
        var untilInProgress = await AdvanceUntilAsync(() => invocation.Snapshot().Status != "Pending");
        invocation.Snapshot().Status.ShouldBe("InProgress");
        untilInProgress.ShouldBeGreaterThanOrEqualTo(latencies.Delivery);

        var untilDone = await AdvanceUntilAsync(() => invocation.IsTerminal);
        untilDone.ShouldBeGreaterThanOrEqualTo(latencies.ScriptRun + latencies.Genkey);
        var s = invocation.Snapshot();
        s.Status.ShouldBe("Success", s.Err);
        PublicKeyValidator.Validate(s.Out.Trim()["ARCBOARD-KEY ".Length..]).IsValid.ShouldBeTrue();
        (s.Finished - s.Started).ShouldNotBeNull().ShouldBeGreaterThanOrEqualTo(latencies.ScriptRun + latencies.Genkey);
    }

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    // Timers are registered on other threads, so the clock moves in small steps until the state changes; the fake time
    // that passed can then only be at least the latency, never less.
    private async Task<TimeSpan> AdvanceUntilAsync(Func<bool> condition)
    {
        var step = TimeSpan.FromMilliseconds(250);
        var advanced = TimeSpan.Zero;
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (!condition())
        {
            DateTime.UtcNow.ShouldBeLessThan(deadline, "the expected state was not reached");
            await Task.Delay(10);
            if (!condition())
            {
                _time.Advance(step);
                advanced += step;
            }
        }

        return advanced;
    }
}
