using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Arcboard.Sandbox.Fleet;
using Arcboard.Sandbox.Hosting;
using Arcboard.Store.Sqlite;

namespace Arcboard.Chaos;

/// <summary>
/// The chaos run: a sandbox fleet with faults injected, a real <c>arcboard sync</c> process SIGKILLed at seeded random
/// moments and started again while the fleet changes under it, then syncs left alone until they converge, and finally
/// the invariants read from the sandbox's Azure and fleet, the sandbox's record of overlapping commands, and the
/// store's integrity check.
/// </summary>
public sealed class ChaosRun(ChaosOptions options)
{
    private readonly Random _random = new(options.Seed);
    private readonly List<KillPoint> _killPoints = [];
    private readonly List<string> _runProblems = [];
    private readonly Dictionary<string, string> _faultEndpoints = new(StringComparer.Ordinal);
    private int _launched;
    private int _terminated;
    private int _finishedBeforeKill;

    public async Task<ChaosReport> RunAsync(CancellationToken cancellationToken)
    {
        if (!File.Exists(options.CliPath))
        {
            throw new ArgumentException($"the connector is not built at {options.CliPath}; build it with ./arcboard --version or pass --cli PATH.");
        }

        var started = options.Time.GetTimestamp();
        var ownsFolder = options.WorkDirectory is null;
        var keepFolder = false;
        var folder = options.WorkDirectory ?? Directory.CreateTempSubdirectory("arcboard-chaos-").FullName;
        Directory.CreateDirectory(folder);
        try
        {
            await using var sandbox = await SandboxHost.StartAsync(
                new SandboxOptions { Instances = options.Instances, Seed = options.Seed, DataDirectory = Path.Combine(folder, "sandbox") },
                cancellationToken);
            var config = Path.Combine(folder, "arcboard.json");
            var store = Path.Combine(folder, "state", "arcboard.db");
            await WriteConfigAsync(sandbox, config, cancellationToken);
            var checker = new InvariantChecker(sandbox, [.. sandbox.Azure.ListMachines()]);
            using var admin = new HttpClient { BaseAddress = new Uri(sandbox.Endpoints.AdminUrl.TrimEnd('/') + "/") };
            options.Progress($"chaos: {options.Instances} instances (seed {options.Seed}), {sandbox.Fleet.Instances.Count(InvariantChecker.IsEligible)} eligible; {options.Kills} kills; work in {folder}");

            await SetFaultsAsync(admin, options.Faults, cancellationToken);
            var log = Path.Combine(folder, "sync.log");
            var kills = 0;
            var attempts = 0;
            while (kills < options.Kills && attempts < options.Kills * 4)
            {
                attempts++;
                Churn(sandbox);
                var delay = options.MinKillDelay + (options.MaxKillDelay - options.MinKillDelay) * _random.NextDouble();
                var outcome = await RunSyncAsync(config, log, delay, cancellationToken);
                if (outcome.Killed)
                {
                    kills++;
                    _killPoints.Add(new KillPoint(delay.TotalSeconds, outcome.LastLine));
                    options.Progress($"kill {kills}/{options.Kills} after {delay.TotalSeconds:0.0} s, at: {outcome.LastLine}");
                    // Cheap enough at every kill point: a second machine for one instance is the worst crash bug.
                    foreach (var duplicate in checker.Duplicates())
                    {
                        _runProblems.Add($"at kill {kills}: {duplicate}");
                    }
                }
                else
                {
                    _finishedBeforeKill++;
                    options.Progress($"sync finished (exit {outcome.ExitCode}) before its kill at {delay.TotalSeconds:0.0} s");
                }
            }

            // Instances must hold still for convergence to mean anything; wire faults stay on, as in the bar.
            await SetFaultsAsync(admin, [.. options.Faults.Where(f => f.IsHttp)], cancellationToken);
            var passes = 0;
            var converged = false;
            while (passes < options.MaxConvergencePasses && !converged)
            {
                if (passes > 0)
                {
                    await Task.Delay(options.ConvergencePause, options.Time, cancellationToken);
                }

                passes++;
                var outcome = await RunSyncAsync(config, log, options.SyncTimeout, cancellationToken);
                if (outcome.Killed)
                {
                    _runProblems.Add($"convergence pass {passes} did not finish within {options.SyncTimeout.TotalMinutes:0} minutes and was killed; last line: {outcome.LastLine}");
                    continue;
                }

                var verdict = checker.Check(cleanupExpected: false);
                converged = outcome.ExitCode == 0 && verdict.Violations.Count == 0;
                options.Progress($"convergence pass {passes}: exit {outcome.ExitCode}, {verdict.Onboarded}/{verdict.Eligible} eligible onboarded, {verdict.Violations.Count} problems");
            }

            await SetFaultsAsync(admin, [], cancellationToken);
            var cleanupObserved = sandbox.Stats.Count("arm", "DeleteMachine") > 0;
            var final = checker.Check(options.ExpectCleanup || cleanupObserved);
            var violations = new List<string>(_runProblems);
            violations.AddRange(final.Violations);
            if (!converged)
            {
                violations.Add($"the connector did not converge within {options.MaxConvergencePasses} passes without kills (the last sync did not exit 0, or Azure did not match)");
            }

            var overlaps = sandbox.CommandOverlaps;
            violations.AddRange(overlaps.Select(o => $"instance {o.InstanceId} got command {o.NewCommandId} while command {o.EarlierCommandId} was still {o.EarlierStatus} on it"));
            violations.AddRange((await CheckStoreAsync(store, cancellationToken)).Select(p => "store integrity: " + p));

            // A failed run keeps its folder: the connector's log and store are the first things to read.
            keepFolder = violations.Count > 0;
            return new ChaosReport
            {
                WorkDirectory = ownsFolder && !keepFolder ? null : folder,
                Instances = options.Instances,
                Seed = options.Seed,
                Kills = kills,
                SyncsFinishedBeforeKill = _finishedBeforeKill,
                FaultsInjected = sandbox.Stats.FaultSnapshot(),
                FaultEndpoints = _faultEndpoints,
                Violations = violations,
                AwaitingCleanup = final.AwaitingCleanup,
                CleanupObserved = cleanupObserved,
                ConvergencePasses = passes,
                Converged = converged,
                Seconds = options.Time.GetElapsedTime(started).TotalSeconds,
                Eligible = final.Eligible,
                Onboarded = final.Onboarded,
                Launched = _launched,
                Terminated = _terminated,
                MachinesForNowIneligible = final.MachinesForNowIneligible,
                CommandOverlaps = overlaps.Count,
                KillPoints = _killPoints,
            };
        }
        finally
        {
            if (ownsFolder && !keepFolder)
            {
                TryDelete(folder);
            }
        }
    }

    /// <summary>The sandbox's own config with the short timeouts a chaos run needs to converge in minutes.</summary>
    private async Task WriteConfigAsync(SandboxHost sandbox, string path, CancellationToken cancellationToken)
    {
        await sandbox.WriteConfigFileAsync(path, "state/arcboard.db", cancellationToken);
        var config = JsonNode.Parse(await File.ReadAllTextAsync(path, cancellationToken))!.AsObject();
        config["onboarding"] = new JsonObject
        {
            ["commandTimeoutSeconds"] = options.CommandTimeoutSeconds,
            ["pollIntervalSeconds"] = options.PollIntervalSeconds,
        };
        await File.WriteAllTextAsync(path, config.ToJsonString(), cancellationToken);
    }

    /// <summary>The fleet moves while the connector is down: new instances arrive, and one may vanish mid-onboarding.</summary>
    private void Churn(SandboxHost sandbox)
    {
        if (_random.NextDouble() < options.LaunchChance)
        {
            var count = _random.Next(1, 4);
            for (var i = 0; i < count; i++)
            {
                var account = sandbox.Fleet.AccountIds[_random.Next(sandbox.Fleet.AccountIds.Count)];
                var regions = sandbox.Fleet.RegionsOf(account);
                var platform = _random.NextDouble() < 0.25 ? InstancePlatform.Windows : InstancePlatform.Linux;
                sandbox.Fleet.Launch(account, regions[_random.Next(regions.Count)], platform, new Dictionary<string, string> { ["Name"] = $"chaos-{_launched}" }, SsmStatus.Online, AgentStatus.Installed);
                _launched++;
            }
        }

        if (_random.NextDouble() < options.TerminateChance)
        {
            var eligible = sandbox.Fleet.Instances.Where(InvariantChecker.IsEligible).ToList();
            if (eligible.Count > 0 && sandbox.Fleet.Transition(eligible[_random.Next(eligible.Count)].Id, InstanceState.Terminated))
            {
                _terminated++;
            }
        }
    }

    private sealed record SyncOutcome(bool Killed, int ExitCode, string LastLine);

    /// <summary>Runs one sync and SIGKILLs it after <paramref name="killAfter"/> if it is still running.</summary>
    /// <summary>How long a sync may take to print its first line before the kill clock runs anyway.</summary>
    private static readonly TimeSpan StartupAllowance = TimeSpan.FromMinutes(1);

    private async Task<SyncOutcome> RunSyncAsync(string config, string log, TimeSpan killAfter, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { options.CliPath, "sync", "--config", config, "--output", "json" })
        {
            start.ArgumentList.Add(arg);
        }

        var lastLine = "(nothing printed yet)";
        var printed = false;
        var gate = new Lock();
        await using var writer = new StreamWriter(log, append: true);
        // The kill clock starts at the connector's first line, when its pass begins: .NET start-up takes anywhere from
        // under one second to several on a loaded machine, and counted in, it decided whether a kill landed at all.
        // Until that line, the clock allows for a slow start on top.
        using var timer = new CancellationTokenSource(killAfter + StartupAllowance, options.Time);
        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start dotnet");
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                return;
            }

            lock (gate)
            {
                if (!printed)
                {
                    printed = true;
                    timer.CancelAfter(killAfter);
                }

                lastLine = e.Data;
                writer.WriteLine(e.Data);
            }
        };
        process.OutputDataReceived += (_, _) => { };
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();

        using var linked = CancellationTokenSource.CreateLinkedTokenSource(timer.Token, cancellationToken);
        try
        {
            await process.WaitForExitAsync(linked.Token);
            // Drains the redirected streams before the exit code is read.
            await process.WaitForExitAsync(CancellationToken.None);
            lock (gate)
            {
                return new SyncOutcome(false, process.ExitCode, lastLine);
            }
        }
        catch (OperationCanceledException)
        {
            // SIGKILL: no handler in the connector runs, exactly as a crash or an OOM kill.
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None);
            cancellationToken.ThrowIfCancellationRequested();
            lock (gate)
            {
                writer.WriteLine("---- SIGKILL ----");
                return new SyncOutcome(true, process.ExitCode, lastLine);
            }
        }
    }

    /// <summary>
    /// Replaces the faults of each endpoint (DELETE, then one POST <c>{"kind","rate"}</c> per kind). A sandbox without
    /// the endpoint is noted in the report rather than failing the run: kills alone already exercise crash safety.
    /// </summary>
    private async Task SetFaultsAsync(HttpClient admin, IReadOnlyList<FaultRate> faults, CancellationToken cancellationToken)
    {
        foreach (var (endpoint, kinds) in new[] { ("http", FaultRate.HttpKinds), ("instances", FaultRate.InstanceKinds) })
        {
            var mine = faults.Where(f => kinds.Contains(f.Kind)).ToList();
            if (_faultEndpoints.TryGetValue(endpoint, out var state) && state != "configured")
            {
                continue;
            }

            if (mine.Count == 0 && state is null)
            {
                continue;
            }

            using (var cleared = await admin.DeleteAsync($"faults/{endpoint}?seed={options.Seed}", cancellationToken))
            {
                if (!cleared.IsSuccessStatusCode)
                {
                    var problem = $"not available (DELETE /_sandbox/faults/{endpoint} answered {(int)cleared.StatusCode})";
                    options.Progress($"faults/{endpoint}: {problem}");
                    _faultEndpoints[endpoint] = problem;
                    continue;
                }
            }

            foreach (var fault in mine)
            {
                using var response = await admin.PostAsJsonAsync($"faults/{endpoint}", new JsonObject { ["kind"] = fault.Kind, ["rate"] = fault.Rate }, cancellationToken);
                if (!response.IsSuccessStatusCode)
                {
                    throw new ArgumentException($"the sandbox refused fault {fault.Kind}={fault.Rate}: {Truncate(await response.Content.ReadAsStringAsync(cancellationToken), 300)}");
                }
            }

            _faultEndpoints[endpoint] = "configured";
        }
    }

    private static async Task<IReadOnlyList<string>> CheckStoreAsync(string path, CancellationToken cancellationToken)
    {
        if (!File.Exists(path))
        {
            return ["the store file does not exist"];
        }

        await using var store = new SqliteStateStore(path, TimeProvider.System);
        await store.InitializeAsync(cancellationToken);
        return await store.CheckIntegrityAsync(cancellationToken);
    }

    private static string Truncate(string text, int length) => text.Length <= length ? text : text[..length] + "...";

    private static void TryDelete(string folder)
    {
        try
        {
            Directory.Delete(folder, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
