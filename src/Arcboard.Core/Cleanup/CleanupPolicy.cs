using Arcboard.Core.Fleet;

namespace Arcboard.Core.Cleanup;

/// <summary>What clean-up and offboarding need to decide, with defaults in one place.</summary>
public sealed record CleanupPolicy
{
    public required string SubscriptionId { get; init; }

    /// <summary>
    /// The resource group Arcboard places an account and region's machines in, listed so that a machine whose record
    /// was lost is still found by its tags; null when the configuration gives none for that scope.
    /// </summary>
    public required Func<AwsScope, string?> ResourceGroupOf { get; init; }

    /// <summary>Delete the machine of an instance that is terminated, shutting down, or absent from a complete listing.</summary>
    public bool DeleteTerminated { get; init; } = true;

    /// <summary>Delete the machine of a stopped or stopping instance too.</summary>
    public bool DeleteStopped { get; init; }

    public TimeSpan CommandTimeout { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>Beyond the execution timeout, how long a disconnect command may wait for delivery before it is given up.</summary>
    public TimeSpan DeliveryGrace { get; init; } = TimeSpan.FromMinutes(1);

    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(2);
    public int MaxParallelScopes { get; init; } = 4;
    public int MaxParallelArmCalls { get; init; } = 32;
    public int MaxAttempts { get; init; } = 5;
    public TimeSpan RetryBaseDelay { get; init; } = TimeSpan.FromSeconds(1);
    public TimeSpan RetryMaxDelay { get; init; } = TimeSpan.FromSeconds(30);
}
