using System.Globalization;
using Arcboard.Chaos;

// bench/chaos [--instances N] [--kills K] [--seed S] [--faults kind=rate,...|none] [--cli PATH] [--keep DIR] [--expect-cleanup]
// stdout: one JSON document; stderr: progress. Exit 0 when every invariant held, 2 when one did not, 1 on bad usage.
try
{
    var options = Parse(args);
    using var interrupt = new CancellationTokenSource();
    Console.CancelKeyPress += (_, e) =>
    {
        e.Cancel = true;
        interrupt.Cancel();
    };
    var report = await new ChaosRun(options).RunAsync(interrupt.Token);
    Console.Out.WriteLine(report.ToJson());
    Console.Error.WriteLine(report.InvariantsHeld
        ? $"chaos: invariants held ({report.Onboarded}/{report.Eligible} onboarded, {report.Kills} kills, {report.Seconds:0} s)"
        : $"chaos: {report.Violations.Count} violations");
    return report.InvariantsHeld ? 0 : 2;
}
catch (ArgumentException ex)
{
    Console.Error.WriteLine("chaos: " + ex.Message);
    return 1;
}
catch (OperationCanceledException)
{
    Console.Error.WriteLine("chaos: interrupted");
    return 130;
}

static ChaosOptions Parse(string[] args)
{
    var options = new ChaosOptions
    {
        CliPath = Path.Combine(Environment.CurrentDirectory, "artifacts", "cli", "arcboard.dll"),
        Progress = line => Console.Error.WriteLine($"[{DateTime.Now:HH:mm:ss}] {line}"),
    };
    for (var i = 0; i < args.Length; i++)
    {
        var name = args[i];
        string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{name} needs a value.");
        int Count(int min)
        {
            var text = Value();
            return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= min
                ? n
                : throw new ArgumentException($"{name} must be a whole number of at least {min}, not '{text}'.");
        }

        options = name switch
        {
            "--instances" => options with { Instances = Count(1) },
            "--kills" => options with { Kills = Count(0) },
            "--seed" => options with { Seed = Count(0) },
            "--faults" => options with { Faults = FaultRate.ParseList(Value()) },
            "--cli" => options with { CliPath = Path.GetFullPath(Value()) },
            "--keep" => options with { WorkDirectory = Path.GetFullPath(Value()) },
            "--max-passes" => options with { MaxConvergencePasses = Count(1) },
            "--expect-cleanup" => options with { ExpectCleanup = true },
            _ => throw new ArgumentException($"unknown option '{name}'; use --instances N, --kills K, --seed S, --faults kind=rate,...|none, --cli PATH, --keep DIR, --max-passes N, --expect-cleanup."),
        };
    }

    return options;
}
