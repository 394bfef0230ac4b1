using System.Diagnostics;
using Arcboard.Sandbox.Hosting;

namespace Arcboard.Bench;

/// <summary>
/// Runs one strategy: a fresh sandbox (same fleet, same seed) hosted here, and the connector as a child process with a
/// fresh store, measured from outside through /proc.
/// </summary>
internal sealed class StrategyRunner(BenchOptions options, string fleetFile, int eligible, TextWriter progress, TimeProvider time)
{
    private static readonly TimeSpan SampleInterval = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan ProgressInterval = TimeSpan.FromSeconds(2);

    public async Task<(StrategyResult Result, BoundModel Bound)> RunAsync(string strategy, CancellationToken cancellationToken)
    {
        var directory = Directory.CreateTempSubdirectory($"arcboard-bench-{strategy}-").FullName;
        try
        {
            progress.WriteLine($"[{strategy}] starting a sandbox with {eligible} instances (profile {options.Profile}, seed {options.Seed}) in {directory}");
            await using var sandbox = await SandboxHost.StartAsync(SandboxSetup.Options(options, fleetFile, Path.Combine(directory, "sandbox")), cancellationToken);
            var config = Path.Combine(directory, "arcboard.json");
            await sandbox.WriteConfigFileAsync(config, "arcboard.db", cancellationToken);

            using var admin = new HttpClient();
            var (bound, _) = await SandboxSetup.ReadProfileAsync(admin, sandbox, cancellationToken);
            var modelled = await SandboxSetup.ReadModelledAsync(admin, sandbox, cancellationToken);
            sandbox.Stats.Reset();

            var sandboxCpu = Process.GetCurrentProcess().TotalProcessorTime;
            var startedAt = time.GetUtcNow();
            var measured = await RunConnectorAsync(strategy, config, Path.Combine(directory, "connector.log"), sandbox, cancellationToken);
            var stats = sandbox.Stats;
            var result = new StrategyResult
            {
                Strategy = strategy,
                ExitCode = measured.ExitCode,
                MakespanSeconds = measured.Elapsed.TotalSeconds,
                CpuSeconds = measured.CpuTicks / (double)ProcessUsage.ClockTicksPerSecond(),
                PeakMemoryMb = measured.PeakResidentKb / 1024.0,
                Samples = measured.Samples,
                Calls = Flatten(stats.Snapshot()),
                Throttled = Flatten(stats.ThrottledSnapshot()),
                Modelled = modelled,
                Report = ConnectorReport.Parse(measured.Stdout),
                ResourceGroups = sandbox.Azure.ListResourceGroups().Count,
                Phases = RunPhases.From(sandbox.Azure.ListMachines().Where(m => m.CreatedAt is not null).Select(m => (m.CreatedAt!.Value, m.Status == "Connected" ? m.LastStatusChange : null)), startedAt),
                SandboxCpuSeconds = (Process.GetCurrentProcess().TotalProcessorTime - sandboxCpu).TotalSeconds,
            };
            progress.WriteLine($"[{strategy}] done in {result.MakespanSeconds:0.0} s: {string.Join(", ", result.Report.Outcomes.Select(o => $"{o.Key} {o.Value}"))}; peak {result.PeakMemoryMb:0} MB, {result.CpuSeconds:0.0} s CPU");
            return (result, bound);
        }
        finally
        {
            if (options.Keep)
            {
                progress.WriteLine($"[{strategy}] kept {directory}");
            }
            else
            {
                TryDelete(directory);
            }
        }
    }

    private async Task<Measured> RunConnectorAsync(string strategy, string config, string logPath, SandboxHost sandbox, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in (string[])[Path.GetFullPath(options.CliPath), "sync", "--config", config, "--output", "json", "--strategy", strategy])
        {
            start.ArgumentList.Add(arg);
        }

        var started = time.GetTimestamp();
        using var process = Process.Start(start) ?? throw new BenchException("could not start the connector: is the dotnet host on PATH?");
        var pid = process.Id;
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var log = CopyToFileAsync(process.StandardError, logPath, cancellationToken);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var reporter = ReportProgressAsync(strategy, sandbox, started, stop.Token);

        long peakKb = 0, cpuTicks = 0;
        var samples = 0;
        try
        {
            while (!process.HasExited)
            {
                var (kb, ticks) = ProcessUsage.Read(pid);
                // Both are monotonic in the kernel (VmHWM is a high-water mark, CPU times only grow): keep the largest seen.
                peakKb = Math.Max(peakKb, kb ?? 0);
                cpuTicks = Math.Max(cpuTicks, ticks ?? 0);
                samples++;
                try
                {
                    await process.WaitForExitAsync(cancellationToken).WaitAsync(SampleInterval, time, cancellationToken);
                }
                catch (TimeoutException)
                {
                }
            }

            await process.WaitForExitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        var elapsed = time.GetElapsedTime(started);
        await stop.CancelAsync();
        await reporter;
        var output = await stdout;
        await log;
        if (process.ExitCode is not (0 or 2))
        {
            var tail = File.ReadLines(logPath).TakeLast(3).ToArray();
            throw new BenchException($"the connector ({strategy}) exited with {process.ExitCode}: {string.Join(" | ", tail)}");
        }

        return new Measured(process.ExitCode, elapsed, peakKb, cpuTicks, samples, output);
    }

    private async Task ReportProgressAsync(string strategy, SandboxHost sandbox, long started, CancellationToken cancellationToken)
    {
        try
        {
            while (true)
            {
                await Task.Delay(ProgressInterval, time, cancellationToken);
                var connected = sandbox.Azure.ListMachines().Count(m => m.Status == "Connected");
                var elapsed = time.GetElapsedTime(started);
                var rate = connected / Math.Max(elapsed.TotalSeconds, 0.001);
                await progress.WriteLineAsync($"[{strategy}] {connected}/{eligible} connected, {rate:0.0}/s, {elapsed:mm\\:ss} elapsed");
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static async Task CopyToFileAsync(StreamReader source, string path, CancellationToken cancellationToken)
    {
        await using var file = File.CreateText(path);
        await source.BaseStream.CopyToAsync(file.BaseStream, cancellationToken);
    }

    private static SortedDictionary<string, long> Flatten(SortedDictionary<string, SortedDictionary<string, long>> byService)
    {
        var flat = new SortedDictionary<string, long>(StringComparer.Ordinal);
        foreach (var (service, operations) in byService)
        {
            foreach (var (operation, count) in operations)
            {
                flat[$"{service}:{operation}"] = count;
            }
        }

        return flat;
    }

    private static void TryDelete(string directory)
    {
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temporary folder is harmless; failing the benchmark over it is not.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    private sealed record Measured(int ExitCode, TimeSpan Elapsed, long PeakResidentKb, long CpuTicks, int Samples, string Stdout);
}

/// <summary>A benchmark that cannot go on; the message is one line for a person.</summary>
internal sealed class BenchException(string message) : Exception(message);
