using System.Collections.Concurrent;

namespace Arcboard.Sandbox.Realism;

/// <summary>
/// The realism of one running sandbox: its profile, the token buckets that profile implies (made on first use, one per
/// scope), and the HTTP faults set on it. Shared by the AWS gateway and the Azure endpoints.
/// </summary>
public sealed class SandboxRealism(SandboxProfile profile, TimeProvider time, int seed)
{
    private readonly ConcurrentDictionary<string, TokenBucket> _buckets = new(StringComparer.Ordinal);

    public SandboxProfile Profile { get; } = profile;

    public TimeProvider Time { get; } = time;

    public HttpFaults HttpFaults { get; } = new(seed);

    /// <summary>
    /// Takes a token from the bucket of <paramref name="scope"/> (for example <c>arm/{subscription}/writes</c>), made from
    /// the spec <paramref name="select"/> picks. Null when the profile has no quotas: nothing is limited.
    /// </summary>
    public BucketDecision? Take(string scope, Func<QuotaProfile, BucketSpec> select)
    {
        if (Profile.Quotas is not { } quotas)
        {
            return null;
        }

        return Bucket(scope, select, quotas).TryTake();
    }

    /// <summary>Whole tokens left in the bucket of <paramref name="scope"/>, taking none; null when the profile has no quotas.</summary>
    public int? Remaining(string scope, Func<QuotaProfile, BucketSpec> select) =>
        Profile.Quotas is { } quotas ? Bucket(scope, select, quotas).Remaining : null;

    /// <summary>Waits <paramref name="latency"/> on the sandbox's clock; returns at once, without a timer, when it is zero.</summary>
    public Task DelayAsync(TimeSpan latency, CancellationToken cancellationToken) =>
        latency > TimeSpan.Zero ? Task.Delay(latency, Time, cancellationToken) : Task.CompletedTask;

    private TokenBucket Bucket(string scope, Func<QuotaProfile, BucketSpec> select, QuotaProfile quotas) =>
        _buckets.GetOrAdd(scope, static (_, state) => new TokenBucket(state.Select(state.Quotas), state.Time), (Quotas: quotas, Select: select, Time));

    /// <summary>A length of real time expressed in this profile's clock (one second of a 10x profile is 100 ms).</summary>
    public TimeSpan InProfileClock(TimeSpan realDuration) => realDuration / Profile.TimeScale;
}

/// <summary>Faults that can be injected into a running sandbox. <see cref="Http"/> acts on requests at the HTTP level.</summary>
public sealed class SandboxFaults(HttpFaults http)
{
    public HttpFaults Http { get; } = http;
}
