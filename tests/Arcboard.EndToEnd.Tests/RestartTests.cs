using System.Diagnostics;
using System.Text.Json;
using Arcboard.Sandbox.Fleet;
using Arcboard.Sandbox.Hosting;
using Arcboard.Store.Sqlite;
using Xunit.Abstractions;

namespace Arcboard.EndToEnd.Tests;

/// <summary>
/// A real <c>arcboard sync</c> process SIGKILLed in the middle of a step, then a second sync: the store must let it
/// resume to exactly one Connected machine per eligible instance, with nothing duplicated and nothing left behind.
/// </summary>
[Trait("Category", "EndToEnd")]
public sealed class RestartTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int Linux = 8;
    private const int Windows = 4;
    private static readonly TimeSpan ProcessTimeout = TimeSpan.FromSeconds(90);

    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("arcboard-restart-");
    private SandboxHost _sandbox = null!;
    private string _config = null!;
    private string _storePath = null!;

    public async Task InitializeAsync()
    {
        (_sandbox, _config) = await FleetFiles.StartMixedSandboxAsync(_folder.FullName, Linux, Windows);
        _storePath = Path.Combine(_folder.FullName, "state", "arcboard.db");
    }

    public async Task DisposeAsync()
    {
        await _sandbox.DisposeAsync();
        try
        {
            _folder.Delete(recursive: true);
        }
        catch (IOException)
        {
            // A straggling script of the killed run may still hold a file; a leftover temp folder fails nothing.
        }
    }

    [Theory]
    [InlineData("genkey for")]
    [InlineData("create-machine for")]
    [InlineData("connect for")]
    public async Task A_sync_killed_mid_step_is_finished_by_the_next_sync_without_duplicates(string killAfter)
    {
        var killed = await RunAndKillAfterAsync(killAfter);
        output.WriteLine(killed ? $"killed right after a '{killAfter}' line" : $"the process finished before a '{killAfter}' line could be acted on; checking convergence only");

        var resumed = await CliRun.InProcessAsync("sync", "--config", _config, "--output", "json", "--log-level", "Information");
        output.WriteLine(resumed.Error);

        resumed.ExitCode.ShouldBe(0, resumed.Error);
        var eligible = EligibleInstanceIds();
        eligible.Count.ShouldBe(Linux + Windows);

        using (var report = JsonDocument.Parse(resumed.Out))
        {
            var summary = report.RootElement.GetProperty("summary");
            summary.GetProperty("failed").GetInt32().ShouldBe(0, resumed.Out);
            summary.GetProperty("scopeErrors").GetInt32().ShouldBe(0, resumed.Out);
            var outcomes = report.RootElement.GetProperty("instances").EnumerateArray()
                .ToDictionary(i => i.GetProperty("instanceId").GetString()!, i => i.GetProperty("outcome").GetString());
            foreach (var id in eligible)
            {
                // Whatever the killed run finished shows as already connected now; the rest is onboarded by this run.
                outcomes[id].ShouldBeOneOf("Onboarded", "AlreadyConnected");
            }
        }

        // Azure's side, from the sandbox itself: one machine per eligible instance, named after it, connected.
        var managed = _sandbox.Azure.ListMachines().Where(m => m.Tags.ContainsKey("arcboard-managed-by")).ToList();
        managed.Select(m => m.Name).OrderBy(n => n, StringComparer.Ordinal).ShouldBe(eligible.Order(StringComparer.Ordinal));
        managed.ShouldAllBe(m => m.Status == "Connected");
        // The only other machine is the one the fleet seeds as connected before Arcboard ever runs.
        _sandbox.Azure.ListMachines().Count.ShouldBe(managed.Count + 1);

        var status = await CliRun.InProcessAsync("status", "--config", _config, "--output", "json");
        status.ExitCode.ShouldBe(0, status.Error);
        using (var known = JsonDocument.Parse(status.Out))
        {
            known.RootElement.GetProperty("summary").GetProperty("connected").GetInt32().ShouldBe(eligible.Count);
            var connected = known.RootElement.GetProperty("instances").EnumerateArray()
                .Where(i => i.GetProperty("stage").GetString() == "Connected")
                .ToList();
            connected.Select(i => i.GetProperty("instanceId").GetString()).Order(StringComparer.Ordinal).ShouldBe(eligible.Order(StringComparer.Ordinal));
            foreach (var record in connected)
            {
                record.GetProperty("createdByArcboard").GetBoolean().ShouldBeTrue();
                var id = record.GetProperty("azureResourceId").GetString();
                managed.ShouldContain(m => string.Equals(m.Id, id, StringComparison.OrdinalIgnoreCase), $"status names {id}, which the sandbox does not hold");
            }
        }

        await using var store = new SqliteStateStore(_storePath, TimeProvider.System);
        await store.InitializeAsync(CancellationToken.None);
        (await store.CheckIntegrityAsync(CancellationToken.None)).ShouldBeEmpty();
    }

    private List<string> EligibleInstanceIds() =>
        _sandbox.Fleet.Instances
            .Where(i => i.State == InstanceState.Running && i.Ssm == SsmStatus.Online && i.InitialAgent == AgentStatus.Installed)
            .Select(i => i.Id)
            .ToList();

    /// <summary>
    /// Runs <c>sync</c> as a real process and SIGKILLs its whole tree as soon as stderr shows a line containing
    /// <paramref name="marker"/>. Returns whether the kill landed on a running process.
    /// </summary>
    private async Task<bool> RunAndKillAfterAsync(string marker)
    {
        using var process = CliRun.Start("sync", "--config", _config, "--output", "json");
        var seen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var killed = false;
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                return;
            }

            output.WriteLine($"stderr: {e.Data}");
            if (e.Data.Contains(marker, StringComparison.Ordinal) && seen.TrySetResult())
            {
                try
                {
                    // Kill from the reader thread itself, so the process gets no chance to take another step first.
                    process.Kill(entireProcessTree: true);
                    killed = true;
                }
                catch (InvalidOperationException)
                {
                    // It already exited: the kill came too late, which leaves a valid convergence check.
                }
            }
        };
        process.OutputDataReceived += (_, _) => { };
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();

        using var timeout = new CancellationTokenSource(ProcessTimeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"sync did not finish or reach '{marker}' within {ProcessTimeout.TotalSeconds} s");
        }

        output.WriteLine($"first sync exit code {process.ExitCode}, marker seen: {seen.Task.IsCompleted}");
        if (!killed)
        {
            // Only a run that finished on its own may skip the kill; it must then have finished cleanly.
            process.ExitCode.ShouldBe(0);
        }

        return killed && process.ExitCode != 0;
    }
}
