using System.Diagnostics;
using Arcboard.Bench;
using Arcboard.Sandbox.Fleet;

// The fleet-scale benchmark: stdout carries one JSON document, stderr the progress. Run it through bench/run.
// Exit codes: 0 every check passed, 2 the benchmark ran but a check failed, 1 bad usage or a run that could not finish.
var options = BenchOptions.Parse(args, out var usageError);
if (options is null)
{
    await Console.Error.WriteLineAsync($"bench: {usageError}");
    return 1;
}

if (options.Help)
{
    await Console.Error.WriteLineAsync(BenchOptions.Usage);
    return 0;
}

if (SandboxSetup.ProfileProblem(options.Profile) is { } profileProblem)
{
    await Console.Error.WriteLineAsync($"bench: {profileProblem}");
    return 1;
}

if (!File.Exists(options.CliPath))
{
    await Console.Error.WriteLineAsync($"bench: the connector is not built at {options.CliPath}; run bench/run, which builds it, or pass --cli PATH/arcboard.dll.");
    return 1;
}

using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cancel.Cancel();
};

var time = TimeProvider.System;
var fleet = BenchFleet.Generate(options.Instances, options.Seed);
var work = Directory.CreateTempSubdirectory("arcboard-bench-").FullName;
try
{
    var fleetFile = Path.Combine(work, "fleet.json");
    await using (var stream = File.Create(fleetFile))
    {
        fleet.WriteFleetFile(stream);
    }

    var runner = new StrategyRunner(options, fleetFile, fleet.Instances, Console.Error, time);
    var results = new List<StrategyResult>();
    var bound = BoundModel.Unlimited;
    foreach (var strategy in options.Strategies)
    {
        var (result, model) = await runner.RunAsync(strategy, cancel.Token);
        results.Add(result);
        bound = model;
    }

    // Both strategies ran against the same profile; the connector's configuration makes one resource group per account.
    var lowerBound = LowerBound.Compute(fleet.Shape(resourceGroups: fleet.Accounts), bound);
    var report = BenchReport.Build(options.Instances, options.Profile, fleet, lowerBound, results, BenchReport.Measurement);
    var json = BenchReport.ToJson(report);
    await Console.Out.WriteLineAsync(json);
    if (options.OutputFile is { } output)
    {
        await File.WriteAllTextAsync(output, json + "\n", cancel.Token);
        await Console.Error.WriteLineAsync($"bench: wrote {output}");
    }

    return BenchReport.AllChecksPassed(report) ? 0 : 2;
}
catch (OperationCanceledException) when (cancel.IsCancellationRequested)
{
    await Console.Error.WriteLineAsync("bench: stopped.");
    return 130;
}
catch (Exception error) when (error is BenchException or SandboxConfigurationException or FormatException or IOException)
{
    await Console.Error.WriteLineAsync($"bench: {error.Message}");
    return 1;
}
finally
{
    try
    {
        Directory.Delete(work, recursive: true);
    }
    catch (IOException)
    {
    }
}
