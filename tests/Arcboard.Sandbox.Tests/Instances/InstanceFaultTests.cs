using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Arcboard.Core.Fleet;
using Arcboard.Core.Scripts;
using Arcboard.Sandbox.Admin;
using Arcboard.Sandbox.Aws;
using Arcboard.Sandbox.Fleet;
using Arcboard.Sandbox.Instances;
using Microsoft.Extensions.Time.Testing;

namespace Arcboard.Sandbox.Tests.Instances;

/// <summary>Each instance-level fault, on Run Command's engine with a clock the test moves.</summary>
public sealed class InstanceFaultTests : IDisposable
{
    private const string Id = "i-0aaaaaaaaaaaaaaa1";
    private const int DeliveryTimeoutSeconds = 600;
    private static readonly TimeSpan ExecutionTimeout = TimeSpan.FromSeconds(900);
    private const string KeyLine = "ARCBOARD-KEY MIIBCgKCAQEAxyz\n";

    private readonly string _directory = Path.Combine(Path.GetTempPath(), "arcboard-faults-" + Guid.NewGuid().ToString("N")[..8]);
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);
    private readonly SandboxStats _stats = new();
    private readonly CountingRunner _runner = new();
    private readonly SandboxFleet _fleet;
    private readonly RunCommandService _commands;

    public InstanceFaultTests()
    {
        _fleet = new SandboxFleet(
            new FleetDefinition(null, [new AccountDefinition("111111111111", ["us-east-1"])],
                [new InstanceDefinition("111111111111", "us-east-1", Id, InstancePlatform.Linux, InstanceState.Running, SsmStatus.Online, AgentStatus.Installed, new Dictionary<string, string>())]),
            _directory,
            _time,
            createRootFolders: false);
        _commands = new RunCommandService(_runner, _time, TimeSpan.Zero, _fleet, new InstanceFaults(7), _stats, InstanceLatencies.Zero);
    }

    private SandboxInstance Instance => _fleet.Find(Id)!;

    [Fact]
    public async Task Command_fail_exits_non_zero_with_a_line_on_stderr_without_running_the_script_once()
    {
        _commands.Faults.Add(new InstanceFaultRule(InstanceFaultKind.CommandFail, Count: 1));
        var failed = Send();
        await UntilAsync(() => failed.IsTerminal);
        var s = failed.Snapshot();
        (s.Status, s.Code).ShouldBe(("Failed", 1));
        s.Err.ShouldContain("command-fail");
        s.Err.ShouldEndWith("failed to run commands: exit status 1");
        _runner.Runs.ShouldBe(0);
        _stats.FaultSnapshot()["command-fail"].ShouldBe(1);

        var next = Send();
        await UntilAsync(() => next.IsTerminal);
        next.Snapshot().Status.ShouldBe("Success");
        _runner.Runs.ShouldBe(1);
    }

    [Fact]
    public async Task Command_hang_stays_in_progress_until_the_execution_timeout()
    {
        _commands.Faults.Add(new InstanceFaultRule(InstanceFaultKind.CommandHang, Count: 1));
        var hung = Send();
        await UntilAsync(() => hung.Snapshot().Status == "InProgress");
        _time.Advance(ExecutionTimeout - TimeSpan.FromSeconds(1));
        await Task.Delay(50);
        hung.Snapshot().Status.ShouldBe("InProgress");
        _time.Advance(TimeSpan.FromSeconds(1));
        await UntilAsync(() => hung.IsTerminal);
        (hung.Snapshot().Status, hung.Snapshot().Details).ShouldBe(("TimedOut", "ExecutionTimedOut"));
    }

    [Fact]
    public async Task Delivery_timeout_stays_pending_until_the_delivery_timeout()
    {
        _commands.Faults.Add(new InstanceFaultRule(InstanceFaultKind.DeliveryTimeout, Count: 1));
        var invocation = Send();
        _time.Advance(TimeSpan.FromSeconds(DeliveryTimeoutSeconds - 1));
        await Task.Delay(50);
        invocation.Snapshot().Status.ShouldBe("Pending");
        _time.Advance(TimeSpan.FromSeconds(1));
        await UntilAsync(() => invocation.IsTerminal);
        var s = invocation.Snapshot();
        (s.Status, s.Details, s.Code, s.Started).ShouldBe(("TimedOut", "DeliveryTimedOut", -1, (DateTimeOffset?)null));
        _runner.Runs.ShouldBe(0);
    }

    [Fact]
    public async Task Invocation_missing_hides_a_finished_invocation_for_the_rules_duration()
    {
        _commands.Faults.Add(new InstanceFaultRule(InstanceFaultKind.InvocationMissing, Count: 1, Duration: TimeSpan.FromMinutes(20)));
        var invocation = Send();
        await UntilAsync(() => invocation.IsTerminal);
        invocation.Snapshot().Status.ShouldBe("Success");
        _commands.IsVisible(invocation).ShouldBeFalse();
        _time.Advance(TimeSpan.FromMinutes(19));
        _commands.IsVisible(invocation).ShouldBeFalse();
        _time.Advance(TimeSpan.FromMinutes(1));
        _commands.IsVisible(invocation).ShouldBeTrue();
    }

    [Fact]
    public async Task Output_truncated_cuts_the_output_mid_line()
    {
        _commands.Faults.Add(new InstanceFaultRule(InstanceFaultKind.OutputTruncated, Count: 1));
        var invocation = Send();
        await UntilAsync(() => invocation.IsTerminal);
        var s = invocation.Snapshot();
        s.Status.ShouldBe("Success");
        s.Out.ShouldBe(KeyLine[..(KeyLine.Length / 2)]);
    }

    [Fact]
    public async Task Output_garbage_keeps_the_marker_and_breaks_the_value()
    {
        _commands.Faults.Add(new InstanceFaultRule(InstanceFaultKind.OutputGarbage, Count: 1));
        var invocation = Send();
        await UntilAsync(() => invocation.IsTerminal);
        var output = invocation.Snapshot().Out;
        output.ShouldStartWith("ARCBOARD-KEY ");
        output.ShouldNotBe(KeyLine);
        PublicKeyValidator.Validate(output.Split('\n')[0]["ARCBOARD-KEY ".Length..]).IsValid.ShouldBeFalse();
    }

    [Fact]
    public async Task Instance_stop_stops_the_instance_and_the_command_is_never_delivered()
    {
        _commands.Faults.Add(new InstanceFaultRule(InstanceFaultKind.InstanceStop, Count: 1));
        var invocation = Send();
        await UntilAsync(() => Instance.State == InstanceState.Stopped);
        invocation.Snapshot().Status.ShouldBe("Pending");
        _time.Advance(TimeSpan.FromSeconds(DeliveryTimeoutSeconds));
        await UntilAsync(() => invocation.IsTerminal);
        invocation.Snapshot().Details.ShouldBe("DeliveryTimedOut");
        _runner.Runs.ShouldBe(0);
    }

    [Fact]
    public async Task Instance_terminate_terminates_the_instance_and_the_command_is_undeliverable()
    {
        _commands.Faults.Add(new InstanceFaultRule(InstanceFaultKind.InstanceTerminate, Count: 1));
        var invocation = Send();
        await UntilAsync(() => invocation.IsTerminal);
        Instance.State.ShouldBe(InstanceState.Terminated);
        (invocation.Snapshot().Status, invocation.Snapshot().Details).ShouldBe(("Failed", "Undeliverable"));
        _runner.Runs.ShouldBe(0);
    }

    [Fact]
    public async Task Ssm_lost_takes_the_ssm_agent_offline_and_the_command_never_finishes_before_its_timeout()
    {
        _commands.Faults.Add(new InstanceFaultRule(InstanceFaultKind.SsmLost, Count: 1));
        var invocation = Send();
        await UntilAsync(() => invocation.Snapshot().Status == "InProgress" && Instance.Ssm == SsmStatus.Offline);
        Instance.IsManagedOnline.ShouldBeFalse();
        _time.Advance(ExecutionTimeout);
        await UntilAsync(() => invocation.IsTerminal);
        invocation.Snapshot().Status.ShouldBe("TimedOut");
    }

    [Fact]
    public async Task Instance_reboot_keeps_what_the_script_did_and_loses_what_it_printed()
    {
        _commands.Faults.Add(new InstanceFaultRule(InstanceFaultKind.InstanceReboot, Count: 1, Duration: TimeSpan.FromSeconds(45)));
        var invocation = Send();
        await UntilAsync(() => Instance.Ssm == SsmStatus.Offline);
        _runner.Runs.ShouldBe(1);
        invocation.Snapshot().Status.ShouldBe("InProgress");
        _time.Advance(TimeSpan.FromSeconds(45));
        await UntilAsync(() => invocation.IsTerminal);
        var s = invocation.Snapshot();
        (s.Status, s.Code, s.Out).ShouldBe(("Failed", -1, ""));
        Instance.Ssm.ShouldBe(SsmStatus.Online);
    }

    [Fact]
    public void Rates_are_drawn_from_the_seed_so_a_run_replays()
    {
        static List<bool> Draws(int seed)
        {
            var faults = new InstanceFaults(seed);
            faults.Add(new InstanceFaultRule(InstanceFaultKind.CommandHang, Rate: 0.25));
            return [.. Enumerable.Range(0, 400).Select(i => faults.Draw($"i-{i:x8}") is not null)];
        }

        var first = Draws(42);
        first.ShouldBe(Draws(42));
        first.ShouldNotBe(Draws(43));
        first.Count(f => f).ShouldBeInRange(60, 140);
    }

    [Fact]
    public void Rules_limited_to_instances_leave_the_others_alone_and_cued_rules_run_out()
    {
        var faults = new InstanceFaults(1);
        faults.Add(new InstanceFaultRule(InstanceFaultKind.InstanceTerminate, Count: 2, InstanceIds: ["i-00000001"]));
        faults.Draw("i-00000002").ShouldBeNull();
        faults.Draw("i-00000001").ShouldNotBeNull();
        faults.Active.Single().Remaining.ShouldBe(1);
        faults.Draw("i-00000001").ShouldNotBeNull();
        faults.Draw("i-00000001").ShouldBeNull();
        faults.Active.ShouldBeEmpty();
    }

    [Theory]
    [InlineData(0.5, 3)]
    [InlineData(0, 0)]
    [InlineData(1.5, 0)]
    [InlineData(0, -1)]
    public void A_rule_with_both_or_neither_or_out_of_range_is_refused(double rate, int count)
    {
        var error = Should.Throw<ArgumentException>(() => new InstanceFaults(1).Add(new InstanceFaultRule(InstanceFaultKind.CommandFail, rate, count)));
        error.Message.ShouldNotBeNullOrWhiteSpace();
    }

    public void Dispose()
    {
        _commands.Dispose();
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    private InvocationRecord Send() =>
        _commands.Send("111111111111", "us-east-1", RunCommandService.ShellDocument,
            new Dictionary<string, IReadOnlyList<string>> { ["commands"] = ["true"], ["executionTimeout"] = [((int)ExecutionTimeout.TotalSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture)] },
            [Instance], "", DeliveryTimeoutSeconds, "50", "0").Invocations.Single();

    // The engine runs invocations on the thread pool; this waits for what the test expects, never for a fixed time.
    private static async Task UntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!condition())
        {
            DateTime.UtcNow.ShouldBeLessThan(deadline, "the expected state was not reached");
            await Task.Delay(5);
        }
    }

    private sealed class CountingRunner : IScriptRunner
    {
        private int _runs;

        public int Runs => Volatile.Read(ref _runs);

        public IReadOnlyList<string> Modelled => [];

        public Task<ScriptResult> RunAsync(ScriptRequest request, Action started, CancellationToken cancellationToken)
        {
            started();
            Interlocked.Increment(ref _runs);
            return Task.FromResult(new ScriptResult(ScriptOutcome.Completed, 0, KeyLine, ""));
        }

        public void Dispose()
        {
        }
    }
}

/// <summary>The fault surface over HTTP on a modelled sandbox, as chaos runs use it.</summary>
public sealed class InstanceFaultEndpointTests(ModelledSandboxFixture sandboxes) : IClassFixture<ModelledSandboxFixture>
{
    [Fact]
    public async Task Faults_are_added_listed_applied_counted_and_cleared_over_http()
    {
        var host = sandboxes.Modelled;
        using var http = new HttpClient { BaseAddress = new Uri(host.Endpoints.AdminUrl + "/") };

        var bad = await http.PostAsJsonAsync("faults/instances", new { kind = "meteor-strike", rate = 0.1 });
        bad.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await bad.Content.ReadAsStringAsync()).ShouldContain("command-hang");
        (await http.PostAsJsonAsync("faults/instances", new { kind = "command-fail", rate = 0.1, count = 2 })).StatusCode.ShouldBe(HttpStatusCode.BadRequest);

        var added = await http.PostAsJsonAsync("faults/instances", new { kind = "command-fail", count = 1, instanceIds = new[] { ModelledSandboxFixture.Chaos } });
        added.StatusCode.ShouldBe(HttpStatusCode.Created);
        var listed = JsonNode.Parse(await http.GetStringAsync("faults/instances"))!;
        listed["rules"]!.AsArray().Single()!["kind"]!.GetValue<string>().ShouldBe("command-fail");
        listed["rules"]!.AsArray().Single()!["remaining"]!.GetValue<int>().ShouldBe(1);

        var failed = await ModelledSandboxFixture.RunAsync(host, ModelledSandboxFixture.Chaos, OnboardingScripts.ProbeAndGenerateKey(Platform.Linux));
        failed.Status.Value.ShouldBe("Failed");
        failed.StandardErrorContent.ShouldContain("command-fail");
        var stats = JsonNode.Parse(await http.GetStringAsync("stats"))!;
        stats["faults"]!["command-fail"]!.GetValue<long>().ShouldBeGreaterThanOrEqualTo(1);
        JsonNode.Parse(await http.GetStringAsync("faults/instances"))!["rules"]!.AsArray().ShouldBeEmpty();

        (await http.PostAsJsonAsync("faults/instances", new { kind = "command-hang", rate = 1.0, instanceIds = new[] { ModelledSandboxFixture.Chaos } })).StatusCode.ShouldBe(HttpStatusCode.Created);
        (await http.DeleteAsync("faults/instances")).StatusCode.ShouldBe(HttpStatusCode.NoContent);
        host.InstanceFaults.Active.ShouldBeEmpty();
        var healthy = await ModelledSandboxFixture.RunAsync(host, ModelledSandboxFixture.Chaos, OnboardingScripts.ProbeAndGenerateKey(Platform.Linux));
        healthy.Status.Value.ShouldBe("Success", healthy.StandardErrorContent);
    }
}
