using System.Text.Json.Nodes;

namespace Arcboard.Sandbox.Fleet;

/// <summary>One simulated EC2 instance. State and SSM status change through the admin surface; the rest is fixed at launch.</summary>
public sealed class SandboxInstance
{
    private readonly Lock _lock = new();
    private InstanceState _state;
    private SsmStatus _ssm;

    internal SandboxInstance(InstanceDefinition definition, string rootDirectory, DateTimeOffset launchTime, int index)
    {
        Id = definition.Id;
        AccountId = definition.AccountId;
        Region = definition.Region;
        Platform = definition.Platform;
        InitialAgent = definition.Agent;
        Tags = definition.Tags;
        RootDirectory = rootDirectory;
        LaunchTime = launchTime;
        _state = definition.State;
        _ssm = definition.Ssm;

        // Stable, plausible network facts derived from the id so that reloading a fleet file shows the same values.
        var hash = (uint)StableHash(definition.Id);
        PrivateIpAddress = $"10.{(hash >> 16) & 0xff}.{(hash >> 8) & 0xff}.{(hash & 0xfe) + 1}";
        PrivateDnsName = Region == "us-east-1"
            ? $"ip-{PrivateIpAddress.Replace('.', '-')}.ec2.internal"
            : $"ip-{PrivateIpAddress.Replace('.', '-')}.{Region}.compute.internal";
        AvailabilityZone = Region + (char)('a' + (int)(hash % 3));
        InstanceType = Platform == InstancePlatform.Windows ? "m5.large" : (hash % 2 == 0 ? "t3.medium" : "m6i.large");
        ImageId = "ami-0" + (hash * 2654435761u).ToString("x8") + (hash ^ 0x5bd1e995u).ToString("x8");
        ReservationId = "r-0" + ((uint)StableHash("r" + Id)).ToString("x8") + ((uint)StableHash("s" + Id)).ToString("x8");
        LaunchIndex = index;
    }

    public string Id { get; }
    public string AccountId { get; }
    public string Region { get; }
    public InstancePlatform Platform { get; }

    /// <summary>The agent status the fleet declared; the live status is in the agent's own agentconfig.json.</summary>
    public AgentStatus InitialAgent { get; }

    public IReadOnlyDictionary<string, string> Tags { get; }

    /// <summary>The folder that stands for <c>/</c> or <c>C:\</c> on this instance (<c>AZCMAGENT_ROOT</c>).</summary>
    public string RootDirectory { get; }

    public DateTimeOffset LaunchTime { get; }
    public string PrivateIpAddress { get; }
    public string PrivateDnsName { get; }
    public string AvailabilityZone { get; }
    public string InstanceType { get; }
    public string ImageId { get; }
    public string ReservationId { get; }
    public int LaunchIndex { get; }

    public bool HasAgent => InitialAgent != AgentStatus.None;

    public InstanceState State
    {
        get { lock (_lock) { return _state; } }
    }

    public SsmStatus Ssm
    {
        get { lock (_lock) { return _ssm; } }
    }

    /// <summary>True when SSM can deliver commands to it: running and its SSM agent online.</summary>
    public bool IsManagedOnline
    {
        get { lock (_lock) { return _state == InstanceState.Running && _ssm == SsmStatus.Online; } }
    }

    public string Name => Tags.TryGetValue("Name", out var name) ? name : "";

    public string AgentConfigPath => Platform == InstancePlatform.Windows
        ? Path.Combine(RootDirectory, "ProgramData", "AzureConnectedMachineAgent", "Config", "agentconfig.json")
        : Path.Combine(RootDirectory, "var", "opt", "azcmagent", "agentconfig.json");

    public string AgentPrivateKeyPath => Platform == InstancePlatform.Windows
        ? Path.Combine(RootDirectory, "ProgramData", "AzureConnectedMachineAgent", "Certs", "genPrivateKey.pem")
        : Path.Combine(RootDirectory, "var", "opt", "azcmagent", "certs", "genPrivateKey.pem");

    /// <summary>The agent's own <c>status</c> from agentconfig.json; null when the file is absent or unreadable.</summary>
    public string? ReadAgentStatus()
    {
        try
        {
            return File.Exists(AgentConfigPath) && JsonNode.Parse(File.ReadAllText(AgentConfigPath)) is JsonObject json && json["status"] is JsonValue v && v.TryGetValue<string>(out var s)
                ? s
                : null;
        }
        catch (Exception ex) when (ex is IOException or System.Text.Json.JsonException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    internal bool TryTransition(InstanceState from, InstanceState to)
    {
        lock (_lock)
        {
            if (_state != from)
            {
                return false;
            }

            _state = to;
            return true;
        }
    }

    internal void SetState(InstanceState state)
    {
        lock (_lock)
        {
            _state = state;
        }
    }

    internal void SetSsm(SsmStatus ssm)
    {
        lock (_lock)
        {
            _ssm = ssm;
        }
    }

    private static int StableHash(string s)
    {
        // string.GetHashCode is randomised per process; this must not be.
        unchecked
        {
            var h = (int)2166136261;
            foreach (var c in s)
            {
                h = (h ^ c) * 16777619;
            }

            return h;
        }
    }
}
