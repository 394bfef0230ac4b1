using Arcboard.Core.Fleet;

namespace Arcboard.Core.Cloud;

/// <summary>Lists what one AWS account and region holds. Implementations page through every result.</summary>
public interface IAwsInventory
{
    /// <summary>Every instance in the scope, whatever its state (<c>ec2:DescribeInstances</c>, all pages).</summary>
    Task<IReadOnlyList<Ec2Instance>> ListInstancesAsync(AwsScope scope, CancellationToken cancellationToken);

    /// <summary>Every SSM-managed node in the scope (<c>ssm:DescribeInstanceInformation</c>, all pages).</summary>
    Task<IReadOnlyList<SsmNode>> ListManagedNodesAsync(AwsScope scope, CancellationToken cancellationToken);
}
