using Arcboard.Core.Fleet;
using Arcboard.Core.Onboarding;

namespace Arcboard.Core.Configuration;

/// <summary>Places machines by the configuration's region map and name templates.</summary>
public sealed class ConfiguredPlacement(AzureOptions azure) : IMachinePlacement
{
    public Placement Place(Ec2Instance instance)
    {
        ArgumentNullException.ThrowIfNull(instance);
        var key = instance.Key;
        var location = RegionMap.ResolveLocation(azure, key.Region);
        if (location is null)
        {
            return Placement.Invalid($"no Azure location is known for AWS region {key.Region}; add it to azure.regionMap or set azure.defaultLocation");
        }

        var group = NameTemplate.ExpandResourceGroup(azure, key.AccountId, key.Region, location);
        if (!group.Succeeded)
        {
            return Placement.Invalid($"resource group name: {group.Error}");
        }

        var name = NameTemplate.ExpandMachineName(azure, key.InstanceId, key.AccountId, key.Region, instance.Tags);
        if (!name.Succeeded)
        {
            return Placement.Invalid($"machine name: {name.Error}");
        }

        return new Placement(group.Name, name.Name, location, null);
    }
}

public static class OnboardingPolicies
{
    /// <summary>The reconciler's policy for a loaded configuration.</summary>
    public static OnboardingPolicy From(ArcboardOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new OnboardingPolicy
        {
            SubscriptionId = options.Azure.SubscriptionId,
            TenantId = options.Azure.TenantId,
            Placement = new ConfiguredPlacement(options.Azure),
            Cloud = options.Azure.Cloud,
            Tags = options.Azure.Tags,
            TagFilterKey = options.Aws.TagFilter?.Key,
            TagFilterValue = options.Aws.TagFilter?.Value,
            CommandTimeout = TimeSpan.FromSeconds(options.Onboarding.CommandTimeoutSeconds),
            PollInterval = TimeSpan.FromSeconds(options.Onboarding.PollIntervalSeconds),
            MaxParallelScopes = options.Onboarding.MaxParallelScopes,
            MaxParallelArmCalls = options.Onboarding.MaxParallelArmCalls,
        };
    }

    /// <summary>Every configured account and region.</summary>
    public static IReadOnlyList<AwsScope> Scopes(ArcboardOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.Aws.Accounts.SelectMany(a => a.Regions.Select(r => new AwsScope(a.AccountId, r))).ToList();
    }
}
