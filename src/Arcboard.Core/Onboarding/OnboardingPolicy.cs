using Arcboard.Core.Fleet;

namespace Arcboard.Core.Onboarding;

/// <summary>Where an instance's machine goes in Azure, or why it cannot go anywhere.</summary>
public sealed record Placement(string? ResourceGroup, string? MachineName, string? Location, string? Problem)
{
    public static Placement Invalid(string problem) => new(null, null, null, problem);
}

/// <summary>Decides resource group, name and location for an instance (from configuration in production).</summary>
public interface IMachinePlacement
{
    Placement Place(Ec2Instance instance);
}

/// <summary>Everything the reconciler needs to decide, with defaults in one place.</summary>
public sealed record OnboardingPolicy
{
    /// <summary>The tag Arcboard puts on every machine it creates; only machines carrying it are ever changed or deleted.</summary>
    public const string ManagedByTag = "arcboard-managed-by";

    public const string ManagedByValue = "arcboard";

    /// <summary>Names the instance a machine was created for (account/region/instance id).</summary>
    public const string InstanceTag = "arcboard-instance";

    public required string SubscriptionId { get; init; }
    public required string TenantId { get; init; }
    public required IMachinePlacement Placement { get; init; }
    public string Cloud { get; init; } = "AzureCloud";
    public IReadOnlyDictionary<string, string> Tags { get; init; } = new Dictionary<string, string>();
    public string? TagFilterKey { get; init; }
    public string? TagFilterValue { get; init; }
    public TimeSpan CommandTimeout { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>Beyond the execution timeout, how long a command may wait for delivery before its result is given up for this pass.</summary>
    public TimeSpan DeliveryGrace { get; init; } = TimeSpan.FromMinutes(1);

    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>How long to wait for ARM to show Connected after the agent reported success.</summary>
    public TimeSpan VerifyTimeout { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// How long a probe's verdict that needs no action (no agent installed, or an agent connected by someone else)
    /// stands before the instance is probed again.
    /// </summary>
    public TimeSpan ProbeRecheckInterval { get; init; } = TimeSpan.FromHours(1);

    public int MaxParallelScopes { get; init; } = 4;
    public int MaxParallelArmCalls { get; init; } = 8;

    /// <summary>Attempts of one call that fails transiently, within one pass.</summary>
    public int MaxAttempts { get; init; } = 5;

    public TimeSpan RetryBaseDelay { get; init; } = TimeSpan.FromSeconds(1);
    public TimeSpan RetryMaxDelay { get; init; } = TimeSpan.FromSeconds(30);

    public IReadOnlyDictionary<string, string> MachineTags(InstanceKey key)
    {
        var tags = new Dictionary<string, string>(Tags, StringComparer.Ordinal)
        {
            [ManagedByTag] = ManagedByValue,
            [InstanceTag] = key.ToString(),
        };
        return tags;
    }

    public static bool IsManagedBy(IReadOnlyDictionary<string, string> tags, InstanceKey key) =>
        tags.TryGetValue(ManagedByTag, out var by) && by == ManagedByValue
        && tags.TryGetValue(InstanceTag, out var instance) && instance == key.ToString();
}
