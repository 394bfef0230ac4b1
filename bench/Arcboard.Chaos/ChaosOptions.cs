namespace Arcboard.Chaos;

/// <summary>How to run the chaos: the fleet, the kills, the faults, and the connector to torment.</summary>
public sealed record ChaosOptions
{
    /// <summary>The built CLI (<c>arcboard.dll</c>), run as <c>dotnet arcboard.dll sync</c> so that it can be SIGKILLed.</summary>
    public required string CliPath { get; init; }

    public int Instances { get; init; } = 300;

    /// <summary>How many times a running sync is SIGKILLed.</summary>
    public int Kills { get; init; } = 20;

    /// <summary>Drives every random choice of the run: kill moments, fleet churn, fault draws.</summary>
    public int Seed { get; init; } = 1;

    public IReadOnlyList<FaultRate> Faults { get; init; } = FaultRate.DefaultMix;

    /// <summary>
    /// A kill lands uniformly between these two delays after a sync prints its first line, that is after .NET start-up,
    /// once its pass has begun (if it is still running then).
    /// </summary>
    public TimeSpan MinKillDelay { get; init; } = TimeSpan.FromSeconds(1);

    public TimeSpan MaxKillDelay { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>Syncs without kills after the last kill, at most, before the run is declared not converged.</summary>
    public int MaxConvergencePasses { get; init; } = 8;

    /// <summary>
    /// Wait between convergence passes, as a scheduler would: a pass gives up at once on a command past its deadline
    /// that the sandbox has not finished yet (a backlog on a loaded machine), so back-to-back passes could burn out
    /// before the backlog drains.
    /// </summary>
    public TimeSpan ConvergencePause { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Chance, before each killed sync, that a few new eligible instances are launched.</summary>
    public double LaunchChance { get; init; } = 0.3;

    /// <summary>Chance, before each killed sync, that one eligible instance is terminated (perhaps mid-onboarding).</summary>
    public double TerminateChance { get; init; } = 0.15;

    /// <summary>When true a machine left for a terminated instance is a violation; otherwise only once a clean-up is seen to happen.</summary>
    public bool ExpectCleanup { get; init; }

    /// <summary>Where the run keeps the connector's config, store and logs; null makes a temporary folder deleted at the end.</summary>
    public string? WorkDirectory { get; init; }

    /// <summary>Bounds one sync that is meant to finish on its own.</summary>
    public TimeSpan SyncTimeout { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>Run Command executionTimeout given to the connector (30 s is the least it accepts).</summary>
    public int CommandTimeoutSeconds { get; init; } = 30;

    public double PollIntervalSeconds { get; init; } = 0.25;

    /// <summary>Progress lines, for stderr.</summary>
    public Action<string> Progress { get; init; } = _ => { };

    public TimeProvider Time { get; init; } = TimeProvider.System;
}
