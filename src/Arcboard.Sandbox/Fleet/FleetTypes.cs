namespace Arcboard.Sandbox.Fleet;

public enum InstancePlatform
{
    Linux,
    Windows,
}

/// <summary>EC2 instance states; the numeric values are EC2's <c>instanceState.code</c>.</summary>
public enum InstanceState
{
    Pending = 0,
    Running = 16,
    ShuttingDown = 32,
    Terminated = 48,
    Stopping = 64,
    Stopped = 80,
}

public enum SsmStatus
{
    Online,
    Offline,
    None,
}

public enum AgentStatus
{
    None,
    Installed,
    Connected,
}

/// <summary>One instance as a fleet file or the generator describes it.</summary>
public sealed record InstanceDefinition(
    string AccountId,
    string Region,
    string Id,
    InstancePlatform Platform,
    InstanceState State,
    SsmStatus Ssm,
    AgentStatus Agent,
    IReadOnlyDictionary<string, string> Tags);

/// <summary>A whole fleet: the accounts with their regions (a region may hold no instance) and the instances.</summary>
public sealed record FleetDefinition(
    string? SubscriptionId,
    IReadOnlyList<AccountDefinition> Accounts,
    IReadOnlyList<InstanceDefinition> Instances);

public sealed record AccountDefinition(string Id, IReadOnlyList<string> Regions);

/// <summary>A fleet file or option that cannot be used; the message names the file, the path inside it and what is allowed.</summary>
public sealed class SandboxConfigurationException(string message) : Exception(message);

internal static class FleetNames
{
    public static string ToWire(this InstanceState state) => state switch
    {
        InstanceState.Pending => "pending",
        InstanceState.Running => "running",
        InstanceState.ShuttingDown => "shutting-down",
        InstanceState.Terminated => "terminated",
        InstanceState.Stopping => "stopping",
        InstanceState.Stopped => "stopped",
        _ => throw new ArgumentOutOfRangeException(nameof(state)),
    };

    public static string ToWire(this InstancePlatform platform) => platform == InstancePlatform.Windows ? "windows" : "linux";

    public static string ToWire(this SsmStatus ssm) => ssm switch
    {
        SsmStatus.Online => "online",
        SsmStatus.Offline => "offline",
        _ => "none",
    };

    public static string ToWire(this AgentStatus agent) => agent switch
    {
        AgentStatus.Installed => "installed",
        AgentStatus.Connected => "connected",
        _ => "none",
    };
}
