using Arcboard.Sandbox.Instances;
using Arcboard.Sandbox.Realism;

namespace Arcboard.Sandbox.Hosting;

/// <summary>How to start a sandbox. Either <see cref="FleetFile"/> or a generated fleet of <see cref="Instances"/> for <see cref="Seed"/>.</summary>
public sealed record SandboxOptions
{
    /// <summary>A fleet file (JSON or YAML, docs/contracts.md section 4); when set, <see cref="Instances"/> and <see cref="Seed"/> are ignored.</summary>
    public string? FleetFile { get; init; }

    /// <summary>How many instances to generate when there is no fleet file.</summary>
    public int Instances { get; init; } = 20;

    /// <summary>Seed of the generated fleet and of the random draws of injected faults: the same seed repeats a run.</summary>
    public int Seed { get; init; } = 1;

    /// <summary>Latencies and quotas (<c>arcboard sandbox serve --profile</c>); <see cref="SandboxProfile.Instant"/> adds none.</summary>
    public SandboxProfile Profile { get; init; } = SandboxProfile.Instant;

    /// <summary>HTTP faults active from the start, kind and rate (<c>--faults arm-5xx=0.05</c>); more can be set while running.</summary>
    public IReadOnlyList<(string Kind, double Rate)> HttpFaults { get; init; } = [];

    /// <summary>Where instance root folders, the CA certificate and the agent launcher go; null makes a fresh temporary folder.</summary>
    public string? DataDirectory { get; init; }

    /// <summary>HTTP port for AWS (SSM, EC2, STS) and the admin surface; 0 picks a free port.</summary>
    public int AwsPort { get; init; }

    /// <summary>HTTPS port for Azure (ARM, token, identity); 0 picks a free port.</summary>
    public int HttpsPort { get; init; }

    /// <summary>How long GetCommandInvocation answers InvocationDoesNotExist after SendCommand (AWS's eventual consistency).</summary>
    public TimeSpan InvocationDelay { get; init; } = TimeSpan.FromMilliseconds(300);

    /// <summary>Scripts running at once over all instances; 0 means twice the processor count.</summary>
    public int MaxConcurrentScripts { get; init; }

    /// <summary>The base access key; null generates one. It acts in the first account of the fleet.</summary>
    public string? AccessKeyId { get; init; }

    public string? SecretAccessKey { get; init; }

    /// <summary>Resource group of the Arc machines seeded for instances whose agent is already connected.</summary>
    public string ExistingArcResourceGroup { get; init; } = "existing-arc";

    public TimeProvider? Time { get; init; }

    /// <summary>Process runs scripts for real (correctness); Modelled runs Arcboard's scripts as a model with the agent in-process (fleet scale).</summary>
    public InstanceMode InstanceMode { get; init; } = InstanceMode.Process;

    /// <summary>How long instances take to receive and run commands; null takes them from <see cref="Profile"/>.</summary>
    public InstanceLatencies? InstanceLatencies { get; init; }
}
