namespace Arcboard.Core.Fleet;

/// <summary>Identifies one EC2 instance across every account and region Arcboard watches.</summary>
public sealed record InstanceKey(string AccountId, string Region, string InstanceId)
{
    public override string ToString() => $"{AccountId}/{Region}/{InstanceId}";
}

/// <summary>One AWS account and region: the unit of listing, throttling and clean-up.</summary>
public sealed record AwsScope(string AccountId, string Region)
{
    public override string ToString() => $"{AccountId}/{Region}";
}
