using System.Globalization;
using System.Text.Json.Nodes;
using Arcboard.Sandbox.Fleet;

namespace Arcboard.Sandbox.Realism;

/// <summary>
/// How real the sandbox is: the latencies it adds and the quotas it enforces. Every value is in the profile's own
/// clock, already divided by <see cref="TimeScale"/> (a compressed profile's ARM write latency is 0.02 s, not 0.2 s),
/// so whoever reads it applies it as is. docs/sandbox-profiles.md lists the values and where they come from.
/// </summary>
/// <param name="Name"><c>instant</c>, <c>realistic</c>, <c>compressed</c>, or a derived name such as <c>realistic@x4</c>.</param>
/// <param name="TimeScale">How much faster than real time this profile's clock runs: 1 for realistic, 10 for compressed.</param>
/// <param name="Latencies">Added delays, per kind of work.</param>
/// <param name="Quotas">Token buckets; null means no quota at all (the <c>instant</c> profile).</param>
public sealed record SandboxProfile(string Name, double TimeScale, LatencyProfile Latencies, QuotaProfile? Quotas)
{
    public const string InstantName = "instant";
    public const string RealisticName = "realistic";
    public const string CompressedName = "compressed";

    /// <summary>No latency, no quota: what tests and demos want, and the default.</summary>
    public static SandboxProfile Instant { get; } = new(InstantName, 1, LatencyProfile.None, null);

    /// <summary>The real services' published quotas (REFERENCE.md sections 4 and 5) and typical latencies, in real time.</summary>
    public static SandboxProfile Realistic { get; } = new(
        RealisticName,
        1,
        new LatencyProfile(
            CommandDelivery: TimeSpan.FromSeconds(2),
            ScriptRun: TimeSpan.FromSeconds(0.5),
            Genkey: TimeSpan.FromSeconds(1.5),
            Connect: TimeSpan.FromSeconds(8),
            ArmWrite: TimeSpan.FromSeconds(0.2),
            ArmRead: TimeSpan.FromSeconds(0.1)),
        new QuotaProfile(
            ArmWrites: new BucketSpec(200, 10),
            ArmReads: new BucketSpec(250, 25),
            ArmDeletes: new BucketSpec(200, 10),
            Ec2Reads: new BucketSpec(100, 20),
            // AWS publishes no Run Command rates: these are assumptions, kept here and in docs/sandbox-profiles.md.
            SsmSendCommand: new BucketSpec(10, 5),
            SsmReads: new BucketSpec(40, 20)));

    /// <summary>Realistic on a clock ten times faster: refill rates x10, latencies /10, bursts unchanged. For benchmarks.</summary>
    public static SandboxProfile Compressed { get; } = Realistic.Scaled(10) with { Name = CompressedName };

    public static IReadOnlyList<string> Names { get; } = [InstantName, RealisticName, CompressedName];

    /// <summary>
    /// This profile on a clock <paramref name="factor"/> times faster: refills multiplied, latencies divided. Bursts
    /// stay as they are: a bucket holds as many tokens whatever the speed of the clock that refills it.
    /// </summary>
    public SandboxProfile Scaled(double factor)
    {
        if (!double.IsFinite(factor) || factor <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(factor), factor, "A time scale must be a positive number.");
        }

        return new SandboxProfile(
            $"{Name}@x{factor.ToString(CultureInfo.InvariantCulture)}",
            TimeScale * factor,
            Latencies.Scaled(factor),
            Quotas?.Scaled(factor));
    }

    /// <summary>
    /// The profile a name and an optional time scale stand for. A time scale is the total speed-up over real time,
    /// applied to the realistic values (so <c>compressed</c> with <c>--time-scale 4</c> runs 4x, not 40x).
    /// </summary>
    /// <exception cref="SandboxConfigurationException">An unknown name, a non-positive scale, or a scale for <c>instant</c>.</exception>
    public static SandboxProfile Resolve(string name, double? timeScale = null)
    {
        var profile = name.Trim().ToLowerInvariant() switch
        {
            InstantName => Instant,
            RealisticName => Realistic,
            CompressedName => Compressed,
            _ => throw new SandboxConfigurationException($"unknown profile '{name}'; use {string.Join(", ", Names)}."),
        };
        if (timeScale is not { } scale)
        {
            return profile;
        }

        if (!double.IsFinite(scale) || scale <= 0)
        {
            throw new SandboxConfigurationException($"--time-scale must be a positive number, not {scale.ToString(CultureInfo.InvariantCulture)}.");
        }

        if (profile == Instant)
        {
            throw new SandboxConfigurationException("the instant profile has no latency or quota to scale; use --profile realistic or compressed with --time-scale.");
        }

        return scale == profile.TimeScale ? profile : Realistic.Scaled(scale) with { Name = $"{profile.Name}@x{scale.ToString(CultureInfo.InvariantCulture)}" };
    }

    /// <summary>What <c>GET /_sandbox/profile</c> serves: durations as seconds, in this profile's clock.</summary>
    public JsonObject ToJson() => new()
    {
        ["name"] = Name,
        ["timeScale"] = TimeScale,
        ["latencies"] = Latencies.ToJson(),
        ["quotas"] = Quotas?.ToJson(),
    };
}

/// <summary>Delays added to work, in the profile's clock. The instance-side ones are applied by the simulated instances.</summary>
/// <param name="CommandDelivery">From SendCommand until the instance starts the script (SSM agent polling).</param>
/// <param name="ScriptRun">The cost of running any script on an instance, on top of what it does.</param>
/// <param name="Genkey">What <c>azcmagent genkey</c> takes on an instance.</param>
/// <param name="Connect">What <c>azcmagent connect</c> takes on an instance.</param>
/// <param name="ArmWrite">Each ARM PUT, PATCH, POST or DELETE.</param>
/// <param name="ArmRead">Each ARM GET or HEAD.</param>
public sealed record LatencyProfile(TimeSpan CommandDelivery, TimeSpan ScriptRun, TimeSpan Genkey, TimeSpan Connect, TimeSpan ArmWrite, TimeSpan ArmRead)
{
    public static LatencyProfile None { get; } = new(TimeSpan.Zero, TimeSpan.Zero, TimeSpan.Zero, TimeSpan.Zero, TimeSpan.Zero, TimeSpan.Zero);

    public LatencyProfile Scaled(double factor) => new(
        CommandDelivery / factor, ScriptRun / factor, Genkey / factor, Connect / factor, ArmWrite / factor, ArmRead / factor);

    public JsonObject ToJson() => new()
    {
        ["commandDelivery"] = CommandDelivery.TotalSeconds,
        ["scriptRun"] = ScriptRun.TotalSeconds,
        ["genkey"] = Genkey.TotalSeconds,
        ["connect"] = Connect.TotalSeconds,
        ["armWrite"] = ArmWrite.TotalSeconds,
        ["armRead"] = ArmRead.TotalSeconds,
    };
}

/// <summary>
/// Token buckets. ARM's are per subscription; EC2's and SSM's per account and region. SendCommand and CancelCommand
/// share <see cref="SsmSendCommand"/>; every other SSM operation draws on <see cref="SsmReads"/>; STS is not limited.
/// </summary>
public sealed record QuotaProfile(BucketSpec ArmWrites, BucketSpec ArmReads, BucketSpec ArmDeletes, BucketSpec Ec2Reads, BucketSpec SsmSendCommand, BucketSpec SsmReads)
{
    public QuotaProfile Scaled(double factor) => new(
        ArmWrites.Scaled(factor), ArmReads.Scaled(factor), ArmDeletes.Scaled(factor), Ec2Reads.Scaled(factor), SsmSendCommand.Scaled(factor), SsmReads.Scaled(factor));

    public JsonObject ToJson() => new()
    {
        ["armWrites"] = ArmWrites.ToJson(),
        ["armReads"] = ArmReads.ToJson(),
        ["armDeletes"] = ArmDeletes.ToJson(),
        ["ec2Reads"] = Ec2Reads.ToJson(),
        ["ssmSendCommand"] = SsmSendCommand.ToJson(),
        ["ssmReads"] = SsmReads.ToJson(),
    };
}

/// <summary>A token bucket: holds at most <paramref name="Burst"/> tokens, starts full, gains <paramref name="RefillPerSecond"/> a second.</summary>
public sealed record BucketSpec(int Burst, double RefillPerSecond)
{
    public BucketSpec Scaled(double factor) => this with { RefillPerSecond = RefillPerSecond * factor };

    public JsonObject ToJson() => new() { ["burst"] = Burst, ["refillPerSecond"] = RefillPerSecond };
}
