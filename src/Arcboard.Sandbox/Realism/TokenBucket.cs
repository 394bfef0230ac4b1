namespace Arcboard.Sandbox.Realism;

/// <summary>
/// One token bucket on an injected clock: starts full, refills continuously, and a call that finds less than one
/// token is refused without taking anything, as ARM's and AWS's throttles do.
/// </summary>
public sealed class TokenBucket
{
    private readonly Lock _gate = new();
    private readonly TimeProvider _time;
    private double _tokens;
    private long _updatedAt;

    public TokenBucket(BucketSpec spec, TimeProvider time)
    {
        if (spec.Burst < 1 || !double.IsFinite(spec.RefillPerSecond) || spec.RefillPerSecond <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(spec), spec, "A bucket needs a burst of at least 1 and a positive refill rate.");
        }

        Spec = spec;
        _time = time;
        _tokens = spec.Burst;
        _updatedAt = time.GetTimestamp();
    }

    public BucketSpec Spec { get; }

    /// <summary>Takes one token if there is one.</summary>
    public BucketDecision TryTake()
    {
        lock (_gate)
        {
            Refill();
            if (_tokens >= 1)
            {
                _tokens -= 1;
                return new BucketDecision(true, (int)Math.Floor(_tokens), TimeSpan.Zero);
            }

            // Milliseconds until the bucket holds one whole token; the epsilon keeps 0.6/10 s from becoming 61 ms.
            var milliseconds = Math.Max(1, Math.Ceiling(((1 - _tokens) / Spec.RefillPerSecond * 1000) - 1e-6));
            return new BucketDecision(false, 0, TimeSpan.FromMilliseconds(milliseconds));
        }
    }

    /// <summary>Whole tokens left now, without taking one.</summary>
    public int Remaining
    {
        get
        {
            lock (_gate)
            {
                Refill();
                return (int)Math.Floor(_tokens);
            }
        }
    }

    private void Refill()
    {
        var now = _time.GetTimestamp();
        var elapsed = _time.GetElapsedTime(_updatedAt, now);
        _updatedAt = now;
        if (elapsed > TimeSpan.Zero)
        {
            _tokens = Math.Min(Spec.Burst, _tokens + (elapsed.TotalSeconds * Spec.RefillPerSecond));
        }
    }
}

/// <summary>The outcome of one call on a bucket.</summary>
/// <param name="Allowed">Whether the call may proceed (it took a token).</param>
/// <param name="Remaining">Whole tokens left after the call: the <c>x-ms-ratelimit-remaining-*</c> value.</param>
/// <param name="RetryAfter">When refused, how long until one token is there; zero when allowed.</param>
public readonly record struct BucketDecision(bool Allowed, int Remaining, TimeSpan RetryAfter)
{
    /// <summary>Whole seconds, rounded up, as HTTP's <c>Retry-After</c> wants them.</summary>
    public int RetryAfterSeconds => (int)Math.Ceiling(RetryAfter.TotalSeconds);
}
