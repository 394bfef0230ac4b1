using Arcboard.Core.Fleet;
using Arcboard.Sandbox.Admin;
using Arcboard.Sandbox.Aws;
using Arcboard.Sandbox.Fleet;
using Arcboard.Sandbox.Instances;
using Microsoft.Extensions.Time.Testing;

namespace Arcboard.Sandbox.Tests.Instances;

/// <summary>Run Command's engine runs the instances' work on the scheduler it is given, within that scheduler's bound.</summary>
public sealed class InstanceSchedulerTests : IDisposable
{
    private const int InstanceCount = 8;
    private const int Bound = 2;
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "arcboard-scheduler-" + Guid.NewGuid().ToString("N")[..8]);

    [Fact]
    public async Task Every_invocation_runs_on_the_instance_scheduler_and_no_more_at_once_than_it_allows()
    {
        var ids = Enumerable.Range(1, InstanceCount).Select(i => $"i-0aaaaaaaaaaaaa{i:x3}").ToList();
        var fleet = new SandboxFleet(
            new FleetDefinition(null, [new AccountDefinition("111111111111", ["us-east-1"])],
                ids.Select(id => new InstanceDefinition("111111111111", "us-east-1", id, InstancePlatform.Linux, InstanceState.Running, SsmStatus.Online, AgentStatus.Installed, new Dictionary<string, string>())).ToList()),
            _directory,
            new FakeTimeProvider(DateTimeOffset.UtcNow),
            createRootFolders: false);
        var scheduler = new ConcurrentExclusiveSchedulerPair(TaskScheduler.Default, Bound).ConcurrentScheduler;
        using var runner = new BusyRunner();
        using var commands = new RunCommandService(runner, TimeProvider.System, TimeSpan.Zero, fleet, new InstanceFaults(1), new SandboxStats(), InstanceLatencies.Zero, scheduler);

        var invocations = commands.Send("111111111111", "us-east-1", RunCommandService.ShellDocument,
            new Dictionary<string, IReadOnlyList<string>> { ["commands"] = ["true"] },
            ids.Select(id => fleet.Find(id)!).ToList(), "", 600, "50", "0").Invocations;

        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (!invocations.All(i => i.IsTerminal))
        {
            DateTime.UtcNow.ShouldBeLessThan(deadline, "the invocations did not finish");
            await Task.Delay(10);
        }

        invocations.ShouldAllBe(i => i.Snapshot().Status == "Success");
        runner.Schedulers.Count.ShouldBe(InstanceCount);
        runner.Schedulers.ShouldAllBe(s => s == scheduler);
        runner.PeakConcurrency.ShouldBeLessThanOrEqualTo(Bound);
    }

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    /// <summary>Holds its thread for a while, as a modelled instance's key work does, and notes where and how many ran.</summary>
    private sealed class BusyRunner : IScriptRunner
    {
        private int _running;
        private int _peak;

        public System.Collections.Concurrent.ConcurrentBag<TaskScheduler> Schedulers { get; } = [];

        public int PeakConcurrency => Volatile.Read(ref _peak);

        public IReadOnlyList<string> Modelled => [];

        public Task<ScriptResult> RunAsync(ScriptRequest request, Action started, CancellationToken cancellationToken)
        {
            started();
            Schedulers.Add(TaskScheduler.Current);
            var running = Interlocked.Increment(ref _running);
            int peak;
            while (running > (peak = Volatile.Read(ref _peak)) && Interlocked.CompareExchange(ref _peak, running, peak) != peak)
            {
            }

            Thread.Sleep(30);
            Interlocked.Decrement(ref _running);
            return Task.FromResult(new ScriptResult(ScriptOutcome.Completed, 0, "ok\n", ""));
        }

        public void Dispose()
        {
        }
    }
}
