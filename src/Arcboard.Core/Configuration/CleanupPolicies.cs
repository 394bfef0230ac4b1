using Arcboard.Core.Cleanup;
using Arcboard.Core.Fleet;

namespace Arcboard.Core.Configuration;

public static class CleanupPolicies
{
    /// <summary>The clean-up policy for a loaded configuration: same subscription, pacing and timeouts as onboarding.</summary>
    public static CleanupPolicy From(ArcboardOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var azure = options.Azure;
        return new CleanupPolicy
        {
            SubscriptionId = azure.SubscriptionId,
            ResourceGroupOf = scope => ResourceGroupOf(azure, scope),
            DeleteTerminated = options.Cleanup.DeleteTerminated,
            DeleteStopped = options.Cleanup.DeleteStopped,
            CommandTimeout = TimeSpan.FromSeconds(options.Onboarding.CommandTimeoutSeconds),
            PollInterval = TimeSpan.FromSeconds(options.Onboarding.PollIntervalSeconds),
            MaxParallelScopes = options.Onboarding.MaxParallelScopes,
            MaxParallelArmCalls = options.Onboarding.MaxParallelArmCalls,
        };
    }

    private static string? ResourceGroupOf(AzureOptions azure, AwsScope scope)
    {
        var location = RegionMap.ResolveLocation(azure, scope.Region);
        if (location is null)
        {
            return null;
        }

        var group = NameTemplate.ExpandResourceGroup(azure, scope.AccountId, scope.Region, location);
        return group.Succeeded ? group.Name : null;
    }
}
