using Arcboard.Core.Cloud;

namespace Arcboard.Core.Cleanup;

/// <summary>Reads ARM ids of <c>Microsoft.HybridCompute/machines</c>.</summary>
public static class MachineIds
{
    /// <summary>The machine an id names, or null when it is not a HybridCompute machine id. ARM compares segment names without regard to case.</summary>
    public static MachineRef? TryParse(string resourceId)
    {
        ArgumentNullException.ThrowIfNull(resourceId);
        var parts = resourceId.Trim('/').Split('/');
        return parts.Length == 8
            && parts[0].Equals("subscriptions", StringComparison.OrdinalIgnoreCase)
            && parts[2].Equals("resourceGroups", StringComparison.OrdinalIgnoreCase)
            && parts[4].Equals("providers", StringComparison.OrdinalIgnoreCase)
            && parts[5].Equals("Microsoft.HybridCompute", StringComparison.OrdinalIgnoreCase)
            && parts[6].Equals("machines", StringComparison.OrdinalIgnoreCase)
            && parts[1].Length > 0 && parts[3].Length > 0 && parts[7].Length > 0
                ? new MachineRef(parts[1], parts[3], parts[7])
                : null;
    }
}
