using Arcboard.Core.Cloud;
using Arcboard.Core.Fleet;

namespace Arcboard.Core.Onboarding;

public static class InventoryListing
{
    /// <summary>
    /// Lists a scope's EC2 instances and, when asked, its SSM managed nodes, each through <paramref name="retry"/>. EC2 and
    /// SSM are separate services with separate quotas, so both listings are read at once.
    /// </summary>
    public static async Task<(IReadOnlyList<Ec2Instance> Instances, IReadOnlyList<SsmNode> Nodes)> ListScopeAsync(
        this IAwsInventory inventory, AwsScope scope, TransientRetry retry, bool withNodes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(inventory);
        ArgumentNullException.ThrowIfNull(retry);
        var instances = retry.ExecuteAsync(ct => inventory.ListInstancesAsync(scope, ct), cancellationToken);
        var nodes = withNodes
            ? retry.ExecuteAsync(ct => inventory.ListManagedNodesAsync(scope, ct), cancellationToken)
            : Task.FromResult<IReadOnlyList<SsmNode>>([]);
        await Task.WhenAll(instances, nodes).ConfigureAwait(false);
        return (await instances.ConfigureAwait(false), await nodes.ConfigureAwait(false));
    }
}
