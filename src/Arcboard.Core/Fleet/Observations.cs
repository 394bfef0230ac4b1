namespace Arcboard.Core.Fleet;

/// <summary>An instance as <c>ec2:DescribeInstances</c> reports it.</summary>
public sealed record Ec2Instance(
    InstanceKey Key,
    Platform Platform,
    string State,
    IReadOnlyDictionary<string, string> Tags)
{
    public bool IsRunning => string.Equals(State, "running", StringComparison.Ordinal);
}

/// <summary>A node as <c>ssm:DescribeInstanceInformation</c> reports it.</summary>
public sealed record SsmNode(string InstanceId, string PingStatus, string? PlatformType)
{
    public bool IsOnline => string.Equals(PingStatus, "Online", StringComparison.Ordinal);
}
