using System.Globalization;

namespace Arcboard.Bench;

/// <summary>The harness's command line; <see cref="Parse"/> names the first problem and how to fix it.</summary>
public sealed record BenchOptions
{
    public const int MaxInstances = 100_000;

    public const string Usage =
        "usage: bench/run [--instances N] [--profile NAME] [--strategies batched,per-instance] [--seed S] [--output FILE] [--keep]";

    public static readonly IReadOnlyList<string> KnownStrategies = [BenchReport.Batched, BenchReport.PerInstance];

    public int Instances { get; init; } = 10_000;
    public string Profile { get; init; } = "compressed";
    public IReadOnlyList<string> Strategies { get; init; } = KnownStrategies;
    public int Seed { get; init; } = 1;
    public string? OutputFile { get; init; }

    /// <summary>The built CLI (<c>arcboard.dll</c>) to run as the connector; bench/run passes it.</summary>
    public string CliPath { get; init; } = Path.Combine("artifacts", "bench-cli", "arcboard.dll");

    /// <summary>Keep each strategy's data folder (sandbox, store, connector log) instead of deleting it.</summary>
    public bool Keep { get; init; }

    public bool Help { get; init; }

    /// <summary>Parses <paramref name="args"/>; on failure <paramref name="error"/> is one line naming the flag and the fix.</summary>
    public static BenchOptions? Parse(IReadOnlyList<string> args, out string? error)
    {
        ArgumentNullException.ThrowIfNull(args);
        var options = new BenchOptions();
        error = null;
        for (var i = 0; i < args.Count; i++)
        {
            var flag = args[i];
            string? value = null;
            if (flag.StartsWith("--", StringComparison.Ordinal) && flag.IndexOf('=', StringComparison.Ordinal) is var eq and > 0)
            {
                value = flag[(eq + 1)..];
                flag = flag[..eq];
            }

            switch (flag)
            {
                case "--help" or "-h":
                    options = options with { Help = true };
                    continue;
                case "--keep":
                    options = options with { Keep = true };
                    continue;
                case "--instances" or "--profile" or "--strategies" or "--seed" or "--output" or "--cli":
                    break;
                default:
                    error = $"unknown argument '{flag}'. {Usage}";
                    return null;
            }

            if (value is null)
            {
                if (i + 1 >= args.Count || args[i + 1].StartsWith("--", StringComparison.Ordinal))
                {
                    error = $"{flag} needs a value. {Usage}";
                    return null;
                }

                value = args[++i];
            }

            switch (flag)
            {
                case "--instances":
                    if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var instances) || instances < 1 || instances > MaxInstances)
                    {
                        error = $"--instances: '{value}' is not allowed; use a whole number from 1 to {MaxInstances}.";
                        return null;
                    }

                    options = options with { Instances = instances };
                    break;
                case "--seed":
                    if (!int.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var seed))
                    {
                        error = $"--seed: '{value}' is not a whole number.";
                        return null;
                    }

                    options = options with { Seed = seed };
                    break;
                case "--profile":
                    if (string.IsNullOrWhiteSpace(value))
                    {
                        error = "--profile: give a profile name, for example --profile compressed.";
                        return null;
                    }

                    options = options with { Profile = value.Trim() };
                    break;
                case "--strategies":
                    var strategies = value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                    if (strategies.Length == 0 || strategies.Any(s => !KnownStrategies.Contains(s)))
                    {
                        error = $"--strategies: '{value}' is not allowed; use a comma-separated list of {string.Join(", ", KnownStrategies)}.";
                        return null;
                    }

                    options = options with { Strategies = [.. strategies.Distinct(StringComparer.Ordinal)] };
                    break;
                case "--output":
                    options = options with { OutputFile = value };
                    break;
                case "--cli":
                    options = options with { CliPath = value };
                    break;
            }
        }

        return options;
    }
}
