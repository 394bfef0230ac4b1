using System.Text.Json;
using System.Text.Json.Nodes;

namespace Arcboard.Chaos;

/// <summary>One kill: when it landed after its sync started, and the last line the sync had printed.</summary>
public sealed record KillPoint(double AfterSeconds, string LastLine);

/// <summary>What a chaos run did and whether the invariants held; printed as one JSON document.</summary>
public sealed record ChaosReport
{
    public required int Instances { get; init; }
    public required int Seed { get; init; }
    public required int Kills { get; init; }

    /// <summary>Syncs that finished on their own before their kill was due.</summary>
    public required int SyncsFinishedBeforeKill { get; init; }

    public required IReadOnlyDictionary<string, long> FaultsInjected { get; init; }

    /// <summary>Per fault endpoint: "configured", or why the faults could not be set.</summary>
    public required IReadOnlyDictionary<string, string> FaultEndpoints { get; init; }

    public bool InvariantsHeld => Violations.Count == 0;
    public required IReadOnlyList<string> Violations { get; init; }

    /// <summary>Machines left for instances that are gone, while the build shows no clean-up; not counted as violations.</summary>
    public required IReadOnlyList<string> AwaitingCleanup { get; init; }

    public required bool CleanupObserved { get; init; }
    public required int ConvergencePasses { get; init; }
    public required bool Converged { get; init; }
    public required double Seconds { get; init; }
    public required int Eligible { get; init; }

    /// <summary>Eligible instances with exactly one Connected machine of Arcboard's at the end.</summary>
    public required int Onboarded { get; init; }

    public required int Launched { get; init; }
    public required int Terminated { get; init; }

    /// <summary>Arcboard's machines for instances that stopped or lost SSM during the run: kept, not leaked.</summary>
    public required int MachinesForNowIneligible { get; init; }

    public required int CommandOverlaps { get; init; }
    public required IReadOnlyList<KillPoint> KillPoints { get; init; }

    /// <summary>The folder holding the connector's config, store and <c>sync.log</c>, when it was kept.</summary>
    public string? WorkDirectory { get; init; }

    public string ToJson()
    {
        var json = new JsonObject
        {
            ["instances"] = Instances,
            ["seed"] = Seed,
            ["kills"] = Kills,
            ["faultsInjected"] = new JsonObject([.. FaultsInjected.Select(f => KeyValuePair.Create(f.Key, (JsonNode?)f.Value))]),
            ["invariantsHeld"] = InvariantsHeld,
            ["violations"] = new JsonArray([.. Violations.Select(v => (JsonNode?)v)]),
            ["eligible"] = Eligible,
            ["onboarded"] = Onboarded,
            ["passes"] = ConvergencePasses,
            ["converged"] = Converged,
            ["seconds"] = Math.Round(Seconds, 1),
            ["syncsFinishedBeforeKill"] = SyncsFinishedBeforeKill,
            ["launched"] = Launched,
            ["terminated"] = Terminated,
            ["machinesForNowIneligible"] = MachinesForNowIneligible,
            ["commandOverlaps"] = CommandOverlaps,
            ["cleanupObserved"] = CleanupObserved,
            ["awaitingCleanup"] = new JsonArray([.. AwaitingCleanup.Select(v => (JsonNode?)v)]),
            ["workDirectory"] = WorkDirectory,
            ["faultEndpoints"] = new JsonObject([.. FaultEndpoints.Select(f => KeyValuePair.Create(f.Key, (JsonNode?)f.Value))]),
            ["killPoints"] = new JsonArray([.. KillPoints.Select(k => (JsonNode?)new JsonObject { ["afterSeconds"] = Math.Round(k.AfterSeconds, 2), ["lastLine"] = k.LastLine })]),
        };
        return json.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }
}
