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

/// <summary>How the steps are driven: the same scripts, stages, store and pacing either way.</summary>
public enum OnboardingStrategy
{
    /// <summary>A streaming pipeline: one Run Command per 50 instances and step, results read with ListCommandInvocations.</summary>
    Batched,

    /// <summary>Each instance on its own: one Run Command per instance and step, polled with GetCommandInvocation.</summary>
    PerInstance,
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

    /// <summary>
    /// The delivery timeout sent with every command (SSM <c>TimeoutSeconds</c>): one not started by then never runs, so
    /// after delivery plus execution timeout its result is given up and the instance may be sent another.
    /// </summary>
    public TimeSpan DeliveryGrace { get; init; } = TimeSpan.FromMinutes(1);

    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>How long to wait for ARM to show Connected after the agent reported success.</summary>
    public TimeSpan VerifyTimeout { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// How long a probe's verdict that needs no action (no agent installed, or an agent connected by someone else)
    /// stands before the instance is probed again.
    /// </summary>
    public TimeSpan ProbeRecheckInterval { get; init; } = TimeSpan.FromHours(1);

    /// <summary>Batched (the pipeline, 50 instances per command) or per-instance (the baseline it is measured against).</summary>
    public OnboardingStrategy Strategy { get; init; } = OnboardingStrategy.Batched;

    /// <summary>With the per-instance strategy, how many instances of one account and region are worked on at once.</summary>
    public int MaxParallelInstances { get; init; } = 50;

    /// <summary>How long a partly filled connect command waits once machine creation has nothing in hand.</summary>
    public TimeSpan ConnectLinger { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// The longest a created machine waits for its connect command to fill up to 50 instances. It costs the pass no
    /// time overall: the last batch goes as soon as nothing more can join it.
    /// </summary>
    public TimeSpan MaxConnectLinger { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// With the batched strategy, how many instances may be between their genkey command and their machine's creation,
    /// across all accounts and regions. Machines are created no faster than the ARM write quota allows, so keys made far
    /// ahead of it only wait; bounding them keeps the results to read, and the memory they take, to what creation can use.
    /// A thousand is minutes of work at ARM's default write rate and still ample at ten times that rate.
    /// </summary>
    public int MaxKeysAhead { get; init; } = 1000;

    public int MaxParallelScopes { get; init; } = 4;
    /// <summary>
    /// ARM calls in flight at once per subscription. The quota gate, not this, sets the pace; it only has to be high
    /// enough that a call waiting on the store or the network does not leave the write bucket's tokens unused.
    /// </summary>
    public int MaxParallelArmCalls { get; init; } = 32;

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
