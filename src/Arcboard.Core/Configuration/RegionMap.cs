namespace Arcboard.Core.Configuration;

/// <summary>
/// Where an AWS region's machines go in Azure. The built-in map is the one Azure's own Multicloud Connector uses
/// (REFERENCE.md section 6), kept here and nowhere else; configuration entries win over it.
/// </summary>
public static class RegionMap
{
    /// <summary>AWS region to Azure location, as Azure's connector maps them. Regions absent here need a config entry or <c>defaultLocation</c>.</summary>
    public static IReadOnlyDictionary<string, string> Default { get; } = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["us-east-1"] = "eastus",
        ["us-east-2"] = "eastus",
        ["us-west-1"] = "eastus",
        ["us-west-2"] = "eastus",
        ["ca-central-1"] = "eastus",
        ["ap-southeast-1"] = "southeastasia",
        ["ap-northeast-1"] = "southeastasia",
        ["ap-northeast-3"] = "southeastasia",
        ["ap-south-1"] = "southeastasia",
        ["ap-southeast-2"] = "australiaeast",
        ["eu-west-1"] = "westeurope",
        ["eu-central-1"] = "westeurope",
        ["eu-north-1"] = "westeurope",
        ["eu-west-2"] = "uksouth",
        ["sa-east-1"] = "brazilsouth",
    };

    /// <summary>
    /// The Azure location for <paramref name="awsRegion"/>: the configured <c>regionMap</c> first, then <see cref="Default"/>,
    /// then <c>defaultLocation</c>; null when none applies (the instance is then parked with a reason).
    /// </summary>
    public static string? ResolveLocation(AzureOptions azure, string awsRegion)
    {
        ArgumentNullException.ThrowIfNull(azure);
        ArgumentNullException.ThrowIfNull(awsRegion);
        if (azure.RegionMap.TryGetValue(awsRegion, out var configured))
        {
            return configured;
        }

        return Default.TryGetValue(awsRegion, out var builtIn) ? builtIn : azure.DefaultLocation;
    }
}
