using System.Text.Json;
using System.Text.Json.Nodes;

namespace Arcboard.Bench;

/// <summary>Everything measured for one strategy: one connector process against a fresh sandbox and a fresh store.</summary>
public sealed record StrategyResult
{
    public required string Strategy { get; init; }
    public required int ExitCode { get; init; }
    public required double MakespanSeconds { get; init; }
    public required double CpuSeconds { get; init; }
    public required double PeakMemoryMb { get; init; }
    public required int Samples { get; init; }

    /// <summary>"service:Operation" -> calls the sandbox answered, throttled ones included.</summary>
    public required IReadOnlyDictionary<string, long> Calls { get; init; }

    /// <summary>"service:Operation" -> calls answered with a throttling error.</summary>
    public required IReadOnlyDictionary<string, long> Throttled { get; init; }

    public required IReadOnlyList<string> Modelled { get; init; }
    public required ConnectorReport Report { get; init; }

    /// <summary>Resource groups that exist in the sandbox's ARM after the run.</summary>
    public required int ResourceGroups { get; init; }

    /// <summary>When machines were created and connected, seconds after the connector started, from the sandbox's ARM records.</summary>
    public required RunPhases Phases { get; init; }

    /// <summary>CPU used by the harness process, which hosts the sandbox, during the run: the other side's cost.</summary>
    public required double SandboxCpuSeconds { get; init; }

    public long CallCount(string service, string operation) => Calls.GetValueOrDefault($"{service}:{operation}");

    public long ThrottledCount(string service, string operation) => Throttled.GetValueOrDefault($"{service}:{operation}");

    public long ServiceCalls(string service) => Calls.Where(c => c.Key.StartsWith(service + ":", StringComparison.Ordinal)).Sum(c => c.Value);

    /// <summary>ARM writes that went through (PUT, PATCH, DELETE); throttled attempts changed nothing and do not count.</summary>
    public long ArmWritesAccepted() =>
        Calls.Where(c => IsArmWrite(c.Key)).Sum(c => c.Value) - Throttled.Where(t => IsArmWrite(t.Key)).Sum(t => t.Value);

    private static bool IsArmWrite(string key) =>
        key.StartsWith("arm:Put", StringComparison.Ordinal) || key.StartsWith("arm:Patch", StringComparison.Ordinal) || key.StartsWith("arm:Delete", StringComparison.Ordinal);
}

/// <summary>Where the makespan went: null where nothing of the kind happened.</summary>
public sealed record RunPhases(double? FirstMachineCreated, double? LastMachineCreated, double? FirstConnected, double? LastConnected)
{
    public static RunPhases From(IEnumerable<(DateTimeOffset Created, DateTimeOffset? Connected)> machines, DateTimeOffset started)
    {
        ArgumentNullException.ThrowIfNull(machines);
        var list = machines.ToList();
        double? Offset(IEnumerable<DateTimeOffset> times, bool last) =>
            times.Any() ? ((last ? times.Max() : times.Min()) - started).TotalSeconds : null;
        var created = list.Select(m => m.Created).ToList();
        var connected = list.Where(m => m.Connected is not null).Select(m => m.Connected!.Value).ToList();
        return new RunPhases(Offset(created, false), Offset(created, true), Offset(connected, false), Offset(connected, true));
    }
}

/// <summary>Assembles the benchmark's single JSON document: the fleet, each strategy's figures, and the targets' checks.</summary>
public static class BenchReport
{
    public const string Batched = "batched";
    public const string PerInstance = "per-instance";

    /// <summary>How each figure was taken, carried in the document so that it cannot be read without it.</summary>
    public const string Measurement =
        "makespanSeconds: wall time of the connector process (arcboard sync), from start to exit, .NET start-up included. "
        + "peakMemoryMb: VmHWM of that process from /proc/<pid>/status, sampled every 100 ms; VmHWM is the kernel's high-water mark of resident memory, so the last sample before exit is nearly exact. "
        + "cpuSeconds: utime + stime from /proc/<pid>/stat at the last sample, so it may miss the last 100 ms. "
        + "sandboxCpuSeconds: CPU of the harness process, which hosts the sandbox, over the same run. "
        + "phasesSeconds: when the first and last machines were created and connected, from the sandbox's ARM records, after the connector started. "
        + "calls and throttled: the sandbox's own counters (SandboxStats) for that run; throttled calls are included in calls. "
        + "lowerBoundSeconds: no strategy can do better under the profile's quotas and latencies (see lowerBound.terms); efficiency = lowerBoundSeconds / makespanSeconds.";

    // Reasons and the measurement note hold '<', '\'' and '+': keep them readable while staying valid JSON.
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static JsonObject Build(int instances, string profile, BenchFleet fleet, LowerBoundResult bound, IReadOnlyList<StrategyResult> results, string measurement)
    {
        ArgumentNullException.ThrowIfNull(fleet);
        ArgumentNullException.ThrowIfNull(bound);
        ArgumentNullException.ThrowIfNull(results);
        var strategies = new JsonObject();
        foreach (var result in results)
        {
            strategies[result.Strategy] = Strategy(result, instances, bound);
        }

        return new JsonObject
        {
            ["instances"] = instances,
            ["profile"] = profile,
            ["fleet"] = new JsonObject
            {
                ["accounts"] = fleet.Accounts,
                ["regions"] = fleet.Scopes.Count,
                ["windowsShare"] = BenchFleet.WindowsShare,
                ["seed"] = fleet.Seed,
                ["eligible"] = fleet.Instances,
                ["scopes"] = new JsonArray([.. fleet.Scopes.Select(s => (JsonNode)new JsonObject
                {
                    ["accountId"] = s.AccountId,
                    ["region"] = s.Region,
                    ["instances"] = s.Instances,
                    ["windows"] = s.Windows,
                })]),
            },
            ["lowerBound"] = new JsonObject
            {
                ["seconds"] = Round(bound.Seconds),
                ["bottleneck"] = bound.Bottleneck,
                ["terms"] = new JsonObject(bound.Terms.Select(t => KeyValuePair.Create(t.Name, (JsonNode?)Round(t.Seconds)))),
            },
            ["measurement"] = measurement,
            ["strategies"] = strategies,
            ["checks"] = Checks(fleet, bound, results),
        };
    }

    /// <summary>True when no check of the document is false (checks left null were not applicable).</summary>
    public static bool AllChecksPassed(JsonObject report) =>
        report?["checks"] is JsonObject checks && checks.All(c => c.Value is null || c.Value.GetValue<bool>());

    public static string ToJson(JsonObject report) => report.ToJsonString(Indented);

    /// <summary>The fleet size the efficiency and memory targets are stated for.</summary>
    public const int TargetFleetSize = 10_000;

    /// <summary>
    /// The targets of the fleet-scale work; null where the strategy a check needs was not run, and for the efficiency
    /// and memory targets on fleets they are not stated for (efficiency below 10,000 instances, the 300 MB bound above,
    /// the growth bound at 10,000 and below).
    /// </summary>
    public static JsonObject Checks(BenchFleet fleet, LowerBoundResult bound, IReadOnlyList<StrategyResult> results)
    {
        ArgumentNullException.ThrowIfNull(fleet);
        ArgumentNullException.ThrowIfNull(bound);
        var batched = results.FirstOrDefault(r => r.Strategy == Batched);
        var perInstance = results.FirstOrDefault(r => r.Strategy == PerInstance);
        return new JsonObject
        {
            // The efficiency target is set at 10,000 instances; below that the connector's fixed start weighs on a short bound.
            ["batchedEfficiencyAtLeast085"] = batched is null || fleet.Instances < TargetFleetSize ? null : batched.ExitCode is 0 or 2 && Efficiency(batched, bound) >= 0.85,
            // Two steps (genkey, connect), one command per 50 instances of one platform in one account and region.
            ["sendCommandPer50AtMost2"] = batched is null ? null : AcceptedSendCommands(batched) <= 2L * fleet.MinimumCommandsPerStep(),
            ["armWritesExactlyMachinesPlusGroups"] = batched is null ? null : results.All(r => r.ArmWritesAccepted() == fleet.Instances + r.ResourceGroups),
            ["noInstanceFailedForThrottling"] = results.Count == 0 ? null : results.All(r => r.Report.FailedForThrottling == 0),
            ["batchedAtLeast10xFewerSsmCalls"] = batched is null || perInstance is null ? null : perInstance.ServiceCalls("ssm") >= 10 * batched.ServiceCalls("ssm"),
            ["batchedFaster"] = batched is null || perInstance is null ? null : batched.MakespanSeconds < perInstance.MakespanSeconds,
            // The memory target is set at 10,000 instances; larger fleets are held to less than linear growth from it: under
            // 300 MB times their size over 10,000 (1,500 MB at 50,000).
            ["batchedPeakMemoryUnder300Mb"] = batched is null || fleet.Instances > TargetFleetSize ? null : batched.PeakMemoryMb < 300,
            ["batchedPeakMemoryBelowLinearGrowth"] = batched is null || fleet.Instances <= TargetFleetSize ? null : batched.PeakMemoryMb < 300.0 * fleet.Instances / TargetFleetSize,
        };
    }

    public static double Efficiency(StrategyResult result, LowerBoundResult bound) =>
        result.MakespanSeconds > 0 ? bound.Seconds / result.MakespanSeconds : 0;

    private static long AcceptedSendCommands(StrategyResult result) =>
        result.CallCount("ssm", "SendCommand") - result.ThrottledCount("ssm", "SendCommand");

    private static JsonObject Strategy(StrategyResult result, int instances, LowerBoundResult bound) => new()
    {
        ["exitCode"] = result.ExitCode,
        ["makespanSeconds"] = Round(result.MakespanSeconds),
        ["lowerBoundSeconds"] = Round(bound.Seconds),
        ["efficiency"] = Round(Efficiency(result, bound)),
        ["phasesSeconds"] = new JsonObject
        {
            ["firstMachineCreated"] = Round(result.Phases.FirstMachineCreated),
            ["lastMachineCreated"] = Round(result.Phases.LastMachineCreated),
            ["firstConnected"] = Round(result.Phases.FirstConnected),
            ["lastConnected"] = Round(result.Phases.LastConnected),
        },
        ["calls"] = Counts(result.Calls),
        ["callsTotal"] = result.Calls.Values.Sum(),
        ["callsPerInstance"] = instances > 0 ? Round(result.Calls.Values.Sum() / (double)instances) : null,
        ["sendCommandsPer50Instances"] = instances > 0 ? Round(AcceptedSendCommands(result) * 50.0 / instances) : null,
        ["throttled"] = result.Throttled.Values.Sum(),
        ["throttledByOperation"] = Counts(result.Throttled),
        ["peakMemoryMb"] = Round(result.PeakMemoryMb),
        ["cpuSeconds"] = Round(result.CpuSeconds),
        ["sandboxCpuSeconds"] = Round(result.SandboxCpuSeconds),
        ["samples"] = result.Samples,
        ["modelled"] = new JsonArray([.. result.Modelled.Select(m => (JsonNode?)JsonValue.Create(m))]),
        ["outcomes"] = Counts(result.Report.Outcomes),
        ["failedForThrottling"] = result.Report.FailedForThrottling,
        ["failureSamples"] = new JsonArray([.. result.Report.SampleFailures.Select(m => (JsonNode?)JsonValue.Create(m))]),
        ["resourceGroups"] = result.ResourceGroups,
    };

    private static JsonObject Counts(IReadOnlyDictionary<string, long> counts) =>
        new(counts.OrderBy(c => c.Key, StringComparer.Ordinal).Select(c => KeyValuePair.Create(c.Key, (JsonNode?)c.Value)));

    private static double Round(double value) => Math.Round(value, 3);

    private static double? Round(double? value) => value is { } v ? Math.Round(v, 3) : null;
}
