using Amazon.EC2.Model;
using Amazon.SimpleSystemsManagement.Model;
using Arcboard.Core.Cloud;
using Arcboard.Core.Fleet;

namespace Arcboard.Aws;

/// <summary><see cref="IAwsInventory"/> over <c>ec2:DescribeInstances</c> and <c>ssm:DescribeInstanceInformation</c>.</summary>
public sealed class Ec2SsmInventory(IAwsClientSource clients) : IAwsInventory
{
    /// <summary>The largest page DescribeInstanceInformation allows.</summary>
    private const int SsmPageSize = 50;

    public async Task<IReadOnlyList<Ec2Instance>> ListInstancesAsync(AwsScope scope, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(scope);
        var result = new List<Ec2Instance>();
        string? nextToken = null;
        do
        {
            var request = new DescribeInstancesRequest { NextToken = nextToken, MaxResults = 1000 };
            var page = await AwsErrors.CallAsync("ec2", scope, "DescribeInstances", () => clients.Ec2(scope).DescribeInstancesAsync(request, cancellationToken), cancellationToken).ConfigureAwait(false);
            // SDK v4 leaves absent collections null.
            foreach (var reservation in page.Reservations ?? [])
            {
                foreach (var instance in reservation.Instances ?? [])
                {
                    if (string.IsNullOrEmpty(instance.InstanceId))
                    {
                        continue;
                    }

                    result.Add(new Ec2Instance(
                        new InstanceKey(scope.AccountId, scope.Region, instance.InstanceId),
                        PlatformOf(instance),
                        instance.State?.Name?.Value ?? "unknown",
                        TagsOf(instance.Tags)));
                }
            }

            nextToken = string.IsNullOrEmpty(page.NextToken) ? null : page.NextToken;
        }
        while (nextToken is not null);

        return result;
    }

    public async Task<IReadOnlyList<SsmNode>> ListManagedNodesAsync(AwsScope scope, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(scope);
        var result = new List<SsmNode>();
        string? nextToken = null;
        do
        {
            var request = new DescribeInstanceInformationRequest { NextToken = nextToken, MaxResults = SsmPageSize };
            var page = await AwsErrors.CallAsync("ssm", scope, "DescribeInstanceInformation", () => clients.Ssm(scope).DescribeInstanceInformationAsync(request, cancellationToken), cancellationToken).ConfigureAwait(false);
            foreach (var info in page.InstanceInformationList ?? [])
            {
                if (string.IsNullOrEmpty(info.InstanceId))
                {
                    continue;
                }

                result.Add(new SsmNode(info.InstanceId, info.PingStatus?.Value ?? "Unknown", info.PlatformType?.Value));
            }

            nextToken = string.IsNullOrEmpty(page.NextToken) ? null : page.NextToken;
        }
        while (nextToken is not null);

        return result;
    }

    internal static Platform PlatformOf(Instance instance) =>
        string.Equals(instance.Platform?.Value, "windows", StringComparison.OrdinalIgnoreCase)
        || instance.PlatformDetails?.Contains("Windows", StringComparison.OrdinalIgnoreCase) == true
            ? Platform.Windows
            : Platform.Linux;

    private static Dictionary<string, string> TagsOf(List<Amazon.EC2.Model.Tag>? tags)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var tag in tags ?? [])
        {
            if (!string.IsNullOrEmpty(tag.Key))
            {
                result[tag.Key] = tag.Value ?? "";
            }
        }

        return result;
    }
}
