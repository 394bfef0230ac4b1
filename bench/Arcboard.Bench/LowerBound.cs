namespace Arcboard.Bench;

/// <summary>A token bucket as the profile declares it: <paramref name="Burst"/> tokens when full, refilled at <paramref name="RefillPerSecond"/>.</summary>
public sealed record TokenBucket(double Burst, double RefillPerSecond);

/// <summary>
/// What the lower bound needs from a sandbox profile: the quotas that every onboarding must pass through and the
/// latencies on one instance's critical path. A null bucket means the sandbox does not limit that traffic.
/// </summary>
public sealed record BoundModel
{
    /// <summary>ARM writes (PUT machine, PUT resource group), one bucket per subscription.</summary>
    public TokenBucket? ArmWrites { get; init; }

    /// <summary>SSM SendCommand, one bucket per account and region.</summary>
    public TokenBucket? SendCommand { get; init; }

    /// <summary>EC2 reads (DescribeInstances), one bucket per account and region.</summary>
    public TokenBucket? Ec2Reads { get; init; }

    /// <summary>SSM reads (DescribeInstanceInformation and command results), one bucket per account and region.</summary>
    public TokenBucket? SsmReads { get; init; }

    /// <summary>From SendCommand until the script starts on the instance.</summary>
    public TimeSpan CommandDelivery { get; init; }

    public TimeSpan GenKeyRun { get; init; }

    public TimeSpan ConnectRun { get; init; }

    /// <summary>Latency of one ARM write (the PUT of the machine must return before connect can be sent).</summary>
    public TimeSpan ArmWriteLatency { get; init; }

    /// <summary>Latency of one ARM read (the verification that the machine is Connected).</summary>
    public TimeSpan ArmReadLatency { get; init; }

    /// <summary>Instances per DescribeInstances page (EC2 allows up to 1000).</summary>
    public int Ec2PageSize { get; init; } = 1000;

    /// <summary>Instances per DescribeInstanceInformation page (SSM allows up to 50).</summary>
    public int SsmPageSize { get; init; } = 50;

    /// <summary>No quota and no latency: the bound is then zero, which is honest for a sandbox with no profile.</summary>
    public static BoundModel Unlimited { get; } = new();
}

/// <summary>The fleet as far as the bound cares: instances per account and region, and resource groups to create.</summary>
public sealed record FleetShape(IReadOnlyList<int> InstancesPerScope, int ResourceGroups)
{
    public int Instances => InstancesPerScope.Sum();
}

/// <summary>One bottleneck's bound: <c>head + max(0, calls - burst) / refill + tail</c> seconds.</summary>
public sealed record BoundTerm(string Name, double Seconds);

public sealed record LowerBoundResult(double Seconds, string Bottleneck, IReadOnlyList<BoundTerm> Terms);

/// <summary>
/// A lower bound on the makespan of onboarding a fleet, whatever the strategy, from the sandbox's quotas and latencies.
/// </summary>
/// <remarks>
/// Why each term is a valid lower bound (every strategy, however clever, obeys it):
/// <list type="bullet">
/// <item>A token bucket that starts full (the most generous start) lets through at most <c>B + r*t</c> calls in the
/// first <c>t</c> seconds, so <c>C</c> calls cannot all have been made before <c>(C - B) / r</c>.</item>
/// <item>Critical path: no machine PUT can be sent before some instance has received a command and run genkey (the PUT
/// carries the public key), so machine PUTs start at the earliest after <c>delivery + genkey</c>. After the last PUT
/// returns, that instance still needs its connect command delivered and run, and one ARM read to see it Connected.
/// Resource group PUTs need no key, so they may happen before the first key; they are counted in a separate term
/// starting at zero rather than after the prefix.</item>
/// <item>Run Command: each account and region needs at least one genkey and one connect command per 50 of its
/// instances (SendCommand takes at most 50 ids). After the last of them is sent, its instances still need delivery,
/// the connect run and one ARM read.</item>
/// <item>Listings: every instance must be listed by EC2 and SSM before its id can be used; after the last page of a
/// scope is read, its instances still need the whole critical path.</item>
/// </list>
/// The makespan is at least each term, so at least their maximum. Calls that were throttled and retried, process
/// start-up and polling only add to the real makespan, never to the bound.
/// </remarks>
public static class LowerBound
{
    private const int InstancesPerCommand = 50;

    public static LowerBoundResult Compute(FleetShape fleet, BoundModel model)
    {
        ArgumentNullException.ThrowIfNull(fleet);
        ArgumentNullException.ThrowIfNull(model);
        var terms = Terms(fleet, model);
        var worst = terms.MaxBy(t => t.Seconds)!;
        return new LowerBoundResult(worst.Seconds, worst.Name, terms);
    }

    public static IReadOnlyList<BoundTerm> Terms(FleetShape fleet, BoundModel model)
    {
        ArgumentNullException.ThrowIfNull(fleet);
        ArgumentNullException.ThrowIfNull(model);
        var beforeFirstPut = Seconds(model.CommandDelivery + model.GenKeyRun);
        var afterPutSent = Seconds(model.ArmWriteLatency + model.CommandDelivery + model.ConnectRun + model.ArmReadLatency);
        var afterConnectSent = Seconds(model.CommandDelivery + model.ConnectRun + model.ArmReadLatency);
        var wholePath = beforeFirstPut + afterPutSent;

        var terms = new List<BoundTerm> { new("critical path of one instance", fleet.Instances == 0 ? 0 : wholePath) };
        if (fleet.Instances == 0)
        {
            return terms;
        }

        if (model.ArmWrites is { } arm)
        {
            terms.Add(new("ARM writes: machines after the first key", beforeFirstPut + Drain(fleet.Instances, arm) + afterPutSent));
            terms.Add(new("ARM writes: machines and resource groups", Drain(fleet.Instances + fleet.ResourceGroups, arm) + afterPutSent));
        }

        var scopes = fleet.InstancesPerScope.Where(n => n > 0).ToArray();
        if (model.SendCommand is { } send)
        {
            terms.Add(new("SSM SendCommand per account and region", scopes.Max(n => Drain(2 * Batches(n, InstancesPerCommand), send)) + afterConnectSent));
        }

        if (model.Ec2Reads is { } ec2)
        {
            terms.Add(new("EC2 listing per account and region", scopes.Max(n => Drain(Batches(n, model.Ec2PageSize), ec2)) + wholePath));
        }

        if (model.SsmReads is { } ssm)
        {
            // Every genkey command's output must be read to learn the keys: at least one read per command.
            terms.Add(new("SSM listing and key reads per account and region", scopes.Max(n => Drain(Batches(n, model.SsmPageSize) + Batches(n, InstancesPerCommand), ssm)) + afterPutSent));
        }

        return terms;
    }

    /// <summary>The earliest time the last of <paramref name="calls"/> calls can pass a bucket that starts full.</summary>
    public static double Drain(long calls, TokenBucket bucket)
    {
        ArgumentNullException.ThrowIfNull(bucket);
        if (calls <= bucket.Burst)
        {
            return 0;
        }

        return bucket.RefillPerSecond <= 0 ? double.PositiveInfinity : (calls - bucket.Burst) / bucket.RefillPerSecond;
    }

    private static int Batches(int instances, int perBatch) => (instances + perBatch - 1) / perBatch;

    private static double Seconds(TimeSpan span) => span.TotalSeconds;
}
